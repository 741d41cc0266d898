package session

import (
	"context"
	"net/http"
)

// RequestAuth authenticates a request by a credential other than the session cookie or bearer
// token (an API key header). ok false leaves the request to the cookie and bearer; ok true
// answers it: with an Auth (the caller) or an error (the request is refused).
type RequestAuth func(ctx context.Context, r *http.Request) (a *Auth, ok bool, err error)

// SetRequestAuth makes Get and Peek try f before the cookie and bearer token. Set it before
// serving; it is not safe to change while requests run.
func (m *Manager) SetRequestAuth(f RequestAuth) { m.requestAuth = f }

// InvalidationObserver is told of every invalidation the manager applies, so a cache of other
// credentials kept elsewhere (api-key's verified keys) drops entries as promptly as the session
// cache does. Both methods must be quick and must not call back into the manager.
type InvalidationObserver interface {
	// Invalidate gets each message as HandleInvalidation takes it ("t:…", "u:<user id>", "*", and
	// prefixes the manager does not know), and "u:<user id>" for InvalidateUser.
	Invalidate(msg string)
	// CacheHealthy says whether invalidations from other instances are being received; while they
	// are not, the observer's cache must stand aside. It is called once at registration with the
	// current state (false when the session cache is off).
	CacheHealthy(ok bool)
}

// AddInvalidationObserver registers o. Call it before serving.
func (m *Manager) AddInvalidationObserver(o InvalidationObserver) {
	m.observers = append(m.observers, o)
	o.CacheHealthy(m.cache != nil && m.cache.healthy.Load())
}

func (m *Manager) tellInvalidate(msg string) {
	for _, o := range m.observers {
		o.Invalidate(msg)
	}
}

func (m *Manager) tellHealthy(ok bool) {
	for _, o := range m.observers {
		o.CacheHealthy(ok)
	}
}

// external runs the request authenticator, if any.
func (m *Manager) external(ctx context.Context, r *http.Request) (*Auth, bool, error) {
	if m.requestAuth == nil {
		return nil, false, nil
	}
	return m.requestAuth(ctx, r)
}
