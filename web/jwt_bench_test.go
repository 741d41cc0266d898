package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"authserver/auth"
	"authserver/auth/jwt"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store/storetest"
	"authserver/web"
)

// BenchmarkGetSessionJWT is BenchmarkGetSessionCached with and without the jwt plugin, in the
// same sitting: with it every get-session reads the key rows and signs a fresh EdDSA JWT for the
// set-auth-jwt header, which is the plugin's whole cost on the hot path.
func BenchmarkGetSessionJWT(b *testing.B) {
	for _, withJWT := range []bool{false, true} {
		name := "cookie"
		if withJWT {
			name = "cookie+jwt"
		}
		b.Run(name, func(b *testing.B) {
			st := storetest.OpenSQLite(b)
			var ps []plugin.Plugin
			if withJWT {
				ps = []plugin.Plugin{jwt.New(jwt.Config{Issuer: testBaseURL, Audience: []string{testBaseURL}})}
				if err := plugin.Install(context.Background(), st, ps); err != nil {
					b.Fatal(err)
				}
			}
			sessions := session.New(session.Config{Secret: []byte(testSecret)}, st)
			svc := auth.New(auth.Config{Plugins: ps}, st, sessions)
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
			for i := 0; i < 3; i++ {
				w := get()
				if w.Code != http.StatusOK || (w.Header().Get("set-auth-jwt") != "") != withJWT {
					b.Fatalf("get-session: %d %s set-auth-jwt %q", w.Code, w.Body, w.Header().Get("set-auth-jwt"))
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				get()
			}
		})
	}
}
