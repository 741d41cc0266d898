package plugin

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EnvBool reads a true/false option (also 1/0, yes/no, on/off; empty is false) for a plugin's
// LoadConfig; the error names the variable.
func EnvBool(getenv func(string) string, name string) (bool, error) {
	switch v := strings.ToLower(strings.TrimSpace(getenv(name))); v {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	default:
		return false, fmt.Errorf("%s: %q is not true or false", name, v)
	}
}

// EnvHashedTokens reads Better-Auth's storeToken option ("plain", the default, or "hashed": keep
// only HashToken of each token in the verification table).
func EnvHashedTokens(getenv func(string) string, name string) (bool, error) {
	switch v := strings.ToLower(strings.TrimSpace(getenv(name))); v {
	case "", "plain":
		return false, nil
	case "hashed":
		return true, nil
	default:
		return false, fmt.Errorf("%s: %q is not plain or hashed", name, v)
	}
}

// EnvDuration reads a whole number of units between 1 and max (def when empty), as the plugins'
// lifetimes are given in Better-Auth (seconds or minutes).
func EnvDuration(getenv func(string) string, name string, unit time.Duration, max int, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > max {
		what := "seconds"
		if unit == time.Minute {
			what = "minutes"
		}
		return def, fmt.Errorf("%s: %q is not a number of %s between 1 and %d", name, v, what, max)
	}
	return time.Duration(n) * unit, nil
}
