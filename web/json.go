package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"authserver/store"
)

// writeJSON writes v as JSON the way JavaScript's JSON.stringify would: no HTML escaping and no
// trailing newline, so bodies match Better-Auth's byte for byte where the values do.
func writeJSON(c echo.Context, status int, v any) error {
	if a, ok := v.(jsonAppender); ok {
		bp := appendBuffers.Get().(*[]byte)
		out := a.appendJSON((*bp)[:0])
		err := c.Blob(status, echo.MIMEApplicationJSON, out)
		if cap(out) <= 64<<10 {
			*bp = out
			appendBuffers.Put(bp)
		}
		return err
	}
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer putJSONBuffer(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return c.Blob(status, echo.MIMEApplicationJSON, bytes.TrimRight(buf.Bytes(), "\n"))
}

// jsonBuffers reuses response buffers: every answer is encoded into one, and growing a fresh
// buffer for each was a good part of what the hot path allocated (so of how often the collector
// runs under load). The body has been written by the time the buffer goes back.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// appendBuffers does the same for the answers that write their own JSON (jsonAppender).
var appendBuffers = sync.Pool{New: func() any { return new([]byte) }}

// putJSONBuffer returns buf to the pool unless an unusually large answer grew it, so one big
// response does not pin its memory for good.
func putJSONBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 64<<10 {
		return
	}
	buf.Reset()
	jsonBuffers.Put(buf)
}

// jsTime prints a timestamp as JavaScript's toISOString does; the Better-Auth client only turns
// strings of this form back into Date objects.
type jsTime store.Time

func (t jsTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + store.Time(t).String() + `"`), nil
}

// userResponse is Better-Auth's User object, with the fields plugins added (store.AppendUserJSON).
type userResponse struct {
	u      *store.User
	fields []store.Field
}

func (h *authHandler) newUserResponse(u *store.User) userResponse {
	return userResponse{u: u, fields: h.cols.User}
}

// MarshalJSON lets the bodies that carry a user (sign-up, sign-in, ...) embed it.
func (r userResponse) MarshalJSON() ([]byte, error) {
	return store.AppendUserJSON(nil, r.u, r.fields), nil
}

// sessionResponse is Better-Auth's Session object; the token is the raw token, as Better-Auth sends it.
type sessionResponse struct {
	s      *store.Session
	fields []store.Field
}

func (h *authHandler) newSessionResponse(s *store.Session) sessionResponse {
	return sessionResponse{s: s, fields: h.cols.Session}
}

// MarshalJSON lets list-sessions print a list of sessions.
func (r sessionResponse) MarshalJSON() ([]byte, error) {
	return store.AppendSessionJSON(nil, r.s, r.fields), nil
}

// sessionUserResponse is get-session's {session, user}.
type sessionUserResponse struct {
	Session sessionResponse
	User    userResponse
}

// accountResponse is an entry of list-accounts: the row without secrets, scope as a list.
type accountResponse struct {
	ID         string   `json:"id"`
	AccountID  string   `json:"accountId"`
	ProviderID string   `json:"providerId"`
	UserID     string   `json:"userId"`
	CreatedAt  jsTime   `json:"createdAt"`
	UpdatedAt  jsTime   `json:"updatedAt"`
	Scopes     []string `json:"scopes"`
}

func newAccountResponse(a *store.Account) accountResponse {
	scopes := []string{}
	if a.Scope != nil {
		for _, s := range strings.Split(*a.Scope, ",") {
			if s = strings.TrimSpace(s); s != "" {
				scopes = append(scopes, s)
			}
		}
	}
	return accountResponse{ID: a.ID, AccountID: a.AccountID, ProviderID: a.ProviderID, UserID: a.UserID,
		CreatedAt: jsTime(a.CreatedAt), UpdatedAt: jsTime(a.UpdatedAt), Scopes: scopes}
}

// statusResponse is the {"status": true} most mutations answer with.
var statusResponse = map[string]bool{"status": true}

func ok(c echo.Context, v any) error { return writeJSON(c, http.StatusOK, v) }
