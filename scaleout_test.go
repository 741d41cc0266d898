package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"authserver/store/storetest"
)

// startInstance runs the whole server (run) in-process on a free port with env, and returns its
// base URL. It stops when the test ends.
func startInstance(t *testing.T, env map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	e := map[string]string{"HOST": "127.0.0.1", "PORT": strconv.Itoa(port), "LOG_LEVEL": "error",
		"DATA_DIR": t.TempDir(), "BETTER_AUTH_SECRET": "scale-out-secret-0123456789abcdef0123",
		"BETTER_AUTH_URL": "http://localhost:8000", "BETTER_AUTH_TRUSTED_ORIGINS": "http://app.example.test"}
	for k, v := range env {
		e[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	devNull, _ := os.Open(os.DevNull)
	logTo := devNull
	if os.Getenv("TEST_SERVER_LOGS") != "" {
		logTo = os.Stderr
	}
	go func() { done <- run(ctx, envMap(e), logTo) }()
	t.Cleanup(func() {
		cancel()
		<-done
		devNull.Close()
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for i := 0; i < 200; i++ {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("instance never became ready")
	return ""
}

func post(t *testing.T, url string, body any, token string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

func sessionValid(t *testing.T, base, token string) bool {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/auth/get-session", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode == 200 && string(raw) != "null"
}

// Two instances on one PostgreSQL (with and without Redis) behave as one server.
func TestScaleOutTwoInstances(t *testing.T) {
	for _, withRedis := range []bool{false, true} {
		name := "postgres"
		if withRedis {
			name = "postgres+redis"
		}
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": storetest.PostgresURL(t)}
			if withRedis {
				if os.Getenv("TEST_REDIS_URL") == "" {
					t.Skip("TEST_REDIS_URL is not set")
				}
				env["REDIS_URL"] = os.Getenv("TEST_REDIS_URL")
			}
			a := startInstance(t, env)
			b := startInstance(t, env)

			status, body := post(t, a+"/api/auth/sign-up/email", map[string]any{"name": "S", "email": "scale@example.com", "password": "password123"}, "")
			if status != 200 {
				t.Fatalf("sign-up on A = %d %v", status, body)
			}
			token := body["token"].(string)
			for _, base := range []string{a, b, b} { // the repeat on B is served from B's cache
				if !sessionValid(t, base, token) {
					t.Fatalf("session not valid on %s", base)
				}
			}
			if status, _ := post(t, b+"/api/auth/sign-out", map[string]any{}, token); status != 200 {
				t.Fatalf("sign-out on B = %d", status)
			}
			deadline := time.Now().Add(time.Second)
			for sessionValid(t, a, token) {
				if time.Now().After(deadline) {
					t.Fatal("A still accepts the session a second after B revoked it")
				}
				time.Sleep(20 * time.Millisecond)
			}

			// Sign-ups with one email raced across both instances leave exactly one user.
			var wg sync.WaitGroup
			var mu sync.Mutex
			created := 0
			for i := 0; i < 10; i++ {
				wg.Add(1)
				go func(base string) {
					defer wg.Done()
					s, _ := post(t, base+"/api/auth/sign-up/email", map[string]any{"name": "R", "email": "race@example.com", "password": "password123"}, "")
					mu.Lock()
					defer mu.Unlock()
					if s == 200 {
						created++
					} else if s != 422 && s != 503 {
						t.Errorf("racing sign-up = %d", s)
					}
				}([]string{a, b}[i%2])
			}
			wg.Wait()
			if created != 1 {
				t.Errorf("%d racing sign-ups succeeded, want 1", created)
			}
		})
	}
}

// The sign-in lockout is counted in the shared store: failed sign-ins alternated between two
// instances on one PostgreSQL database (counting in the database, or in Redis when it is
// configured) lock the e-mail on both, with the same answer a single instance gives; a success
// after the lock clears the count everywhere.
func TestScaleOutSharedLockout(t *testing.T) {
	for _, withRedis := range []bool{false, true} {
		name := "postgres"
		if withRedis {
			name = "postgres+redis"
		}
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": storetest.PostgresURL(t), "LOCKOUT_ENABLED": "true",
				"LOCKOUT_THRESHOLD": "4", "LOCKOUT_BASE": "2s", "LOCKOUT_MAX": "1m", "RATE_LIMIT_ENABLED": "false"}
			if withRedis {
				if os.Getenv("TEST_REDIS_URL") == "" {
					t.Skip("TEST_REDIS_URL is not set")
				}
				env["REDIS_URL"] = os.Getenv("TEST_REDIS_URL")
			}
			a := startInstance(t, env)
			b := startInstance(t, env)
			email := "lock-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.com" // Redis outlives the database
			if status, body := post(t, a+"/api/auth/sign-up/email", map[string]any{"name": "L", "email": email, "password": "password123"}, ""); status != 200 {
				t.Fatalf("sign-up = %d %v", status, body)
			}
			for i, base := range []string{a, b, a, b} {
				status, body := post(t, base+"/api/auth/sign-in/email", map[string]any{"email": email, "password": "wrong-password"}, "")
				if status != 401 || body["code"] != "INVALID_EMAIL_OR_PASSWORD" {
					t.Fatalf("failure %d = %d %v, want 401 INVALID_EMAIL_OR_PASSWORD", i+1, status, body)
				}
			}
			// Each instance saw two failures, under the threshold of four on its own: only the
			// shared count locks.
			for _, base := range []string{a, b} {
				status, body := post(t, base+"/api/auth/sign-in/email", map[string]any{"email": email, "password": "password123"}, "")
				if status != 429 || body["code"] != "TOO_MANY_ATTEMPTS" {
					t.Errorf("right password while locked on %s = %d %v, want 429 TOO_MANY_ATTEMPTS", base, status, body)
				}
			}
			time.Sleep(2100 * time.Millisecond)
			if status, body := post(t, b+"/api/auth/sign-in/email", map[string]any{"email": email, "password": "password123"}, ""); status != 200 {
				t.Fatalf("sign-in after the lock = %d %v, want 200", status, body)
			}
			// The success on B cleared the shared count: one failure on A does not lock again.
			post(t, a+"/api/auth/sign-in/email", map[string]any{"email": email, "password": "wrong-password"}, "")
			if status, body := post(t, a+"/api/auth/sign-in/email", map[string]any{"email": email, "password": "password123"}, ""); status != 200 {
				t.Errorf("sign-in after a cleared count = %d %v, want 200", status, body)
			}
		})
	}
}
