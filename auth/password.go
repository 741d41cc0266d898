package auth

import (
	"authserver/obs"
	"authserver/store"

	"container/list"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"runtime"
	"runtime/debug"
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
	// MaxWait bounds the expected wait for a worker (0 means 2 seconds): a request is admitted
	// while (hashes ahead of it × measured time per hash ÷ Concurrency) is at most MaxWait, and
	// refused at once with a *BusyError past it. Waiting holds no scrypt table, only the request.
	MaxWait time.Duration
	// IdleRelease is how long the scrypt tables are kept after the last hash (0 means 5 s).
	IdleRelease time.Duration
	// OnOverloaded, if set, is told when a burst fills the hashing line, for the first time since
	// the Hasher was last idle (true: an arrival's expected wait is over half of MaxWait, or it
	// is refused), and when the Hasher is idle again (false: IdleRelease after the last hash).
	// The server tightens the garbage collector in between. A short line does not count: a busy
	// server serving everyone at once keeps its collector as it is. It is called with the
	// Hasher's lock held, so it must be quick and must not call the Hasher.
	OnOverloaded func(overloaded bool)
	// Logger, if set, is warned of every hash asked for inside a database transaction (one a
	// context from store.Atomic carries): the transaction holds its locks while the hash waits
	// and runs, on SQLite the one write lock, so every other write of the server waits as long.
	// That is a defect of the caller, who should hash first; the hash is still computed.
	Logger *slog.Logger
}

// LogHashInTransaction is the message of the warning HasherConfig.Logger gets for a hash asked
// for inside a database transaction.
const LogHashInTransaction = "password hashed inside a database transaction, which holds its locks meanwhile"

// initialPerHash is the time per hash assumed before any has been measured: about one hash on a
// current x86 core. It only decides the very first burst; the measured average replaces it
// within a few hashes.
const initialPerHash = 40 * time.Millisecond

// ewmaWeight is the weight of the newest measurement in the moving average of time per hash
// (per hash of a pair where the CPU pairs hashes, see work):
// enough to follow a machine that gets busier within a burst, not so much that one hash slowed
// by a garbage collection swings admission.
const ewmaWeight = 0.2

// Hasher hashes and verifies passwords in Better-Auth's scrypt format,
// "<32 hex chars of salt>:<128 hex chars of key>", with a bound on how many run at once.
//
// Admission is by expected wait, not by a fixed queue length: a request that finds every worker
// busy waits in line as long as the line ahead of it would drain within MaxWait at the measured
// rate, so a burst that the workers can finish in time is served whole, and only what cannot is
// refused, with how long to wait. A request that gets a worker computes its own hash in its own
// goroutine; where the CPU can compute two hashes in one instruction stream (see salsa_amd64.s)
// it takes the next waiting request's hash along. Under load every worker carries two hashes for
// little more than the cost of one.
type Hasher struct {
	workers int
	maxWait time.Duration

	mu sync.Mutex // guards the fields below it
	// busy counts the workers computing; a worker that finishes hands its place straight to the
	// first waiter, so while anyone waits busy == workers.
	busy int
	// computing counts hashes in progress, up to two per worker when paired.
	computing int
	queue     list.List // of *hashJob, first come first served
	// reserved counts requests Admit let in that have not reached derive yet (they are reading
	// the database first): they are in line as much as the queue is, so later arrivals count
	// them.
	reserved int
	// passing counts the reserved requests that AwaitTurn let through to their database reads;
	// the others wait in gate, first come first served (see AwaitTurn).
	passing int
	gate    list.List // of *reservation
	perHash time.Duration

	// tables keeps the 32 MiB scrypt tables of finished hashes for the next ones: at most two per
	// worker exist, so peak hashing memory is bounded and nothing is re-faulted.
	tables chan []uint32
	// idle fires idleRelease after the last hash, handing the tables back to the OS so a server
	// that is only validating sessions does not keep them resident.
	idleMu      sync.Mutex // guards idle
	idle        *time.Timer
	idleRelease time.Duration
	// crowded is set when a request had to wait in line or was refused: the burst that did it
	// grew the heap, and releaseTables hands that memory back too (see releaseTables).
	crowded atomic.Bool
	// overloaded is set when a burst filled the line (see OnOverloaded); guarded by mu.
	overloaded   bool
	onOverloaded func(bool)   // HasherConfig.OnOverloaded
	logger       *slog.Logger // HasherConfig.Logger
	paired       atomic.Int64 // jobs computed alongside another, for tests and benchmarks
	liveTables   atomic.Int64 // tables allocated and not yet freed
	peakTables   atomic.Int64 // most tables allocated at once, for tests

	// pairs is canPair(): whether a worker takes a waiting hash along. Tests set it.
	pairs bool
	// now and compute are the clock and the hash function, freeOSMemory is
	// debug.FreeOSMemory; tests replace them.
	now          func() time.Time
	compute      func(a, b *hashJob, ta, tb []uint32)
	freeOSMemory func()
}

// hashJob is one scrypt derivation; key and err are set before done is closed.
type hashJob struct {
	password, saltHex string
	key               []byte
	err               error
	done              chan struct{}
	// granted is closed when the job's owner gets a worker's place and computes it itself.
	granted chan struct{}
	state   jobState // guarded by Hasher.mu
	elem    *list.Element
}

type jobState int

const (
	jobRunning jobState = iota // its owner holds a worker's place
	jobQueued                  // in the queue
	jobAdopted                 // taken along by another worker; done closes when it is computed
	jobGone                    // its owner gave up waiting
)

// BusyError is ErrBusy with how long the hashes already admitted are expected to take: a client
// retrying after RetryAfter finds the line drained by that much.
type BusyError struct{ RetryAfter time.Duration }

func (e *BusyError) Error() string { return ErrBusy.Error() }

// Is makes errors.Is(err, ErrBusy) true for a *BusyError.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// NewHasher returns a Hasher with cfg's bounds (defaults filled in).
func NewHasher(cfg HasherConfig) *Hasher {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 2 * time.Second
	}
	if cfg.IdleRelease <= 0 {
		cfg.IdleRelease = 5 * time.Second
	}
	return &Hasher{
		workers:      cfg.Concurrency,
		maxWait:      cfg.MaxWait,
		perHash:      initialPerHash,
		tables:       make(chan []uint32, 2*cfg.Concurrency),
		idleRelease:  cfg.IdleRelease,
		pairs:        canPair(),
		onOverloaded: cfg.OnOverloaded,
		logger:       cfg.Logger,
		now:          time.Now,
		compute:      scryptJobs,
		freeOSMemory: debug.FreeOSMemory,
	}
}

// expectedWait is how long a request with ahead hashes before it waits for a worker, at perHash
// per hash on workers workers. The bound is inclusive: a wait of exactly MaxWait is admitted
// (100 ahead at 40 ms on 2 workers is 2 s, admitted under the default bound).
func expectedWait(ahead int, perHash time.Duration, workers int) time.Duration {
	return time.Duration(int64(ahead) * int64(perHash) / int64(workers))
}

// admitLocked decides for a request arriving now: nil to wait in line, or the *BusyError to
// answer. The hashes ahead are those computing, those waiting and those admitted by Admit on
// their way to derive.
func (h *Hasher) admitLocked() error {
	wait := expectedWait(h.computing+h.queue.Len()+h.reserved, h.perHash, h.workers)
	if wait > h.maxWait/2 && !h.overloaded {
		h.overloaded = true
		if h.onOverloaded != nil {
			h.onOverloaded(true)
		}
	}
	if wait <= h.maxWait {
		return nil
	}
	h.markCrowdedLocked()
	return &BusyError{RetryAfter: wait}
}

// reservationKey is the context key of an Admit reservation.
type reservationKey struct{}

// reservation is a place in line Admit gave a request. Its fields are guarded by Hasher.mu.
type reservation struct {
	h *Hasher
	// used is set once derive or release has given the place back.
	used bool
	// passed is set when AwaitTurn let the request through to its reads; until then, while it
	// waits, elem is its place in Hasher.gate and turn is closed when it may go.
	passed bool
	elem   *list.Element
	turn   chan struct{}
	// gateWait is how long it waited in AwaitTurn, counted as hashing wait by derive.
	gateWait time.Duration
}

// Admit decides, before a sign-in or sign-up does any other work, whether its hash may wait in
// line: it returns a *BusyError to answer at once, or a context that holds the request's place
// and a release func to call when the request ends (it gives back a place no hash used, e.g.
// for a locked account). The first derive under the returned context joins the line without a
// second decision. Admit never blocks; AwaitTurn, called next, does the waiting.
//
// The place is taken here, not when the hash starts, because the database reads between take
// longer than the arrivals of a burst: when admission only looked at the line, all of 300
// simultaneous sign-ins found it short, queued for the 10 database connections, and most were
// refused only after their reads, with 300 deep stacks and query buffers held at once (measured:
// 224 of 300 goroutines waiting in GORM 150 ms into the burst).
func (h *Hasher) Admit(ctx context.Context) (context.Context, func(), error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.busy+h.reserved >= h.workers {
		if err := h.admitLocked(); err != nil {
			return ctx, func() {}, err
		}
	}
	h.reserved++
	r := &reservation{h: h}
	return context.WithValue(ctx, reservationKey{}, r), func() {
		h.mu.Lock()
		if h.takeLocked(r) {
			h.openGateLocked()
		}
		h.mu.Unlock()
	}, nil
}

// takeLocked gives back r's place and reports whether it was still held.
func (h *Hasher) takeLocked(r *reservation) bool {
	if r == nil || r.h != h || r.used {
		return false
	}
	r.used = true
	h.reserved--
	switch {
	case r.passed:
		h.passing--
	case r.elem != nil:
		h.gate.Remove(r.elem)
		r.elem = nil
	}
	return true
}

// gateDepth is how many admitted requests may be past the gate, reading the database or queued
// for a worker, at once: enough that a worker finishing its pair finds the next two waiting,
// with one more hash per worker in flight to cover the reads.
func (h *Hasher) gateDepth() int {
	if h.pairs {
		return 3 * h.workers
	}
	return 2 * h.workers
}

// openGateLocked lets the first requests waiting in AwaitTurn through while the line past the
// gate is shorter than gateDepth.
func (h *Hasher) openGateLocked() {
	for h.gate.Len() > 0 && h.passing+h.queue.Len() < h.gateDepth() {
		r := h.gate.Remove(h.gate.Front()).(*reservation)
		r.elem = nil
		r.passed = true
		h.passing++
		close(r.turn)
	}
}

// AwaitTurn holds a request Admit let in until its hash is close to the front of the line, and
// returns nil then, or ctx's error if ctx ends first. Without an Admit place in ctx it returns
// nil at once.
//
// Why wait here rather than in the line itself: an admitted request that went on to its
// database reads would wait for a worker with everything those reads left behind, a deep stack,
// the user's rows, the driver's buffers; a hundred of them at once cost more memory than the
// hashing. Held here, they wait with the request alone, and go on a few at a time (gateDepth)
// just ahead of the workers, so the workers never wait for them. Order is kept: first
// admitted, first through.
func (h *Hasher) AwaitTurn(ctx context.Context) error {
	r, _ := ctx.Value(reservationKey{}).(*reservation)
	h.mu.Lock()
	if r == nil || r.h != h || r.used || r.passed || r.elem != nil {
		h.mu.Unlock()
		return nil
	}
	if h.gate.Len() == 0 && h.passing+h.queue.Len() < h.gateDepth() {
		r.passed = true
		h.passing++
		h.mu.Unlock()
		return nil
	}
	r.turn = make(chan struct{})
	r.elem = h.gate.PushBack(r)
	h.markCrowdedLocked()
	h.mu.Unlock()
	start := time.Now()
	select {
	case <-r.turn:
		h.mu.Lock()
		r.gateWait = time.Since(start)
		h.mu.Unlock()
		return nil
	case <-ctx.Done():
	}
	obs.HashWait(ctx, start, obs.HashCanceled)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.elem != nil { // still waiting: leave the gate, the place itself goes with release
		h.gate.Remove(r.elem)
		r.elem = nil
	}
	return ctx.Err()
}

// derive returns scrypt of password under saltHex, as Better-Auth computes it, after waiting in
// line for a worker if the expected wait is within the bound, or a *BusyError at once.
func (h *Hasher) derive(ctx context.Context, password, saltHex string) ([]byte, error) {
	if h.logger != nil && store.InTransaction(ctx) {
		h.logger.WarnContext(ctx, LogHashInTransaction)
	}
	job := &hashJob{password: password, saltHex: saltHex, done: make(chan struct{}), granted: make(chan struct{})}
	start := time.Now() // for obs.HashWait: metrics and the hash.wait span
	r, _ := ctx.Value(reservationKey{}).(*reservation)
	h.mu.Lock()
	if r != nil && r.h == h && !r.used {
		start = start.Add(-r.gateWait) // waiting in AwaitTurn was waiting for a worker too
	}
	admitted := h.takeLocked(r) // Admit already decided; the place moves to the queue
	if h.busy < h.workers {
		h.busy++
		h.computing++
		h.openGateLocked()
		h.mu.Unlock()
		obs.HashWait(ctx, start, obs.HashAdmitted)
		h.work(job)
		return job.key, job.err
	}
	if !admitted {
		if err := h.admitLocked(); err != nil {
			h.mu.Unlock()
			obs.HashWait(ctx, start, obs.HashBusy)
			return nil, err
		}
	}
	job.state = jobQueued
	job.elem = h.queue.PushBack(job)
	h.markCrowdedLocked()
	h.openGateLocked()
	h.mu.Unlock()

	select {
	case <-job.granted:
		obs.HashWait(ctx, start, obs.HashAdmitted)
		h.work(job)
		return job.key, job.err
	case <-job.done: // adopted by another worker, which always finishes it
		obs.HashWait(ctx, start, obs.HashAdmitted)
		return job.key, job.err
	case <-ctx.Done():
	}
	obs.HashWait(ctx, start, obs.HashCanceled)
	h.mu.Lock()
	switch job.state {
	case jobQueued:
		h.queue.Remove(job.elem)
		job.state = jobGone
		h.openGateLocked()
		h.mu.Unlock()
		return nil, ctx.Err()
	case jobRunning:
		// Granted a worker's place just as the wait ended: pass it on rather than compute for a
		// request nobody is waiting for.
		h.computing--
		h.handOffLocked()
		h.mu.Unlock()
		return nil, ctx.Err()
	default: // adopted: its worker finishes it and nobody reads the result
		h.mu.Unlock()
		return nil, ctx.Err()
	}
}

// Waiting is how many hashes are waiting for a worker now, in the queue or at AwaitTurn's gate
// (the hashing queue's depth, for metrics).
func (h *Hasher) Waiting() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.queue.Len() + h.gate.Len()
}

// handOffLocked gives the caller's worker place to the first waiter, or frees it.
func (h *Hasher) handOffLocked() {
	if f := h.queue.Front(); f != nil {
		next := h.queue.Remove(f).(*hashJob)
		next.state = jobRunning
		h.computing++
		close(next.granted)
		h.openGateLocked()
		return
	}
	h.busy--
}

// work computes job, and the first waiting job with it when the CPU can do two at once, then
// hands the worker's place on. The time it took, per hash, feeds the moving average.
func (h *Hasher) work(job *hashJob) {
	var other *hashJob
	if h.pairs {
		h.mu.Lock()
		if f := h.queue.Front(); f != nil {
			other = h.queue.Remove(f).(*hashJob)
			other.state = jobAdopted
			h.computing++
			h.openGateLocked()
		}
		h.mu.Unlock()
	}
	n := 1
	start := h.now()
	ta := h.table()
	var tb []uint32
	if other != nil {
		tb = h.table()
		h.paired.Add(2)
		n = 2
	}
	h.compute(job, other, ta, tb)
	elapsed := h.now().Sub(start)
	h.keep(ta)
	if tb != nil {
		h.keep(tb)
		close(other.done)
	}
	h.mu.Lock()
	// Only hashes computed the way a line is drained say how fast it drains: where hashes are
	// paired, a line is worked off two at a time (27.5 ms per hash here) while a lone hash takes
	// much longer (74 ms), and steady light traffic, all lone hashes, would otherwise make a
	// burst look three times slower than it is.
	if n == 2 || !h.pairs {
		h.perHash += time.Duration(ewmaWeight * float64(elapsed/time.Duration(n)-h.perHash))
	}
	h.computing -= n
	h.handOffLocked()
	h.mu.Unlock()
}

// scryptJobs computes a, and b with it when b is not nil, on tables ta and tb.
func scryptJobs(a, b *hashJob, ta, tb []uint32) {
	if b == nil {
		a.key, a.err = scryptKey(norm.NFKC.String(a.password), []byte(a.saltHex), scryptN, scryptR, scryptKeyLen, ta)
		return
	}
	a.key, b.key, a.err = scryptKeyPair(
		norm.NFKC.String(a.password), []byte(a.saltHex),
		norm.NFKC.String(b.password), []byte(b.saltHex), scryptN, scryptR, scryptKeyLen, ta, tb)
	b.err = a.err
}

// table returns a kept scrypt table or a new one.
func (h *Hasher) table() []uint32 {
	select {
	case t := <-h.tables:
		return t
	default:
		n := h.liveTables.Add(1)
		for p := h.peakTables.Load(); n > p && !h.peakTables.CompareAndSwap(p, n); p = h.peakTables.Load() {
		}
		return newTable(32 * scryptN * scryptR)
	}
}

// keep returns t for the next hash and restarts the idle countdown.
func (h *Hasher) keep(t []uint32) {
	select {
	case h.tables <- t:
	default:
		h.liveTables.Add(-1)
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

// Hash returns a new Better-Auth-format hash of password. A *BusyError (errors.Is ErrBusy) means
// the hashes already admitted would take longer than the bound.
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

// releaseTables drops the kept scrypt tables and returns their memory to the OS, and after a
// crowded spell the heap it grew as well.
//
// A burst of hundreds of connections grows the Go heap by their buffers, stacks and garbage
// (10-18 MiB measured for 300), and the runtime keeps that memory: its background scavenger
// only trims to a target set at the last collection, and an idle server collects next after
// two minutes. Measured, 30 s after a 300 sign-in burst the server still held all of it, so the
// next burst started that much higher and the peaks ratcheted up from burst to burst.
// debug.FreeOSMemory (a collection plus returning every free page) is the blunt tool, used only
// here: at most once per busy spell, IdleRelease after its last hash, when nobody is signing in.
func (h *Hasher) releaseTables() {
	for {
		select {
		case t := <-h.tables:
			h.liveTables.Add(-1)
			freeTable(t)
			continue
		default:
		}
		break
	}
	h.mu.Lock()
	if h.overloaded {
		h.overloaded = false
		if h.onOverloaded != nil {
			h.onOverloaded(false)
		}
	}
	h.mu.Unlock()
	if h.crowded.Swap(false) {
		h.freeOSMemory()
	}
}

// markCrowdedLocked records that a request had to wait or was refused.
func (h *Hasher) markCrowdedLocked() { h.crowded.Store(true) }

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
