package twofactor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"authserver/session"
)

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

// parseTrustCookieAny is parseTrustCookie against every secret the keyring accepts, so a device
// trusted before a secret rotation stays trusted until its secret is removed.
func parseTrustCookieAny(keys session.Keys, userID, value string) (identifier string, ok bool) {
	for _, secret := range keys.Verifiers() {
		if ident, ok := parseTrustCookie(secret, userID, value); ok {
			return ident, true
		}
	}
	return "", false
}
