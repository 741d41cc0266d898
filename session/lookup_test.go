package session_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

// Many requests at once, each with its own token (live, revoked, or never issued), all miss the
// cache and are read in batches: every one gets its own session, or none, never another's.
func TestConcurrentLookupsGetTheirOwnSession(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		m := session.New(session.Config{Secret: []byte("secret-secret-secret-secret-secret"), DisableCache: true}, st)
		const users = 8
		var tokens []string
		owner := map[string]string{}
		for i := 0; i < users; i++ {
			id := fmt.Sprintf("batch-user-%d", i)
			mustUser(t, st, id)
			for j := 0; j < 4; j++ {
				s, err := m.Create(ctx, nil, id, session.Meta{}, false)
				if err != nil {
					t.Fatal(err)
				}
				tokens = append(tokens, s.Token)
				owner[s.Token] = id
			}
		}
		revoked := tokens[3]
		if err := m.Revoke(ctx, revoked); err != nil {
			t.Fatal(err)
		}
		delete(owner, revoked)
		tokens = append(tokens, "never-issued-token", "another-unknown-token")

		var wg sync.WaitGroup
		for round := 0; round < 6; round++ {
			for _, tok := range tokens {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a, err := m.Get(ctx, httptest.NewRecorder(), bearer(tok), session.GetOptions{})
					if err != nil {
						t.Errorf("Get: %v", err)
						return
					}
					want, live := owner[tok]
					switch {
					case !live && a != nil:
						t.Errorf("token %.8s… (revoked or unknown) gave the session of %s", tok, a.User.ID)
					case live && a == nil:
						t.Errorf("token %.8s… of %s gave no session", tok, want)
					case live && (a.User.ID != want || a.Session.Token != tok):
						t.Errorf("token %.8s… of %s gave %s's session", tok, want, a.User.ID)
					}
				}()
			}
		}
		wg.Wait()
	})
}

// A request whose context ends while its read is queued gets the context's error, and the reads
// of the others are not disturbed.
func TestLookupHonoursCancellation(t *testing.T) {
	st := storetest.OpenSQLite(t)
	m := session.New(session.Config{Secret: []byte("secret-secret-secret-secret-secret"), DisableCache: true}, st)
	mustUser(t, st, "cancel-user")
	s, err := m.Create(context.Background(), nil, "cancel-user", session.Meta{}, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Get(ctx, httptest.NewRecorder(), bearer(s.Token), session.GetOptions{}); err == nil {
		t.Error("Get with a cancelled context succeeded")
	}
	a, err := m.Get(context.Background(), httptest.NewRecorder(), bearer(s.Token), session.GetOptions{})
	if err != nil || a == nil || a.User.ID != "cancel-user" {
		t.Errorf("Get after a cancelled one = %v, %v", a, err)
	}
}
