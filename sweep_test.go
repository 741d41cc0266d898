package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

// The running server sweeps on its own every SWEEP_INTERVAL: an abandoned, expired session is
// deleted without anyone presenting it, and a live session keeps working.
func TestServerSweepsExpiredSessions(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var u string
			if dialect == "sqlite" {
				u = "sqlite:" + filepath.Join(t.TempDir(), "app.db")
			} else {
				u = storetest.PostgresURL(t)
			}
			base := startInstance(t, map[string]string{"DATABASE_URL": u, "SWEEP_INTERVAL": "100ms"})
			ctx := context.Background()
			st, err := store.Open(ctx, store.Config{URL: u})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()

			status, body := post(t, base+"/api/auth/sign-up/email", map[string]any{"name": "S", "email": "sweep@example.com", "password": "password123"}, "")
			if status != 200 {
				t.Fatalf("sign-up = %d %v", status, body)
			}
			token := body["token"].(string)
			user := body["user"].(map[string]any)["id"].(string)
			now := store.NewTime(time.Now())
			ip := ""
			old := &store.Session{ID: "abandoned", Token: "abandoned-token", UserID: user, CreatedAt: now, UpdatedAt: now,
				ExpiresAt: store.NewTime(time.Now().Add(-2 * time.Minute)), IPAddress: &ip, UserAgent: &ip}
			if err := st.CreateSession(ctx, old); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				_, _, err := st.SessionByToken(ctx, "abandoned-token")
				if errors.Is(err, store.ErrNotFound) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("expired session still there 5 s after it was written (err %v)", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if !sessionValid(t, base, token) {
				t.Error("the live session stopped working after the sweep")
			}
		})
	}
}
