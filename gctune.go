package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// minHeadroom is the least garbage the collector may let accumulate between cycles: what GOGC=100
// gives a small heap (the runtime's own 4 MiB minimum goal), so a heap that is mostly cache does
// not collect on every few requests.
const minHeadroom = 4 << 20

// gcPercentFor returns the GOGC that gives a heap of live bytes, of which cache bytes are the
// session cache, the headroom base percent would give it without the cache. GOGC sizes the
// garbage allowed between collections as a percentage of everything live, so a full cache would
// buy rarer collections with as much memory again as it holds. The server prefers to collect as
// often as it would without the cache: measured, that kept CPU per request within run-to-run noise
// and took 5-7 MiB off the peak at 100k sessions.
func gcPercentFor(live, cache uint64, base int) int {
	return percentFor(live, cache, base, minHeadroom*uint64(max(base, 0))/100)
}

// overloadPercent and overloadMinHeadroom size the headroom while a sign-in burst fills the
// hashing line (an arrival's expected wait over half of PASSWORD_HASH_MAX_WAIT, or refusals; see
// auth.HasherConfig.OnOverloaded): a tenth of the heap without the cache, at least 1 MiB.
//
// Why: a burst of hundreds of sign-ins holds hundreds of connections at once, and the garbage
// each served sign-in leaves (about 50 KiB) piled up until the heap doubled, so the burst's peak
// came at its end, 3-5 MiB above its start (measured on a 300-burst). Collecting that often
// costs little then: the CPU goes to scrypt and the rest waits anyway. Not while the line is
// short: a busy server serving everyone would pay in throughput (measured in the mixed workload,
// sign-ins waiting throughout, when any wait tightened it: 6.7k against 10.5k requests per
// second with the session cache).
// With a large session cache each collection marks the cache too, which is why the floor is
// absolute: at 1 MiB a 60 MiB heap collects every twenty sign-ins or so.
const (
	overloadPercent     = 10
	overloadMinHeadroom = 1 << 20
)

// percentFor returns the GC percent that leaves headroom of base percent of the heap without
// the cache, and at least floor bytes, for a heap of live bytes holding cache bytes of cache.
func percentFor(live, cache uint64, base int, floor uint64) int {
	if live == 0 || base <= 0 {
		return base
	}
	cache = min(cache, live) // an estimate above the measured heap: all of it is cache
	headroom := max((live-cache)*uint64(base)/100, floor)
	// Never above the base, or 100 for a smaller base: the floor may raise an overload's
	// percent for a small heap, but never past what GOGC=100 would allow.
	return max(1, min(max(base, 100), int(headroom*100/live)))
}

// gcTuner sets the collector's GC percent from the live heap: normally the headroom GOGC=100
// would give the heap without the session cache (see gcPercentFor), and while password hashing
// is overloaded a tenth of that (see overloadPercent). It is nil, and leaves the collector
// alone, when the operator set GOGC.
type gcTuner struct {
	cacheBytes func() int64 // the session cache's size; nil without a cache

	mu         sync.Mutex // guards the fields below and serializes SetGCPercent
	overloaded bool
	last       int // the percent last set
}

// newGCTuner returns a tuner, or nil if getenv("GOGC") is set: the operator's setting wins.
func newGCTuner(getenv func(string) string, cacheBytes func() int64) *gcTuner {
	if getenv("GOGC") != "" {
		return nil
	}
	return &gcTuner{cacheBytes: cacheBytes, last: 100}
}

// liveHeap is the heap the last collection left live.
func liveHeap() (uint64, bool) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return sample[0].Value.Uint64(), true
}

// applyLocked sets the percent the current heap, cache and spell call for.
func (t *gcTuner) applyLocked() {
	live, ok := liveHeap()
	if !ok {
		return
	}
	var cache uint64
	if t.cacheBytes != nil {
		cache = uint64(max(0, t.cacheBytes()))
	}
	p := gcPercentFor(live, cache, 100)
	if t.overloaded {
		p = percentFor(live, cache, overloadPercent, overloadMinHeadroom)
	}
	if p != t.last {
		debug.SetGCPercent(p)
		t.last = p
	}
}

// SetOverloaded is the Hasher's OnOverloaded: it tightens the collector while hashing is
// overloaded and loosens it when the Hasher is idle again. A nil tuner does nothing.
func (t *gcTuner) SetOverloaded(overloaded bool) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.overloaded = overloaded
	t.applyLocked()
}

// run re-reads the heap every period until ctx ends, then puts GOGC=100 back. The live heap
// only changes at a collection, so a period of a second follows it closely enough.
func (t *gcTuner) run(ctx context.Context, period time.Duration) {
	if t == nil {
		return
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	defer func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.last != 100 {
			debug.SetGCPercent(100)
			t.last = 100
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t.mu.Lock()
		t.applyLocked()
		t.mu.Unlock()
	}
}
