package auth

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
)

//go:embed common-passwords.txt
var commonPasswordsFile string

var (
	commonOnce      sync.Once
	commonPasswords map[string]struct{}
)

// isCommonPassword reports whether p (compared case-insensitively) is among the 10,000 most
// common passwords shipped with the binary. NIST SP 800-63B asks verifiers to refuse passwords
// found in such lists, rather than to impose composition rules.
func isCommonPassword(p string) bool {
	commonOnce.Do(func() {
		commonPasswords = make(map[string]struct{}, 10000)
		for _, line := range strings.Split(commonPasswordsFile, "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				commonPasswords[line] = struct{}{}
			}
		}
	})
	_, found := commonPasswords[strings.ToLower(p)]
	return found
}

// ErrPasswordCompromised refuses a password from the common-passwords list (the code Better-Auth's
// haveibeenpwned plugin uses for the same refusal).
var ErrPasswordCompromised = errors.New("auth: password is too common")

// ErrTooManyAttempts means the account (or address) is locked after repeated failed sign-ins.
var ErrTooManyAttempts = errors.New("auth: too many failed sign-in attempts")

// LockedError carries how long a locked email must wait; it matches ErrTooManyAttempts.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string { return ErrTooManyAttempts.Error() }

// Is makes errors.Is(err, ErrTooManyAttempts) true.
func (e *LockedError) Is(target error) bool { return target == ErrTooManyAttempts }

// LockoutConfig turns on per-account lockout, which Better-Auth does not have: after Threshold
// consecutive failed sign-ins for one email, sign-in for that email is refused for Base, doubling
// with every further failure up to Max. It applies to any email, existing or not, so a lockout
// tells nothing about which accounts exist. Counters live in Store when one is set (the database
// or Redis, shared by every replica), otherwise in this process.
type LockoutConfig struct {
	Enabled   bool
	Threshold int           // default 5
	Base      time.Duration // default 1 minute
	Max       time.Duration // default 1 hour
	// Store, when set, holds the counters where every replica counts them; while it fails, the
	// counters of this process stand in, so an outage weakens the lockout but refuses no one.
	Store LockoutStore
}

// LockoutStore keeps sign-in failure counters shared by replicas. Keys are opaque (a hash of
// the identifier); a count whose last failure is more than resetMs old starts again at 1.
type LockoutStore interface {
	// LockoutState returns the failures under key and the time of the last (ms since the
	// epoch), (0, 0) when there are none.
	LockoutState(ctx context.Context, key string) (failures int, lastMs int64, err error)
	// LockoutFail counts one failure at nowMs and returns the new count.
	LockoutFail(ctx context.Context, key string, nowMs, resetMs int64) (failures int, err error)
	// LockoutClear forgets the failures under key.
	LockoutClear(ctx context.Context, key string) error
}

type lockout struct {
	cfg LockoutConfig
	log *slog.Logger
	mu  sync.Mutex // guards state
	st  map[string]*lockState
}

type lockState struct {
	failures    int
	lockedUntil time.Time
	last        time.Time
}

func newLockout(cfg LockoutConfig, log *slog.Logger) *lockout {
	if cfg.Threshold <= 0 {
		cfg.Threshold = 5
	}
	if cfg.Base <= 0 {
		cfg.Base = time.Minute
	}
	if cfg.Max <= 0 {
		cfg.Max = time.Hour
	}
	return &lockout{cfg: cfg, log: log, st: map[string]*lockState{}}
}

// lockFor is how long failures consecutive failures lock an identifier (0 under the threshold).
func (l *lockout) lockFor(failures int) time.Duration {
	over := failures - l.cfg.Threshold
	if over < 0 {
		return 0
	}
	d := l.cfg.Base << min(over, 20)
	if d > l.cfg.Max || d <= 0 {
		d = l.cfg.Max
	}
	return d
}

// sharedKey is the identifier's key in the shared store: a hash, so no e-mail address is written
// into the rateLimit table or Redis.
func sharedKey(email string) string {
	h := sha256.Sum256([]byte("lockout\x00" + email))
	return "lockout:" + hex.EncodeToString(h[:16])
}

// storeFailed logs a shared-store error; the caller falls back to this process's counters.
func (l *lockout) storeFailed(op string, err error) {
	l.log.Warn("sign-in lockout store unavailable; counting in this process", slog.String("op", op), slog.String("error", err.Error()))
}

// check returns how long the email is still locked (0 when it may try).
func (l *lockout) check(ctx context.Context, email string, now time.Time) time.Duration {
	if l == nil || !l.cfg.Enabled {
		return 0
	}
	if l.cfg.Store != nil {
		n, last, err := l.cfg.Store.LockoutState(ctx, sharedKey(email))
		if err == nil {
			if until := time.UnixMilli(last).Add(l.lockFor(n)); n > 0 && now.Before(until) {
				return until.Sub(now)
			}
			return 0
		}
		if ctx.Err() == nil { // a client that hung up is no store outage
			l.storeFailed("check", err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.st[email]; s != nil && now.Before(s.lockedUntil) {
		return s.lockedUntil.Sub(now)
	}
	return 0
}

// fail records a failed attempt and locks the email once the threshold is reached.
func (l *lockout) fail(ctx context.Context, email string, now time.Time) {
	if l == nil || !l.cfg.Enabled {
		return
	}
	if l.cfg.Store != nil {
		_, err := l.cfg.Store.LockoutFail(context.WithoutCancel(ctx), sharedKey(email), now.UnixMilli(), l.cfg.Max.Milliseconds())
		if err == nil {
			return
		}
		l.storeFailed("fail", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.st) > 100_000 {
		for k, s := range l.st {
			if now.Sub(s.last) > l.cfg.Max {
				delete(l.st, k)
			}
		}
	}
	s := l.st[email]
	if s == nil || now.Sub(s.last) > l.cfg.Max {
		s = &lockState{}
		l.st[email] = s
	}
	s.failures++
	s.last = now
	if d := l.lockFor(s.failures); d > 0 {
		s.lockedUntil = now.Add(d)
	}
}

// succeed clears the email's failures.
func (l *lockout) succeed(ctx context.Context, email string) {
	if l == nil || !l.cfg.Enabled {
		return
	}
	if l.cfg.Store != nil {
		if err := l.cfg.Store.LockoutClear(context.WithoutCancel(ctx), sharedKey(email)); err != nil {
			l.storeFailed("clear", err)
		}
	}
	l.mu.Lock()
	delete(l.st, email)
	l.mu.Unlock()
}
