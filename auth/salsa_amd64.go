//go:build amd64 && !purego

package auth

import (
	"encoding/binary"

	"golang.org/x/sys/cpu"
)

// On amd64 two hashes can share one instruction stream (salsa_amd64.s): the Salsa20/8 core is a
// chain of dependent steps, so a lone chain leaves most of a core idle and a second chain in the
// same vector instructions costs little. A lone hash stays on the portable code, which the
// compiler schedules well across the four independent quarter-rounds (measured: one vector chain
// alone is slower than it).

//go:noescape
func blockMix2AVX512(dstA, srcA, xorA, dstB, srcB, xorB *uint32, r int)

//go:noescape
func blockMix2AVX2(dstA, srcA, xorA, dstB, srcB, xorB *uint32, r int)

// blockMix2 is the two-hash scryptBlockMix for this CPU, or nil: dst = BlockMix(src ^ xor) for
// A and for B, blocks in diagonal order, xor nil for none; dst overlaps neither src nor xor.
var blockMix2 = func() func(dstA, srcA, xorA, dstB, srcB, xorB *uint32, r int) {
	switch {
	case useAVX512():
		return blockMix2AVX512 // rotations are one instruction (VPROLD)
	case useAVX2():
		return blockMix2AVX2
	}
	return nil
}()

func useAVX512() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL }
func useAVX2() bool   { return cpu.X86.HasAVX2 }

// canPair reports whether roMixPair is faster than two roMix calls here.
func canPair() bool { return blockMix2 != nil }

// simdOrder lists, for each position of a block in diagonal order, the Salsa20 word it holds:
// the four vectors are (x0 x5 x10 x15), (x4 x9 x14 x3), (x8 x13 x2 x7) and (x12 x1 x6 x11), so a
// column round works lane by lane and a row round after rotating three of them. Word 0 stays
// first, so Integerify reads the same place in either order.
var simdOrder = [16]int{0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11}

// preemptEvery is how many BlockMix calls roMixPair makes between preemption points (about
// 30 µs of work here).
//
// Why: the runtime stops a running goroutine, for a garbage collection or to give another its
// turn, where it calls a Go function (the call's stack check) or, by a signal, where it is in
// Go code; a goroutine in this loop calls only the assembly, which has no stack check, and is
// almost never in Go code when the signal comes. Measured without the points: stopping the world
// for a collection waited up to 84 ms for the two hashing goroutines (the stop is retried every
// 0.1 ms), and every request on the server stalled that long.
const preemptEvery = 16

// preemptionPoint does nothing, in a call the runtime can stop a goroutine at: it calls
// another function, so the compiler gives it the stack check that a pending preemption trips
// (a leaf this small would get none).
//
//go:noinline
func preemptionPoint() { preemptionPointLeaf() }

//go:noinline
func preemptionPointLeaf() {}

// roMixPair is roMix on bA with table vA and on bB with vB at once; only when canPair.
// The first loop writes each BlockMix straight into the next table entry and the second
// ping-pongs between two buffers, so no block is copied.
func roMixPair(bA, bB []byte, r, n int, vA, vB []uint32) {
	words := 32 * r
	buf := make([]uint32, 4*words)
	xA, yA, xB, yB := buf[:words], buf[words:2*words], buf[2*words:3*words], buf[3*words:]
	toDiagonal(vA[:words], bA)
	toDiagonal(vB[:words], bB)
	for i := 0; i < n-1; i++ {
		blockMix2(&vA[(i+1)*words], &vA[i*words], nil, &vB[(i+1)*words], &vB[i*words], nil, r)
		if i%preemptEvery == preemptEvery-1 {
			preemptionPoint()
		}
	}
	blockMix2(&xA[0], &vA[(n-1)*words], nil, &xB[0], &vB[(n-1)*words], nil, r)
	last := (2*r - 1) * 16
	for i := 0; i < n; i++ {
		jA := int(xA[last]) & (n - 1) // Integerify mod n, n a power of two
		jB := int(xB[last]) & (n - 1)
		blockMix2(&yA[0], &xA[0], &vA[jA*words], &yB[0], &xB[0], &vB[jB*words], r)
		xA, yA, xB, yB = yA, xA, yB, xB
		if i%preemptEvery == preemptEvery-1 {
			preemptionPoint()
		}
	}
	fromDiagonal(bA, xA)
	fromDiagonal(bB, xB)
}

// toDiagonal loads the little-endian bytes b into words w, each 16-word block in diagonal order.
func toDiagonal(w []uint32, b []byte) {
	for blk := 0; blk < len(w)/16; blk++ {
		for p, s := range simdOrder {
			w[blk*16+p] = binary.LittleEndian.Uint32(b[4*(blk*16+s):])
		}
	}
}

// fromDiagonal is the inverse of toDiagonal.
func fromDiagonal(b []byte, w []uint32) {
	for blk := 0; blk < len(w)/16; blk++ {
		for p, s := range simdOrder {
			binary.LittleEndian.PutUint32(b[4*(blk*16+s):], w[blk*16+p])
		}
	}
}
