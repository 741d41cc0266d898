package atrest

import (
	"authserver/session"
	"strings"
	"testing"
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
