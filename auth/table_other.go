//go:build !linux

package auth

// newTable returns an n-word scrypt table on the Go heap.
func newTable(n int) []uint32 { return make([]uint32, n) }

// freeTable leaves t to the collector.
func freeTable(t []uint32) {}

// HeapPerHash is how much Go heap one running scrypt hash needs at most, for sizing a soft
// memory limit: the 32 MiB table and some slack.
const HeapPerHash = 40 << 20
