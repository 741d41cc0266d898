package session

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// SharedStore is a cache of validated sessions shared by all replicas (Redis, see store.Redis).
// It is a second level behind each process's own cache: a replica that has not seen a session
// yet finds it there instead of in the database. Every method may fail; the manager then simply
// uses the database.
type SharedStore interface {
	SessionEpoch(ctx context.Context) (string, error)
	LoadSession(ctx context.Context, hash string) ([]byte, bool, error)
	SaveSession(ctx context.Context, hash, userID string, data []byte, ttl time.Duration, epoch string) error
	DropSession(ctx context.Context, hash string) error
	DropUserSessions(ctx context.Context, userID string) error
}

// sharedTTL bounds how long a shared copy lives, which also bounds staleness in the one case
// invalidation cannot reach it (Redis unreachable at the moment of a revocation).
const sharedTTL = 30 * time.Second

// SetSharedStore adds the replica-wide session cache.
func (m *Manager) SetSharedStore(s SharedStore) { m.shared = s }

func (m *Manager) sharedUsable() bool {
	return m.shared != nil && m.cache != nil && m.cache.healthy.Load()
}

// sharedEpoch reads the invalidation epoch before a database read; "" means do not share.
func (m *Manager) sharedEpoch(ctx context.Context) string {
	if !m.sharedUsable() {
		return ""
	}
	e, err := m.shared.SessionEpoch(ctx)
	if err != nil {
		return ""
	}
	return e
}

func (m *Manager) sharedLoad(ctx context.Context, key entryKey, token string) (*Auth, bool) {
	if !m.sharedUsable() {
		return nil, false
	}
	data, ok, err := m.shared.LoadSession(ctx, key.String())
	if err != nil || !ok {
		return nil, false
	}
	var a Auth
	if json.Unmarshal(data, &a) != nil || a.Session.Token != token {
		return nil, false
	}
	return &a, true
}

func (m *Manager) sharedSave(ctx context.Context, key entryKey, a *Auth, epoch string, now time.Time) {
	if epoch == "" || !m.sharedUsable() || entrySize(a, m.cols) > maxEntryBytes {
		return
	}
	ttl := a.Session.ExpiresAt.Sub(now)
	if ttl > sharedTTL {
		ttl = sharedTTL
	}
	if ttl <= 0 {
		return
	}
	data, err := json.Marshal(a)
	if err != nil {
		return
	}
	_ = m.shared.SaveSession(ctx, key.String(), a.User.ID, data, ttl, epoch)
}

func (m *Manager) sharedDrop(key string) {
	if m.shared != nil {
		_ = m.shared.DropSession(context.Background(), key)
	}
}

func (m *Manager) sharedDropUser(userID string) {
	if m.shared != nil {
		_ = m.shared.DropUserSessions(context.Background(), userID)
	}
}

// tokenMessageKey extracts the token hash of a "t:<hash>[:<user id>]" message.
func tokenMessageKey(msg string) string {
	key, _, _ := strings.Cut(strings.TrimPrefix(msg, msgToken), ":")
	return key
}
