package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"strings"

	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

type clientKey struct{}

// client is what WithClient puts in a request's context.
type client struct {
	meta  session.Meta
	route string
}

// WithClient returns ctx carrying the request's client details (address as TRUSTED_PROXIES
// resolves it, user agent) and its route below the auth base path ("/sign-in/username"), which
// every audit row written under ctx records. The web layer sets it once per request, so no
// service method needs them as arguments.
func WithClient(ctx context.Context, m session.Meta, route string) context.Context {
	return context.WithValue(ctx, clientKey{}, client{meta: m, route: route})
}

// clientOf is the client details WithClient put in ctx, or none.
func clientOf(ctx context.Context) client {
	c, _ := ctx.Value(clientKey{}).(client)
	return c
}

// routeMethods names the way of signing in for routes whose sign-ins carry no method of their
// own (Better-Auth's last-login-method names none for them), as the sign-in metrics name them.
var routeMethods = map[string]string{
	"/magic-link/verify":             "magic-link",
	"/passkey/verify-authentication": "passkey",
	"/phone-number/verify":           "phone-number",
	"/one-time-token/verify":         "one-time-token",
	"/two-factor/verify-totp":        "two-factor",
	"/two-factor/verify-otp":         "two-factor",
	"/two-factor/verify-backup-code": "two-factor",
	"/device/token":                  "device-authorization",
	"/admin/impersonate-user":        "impersonation",
	"/verify-email":                  "email-verification",
}

// routeMethod is the sign-in method a route implies: "/sign-in/<method>", or routeMethods'.
func routeMethod(route string) string {
	if m, ok := strings.CutPrefix(route, "/sign-in/"); ok && m != "" && !strings.Contains(m, "/") {
		return m
	}
	return routeMethods[route]
}

// Audit implements plugin.Host: one audit row, in db when not nil (a transaction), else in the
// transaction ctx carries (Atomic), with the client details of ctx. Outside any transaction a
// failed write is also logged, so callers whose change already stands may ignore the error.
func (s *Service) Audit(ctx context.Context, db *store.Store, ev plugin.AuditEvent) error {
	outside := db == nil && !store.InTransaction(ctx)
	if db == nil {
		db = s.st // joins the transaction of ctx, if any
	}
	detail := ev.Detail
	if detail == nil {
		detail = map[string]any{}
	}
	c := clientOf(ctx)
	if m, _ := detail["method"].(string); m == "" && ev.Event == "sign-in" {
		// A row that names no way of signing in tells its reader little: name it by the route.
		if m := routeMethod(c.route); m != "" {
			detail = maps.Clone(detail)
			detail["method"] = m
		}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	m := c.meta
	row := store.AuditEntry{ID: session.NewID(), CreatedAt: s.now(), Event: ev.Event, UserID: optional(ev.UserID),
		ActorID: optional(ev.ActorID), IPAddress: optional(m.IPAddress), UserAgent: optional(m.UserAgent),
		SessionID: optional(ev.SessionID), Outcome: "success", Detail: string(b)}
	if ev.Failed {
		row.Outcome = "failure"
	}
	err = db.RecordAudit(ctx, &row)
	if err == nil && len(s.cfg.WebhookURLs) > 0 {
		err = s.enqueueWebhooks(ctx, db, &row)
	}
	if err != nil && outside {
		s.email.Logger.Error("audit log write failed", slog.String("event", ev.Event), slog.String("error", err.Error()))
	}
	return err
}

// auditAfter records an event that changed nothing (a refused sign-in): a failure to record it
// is logged, not returned, since there is nothing to undo.
func (s *Service) auditAfter(ctx context.Context, ev plugin.AuditEvent) {
	_ = s.Audit(ctx, nil, ev) // logged by Audit
}

// Atomic implements plugin.Host: fn runs in one database transaction that its context carries
// (store.Atomic), so an audit row written in it commits with the change it records or not at all.
func (s *Service) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.st.Atomic(ctx, fn)
}

// Audited runs change and records ev in one transaction: the event is in the log exactly when
// the change committed. change's error comes back as is and nothing is recorded.
func (s *Service) Audited(ctx context.Context, ev plugin.AuditEvent, change func(ctx context.Context) error) error {
	return s.st.Atomic(ctx, func(ctx context.Context) error {
		if err := change(ctx); err != nil {
			return err
		}
		return s.Audit(ctx, nil, ev)
	})
}

func optional(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// signInFailed records a refused password sign-in: the method and why, and the user when the
// identifier named one (never the identifier or password typed).
func (s *Service) signInFailed(ctx context.Context, method string, u *store.User, reason string) {
	ev := plugin.AuditEvent{Event: "sign-in", Failed: true, Detail: map[string]any{"method": method, "reason": reason}}
	if u != nil {
		ev.UserID = u.ID
	}
	s.auditAfter(ctx, ev)
}

// refusalReason names a plugin's refusal of a sign-in by its error code (BANNED_USER), or
// "refused" for any other error.
func refusalReason(err error) string {
	var pe *plugin.Error
	if errors.As(err, &pe) && pe.Code != "" {
		return pe.Code
	}
	return "refused"
}

// enqueueWebhooks queues the audit row for every webhook URL in db, the row's own transaction
// when there is one: {"type":"auth.<event>","timestamp":…,"data":<the row as the audit-log
// endpoints print it>}.
func (s *Service) enqueueWebhooks(ctx context.Context, db *store.Store, row *store.AuditEntry) error {
	body, err := json.Marshal(map[string]any{"type": "auth." + row.Event, "timestamp": row.CreatedAt.String(), "data": row})
	if err != nil {
		return err
	}
	for _, u := range s.cfg.WebhookURLs {
		d := store.WebhookDelivery{ID: "msg_" + session.NewID(), CreatedAt: row.CreatedAt, URL: u, Payload: string(body),
			NextAttemptAt: row.CreatedAt}
		if err := db.EnqueueWebhook(ctx, &d); err != nil {
			return err
		}
	}
	return nil
}
