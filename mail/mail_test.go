package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	testUser = "user"
	testPass = "p@ss:w/rd"
	testLink = "https://app.example.com/verify?token=SECRET-TOKEN-1234567890abcdefghijklmnopqrstuvwxyz"
)

// received is one message accepted by the test SMTP server.
type received struct {
	from, user string
	to         []string
	data       []byte
	tls        bool
}

// backend is a go-smtp backend that records every message it accepts.
type backend struct {
	mu   sync.Mutex
	msgs []received
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, conn: c}, nil
}

func (b *backend) messages() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

type session struct {
	b    *backend
	conn *smtp.Conn
	cur  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != testUser || password != testPass {
			return errors.New("invalid credentials")
		}
		s.cur.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = data
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	s.cur = received{user: s.cur.user}
	return nil
}

func (s *session) Reset()        { s.cur = received{user: s.cur.user} }
func (s *session) Logout() error { return nil }

// startServer runs a real go-smtp server on 127.0.0.1; with implicitTLS the
// listener speaks TLS from the first byte (smtps), otherwise a non-nil
// tlsCfg enables STARTTLS.
func startServer(t *testing.T, tlsCfg *tls.Config, implicitTLS bool) (*backend, string) {
	t.Helper()
	be := &backend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 5 * time.Second
	srv.WriteTimeout = 5 * time.Second
	// Connection errors (e.g. a client rejecting the certificate) may be
	// logged after the test ends, when t.Log would panic.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	var l net.Listener
	var err error
	if implicitTLS {
		l, err = tls.Listen("tcp", "127.0.0.1:0", tlsCfg)
	} else {
		srv.TLSConfig = tlsCfg
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return be, l.Addr().String()
}

// selfSigned returns a server TLS config for 127.0.0.1/localhost and a pool
// that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// parsed is a received message split into headers and decoded parts.
type parsed struct {
	header     netmail.Header
	text, html string
}

// parseMessage parses raw as RFC 5322 + MIME, requiring multipart/alternative
// with a text/plain and a text/html part, and decodes quoted-printable.
func parseMessage(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type = %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	p := parsed{header: msg.Header}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		var r io.Reader = part
		if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(part)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			p.text = string(body)
		case "text/html":
			p.html = string(body)
		default:
			t.Fatalf("unexpected part %q", ct)
		}
	}
	if p.text == "" || p.html == "" {
		t.Fatalf("missing part: text=%q html=%q", p.text, p.html)
	}
	return p
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decode header %q: %v", v, err)
	}
	return s
}

func testMessage(t *testing.T) Message {
	t.Helper()
	tpl, err := LoadTemplates("", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	m, err := tpl.Render(KindVerifyEmail, "alice@example.com", Data{URL: testLink, ExpiresIn: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func checkDelivered(t *testing.T, be *backend, m Message, wantTLS bool) {
	t.Helper()
	msgs := be.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.from != "no-reply@example.com" || len(got.to) != 1 || got.to[0] != "alice@example.com" {
		t.Errorf("envelope from=%q to=%q", got.from, got.to)
	}
	if got.user != testUser {
		t.Errorf("authenticated user = %q, want %q", got.user, testUser)
	}
	if got.tls != wantTLS {
		t.Errorf("tls = %v, want %v", got.tls, wantTLS)
	}
	p := parseMessage(t, got.data)
	if from := p.header.Get("From"); !strings.Contains(from, "<no-reply@example.com>") || !strings.Contains(from, "Acme") {
		t.Errorf("From = %q", from)
	}
	if to := p.header.Get("To"); !strings.Contains(to, "alice@example.com") {
		t.Errorf("To = %q", to)
	}
	if subj := decodeHeader(t, p.header.Get("Subject")); subj != m.Subject {
		t.Errorf("Subject = %q, want %q", subj, m.Subject)
	}
	for _, h := range []string{"Date", "Message-Id"} {
		if p.header.Get(h) == "" {
			t.Errorf("missing %s header", h)
		}
	}
	if !strings.Contains(p.header.Get("Message-Id"), "@example.com>") {
		t.Errorf("Message-ID = %q, want domain of From", p.header.Get("Message-Id"))
	}
	if !strings.Contains(p.text, testLink) {
		t.Errorf("text part lacks the link:\n%s", p.text)
	}
	if !strings.Contains(p.html, "Verify email") {
		t.Errorf("html part lacks the button:\n%s", p.html)
	}
}

func smtpURL(scheme, addr string) string {
	return scheme + "://" + testUser + ":" + "p%40ss%3Aw%2Frd" + "@" + addr
}

func TestSMTPInsecure(t *testing.T) {
	be, addr := startServer(t, nil, false)
	s, err := New(Config{SMTPURL: smtpURL("smtp+insecure", addr), From: "Acme <no-reply@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(t)
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, be, m, false)
}

func TestSMTPStartTLS(t *testing.T) {
	srvTLS, pool := selfSigned(t)
	be, addr := startServer(t, srvTLS, false)
	s, err := New(Config{
		SMTPURL:   smtpURL("smtp", addr),
		From:      "Acme <no-reply@example.com>",
		TLSConfig: &tls.Config{RootCAs: pool},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(t)
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, be, m, true)
}

func TestSMTPImplicitTLS(t *testing.T) {
	srvTLS, pool := selfSigned(t)
	be, addr := startServer(t, srvTLS, true)
	s, err := New(Config{
		SMTPURL:   smtpURL("smtps", addr),
		From:      "Acme <no-reply@example.com>",
		TLSConfig: &tls.Config{RootCAs: pool},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(t)
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, be, m, true)
}

// STARTTLS is mandatory for smtp://: a server that does not offer it must
// not receive the message (nor the password) in clear text.
func TestSMTPStartTLSRequired(t *testing.T) {
	be, addr := startServer(t, nil, false)
	s, err := New(Config{SMTPURL: smtpURL("smtp", addr), From: "no-reply@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), testMessage(t)); err == nil {
		t.Fatal("send without STARTTLS succeeded")
	}
	if n := len(be.messages()); n != 0 {
		t.Fatalf("server got %d messages", n)
	}
}

// An untrusted certificate is rejected (no silent InsecureSkipVerify).
func TestSMTPStartTLSUntrusted(t *testing.T) {
	srvTLS, _ := selfSigned(t)
	be, addr := startServer(t, srvTLS, false)
	s, err := New(Config{SMTPURL: smtpURL("smtp", addr), From: "no-reply@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), testMessage(t)); err == nil {
		t.Fatal("send to untrusted server succeeded")
	}
	if n := len(be.messages()); n != 0 {
		t.Fatalf("server got %d messages", n)
	}
}

func checkSendFailsFast(t *testing.T, addr string) {
	t.Helper()
	s, err := New(Config{SMTPURL: smtpURL("smtp+insecure", addr), Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(t)
	start := time.Now()
	err = s.Send(t.Context(), m)
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("send took %v", elapsed)
	}
	if err == nil {
		t.Fatal("send succeeded")
	}
	msg := err.Error()
	for _, secret := range []string{testLink, "SECRET-TOKEN", m.Text, testPass} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks %q: %v", secret, err)
		}
	}
	if !strings.HasPrefix(msg, "mail: ") {
		t.Errorf("error not wrapped: %v", err)
	}
}

func TestSMTPUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	checkSendFailsFast(t, addr)
}

// silentServer accepts TCP connections and never says anything; it returns
// its address.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// A server that accepts but never greets must not hold Send past Timeout.
func TestSMTPTimeoutSilentServer(t *testing.T) {
	checkSendFailsFast(t, silentServer(t))
}

func TestSMTPContextDeadlineWins(t *testing.T) {
	s, err := New(Config{SMTPURL: "smtp+insecure://" + silentServer(t), Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, testMessage(t))
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("send took %v", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
}

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	var logs bytes.Buffer
	s, err := New(Config{
		OutboxDir: dir,
		From:      "Acme <no-reply@example.com>",
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o700 {
		t.Errorf("outbox dir perm = %o, want 700", perm)
	}
	m := testMessage(t)
	for range 2 {
		if err := s.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("outbox has %d files, want 2", len(entries))
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), "-verify-your-email-for-acme.eml") {
			t.Errorf("file name %q", e.Name())
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s perm = %o, want 600", e.Name(), perm)
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Count(raw, []byte("\n")) != bytes.Count(raw, []byte("\r\n")) {
			t.Errorf("%s has bare LF line endings", e.Name())
		}
		p := parseMessage(t, raw)
		if subj := decodeHeader(t, p.header.Get("Subject")); subj != "Verify your email for Acme" {
			t.Errorf("Subject = %q", subj)
		}
		if !strings.Contains(p.header.Get("To"), "alice@example.com") || p.header.Get("Date") == "" || p.header.Get("Message-Id") == "" {
			t.Errorf("headers = %v", p.header)
		}
		if !strings.Contains(p.text, testLink) {
			t.Errorf("text part lacks the link:\n%s", p.text)
		}
	}
	out := logs.String()
	if strings.Count(out, "mail written to outbox") != 2 || !strings.Contains(out, "alice@example.com") || !strings.Contains(out, "Verify your email for Acme") {
		t.Errorf("log lacks recipient or subject:\n%s", out)
	}
	if strings.Contains(out, "SECRET-TOKEN") || strings.Contains(out, "app.example.com") {
		t.Errorf("log leaks the link:\n%s", out)
	}
}

// A developer copies the link out of the outbox file or the log: in both it must be whole, on one
// line, exactly as rendered (quoted-printable would wrap it with "=" breaks and turn "=" into "=3D").
func TestOutboxLinksAreWholeLines(t *testing.T) {
	tpl, err := LoadTemplates("", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	link := "http://localhost:8000/api/auth/verify-email?token=" + strings.Repeat("eyJhbGciOiJIUzI1NiJ9.", 12) + "sig&callbackURL=%2Ffeed"
	tests := []struct {
		name      string
		link      string
		logLinks  bool
		wantWhole bool // the link is one line of the file
	}{
		{"development", link, true, true},
		{"production", link, false, true},
		// 8-bit lines may not exceed 998 bytes: such a text stays quoted-printable, still intact.
		{"line too long for 8-bit", link + strings.Repeat("x", 1000), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "outbox")
			var logs bytes.Buffer
			s, err := New(Config{OutboxDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil)), LogLinks: tt.logLinks})
			if err != nil {
				t.Fatal(err)
			}
			m, err := tpl.Render(KindVerifyEmail, "alice@example.com", Data{URL: tt.link, ExpiresIn: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(t.Context(), m); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) != 1 {
				t.Fatalf("outbox: %v, %d files", err, len(entries))
			}
			raw, err := os.ReadFile(filepath.Join(dir, entries[0].Name()))
			if err != nil {
				t.Fatal(err)
			}
			whole := false
			for _, line := range strings.Split(string(raw), "\r\n") {
				whole = whole || line == tt.link
			}
			if whole != tt.wantWhole {
				t.Errorf("link on one line of the file = %v, want %v:\n%s", whole, tt.wantWhole, raw)
			}
			if p := parseMessage(t, raw); !strings.Contains(p.text, tt.link) {
				t.Errorf("decoded text part lacks the link:\n%s", p.text)
			}
			if bytes.Count(raw, []byte("\n")) != bytes.Count(raw, []byte("\r\n")) {
				t.Error("file has bare LF line endings")
			}
			if got := strings.Contains(logs.String(), tt.link); got != tt.logLinks {
				t.Errorf("log has the link = %v, want %v:\n%s", got, tt.logLinks, logs.String())
			}
			if !strings.Contains(logs.String(), "alice@example.com") {
				t.Errorf("log lacks the recipient:\n%s", logs.String())
			}
		})
	}
}

func TestOutboxRequiresDir(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New with neither SMTP URL nor outbox succeeded")
	}
}

func TestNewBadURL(t *testing.T) {
	cases := map[string]string{
		"http://user:hunter2@example.com":   "unsupported scheme",
		"smtp.example.com:587":              "unsupported scheme",
		"smtp://":                           "missing host",
		"smtps://user:hunter2@:465":         "missing host",
		"smtp://example.com:99999":          "bad port",
		"smtp://user:hunter2@exa mple.com":  "invalid SMTP URL",
		"smtp://user:hunter2@example.com:x": "invalid SMTP URL",
	}
	for raw, want := range cases {
		_, err := New(Config{SMTPURL: raw})
		if err == nil {
			t.Errorf("%q: no error", raw)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "mail: ") {
			t.Errorf("%q: error %q, want it to contain %q", raw, err, want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error leaks the password: %v", raw, err)
		}
	}
	if _, err := New(Config{SMTPURL: "smtp://h", From: "not an address"}); err == nil {
		t.Error("bad From accepted")
	}
}
