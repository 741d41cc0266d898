package session

import (
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"authserver/store"
)

// The session_data cookie captured from better-auth (spec §14) verifies here.
const capturedCache = `{"session":{"session":{"expiresAt":"2026-12-03T03:26:05.535Z","token":"HIa2keEyilat3pmWH8KvGlpNXZRzNk2e","createdAt":"2026-11-26T03:26:05.535Z","updatedAt":"2026-11-26T03:26:05.535Z","ipAddress":"","userAgent":"","userId":"VzpS9v4mfLu7wT0jnH87iYKwEXHPqet5","id":"efqERBeMfZiAjo5FG0DajlHSdvMuuphV"},"user":{"name":"Carol","email":"carol@example.com","emailVerified":false,"image":"http://img","createdAt":"2026-11-26T03:26:05.532Z","updatedAt":"2026-11-26T03:26:05.532Z","id":"VzpS9v4mfLu7wT0jnH87iYKwEXHPqet5"},"updatedAt":1795663565537,"version":"1"},"expiresAt":1795663865537,"signature":"-LvcZEi9crwb9N-N1j59gYX1RRPPq8mLUMXRUKfnDuI"}`

func cacheManager(now time.Time) *Manager {
	return New(Config{Secret: []byte("test-secret-0123456789abcdef0123456789abcdef"), CookieCache: true, Now: func() time.Time { return now }}, nil)
}

func TestCookieCacheReadsBetterAuthVector(t *testing.T) {
	now := time.UnixMilli(1795663865537 - 60_000)
	m := cacheManager(now)
	raw := base64.RawURLEncoding.EncodeToString([]byte(capturedCache))
	a, ok := m.readCacheCookie(raw, "HIa2keEyilat3pmWH8KvGlpNXZRzNk2e", now)
	if !ok || a.User.Name != "Carol" || a.Session.ID != "efqERBeMfZiAjo5FG0DajlHSdvMuuphV" {
		t.Fatalf("captured cookie: ok=%v auth=%+v", ok, a)
	}
	for name, tc := range map[string]struct {
		raw, token string
		at         time.Time
	}{
		"other token":      {raw, "otherTokenOtherTokenOtherToken00", now},
		"cache expired":    {raw, "HIa2keEyilat3pmWH8KvGlpNXZRzNk2e", time.UnixMilli(1795663865537 + 1)},
		"tampered user":    {base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(capturedCache, "Carol", "Mallory", 1))), "HIa2keEyilat3pmWH8KvGlpNXZRzNk2e", now},
		"not base64 json":  {"%%%", "HIa2keEyilat3pmWH8KvGlpNXZRzNk2e", now},
		"forged signature": {base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(capturedCache, "-LvcZ", "-LvcY", 1))), "HIa2keEyilat3pmWH8KvGlpNXZRzNk2e", now},
	} {
		if _, ok := m.readCacheCookie(tc.raw, tc.token, tc.at); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCookieCacheRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC)
	m := cacheManager(now)
	ip, ua := "", "agent </script> \u2603"
	a := &Auth{
		Session: store.Session{ID: "sid", Token: "tok", UserID: "uid", IPAddress: &ip, UserAgent: &ua,
			CreatedAt: store.NewTime(now), UpdatedAt: store.NewTime(now), ExpiresAt: store.NewTime(now.Add(time.Hour))},
		User: store.User{ID: "uid", Name: "Zoë & co", Email: "z@example.com", CreatedAt: store.NewTime(now), UpdatedAt: store.NewTime(now)},
	}
	rec := httptest.NewRecorder()
	m.writeCacheCookie(rec, a, false, now)
	line := rec.Header().Get("Set-Cookie")
	if !strings.HasPrefix(line, "better-auth.session_data=") || !strings.Contains(line, "Max-Age=300") {
		t.Fatalf("Set-Cookie = %q", line)
	}
	val := strings.TrimPrefix(strings.SplitN(line, ";", 2)[0], "better-auth.session_data=")
	got, ok := m.readCacheCookie(val, "tok", now.Add(time.Minute))
	if !ok || got.User.Name != "Zoë & co" || *got.Session.UserAgent != ua || !got.Session.ExpiresAt.Equal(a.Session.ExpiresAt.Time) {
		t.Fatalf("round trip: ok=%v %+v", ok, got)
	}
	if _, ok := m.readCacheCookie(val, "tok", now.Add(6*time.Minute)); ok {
		t.Error("cache cookie accepted after its 5-minute life")
	}
}
