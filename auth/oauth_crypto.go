package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"regexp"
	"strings"

	"golang.org/x/crypto/hkdf"

	"authserver/session"
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

// purposeKeys is Better-Auth's derivePurposeKey over a keyring: every secret in it, versioned or
// legacy, replaced by its purpose key, so envelopes keep naming the same versions.
func purposeKeys(k session.Keys, purpose string) session.Keys {
	out := session.Keys{Version: k.Version, Current: purposeKey(k.Current, purpose)}
	if k.Versions != nil {
		out.Versions = make(map[int][]byte, len(k.Versions))
		for v, s := range k.Versions {
			out.Versions[v] = purposeKey(s, purpose)
		}
	}
	if len(k.Legacy) > 0 {
		out.Legacy = purposeKey(k.Legacy, purpose)
	}
	return out
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
