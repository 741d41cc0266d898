package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// softAuthn is a software WebAuthn authenticator and client in one: it answers the options
// Better-Auth's passkey endpoints give as a browser with a platform authenticator would, with
// ES256 keys made in the test, so the server's ceremonies run end to end without a browser.
// Every answer can be bent (ceremony) to test one check at a time.
type softAuthn struct {
	t *testing.T
	// origin is what the client puts in clientDataJSON; rpID is hashed into authenticatorData.
	origin, rpID string
	creds        []*softCred
}

// softCred is one credential the authenticator holds.
type softCred struct {
	ID      []byte
	Key     *ecdsa.PrivateKey
	Counter uint32
	// UserHandle is the options' user.id, returned on sign-in as discoverable credentials do.
	UserHandle []byte
}

// IDString is the credential id as clients send it (base64url).
func (c *softCred) IDString() string { return b64url(c.ID) }

// ceremony bends one answer; the zero value answers correctly.
type ceremony struct {
	Origin    string // clientDataJSON.origin instead of the authenticator's
	Challenge string // clientDataJSON.challenge instead of the options'
	RPID      string // hashed into authenticatorData instead of the options' RP id
	Type      string // clientDataJSON.type instead of webauthn.create / webauthn.get
	// Format is the attestation format: "none" (default) or "packed" (self attestation).
	Format string
	// NoPresence clears the user-present flag.
	NoPresence bool
	// BackedUp sets the backup-eligible and backed-up flags.
	BackedUp bool
	// Counter, when set, is the signature counter sent instead of the next one.
	Counter *uint32
	// Cred, on a registration, registers this credential again instead of a new one.
	Cred *softCred
	// WrongKey signs with another key (a valid signature that does not verify); NotDER sends a
	// signature that is not DER at all.
	WrongKey, NotDER bool
}

func newSoftAuthn(t *testing.T, origin, rpID string) *softAuthn {
	return &softAuthn{t: t, origin: origin, rpID: rpID}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// create answers registration options (the JSON object generate-register-options gave) with a
// new credential, as navigator.credentials.create and startRegistration would.
func (a *softAuthn) create(options map[string]any, c ceremony) (map[string]any, *softCred) {
	a.t.Helper()
	cred := c.Cred
	if cred == nil {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			a.t.Fatal(err)
		}
		cred = &softCred{ID: randomBytes(a.t, 16), Key: key}
		a.creds = append(a.creds, cred)
	}
	key := cred.Key
	if u, ok := options["user"].(map[string]any); ok {
		cred.UserHandle, _ = base64.RawURLEncoding.DecodeString(u["id"].(string))
	}
	rp, _ := options["rp"].(map[string]any)
	rpID, _ := rp["id"].(string)
	challenge, _ := options["challenge"].(string)
	cdj := a.clientData("webauthn.create", challenge, c)

	x, y := make([]byte, 32), make([]byte, 32)
	key.X.FillBytes(x)
	key.Y.FillBytes(y)
	cose := a.cbor(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	attested := make([]byte, 0, 18+len(cred.ID)+len(cose))
	attested = append(attested, make([]byte, 16)...) // AAGUID: all zero, as privacy-preserving platforms send it
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(cred.ID)))
	attested = append(attested, cred.ID...)
	attested = append(attested, cose...)
	authData := a.authData(rpID, 0x40, 0, c, attested)

	format := c.Format
	if format == "" {
		format = "none"
	}
	stmt := map[string]any{}
	if format == "packed" {
		stmt = map[string]any{"alg": -7, "sig": a.sign(key, authData, cdj, c)}
	}
	att := a.cbor(map[string]any{"fmt": format, "attStmt": stmt, "authData": authData})
	return map[string]any{
		"id": cred.IDString(), "rawId": cred.IDString(), "type": "public-key", "authenticatorAttachment": "platform",
		"clientExtensionResults": map[string]any{"credProps": map[string]any{"rk": true}},
		"response":               map[string]any{"clientDataJSON": b64url(cdj), "attestationObject": b64url(att), "transports": []string{"hybrid", "internal"}},
	}, cred
}

// get answers authentication options with the credential, as navigator.credentials.get and
// startAuthentication would; the counter grows by one unless the ceremony says otherwise.
func (a *softAuthn) get(options map[string]any, cred *softCred, c ceremony) map[string]any {
	a.t.Helper()
	rpID, _ := options["rpId"].(string)
	challenge, _ := options["challenge"].(string)
	cdj := a.clientData("webauthn.get", challenge, c)
	cred.Counter++
	counter := cred.Counter
	if c.Counter != nil {
		counter = *c.Counter
	}
	authData := a.authData(rpID, 0, counter, c, nil)
	return map[string]any{
		"id": cred.IDString(), "rawId": cred.IDString(), "type": "public-key", "authenticatorAttachment": "platform",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64url(cdj), "authenticatorData": b64url(authData),
			"signature": b64url(a.sign(cred.Key, authData, cdj, c)), "userHandle": b64url(cred.UserHandle)},
	}
}

func (a *softAuthn) clientData(typ, challenge string, c ceremony) []byte {
	if c.Type != "" {
		typ = c.Type
	}
	if c.Challenge != "" {
		challenge = c.Challenge
	}
	origin := a.origin
	if c.Origin != "" {
		origin = c.Origin
	}
	b, err := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}

// authData builds authenticatorData: the RP id hash, the flags (user present unless bent, plus
// extra), the counter and the attested credential data of a registration.
func (a *softAuthn) authData(rpID string, extra byte, counter uint32, c ceremony, attested []byte) []byte {
	if rpID == "" {
		rpID = a.rpID
	}
	if c.RPID != "" {
		rpID = c.RPID
	}
	h := sha256.Sum256([]byte(rpID))
	flags := extra
	if !c.NoPresence {
		flags |= 0x01
	}
	if c.BackedUp {
		flags |= 0x08 | 0x10
	}
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, counter)
	return append(out, attested...)
}

// sign signs authenticatorData followed by the client data's hash, as authenticators do.
func (a *softAuthn) sign(key *ecdsa.PrivateKey, authData, cdj []byte, c ceremony) []byte {
	if c.NotDER {
		return []byte{0x01, 0x02, 0x03}
	}
	if c.WrongKey {
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			a.t.Fatal(err)
		}
		key = other
	}
	cdh := sha256.Sum256(cdj)
	digest := sha256.Sum256(append(append([]byte{}, authData...), cdh[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	return sig
}

// cbor encodes v in CTAP2's canonical form, as authenticators write CBOR.
func (a *softAuthn) cbor(v any) []byte {
	em, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		a.t.Fatal(err)
	}
	b, err := em.Marshal(v)
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
