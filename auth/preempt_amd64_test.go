//go:build amd64 && !purego

package auth

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// While paired hashes run in the assembly, the runtime can still stop the world for a
// collection promptly. Without preemption points in roMixPair most stops waited tens of
// milliseconds (up to 84 ms measured) for the hashing goroutines, and every request with them.
func TestPairedHashingLetsTheWorldStop(t *testing.T) {
	if !canPair() {
		t.Skip("no paired hashing on this CPU")
	}
	bA, bB := make([]byte, 128*scryptR), make([]byte, 128*scryptR)
	vA, vB := make([]uint32, 32*scryptN*scryptR), make([]uint32, 32*scryptN*scryptR)
	cA, cB := make([]byte, 128*scryptR), make([]byte, 128*scryptR)
	wA, wB := make([]uint32, 32*scryptN*scryptR), make([]uint32, 32*scryptN*scryptR)
	stop := make(chan struct{})
	finished := make(chan struct{}, 2)
	for _, w := range []func(){
		func() { roMixPair(bA, bB, scryptR, scryptN, vA, vB) },
		func() { roMixPair(cA, cB, scryptR, scryptN, wA, wB) },
	} {
		go func() {
			defer func() { finished <- struct{}{} }()
			for {
				select {
				case <-stop:
					return
				default:
					w()
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	before := stopHistogram()
	for i := 0; i < 10; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	after := stopHistogram()
	close(stop)
	<-finished
	<-finished
	// Count the stops of these collections that took 10 ms or more. Measured on two cores with
	// another test suite running: 0 of 26 with the preemption points (at most 4 took 5 ms), and
	// 19-20 of 26 without them.
	slow, all := uint64(0), uint64(0)
	for i := range after.Counts {
		n := after.Counts[i] - before.Counts[i]
		all += n
		if after.Buckets[i] >= 0.010 {
			slow += n
		}
	}
	if all == 0 {
		t.Fatal("no stop-the-world pauses recorded")
	}
	if slow*2 > all {
		t.Errorf("%d of %d stops for a collection took 10 ms or more while paired hashes ran, want at most half", slow, all)
	}
}

func stopHistogram() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: "/sched/pauses/stopping/gc:seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64Histogram()
}
