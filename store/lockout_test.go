package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"authserver/store"
	"authserver/store/storetest"
)

// Failures recorded at once for a new key (replicas racing to create its row) are all counted;
// an old count starts again, and a clear forgets it.
func TestLockoutCounts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.EnsureRateLimitTable(ctx); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.LockoutFail(ctx, fmt.Sprintf("id%d", i), "lockout:k", 1000, 60_000); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("LockoutFail: %v", err)
		}
		if got, last, err := st.LockoutState(ctx, "lockout:k"); err != nil || got != n || last != 1000 {
			t.Errorf("LockoutState = %d, %d, %v; want %d, 1000", got, last, err, n)
		}
		if got, err := st.LockoutFail(ctx, "idx", "lockout:k", 1000+60_001, 60_000); err != nil || got != 1 {
			t.Errorf("failure after the reset period = %d, %v; want a new count of 1", got, err)
		}
		if err := st.LockoutClear(ctx, "lockout:k"); err != nil {
			t.Fatal(err)
		}
		if got, _, err := st.LockoutState(ctx, "lockout:k"); err != nil || got != 0 {
			t.Errorf("after clear = %d, %v; want 0", got, err)
		}
	})
}

// The Redis counters follow the same rule as the database's.
func TestRedisLockoutCounts(t *testing.T) {
	r := openTestRedis(t, liveRedisURL(t))
	ctx := context.Background()
	key := uniqueKey("test:")
	defer r.LockoutClear(ctx, key)
	if got, last, err := r.LockoutState(ctx, key); err != nil || got != 0 || last != 0 {
		t.Fatalf("new key = %d, %d, %v; want 0, 0", got, last, err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.LockoutFail(ctx, key, 1000, 60_000); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, last, err := r.LockoutState(ctx, key); err != nil || got != 8 || last != 1000 {
		t.Errorf("LockoutState = %d, %d, %v; want 8, 1000", got, last, err)
	}
	if got, err := r.LockoutFail(ctx, key, 1000+60_001, 60_000); err != nil || got != 1 {
		t.Errorf("failure after the reset period = %d, %v; want 1", got, err)
	}
	if err := r.LockoutClear(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got, _, err := r.LockoutState(ctx, key); err != nil || got != 0 {
		t.Errorf("after clear = %d, %v; want 0", got, err)
	}
}
