// Package jwt is Better-Auth's jwt plugin: it gives other backends a way to trust this server's
// sessions without its database. GET /token answers {"token": <JWT>} for the caller's session,
// GET /jwks publishes the public keys, and every get-session that finds a session carries a fresh
// JWT in the set-auth-jwt header (exposed to browser scripts).
//
// A token is signed as Better-Auth 1.7.25 signs it: protected header {"alg","kid"} (no typ), the
// claims iat, the user object as get-session prints it, sub (the user id), exp, iss and aud (the
// server's origin by default). Keys live in Better-Auth's "jwks" table with the private JWK
// encrypted by Better-Auth's symmetricEncrypt under the server's secret, so on a shared database
// either server signs with the keys the other minted and publishes them alike. Keys rotate when
// JWT_ROTATION_INTERVAL is set; an expired key is never deleted and stays published for the
// grace period. Signing and JWK handling use go-jose.
//
// It imports auth/plugin, auth/atrest, session and store. (The HS256 tokens of e-mail
// verification are another matter, in auth/jwt.go.)
package jwt

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"authserver/auth/atrest"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "jwt"

// HeaderName is the get-session answer header that carries a JWT.
const HeaderName = "set-auth-jwt"

// ErrDecryptKey means a stored private key does not open with this server's secret (Better-Auth
// answers such a signature with a 500 too).
var ErrDecryptKey = errors.New("jwt: failed to decrypt private key: the secret in use must be the one the key was encrypted with")

var migrations = []store.PluginMigration{{
	Name: "jwt/0001_jwks",
	SQL: map[store.Dialect]string{
		store.Postgres: `create table "jwks" ("id" text not null primary key, "publicKey" text not null, "privateKey" text not null, "createdAt" timestamptz not null, "expiresAt" timestamptz, "alg" text, "crv" text)`,
		store.SQLite:   `create table "jwks" ("id" text not null primary key, "publicKey" text not null, "privateKey" text not null, "createdAt" date not null, "expiresAt" date, "alg" text, "crv" text)`,
	},
	Table: "jwks", Column: "id",
}, {
	// A table Better-Auth made before it had the alg and crv columns gets them.
	Name:  "jwt/0002_jwks_alg",
	SQL:   map[store.Dialect]string{store.Postgres: `alter table "jwks" add column "alg" text`, store.SQLite: `alter table "jwks" add column "alg" text`},
	Table: "jwks", Column: "alg",
}, {
	Name:  "jwt/0003_jwks_crv",
	SQL:   map[store.Dialect]string{store.Postgres: `alter table "jwks" add column "crv" text`, store.SQLite: `alter table "jwks" add column "crv" text`},
	Table: "jwks", Column: "crv",
}}

type plug struct {
	cfg Config
	// mint serializes minting in this process, so concurrent first signatures make one key.
	mint sync.Mutex
	// keys caches the decrypted signing keys by kid; rows never change, so entries never go stale.
	keys sync.Map // string → *signingKey
}

type signingKey struct {
	kid    string
	signer jose.Signer
}

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	if cfg.Alg == "" {
		cfg.Alg = EdDSA
	}
	if cfg.ModulusLength == 0 {
		cfg.ModulusLength = DefaultModulusLength
	}
	if cfg.GracePeriod == 0 {
		cfg.GracePeriod = DefaultGracePeriod
	}
	if cfg.JWKSPath == "" {
		cfg.JWKSPath = DefaultJWKSPath
	}
	if cfg.ExpiresIn <= 0 {
		cfg.ExpiresIn = 15 * time.Minute
	}
	p := &plug{cfg: cfg}
	pl := plugin.Plugin{
		ID:         ID,
		Migrations: migrations,
		Endpoints: []plugin.Endpoint{
			{Method: http.MethodGet, Path: cfg.JWKSPath, Handle: p.jwks},
			{Method: http.MethodGet, Path: "/token", Session: plugin.NeedSession, Handle: p.token},
		},
	}
	if !cfg.DisableSettingJwtHeader {
		pl.Hooks.SessionHeaders = p.sessionHeader
	}
	return pl
}

func (p *plug) token(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	tok, err := p.sign(ctx, r.Host, &r.Auth.User)
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]string{"token": tok}}, nil
}

func (p *plug) sessionHeader(ctx context.Context, h plugin.Host, a *session.Auth) ([]plugin.Header, error) {
	tok, err := p.sign(ctx, h, &a.User)
	if err != nil {
		return nil, err
	}
	return []plugin.Header{{Name: HeaderName, Value: tok}}, nil
}

// sign makes the user's JWT: the claims are {"iat", the user as get-session prints it, "sub",
// "exp", "iss", "aud"}, in Better-Auth's order.
func (p *plug) sign(ctx context.Context, h plugin.Host, u *store.User) (string, error) {
	now := h.Now()
	k, err := p.signingKey(ctx, h, now)
	if err != nil {
		return "", err
	}
	user := store.AppendUserJSON(nil, u, h.Store().Columns().User)
	iat := now.Unix()
	b := make([]byte, 0, len(user)+256)
	b = append(b, `{"iat":`...)
	b = strconv.AppendInt(b, iat, 10)
	if inner := bytes.TrimSpace(user[1 : len(user)-1]); len(inner) > 0 {
		b = append(b, ',')
		b = append(b, inner...)
	}
	b = appendClaim(b, "sub", u.ID)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, iat+int64(p.cfg.ExpiresIn/time.Second), 10)
	b = appendClaim(b, "iss", p.cfg.Issuer)
	if len(p.cfg.Audience) == 1 && !p.cfg.AudienceList {
		b = appendClaim(b, "aud", p.cfg.Audience[0])
	} else {
		aud, _ := json.Marshal(p.cfg.Audience)
		b = append(b, `,"aud":`...)
		b = append(b, aud...)
	}
	b = append(b, '}')
	obj, err := k.signer.Sign(b)
	if err != nil {
		return "", fmt.Errorf("jwt: sign: %w", err)
	}
	return obj.CompactSerialize()
}

func appendClaim(b []byte, name, value string) []byte {
	v, _ := json.Marshal(value)
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return append(b, v...)
}

// signingKey finds the key Better-Auth would sign with: the newest live key of the configured
// algorithm (a row without alg counts as that algorithm), else the newest live key of any; when
// there is none (first use, or the last one expired) a new key is minted.
func (p *plug) signingKey(ctx context.Context, h plugin.Host, now time.Time) (*signingKey, error) {
	st := h.Store()
	rows, err := st.Jwks(ctx)
	if err != nil {
		return nil, err
	}
	row := p.latestLive(rows, now)
	if row == nil {
		p.mint.Lock()
		defer p.mint.Unlock()
		// Another request of this process may have minted while this one waited.
		if rows, err = st.Jwks(ctx); err != nil {
			return nil, err
		}
		if row = p.latestLive(rows, now); row == nil {
			if row, err = p.createKey(ctx, h, now); err != nil {
				return nil, err
			}
		}
	}
	if k, ok := p.keys.Load(row.ID); ok {
		return k.(*signingKey), nil
	}
	k, err := p.openKey(h.Keys(), row)
	if err != nil {
		return nil, err
	}
	p.keys.Store(row.ID, k)
	return k, nil
}

func (p *plug) rowAlg(r *store.Jwk) string {
	if r.Alg != nil && *r.Alg != "" {
		return *r.Alg
	}
	return p.cfg.Alg
}

func (p *plug) latestLive(rows []store.Jwk, now time.Time) *store.Jwk {
	pick := func(match func(*store.Jwk) bool) *store.Jwk {
		var best *store.Jwk
		for i := range rows {
			r := &rows[i]
			if r.ExpiresAt != nil && !r.ExpiresAt.After(now) || !match(r) {
				continue
			}
			if best == nil || !r.CreatedAt.Before(best.CreatedAt.Time) {
				best = r
			}
		}
		return best
	}
	if r := pick(func(r *store.Jwk) bool { return p.rowAlg(r) == p.cfg.Alg }); r != nil {
		return r
	}
	return pick(func(*store.Jwk) bool { return true })
}

// openKey decrypts a row's private JWK and prepares a signer with its kid.
func (p *plug) openKey(keys session.Keys, row *store.Jwk) (*signingKey, error) {
	raw := row.PrivateKey
	if !p.cfg.DisablePrivateKeyEncryption {
		var sealed string
		if err := json.Unmarshal([]byte(raw), &sealed); err != nil {
			return nil, ErrDecryptKey
		}
		plain, err := atrest.Decrypt(keys, sealed)
		if err != nil {
			return nil, ErrDecryptKey
		}
		raw = plain
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(raw)); err != nil || jwk.IsPublic() {
		return nil, fmt.Errorf("jwt: key %s: the stored private key is not a private JWK", row.ID)
	}
	alg := jose.SignatureAlgorithm(p.rowAlg(row))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jwk.Key}, (&jose.SignerOptions{}).WithHeader("kid", row.ID))
	if err != nil {
		return nil, fmt.Errorf("jwt: key %s: %w", row.ID, err)
	}
	return &signingKey{kid: row.ID, signer: signer}, nil
}

// The member order of the JWKs Node's jose exports, which Better-Auth stores as they come.
var (
	publicOrder = map[string][]string{
		"OKP": {"crv", "x", "kty"},
		"EC":  {"kty", "x", "y", "crv"},
		"RSA": {"kty", "n", "e"},
	}
	privateOrder = map[string][]string{
		"OKP": {"crv", "d", "x", "kty"},
		"EC":  {"kty", "x", "y", "crv", "d"},
		"RSA": {"kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"},
	}
)

// createKey mints a key pair of the configured algorithm and stores it as Better-Auth's
// createJwk does.
func (p *plug) createKey(ctx context.Context, h plugin.Host, now time.Time) (*store.Jwk, error) {
	var priv any
	var crv *string
	var err error
	switch p.cfg.Alg {
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
		crv = ptr("Ed25519")
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		crv = ptr("P-256")
	case ES512:
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		crv = ptr("P-521")
	case RS256, PS256:
		priv, err = rsa.GenerateKey(rand.Reader, p.cfg.ModulusLength)
	default:
		return nil, fmt.Errorf("jwt: unsupported algorithm %q", p.cfg.Alg)
	}
	if err != nil {
		return nil, fmt.Errorf("jwt: generate key: %w", err)
	}
	full, err := jose.JSONWebKey{Key: priv}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("jwt: export key: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(full, &members); err != nil {
		return nil, err
	}
	var kty string
	_ = json.Unmarshal(members["kty"], &kty)
	privJSON := orderedJSON(members, privateOrder[kty])
	row := &store.Jwk{
		ID:         session.NewID(),
		PublicKey:  string(orderedJSON(members, publicOrder[kty])),
		PrivateKey: string(privJSON),
		CreatedAt:  store.NewTime(now),
		Alg:        ptr(p.cfg.Alg),
		Crv:        crv,
	}
	if !p.cfg.DisablePrivateKeyEncryption {
		sealed, err := atrest.Encrypt(h.Keys(), string(privJSON))
		if err != nil {
			return nil, fmt.Errorf("jwt: encrypt key: %w", err)
		}
		quoted, _ := json.Marshal(sealed)
		row.PrivateKey = string(quoted)
	}
	if p.cfg.RotationInterval > 0 {
		t := store.NewTime(now.Add(p.cfg.RotationInterval))
		row.ExpiresAt = &t
	}
	if err := h.Store().CreateJwk(ctx, row); err != nil {
		return nil, err
	}
	return row, nil
}

func ptr(s string) *string { return &s }

// orderedJSON writes the named members of m, in that order.
func orderedJSON(m map[string]json.RawMessage, order []string) []byte {
	b := []byte{'{'}
	for _, k := range order {
		v, ok := m[k]
		if !ok {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		b = append(b, v...)
	}
	return append(b, '}')
}

// jwks answers the key set: every key not past its expiry plus the grace period (a key is
// minted first when there is none), each the stored public JWK with "alg" and "crv" in front
// and "kid" (the row id) at the end, as Better-Auth prints them.
func (p *plug) jwks(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	now := r.Host.Now()
	rows, err := st.Jwks(ctx)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		if _, err := p.signingKey(ctx, r.Host, now); err != nil {
			return nil, err
		}
		if rows, err = st.Jwks(ctx); err != nil {
			return nil, err
		}
	}
	out := []byte(`{"keys":[`)
	n := 0
	for i := range rows {
		row := &rows[i]
		if row.ExpiresAt != nil && !row.ExpiresAt.Add(p.cfg.GracePeriod).After(now) {
			continue
		}
		key, err := p.publicJWK(row)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, key...)
		n++
	}
	out = append(out, "]}"...)
	return &plugin.Response{Body: json.RawMessage(out)}, nil
}

// publicJWK is Better-Auth's {alg, crv, ...publicKey, kid}: members keep their first position
// and take their last value, and a crv that stays undefined is left out.
func (p *plug) publicJWK(row *store.Jwk) ([]byte, error) {
	type member struct {
		name  string
		value json.RawMessage // nil: undefined
	}
	alg, _ := json.Marshal(p.rowAlg(row))
	ms := []member{{"alg", alg}, {"crv", nil}}
	if row.Crv != nil {
		ms[1].value, _ = json.Marshal(*row.Crv)
	}
	set := func(name string, v json.RawMessage) {
		for i := range ms {
			if ms[i].name == name {
				ms[i].value = v
				return
			}
		}
		ms = append(ms, member{name, v})
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(row.PublicKey)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("jwt: key %s: the stored public key is not a JSON object", row.ID)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("jwt: key %s: %w", row.ID, err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("jwt: key %s: %w", row.ID, err)
		}
		set(t.(string), v)
	}
	kid, _ := json.Marshal(row.ID)
	set("kid", kid)
	b := []byte{'{'}
	for _, m := range ms {
		if m.value == nil {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, m.name)
		b = append(b, ':')
		b = append(b, m.value...)
	}
	return append(b, '}'), nil
}
