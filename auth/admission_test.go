package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeHashes replaces h's scrypt with a hash that takes no CPU and finishes when gate is closed,
// and h's clock with one that stands still unless the hash advances it by cost per job, so the
// admission rule is tested on exact figures rather than on timing.
type fakeHashes struct {
	mu    sync.Mutex
	t     time.Time
	cost  time.Duration
	gate  chan struct{}
	count int
}

func installFake(h *Hasher, cost time.Duration, gate chan struct{}) *fakeHashes {
	f := &fakeHashes{t: time.Unix(1_800_000_000, 0), cost: cost, gate: gate}
	h.now = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
	h.compute = func(a, b *hashJob, _, _ []uint32) {
		if f.gate != nil {
			<-f.gate
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		n := 1
		if b != nil {
			n = 2
			b.key = []byte("fake")
		}
		a.key = []byte("fake")
		f.count += n
		f.t = f.t.Add(f.cost * time.Duration(n))
	}
	return f
}

// waitFor polls cond (state changes happen in goroutines the test started).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *Hasher) lineLength() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.computing + h.queue.Len()
}

func TestExpectedWaitRule(t *testing.T) {
	for _, tc := range []struct {
		ahead int
		want  time.Duration
	}{
		{0, 0},
		{30, 600 * time.Millisecond},
		{100, 2 * time.Second}, // exactly the default bound: admitted (the bound is inclusive)
		{101, 2020 * time.Millisecond},
		{300, 6 * time.Second},
	} {
		if got := expectedWait(tc.ahead, 40*time.Millisecond, 2); got != tc.want {
			t.Errorf("expectedWait(%d ahead, 40 ms, 2 workers) = %v, want %v", tc.ahead, got, tc.want)
		}
	}
}

// burst starts n derivations at once on h and returns, once every one has either been refused or
// is computing or waiting, the refusals; the rest finish after the gate opens, reported on done.
func burst(t *testing.T, h *Hasher, n int) (refused []*BusyError, done chan error) {
	t.Helper()
	done = make(chan error, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			_, err := h.derive(context.Background(), "pw", "00")
			var be *BusyError
			if errors.As(err, &be) {
				mu.Lock()
				refused = append(refused, be)
				mu.Unlock()
				wg.Done()
				return
			}
			done <- err
		}()
	}
	waitFor(t, "the burst to be admitted or refused", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(refused)+h.lineLength() == n
	})
	return refused, done
}

// At 40 ms per hash on 2 workers with the default 2 s bound, bursts of 30 and 100 are admitted
// whole (the 100th has 99 ahead: 1.98 s); of 300, the first 101 are admitted (the 101st has 100
// ahead, exactly 2 s) and the other 199 refused at once with a Retry-After past the bound. The
// admitted ones all finish, and no more tables exist than the workers can use.
func TestHasherAdmitsByExpectedWait(t *testing.T) {
	for _, tc := range []struct{ n, admitted int }{{30, 30}, {100, 100}, {300, 101}} {
		h := NewHasher(HasherConfig{Concurrency: 2})
		gate := make(chan struct{})
		f := installFake(h, 40*time.Millisecond, gate)
		refused, done := burst(t, h, tc.n)
		if got := tc.n - len(refused); got != tc.admitted {
			t.Errorf("burst of %d at 40 ms on 2 workers: %d admitted, want %d", tc.n, got, tc.admitted)
		}
		for _, be := range refused {
			if be.RetryAfter <= 2*time.Second || !errors.Is(be, ErrBusy) {
				t.Errorf("refusal %+v: want errors.Is ErrBusy and RetryAfter past the 2 s bound", be)
				break
			}
		}
		close(gate)
		for i := 0; i < tc.admitted; i++ {
			if err := <-done; err != nil {
				t.Errorf("admitted hash failed: %v", err)
			}
		}
		if f.count != tc.admitted {
			t.Errorf("%d hashes computed, want %d", f.count, tc.admitted)
		}
		perWorker := int64(1)
		if h.pairs {
			perWorker = 2
		}
		if peak := h.peakTables.Load(); peak > 2*perWorker || peak == 0 {
			t.Errorf("burst of %d: %d scrypt tables allocated at once, want 1..%d (2 workers)", tc.n, peak, 2*perWorker)
		}
		if h.lineLength() != 0 || h.busy != 0 {
			t.Errorf("after the burst: line %d, busy workers %d; want 0, 0", h.lineLength(), h.busy)
		}
	}
}

// Busy refuses exactly what derive would: free workers or a short line admit, a line past the
// bound refuses with the expected wait.
func TestHasherBusyMatchesAdmission(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 2})
	gate := make(chan struct{})
	installFake(h, 40*time.Millisecond, gate)
	if err := h.Busy(); err != nil {
		t.Fatalf("idle hasher: Busy() = %v", err)
	}
	refused, done := burst(t, h, 101)
	if len(refused) != 0 {
		t.Fatalf("101 at once: %d refused", len(refused))
	}
	// The next would have 101 ahead: 2.02 s.
	var be *BusyError
	if err := h.Busy(); !errors.As(err, &be) || be.RetryAfter != 2020*time.Millisecond {
		t.Errorf("Busy() with 101 ahead = %v, want a BusyError with RetryAfter 2.02 s", err)
	}
	close(gate)
	for i := 0; i < 101; i++ {
		<-done
	}
	if err := h.Busy(); err != nil {
		t.Errorf("drained hasher: Busy() = %v", err)
	}
}

// A waiter whose request is cancelled leaves the line at once, and the line is shorter for the
// requests after it; the others are still served.
func TestHasherCancelledWaitersLeave(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 1})
	gate := make(chan struct{})
	f := installFake(h, 40*time.Millisecond, gate)
	_, done := burst(t, h, 3) // one computing, two waiting
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 5)
	for i := 0; i < 5; i++ {
		go func() { _, err := h.derive(ctx, "pw", "00"); cancelled <- err }()
	}
	waitFor(t, "eight in line", func() bool { return h.lineLength() == 8 })
	cancel()
	for i := 0; i < 5; i++ {
		if err := <-cancelled; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter: %v, want context.Canceled", err)
		}
	}
	if n := h.lineLength(); n != 3 {
		t.Errorf("line after 5 cancellations = %d, want 3", n)
	}
	close(gate)
	for i := 0; i < 3; i++ {
		if err := <-done; err != nil {
			t.Errorf("remaining waiter: %v", err)
		}
	}
	if f.count != 3 {
		t.Errorf("%d hashes computed, want 3 (none for the cancelled)", f.count)
	}
}

// Time per hash is a moving average of measured hashes, and the line it admits follows it.
func TestHasherMeasuresTimePerHash(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 1})
	h.pairs = false
	installFake(h, 100*time.Millisecond, nil)
	if h.perHash != initialPerHash {
		t.Fatalf("initial estimate %v", h.perHash)
	}
	if _, err := h.derive(context.Background(), "pw", "00"); err != nil {
		t.Fatal(err)
	}
	want := initialPerHash + time.Duration(ewmaWeight*float64(100*time.Millisecond-initialPerHash)) // 52 ms
	if h.perHash != want {
		t.Errorf("after one 100 ms hash: %v, want %v", h.perHash, want)
	}
	for i := 0; i < 50; i++ {
		_, _ = h.derive(context.Background(), "pw", "00")
	}
	if d := h.perHash - 100*time.Millisecond; d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("after 50 more 100 ms hashes: %v, want about 100 ms", h.perHash)
	}
	// 40 ahead at 100 ms on one worker is 4 s: refused, with that wait.
	if wait := expectedWait(40, h.perHash, 1); wait <= 2*time.Second {
		t.Errorf("expected wait of 40 ahead = %v", wait)
	}
}

// Where hashes are paired, only pairs are measured, per hash: a lone hash does not say how fast a
// line drains.
func TestHasherMeasuresPairsPerHash(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 1})
	h.pairs = true
	gate := make(chan struct{})
	installFake(h, 100*time.Millisecond, gate)
	_, done := burst(t, h, 3) // the first computes alone; the second takes the third along
	close(gate)
	for i := 0; i < 3; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if h.paired.Load() != 2 {
		t.Fatalf("%d hashes paired, want 2", h.paired.Load())
	}
	// One pair of 200 ms, 100 ms per hash; the lone hash before it is left out.
	want := initialPerHash + time.Duration(ewmaWeight*float64(100*time.Millisecond-initialPerHash))
	if h.perHash != want {
		t.Errorf("after a lone hash and a pair, 100 ms per hash: estimate %v, want %v", h.perHash, want)
	}
	if _, err := h.derive(context.Background(), "pw", "00"); err != nil || h.perHash != want {
		t.Errorf("a lone hash moved the estimate to %v (err %v)", h.perHash, err)
	}
}
