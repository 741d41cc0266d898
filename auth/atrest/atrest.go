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
	"strconv"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"authserver/session"
)

// errCiphertext is a stored value that does not decrypt with any of the server's secrets.
var errCiphertext = errors.New("atrest: stored value does not decrypt with the configured secrets")

// envelopePrefix starts Better-Auth's versioned envelope, "$ba$<version>$<hex>", written when it
// runs with several secrets (BETTER_AUTH_SECRETS), so a value names the secret that sealed it.
const envelopePrefix = "$ba$"

// Encrypt seals plaintext as Better-Auth's symmetricEncrypt does, so a database shared with
// Better-Auth reads both ways: XChaCha20-Poly1305 keyed by the SHA-256 digest of the secret, a
// random 24-byte nonce in front of ciphertext and tag, all hex-encoded. With versioned secrets
// the current one seals and the result is wrapped as "$ba$<version>$<hex>"; with a single
// secret it is the bare hex, as before.
func Encrypt(keys session.Keys, plaintext string) (string, error) {
	sealed, err := seal(keys.Current, plaintext)
	if err != nil || !keys.Versioned() {
		return sealed, err
	}
	return envelopePrefix + strconv.Itoa(keys.Version) + "$" + sealed, nil
}

// Decrypt opens a value sealed by Encrypt or by Better-Auth's symmetricEncrypt, under any secret
// the keyring still holds: an envelope opens with the version it names (a retired version
// fails), a bare value with the single secret, or during a rotation with the legacy
// BETTER_AUTH_SECRET.
func Decrypt(keys session.Keys, stored string) (string, error) {
	if rest, ok := strings.CutPrefix(stored, envelopePrefix); ok {
		if !keys.Versioned() {
			return "", errCiphertext
		}
		i := strings.IndexByte(rest, '$')
		if i < 1 {
			return "", errCiphertext
		}
		v, err := strconv.Atoi(rest[:i])
		secret, known := keys.Versions[v]
		if err != nil || v < 0 || !known {
			return "", errCiphertext
		}
		return open(secret, rest[i+1:])
	}
	if !keys.Versioned() {
		return open(keys.Current, stored)
	}
	if len(keys.Legacy) == 0 {
		return "", errCiphertext
	}
	return open(keys.Legacy, stored)
}

func seal(secret []byte, plaintext string) (string, error) {
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

func open(secret []byte, stored string) (string, error) {
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
