//go:build !amd64 || purego

package auth

// canPair reports whether roMixPair is faster than two roMix calls here: not without the amd64
// vector code.
func canPair() bool { return false }

// roMixPair is two roMix calls where no faster way exists.
func roMixPair(bA, bB []byte, r, n int, vA, vB []uint32) {
	roMix(bA, r, n, vA)
	roMix(bB, r, n, vB)
}
