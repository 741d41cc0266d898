package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

func bearer(token string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func mustUser(t *testing.T, st *store.Store, id string) {
	t.Helper()
	now := store.NewTime(time.Now())
	if err := st.CreateUser(context.Background(), &store.User{ID: id, Name: id, Email: id + "@example.com", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

// instance is one server process's session manager, listening for invalidations like main does.
func instance(t *testing.T, st *store.Store) *session.Manager {
	m := session.New(session.Config{Secret: []byte("secret-secret-secret-secret-secret")}, st)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{}, 1)
	m.SetCacheHealthy(st.Dialect() != store.Postgres)
	go st.Listen(ctx, store.SessionChannel, m.HandleInvalidation, func(ok bool) {
		m.SetCacheHealthy(ok)
		if ok {
			select {
			case ready <- struct{}{}:
			default:
			}
		}
	})
	t.Cleanup(cancel)
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("listener never became ready")
	}
	return m
}

// eventually polls until cond holds or a second has passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within one second", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A session cached by instance B is refused by B within a second of being revoked anywhere:
// through instance A, or straight in the database (as a Better-Auth server sharing it would).
func TestRevocationReachesOtherInstances(t *testing.T) {
	st := storetest.OpenPostgres(t)
	a, b := instance(t, st), instance(t, st)
	ctx := context.Background()
	mustUser(t, st, "u1")
	valid := func(m *session.Manager, token string) bool {
		got, err := m.Get(ctx, httptest.NewRecorder(), bearer(token), session.GetOptions{})
		return err == nil && got != nil
	}
	s1, _ := a.Create(ctx, nil, "u1", session.Meta{}, false)
	if !valid(b, s1.Token) || !valid(b, s1.Token) { // the second call is served from B's cache
		t.Fatal("B does not accept a fresh session")
	}
	if err := a.Revoke(ctx, s1.Token); err != nil {
		t.Fatal(err)
	}
	if valid(a, s1.Token) {
		t.Error("A still accepts the session it revoked")
	}
	eventually(t, "B refusing the session revoked on A", func() bool { return !valid(b, s1.Token) })

	s2, _ := a.Create(ctx, nil, "u1", session.Meta{}, false)
	valid(b, s2.Token)
	if err := st.ExecAdmin(ctx, `delete from "session" where "userId" = 'u1'`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B refusing a session deleted in the database", func() bool { return !valid(b, s2.Token) })

	s3, _ := a.Create(ctx, nil, "u1", session.Meta{}, false)
	valid(b, s3.Token)
	if err := st.ExecAdmin(ctx, `delete from "user" where "id" = 'u1'`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B refusing the session of a deleted user", func() bool { return !valid(b, s3.Token) })
}

// Without a working notification channel the cache stands aside: every read goes to the database.
func TestCacheBypassedWhileUnhealthy(t *testing.T) {
	st := storetest.OpenSQLite(t)
	m := session.New(session.Config{Secret: []byte("secret-secret-secret-secret-secret")}, st)
	ctx := context.Background()
	mustUser(t, st, "u2")
	s, _ := m.Create(ctx, nil, "u2", session.Meta{}, false)
	if got, _ := m.Get(ctx, httptest.NewRecorder(), bearer(s.Token), session.GetOptions{}); got == nil {
		t.Fatal("session not accepted")
	}
	m.SetCacheHealthy(false)
	_ = st.ExecAdmin(ctx, `delete from "session"`)
	if got, _ := m.Get(ctx, httptest.NewRecorder(), bearer(s.Token), session.GetOptions{}); got != nil {
		t.Error("an unhealthy cache served a session deleted behind its back")
	}
}

// With Redis as the replica-wide cache: B finds a session A validated, a revocation on A reaches B
// within a second, and a Redis outage falls back to the database instead of signing anyone out.
func TestSharedRedisCache(t *testing.T) {
	redisURL := os.Getenv("TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("TEST_REDIS_URL is not set")
	}
	st := storetest.OpenPostgres(t)
	ctx := context.Background()
	a, b := instance(t, st), instance(t, st)
	ra, err := store.OpenRedis(ctx, redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := store.OpenRedis(ctx, redisURL)
	if err != nil {
		t.Fatal(err)
	}
	a.SetSharedStore(ra)
	b.SetSharedStore(rb)
	mustUser(t, st, "u3")
	valid := func(m *session.Manager, token string) bool {
		got, err := m.Get(ctx, httptest.NewRecorder(), bearer(token), session.GetOptions{})
		return err == nil && got != nil
	}
	s, _ := a.Create(ctx, nil, "u3", session.Meta{}, false)
	if !valid(a, s.Token) {
		t.Fatal("A does not accept its session")
	}
	if _, found, _ := ra.LoadSession(ctx, sessionKey(s.Token)); !found {
		t.Fatal("A did not share the validated session")
	}
	if !valid(b, s.Token) {
		t.Fatal("B does not accept the session")
	}
	if err := a.Revoke(ctx, s.Token); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B refusing a session revoked on A", func() bool { return !valid(b, s.Token) })
	if _, found, _ := rb.LoadSession(ctx, sessionKey(s.Token)); found {
		t.Error("the revoked session is still shared")
	}

	// Outage: B's Redis connection is gone; sessions still validate from the database.
	s2, _ := a.Create(ctx, nil, "u3", session.Meta{}, false)
	rb.Close()
	if !valid(b, s2.Token) {
		t.Error("a Redis outage signed the user out")
	}
}

// sessionKey mirrors the manager's cache key: the first 16 bytes of sha256(token), in hex.
func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:16])
}
