package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

// TestAtomicJoinsEveryStatementMadeWithItsContext: statements made through the root store with
// Atomic's context commit or roll back together; a nested Atomic is a savepoint whose
// after-commit callbacks wait for the outer commit; a context that outlives the transaction
// talks to the database directly again.
func TestAtomicJoinsEveryStatementMadeWithItsContext(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
		entry := func(id string) *store.AuditEntry {
			return &store.AuditEntry{ID: id, CreatedAt: store.NewTime(now), Event: "sign-in", Outcome: "success", Detail: "{}"}
		}
		count := func() int64 {
			_, total, err := st.AuditLog(ctx, store.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return total
		}

		boom := errors.New("boom")
		var ran []string
		err := st.Atomic(ctx, func(ctx context.Context) error {
			if !store.InTransaction(ctx) {
				t.Error("InTransaction is false inside Atomic")
			}
			if err := st.RecordAudit(ctx, entry("a1")); err != nil {
				return err
			}
			store.AfterCommit(ctx, func() { ran = append(ran, "rolled-back") })
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Atomic = %v, want fn's error", err)
		}
		if n := count(); n != 0 || len(ran) != 0 {
			t.Fatalf("after a rollback: %d rows, callbacks %v; want none", n, ran)
		}

		var leaked context.Context
		err = st.Atomic(ctx, func(ctx context.Context) error {
			leaked = ctx
			if err := st.RecordAudit(ctx, entry("b1")); err != nil {
				return err
			}
			// A nested Atomic that fails rolls back only its own statements.
			_ = st.Atomic(ctx, func(ctx context.Context) error {
				_ = st.RecordAudit(ctx, entry("b2"))
				return boom
			})
			// One that succeeds keeps its statements and defers its callbacks to the outer commit.
			if err := st.Atomic(ctx, func(ctx context.Context) error {
				store.AfterCommit(ctx, func() { ran = append(ran, "inner") })
				return st.Tx(ctx, func(tx *store.Store) error { return tx.RecordAudit(ctx, entry("b3")) })
			}); err != nil {
				return err
			}
			if len(ran) != 0 {
				t.Errorf("callbacks ran before the commit: %v", ran)
			}
			store.AfterCommit(ctx, func() { ran = append(ran, "outer") })
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 {
			t.Fatalf("after the commit: %d rows, want 2 (b1, b3)", n)
		}
		if len(ran) != 2 || ran[0] != "inner" || ran[1] != "outer" {
			t.Fatalf("callbacks = %v, want [inner outer]", ran)
		}
		if store.InTransaction(leaked) {
			t.Fatal("a context kept past Atomic still reports a transaction")
		}
		if err := st.RecordAudit(leaked, entry("c1")); err != nil {
			t.Fatalf("a statement with a context kept past Atomic: %v", err)
		}
		if n := count(); n != 3 {
			t.Fatalf("%d rows, want 3", n)
		}
		store.AfterCommit(ctx, func() { ran = append(ran, "now") })
		if ran[len(ran)-1] != "now" {
			t.Fatal("AfterCommit outside a transaction did not run at once")
		}
	})
}
