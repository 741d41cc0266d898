// Command soak drives the server at a fixed request rate with a mixed workload for a while and
// fails unless every response was below 500 and memory stayed flat. It builds and starts the
// server itself (SQLite in a temporary folder, or PostgreSQL with -db).
//
//	go run ./bench/soak -duration 3m -rate 60          # the soak
//	go run ./bench/soak -duration 20s -rate 40         # the CI version
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	duration := flag.Duration("duration", 3*time.Minute, "how long to run")
	rate := flag.Int("rate", 60, "requests per second")
	db := flag.String("db", "", "DATABASE_URL for the server (default: SQLite in a temp folder)")
	users := flag.Int("users", 20, "accounts to rotate over")
	flag.Parse()
	if err := soak(*duration, *rate, *db, *users); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type user struct {
	email string
	jar   http.CookieJar
}

func soak(duration time.Duration, rate int, db string, nUsers int) error {
	dir, err := os.MkdirTemp("", "soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "server")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "HOST=127.0.0.1", "DATA_DIR="+filepath.Join(dir, "data"),
		"LOG_LEVEL=warn", "BETTER_AUTH_SECRET=soak-secret-0123456789abcdef0123456789", "RATE_LIMIT_ENABLED=false",
		"BETTER_AUTH_URL=http://localhost:8000")
	if db != "" {
		cmd.Env = append(cmd.Env, "DATABASE_URL="+db)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	base := "http://127.0.0.1:" + port
	if err := waitReady(base); err != nil {
		return err
	}

	users := make([]*user, nUsers)
	for i := range users {
		jar, _ := cookiejar.New(nil)
		users[i] = &user{email: fmt.Sprintf("soak%d-%d@example.com", i, time.Now().UnixNano()), jar: jar}
		if s := call(base, users[i], "POST", "/api/auth/sign-up/email", map[string]any{"name": "Soak", "email": users[i].email, "password": "password123"}); s != 200 {
			return fmt.Errorf("seeding sign-up = %d", s)
		}
	}

	var statuses sync.Map // int -> *atomic.Int64
	count := func(s int) {
		v, _ := statuses.LoadOrStore(s, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	var rss []int
	stopRSS := make(chan struct{})
	var rssWG sync.WaitGroup
	rssWG.Add(1)
	go func() {
		defer rssWG.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopRSS:
				return
			case <-t.C:
				rss = append(rss, readRSS(cmd.Process.Pid))
			}
		}
	}()

	interval := time.Second / time.Duration(rate)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	inflight := make(chan struct{}, 256)
	for time.Now().Before(deadline) {
		<-ticker.C
		select {
		case inflight <- struct{}{}:
		default:
			count(-1) // the server fell behind so far that 256 requests were outstanding
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inflight }()
			count(step(base, users[rand.IntN(len(users))]))
		}()
	}
	wg.Wait()
	close(stopRSS)
	rssWG.Wait()

	var lines []string
	fivexx, total := int64(0), int64(0)
	statuses.Range(func(k, v any) bool {
		n := v.(*atomic.Int64).Load()
		total += n
		if k.(int) >= 500 || k.(int) < 0 {
			fivexx += n
		}
		lines = append(lines, fmt.Sprintf("%d: %d", k.(int), n))
		return true
	})
	sort.Strings(lines)
	fmt.Printf("soak: %d requests in %v at %d/s; statuses %s\n", total, duration, rate, strings.Join(lines, ", "))
	var refused []string
	refusals.Range(func(k, v any) bool {
		refused = append(refused, fmt.Sprintf("%s: %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	sort.Strings(refused)
	for _, r := range refused {
		fmt.Printf("soak: refused %s\n", r)
	}
	mid, end := thirds(rss)
	fmt.Printf("soak: RSS middle third %.1f MB, last third %.1f MB, peak %.1f MB\n", mid/1024, end/1024, float64(maxOf(rss))/1024)
	var failures []string
	if fivexx > 0 {
		failures = append(failures, fmt.Sprintf("%d responses were 5xx or not sent", fivexx))
	}
	if mid > 0 && end > mid*1.25 && end-mid > 10*1024 {
		failures = append(failures, fmt.Sprintf("memory grew from %.1f MB to %.1f MB", mid/1024, end/1024))
	}
	if len(failures) > 0 {
		return fmt.Errorf("%s", strings.Join(failures, "; "))
	}
	fmt.Println("soak: 1 passed, 0 failed")
	return nil
}

// step is one request of the mix: mostly session reads, some writes and sign-ins, a few
// sign-outs, the way a web app's traffic looks.
func step(base string, u *user) int {
	switch n := rand.IntN(100); {
	case n < 55:
		return call(base, u, "GET", "/api/auth/get-session", nil)
	case n < 65:
		return call(base, u, "GET", "/api/auth/list-accounts", nil)
	case n < 75:
		return call(base, u, "POST", "/api/auth/update-user", map[string]any{"name": "Soak " + strconv.Itoa(n)})
	case n < 85:
		return call(base, u, "GET", "/api/auth/list-sessions", nil)
	case n < 95:
		return call(base, u, "POST", "/api/auth/sign-in/email", map[string]any{"email": u.email, "password": "password123"})
	case n < 98:
		return call(base, u, "POST", "/api/auth/revoke-other-sessions", map[string]any{})
	default:
		s := call(base, u, "POST", "/api/auth/sign-out", map[string]any{})
		if s == 200 {
			s = call(base, u, "POST", "/api/auth/sign-in/email", map[string]any{"email": u.email, "password": "password123"})
		}
		return s
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

func call(base string, u *user, method, path string, body any) int {
	var rdr io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rdr = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rdr)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", "http://localhost:8000")
	for _, c := range u.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	res, err := client.Do(req)
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	u.jar.SetCookies(req.URL, res.Cookies())
	if res.StatusCode >= 400 {
		noteRefusal(method, path, res.StatusCode, hasSessionCookie(req))
	}
	return res.StatusCode
}

// refusals counts 4xx and 5xx answers by request and by whether a session cookie was sent, so a
// report shows whether a refusal is the expected kind: a user's request sent, without a cookie,
// while another of that user's requests was between sign-out and sign-in (the users' cookie jars
// are shared by their concurrent requests).
var refusals sync.Map // string -> *atomic.Int64

func noteRefusal(method, path string, status int, withCookie bool) {
	cookie := "without a session cookie"
	if withCookie {
		cookie = "with a session cookie"
	}
	v, _ := refusals.LoadOrStore(fmt.Sprintf("%d %s %s %s", status, method, path, cookie), new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func hasSessionCookie(req *http.Request) bool {
	for _, c := range req.Cookies() {
		if strings.HasSuffix(c.Name, "session_token") && c.Value != "" {
			return true
		}
	}
	return false
}

func waitReady(base string) error {
	for i := 0; i < 200; i++ {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server not ready")
}

// readRSS returns the process's resident memory in KiB.
func readRSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return 0
}

func thirds(xs []int) (mid, end float64) {
	if len(xs) < 3 {
		return 0, 0
	}
	n := len(xs) / 3
	return mean(xs[n : 2*n]), mean(xs[2*n:])
}

func mean(xs []int) float64 {
	s := 0
	for _, x := range xs {
		s += x
	}
	return float64(s) / float64(len(xs))
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		if x > m {
			m = x
		}
	}
	return m
}
