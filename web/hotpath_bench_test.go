package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"authserver/auth"
	"authserver/session"
	"authserver/store/storetest"
	"authserver/web"
)

// BenchmarkGetSessionCached is the hot path without the network: an authenticated get-session
// answered from the session cache, through the whole handler stack. Run with -benchmem to watch
// allocations per request, which set how often the collector runs under load.
func BenchmarkGetSessionCached(b *testing.B) {
	st := storetest.OpenSQLite(b)
	sessions := session.New(session.Config{Secret: []byte(testSecret)}, st)
	svc := auth.New(auth.Config{}, st, sessions)
	h := web.New(web.Config{BaseURL: testBaseURL, TrustedOrigins: []string{trusted}}, web.Deps{Store: st, Sessions: sessions, Auth: svc})

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/api/auth/sign-up/email", strings.NewReader(`{"email":"bench@example.com","password":"bench-password-1","name":"Bench"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", trusted)
	h.ServeHTTP(rec, req)
	token := rec.Header().Get("Set-Auth-Token")
	if rec.Code != http.StatusOK || token == "" {
		b.Fatalf("sign-up: %d %s", rec.Code, rec.Body)
	}
	get := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/auth/get-session", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := 0; i < 3; i++ { // a session is cached from its second read
		if w := get(); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "bench@example.com") {
			b.Fatalf("get-session: %d %s", w.Code, w.Body)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		get()
	}
}
