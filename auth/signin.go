package auth

import (
	"context"
	"fmt"
	"slices"
	"time"

	"authserver/auth/plugin"
	"authserver/mail"
	"authserver/session"
	"authserver/store"
)

// SignInRequest is a sign-in whose credentials were already checked: the user is known and gets a
// session unless a plugin refuses.
type SignInRequest struct {
	User store.User
	// Method is plugin.SignIn's Method ("email", a provider id, or empty).
	Method       string
	Meta         session.Meta
	DontRemember *bool // see plugin.SignIn
	// Password marks a sign-in by password, which the plugins' Challenge hooks may stop.
	Password bool
	// Incoming is the request, for the hooks; nil when there is none.
	Incoming plugin.Incoming
	// Cookies are added to the answer after the hooks' own.
	Cookies []plugin.Cookie
	// ExpiresIn, when not zero, is the session's life instead of the configured one, and
	// SessionValues are plugin session fields for the new row (plugin.Host.StartSession).
	ExpiresIn     time.Duration
	SessionValues map[string]store.Value
	// Rotation marks a session that replaces the caller's own after a change to the account's
	// security (which has an audit row of its own): it writes no sign-in row.
	Rotation bool
}

// CompleteSignIn is where every way of signing in ends, and the only place a sign-in creates a
// session: it runs the plugins' BeforeSession hooks, for a password sign-in their Challenge hooks
// (a challenge is returned as SignIn.Challenge, with no session), creates the session (in db when
// not nil, so sign-up can create user and session in one transaction) and runs the AfterSession
// hooks, which may add cookies to the answer, all in one transaction (db's, else a new one).
// A hook's refusal comes back as is; a failure to store the session wraps ErrCreateSession.
func (s *Service) CompleteSignIn(ctx context.Context, db *store.Store, in SignInRequest) (*plugin.SignIn, error) {
	for _, p := range s.plugins {
		if h := p.Hooks.BeforeSession; h != nil {
			hdb := db
			if hdb == nil {
				hdb = s.st
			}
			if err := h(ctx, hdb, &in.User, in.Method); err != nil {
				s.signInFailed(ctx, in.Method, &in.User, refusalReason(err))
				return nil, err
			}
		}
	}
	var cookies []plugin.Cookie
	if in.Password {
		a := &plugin.Attempt{User: in.User, Method: in.Method, Password: true, DontRemember: in.DontRemember,
			Meta: in.Meta, Incoming: in.Incoming, Host: s}
		for _, p := range s.plugins {
			if h := p.Hooks.Challenge; h != nil {
				ch, err := h(ctx, a)
				if err != nil {
					return nil, err
				}
				if ch != nil {
					return s.challenged(ctx, in, ch)
				}
			}
		}
		cookies = a.Cookies
	}
	if db != nil {
		return s.startSession(ctx, db, in, cookies)
	}
	// One transaction for the session, its audit row, the plugins' user fields and what the
	// AfterSession hooks write: a sign-in that fails half-way leaves no session nobody was given.
	var out *plugin.SignIn
	err := s.st.Atomic(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.startSession(ctx, s.st, in, cookies)
		return err
	})
	return out, err
}

// startSession is the end of CompleteSignIn: the session, its audit row (none for a Rotation),
// the plugins' user field values and the AfterSession hooks, all written in db, a transaction.
func (s *Service) startSession(ctx context.Context, db *store.Store, in SignInRequest, cookies []plugin.Cookie) (*plugin.SignIn, error) {
	var sess *store.Session
	var err error
	if in.ExpiresIn > 0 || len(in.SessionValues) > 0 {
		sess, err = s.newSession(ctx, db, in)
	} else {
		sess, err = s.sessions.Create(ctx, db, in.User.ID, in.Meta, in.DontRemember != nil && *in.DontRemember)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCreateSession, err)
	}
	if !in.Rotation {
		ev := plugin.AuditEvent{Event: "sign-in", UserID: in.User.ID, SessionID: sess.ID, Detail: map[string]any{"method": in.Method}}
		if err := s.Audit(ctx, db, ev); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCreateSession, err)
		}
	}
	if vals := s.userValues(in.Method); len(vals) > 0 {
		if err := db.SetUserFields(ctx, in.User.ID, vals, s.now()); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCreateSession, err)
		}
		// Sessions cached with the user's old row would print the old values.
		s.sessions.ForgetUser(ctx, in.User.ID)
	}
	out := &plugin.SignIn{Method: in.Method, User: in.User, Session: *sess, DontRemember: in.DontRemember,
		Cookies: cookies, Incoming: in.Incoming, DB: db, Host: s}
	for _, p := range s.plugins {
		if h := p.Hooks.AfterSession; h != nil {
			if err := h(ctx, out); err != nil {
				return nil, err
			}
		}
	}
	out.Cookies = append(out.Cookies, in.Cookies...)
	return out, nil
}

// challenged is a sign-in a Challenge hook stopped: no session, but the AfterSession hooks still
// run (with SignIn.Challenge set) so their cookies join the challenge answer, as Better-Auth's
// after-hooks run on a sign-in whose session the two-factor hook has just deleted.
func (s *Service) challenged(ctx context.Context, in SignInRequest, ch *plugin.Challenge) (*plugin.SignIn, error) {
	out := &plugin.SignIn{Method: in.Method, User: in.User, DontRemember: in.DontRemember,
		Challenge: ch, Incoming: in.Incoming, Host: s}
	for _, p := range s.plugins {
		if h := p.Hooks.AfterSession; h != nil {
			if err := h(ctx, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// FinishSignIn implements plugin.Host: the end of a sign-in that passed a plugin's challenge.
func (s *Service) FinishSignIn(ctx context.Context, in plugin.Finish) (*plugin.SignIn, error) {
	return s.CompleteSignIn(ctx, nil, SignInRequest{User: in.User, Method: in.Method, Meta: in.Meta,
		DontRemember: in.DontRemember, Incoming: in.Incoming, Cookies: in.Cookies})
}

// CreateUserAndSignIn implements plugin.Host: a user without a password is created and signed
// in, user and session in one transaction, so a refused or failed sign-in leaves no user behind.
func (s *Service) CreateUserAndSignIn(ctx context.Context, in plugin.NewUser) (*plugin.SignIn, error) {
	now := s.now()
	u := store.User{ID: session.NewID(), Name: in.Name, Email: in.Email, EmailVerified: in.EmailVerified, Image: in.Image,
		CreatedAt: now, UpdatedAt: now}
	if err := s.newUserValues(&u, in.Method); err != nil {
		return nil, err
	}
	if err := s.st.SetExtra(&u, in.Values); err != nil {
		return nil, err
	}
	var out *plugin.SignIn
	err := s.st.Atomic(ctx, func(ctx context.Context) error {
		tx := s.st // joins the transaction ctx now carries, as does every call made with ctx
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, plugin.AuditEvent{Event: "sign-up", UserID: u.ID, Detail: map[string]any{"method": in.Method}}); err != nil {
			return err
		}
		var err error
		out, err = s.CompleteSignIn(ctx, tx, SignInRequest{User: u, Method: in.Method, Meta: in.Meta,
			DontRemember: in.DontRemember, Incoming: in.Incoming})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveUser implements plugin.Host.
func (s *Service) RemoveUser(ctx context.Context, db *store.Store, userID string) error {
	if db == nil {
		db = s.st
	}
	if _, err := db.DeleteUser(ctx, userID); err != nil {
		return err
	}
	s.sessions.ForgetUser(ctx, userID)
	return nil
}

// userValues collects the plugins' user field values for a sign-in by method.
func (s *Service) userValues(method string) map[string]store.Value {
	var out map[string]store.Value
	for _, p := range s.plugins {
		if h := p.Hooks.UserValues; h != nil {
			for k, v := range h(method) {
				if out == nil {
					out = map[string]store.Value{}
				}
				out[k] = v
			}
		}
	}
	return out
}

// newUserValues writes the plugins' user field values for a sign-in by method into u, a user
// about to be created, as Better-Auth's user-create hooks do.
func (s *Service) newUserValues(u *store.User, method string) error {
	if vals := s.userValues(method); len(vals) > 0 {
		return s.st.SetExtra(u, vals)
	}
	return nil
}

// Plugins returns the enabled plugins in the order they were enabled, for the HTTP layer to
// mount their endpoints.
func (s *Service) Plugins() []plugin.Plugin { return s.plugins }

// RotateSession implements plugin.Host: a new session for user carrying old's client details,
// made as the end of any sign-in is (the plugins' session hooks run), then old is deleted.
func (s *Service) RotateSession(ctx context.Context, old store.Session, user store.User) (*plugin.SignIn, error) {
	meta := session.Meta{}
	if old.IPAddress != nil {
		meta.IPAddress = *old.IPAddress
	}
	if old.UserAgent != nil {
		meta.UserAgent = *old.UserAgent
	}
	out, err := s.CompleteSignIn(ctx, nil, SignInRequest{User: user, Meta: meta, Rotation: true})
	if err != nil {
		return nil, err
	}
	if err := s.sessions.Revoke(ctx, old.Token); err != nil {
		return nil, err
	}
	return out, nil
}

// SessionExpiresIn implements plugin.Host.
func (s *Service) SessionExpiresIn() time.Duration { return s.sessions.ExpiresIn() }

// Secret implements plugin.Host.
func (s *Service) Secret() []byte { return s.sessions.Secret() }

// Keys is the session manager's keyring (plugin.Host).
func (s *Service) Keys() session.Keys { return s.sessions.Keys() }

// Now implements plugin.Host.
func (s *Service) Now() time.Time { return s.cfg.Now() }

// SendCode implements plugin.Host.
func (s *Service) SendCode(kind, to, code string, expiresIn time.Duration, failed func(ctx context.Context)) {
	s.mail.deliverThen(kind, to, mail.Data{Code: code, Email: to, ExpiresIn: expiresIn}, failed)
}

// DeliverLink implements plugin.Host.
func (s *Service) DeliverLink(ctx context.Context, kind, to, link string, expiresIn time.Duration) error {
	return s.mail.deliverNow(ctx, kind, to, mail.Data{URL: link, Email: to, ExpiresIn: expiresIn})
}

// ProveEmail implements plugin.Host. The accounts, the sessions and the flag change in one
// transaction, so a failure leaves the user as it was.
func (s *Service) ProveEmail(ctx context.Context, userID string) (*store.User, error) {
	u, err := s.st.UserByID(ctx, userID)
	if err != nil || u.EmailVerified {
		return u, err
	}
	err = s.st.Atomic(ctx, func(ctx context.Context) error {
		tx := s.st // joins the transaction ctx now carries, as does every call made with ctx
		accounts, err := tx.AccountsByUser(ctx, userID)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			if err := tx.DeleteAccount(ctx, userID, a.ID); err != nil {
				return err
			}
		}
		if err := s.sessions.RevokeAll(ctx, tx, userID); err != nil {
			return err
		}
		u, err = tx.UpdateUserFields(ctx, userID, map[string]any{"emailVerified": true}, nil, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	// Sessions cached in this and other instances must stop working with the rows just deleted.
	s.sessions.ForgetUser(ctx, userID)
	return u, nil
}

// SetUserFields implements plugin.Host.
func (s *Service) SetUserFields(ctx context.Context, userID string, vals map[string]store.Value) (*store.User, error) {
	return s.UpdateUserColumns(ctx, userID, nil, vals)
}

// newSession creates a session with a plugin's life and field values (SignInRequest.ExpiresIn,
// SessionValues).
func (s *Service) newSession(ctx context.Context, db *store.Store, in SignInRequest) (*store.Session, error) {
	life := in.ExpiresIn
	if life <= 0 {
		life = s.sessions.ExpiresIn()
	}
	fields := s.st.Columns().Session
	var extra []store.Value
	for name, v := range in.SessionValues {
		i := slices.IndexFunc(fields, func(f store.Field) bool { return f.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("auth: session field %q is not registered", name)
		}
		for len(extra) < len(fields) {
			extra = append(extra, store.Value{})
		}
		extra[i] = v
	}
	return s.sessions.CreateWith(ctx, db, in.User.ID, in.Meta, life, extra)
}

// StartSession implements plugin.Host.
func (s *Service) StartSession(ctx context.Context, in plugin.NewSession) (*plugin.SignIn, error) {
	return s.CompleteSignIn(ctx, nil, SignInRequest{User: in.User, Meta: in.Meta, DontRemember: in.DontRemember,
		Incoming: in.Incoming, ExpiresIn: in.ExpiresIn, SessionValues: in.Values})
}

// RevokeSession implements plugin.Host.
func (s *Service) RevokeSession(ctx context.Context, token string) error {
	return s.sessions.Revoke(ctx, token)
}

// RevokeUserSessions implements plugin.Host.
func (s *Service) RevokeUserSessions(ctx context.Context, userID string) error {
	return s.sessions.RevokeAll(ctx, nil, userID)
}

// UpdateUserColumns implements plugin.Host.
func (s *Service) UpdateUserColumns(ctx context.Context, userID string, core map[string]any, vals map[string]store.Value) (*store.User, error) {
	u, err := s.st.UpdateUserFields(ctx, userID, core, vals, s.now())
	if err != nil {
		return nil, err
	}
	s.sessions.ForgetUser(ctx, userID)
	return u, nil
}

// CheckPassword implements plugin.Host.
func (s *Service) CheckPassword(password string, minimum bool) error {
	if minimum && passwordLength(password) < s.cfg.MinPasswordLength {
		return ErrPasswordTooShort
	}
	return s.checkNotTooLong(password)
}

// HashPassword implements plugin.Host.
func (s *Service) HashPassword(ctx context.Context, password string) (string, error) {
	return s.hasher.Hash(ctx, password)
}

// SetSessionFields implements plugin.Host.
func (s *Service) SetSessionFields(ctx context.Context, token string, vals map[string]store.Value) (*store.Session, error) {
	sess, err := s.st.SetSessionFields(ctx, token, vals, s.now())
	s.sessions.ForgetToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// SendMail implements plugin.Host: unlike SendLink it waits for the delivery and returns its
// error, so the caller can refuse the request when the mail did not go out.
func (s *Service) SendMail(ctx context.Context, m plugin.Mail) error {
	return s.mail.deliverNow(ctx, m.Kind, m.To, mail.Data{URL: m.URL, Email: m.To, Organization: m.Organization,
		Inviter: m.Inviter, InviterEmail: m.InviterEmail, Role: m.Role, ExpiresIn: m.ExpiresIn})
}
