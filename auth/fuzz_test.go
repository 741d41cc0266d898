package auth

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEmailValidation: ValidEmail and NormalizeEmail never panic, normalising twice changes
// nothing, and an accepted email is plain ASCII with exactly one "@", no spaces or line breaks
// (which could inject mail headers), and stays valid once normalised.
func FuzzEmailValidation(f *testing.F) {
	f.Add("user@example.com")
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidEmail(s)
		n := NormalizeEmail(s)
		if again := NormalizeEmail(n); again != n {
			t.Errorf("NormalizeEmail is not idempotent: %q -> %q -> %q", s, n, again)
		}
		if !ok {
			return
		}
		if len(s) > 320 || strings.Count(s, "@") != 1 {
			t.Errorf("ValidEmail(%q) accepted %d bytes with %d '@'", s, len(s), strings.Count(s, "@"))
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("ValidEmail(%q) accepted byte %#x", s, c)
			}
		}
		local, domain, _ := strings.Cut(s, "@")
		if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
			t.Errorf("ValidEmail(%q) accepted local %q, domain %q", s, local, domain)
		}
		if !ValidEmail(n) || !utf8.ValidString(n) || len(n) != len(s) {
			t.Errorf("NormalizeEmail(%q) = %q, which is no longer a valid email of the same length", s, n)
		}
	})
}
