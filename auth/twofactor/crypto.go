package twofactor

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// errCiphertext is a stored value that does not decrypt with the server's secret.
var errCiphertext = errors.New("twofactor: stored value does not decrypt with this secret")

// Encrypt seals plaintext as Better-Auth's symmetricEncrypt does with a plain string secret, so a
// database shared with Better-Auth reads both ways: XChaCha20-Poly1305 keyed by the SHA-256 digest
// of the secret, a random 24-byte nonce in front of ciphertext and tag, all hex-encoded.
func Encrypt(secret []byte, plaintext string) (string, error) {
	key := sha256.Sum256(secret)
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return hex.EncodeToString(aead.Seal(nonce, nonce, []byte(plaintext), nil)), nil
}

// Decrypt opens a value sealed by Encrypt or by Better-Auth's symmetricEncrypt. A versioned
// envelope ("$ba$<n>$…", written when Better-Auth runs with several secrets) is refused, as this
// server has one secret.
func Decrypt(secret []byte, stored string) (string, error) {
	raw, err := hex.DecodeString(stored)
	if err != nil {
		return "", errCiphertext
	}
	key := sha256.Sum256(secret)
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return "", err
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", errCiphertext
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return "", errCiphertext
	}
	return string(plain), nil
}

// The alphabets Better-Auth's generateRandomString draws from: its default one (letters, digits,
// "-" and "_") for secrets and identifiers, digits for e-mailed codes, letters and digits for
// backup codes.
const (
	defaultAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	digitAlphabet   = "0123456789"
	backupAlphabet  = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// randomString draws n characters uniformly from alphabet with the system CSPRNG; bytes that would
// favour the first characters are rejected.
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("twofactor: system random source failed: " + err.Error())
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}

// trustToken is the signature part of a trust_device cookie: base64url without padding of
// HMAC-SHA256(secret, "<userId>!<identifier>"), binding the device identifier to the user.
func trustToken(secret []byte, userID, identifier string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(userID + "!" + identifier))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// parseTrustCookie splits a trust_device cookie value "<token>!<identifier>" and checks the
// token for userID; ok is false for anything else.
func parseTrustCookie(secret []byte, userID, value string) (identifier string, ok bool) {
	parts := strings.Split(value, "!")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", false
	}
	want := trustToken(secret, userID, parts[1])
	return parts[1], hmac.Equal([]byte(parts[0]), []byte(want))
}

// trustIdentifier is the identifier named by a trust_device cookie value, whoever it was for.
func trustIdentifier(value string) string {
	parts := strings.Split(value, "!")
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}
