package auth

import (
	"syscall"
	"unsafe"
)

// newTable returns an n-word scrypt table mapped straight from the kernel. Held on the Go heap,
// two or four 32 MiB tables would double the heap the collector aims for and inflate every
// other allocation's share of memory; mapped, they cost exactly their pages and go back to the
// OS the moment freeTable unmaps them. If mapping fails the heap is the fallback.
func newTable(n int) []uint32 {
	mem, err := syscall.Mmap(-1, 0, 4*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]uint32, n)
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&mem[0])), n)
}

// freeTable unmaps a table from newTable; a heap fallback is left to the collector.
func freeTable(t []uint32) {
	if len(t) == 0 {
		return
	}
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&t[0])), 4*len(t))
	_ = syscall.Munmap(mem) // EINVAL for a heap fallback, which the collector frees
}

// HeapPerHash is how much Go heap one running scrypt hash needs at most, for sizing a soft
// memory limit: its table lives outside the heap here, so only small buffers count.
const HeapPerHash = 1 << 20
