package jwt

import (
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"authserver/session"
	"authserver/store"
)

// A key row and a token made by Better-Auth 1.7.25 (jwt() with default options, secret
// baSecret, baseURL http://127.0.0.1:52307), read back from its Postgres database.
const (
	baSecret     = "0123456789abcdef0123456789abcdef"
	baKid        = "xaZZq4hsa5STVag88Gw1ySKTmLkD4JWC"
	baPublicKey  = `{"crv":"Ed25519","x":"R0Eqrj--O6R07eMyaob-bMdyU4XWftb7cwMFNkCxoic","kty":"OKP"}`
	baPrivateKey = `"34d17a5c96a4e24b1fc5ca7edb66db21286004050e145ab5e77da83e7618cb4808590aad12ddc11590ca753afec1c125105733b88880cdccda200b452566dc60b2c566b3ffc9d748ae93d4ecd9fbc5069cc2496f237ae0b8fc805dfbe98c8d424970f31f118f4685765b656aff3e4a59d8f037826b13ab171d637d5eebc2eb61e7667e3d22dad13192cb8117865d2aaabfae7b207d4cb13eb27e495f3e6160000ead4a998859124e15"`
	baToken      = "eyJhbGciOiJFZERTQSIsImtpZCI6InhhWlpxNGhzYTVTVFZhZzg4R3cxeVNLVG1Ma0Q0SldDIn0.eyJpYXQiOjE3OTY0MjE0NDEsIm5hbWUiOiJBIiwiZW1haWwiOiJhQGV4YW1wbGUuY29tIiwiZW1haWxWZXJpZmllZCI6ZmFsc2UsImltYWdlIjpudWxsLCJjcmVhdGVkQXQiOiIyMDI2LTEyLTA0VDIxOjU3OjIwLjM4OVoiLCJ1cGRhdGVkQXQiOiIyMDI2LTEyLTA0VDIxOjU3OjIwLjM4OVoiLCJpZCI6IllUcndiVkxHMjlQbDRTSjJ4MmNEZzBKYXJrM0lNcVFhIiwic3ViIjoiWVRyd2JWTEcyOVBsNFNKMngyY0RnMEphcmszSU1xUWEiLCJleHAiOjE3OTY0MjIzNDEsImlzcyI6Imh0dHA6Ly8xMjcuMC4wLjE6NTIzMDciLCJhdWQiOiJodHRwOi8vMTI3LjAuMC4xOjUyMzA3In0.IpGNTJuZaBHDdC6Pq-s-nQjsNvbaR_6rWTkzubaeet4Zz5Gi0dwAx3eOIwetALFM84ZCJ-mnharaxxcQ06GlBw"
)

func baRow() *store.Jwk {
	alg, crv := "EdDSA", "Ed25519"
	return &store.Jwk{ID: baKid, PublicKey: baPublicKey, PrivateKey: baPrivateKey, Alg: &alg, Crv: &crv}
}

// A private key Better-Auth encrypted opens with the same secret, and what it signs verifies
// against the public key Better-Auth stored beside it; another secret cannot open it.
func TestOpenBetterAuthKey(t *testing.T) {
	p := &plug{cfg: Config{Alg: EdDSA}}
	k, err := p.openKey(session.SingleKey([]byte(baSecret)), baRow())
	if err != nil {
		t.Fatalf("openKey: %v", err)
	}
	obj, err := k.signer.Sign([]byte(`{"sub":"u"}`))
	if err != nil {
		t.Fatal(err)
	}
	var pub jose.JSONWebKey
	if err := pub.UnmarshalJSON([]byte(baPublicKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Verify(pub); err != nil {
		t.Fatalf("our signature with Better-Auth's key does not verify: %v", err)
	}
	compact, _ := obj.CompactSerialize()
	if parsed, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{jose.EdDSA}); err != nil || parsed.Signatures[0].Protected.KeyID != baKid {
		t.Fatalf("kid: %v %+v", err, parsed)
	}
	if _, err := p.openKey(session.SingleKey([]byte("another secret of the same length.")), baRow()); err != ErrDecryptKey {
		t.Fatalf("another secret: %v, want ErrDecryptKey", err)
	}
	// Better-Auth's own token verifies with the key, header {"alg","kid"} and nothing else.
	tok, err := josejwt.ParseSigned(baToken, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var c josejwt.Claims
	if err := tok.Claims(pub, &c); err != nil {
		t.Fatalf("Better-Auth's token: %v", err)
	}
	if c.Expiry.Time().Sub(c.IssuedAt.Time()) != 15*time.Minute || c.Issuer != "http://127.0.0.1:52307" || c.Subject != "YTrwbVLG29Pl4SJ2x2cDg0Jark3IMqQa" {
		t.Fatalf("claims %+v", c)
	}
}

// The JWKS entry is Better-Auth's {alg, crv, ...publicKey, kid}.
func TestPublicJWK(t *testing.T) {
	p := &plug{cfg: Config{Alg: EdDSA}}
	got, err := p.publicJWK(baRow())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"alg":"EdDSA","crv":"Ed25519","x":"R0Eqrj--O6R07eMyaob-bMdyU4XWftb7cwMFNkCxoic","kty":"OKP","kid":"` + baKid + `"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// A row from before the alg and crv columns: the configured alg; an RSA key has no crv.
	rsa := &store.Jwk{ID: "k", PublicKey: `{"kty":"RSA","n":"AQAB","e":"AQAB"}`}
	p.cfg.Alg = RS256
	if got, _ := p.publicJWK(rsa); string(got) != `{"alg":"RS256","kty":"RSA","n":"AQAB","e":"AQAB","kid":"k"}` {
		t.Fatalf("rsa: %s", got)
	}
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"15m": 15 * time.Minute, "1h": time.Hour, "2 days": 48 * time.Hour, "1.5s": 2 * time.Second, "30 Seconds": 30 * time.Second,
		"1w": 7 * 24 * time.Hour, "1mo": 30 * 24 * time.Hour, "1y": time.Duration(365.25*86400) * time.Second, "-5m": -5 * time.Minute,
	} {
		if got, err := ParseTime(in); err != nil || got != want {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "900", "15", "m", "15 minutes later", "-5m ago", "1 fortnight"} {
		if _, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
		}
	}
}
