package atrest

import (
	"strings"
	"testing"

	"authserver/session"
)

func TestEncryptRoundTrip(t *testing.T) {
	secret := []byte("s3cret")
	a, err := Encrypt(session.SingleKey(secret), "hello")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Encrypt(session.SingleKey(secret), "hello")
	if a == b {
		t.Error("two encryptions of one value are equal: the nonce is not random")
	}
	// 24-byte nonce + 5 bytes + 16-byte tag, hex: 90 characters.
	if len(a) != 90 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("ciphertext %q is not lower-case hex of nonce||ciphertext||tag", a)
	}
	if got, err := Decrypt(session.SingleKey(secret), a); err != nil || got != "hello" {
		t.Errorf("round trip = %q, %v", got, err)
	}
	tampered := []byte(a)
	tampered[len(tampered)-1] ^= 1
	if tampered[len(tampered)-1] > 'f' || tampered[len(tampered)-1] < '0' {
		tampered[len(tampered)-1] = '0'
	}
	for _, bad := range []string{string(tampered), "zz", "", a[:40], "$ba$1$" + a} {
		if _, err := Decrypt(session.SingleKey(secret), bad); err == nil {
			t.Errorf("Decrypt(%q) succeeded", bad)
		}
	}
}

// Hash must give Better-Auth's form: base64url without padding of SHA-256 (43 characters).
func TestHash(t *testing.T) {
	// SHA-256("123456"), as Better-Auth's defaultKeyHasher stores a hashed OTP.
	if got := Hash("123456"); got != "jZae727K08KaOmKSgOaGzww_XVqGr_PKEgIMkjrcbJI" {
		t.Errorf("Hash = %q", got)
	}
}

// Values sealed by Better-Auth 1.7.25's symmetricEncrypt (probed with the real server's crypto):
// its secretConfig with versions 2 (current) and 1 and legacySecret, and a bare value under the
// legacy secret alone.
const (
	baV2     = "$ba$2$5cc9e6aff3313e1b771d3ae8a57663b815f3affc9158440618d6ef0ed510009cd670b3c017c83a30cb162802b6ef806e3f4f8560d134a5a6"
	baV1     = "$ba$1$da20114deaa95b85d91d6234906bbf194272831f23297423d08b6dec0958ed6ac710cfa77392806ea014e9936d85460dcea06917c440e975"
	baLegacy = "ad7994880adacc93845c93ad702fc473d52bedfc986c070cb0beec6de0af129c10e8f1707ddb29c087edab532addd826576701fcebbe4f73"
)

func TestVersionedEnvelope(t *testing.T) {
	keys, err := session.ParseSecrets("2:second-secret-0123456789abcdef0123, 1:first-secret-0123456789abcdef01234",
		[]byte("legacy-secret-0123456789abcdef0123"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{baV2, baV1, baLegacy} {
		if got, err := Decrypt(keys, v); err != nil || got != "JBSWY3DPEHPK3PXP" {
			t.Errorf("Decrypt(%.12s…) = %q, %v", v, got, err)
		}
	}
	sealed, err := Encrypt(keys, "hello")
	if err != nil || !strings.HasPrefix(sealed, "$ba$2$") || len(sealed) != len("$ba$2$")+90 {
		t.Fatalf("Encrypt = %q, %v; want the $ba$2$ envelope around 90 hex characters", sealed, err)
	}
	if got, err := Decrypt(keys, sealed); err != nil || got != "hello" {
		t.Errorf("round trip = %q, %v", got, err)
	}

	// Version 1 retired and no legacy secret: what it sealed, and bare values, no longer open.
	newest, _ := session.ParseSecrets("2:second-secret-0123456789abcdef0123", nil)
	for _, v := range []string{baV1, baLegacy, "$ba$x$" + baLegacy, "$ba$$" + baLegacy, "$ba$-1$" + baLegacy} {
		if _, err := Decrypt(newest, v); err == nil {
			t.Errorf("Decrypt(%.12s…) with version 1 retired succeeded", v)
		}
	}
	if got, err := Decrypt(newest, baV2); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Errorf("Decrypt(v2) = %q, %v", got, err)
	}
	// A single unversioned secret reads its bare values but no envelope.
	single := session.SingleKey([]byte("legacy-secret-0123456789abcdef0123"))
	if got, err := Decrypt(single, baLegacy); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Errorf("single-secret Decrypt = %q, %v", got, err)
	}
	if _, err := Decrypt(single, baV2); err == nil {
		t.Error("single-secret Decrypt opened an envelope")
	}
}
