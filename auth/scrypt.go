package auth

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// scrypt (RFC 7914) with reusable working memory. golang.org/x/crypto/scrypt allocates its 32 MiB
// table afresh for every hash; under a stream of sign-ins that means page faults over all of it
// and garbage collection running constantly (measured here: sign-in throughput fell to about half
// of what the hashing itself allows once a soft memory limit made the collector keep up). The
// Hasher instead keeps its tables while sign-ins come in, outside the Go heap where the OS allows
// (table_linux.go), so they neither count towards the collector's target nor get scanned.

// scryptKey derives keyLen bytes from password and salt with cost n, block size r and p = 1,
// using v (32*n*r words, contents irrelevant) as the table; nil allocates one.
func scryptKey(password string, salt []byte, n, r, keyLen int, v []uint32) ([]byte, error) {
	b, err := pbkdf2.Key(sha256.New, password, salt, 1, 128*r)
	if err != nil {
		return nil, err
	}
	if len(v) < 32*n*r {
		v = make([]uint32, 32*n*r)
	}
	roMix(b, r, n, v)
	return pbkdf2.Key(sha256.New, password, b, 1, keyLen)
}

// scryptKeyPair is scryptKey for two passwords at once, on tables vA and vB (each at least
// 32*n*r words), which roMixPair computes together where the CPU allows.
func scryptKeyPair(pwA string, saltA []byte, pwB string, saltB []byte, n, r, keyLen int, vA, vB []uint32) (keyA, keyB []byte, err error) {
	bA, err := pbkdf2.Key(sha256.New, pwA, saltA, 1, 128*r)
	if err != nil {
		return nil, nil, err
	}
	bB, err := pbkdf2.Key(sha256.New, pwB, saltB, 1, 128*r)
	if err != nil {
		return nil, nil, err
	}
	roMixPair(bA, bB, r, n, vA[:32*n*r], vB[:32*n*r])
	if keyA, err = pbkdf2.Key(sha256.New, pwA, bA, 1, keyLen); err != nil {
		return nil, nil, err
	}
	if keyB, err = pbkdf2.Key(sha256.New, pwB, bB, 1, keyLen); err != nil {
		return nil, nil, err
	}
	return keyA, keyB, nil
}

// roMix is RFC 7914's scryptROMix on b (128*r bytes), in place, using v (32*n*r words) as the
// table, in portable Go: for one hash at a time it is the fastest version (see salsa_amd64.go).
// Every entry of v is written before it is read, so a reused table needs no clearing.
//
// roMix, blockMix and salsa208 are left out of the race detector's instrumentation (go:norace):
// they touch only buffers their goroutine owns (the table comes from the Hasher's pool through a
// channel), so there is nothing to find, and instrumented they were nine times slower (450 ms
// against 50 ms a hash), which was most of the time of the race-enabled test suite, where
// hashes mostly run alone on this portable code.
//
//go:norace
func roMix(b []byte, r, n int, v []uint32) {
	words := 32 * r
	x := make([]uint32, words)
	y := make([]uint32, words)
	for i := range x {
		x[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	for i := 0; i < n; i++ {
		copy(v[i*words:(i+1)*words], x)
		blockMix(x, y, r)
	}
	for i := 0; i < n; i++ {
		j := int(x[(2*r-1)*16]) & (n - 1) // Integerify mod n, n a power of two
		vj := v[j*words : (j+1)*words]
		for k := range x {
			x[k] ^= vj[k]
		}
		blockMix(x, y, r)
	}
	for i, w := range x {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
}

// blockMix is scryptBlockMix: b holds 2r 16-word blocks; y is scratch of the same size. The
// output order interleaves even then odd blocks.
//
//go:norace
func blockMix(b, y []uint32, r int) {
	var t [16]uint32
	copy(t[:], b[(2*r-1)*16:])
	for i := 0; i < 2*r; i++ {
		blk := b[i*16 : i*16+16 : i*16+16]
		for k := 0; k < 16; k++ {
			t[k] ^= blk[k]
		}
		salsa208(&t)
		dst := (i/2)*16 + (i%2)*r*16
		copy(y[dst:dst+16], t[:])
	}
	copy(b, y)
}

// salsa208 applies the Salsa20/8 core to x in place.
//
//go:norace
func salsa208(x *[16]uint32) {
	x0, x1, x2, x3, x4, x5, x6, x7 := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
	x8, x9, x10, x11, x12, x13, x14, x15 := x[8], x[9], x[10], x[11], x[12], x[13], x[14], x[15]
	for i := 0; i < 8; i += 2 {
		// columns
		x4 ^= bits.RotateLeft32(x0+x12, 7)
		x8 ^= bits.RotateLeft32(x4+x0, 9)
		x12 ^= bits.RotateLeft32(x8+x4, 13)
		x0 ^= bits.RotateLeft32(x12+x8, 18)
		x9 ^= bits.RotateLeft32(x5+x1, 7)
		x13 ^= bits.RotateLeft32(x9+x5, 9)
		x1 ^= bits.RotateLeft32(x13+x9, 13)
		x5 ^= bits.RotateLeft32(x1+x13, 18)
		x14 ^= bits.RotateLeft32(x10+x6, 7)
		x2 ^= bits.RotateLeft32(x14+x10, 9)
		x6 ^= bits.RotateLeft32(x2+x14, 13)
		x10 ^= bits.RotateLeft32(x6+x2, 18)
		x3 ^= bits.RotateLeft32(x15+x11, 7)
		x7 ^= bits.RotateLeft32(x3+x15, 9)
		x11 ^= bits.RotateLeft32(x7+x3, 13)
		x15 ^= bits.RotateLeft32(x11+x7, 18)
		// rows
		x1 ^= bits.RotateLeft32(x0+x3, 7)
		x2 ^= bits.RotateLeft32(x1+x0, 9)
		x3 ^= bits.RotateLeft32(x2+x1, 13)
		x0 ^= bits.RotateLeft32(x3+x2, 18)
		x6 ^= bits.RotateLeft32(x5+x4, 7)
		x7 ^= bits.RotateLeft32(x6+x5, 9)
		x4 ^= bits.RotateLeft32(x7+x6, 13)
		x5 ^= bits.RotateLeft32(x4+x7, 18)
		x11 ^= bits.RotateLeft32(x10+x9, 7)
		x8 ^= bits.RotateLeft32(x11+x10, 9)
		x9 ^= bits.RotateLeft32(x8+x11, 13)
		x10 ^= bits.RotateLeft32(x9+x8, 18)
		x12 ^= bits.RotateLeft32(x15+x14, 7)
		x13 ^= bits.RotateLeft32(x12+x15, 9)
		x14 ^= bits.RotateLeft32(x13+x12, 13)
		x15 ^= bits.RotateLeft32(x14+x13, 18)
	}
	x[0] += x0
	x[1] += x1
	x[2] += x2
	x[3] += x3
	x[4] += x4
	x[5] += x5
	x[6] += x6
	x[7] += x7
	x[8] += x8
	x[9] += x9
	x[10] += x10
	x[11] += x11
	x[12] += x12
	x[13] += x13
	x[14] += x14
	x[15] += x15
}
