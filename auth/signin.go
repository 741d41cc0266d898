package auth

import (
	"context"
	"fmt"

	"authserver/auth/plugin"
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
}

// CompleteSignIn is where every way of signing in ends, and the only place a sign-in creates a
// session: it runs the plugins' BeforeSession hooks, creates the session (in db when not nil, so
// sign-up can create user and session in one transaction) and runs the AfterSession hooks, which
// may add cookies to the answer. A hook's refusal comes back as is; a failure to store the session
// wraps ErrCreateSession.
func (s *Service) CompleteSignIn(ctx context.Context, db *store.Store, in SignInRequest) (*plugin.SignIn, error) {
	for _, p := range s.plugins {
		if h := p.Hooks.BeforeSession; h != nil {
			if err := h(ctx, &in.User, in.Method); err != nil {
				return nil, err
			}
		}
	}
	sess, err := s.sessions.Create(ctx, db, in.User.ID, in.Meta, in.DontRemember != nil && *in.DontRemember)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCreateSession, err)
	}
	if vals := s.userValues(in.Method); len(vals) > 0 {
		if db == nil {
			db = s.st
		}
		if err := db.SetUserFields(ctx, in.User.ID, vals, s.now()); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCreateSession, err)
		}
		// Sessions cached with the user's old row would print the old values.
		s.sessions.InvalidateUser(in.User.ID)
	}
	out := &plugin.SignIn{Method: in.Method, User: in.User, Session: *sess, DontRemember: in.DontRemember}
	for _, p := range s.plugins {
		if h := p.Hooks.AfterSession; h != nil {
			if err := h(ctx, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
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
