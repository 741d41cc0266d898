package session

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// fuzzSecret signs the values in testdata/fuzz; changing it invalidates the signed seeds.
const fuzzSecret = "test-secret-0123456789abcdef0123456789abcdef"

// signedBy reports whether signed is exactly Sign(key, value): the only spelling Unsign may
// accept (its strict base64 decoding refuses the other spellings of the same MAC).
func signedBy(key []byte, value, signed string) bool { return signed == Sign(key, value) }

// FuzzUnsign: Unsign never panics, and whatever it accepts carries a valid signature of the value
// it returns, made with the key.
func FuzzUnsign(f *testing.F) {
	key := []byte(fuzzSecret)
	f.Add(Sign(key, "Oa4vWTxnHehZJQRwLtpsbOW8uJEctD9c"))
	f.Fuzz(func(t *testing.T, signed string) {
		v, ok := Unsign(key, signed)
		if !ok {
			if v != "" {
				t.Errorf("Unsign(%q) refused but returned %q", signed, v)
			}
			return
		}
		if v == "" || !strings.HasPrefix(signed, v+".") || !signedBy(key, v, signed) {
			t.Errorf("Unsign(%q) accepted value %q without its signature", signed, v)
		}
		if _, ok := Unsign([]byte("another-secret-0123456789abcdef0123456789"), signed); ok {
			t.Errorf("Unsign(%q) accepted under two keys", signed)
		}
	})
}

// FuzzReadCookie: arbitrary Cookie headers never panic ReadCookie or the session cookie reader,
// and a session token comes out only when the header carries its signature.
func FuzzReadCookie(f *testing.F) {
	key := []byte(fuzzSecret)
	m := New(Config{Secret: key}, nil)
	f.Add("better-auth.session_token=" + EncodeURIComponent(Sign(key, "Oa4vWTxnHehZJQRwLtpsbOW8uJEctD9c")))
	f.Fuzz(func(t *testing.T, header string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = []string{header}
		for _, name := range []string{m.names.token, m.names.dontRemember, m.names.data, ""} {
			v, ok := ReadCookie(r, name)
			if ok && (!strings.Contains(header, name) || !strings.Contains(header, "=")) {
				t.Errorf("ReadCookie(%q, %q) = %q, but the header has no such cookie", header, name, v)
			}
		}
		if tok, ok := m.TokenFrom(r); ok {
			raw, _ := ReadCookie(r, m.names.token)
			if !signedBy(key, tok, raw) {
				t.Errorf("TokenFrom(Cookie: %q) = %q without a signature", header, tok)
			}
		}
		_ = m.dontRemember(r)
	})
}

// FuzzBearer: Authorization values never panic Manager.TokenFrom, a value with a "." is accepted
// only when it is a signed token, and a raw token only as it is (up to 255 characters).
func FuzzBearer(f *testing.F) {
	key := []byte(fuzzSecret)
	m := New(Config{Secret: key}, nil)
	f.Add("Bearer " + Sign(key, "Oa4vWTxnHehZJQRwLtpsbOW8uJEctD9c"))
	f.Fuzz(func(t *testing.T, authorization string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{authorization}
		tok, ok := m.TokenFrom(r)
		if !ok {
			return
		}
		if len(authorization) < 7 || !strings.EqualFold(authorization[:7], "bearer ") {
			t.Fatalf("TokenFrom(Authorization: %q) = %q for a non-bearer value", authorization, tok)
		}
		sent := strings.TrimSpace(authorization[7:])
		switch {
		case strings.Contains(sent, "."):
			if !signedBy(key, tok, tryDecode(sent)) {
				t.Errorf("TokenFrom(Authorization: %q) = %q: accepted without a valid signature", authorization, tok)
			}
		case tok != sent || tok == "" || len(tok) > 255:
			t.Errorf("TokenFrom(Authorization: %q) = %q, want the raw token as sent", authorization, tok)
		}
	})
}

// FuzzHandleInvalidation: no invalidation message, whatever a database role sends on the channel,
// crashes the listener; and a cached session survives one only when the message clearly names
// another session or another user (or is not an invalidation at all).
func FuzzHandleInvalidation(f *testing.F) {
	a := benchAuth(5)
	key := cacheKey(a.Session.Token)
	f.Add("t:" + key.String())
	f.Add("t:" + key.String() + ":" + a.User.ID)
	f.Add("t:" + cacheKey("other").String())
	f.Add("u:" + a.User.ID)
	f.Add("u:someone-else")
	f.Add("*")
	f.Add("t:" + strings.Repeat("ab", 32))
	f.Fuzz(func(t *testing.T, msg string) {
		m := &Manager{cache: newCache(time.Minute, 10, defaultCacheBytes)}
		now := time.Now()
		m.cache.put(key, a, 0, now)
		m.cache.put(key, a, 0, now)
		m.HandleInvalidation(msg)
		_, kept := m.cache.get(key, a.Session.Token, now)
		if !kept {
			return
		}
		switch {
		case strings.HasPrefix(msg, msgToken):
			k, valid := parseKey(tokenMessageKey(msg))
			if !valid || k == key {
				t.Errorf("%q: session still cached", msg)
			}
		case strings.HasPrefix(msg, msgUser):
			if strings.TrimPrefix(msg, msgUser) == a.User.ID {
				t.Errorf("%q: the user's session still cached", msg)
			}
		case msg == "*":
			t.Errorf("%q: session still cached", msg)
		}
	})
}
