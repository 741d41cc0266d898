package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"regexp"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// urlSafeAlphabet is the alphabet of Better-Auth's generateRandomString("a-z", "0-9", "A-Z",
// "-_"), used for OAuth states, PKCE verifiers and ID-token nonces. It has 64 letters, so a
// random byte masked to six bits picks one without bias.
const urlSafeAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_"

// randomURLSafe returns n characters of urlSafeAlphabet from the system CSPRNG.
func randomURLSafe(n int) string {
	buf := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, buf); err != nil {
		panic("auth: system random source failed: " + err.Error())
	}
	for i, b := range buf {
		buf[i] = urlSafeAlphabet[b&63]
	}
	return string(buf)
}

// errVersionedCiphertext means a value was encrypted under Better-Auth's rotated secrets
// ("$ba$<version>$..."), which this server does not hold.
var errVersionedCiphertext = errors.New("auth: ciphertext uses a versioned secret (BETTER_AUTH_SECRETS), which is not supported")

// symmetricEncrypt is Better-Auth's symmetricEncrypt with a single secret: XChaCha20-Poly1305
// under SHA-256(secret), a random 24-byte nonce in front of the sealed text, all hex-encoded.
// Node decrypts what it writes and the reverse, so both servers can read stored OAuth tokens.
func symmetricEncrypt(secret []byte, plaintext string) (string, error) {
	key := sha256.Sum256(secret)
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return "", err
	}
	return hex.EncodeToString(aead.Seal(nonce, nonce, []byte(plaintext), nil)), nil
}

// symmetricDecrypt reverses symmetricEncrypt.
func symmetricDecrypt(secret []byte, data string) (string, error) {
	if strings.HasPrefix(data, "$ba$") {
		return "", errVersionedCiphertext
	}
	raw, err := hex.DecodeString(data)
	if err != nil {
		return "", err
	}
	key := sha256.Sum256(secret)
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return "", err
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", errors.New("auth: ciphertext too short")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// purposeKey is Better-Auth's derivePurposeKey for a single secret: the hex of 32 bytes of
// HKDF-SHA256(secret, salt "better-auth:oauth-encryption:v1", info "better-auth:<purpose>:v1").
// The hex text itself is then the "secret" handed to symmetricEncrypt, as in Node.
func purposeKey(secret []byte, purpose string) []byte {
	r := hkdf.New(sha256.New, secret, []byte("better-auth:oauth-encryption:v1"), []byte("better-auth:"+purpose+":v1"))
	out := make([]byte, 32)
	if _, err := io.ReadFull(r, out); err != nil {
		panic("auth: hkdf failed: " + err.Error())
	}
	return []byte(hex.EncodeToString(out))
}

var hexPattern = regexp.MustCompile(`^[0-9a-fA-F]+$`)

// isLikelyEncrypted is Better-Auth's test for a stored token that was encrypted at rest, so that
// tokens written before encryption was switched on are still returned as they are.
func isLikelyEncrypted(token string) bool {
	if strings.HasPrefix(token, "$ba$") {
		return true
	}
	return len(token)%2 == 0 && hexPattern.MatchString(token)
}
