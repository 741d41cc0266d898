//go:build amd64 && !purego

package auth

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// Both two-hash BlockMix variants must give, for each hash, exactly what the portable ROMix
// gives, for the block size scrypt is used with and for others, on random data.
func TestROMixPairMatchesGeneric(t *testing.T) {
	variants := map[string]func(dstA, srcA, xorA, dstB, srcB, xorB *uint32, r int){}
	if useAVX2() {
		variants["AVX2"] = blockMix2AVX2
	}
	if useAVX512() {
		variants["AVX512"] = blockMix2AVX512
	}
	if len(variants) == 0 {
		t.Skip("this CPU has neither AVX2 nor AVX-512VL: the pair path is never taken")
	}
	defer func(saved func(dstA, srcA, xorA, dstB, srcB, xorB *uint32, r int)) { blockMix2 = saved }(blockMix2)
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for _, tc := range []struct{ r, n int }{{1, 16}, {2, 64}, {3, 32}, {8, 1024}, {16, 256}} {
		inA, inB := random(128*tc.r), random(128*tc.r)
		wantA, wantB := bytes.Clone(inA), bytes.Clone(inB)
		roMix(wantA, tc.r, tc.n, make([]uint32, 32*tc.n*tc.r))
		roMix(wantB, tc.r, tc.n, make([]uint32, 32*tc.n*tc.r))
		for name, mix := range variants {
			blockMix2 = mix
			gotA, gotB := bytes.Clone(inA), bytes.Clone(inB)
			roMixPair(gotA, gotB, tc.r, tc.n, make([]uint32, 32*tc.n*tc.r), make([]uint32, 32*tc.n*tc.r))
			if !bytes.Equal(gotA, wantA) || !bytes.Equal(gotB, wantB) {
				t.Errorf("%s r=%d n=%d: paired ROMix differs from the portable version", name, tc.r, tc.n)
			}
		}
	}
}
