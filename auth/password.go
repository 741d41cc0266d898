package auth

import (
	"authserver/obs"

	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Better-Auth's scrypt parameters. Changing any of them makes hashes unreadable by the other
// server, so they are constants, not settings.
const (
	scryptN      = 16384
	scryptR      = 16
	scryptP      = 1
	scryptKeyLen = 64
)

// HasherConfig bounds the expensive work of password hashing. Each scrypt call takes 32 MiB
// and tens of milliseconds of one core.
type HasherConfig struct {
	// Concurrency is how many hashing workers run at once (0 means the number of CPUs). On CPUs
	// with AVX2 a worker computes two waiting hashes together, so peak hashing memory is
	// Concurrency × 64 MiB there and Concurrency × 32 MiB elsewhere.
	Concurrency int
	// Queue is how many more requests may wait for a worker (0 means 8 per worker); beyond it
	// requests are refused at once with ErrBusy instead of piling up.
	Queue int
	// MaxWait is the longest a request waits for a worker before ErrBusy (0 means 2 seconds).
	MaxWait time.Duration
	// IdleRelease is how long the scrypt tables are kept after the last hash (0 means 5 s).
	IdleRelease time.Duration
}

// Hasher hashes and verifies passwords in Better-Auth's scrypt format,
// "<32 hex chars of salt>:<128 hex chars of key>", with a bound on how many run at once.
//
// A request that finds a free slot becomes a worker for its own hash; one that has to wait
// offers its hash to the workers too, and a worker that starts while another request waits takes
// that one along and computes both in one instruction stream (see salsa_amd64.s). Under load
// every worker carries two hashes for little more than the cost of one.
type Hasher struct {
	slots   chan struct{}
	waiting chan struct{}
	// adopt hands a waiting request's job to a worker; unbuffered, so a job is either taken
	// (and then always finished by that worker) or still its owner's.
	adopt   chan *hashJob
	maxWait time.Duration
	// tables keeps the 32 MiB scrypt tables of finished hashes for the next ones: at most two per
	// slot exist, so peak hashing memory is bounded and nothing is re-faulted.
	tables chan []uint32
	// idle fires idleRelease after the last hash, handing the tables back to the OS so a server
	// that is only validating sessions does not keep them resident.
	idleMu      sync.Mutex // guards idle
	idle        *time.Timer
	idleRelease time.Duration
	paired      atomic.Int64 // jobs computed alongside another, for tests and benchmarks
}

// hashJob is one scrypt derivation; key and err are set before done is closed.
type hashJob struct {
	password, saltHex string
	key               []byte
	err               error
	done              chan struct{}
}

// NewHasher returns a Hasher with cfg's bounds (defaults filled in).
func NewHasher(cfg HasherConfig) *Hasher {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = runtime.GOMAXPROCS(0)
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 8 * cfg.Concurrency
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 2 * time.Second
	}
	if cfg.IdleRelease <= 0 {
		cfg.IdleRelease = 5 * time.Second
	}
	return &Hasher{
		slots:       make(chan struct{}, cfg.Concurrency),
		waiting:     make(chan struct{}, cfg.Queue),
		adopt:       make(chan *hashJob),
		maxWait:     cfg.MaxWait,
		tables:      make(chan []uint32, 2*cfg.Concurrency),
		idleRelease: cfg.IdleRelease,
	}
}

// derive returns scrypt of password under saltHex, as Better-Auth computes it, waiting a bounded
// time in a bounded queue for a worker.
func (h *Hasher) derive(ctx context.Context, password, saltHex string) ([]byte, error) {
	job := &hashJob{password: password, saltHex: saltHex, done: make(chan struct{})}
	start := time.Now() // for obs.HashWait: metrics and the hash.wait span
	select {
	case h.slots <- struct{}{}:
		obs.HashWait(ctx, start, obs.HashAdmitted)
		h.work(job)
		return job.key, job.err
	default:
	}
	select {
	case h.waiting <- struct{}{}:
	default:
		obs.HashWait(ctx, start, obs.HashBusy)
		return nil, ErrBusy
	}
	defer func() { <-h.waiting }()
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		obs.HashWait(ctx, start, obs.HashAdmitted)
		h.work(job)
	case h.adopt <- job:
		obs.HashWait(ctx, start, obs.HashAdmitted)
		<-job.done // a worker has it and always finishes it, in well under MaxWait
	case <-timer.C:
		obs.HashWait(ctx, start, obs.HashBusy)
		return nil, ErrBusy
	case <-ctx.Done():
		obs.HashWait(ctx, start, obs.HashCanceled)
		return nil, ctx.Err()
	}
	return job.key, job.err
}

// work computes job, and a waiting request's job with it when the CPU can do two at once, then
// frees the slot the caller took.
func (h *Hasher) work(job *hashJob) {
	defer func() { <-h.slots }()
	var other *hashJob
	if canPair() {
		select {
		case other = <-h.adopt:
		default:
		}
	}
	ta := h.table()
	defer h.keep(ta)
	if other == nil {
		job.key, job.err = scryptKey(norm.NFKC.String(job.password), []byte(job.saltHex), scryptN, scryptR, scryptKeyLen, ta)
		return
	}
	tb := h.table()
	defer h.keep(tb)
	defer close(other.done)
	h.paired.Add(2)
	job.key, other.key, job.err = scryptKeyPair(
		norm.NFKC.String(job.password), []byte(job.saltHex),
		norm.NFKC.String(other.password), []byte(other.saltHex), scryptN, scryptR, scryptKeyLen, ta, tb)
	other.err = job.err
}

// table returns a kept scrypt table or a new one.
func (h *Hasher) table() []uint32 {
	select {
	case t := <-h.tables:
		return t
	default:
		return newTable(32 * scryptN * scryptR)
	}
}

// keep returns t for the next hash and restarts the idle countdown.
func (h *Hasher) keep(t []uint32) {
	select {
	case h.tables <- t:
	default:
		freeTable(t)
	}
	h.idleMu.Lock()
	if h.idle == nil {
		h.idle = time.AfterFunc(h.idleRelease, h.releaseTables)
	} else {
		h.idle.Reset(h.idleRelease)
	}
	h.idleMu.Unlock()
}

// Waiting is how many hashes are waiting for a worker now (the hashing queue's depth, for metrics).
func (h *Hasher) Waiting() int { return len(h.waiting) }

// Saturated reports whether every worker is busy and the waiting queue is full, so a new hash
// would be refused with ErrBusy. Callers check it before any other work, which keeps refusals
// cheap when a flood of sign-ins arrives; it is a snapshot, and derive enforces the bound anyway.
func (h *Hasher) Saturated() bool {
	return len(h.slots) == cap(h.slots) && len(h.waiting) == cap(h.waiting)
}

// Hash returns a new Better-Auth-format hash of password. ErrBusy means too many hashes are
// running or waiting.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	saltHex := hex.EncodeToString(salt)
	key, err := h.derive(ctx, password, saltHex)
	if err != nil {
		return "", err
	}
	return saltHex + ":" + hex.EncodeToString(key), nil
}

// Verify reports whether password matches hash, comparing in constant time. A malformed hash is
// reported as a mismatch after doing the same work, so it neither crashes nor answers faster.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	saltHex, keyHex, ok := strings.Cut(hash, ":")
	want, decErr := hex.DecodeString(keyHex)
	if !ok || decErr != nil || len(want) != scryptKeyLen {
		if _, err := h.derive(ctx, password, "00000000000000000000000000000000"); err != nil {
			return false, err
		}
		return false, nil
	}
	got, err := h.derive(ctx, password, saltHex)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// releaseTables drops the kept scrypt tables and returns their memory to the OS.
func (h *Hasher) releaseTables() {
	for {
		select {
		case t := <-h.tables:
			freeTable(t)
			continue
		default:
		}
		return
	}
}

// Burn spends the same time as a verification without checking anything, so an unknown account
// costs what a wrong password costs.
func (h *Hasher) Burn(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, dummyHash, password)
	return err
}

// dummyHash is a well-formed hash of a random value nobody knows.
var dummyHash = "8a3f1c0e5b7d9a2e4c6f8b0d1e3a5c7f:" + strings.Repeat("0", 128)

// passwordLength counts UTF-16 code units, as JavaScript's String.length does, which is what
// Better-Auth's minimum and maximum lengths are measured in.
func passwordLength(p string) int { return TextLength(p) }

// ErrBusy means the password hashing capacity is exhausted; the client should retry shortly.
var ErrBusy = errors.New("auth: password hashing busy")
