package admin

import (
	"context"
	"encoding/json"
	"strings"

	"authserver/auth/plugin"
	"authserver/store"
)

// auditedFields are the body fields an admin action's audit row keeps: what was done, never a
// password (set-user-password's and create-user's are left out).
var auditedFields = []string{"role", "banReason", "banExpiresIn"}

// handler is an admin endpoint's handler.
type handler = func(context.Context, *plugin.Request) (*plugin.Response, error)

// apply is the part of an admin action that writes: prepared runs it in a transaction.
type apply = func(ctx context.Context) (*plugin.Response, error)

// audited wraps an admin action so that each one that succeeds leaves an audit row
// "admin.<action>" naming the admin (actorId) and the user acted on, in the action's own
// transaction (Host.Atomic): the row is there exactly when the change is, and a row that cannot
// be written undoes the change. Impersonation's row also names the session it made.
func audited(path string, h handler) handler {
	return prepared(path, func(_ context.Context, r *plugin.Request) (apply, error) {
		return func(ctx context.Context) (*plugin.Response, error) { return h(ctx, r) }, nil
	})
}

// prepared is audited for an action with work to do before its transaction: prepare checks
// the caller and the input and hashes a password, outside any transaction, and the apply it
// returns writes, in the transaction with the audit row. Why: a hash takes tens of milliseconds,
// and on SQLite an open transaction holds the one write lock, so every sign-in, sign-out and
// session refresh of the server would wait for the admin's hash.
func prepared(path string, prepare func(context.Context, *plugin.Request) (apply, error)) handler {
	event := "admin." + strings.TrimPrefix(path, "/admin/")
	return func(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
		do, err := prepare(ctx, r)
		if err != nil {
			return nil, err
		}
		if r.Host == nil {
			return do(ctx)
		}
		var res *plugin.Response
		err = r.Host.Atomic(ctx, func(ctx context.Context) error {
			var err error
			if res, err = do(ctx); err != nil {
				return err
			}
			return r.Host.Audit(ctx, nil, auditEvent(event, r, res))
		})
		if err != nil {
			return nil, err
		}
		return res, nil
	}
}

// auditEvent is the row an admin action that answered res leaves.
func auditEvent(event string, r *plugin.Request, res *plugin.Response) plugin.AuditEvent {
	ev := plugin.AuditEvent{Event: event, Detail: map[string]any{}}
	if r.Auth != nil {
		ev.ActorID = r.Auth.User.ID
		ev.SessionID = r.Auth.Session.ID
	}
	if id, ok := r.Body["userId"].(string); ok {
		ev.UserID = id
	}
	for _, f := range auditedFields {
		if v, present := r.Body[f]; present && v != nil {
			ev.Detail[f] = v
		}
	}
	if res != nil && res.SignIn != nil {
		// Impersonation: the user is the one impersonated, the session the one made for it.
		ev.UserID = res.SignIn.User.ID
		ev.SessionID = res.SignIn.Session.ID
	}
	if ev.UserID == "" && res != nil {
		ev.UserID = userIDOf(res.Body)
	}
	return ev
}

// userIDOf finds the user id in an answer that carries the user ({"user":{"id"}} or {"id"}).
func userIDOf(body any) string {
	b, err := json.Marshal(body)
	if err != nil {
		return ""
	}
	var v struct {
		ID   string `json:"id"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	_ = json.Unmarshal(b, &v)
	if v.User.ID != "" {
		return v.User.ID
	}
	return v.ID
}

// ErrReadAuditLog refuses the audit log to a caller whose role cannot list users.
var ErrReadAuditLog = forbidden("YOU_ARE_NOT_ALLOWED_TO_READ_THE_AUDIT_LOG", "You are not allowed to read the audit log")

// maxAuditPage bounds one audit-log page.
const maxAuditPage = 1000

// auditLog is GET /admin/audit-log?userId=&limit=&offset= (our own endpoint; Better-Auth has no
// audit log): the audit rows, newest first, of one user or of everyone, for a caller allowed to
// list users. limit defaults to 100 and is at most 1000.
func (a *admin) auditLog(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := a.need(r, "user", "list", ErrReadAuditLog); err != nil {
		return nil, err
	}
	limit, ok := jsNumber(r.Query.Get("limit"))
	if !ok || limit > maxAuditPage {
		return nil, validation("query.limit", "Invalid input: expected a whole number from 1 to 1000")
	}
	if limit == 0 {
		limit = 100
	}
	offset, ok := jsNumber(r.Query.Get("offset"))
	if !ok {
		return nil, validation("query.offset", "Invalid input: expected a whole number, 0 or more")
	}
	rows, total, err := r.Host.Store().AuditLog(ctx, store.AuditFilter{UserID: r.Query.Get("userId"), Limit: limit, Offset: offset})
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []store.AuditEntry{}
	}
	return &plugin.Response{Body: map[string]any{"entries": rows, "total": total, "limit": limit, "offset": offset}}, nil
}
