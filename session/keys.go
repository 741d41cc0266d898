package session

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Keys is the server's set of secrets during a rotation, read from Better-Auth 1.7.25's
// BETTER_AUTH_SECRETS ("<version>:<secret>,…", newest first) and BETTER_AUTH_SECRET. The newest
// signs every new cookie and seals every new value at rest; the older versions (and the legacy
// single secret) are only accepted, so a rotation signs nobody out and loses no stored secret.
type Keys struct {
	// Version is the current secret's version, or -1 when the server runs on a single
	// unversioned secret (values at rest are then written without the "$ba$" envelope).
	Version int
	// Current signs and seals.
	Current []byte
	// Versions maps every configured version, current included, to its secret.
	Versions map[int][]byte
	// Legacy is the unversioned secret (BETTER_AUTH_SECRET) still accepted alongside versioned
	// ones: it opens values stored without an envelope and verifies cookies signed before the
	// rotation began. Nil when not configured.
	Legacy []byte
}

// SingleKey is the keyring of a server with one unversioned secret, the behaviour before rotation.
func SingleKey(secret []byte) Keys { return Keys{Version: -1, Current: secret} }

// Versioned reports whether values at rest are written in the "$ba$<version>$" envelope.
func (k Keys) Versioned() bool { return k.Version >= 0 }

// Verifiers lists every secret a signature may have been made with: the current one first (the
// common case costs one HMAC), then older versions newest first, then the legacy secret.
func (k Keys) Verifiers() [][]byte {
	out := [][]byte{k.Current}
	vs := make([]int, 0, len(k.Versions))
	for v := range k.Versions {
		if v != k.Version {
			vs = append(vs, v)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(vs)))
	for _, v := range vs {
		out = append(out, k.Versions[v])
	}
	if len(k.Legacy) > 0 && string(k.Legacy) != string(k.Current) {
		out = append(out, k.Legacy)
	}
	return out
}

// ParseSecrets reads BETTER_AUTH_SECRETS as Better-Auth 1.7.25 does: comma-separated
// "<version>:<secret>" entries, the first the current one; versions are distinct non-negative
// integers and no secret is empty. legacy (BETTER_AUTH_SECRET, may be empty) stays accepted for
// values and cookies made before versioning. An empty value returns SingleKey(legacy).
func ParseSecrets(value string, legacy []byte) (Keys, error) {
	if strings.TrimSpace(value) == "" {
		return SingleKey(legacy), nil
	}
	k := Keys{Version: -1, Versions: map[int][]byte{}}
	for i, entry := range strings.Split(value, ",") {
		entry = strings.TrimSpace(entry)
		colon := strings.IndexByte(entry, ':')
		if colon < 0 {
			return Keys{}, fmt.Errorf("invalid BETTER_AUTH_SECRETS entry at position %d: expected \"<version>:<secret>\"", i+1)
		}
		v, err := strconv.Atoi(strings.TrimSpace(entry[:colon]))
		if err != nil || v < 0 {
			return Keys{}, fmt.Errorf("invalid version in BETTER_AUTH_SECRETS entry at position %d: it must be a non-negative integer", i+1)
		}
		s := strings.TrimSpace(entry[colon+1:])
		if s == "" {
			return Keys{}, fmt.Errorf("empty secret for version %d in BETTER_AUTH_SECRETS", v)
		}
		if _, dup := k.Versions[v]; dup {
			return Keys{}, fmt.Errorf("duplicate version %d in BETTER_AUTH_SECRETS", v)
		}
		k.Versions[v] = []byte(s)
		if i == 0 {
			k.Version, k.Current = v, []byte(s)
		}
	}
	if len(legacy) > 0 {
		k.Legacy = legacy
	}
	return k, nil
}

// UnsignAny is Unsign against every secret the keyring accepts (see Keys.Verifiers).
func (k Keys) UnsignAny(signed string) (string, bool) {
	for _, s := range k.Verifiers() {
		if v, ok := Unsign(s, signed); ok {
			return v, true
		}
	}
	return "", false
}
