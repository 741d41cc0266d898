package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

// TestSweep: expired sessions, verification rows and stale rateLimit rows go, in batches of at
// most Batch rows; live ones and sessions inside the margin stay.
func TestSweep(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
		tn := store.NewTime(now)
		if err := st.CreateUser(ctx, newUser("u1", "a@example.com", tn)); err != nil {
			t.Fatal(err)
		}
		ip := ""
		addSession := func(id string, exp time.Time) {
			t.Helper()
			s := &store.Session{ID: id, Token: "tok-" + id, UserID: "u1", CreatedAt: tn, UpdatedAt: tn,
				ExpiresAt: store.NewTime(exp), IPAddress: &ip, UserAgent: &ip}
			if err := st.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 5 {
			addSession(fmt.Sprintf("old%d", i), now.Add(-time.Hour-time.Duration(i)*time.Minute))
		}
		addSession("margin", now.Add(-30*time.Second)) // expired, but inside the margin
		addSession("live", now.Add(time.Hour))
		for i, exp := range []time.Time{now.Add(-time.Minute), now.Add(-time.Second), now.Add(time.Minute)} {
			v := &store.Verification{ID: fmt.Sprintf("v%d", i), Identifier: fmt.Sprintf("id%d", i), Value: "x",
				ExpiresAt: store.NewTime(exp), CreatedAt: tn, UpdatedAt: tn}
			if err := st.CreateVerification(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.EnsureRateLimitTable(ctx); err != nil {
			t.Fatal(err)
		}
		for i, last := range []time.Time{now.Add(-48 * time.Hour), now.Add(-time.Minute)} {
			if _, _, err := st.RateLimitConsume(ctx, fmt.Sprintf("r%d", i), fmt.Sprintf("k%d", i), last.UnixMilli(), 10_000, 10); err != nil {
				t.Fatal(err)
			}
		}

		n, err := st.Sweep(ctx, store.SweepOptions{Now: now, SessionMargin: time.Minute, RateLimitAge: 24 * time.Hour, Batch: 2})
		if err != nil {
			t.Fatalf("Sweep: %v", err)
		}
		if n.Sessions != 5 || n.Verifications != 2 || n.RateLimits != 1 {
			t.Errorf("Sweep counts = %+v, want 5 sessions, 2 verifications, 1 rateLimit", n)
		}
		// 5 sessions in batches of 2: 3 statements; 2 verifications: 2 (the second finds none
		// left); 1 rateLimit row: 1.
		if n.Batches != 6 {
			t.Errorf("Sweep ran %d delete statements, want 6 (batches of at most 2 rows)", n.Batches)
		}
		for _, tok := range []string{"tok-margin", "tok-live"} {
			if _, _, err := st.SessionByToken(ctx, tok); err != nil {
				t.Errorf("session %s: %v, want it kept", tok, err)
			}
		}
		if _, _, err := st.SessionByToken(ctx, "tok-old0"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired session: err = %v, want ErrNotFound", err)
		}
		if _, err := st.FindVerification(ctx, "id2", tn); err != nil {
			t.Errorf("live verification: %v, want it kept", err)
		}
		// The live rateLimit counter still counts: its window has not restarted.
		ok, last, err := st.RateLimitConsume(ctx, "r9", "k1", now.Add(-time.Minute).UnixMilli()+1, 10_000, 1)
		if err != nil || ok || last != now.Add(-time.Minute).UnixMilli() {
			t.Errorf("live rateLimit row after sweep: allowed=%v last=%d err=%v, want the row kept", ok, last, err)
		}

		// A second sweep finds nothing.
		n, err = st.Sweep(ctx, store.SweepOptions{Now: now, SessionMargin: time.Minute, RateLimitAge: 24 * time.Hour, Batch: 2})
		if err != nil || n.Sessions+n.Verifications+n.RateLimits != 0 {
			t.Errorf("second Sweep = %+v, %v; want nothing deleted", n, err)
		}
	})
}

// TestSweepOneReplicaAtATime: two stores on one PostgreSQL database (two replicas); while one
// sweeps, the other's sweep is skipped with ErrSweepBusy, and afterwards it may sweep again.
func TestSweepOneReplicaAtATime(t *testing.T) {
	u := storetest.PostgresURL(t)
	ctx := context.Background()
	open := func() *store.Store {
		st, err := store.Open(ctx, store.Config{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	a, b := open(), open()
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var during error
	_, err := a.Sweep(ctx, store.SweepOptions{Now: now, Batch: 10, Locked: func() {
		_, during = b.Sweep(ctx, store.SweepOptions{Now: now, Batch: 10})
	}})
	if err != nil {
		t.Fatalf("first sweeper: %v", err)
	}
	if !errors.Is(during, store.ErrSweepBusy) {
		t.Errorf("second sweeper during the first: err = %v, want ErrSweepBusy", during)
	}
	if _, err := b.Sweep(ctx, store.SweepOptions{Now: now, Batch: 10}); err != nil {
		t.Errorf("second sweeper after the first finished: %v, want it to run", err)
	}
}

// Sweeper.Once adds each sweep's counts to its Stats (what the metrics read) and logs one
// summary line with the counts.
func TestSweeperStatsAndLog(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tn := store.NewTime(now)
	for i := range 3 {
		v := &store.Verification{ID: fmt.Sprintf("v%d", i), Identifier: "i", Value: "x",
			ExpiresAt: store.NewTime(now.Add(-time.Minute)), CreatedAt: tn, UpdatedAt: tn}
		if err := st.CreateVerification(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	w := &store.Sweeper{St: st, Interval: time.Hour, Now: func() time.Time { return now },
		Options: store.SweepOptions{Batch: 2}, Log: slog.New(slog.NewTextHandler(&buf, nil))}
	if _, err := w.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.Stats.Verifications.Load(); got != 3 {
		t.Errorf("Stats.Verifications = %d, want 3", got)
	}
	if got := w.Stats.Runs.Load(); got != 2 {
		t.Errorf("Stats.Runs = %d, want 2", got)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "msg=sweep") || !strings.Contains(lines[0], "verifications=3") ||
		!strings.Contains(lines[1], "verifications=0") {
		t.Errorf("log = %q, want one sweep line per run with its counts", buf.String())
	}
}
