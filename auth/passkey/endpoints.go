package passkey

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/google/uuid"

	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// offeredAlgs are the key algorithms the registration options offer (EdDSA, ES256, RS256), and
// acceptedAlgs those a registration may use, as @simplewebauthn/server has them.
var (
	offeredAlgs  = []int{-8, -7, -257}
	acceptedAlgs = []webauthncose.COSEAlgorithmIdentifier{webauthncose.AlgEdDSA, webauthncose.AlgES256, webauthncose.AlgES512,
		webauthncose.AlgPS256, webauthncose.AlgPS384, webauthncose.AlgPS512, webauthncose.AlgRS256, webauthncose.AlgRS384,
		webauthncose.AlgRS512, webauthncose.AlgRS1}
)

// challengeState is the verification row's value, in @better-auth/passkey's form so either server
// can finish a ceremony the other began.
type challengeState struct {
	Type              string   `json:"type"`
	ExpectedChallenge string   `json:"expectedChallenge"`
	UserData          userData `json:"userData"`
	// Context is the registration's ?context (null when absent); authentication rows have none.
	Context *string `json:"context,omitempty"`
}

type userData struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// registrationState marshals a registration row with "context":null kept, as Better-Auth writes it.
type registrationState challengeState

func (s registrationState) MarshalJSON() ([]byte, error) {
	type plain struct {
		Type              string   `json:"type"`
		ExpectedChallenge string   `json:"expectedChallenge"`
		UserData          userData `json:"userData"`
		Context           *string  `json:"context"`
	}
	return json.Marshal(plain(s))
}

// credentialDescriptor is an entry of excludeCredentials and allowCredentials.
type credentialDescriptor struct {
	ID         string   `json:"id"`
	Transports []string `json:"transports,omitempty"`
	Type       string   `json:"type"`
}

func descriptors(pks []store.Passkey) []credentialDescriptor {
	out := make([]credentialDescriptor, 0, len(pks))
	for _, pk := range pks {
		d := credentialDescriptor{ID: strings.TrimRight(pk.CredentialID, "="), Type: "public-key"}
		if pk.Transports != nil {
			// Better-Auth splits the stored text as it is, so "" gives [""].
			d.Transports = strings.Split(*pk.Transports, ",")
		}
		out = append(out, d)
	}
	return out
}

type pubKeyCredParam struct {
	Alg  int    `json:"alg"`
	Type string `json:"type"`
}

type authenticatorSelection struct {
	ResidentKey             string `json:"residentKey"`
	UserVerification        string `json:"userVerification"`
	AuthenticatorAttachment string `json:"authenticatorAttachment,omitempty"`
	RequireResidentKey      bool   `json:"requireResidentKey"`
}

type relyingParty struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

type userEntity struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

// creationOptions is PublicKeyCredentialCreationOptionsJSON as @simplewebauthn/server prints it.
type creationOptions struct {
	Challenge              string                 `json:"challenge"`
	RP                     relyingParty           `json:"rp"`
	User                   userEntity             `json:"user"`
	PubKeyCredParams       []pubKeyCredParam      `json:"pubKeyCredParams"`
	Timeout                int                    `json:"timeout"`
	Attestation            string                 `json:"attestation"`
	ExcludeCredentials     []credentialDescriptor `json:"excludeCredentials"`
	AuthenticatorSelection authenticatorSelection `json:"authenticatorSelection"`
	Extensions             map[string]bool        `json:"extensions"`
	Hints                  []string               `json:"hints"`
}

// requestOptions is PublicKeyCredentialRequestOptionsJSON as @simplewebauthn/server prints it.
type requestOptions struct {
	RPID             string                 `json:"rpId"`
	Challenge        string                 `json:"challenge"`
	AllowCredentials []credentialDescriptor `json:"allowCredentials,omitempty"`
	Timeout          int                    `json:"timeout"`
	UserVerification string                 `json:"userVerification"`
}

// registerOptions starts a registration for the signed-in user: the options for
// navigator.credentials.create and a challenge bound to the user.
func (p *passkeys) registerOptions(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	attachment := r.Query.Get("authenticatorAttachment")
	if _, given := r.Query["authenticatorAttachment"]; given && attachment != "platform" && attachment != "cross-platform" {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR",
			Message: `[query.authenticatorAttachment] Invalid option: expected one of "platform"|"cross-platform"`}
	}
	u := r.Auth.User
	st := r.Host.Store()
	pks, err := st.PasskeysByUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	label := u.Email
	if label == "" {
		label = u.ID
	}
	name := label
	if v := r.Query.Get("name"); v != "" {
		name = v
	}
	var reqContext *string
	if _, given := r.Query["context"]; given {
		v := r.Query.Get("context")
		reqContext = &v
	}
	opts := creationOptions{
		Challenge: newChallenge(),
		RP:        relyingParty{Name: p.cfg.RPName, ID: p.cfg.RPID},
		// The user handle is random rather than the user's id, as Better-Auth makes it: sign-in
		// looks the credential up by its id and never reads the handle.
		User:               userEntity{ID: base64.RawURLEncoding.EncodeToString([]byte(randomLowerAlnum(32))), Name: name, DisplayName: label},
		Timeout:            timeoutMillis,
		Attestation:        "none",
		ExcludeCredentials: descriptors(pks),
		AuthenticatorSelection: authenticatorSelection{ResidentKey: "preferred", UserVerification: "preferred",
			AuthenticatorAttachment: attachment},
		Extensions: map[string]bool{"credProps": true},
		Hints:      []string{},
	}
	for _, a := range offeredAlgs {
		opts.PubKeyCredParams = append(opts.PubKeyCredParams, pubKeyCredParam{Alg: a, Type: "public-key"})
	}
	return challengeAnswer(ctx, r.Host, opts, registrationState{Type: "registration", ExpectedChallenge: opts.Challenge,
		UserData: userData{ID: u.ID, Name: label, DisplayName: label}, Context: reqContext})
}

// authenticateOptions starts a sign-in: with a session whose user has passkeys the options name
// them, otherwise the authenticator offers its discoverable credentials.
func (p *passkeys) authenticateOptions(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	opts := requestOptions{RPID: p.cfg.RPID, Challenge: newChallenge(), Timeout: timeoutMillis, UserVerification: "preferred"}
	userID := ""
	if r.Auth != nil {
		userID = r.Auth.User.ID
		pks, err := r.Host.Store().PasskeysByUser(ctx, userID)
		if err != nil {
			return nil, err
		}
		opts.AllowCredentials = descriptors(pks)
	}
	return challengeAnswer(ctx, r.Host, opts, challengeState{Type: "authentication", ExpectedChallenge: opts.Challenge, UserData: userData{ID: userID}})
}

// challengeAnswer stores a ceremony's state under a new identifier and answers the options with
// the cookie naming it.
func challengeAnswer(ctx context.Context, h plugin.Host, options, state any) (*plugin.Response, error) {
	value, err := json.Marshal(state)
	if err != nil {
		return nil, err
	}
	now := store.NewTime(h.Now())
	ident := session.RandomString(32)
	v := &store.Verification{ID: session.NewID(), Identifier: ident, Value: string(value),
		ExpiresAt: store.NewTime(now.Add(challengeMaxAge * time.Second)), CreatedAt: now, UpdatedAt: now}
	if err := h.Store().CreateVerification(ctx, v); err != nil {
		return nil, err
	}
	ck := plugin.Cookie{Name: challengeCookie, Value: ident, MaxAge: challengeMaxAge, Signed: true, HTTPOnly: true}
	return &plugin.Response{Body: options, Cookies: []plugin.Cookie{ck}}, nil
}

// takeChallenge consumes the challenge the request's cookie names, whatever comes of the
// ceremony, so a challenge is tried once. The cookie stays: Better-Auth never clears it.
func takeChallenge(ctx context.Context, r *plugin.Request, ceremony string) (*challengeState, error) {
	ident, ok := r.Incoming.SignedCookie(challengeCookie)
	if !ok || ident == "" {
		return nil, ErrChallengeNotFound
	}
	v, err := r.Host.Store().ConsumeVerification(ctx, ident, store.NewTime(r.Host.Now()))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrChallengeNotFound
	}
	if err != nil {
		return nil, err
	}
	var st challengeState
	if json.Unmarshal([]byte(v.Value), &st) != nil || st.Type != ceremony || st.ExpectedChallenge == "" {
		return nil, ErrChallengeNotFound
	}
	return &st, nil
}

// verifyRegistration checks the authenticator's answer to a registration challenge and stores the
// new passkey; with createSession the answer also carries a new session.
func (p *passkeys) verifyRegistration(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	ch, err := takeChallenge(ctx, r, "registration")
	if err != nil {
		return nil, err
	}
	if ch.UserData.ID != r.Auth.User.ID {
		return nil, ErrNotAllowed
	}
	raw, err := json.Marshal(r.Body["response"])
	if err != nil {
		return nil, registrationFailed(err)
	}
	pcc, err := protocol.ParseCredentialCreationResponseBytes(raw)
	if err != nil {
		return nil, registrationFailed(err)
	}
	params := make([]protocol.CredentialParameter, len(acceptedAlgs))
	for i, a := range acceptedAlgs {
		params[i] = protocol.CredentialParameter{Type: protocol.PublicKeyCredentialType, Algorithm: a}
	}
	// User presence is required and verification is not, as in Better-Auth; cross-origin
	// (iframe) ceremonies are refused since no top-level origin is configured.
	if _, err := pcc.Verify(ch.ExpectedChallenge, p.cfg.RPID, p.cfg.Origins, nil, nil, protocol.TopOriginExplicitVerificationMode,
		false, false, true, nil, params, protocol.AttestationPolicy{}, protocol.SignaturePolicy{}); err != nil {
		return nil, registrationFailed(err)
	}
	auth := pcc.Response.AttestationObject.AuthData
	credID := base64.RawURLEncoding.EncodeToString(auth.AttData.CredentialID)
	st := r.Host.Store()
	// One credential, one passkey: a second row would make sign-in pick either owner.
	switch _, err := st.PasskeyByCredentialID(ctx, credID); {
	case err == nil:
		return nil, registrationFailed(errors.New("credential already registered"))
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	aaguid, err := uuid.FromBytes(auth.AttData.AAGUID)
	if err != nil {
		return nil, registrationFailed(err)
	}
	deviceType := "singleDevice"
	if auth.Flags.HasBackupEligible() {
		deviceType = "multiDevice"
	}
	transports := strings.Join(pcc.Raw.AttestationResponse.Transports, ",")
	created := store.NewTime(r.Host.Now())
	aa := aaguid.String()
	pk := &store.Passkey{ID: session.NewID(), PublicKey: base64.StdEncoding.EncodeToString(auth.AttData.CredentialPublicKey),
		UserID: ch.UserData.ID, CredentialID: credID, Counter: int64(auth.Counter), DeviceType: deviceType,
		BackedUp: auth.Flags.HasBackupState(), Transports: &transports, CreatedAt: &created, AAGUID: &aa}
	if name, _ := r.Body["name"].(string); strings.TrimSpace(name) != "" {
		name = strings.TrimSpace(name)
		pk.Name = &name
	}
	ev := plugin.AuditEvent{Event: "passkey-added", UserID: pk.UserID, Detail: map[string]any{"passkeyId": pk.ID}}
	if err := r.Host.Atomic(ctx, func(ctx context.Context) error {
		if err := st.CreatePasskey(ctx, pk); err != nil {
			return err
		}
		return r.Host.Audit(ctx, nil, ev)
	}); err != nil {
		return nil, err
	}
	if create, _ := r.Body["createSession"].(bool); !create {
		return &plugin.Response{Body: passkeyJSON{pk: pk}}, nil
	}
	// Better-Auth names no sign-in method for this path, so last-login-method stays silent.
	res, err := r.Host.FinishSignIn(ctx, plugin.Finish{User: r.Auth.User, Meta: r.Meta, Incoming: r.Incoming})
	if err != nil {
		// No passkey without the session the caller asked for.
		if derr := st.DeletePasskey(context.WithoutCancel(ctx), pk.ID); derr != nil {
			return nil, errors.Join(err, derr)
		}
		return nil, err
	}
	return &plugin.Response{Body: passkeyJSON{pk: pk, session: sessionJSON(st, res)}, SignIn: res}, nil
}

// registrationFailed is Better-Auth's answer to any failed registration check; the reason goes to
// the server's log (the ceremony's fixed description, never the client's data) and not to the
// client.
func registrationFailed(err error) error {
	if unverifiedAttestation(err) {
		return fmt.Errorf("%w (%s)", ErrAttestationRefused, reason(err))
	}
	return fmt.Errorf("%w (%s)", ErrRegistration, reason(err))
}

// unverifiedAttestation tells an attestation signature that does not verify (packed, self or
// x5c) from the failures SimpleWebAuthn throws on.
func unverifiedAttestation(err error) bool {
	var pe *protocol.Error
	return errors.As(err, &pe) && pe.Type == protocol.ErrInvalidAttestation.Type &&
		(pe.Details == "Unable to verify signature" || strings.HasPrefix(pe.Details, "Signature validation error"))
}

func reason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Type + ": " + pe.Details
	}
	return "malformed response"
}

// verifyAuthentication checks the authenticator's answer to a sign-in challenge and signs the
// passkey's owner in. The browser's current session plays no part.
func (p *passkeys) verifyAuthentication(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	// refused records the refusal (never the credential id sent): pk is the passkey the
	// answer named, nil when none is stored.
	refused := func(pk *store.Passkey, reason string) {
		if pk == nil {
			plugin.SignInFailed(ctx, r.Host, method, "", reason)
			return
		}
		plugin.SignInFailedWith(ctx, r.Host, method, pk.UserID, reason, map[string]any{"passkeyId": pk.ID})
	}
	ch, err := takeChallenge(ctx, r, "authentication")
	if err != nil {
		if errors.Is(err, ErrChallengeNotFound) {
			refused(nil, "challenge-not-found")
		}
		return nil, err
	}
	resp, _ := r.Body["response"].(map[string]any)
	credID, _ := resp["id"].(string)
	st := r.Host.Store()
	pk, err := st.PasskeyByCredentialID(ctx, credID)
	if errors.Is(err, store.ErrNotFound) {
		refused(nil, "unknown-passkey")
		return nil, ErrUnknownCredential
	}
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(resp)
	if err != nil {
		refused(pk, "invalid-response")
		return nil, ErrAuthentication
	}
	par, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		refused(pk, "invalid-response")
		return nil, ErrAuthentication
	}
	key, err := base64.StdEncoding.DecodeString(pk.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("passkey %s: stored public key is not base64: %w", pk.ID, err)
	}
	if err := par.Verify(ch.ExpectedChallenge, p.cfg.RPID, "", p.cfg.Origins, nil, nil, protocol.TopOriginExplicitVerificationMode,
		false, false, true, key, protocol.SignaturePolicy{}); err != nil {
		var pe *protocol.Error
		// A well-formed signature that does not verify is 401; anything malformed or out of
		// place is 400, as @simplewebauthn/server's verified:false and its throws map in 1.7.6.
		if errors.As(err, &pe) && pe.Type == protocol.ErrAssertionSignature.Type && pe.Err == nil {
			refused(pk, "invalid-signature")
			return nil, ErrBadSignature
		}
		refused(pk, "invalid-response")
		return nil, fmt.Errorf("%w (%s)", ErrAuthentication, reason(err))
	}
	next := int64(par.Response.AuthenticatorData.Counter)
	if (next > 0 || pk.Counter > 0) && next <= pk.Counter {
		refused(pk, "counter-not-increased") // a cloned authenticator, or a replayed answer
		return nil, fmt.Errorf("%w (counter did not grow)", ErrAuthentication)
	}
	if ok, err := st.AdvancePasskeyCounter(ctx, pk.ID, pk.Counter, next); err != nil {
		return nil, err
	} else if !ok {
		refused(pk, "counter-not-increased")
		return nil, fmt.Errorf("%w (counter changed or passkey deleted meanwhile)", ErrAuthentication)
	}
	u, err := st.UserByID(ctx, pk.UserID)
	if err != nil {
		return nil, err
	}
	res, err := r.Host.FinishSignIn(ctx, plugin.Finish{User: *u, Method: method, Meta: r.Meta, Incoming: r.Incoming})
	if err != nil {
		return nil, err
	}
	// The answer's user is read after the session exists, as Better-Auth reads it.
	if fresh, err := st.UserByID(ctx, u.ID); err == nil {
		res.User = *fresh
	}
	return &plugin.Response{Body: sessionJSON(st, res), SignIn: res}, nil
}

// sessionUser is the {"session","user"} of a sign-in answer.
type sessionUser struct {
	Session json.RawMessage `json:"session"`
	User    json.RawMessage `json:"user"`
}

func sessionJSON(st *store.Store, s *plugin.SignIn) *sessionUser {
	cols := st.Columns()
	return &sessionUser{Session: store.AppendSessionJSON(nil, &s.Session, cols.Session), User: store.AppendUserJSON(nil, &s.User, cols.User)}
}

// list answers the caller's passkeys.
func (p *passkeys) list(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	pks, err := r.Host.Store().PasskeysByUser(ctx, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	out := make([]passkeyJSON, len(pks))
	for i := range pks {
		out[i] = passkeyJSON{pk: &pks[i]}
	}
	return &plugin.Response{Body: out}, nil
}

// owned returns the caller's passkey id: ErrPasskeyNotFound when there is none, notOwner when it
// is another user's.
func owned(ctx context.Context, r *plugin.Request, notOwner error) (*store.Passkey, error) {
	id, _ := r.Body["id"].(string)
	pk, err := r.Host.Store().PasskeyByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrPasskeyNotFound
	}
	if err != nil {
		return nil, err
	}
	if pk.UserID != r.Auth.User.ID {
		return nil, notOwner
	}
	return pk, nil
}

// update renames one of the caller's passkeys.
func (p *passkeys) update(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	name, _ := r.Body["name"].(string)
	if name = strings.TrimSpace(name); name == "" {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: "[body.name] Too small: expected string to have >=1 characters"}
	}
	pk, err := owned(ctx, r, ErrNotAllowed)
	if err != nil {
		return nil, err
	}
	pk, err = r.Host.Store().RenamePasskey(ctx, pk.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrPasskeyNotFound
	}
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]passkeyJSON{"passkey": {pk: pk}}}, nil
}

// delete removes one of the caller's passkeys.
func (p *passkeys) delete(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	pk, err := owned(ctx, r, ErrNotOwner)
	if err != nil {
		return nil, err
	}
	ev := plugin.AuditEvent{Event: "passkey-removed", UserID: pk.UserID, Detail: map[string]any{"passkeyId": pk.ID}}
	if err := r.Host.Atomic(ctx, func(ctx context.Context) error {
		if err := r.Host.Store().DeletePasskey(ctx, pk.ID); err != nil {
			return err
		}
		return r.Host.Audit(ctx, nil, ev)
	}); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]bool{"status": true}}, nil
}

// passkeyJSON prints a passkey row as Better-Auth's adapter does: the schema's fields in order,
// then id; with session set (verify-registration's createSession) also "session" and "user".
type passkeyJSON struct {
	pk      *store.Passkey
	session *sessionUser
}

func (j passkeyJSON) MarshalJSON() ([]byte, error) {
	var createdAt *string
	if j.pk.CreatedAt != nil {
		s := j.pk.CreatedAt.String()
		createdAt = &s
	}
	type row struct {
		Name         *string         `json:"name"`
		PublicKey    string          `json:"publicKey"`
		UserID       string          `json:"userId"`
		CredentialID string          `json:"credentialID"`
		Counter      int64           `json:"counter"`
		DeviceType   string          `json:"deviceType"`
		BackedUp     bool            `json:"backedUp"`
		Transports   *string         `json:"transports"`
		CreatedAt    *string         `json:"createdAt"`
		AAGUID       *string         `json:"aaguid"`
		ID           string          `json:"id"`
		Session      json.RawMessage `json:"session,omitempty"`
		User         json.RawMessage `json:"user,omitempty"`
	}
	out := row{Name: j.pk.Name, PublicKey: j.pk.PublicKey, UserID: j.pk.UserID, CredentialID: j.pk.CredentialID, Counter: j.pk.Counter,
		DeviceType: j.pk.DeviceType, BackedUp: j.pk.BackedUp, Transports: j.pk.Transports, CreatedAt: createdAt, AAGUID: j.pk.AAGUID, ID: j.pk.ID}
	if j.session != nil {
		out.Session, out.User = j.session.Session, j.session.User
	}
	return json.Marshal(out)
}

// newChallenge is 32 random bytes in base64url, as @simplewebauthn/server makes challenges.
func newChallenge() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("passkey: system random source failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomLowerAlnum draws n characters of [a-z0-9] uniformly, the alphabet of Better-Auth's user
// handles.
func randomLowerAlnum(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("passkey: system random source failed: " + err.Error())
		}
		for _, b := range buf {
			if int(b) < 252 && len(out) < n { // 252 = 7*36: larger bytes would favour the first characters
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
