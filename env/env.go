// Package env reads configuration from environment variables. Each package that has options
// reads its own with a Reader in its LoadConfig; main only calls those and wires the results.
//
// A Reader never stops at the first bad value: it keeps the default, remembers an error naming
// the variable, and Err reports every problem at once, so an operator fixes them in one go.
package env

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Reader reads variables through getenv (os.Getenv in main, a map in tests) and collects errors.
// The zero value is not usable; call New.
type Reader struct {
	getenv func(string) string
	errs   []error
}

// New returns a Reader over getenv.
func New(getenv func(string) string) *Reader { return &Reader{getenv: getenv} }

// String returns the variable with surrounding spaces trimmed, or def when that leaves it empty.
func (r *Reader) String(key, def string) string {
	if v := strings.TrimSpace(r.getenv(key)); v != "" {
		return v
	}
	return def
}

// Raw returns the variable exactly as set, spaces included (for secrets, where a space is data).
func (r *Reader) Raw(key string) string { return r.getenv(key) }

// Bool reads 1/true/yes/on or 0/false/no/off (any case); unset means def. A bad value is an
// error "KEY: "v" is not a boolean" and reads as false.
func (r *Reader) Bool(key string, def bool) bool {
	v := r.String(key, "")
	if v == "" {
		return def
	}
	b, err := parseBool(v)
	r.check(key, err)
	return b
}

// OptionalBool is Bool for settings whose absence means something of its own: nil when unset.
func (r *Reader) OptionalBool(key string) *bool {
	if r.String(key, "") == "" {
		return nil
	}
	b := r.Bool(key, false)
	return &b
}

// Int reads a non-negative whole number; unset or bad means def (a bad value is also an error).
func (r *Reader) Int(key string, def int) int {
	v := r.String(key, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		r.check(key, fmt.Errorf("%q is not a non-negative whole number", v))
		return def
	}
	return n
}

// Duration reads a Go duration ("36h") or a plain number of seconds, as Better-Auth's options are
// given in seconds; unset or bad means def (a bad value is also an error).
func (r *Reader) Duration(key string, def time.Duration) time.Duration {
	v := r.String(key, "")
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			r.check(key, errors.New("must not be negative"))
			return def
		}
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.check(key, fmt.Errorf("%q is not a duration (use seconds or a form like 36h)", v))
		return def
	}
	return d
}

// List splits a comma-separated variable, dropping empty items and spaces around each.
func (r *Reader) List(key string) []string {
	var out []string
	for _, s := range strings.Split(r.getenv(key), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Fail records a problem that is not about one value's syntax (a combination, a range); the
// message should name the variables involved.
func (r *Reader) Fail(err error) {
	if err != nil {
		r.errs = append(r.errs, err)
	}
}

// Err joins every problem recorded so far, or returns nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

func (r *Reader) check(key string, err error) {
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %w", key, err))
	}
}

// parseBool is the boolean syntax of Bool; the empty string is false.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("%q is not a boolean", v)
}
