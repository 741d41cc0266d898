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

// Admit refuses exactly what derive would: free workers or a short line admit, a line past the
// bound refuses with the expected wait.
func TestHasherAdmitMatchesDerive(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 2})
	gate := make(chan struct{})
	installFake(h, 40*time.Millisecond, gate)
	_, release, err := h.Admit(context.Background())
	if err != nil {
		t.Fatalf("idle hasher: Admit = %v", err)
	}
	release()
	refused, done := burst(t, h, 101)
	if len(refused) != 0 {
		t.Fatalf("101 at once: %d refused", len(refused))
	}
	// The next would have 101 ahead: 2.02 s.
	var be *BusyError
	if _, _, err := h.Admit(context.Background()); !errors.As(err, &be) || be.RetryAfter != 2020*time.Millisecond {
		t.Errorf("Admit with 101 ahead = %v, want a BusyError with RetryAfter 2.02 s", err)
	}
	close(gate)
	for i := 0; i < 101; i++ {
		<-done
	}
	if _, release, err := h.Admit(context.Background()); err != nil {
		t.Errorf("drained hasher: Admit = %v", err)
	} else {
		release()
	}
}

// A place Admit gives counts for the arrivals after it before its hash has started (the
// request is still reading the database), so of 300 sign-ins arriving at once the first 101 get
// a place and the other 199 are refused before any of them does other work. Each admitted hash
// then joins the line without being refused, and a place given back unused shortens the line.
func TestHasherAdmitReservesPlaces(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 2})
	gate := make(chan struct{})
	f := installFake(h, 40*time.Millisecond, gate)
	var ctxs []context.Context
	var releases []func()
	refused := 0
	for i := 0; i < 300; i++ {
		ctx, release, err := h.Admit(context.Background())
		var be *BusyError
		switch {
		case err == nil:
			ctxs = append(ctxs, ctx)
			releases = append(releases, release)
		case errors.As(err, &be) && be.RetryAfter > 2*time.Second:
			refused++
		default:
			t.Fatalf("Admit #%d: %v", i, err)
		}
	}
	if len(ctxs) != 101 || refused != 199 {
		t.Fatalf("300 arrivals before any hash started: %d admitted, %d refused; want 101, 199", len(ctxs), refused)
	}
	if h.lineLength() != 0 {
		t.Fatalf("no hash started yet, line %d", h.lineLength())
	}
	// One admitted request ends before hashing (a locked account): its place is given back, and
	// giving it back twice changes nothing.
	releases[100]()
	releases[100]()
	ctx, release, err := h.Admit(context.Background())
	if err != nil {
		t.Fatalf("after a place was given back: Admit = %v", err)
	}
	ctxs[100], releases[100] = ctx, release
	if _, _, err := h.Admit(context.Background()); err == nil {
		t.Fatal("the 102nd place was given")
	}
	// Every admitted request hashes, in whatever order it gets there: none is refused, though
	// the line is full.
	done := make(chan error, len(ctxs))
	for i, ctx := range ctxs {
		go func() {
			defer releases[i]()
			_, err := h.derive(ctx, "pw", "00")
			done <- err
		}()
	}
	waitFor(t, "101 hashes in line", func() bool { return h.lineLength() == 101 })
	// The line is the same length it was: a hash without a place (a password change) is
	// refused.
	if _, err := h.derive(context.Background(), "pw", "00"); !errors.Is(err, ErrBusy) {
		t.Errorf("hash without a place behind 101: %v, want ErrBusy", err)
	}
	close(gate)
	for range ctxs {
		if err := <-done; err != nil {
			t.Errorf("admitted hash: %v", err)
		}
	}
	if f.count != 101 {
		t.Errorf("%d hashes computed, want 101", f.count)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reserved != 0 || h.busy != 0 {
		t.Errorf("after the burst: %d places held, %d workers busy; want 0, 0", h.reserved, h.busy)
	}
}

// After a crowded spell (a request waited or was refused) the tables' release also hands the
// heap back to the OS, once; after hashes that never waited it does not.
func TestHasherFreesMemoryAfterCrowdedSpell(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 1, IdleRelease: time.Hour})
	installFake(h, 40*time.Millisecond, nil)
	freed := 0
	h.freeOSMemory = func() { freed++ }
	if _, err := h.derive(context.Background(), "pw", "00"); err != nil {
		t.Fatal(err)
	}
	h.releaseTables()
	if freed != 0 {
		t.Errorf("after a hash that did not wait: FreeOSMemory called %d times, want 0", freed)
	}
	gate := make(chan struct{})
	installFake(h, 40*time.Millisecond, gate)
	_, done := burst(t, h, 2) // one computes, one waits
	close(gate)
	for i := 0; i < 2; i++ {
		<-done
	}
	h.releaseTables()
	h.releaseTables()
	if freed != 1 {
		t.Errorf("after a crowded spell, released twice: FreeOSMemory called %d times, want 1", freed)
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

// Admitted requests wait in AwaitTurn, before their database reads, while the line past the
// gate is gateDepth long; they go through first come first served as hashes start, all of them
// are served, one that gives up leaves the gate and its place, and AwaitTurn without a place
// does not wait.
func TestHasherAwaitTurnHoldsAdmittedRequests(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 2})
	h.pairs = true // gateDepth 6 whatever this CPU can do
	gate := make(chan struct{})
	f := installFake(h, 40*time.Millisecond, gate)
	if err := h.AwaitTurn(context.Background()); err != nil {
		t.Fatalf("AwaitTurn without a place: %v", err)
	}
	const n = 20
	ctxs := make([]context.Context, n)
	releases := make([]func(), n)
	for i := range ctxs {
		var err error
		if ctxs[i], releases[i], err = h.Admit(context.Background()); err != nil {
			t.Fatalf("Admit #%d: %v", i, err)
		}
	}
	served := make(chan error, n)
	for i := range ctxs {
		go func() {
			defer releases[i]()
			if err := h.AwaitTurn(ctxs[i]); err != nil {
				served <- err
				return
			}
			_, err := h.derive(ctxs[i], "pw", "00")
			served <- err
		}()
		// One at a time into the gate, so first come is a known order.
		waitFor(t, "the request at the gate or through it", func() bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.gate.Len()+h.passing+h.queue.Len()+h.computing == i+1
		})
	}
	// The first two found a worker each (alone: nobody was waiting yet), the next six are
	// queued past the gate, and the other twelve wait at it.
	h.mu.Lock()
	computing, past, waiting := h.computing, h.passing+h.queue.Len(), h.gate.Len()
	h.mu.Unlock()
	if computing != 2 || past != 6 || waiting != 12 {
		t.Fatalf("%d computing, %d past the gate, %d at it; want 2, 6, 12", computing, past, waiting)
	}
	if w := h.Waiting(); w != 18 {
		t.Errorf("Waiting() = %d, want 18 (six queued, twelve at the gate)", w)
	}
	// First come first served: the ones at the gate are the last twelve to arrive.
	h.mu.Lock()
	for i, ctx := range ctxs {
		r := ctx.Value(reservationKey{}).(*reservation)
		if atGate := r.elem != nil; atGate != (i >= 8) {
			t.Errorf("request #%d at the gate: %v, want %v", i, atGate, i >= 8)
		}
	}
	h.mu.Unlock()
	// One of the waiting ones gives up: it leaves the gate, and its place the line.
	ctx, cancel := context.WithCancel(context.Background())
	cctx, crelease, err := h.Admit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- h.AwaitTurn(cctx) }()
	waitFor(t, "the 21st at the gate", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.gate.Len() == 13 })
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("AwaitTurn after the request ended: %v, want context.Canceled", err)
	}
	crelease()
	h.mu.Lock()
	if h.gate.Len() != 12 || h.reserved != 12 {
		t.Errorf("after one gave up: %d at the gate, %d places; want 12, 12", h.gate.Len(), h.reserved)
	}
	h.mu.Unlock()

	close(gate)
	for i := 0; i < n; i++ {
		if err := <-served; err != nil {
			t.Errorf("admitted request: %v", err)
		}
	}
	if f.count != n {
		t.Errorf("%d hashes, want %d", f.count, n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reserved != 0 || h.passing != 0 || h.gate.Len() != 0 || h.busy != 0 {
		t.Errorf("after the burst: %d places, %d passing, %d at the gate, %d busy; want all 0", h.reserved, h.passing, h.gate.Len(), h.busy)
	}
}

// OnOverloaded hears nothing while the line is short, true once when a burst fills it past
// half the bound (refused or not), and false once when the tables are released after it.
func TestHasherReportsOverload(t *testing.T) {
	var mu sync.Mutex
	var calls []bool
	h := NewHasher(HasherConfig{Concurrency: 1, IdleRelease: time.Hour, OnOverloaded: func(o bool) {
		mu.Lock()
		calls = append(calls, o)
		mu.Unlock()
	}})
	h.freeOSMemory = func() {}
	got := func() []bool { mu.Lock(); defer mu.Unlock(); return append([]bool(nil), calls...) }
	run := func(n, wantRefused int) {
		t.Helper()
		gate := make(chan struct{})
		installFake(h, 40*time.Millisecond, gate)
		refused, done := burst(t, h, n)
		if len(refused) != wantRefused {
			t.Fatalf("burst of %d: %d refused, want %d", n, len(refused), wantRefused)
		}
		close(gate)
		for i := 0; i < n-wantRefused; i++ {
			<-done
		}
	}

	run(3, 0) // the last waits 80 ms
	h.releaseTables()
	if c := got(); len(c) != 0 {
		t.Fatalf("a short line: OnOverloaded calls %v, want none", c)
	}
	run(30, 0) // the last waits 1.16 s, over half of 2 s
	if c := got(); len(c) != 1 || !c[0] {
		t.Fatalf("a line past half the bound: OnOverloaded calls %v, want [true]", c)
	}
	run(60, 9) // 51 within 2 s on one worker, 9 refused; already told
	h.releaseTables()
	h.releaseTables()
	if c := got(); len(c) != 2 || !c[0] || c[1] {
		t.Errorf("OnOverloaded calls %v, want [true false]", c)
	}
}
