package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

// TestAuditRetention: the sweep deletes audit rows older than AuditRetention and keeps the
// rest; with no retention it keeps all. The filter lists one user's rows newest first.
func TestAuditRetention(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
		for i, age := range []time.Duration{100 * 24 * time.Hour, 91 * 24 * time.Hour, 89 * 24 * time.Hour, time.Hour} {
			uid := "u1"
			if i%2 == 1 {
				uid = "u2"
			}
			e := &store.AuditEntry{ID: fmt.Sprintf("a%d", i), CreatedAt: store.NewTime(now.Add(-age)), Event: "sign-in",
				UserID: &uid, Outcome: "success", Detail: "{}"}
			if err := st.RecordAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.Sweep(ctx, store.SweepOptions{Now: now, Batch: 1}); err != nil {
			t.Fatal(err)
		}
		if _, total, _ := st.AuditLog(ctx, store.AuditFilter{}); total != 4 {
			t.Fatalf("no retention: %d rows left, want 4", total)
		}
		n, err := st.Sweep(ctx, store.SweepOptions{Now: now, Batch: 1, AuditRetention: 90 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if n.AuditRows != 2 {
			t.Fatalf("swept %d audit rows, want 2", n.AuditRows)
		}
		rows, total, err := st.AuditLog(ctx, store.AuditFilter{UserID: "u1"})
		if err != nil || total != 1 || len(rows) != 1 || rows[0].ID != "a2" {
			t.Fatalf("u1 rows = %+v total %d err %v, want a2 only", rows, total, err)
		}
		rows, _, _ = st.AuditLog(ctx, store.AuditFilter{})
		if len(rows) != 2 || rows[0].ID != "a3" || rows[1].ID != "a2" {
			t.Fatalf("rows = %+v, want a3 then a2", rows)
		}
	})
}

// TestWebhookLock: on PostgreSQL a second deliverer finds the lock held and does nothing while
// the first delivers; SQLite serves one process, so there the lock is always granted.
func TestWebhookLock(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var inner bool
		ran, err := st.WithWebhookLock(ctx, func() error {
			got, err := st.WithWebhookLock(ctx, func() error { inner = true; return nil })
			if got != inner {
				t.Errorf("reported %v, ran %v", got, inner)
			}
			return err
		})
		if err != nil || !ran {
			t.Fatalf("first lock: %v %v", ran, err)
		}
		if want := st.Dialect() != store.Postgres; inner != want {
			t.Fatalf("second deliverer ran = %v, want %v", inner, want)
		}
		if ran, _ := st.WithWebhookLock(ctx, func() error { return nil }); !ran {
			t.Fatal("the lock was not released")
		}
	})
}
