//go:build amd64 && !purego

package auth

import "testing"

// Per hash: one ROMix alone against two at once (report divides by two for the pair).
func BenchmarkROMix(b *testing.B) {
	bA, bB := make([]byte, 128*scryptR), make([]byte, 128*scryptR)
	vA, vB := make([]uint32, 32*scryptN*scryptR), make([]uint32, 32*scryptN*scryptR)
	b.Run("single", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			roMix(bA, scryptR, scryptN, vA)
		}
	})
	if !canPair() {
		return
	}
	for _, v := range []struct {
		name string
		f    func(dstA, srcA, xorA, dstB, srcB, xorB *uint32, r int)
	}{{"pair-avx2", blockMix2AVX2}, {"pair-avx512", blockMix2AVX512}} {
		if v.name == "pair-avx512" && !useAVX512() {
			continue
		}
		b.Run(v.name, func(b *testing.B) {
			saved := blockMix2
			blockMix2 = v.f
			defer func() { blockMix2 = saved }()
			for i := 0; i < b.N; i += 2 {
				roMixPair(bA, bB, scryptR, scryptN, vA, vB)
			}
		})
	}
}
