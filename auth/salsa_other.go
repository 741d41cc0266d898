//go:build !amd64 || purego

package auth

func roMix(b []byte, r, n int, v []uint32) { roMixGeneric(b, r, n, v) }

// canPair reports whether roMixPair is faster than two roMix calls here: not without the amd64
// vector code.
func canPair() bool { return false }

// roMixPair is two roMix calls where no faster way exists.
func roMixPair(bA, bB []byte, r, n int, vA, vB []uint32) {
	roMixGeneric(bA, r, n, vA)
	roMixGeneric(bB, r, n, vB)
}
