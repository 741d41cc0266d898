package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// benchPassword is every seeded user's password (users created by SQL carry a copy of the
	// scrypt hash the server itself made for the first signed-up user, so it verifies as usual).
	benchPassword = "correct-horse-battery-staple"
	// baseURL is BETTER_AUTH_URL for every server; its origin is trusted, so POSTs send it.
	baseURL = "http://localhost:8000"
	// cookieName is Better-Auth's session cookie over plain http.
	cookieName = "better-auth.session_token"
	dbPrefix   = "authbench_"
)

// pgURL returns the admin URL with its database replaced by name.
func pgURL(admin, name string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	q := u.Query()
	if q.Get("sslmode") == "" {
		// Both servers talk to the local Postgres in clear, so neither pays for TLS.
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

var staleDB = regexp.MustCompile(`^` + dbPrefix + `(\d+)_[a-z]+$`)

// createDatabases drops databases left by benchmark processes that no longer exist, then
// creates one empty database per name (prefixed with authbench_<pid>_).
func createDatabases(ctx context.Context, admin string, names ...string) (map[string]string, error) {
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("connect to Postgres (%s): %w", admin, err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `select datname from pg_database where datname like 'authbench\_%'`)
	if err != nil {
		return nil, err
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, name := range stale {
		if m := staleDB.FindStringSubmatch(name); m != nil {
			pid, _ := strconv.Atoi(m[1])
			if pid > 0 && syscall.Kill(pid, 0) == syscall.ESRCH {
				_, _ = c.Exec(ctx, `drop database if exists `+pgx.Identifier{name}.Sanitize()+` with (force)`)
			}
		}
	}
	out := map[string]string{}
	for _, n := range names {
		full := fmt.Sprintf("%s%d_%s", dbPrefix, os.Getpid(), n)
		if _, err := c.Exec(ctx, `create database `+pgx.Identifier{full}.Sanitize()); err != nil {
			return nil, fmt.Errorf("create database %s: %w", full, err)
		}
		out[n] = full
	}
	return out, nil
}

func dropDatabases(admin string, names ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	for _, n := range names {
		_, _ = c.Exec(ctx, `drop database if exists `+pgx.Identifier{n}.Sanitize()+` with (force)`)
	}
}

// signCookie returns the Cookie header value Better-Auth accepts for a session token:
// better-auth.session_token=encodeURIComponent(token + "." + base64(HMAC-SHA256(secret, token))).
// It is written here independently of the server's own session package on purpose.
func signCookie(secret, token string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token))
	signed := token + "." + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	// encodeURIComponent: only '+', '/' and '=' of the base64 alphabet need escaping here.
	r := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D")
	return cookieName + "=" + r.Replace(signed)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomToken is a 32-character [A-Za-z0-9] token, the shape both servers generate.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b[:])
}

func apiEmail(i int) string { return fmt.Sprintf("bench-api-%05d@example.com", i) }
func sqlEmail(i int) string { return fmt.Sprintf("bench-sql-%07d@example.com", i) }

// seedDB is one server's database and what has been put into it.
type seedDB struct {
	url      string
	userIDs  []string // by user index: signed-up users by email, then SQL users
	hash     string   // the password hash the server made for the first signed-up user
	sessions int      // seeded sessions so far (tokens[0:sessions])
}

// seeder fills both databases identically: the same users (by email), the same session tokens
// for the same user index, the same expiry.
type seeder struct {
	secret   string
	apiUsers int
	dbs      []*seedDB
	tokens   []string
	users    int // users in each database, signed-up ones included
	expires  time.Time
}

// signUpAll creates n users through the server's own sign-up endpoint, four at a time, so the
// database holds a password hash made by that server.
func signUpAll(ctx context.Context, s *server, n int) error {
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body, _ := json.Marshal(map[string]string{"name": fmt.Sprintf("Bench User %d", i), "email": apiEmail(i), "password": benchPassword})
				status, resp, err := doReq(ctx, client, "POST", s.url+"/api/auth/sign-up/email", "", body)
				if err != nil {
					errs <- fmt.Errorf("%s sign-up: %w", s.label, err)
				} else if status != 200 {
					errs <- fmt.Errorf("%s sign-up: status %d: %.200s", s.label, status, resp)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// doReq sends one request (JSON body if any, with the trusted Origin) and returns status and body.
func doReq(ctx context.Context, client *http.Client, method, u, cookie string, body []byte) (int, string, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", baseURL)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), nil
}

// seedTo grows every database to n seeded sessions and max(apiUsers, n/10) users, inserting
// rows directly (COPY) for speed, then refreshes the planner statistics.
func (sd *seeder) seedTo(ctx context.Context, n int) error {
	wantUsers := max(sd.apiUsers, n/10)
	for len(sd.tokens) < n {
		sd.tokens = append(sd.tokens, randomToken())
	}
	if sd.expires.IsZero() {
		// Fresh sessions: neither server is due to slide the expiry (a write) for a day.
		sd.expires = time.Now().Add(7 * 24 * time.Hour)
	}
	for _, db := range sd.dbs {
		if err := sd.seedOne(ctx, db, n, wantUsers); err != nil {
			return err
		}
	}
	sd.users = wantUsers
	return nil
}

func (sd *seeder) seedOne(ctx context.Context, db *seedDB, n, wantUsers int) error {
	c, err := pgx.Connect(ctx, db.url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	if db.userIDs == nil {
		rows, err := c.Query(ctx, `select u."id", a."password" from "user" u join "account" a on a."userId" = u."id" and a."providerId" = 'credential'
			where u."email" like 'bench-api-%' order by u."email"`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var hash *string
			if err := rows.Scan(&id, &hash); err != nil {
				return err
			}
			db.userIDs = append(db.userIDs, id)
			if db.hash == "" && hash != nil {
				db.hash = *hash
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(db.userIDs) != sd.apiUsers || db.hash == "" {
			return fmt.Errorf("seed: found %d signed-up users with a password (want %d)", len(db.userIDs), sd.apiUsers)
		}
	}
	now := time.Now()
	if have := len(db.userIDs); have < wantUsers {
		var users, accounts [][]any
		for i := have; i < wantUsers; i++ {
			id := fmt.Sprintf("benchuser%023d", i)
			users = append(users, []any{id, fmt.Sprintf("Bench User %d", i), sqlEmail(i), false, now, now})
			accounts = append(accounts, []any{fmt.Sprintf("benchacct%023d", i), id, "credential", id, db.hash, now, now})
			db.userIDs = append(db.userIDs, id)
		}
		if _, err := c.CopyFrom(ctx, pgx.Identifier{"user"}, []string{"id", "name", "email", "emailVerified", "createdAt", "updatedAt"}, pgx.CopyFromRows(users)); err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
		if _, err := c.CopyFrom(ctx, pgx.Identifier{"account"}, []string{"id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt"}, pgx.CopyFromRows(accounts)); err != nil {
			return fmt.Errorf("seed accounts: %w", err)
		}
	}
	if db.sessions < n {
		var sessions [][]any
		for k := db.sessions; k < n; k++ {
			sessions = append(sessions, []any{fmt.Sprintf("benchsess%023d", k), sd.expires, sd.tokens[k], now, now,
				"127.0.0.1", "authbench", db.userIDs[k%len(db.userIDs)]})
		}
		if _, err := c.CopyFrom(ctx, pgx.Identifier{"session"}, []string{"id", "expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId"}, pgx.CopyFromRows(sessions)); err != nil {
			return fmt.Errorf("seed sessions: %w", err)
		}
		db.sessions = n
	}
	for _, t := range []string{"user", "account", "session"} {
		if _, err := c.Exec(ctx, `vacuum analyze `+pgx.Identifier{t}.Sanitize()); err != nil {
			return err
		}
	}
	return nil
}

// email is the address of user index i (the same person in every database).
func (sd *seeder) email(i int) string {
	if i < sd.apiUsers {
		return apiEmail(i)
	}
	return sqlEmail(i)
}

// writeCookies writes the Cookie header of the first n seeded sessions, one a line.
func (sd *seeder) writeCookies(path string, n int) error {
	var b strings.Builder
	for _, t := range sd.tokens[:n] {
		b.WriteString(signCookie(sd.secret, t))
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// writeUsers writes every seeded user's email, one a line.
func (sd *seeder) writeUsers(path string) error {
	var b strings.Builder
	for i := 0; i < sd.users; i++ {
		b.WriteString(sd.email(i))
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// validate checks, before any load, that seeded cookies authenticate on every server (a
// get-session answering 200 "null" would otherwise pass as a fast success) and, once, that a
// user created by SQL can sign in everywhere.
func (sd *seeder) validate(ctx context.Context, servers []*server, n int, signIn bool) error {
	client := &http.Client{Timeout: 30 * time.Second}
	idx := []int{0, n - 1}
	for i := 0; i < 8; i++ {
		var b [4]byte
		_, _ = rand.Read(b[:])
		idx = append(idx, int(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24)%n)
	}
	for _, s := range servers {
		for _, k := range idx {
			tok := sd.tokens[k]
			status, body, err := doReq(ctx, client, "GET", s.url+"/api/auth/get-session", signCookie(sd.secret, tok), nil)
			if err != nil {
				return fmt.Errorf("%s get-session: %w", s.label, err)
			}
			if status != 200 || !strings.Contains(body, `"token":"`+tok+`"`) {
				return fmt.Errorf("%s: seeded session %d is not accepted: status %d, body %.200s", s.label, k, status, body)
			}
		}
		if signIn && sd.users > sd.apiUsers && s.key != "go-off" {
			body, _ := json.Marshal(map[string]string{"email": sd.email(sd.users - 1), "password": benchPassword})
			status, resp, err := doReq(ctx, client, "POST", s.url+"/api/auth/sign-in/email", "", body)
			if err != nil {
				return fmt.Errorf("%s sign-in: %w", s.label, err)
			}
			if status != 200 {
				return fmt.Errorf("%s: a user seeded by SQL cannot sign in: status %d, body %.200s", s.label, status, resp)
			}
		}
	}
	return nil
}
