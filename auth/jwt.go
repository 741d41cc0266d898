package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Email-verification tokens are HS256 JWTs signed with the secret, exactly as Better-Auth's
// createEmailVerificationToken makes them (header {"alg":"HS256"}, claims email, updateTo,
// requestType, userId, iat, exp), so a link mailed by either server verifies on the other. The
// format is small and the algorithm fixed, so it is written here rather than pulled in: nothing
// but HS256 is ever accepted, which rules out algorithm-confusion attacks by construction.

// verificationClaims are the claims of an email-verification token.
type verificationClaims struct {
	Email       string `json:"email"`
	UpdateTo    string `json:"updateTo,omitempty"`
	RequestType string `json:"requestType,omitempty"`
	UserID      string `json:"userId,omitempty"`
	IssuedAt    int64  `json:"iat"`
	ExpiresAt   int64  `json:"exp"`
}

var (
	errTokenInvalid = errors.New("auth: invalid token")
	errTokenExpired = errors.New("auth: token expired")
)

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256"}`))

func signJWT(secret []byte, c verificationClaims) string {
	payload, _ := json.Marshal(c)
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// verifyJWT checks the signature against any of secrets (the current one and those a secret
// rotation still accepts, so a link mailed before the rotation works), that the header names
// HS256 and nothing else, and the expiry.
func verifyJWT(secrets [][]byte, token string, now time.Time) (*verificationClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(token) > 4096 {
		return nil, errTokenInvalid
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, errTokenInvalid
	}
	var h struct {
		Alg  string `json:"alg"`
		Crit []any  `json:"crit"`
	}
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "HS256" || h.Crit != nil {
		return nil, errTokenInvalid
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errTokenInvalid
	}
	signed := false
	for _, secret := range secrets {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(parts[0] + "." + parts[1]))
		if hmac.Equal(sig, mac.Sum(nil)) {
			signed = true
			break
		}
	}
	if !signed {
		return nil, errTokenInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errTokenInvalid
	}
	var c verificationClaims
	dec := json.NewDecoder(bytes.NewReader(raw))
	if dec.Decode(&c) != nil || c.Email == "" {
		return nil, errTokenInvalid
	}
	if c.ExpiresAt != 0 && now.Unix() >= c.ExpiresAt {
		return nil, errTokenExpired
	}
	return &c, nil
}
