package deviceauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"authserver/auth/atrest"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

type device struct{ cfg Config }

// userCodeAlphabet is Better-Auth's: no 0/O, 1/I, so a code read off a screen is typed right.
const userCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// generationAttempts is how many fresh code pairs are tried when one collides with a stored one.
const generationAttempts = 3

// optional returns a string field, treating "" as absent as Better-Auth does for the
// device-authorization request's fields.
func optional(body map[string]any, name string) *string {
	if v, ok := body[name].(string); ok && v != "" {
		return &v
	}
	return nil
}

// formFields reads the request fields of a form body as Better-Auth does: empty values do not
// count, and a field given twice is refused (RFC 8628 parameters must not repeat).
func formFields(r *plugin.Request) error {
	if r.Form == nil {
		return nil
	}
	for _, name := range []string{"client_id", "user_id", "scope"} {
		var given []string
		for _, v := range r.Form[name] {
			if v != "" {
				given = append(given, v)
			}
		}
		switch len(given) {
		case 0:
			delete(r.Body, name)
		case 1:
			r.Body[name] = given[0]
		default:
			return badRequest("invalid_request", name+" must not be repeated")
		}
	}
	return nil
}

func (p *device) code(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := formFields(r); err != nil {
		return nil, err
	}
	clientID := optional(r.Body, "client_id")
	if clientID == nil {
		return nil, badRequest("invalid_request", msgClientRequired)
	}
	if !p.cfg.clientAllowed(*clientID) {
		return nil, badRequest("invalid_client", msgInvalidClient)
	}
	now := r.Host.Now()
	interval := p.cfg.Interval.Milliseconds()
	for range generationAttempts {
		row := &store.DeviceCode{
			ID:              session.NewID(),
			DeviceCode:      atrest.RandomString(atrest.Alphanumeric, p.cfg.DeviceCodeLength),
			UserCode:        atrest.RandomString(userCodeAlphabet, p.cfg.UserCodeLength),
			UserID:          optional(r.Body, "user_id"),
			ExpiresAt:       store.NewTime(now.Add(p.cfg.ExpiresIn)),
			Status:          "pending",
			PollingInterval: &interval,
			ClientID:        clientID,
			Scope:           optional(r.Body, "scope"),
		}
		err := r.Host.Store().CreateDeviceCode(ctx, row)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		uri, complete, err := p.cfg.verificationURIs(row.UserCode)
		if err != nil {
			return nil, err
		}
		return &plugin.Response{Body: codeAnswer{
			DeviceCode: row.DeviceCode, UserCode: row.UserCode, VerificationURI: uri, VerificationURIComplete: complete,
			ExpiresIn: int64(p.cfg.ExpiresIn / time.Second), Interval: int64(p.cfg.Interval / time.Second),
		}}, nil
	}
	return nil, oauthErr(http.StatusInternalServerError, "server_error", msgGenerationExceeded)
}

// codeAnswer is /device/code's answer, in Better-Auth's key order.
type codeAnswer struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// tokenAnswer is /device/token's answer: an OAuth token response whose access token is a new
// session's token, usable as a bearer token.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// token is one poll of the device. The checks run in Better-Auth's order, which decides the
// answer when several apply: client, code, client match, polling rate (a too-early poll does not
// count as a poll), expiry, then the person's decision.
func (p *device) token(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	deviceCode, _ := r.Body["device_code"].(string)
	clientID, _ := r.Body["client_id"].(string)
	// refused records a device's refused sign-in (never the device code); the polls that
	// are only early (authorization_pending, slow_down) are not refusals.
	refused := func(userID *string, reason string) {
		uid := ""
		if userID != nil {
			uid = *userID
		}
		plugin.SignInFailed(ctx, r.Host, ID, uid, reason)
	}
	if len(p.cfg.ClientIDs) > 0 && !p.cfg.clientAllowed(clientID) {
		refused(nil, "invalid-client")
		return nil, badRequest("invalid_client", msgInvalidClient)
	}
	st := r.Host.Store()
	row, err := st.DeviceCodeBy(ctx, "deviceCode", deviceCode)
	if errors.Is(err, store.ErrNotFound) {
		refused(nil, "invalid-code")
		return nil, badRequest("invalid_grant", msgInvalidDeviceCode)
	}
	if err != nil {
		return nil, err
	}
	if row.ClientID != nil && *row.ClientID != clientID {
		refused(row.UserID, "client-mismatch")
		return nil, badRequest("invalid_grant", msgClientMismatch)
	}
	now := r.Host.Now()
	if row.LastPolledAt != nil && row.PollingInterval != nil && *row.PollingInterval != 0 &&
		now.Sub(row.LastPolledAt.Time) < time.Duration(*row.PollingInterval)*time.Millisecond {
		return nil, badRequest("slow_down", msgTooFrequent)
	}
	if err := st.SetDeviceCodePolled(ctx, row.ID, store.NewTime(now)); err != nil {
		return nil, err
	}
	if row.ExpiresAt.Before(now) {
		if err := st.DeleteDeviceCode(ctx, row.ID); err != nil {
			return nil, err
		}
		refused(row.UserID, "expired-code")
		return nil, badRequest("expired_token", msgExpiredDeviceCode)
	}
	switch row.Status {
	case "pending":
		return nil, badRequest("authorization_pending", msgPending)
	case "denied":
		if err := st.DeleteDeviceCode(ctx, row.ID); err != nil {
			return nil, err
		}
		refused(row.UserID, "access-denied")
		return nil, badRequest("access_denied", msgAccessDenied)
	}
	if row.Status != "approved" || row.UserID == nil {
		return nil, oauthErr(http.StatusInternalServerError, "server_error", msgInvalidStatus)
	}
	user, err := st.UserByID(ctx, *row.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oauthErr(http.StatusInternalServerError, "server_error", msgUserNotFound)
	}
	if err != nil {
		return nil, err
	}
	// Deleting the approved row is the redemption: of two racing polls only one deletes it.
	won, err := st.ConsumeDeviceCode(ctx, row.ID, clientID)
	if err != nil {
		return nil, err
	}
	if !won {
		refused(row.UserID, "invalid-code") // another poll redeemed it first
		return nil, badRequest("invalid_grant", msgInvalidDeviceCode)
	}
	in, err := r.Host.StartSession(ctx, plugin.NewSession{User: *user, Meta: r.Meta, Incoming: r.Incoming})
	if err != nil {
		return nil, err
	}
	scope := ""
	if row.Scope != nil {
		scope = *row.Scope
	}
	// No cookie: the token goes to the device in the body only, as Better-Auth answers it.
	return &plugin.Response{Body: tokenAnswer{
		AccessToken: in.Session.Token, TokenType: "Bearer",
		ExpiresIn: int64(in.Session.ExpiresAt.Sub(r.Host.Now()) / time.Second), Scope: scope,
	}}, nil
}

var (
	defaultUserCode = regexp.MustCompile(`^[` + userCodeAlphabet + `]+$`)
	separators      = regexp.MustCompile(`[^a-zA-Z0-9]`)
)

// findByUserCode finds the request by the code as typed, or else by the code with separators
// dropped and upper-cased when that is made of the default alphabet ("abcd-efgh" finds
// "ABCDEFGH"), as Better-Auth looks it up.
func findByUserCode(ctx context.Context, st *store.Store, typed string) (*store.DeviceCode, error) {
	row, err := st.DeviceCodeBy(ctx, "userCode", typed)
	if !errors.Is(err, store.ErrNotFound) {
		return row, err
	}
	norm := strings.ToUpper(separators.ReplaceAllString(typed, ""))
	if norm == typed || !defaultUserCode.MatchString(norm) {
		return nil, err
	}
	return st.DeviceCodeBy(ctx, "userCode", norm)
}

// lookup is the shared start of GET /device, approve and deny: the request by user code, refused
// when unknown or expired.
func lookup(ctx context.Context, r *plugin.Request, typed string) (*store.DeviceCode, error) {
	row, err := findByUserCode(ctx, r.Host.Store(), typed)
	if errors.Is(err, store.ErrNotFound) {
		return nil, badRequest("invalid_request", msgInvalidUserCode)
	}
	if err != nil {
		return nil, err
	}
	if row.ExpiresAt.Before(r.Host.Now()) {
		return nil, badRequest("expired_token", msgExpiredUserCode)
	}
	return row, nil
}

// verifyAnswer is GET /device's answer. ClientID and Scope are shown only to the person who
// claimed the request; Scope is null when the device asked for none, as Better-Auth prints it.
type verifyAnswer struct {
	UserCode string  `json:"user_code"`
	Status   string  `json:"status"`
	ClientID *string `json:"client_id,omitempty"`
	Scope    *scope  `json:"scope,omitempty"`
}

// scope wraps the nullable scope column so an owner's answer carries "scope":null, not nothing.
type scope struct{ v *string }

func (s *scope) MarshalJSON() ([]byte, error) {
	if s.v == nil {
		return []byte("null"), nil
	}
	return jsonString(*s.v)
}

// verify shows a request to the person who typed its code. Being signed in claims a pending,
// unclaimed request for the viewer, so only they can approve or deny it afterwards.
func (p *device) verify(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	typed, ok := r.Query["user_code"]
	if !ok || len(typed) == 0 {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: "[query.user_code] Invalid input: expected string, received undefined"}
	}
	code := typed[0]
	row, err := lookup(ctx, r, code)
	if err != nil {
		return nil, err
	}
	st := r.Host.Store()
	if r.Auth != nil && row.UserID == nil && row.Status == "pending" {
		won, err := st.ClaimDeviceCode(ctx, row.ID, r.Auth.User.ID)
		if err != nil {
			return nil, err
		}
		if won {
			uid := r.Auth.User.ID
			row.UserID = &uid
		} else {
			cur, err := st.DeviceCodeBy(ctx, "id", row.ID)
			if errors.Is(err, store.ErrNotFound) {
				return nil, badRequest("invalid_request", msgInvalidUserCode)
			}
			if err != nil {
				return nil, err
			}
			row.UserID, row.Status = cur.UserID, cur.Status
		}
	}
	ans := verifyAnswer{UserCode: code, Status: row.Status}
	if r.Auth != nil && row.UserID != nil && *row.UserID == r.Auth.User.ID {
		ans.ClientID, ans.Scope = row.ClientID, &scope{row.Scope}
	}
	return &plugin.Response{Body: ans}, nil
}

// decide approves or denies (status) the request the signed-in person claimed.
func (p *device) decide(ctx context.Context, r *plugin.Request, status string) (*plugin.Response, error) {
	if r.Auth == nil {
		return nil, oauthErr(http.StatusUnauthorized, "unauthorized", msgAuthRequired)
	}
	typed, _ := r.Body["userCode"].(string)
	row, err := lookup(ctx, r, typed)
	if err != nil {
		return nil, err
	}
	if row.Status != "pending" {
		return nil, badRequest("invalid_request", msgAlreadyProcessed)
	}
	if row.UserID == nil {
		return nil, badRequest("invalid_request", msgNotClaimed)
	}
	if *row.UserID != r.Auth.User.ID {
		verb := "approve"
		if status == "denied" {
			verb = "deny"
		}
		return nil, oauthErr(http.StatusForbidden, "access_denied", "You are not authorized to "+verb+" this device authorization")
	}
	won, err := r.Host.Store().DecideDeviceCode(ctx, row.ID, r.Auth.User.ID, status)
	if err != nil {
		return nil, err
	}
	if !won {
		return nil, badRequest("invalid_request", msgAlreadyProcessed)
	}
	return &plugin.Response{Body: map[string]bool{"success": true}}, nil
}

func jsonString(s string) ([]byte, error) { return json.Marshal(s) }
