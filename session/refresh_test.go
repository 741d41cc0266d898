package session

import (
	"context"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

// A refresh that read the row before another request refreshed it (the race the concurrent HTTP
// test can only hit by chance) neither writes its own, later expiry nor reports one: it answers
// with what the first refresh stored, and the row keeps it.
func TestStaleRefreshKeepsTheFirstWrite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		t0 := time.Now().UTC().Truncate(time.Millisecond)
		now := t0
		m := New(Config{Secret: []byte("secret-secret-secret-secret-secret"), Now: func() time.Time { return now }}, st)
		u := &store.User{ID: "stale-user", Name: "S", Email: "stale@example.com", CreatedAt: store.NewTime(t0), UpdatedAt: store.NewTime(t0)}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		s, err := m.Create(ctx, nil, u.ID, Meta{}, false)
		if err != nil {
			t.Fatal(err)
		}
		stale := *s // what both requests read before either wrote

		first := t0.Add(25 * time.Hour)
		a, err := m.extend(ctx, s.Token, &stale, first)
		if err != nil {
			t.Fatal(err)
		}
		wantExp := store.NewTime(first.Add(m.ExpiresIn()))
		if !a.Session.ExpiresAt.Equal(wantExp.Time) || !a.Session.UpdatedAt.Equal(first) {
			t.Fatalf("first refresh = expires %v updated %v, want %v %v", a.Session.ExpiresAt, a.Session.UpdatedAt, wantExp, first)
		}

		b, err := m.extend(ctx, s.Token, &stale, first.Add(7*time.Millisecond))
		if err != nil {
			t.Fatalf("the second, stale refresh failed: %v", err)
		}
		if !b.Session.ExpiresAt.Equal(wantExp.Time) || !b.Session.UpdatedAt.Equal(first) {
			t.Errorf("stale refresh answered expires %v updated %v, want the first refresh's %v %v", b.Session.ExpiresAt, b.Session.UpdatedAt, wantExp, first)
		}
		row, _, err := st.SessionByToken(ctx, s.Token)
		if err != nil {
			t.Fatal(err)
		}
		if !row.ExpiresAt.Equal(wantExp.Time) || !row.UpdatedAt.Equal(first) {
			t.Errorf("row = expires %v updated %v, want the first refresh's %v %v", row.ExpiresAt, row.UpdatedAt, wantExp, first)
		}
	})
}
