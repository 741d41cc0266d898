package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// idTokenClockTolerance is the clock skew Better-Auth allows on exp, nbf and iat (30 s, as
// openid-client and oauth4webapi do).
const idTokenClockTolerance = 30 * time.Second

// idTokenSpec says how a provider's ID tokens are verified: Better-Auth's provider.idToken
// config. Signature, issuer, audience and expiry are checked by go-oidc against the provider's
// published key set; the rest (issued-at, maximum age, nonce, provider rules) here.
type idTokenSpec struct {
	jwksURL string
	// issuers lists the accepted iss values; empty skips the issuer check (Microsoft's
	// multi-tenant endpoints, whose issuer names the user's tenant, check it in verifyClaims).
	issuers []string
	// audiences lists the accepted aud values (the client id, plus any extra client ids).
	audiences []string
	algs      []string
	// maxAge bounds now - iat (Google, Apple and Microsoft: one hour); zero means no bound.
	maxAge time.Duration
	// nonceSHA256 also accepts the hex SHA-256 of the expected nonce (Apple's native SDKs put
	// that in the token).
	nonceSHA256 bool
	// verifyClaims applies a provider's own rule (Google's hosted domain, Microsoft's tenant).
	verifyClaims func(map[string]any) bool

	once sync.Once
	keys *oidc.RemoteKeySet
}

var errIDTokenRejected = errors.New("auth: id token rejected")

// verify checks a raw ID token and returns its claims. nonce, when not empty, must match the
// token's nonce claim. Every failure is errIDTokenRejected wrapping the reason.
func (spec *idTokenSpec) verify(ctx context.Context, client *http.Client, now time.Time, raw, nonce string) (map[string]any, error) {
	if strings.Count(raw, ".") != 2 || len(raw) > 16<<10 {
		return nil, fmt.Errorf("%w: not a signed JWT", errIDTokenRejected)
	}
	if len(spec.audiences) == 0 {
		return nil, fmt.Errorf("%w: no audience configured", errIDTokenRejected)
	}
	spec.once.Do(func() {
		// The key set outlives the request that first needs it; it refetches when it meets an
		// unknown key id, with the provider HTTP client (no redirects, bounded time).
		spec.keys = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), client), spec.jwksURL)
	})
	cfg := &oidc.Config{
		SupportedSigningAlgs: spec.algs,
		// Shifting the clock back by the tolerance accepts a token up to 30 s past its exp.
		Now: func() time.Time { return now.Add(-idTokenClockTolerance) },
	}
	issuer := ""
	if len(spec.issuers) == 1 || (len(spec.issuers) == 2 && spec.issuers[0] == "https://accounts.google.com") {
		// go-oidc checks a single issuer itself, and knows Google's scheme-less variant.
		issuer = spec.issuers[0]
	} else {
		cfg.SkipIssuerCheck = true
	}
	if len(spec.audiences) == 1 {
		cfg.ClientID = spec.audiences[0]
	} else {
		cfg.SkipClientIDCheck = true
	}
	tok, err := oidc.NewVerifier(issuer, spec.keys, cfg).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errIDTokenRejected, err)
	}
	if cfg.SkipIssuerCheck && len(spec.issuers) > 0 && !slices.Contains(spec.issuers, tok.Issuer) {
		return nil, fmt.Errorf("%w: unexpected issuer %q", errIDTokenRejected, tok.Issuer)
	}
	if cfg.SkipClientIDCheck && !slices.ContainsFunc(tok.Audience, func(a string) bool { return slices.Contains(spec.audiences, a) }) {
		return nil, fmt.Errorf("%w: unexpected audience %q", errIDTokenRejected, tok.Audience)
	}
	// Better-Auth (jose) requires iss, sub, aud, exp and iat in every ID token.
	if tok.Issuer == "" || tok.Subject == "" || len(tok.Audience) == 0 || tok.IssuedAt.IsZero() {
		return nil, fmt.Errorf("%w: a required claim is missing", errIDTokenRejected)
	}
	if spec.maxAge > 0 {
		// As jose's maxTokenAge: the token must be recent, and not from the future.
		age := now.Sub(tok.IssuedAt)
		if age > spec.maxAge+idTokenClockTolerance || age < -idTokenClockTolerance {
			return nil, fmt.Errorf("%w: issued at %s, outside the allowed age", errIDTokenRejected, tok.IssuedAt.UTC().Format(time.RFC3339))
		}
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: %v", errIDTokenRejected, err)
	}
	if nonce != "" && !nonceMatches(claims["nonce"], nonce, spec.nonceSHA256) {
		return nil, fmt.Errorf("%w: nonce does not match", errIDTokenRejected)
	}
	if spec.verifyClaims != nil && !spec.verifyClaims(claims) {
		return nil, fmt.Errorf("%w: claims refused by the provider's rules", errIDTokenRejected)
	}
	return claims, nil
}

func nonceMatches(claim any, want string, allowSHA256 bool) bool {
	got, ok := claim.(string)
	if !ok {
		return false
	}
	if got == want {
		return true
	}
	if allowSHA256 {
		sum := sha256.Sum256([]byte(want))
		return got == hex.EncodeToString(sum[:])
	}
	return false
}
