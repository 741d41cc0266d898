package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name        string
		live, cache uint64
		want        int
	}{
		{"no cache: the operator's GOGC as it is", 30 * mib, 0, 100},
		{"half cache: headroom of the other half", 40 * mib, 20 * mib, 50},
		{"mostly cache: never under the 4 MiB minimum", 20 * mib, 19 * mib, 20},
		{"small heap: untouched", 3 * mib, 2 * mib, 100},
		{"estimate above the heap: the minimum", 8 * mib, 9 * mib, 50},
		{"nothing measured yet", 0, 0, 100},
	} {
		if got := gcPercentFor(c.live, c.cache, 100); got != c.want {
			t.Errorf("%s: gcPercentFor(%d MiB, %d MiB) = %d, want %d", c.name, c.live/mib, c.cache/mib, got, c.want)
		}
	}
	if got := gcPercentFor(40*mib, 20*mib, 200); got != 100 {
		t.Errorf("base 200, half cache: %d, want 100", got)
	}
}

// currentGCPercent reads the setting without writing it, so it cannot race with the tuner.
func currentGCPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// With the session cache holding most of the heap the collector's headroom shrinks, it comes back
// when the server stops, and an operator's GOGC is never overridden.
func TestTuneGC(t *testing.T) {
	debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(100) })
	noEnv := func(string) string { return "" }
	huge := func() int64 { return 1 << 40 } // more than any heap: the floor applies

	// A heap well above the 4 MiB floor, measured by a finished collection.
	ballast := make([]byte, 64<<20)
	runtime.GC()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { newGCTuner(noEnv, huge).run(ctx, 5*time.Millisecond); close(done) }()
	deadline := time.Now().Add(2 * time.Second)
	for currentGCPercent() >= 100 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if p := currentGCPercent(); p > 10 {
		t.Errorf("GOGC %d with a 64 MiB heap all cache, want about 6 (4 MiB of headroom)", p)
	}
	runtime.KeepAlive(ballast)
	cancel()
	<-done
	if p := currentGCPercent(); p != 100 {
		t.Errorf("GOGC %d after the tuner stopped, want 100 back", p)
	}

	debug.SetGCPercent(300)
	operator := func(k string) string {
		if k == "GOGC" {
			return "300"
		}
		return ""
	}
	tuner := newGCTuner(operator, huge)
	if tuner != nil {
		t.Fatal("a tuner was made although the operator set GOGC")
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go tuner.run(ctx, time.Millisecond)
	tuner.SetOverloaded(true)
	time.Sleep(50 * time.Millisecond)
	if p := currentGCPercent(); p != 300 {
		t.Errorf("the operator's GOGC=300 became %d", p)
	}
}

// Overloaded hashing (a sign-in burst past the bound) collects with a tenth of the usual headroom, at
// least 1 MiB, and the usual headroom comes back when the spell ends; with or without a cache.
func TestGCTunerOverload(t *testing.T) {
	debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(100) })
	noEnv := func(string) string { return "" }
	ballast := make([]byte, 64<<20)
	runtime.GC()
	live, _ := liveHeap()

	tuner := newGCTuner(noEnv, nil) // SESSION_CACHE=off
	tuner.SetOverloaded(true)
	if p, want := currentGCPercent(), percentFor(live, 0, overloadPercent, overloadMinHeadroom); p != want || p < 9 || p > 10 {
		t.Errorf("overloaded, 64 MiB heap, no cache: GOGC %d, want %d (9-10)", p, want)
	}
	tuner.SetOverloaded(false)
	if p := currentGCPercent(); p != 100 {
		t.Errorf("after the spell, no cache: GOGC %d, want 100", p)
	}

	// All cache: the 1 MiB floor (about 1.5 % of 64 MiB).
	tuner = newGCTuner(noEnv, func() int64 { return 1 << 40 })
	tuner.SetOverloaded(true)
	if p := currentGCPercent(); p < 1 || p > 2 {
		t.Errorf("overloaded, 64 MiB heap all cache: GOGC %d, want 1-2 (1 MiB of headroom)", p)
	}
	tuner.SetOverloaded(false)
	if p := currentGCPercent(); p < 5 || p > 7 {
		t.Errorf("after the spell, all cache: GOGC %d, want about 6 (4 MiB of headroom)", p)
	}
	runtime.KeepAlive(ballast)
}

func TestPercentForOverload(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name        string
		live, cache uint64
		want        int
	}{
		{"no cache: a tenth", 30 * mib, 0, 10},
		{"small heap: never under 1 MiB", 5 * mib, 0, 20},
		{"half cache: a tenth of the other half", 40 * mib, 20 * mib, 5},
		{"all cache: the floor", 100 * mib, 100 * mib, 1},
	} {
		if got := percentFor(c.live, c.cache, overloadPercent, overloadMinHeadroom); got != c.want {
			t.Errorf("%s: percentFor(%d MiB, %d MiB) = %d, want %d", c.name, c.live/mib, c.cache/mib, got, c.want)
		}
	}
}
