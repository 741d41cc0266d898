package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startServer runs the server as main does, with env (HOST, PORT and BETTER_AUTH_URL are added),
// until the test ends. It returns the base URL and a function that reads everything logged so far.
func startServer(t *testing.T, env map[string]string) (base string, logs func() string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	base = "http://127.0.0.1:" + port
	env["HOST"], env["PORT"], env["BETTER_AUTH_URL"] = "127.0.0.1", port, base
	logPath := filepath.Join(t.TempDir(), "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, envMap(env), logFile) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
		logFile.Close()
	})
	logs = func() string {
		b, _ := os.ReadFile(logPath)
		return string(b)
	}
	for i := 0; i < 200; i++ {
		select {
		case err := <-done:
			t.Fatalf("server stopped at start: %v\n%s", err, logs())
		default:
		}
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base, logs
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("server never became ready\n%s", logs())
	return "", nil
}

// signUpForMail signs up with a verification mail and returns the raw outbox file and the
// verification link read from it as it stands in the file (not decoded).
func signUpForMail(t *testing.T, base, dataDir, email string) (raw, link string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": "Mail Reader", "email": email, "password": "password123", "callbackURL": "/feed"})
	res, err := http.Post(base+"/api/auth/sign-up/email", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("sign-up = %d %s", res.StatusCode, out)
	}
	outbox := filepath.Join(dataDir, "outbox")
	linkLine := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(base) + `/api/auth/verify-email\?token=\S+\r$`)
	for i := 0; i < 200; i++ {
		names, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
		for _, n := range names {
			b, _ := os.ReadFile(n)
			if bytes.Contains(b, []byte(email)) && bytes.HasSuffix(bytes.TrimSpace(b), []byte("--")) {
				l := linkLine.Find(b)
				if l == nil {
					t.Fatalf("no whole verification link on one line of the outbox file:\n%s", b)
				}
				return string(b), strings.TrimSuffix(string(l), "\r")
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("no mail to %s in %s", email, outbox)
	return "", ""
}

func withUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// A development server started in a data folder made 0755 (as Docker and mkdir make it) under the
// usual umask 022: every file holding a secret is 0600 and the outbox 0700, the open folder is
// warned about, the trusted origins are named, and a mail's link can be copied from the outbox
// file and from the log, whole, and works.
func TestDevelopmentStartInOpenFolder(t *testing.T) {
	withUmask(t, 0o022)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATA_DIR": dir, "SEND_VERIFICATION_ON_SIGN_UP": "true", "BETTER_AUTH_TRUSTED_ORIGINS": "http://localhost:5173"}
	base, logs := startServer(t, env)
	_, link := signUpForMail(t, base, dir, "dev-mail@example.com")

	for name, want := range map[string]os.FileMode{
		"app.db": 0o600, "app.db-wal": 0o600, "app.db-shm": 0o600, "secret": 0o600, "outbox": 0o700,
	} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if info.Mode().Perm() != want {
			t.Errorf("%s mode = %04o, want %04o", name, info.Mode().Perm(), want)
		}
	}
	mails, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
	for _, m := range mails {
		if info, err := os.Stat(m); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", m, err, info.Mode())
		}
	}

	// The link is the real one: following it verifies the address and lands on the callback.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/feed" {
		t.Errorf("GET link = %d to %q, want 302 to /feed (no error)", res.StatusCode, res.Header.Get("Location"))
	}

	out := logs()
	var logLine string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "mail written to outbox") {
			logLine = l
		}
	}
	if !strings.Contains(logLine, "dev-mail@example.com") || !strings.Contains(logLine, `links="`+link+`"`) {
		t.Errorf("development log line lacks recipient or the whole link %s:\n%s", link, logLine)
	}
	// Mail names the app the person signed up in (APP_NAME defaults to the web app's name).
	if !strings.Contains(logLine, `subject="Verify your email for Pathway"`) {
		t.Errorf("mail subject does not name the app:\n%s", logLine)
	}
	if !strings.Contains(out, "data folder is open to other local users") || !strings.Contains(out, "folder="+dir) {
		t.Errorf("no warning about the 0755 data folder:\n%s", out)
	}
	if !strings.Contains(out, "trusted origins") || !strings.Contains(out, "origins="+base+",http://localhost:5173") {
		t.Errorf("development start does not name the trusted origins:\n%s", out)
	}
}

// In production the same mail is written, but its link (a credential) never reaches the log; an
// http:// base URL starts only with ALLOW_INSECURE_BASE_URL, and then with a warning.
func TestProductionStartKeepsLinksOutOfLogs(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"APP_ENV": "production", "BETTER_AUTH_SECRET": strings.Repeat("s", 32), "DATA_DIR": dir,
		"SEND_VERIFICATION_ON_SIGN_UP": "true", "ALLOW_INSECURE_BASE_URL": "true",
	}
	base, logs := startServer(t, env)
	_, link := signUpForMail(t, base, dir, "prod-mail@example.com")
	token := strings.TrimPrefix(regexp.MustCompile(`token=[^&]+`).FindString(link), "token=")
	out := logs()
	if !strings.Contains(out, "mail written to outbox") || !strings.Contains(out, "prod-mail@example.com") {
		t.Errorf("no delivery log line:\n%s", out)
	}
	if token == "" || strings.Contains(out, token) || strings.Contains(out, "verify-email?") {
		t.Errorf("production log contains the link or token %q:\n%s", token, out)
	}
	if !strings.Contains(out, "production without Secure cookies") {
		t.Errorf("no warning about an http:// base URL in production:\n%s", out)
	}
	if strings.Contains(out, "trusted origins") {
		t.Errorf("production logged the development origins notice:\n%s", out)
	}
}
