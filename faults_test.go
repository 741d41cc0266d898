package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

// tcpProxy forwards a local port to PostgreSQL so a test can cut the database off the way a
// network failure or a serverless suspend does (connections closed, new ones refused), and bring
// it back on the same address.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex // guards ln and conns
	ln     net.Listener
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes every connection and stops accepting: the database is gone.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore accepts connections again on the same address.
func (p *tcpProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("restore proxy: %v", err)
	}
	p.serve(ln)
}

func getStatus(t *testing.T, u, token string) (int, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v (the process must stay up)", u, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, time.Since(start)
}

// With the database gone, requests fail fast with 503 and the process stays up; when it returns,
// the server recovers by itself. Connections the database dropped while idle are replaced without
// a failed request.
func TestDatabaseOutageAndRecovery(t *testing.T) {
	direct := storetest.PostgresURL(t)
	u, _ := url.Parse(direct)
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	base := startInstance(t, map[string]string{"DATABASE_URL": u.String()})

	status, body := post(t, base+"/api/auth/sign-up/email", map[string]any{"name": "F", "email": "fault@example.com", "password": "password123"}, "")
	if status != 200 {
		t.Fatalf("sign-up = %d %v", status, body)
	}
	token := body["token"].(string)

	proxy.cut()
	for _, path := range []string{"/api/auth/get-session", "/readyz"} {
		s, took := getStatus(t, base+path, token)
		if s != http.StatusServiceUnavailable || took > 3*time.Second {
			t.Errorf("%s with the database down = %d after %v, want 503 within 3 s", path, s, took)
		}
	}
	if s, _ := getStatus(t, base+"/healthz", ""); s != 200 {
		t.Errorf("healthz with the database down = %d, want 200 (the process is up)", s)
	}
	s, _ := post(t, base+"/api/auth/sign-in/email", map[string]any{"email": "fault@example.com", "password": "password123"}, "")
	if s != http.StatusServiceUnavailable {
		t.Errorf("sign-in with the database down = %d, want 503", s)
	}

	proxy.restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s, _ := getStatus(t, base+"/api/auth/get-session", token); s == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not recover within 10 s of the database returning")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Serverless Postgres drops idle connections: the next request must not fail.
	admin, err := store.Open(context.Background(), store.Config{URL: direct, MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	time.Sleep(1100 * time.Millisecond) // let the pool's connections go idle
	dbName := strings.TrimPrefix(u.Path, "/")
	if err := admin.ExecAdmin(context.Background(), `select pg_terminate_backend(pid) from pg_stat_activity where datname = '`+dbName+`' and pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	for i := 0; i < 5; i++ {
		if s, _ := post(t, base+"/api/auth/sign-in/email", map[string]any{"email": "fault@example.com", "password": "password123"}, ""); s != 200 {
			t.Fatalf("request %d after idle connections were dropped = %d, want 200", i, s)
		}
	}
}

// SIGTERM (here: cancelling run's context) lets requests already accepted finish.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/d.db"}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	e := map[string]string{"HOST": "127.0.0.1", "PORT": itoa(port), "LOG_LEVEL": "error", "DATA_DIR": t.TempDir()}
	for k, v := range env {
		e[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, envMap(e), nil) }()
	base := "http://127.0.0.1:" + itoa(port)
	for i := 0; i < 100; i++ {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	post(t, base+"/api/auth/sign-up/email", map[string]any{"name": "D", "email": "drain@example.com", "password": "password123"}, "")
	// Sign-ins take tens of milliseconds of scrypt each (more under -race), and with two hashing
	// slots most of them wait their turn inside the server: start several, let them all be
	// accepted, then stop the server. Each uses a fresh connection, because a request sent on a
	// kept-alive connection the server is closing was never accepted and is not this test's subject.
	var wg sync.WaitGroup
	results := make(chan int, 6)
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", base+"/api/auth/sign-in/email", strings.NewReader(`{"email":"drain@example.com","password":"password123"}`))
			req.Header.Set("Content-Type", "application/json")
			res, err := fresh.Do(req)
			if err != nil {
				t.Errorf("in-flight sign-in failed: %v", err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			results <- res.StatusCode
		}()
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	close(results)
	for s := range results {
		if s != 200 && s != 503 {
			t.Errorf("in-flight sign-in finished with %d", s)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("run after shutdown: %v", err)
	}
}
