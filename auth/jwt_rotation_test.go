package auth

import (
	"errors"
	"testing"
	"time"
)

// A verification link mailed before a secret rotation still verifies while its secret is
// accepted, and not after it is removed.
func TestVerifyJWTAcceptsEveryConfiguredSecret(t *testing.T) {
	now := time.Now()
	old, current := []byte("old-secret-0123456789abcdef0123456789"), []byte("new-secret-0123456789abcdef0123456789")
	tok := signJWT(old, verificationClaims{Email: "a@example.com", IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()})
	if c, err := verifyJWT([][]byte{current, old}, tok, now); err != nil || c.Email != "a@example.com" {
		t.Fatalf("link signed with the older secret: %+v, %v", c, err)
	}
	if _, err := verifyJWT([][]byte{current}, tok, now); !errors.Is(err, errTokenInvalid) {
		t.Fatalf("link signed with a removed secret: %v, want errTokenInvalid", err)
	}
}
