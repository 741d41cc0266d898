package twofactor

import (
	"testing"
	"time"

	"authserver/auth/atrest"
	"authserver/session"
)

// betterAuthSecret and the two values below were written by better-auth 1.7.25 itself: its
// /two-factor/enable on a PostgreSQL database, with this BETTER_AUTH_SECRET. The TOTP URI it
// answered carried secret=KRFDASTFGZKVCSSWMYZUY3SYMF4FENBRI5NHCOKHOZJGSZCIGI2Q, whose bytes are
// the plaintext below, and these backup codes.
const (
	betterAuthSecret      = "0123456789abcdef0123456789abcdef"
	betterAuthTOTPSecret  = "3b82e76313819e06dc351e0458131e2afff1e006b3d94dbc8349d93662beb0ea0f5d2ef2c8ba24a03637636364777652635089217ec2c8ec01afc78e787bde36d9fc3cd4199f5a37"
	betterAuthBackupCodes = "7edbc902d1908ea3c676855c7a19bc2b2a73069681a70b2c4ea09086cc634b2428d72c118d9788298c02924699a670efd8ddae9724f4e7233843be867f8c6c73699e2b1330200cde08749c44152aa0f07b081d8fa2a014cc1962756170afc8422e7b8886b093e69f6f1aff57449ea5132a0e2f1dd37fe93808faa958419040ae1479f3ce2af343c2ffacab361283b3ad7ff721c6f26328bd9182ae3abe7a5b61257ae5ec140e28484e4dfb3f404c5696823e9cc8df"
)

func TestDecryptBetterAuthValues(t *testing.T) {
	got, err := atrest.Decrypt(session.SingleKey([]byte(betterAuthSecret)), betterAuthTOTPSecret)
	if err != nil || got != "TJ0Je6UQJVf3LnXaxR41GZq9GvRidH25" {
		t.Fatalf("secret = %q, %v", got, err)
	}
	if uri := totpURI(totpKey(got), "Better Auth", "p1796410017136@example.com"); uri != "otpauth://totp/Better%20Auth:p1796410017136%40example.com?secret=KRFDASTFGZKVCSSWMYZUY3SYMF4FENBRI5NHCOKHOZJGSZCIGI2Q&issuer=Better+Auth&digits=6&period=30" {
		t.Errorf("uri = %s", uri)
	}
	codes, err := atrest.Decrypt(session.SingleKey([]byte(betterAuthSecret)), betterAuthBackupCodes)
	want := `["TdVpX-tOxAV","lViMO-JB7ZC","SNQb1-UYKLF","itrfD-0T7bx","TB1zq-AjxzC","fj1jz-mHOKd","GPMid-OK1wR","VslYW-ystTs","vK0Kp-lYD9y","vjlvV-nF8Vx"]`
	if err != nil || codes != want {
		t.Errorf("backup codes = %q, %v", codes, err)
	}
	if _, err := atrest.Decrypt(session.SingleKey([]byte("another secret, another key.....")), betterAuthTOTPSecret); err == nil {
		t.Error("decrypted with the wrong secret")
	}
}

// The TOTP check accepts the current code and one step either side, nothing else; the key is the
// secret's ASCII bytes (RFC 6238's SHA-1 test key gives the RFC's codes).
func TestTOTP(t *testing.T) {
	key := totpKey("12345678901234567890")
	at := time.Unix(59, 0)
	if !validTOTP(key, "287082", at) { // RFC 6238 appendix B, 59 s, 6 digits
		t.Error("RFC 6238 code refused")
	}
	if !validTOTP(key, "287082", at.Add(30*time.Second)) || !validTOTP(key, "287082", at.Add(-30*time.Second)) {
		t.Error("code one step off refused")
	}
	if validTOTP(key, "287082", at.Add(61*time.Second)) {
		t.Error("code two steps late accepted")
	}
	for _, bad := range []string{" 287082", "28708", "2870820", ""} {
		if validTOTP(key, bad, at) {
			t.Errorf("%q accepted", bad)
		}
	}
	if string(totpKey("base32:GEZDGNBV")) != "12345" {
		t.Errorf("base32: secret key = %q", totpKey("base32:GEZDGNBV"))
	}
}

func TestTrustCookie(t *testing.T) {
	secret := []byte("k")
	// Better-Auth's createHMAC("SHA-256", "base64urlnopad").sign("k", "u1!trust-device-abc").
	if got := trustToken(secret, "u1", "trust-device-abc"); got != "-x-qcInUo0n8piXiKmnAApD4o1ileOIgy4yGc9zqXnY" {
		t.Errorf("trust token = %s", got)
	}
	v := trustToken(secret, "u1", "trust-device-abc") + "!trust-device-abc"
	if id, ok := parseTrustCookie(secret, "u1", v); !ok || id != "trust-device-abc" {
		t.Errorf("own cookie refused: %q %v", id, ok)
	}
	for _, bad := range []struct{ user, value string }{{"u2", v}, {"u1", "x!trust-device-abc"}, {"u1", "nobang"}, {"u1", "!trust-device-abc"}} {
		if _, ok := parseTrustCookie(secret, bad.user, bad.value); ok {
			t.Errorf("%+v accepted", bad)
		}
	}
}
