// Package atrest holds what several plugins need to keep values the way Better-Auth 1.7.25 keeps
// them, so a database shared with Better-Auth reads both ways: its symmetric encryption at rest
// (two-factor secrets, encrypted one-time codes), its SHA-256 hash for "hashed" storage modes, and
// its random strings.
package atrest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"

	"golang.org/x/crypto/chacha20poly1305"

	"authserver/session"
)

// errCiphertext is a stored value that does not decrypt with the server's secret.
var errCiphertext = errors.New("atrest: stored value does not decrypt with this secret")

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

// The alphabets Better-Auth's generateRandomString draws from.
const (
	// DefaultAlphabet (letters, digits, "-" and "_") is for secrets and identifiers.
	DefaultAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	// Digits is for codes people type (e-mailed one-time codes).
	Digits = "0123456789"
	// Alphanumeric (letters and digits) is for backup codes.
	Alphanumeric = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// RandomString draws n characters uniformly from alphabet with the system CSPRNG
// (session.RandomFrom, the one implementation).
func RandomString(alphabet string, n int) string { return session.RandomFrom(alphabet, n) }

// Hash is Better-Auth's hash for values stored "hashed" (defaultKeyHasher): SHA-256 of the UTF-8
// text, base64url without padding.
func Hash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
