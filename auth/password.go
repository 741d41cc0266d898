package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

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

// HasherConfig bounds the expensive work of password hashing. Each scrypt call takes about 32 MiB
// and tens of milliseconds of one core.
type HasherConfig struct {
	// Concurrency is how many hashes may run at once (0 means the number of CPUs). Peak hashing
	// memory is Concurrency × 32 MiB.
	Concurrency int
	// Queue is how many more requests may wait for a slot (0 means 8 per slot); beyond it requests
	// are refused at once with ErrBusy instead of piling up.
	Queue int
	// MaxWait is the longest a request waits for a slot before ErrBusy (0 means 2 seconds).
	MaxWait time.Duration
	// IdleRelease is how long the scrypt tables are kept after the last hash (0 means 5 s).
	IdleRelease time.Duration
}

// Hasher hashes and verifies passwords in Better-Auth's scrypt format,
// "<32 hex chars of salt>:<128 hex chars of key>", with a bound on how many run at once.
type Hasher struct {
	slots   chan struct{}
	waiting chan struct{}
	maxWait time.Duration
	// tables keeps the 32 MiB scrypt tables of finished hashes for the next ones: at most one per
	// slot exists, so peak hashing memory is Concurrency × 32 MiB and nothing is re-faulted.
	tables chan []uint32
	// idle fires idleRelease after the last hash, handing the tables back to the OS so a server
	// that is only validating sessions does not keep 32 MiB per slot resident.
	idleMu      sync.Mutex // guards idle
	idle        *time.Timer
	idleRelease time.Duration
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
		slots:   make(chan struct{}, cfg.Concurrency),
		waiting: make(chan struct{}, cfg.Queue),
		maxWait: cfg.MaxWait,
		tables:  make(chan []uint32, cfg.Concurrency),

		idleRelease: cfg.IdleRelease,
	}
}

// acquire takes a hashing slot, waiting a bounded time in a bounded queue.
func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	default:
	}
	select {
	case h.waiting <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	defer func() { <-h.waiting }()
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-timer.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Hash returns a new Better-Auth-format hash of password. ErrBusy means too many hashes are
// running or waiting.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	saltHex := hex.EncodeToString(salt)
	key, err := h.derive(password, saltHex)
	if err != nil {
		return "", err
	}
	return saltHex + ":" + hex.EncodeToString(key), nil
}

// Verify reports whether password matches hash, comparing in constant time. A malformed hash is
// reported as a mismatch after doing the same work, so it neither crashes nor answers faster.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	saltHex, keyHex, ok := strings.Cut(hash, ":")
	want, decErr := hex.DecodeString(keyHex)
	if !ok || decErr != nil || len(want) != scryptKeyLen {
		_, _ = h.derive(password, "00000000000000000000000000000000")
		return false, nil
	}
	got, err := h.derive(password, saltHex)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// releaseTables drops the kept scrypt tables and returns their memory to the OS.
func (h *Hasher) releaseTables() {
	dropped := false
	for {
		select {
		case <-h.tables:
			dropped = true
			continue
		default:
		}
		break
	}
	if dropped {
		debug.FreeOSMemory()
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

// derive runs scrypt as Better-Auth does: the password NFKC-normalised, and the salt's hex string
// itself (not the bytes it encodes) as the salt. The caller holds a hashing slot.
func (h *Hasher) derive(password, saltHex string) ([]byte, error) {
	var table []uint32
	select {
	case table = <-h.tables:
	default:
		table = make([]uint32, 32*scryptN*scryptR)
	}
	defer func() {
		select {
		case h.tables <- table:
		default:
		}
		h.idleMu.Lock()
		if h.idle == nil {
			h.idle = time.AfterFunc(h.idleRelease, h.releaseTables)
		} else {
			h.idle.Reset(h.idleRelease)
		}
		h.idleMu.Unlock()
	}()
	return scryptKey(norm.NFKC.String(password), []byte(saltHex), scryptN, scryptR, scryptKeyLen, table)
}

// passwordLength counts UTF-16 code units, as JavaScript's String.length does, which is what
// Better-Auth's minimum and maximum lengths are measured in.
func passwordLength(p string) int { return len(utf16.Encode([]rune(p))) }

// ErrBusy means the password hashing capacity is exhausted; the client should retry shortly.
var ErrBusy = errors.New("auth: password hashing busy")
