package auth

import (
	_ "embed"
	"errors"
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
// tells nothing about which accounts exist. Counters live in this process.
type LockoutConfig struct {
	Enabled   bool
	Threshold int           // default 5
	Base      time.Duration // default 1 minute
	Max       time.Duration // default 1 hour
}

type lockout struct {
	cfg LockoutConfig
	mu  sync.Mutex // guards state
	st  map[string]*lockState
}

type lockState struct {
	failures    int
	lockedUntil time.Time
	last        time.Time
}

func newLockout(cfg LockoutConfig) *lockout {
	if cfg.Threshold <= 0 {
		cfg.Threshold = 5
	}
	if cfg.Base <= 0 {
		cfg.Base = time.Minute
	}
	if cfg.Max <= 0 {
		cfg.Max = time.Hour
	}
	return &lockout{cfg: cfg, st: map[string]*lockState{}}
}

// check returns how long the email is still locked (0 when it may try).
func (l *lockout) check(email string, now time.Time) time.Duration {
	if l == nil || !l.cfg.Enabled {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.st[email]; s != nil && now.Before(s.lockedUntil) {
		return s.lockedUntil.Sub(now)
	}
	return 0
}

// fail records a failed attempt and locks the email once the threshold is reached.
func (l *lockout) fail(email string, now time.Time) {
	if l == nil || !l.cfg.Enabled {
		return
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
	if over := s.failures - l.cfg.Threshold; over >= 0 {
		d := l.cfg.Base << min(over, 20)
		if d > l.cfg.Max || d <= 0 {
			d = l.cfg.Max
		}
		s.lockedUntil = now.Add(d)
	}
}

// succeed clears the email's failures.
func (l *lockout) succeed(email string) {
	if l == nil || !l.cfg.Enabled {
		return
	}
	l.mu.Lock()
	delete(l.st, email)
	l.mu.Unlock()
}
