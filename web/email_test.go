package web_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"authserver/auth"
	"authserver/mail"
	"authserver/store"
	"authserver/store/storetest"
)

// delivered is one message as the SMTP server received it.
type delivered struct {
	To, Subject, Text string
}

// smtpSink is a real SMTP server (go-smtp) in the test process that keeps what it receives, or,
// while refusing is set, refuses every recipient as a server that will not relay does.
type smtpSink struct {
	addr     string
	msgs     chan delivered
	refusing atomic.Bool
}

type sinkBackend struct{ s *smtpSink }

func (b sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: b.s}, nil }

type sinkSession struct {
	s  *smtpSink
	to []string
}

func (x *sinkSession) AuthMechanisms() []string             { return nil }
func (x *sinkSession) Auth(string) (sasl.Server, error)     { return nil, smtp.ErrAuthUnsupported }
func (x *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.s.refusing.Load() {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relaying denied"}
	}
	x.to = append(x.to, to)
	return nil
}
func (x *sinkSession) Reset()        { x.to = nil }
func (x *sinkSession) Logout() error { return nil }
func (x *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	x.s.msgs <- delivered{To: strings.Join(x.to, ","), Subject: subject, Text: textPart(msg)}
	return nil
}

// textPart returns the decoded text/plain part of a message.
func textPart(msg *netmail.Message) string {
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(decodeCTE(msg.Body, msg.Header.Get("Content-Transfer-Encoding")))
		return string(b)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return ""
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(decodeCTE(p, p.Header.Get("Content-Transfer-Encoding")))
			return string(b)
		}
	}
}

func decodeCTE(r io.Reader, cte string) io.Reader {
	if strings.EqualFold(cte, "quoted-printable") {
		return quotedprintable.NewReader(r)
	}
	return r
}

func newSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink := &smtpSink{addr: ln.Addr().String(), msgs: make(chan delivered, 32)}
	srv := smtp.NewServer(sinkBackend{sink})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return sink
}

// next waits for the next message.
func (s *smtpSink) next(t *testing.T) delivered {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no mail was delivered")
	}
	return delivered{}
}

// none asserts that no message arrives for a moment.
func (s *smtpSink) none(t *testing.T) {
	t.Helper()
	select {
	case m := <-s.msgs:
		t.Fatalf("unexpected mail to %s: %q", m.To, m.Subject)
	case <-time.After(300 * time.Millisecond):
	}
}

var linkPattern = regexp.MustCompile(`http://localhost:8000/api/auth/[^\s"<>]+`)

// link extracts the action link from a message, rewritten to the test server's address.
func (e *env) link(t *testing.T, m delivered) string {
	t.Helper()
	l := linkPattern.FindString(m.Text)
	if l == "" {
		t.Fatalf("no link in mail %q:\n%s", m.Subject, m.Text)
	}
	return strings.TrimPrefix(l, testBaseURL)
}

func mailOptions(t *testing.T, smtpURL string, log *slog.Logger, edit func(*auth.Config)) func(*envOptions) {
	return func(o *envOptions) {
		sender, err := mail.New(mail.Config{SMTPURL: smtpURL, Timeout: time.Second, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := mail.LoadTemplates("", "Test App")
		if err != nil {
			t.Fatal(err)
		}
		o.auth.Email = auth.EmailConfig{APIURL: testBaseURL + "/api/auth", Secret: []byte(testSecret),
			Sender: sender, Templates: tpl, SendTimeout: time.Second, Logger: log}
		if edit != nil {
			edit(&o.auth)
		}
	}
}

// The whole account lifecycle through delivered mail: sign up, verify, reset, change email, delete.
func TestAccountLifecycleByEmail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := newSMTPSink(t)
		e := newEnv(t, st, mailOptions(t, "smtp+insecure://"+sink.addr, nil, func(c *auth.Config) {
			c.RequireEmailVerification = true
			c.Email.SendOnSignIn = true
			c.Email.AutoSignInAfterVerification = true
			c.Email.ChangeEmailEnabled = true
			c.Email.ChangeEmailConfirmation = true
			c.Email.DeleteUserEnabled = true
			c.Email.DeleteUserVerification = true
		}))
		c := e.client()

		// Sign-up under requireEmailVerification: no session, a verification mail.
		r := c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "Kim", "email": "kim@example.com", "password": "password123", "callbackURL": "/welcome"})
		expect(t, r, 200, "")
		if r.JSON["token"] != nil || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("sign-up signed in before verification: %s", r.Raw)
		}
		verify := sink.next(t)
		if verify.To != "kim@example.com" || !strings.Contains(verify.Subject, "Test App") {
			t.Errorf("verification mail to %q subject %q", verify.To, verify.Subject)
		}
		verifyLink := e.link(t, verify)
		if !strings.Contains(verifyLink, "callbackURL=%2Fwelcome") {
			t.Errorf("verify link %q lost the callbackURL", verifyLink)
		}

		// Signing in unverified is refused and mails a new link.
		expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "kim@example.com", "password": "password123"}), 403, "EMAIL_NOT_VERIFIED")
		sink.next(t)

		// A reset token is not a verification token.
		bad := c.do("GET", "/api/auth/verify-email?token=abcdefghijklmnopqrstuvwx", nil)
		expect(t, bad, 401, "INVALID_TOKEN")
		r = c.do("GET", "/api/auth/verify-email?token=x&callbackURL=/welcome", nil)
		if r.Status != 302 || r.Header.Get("Location") != "/welcome?error=INVALID_TOKEN" {
			t.Errorf("bad token with callback = %d %q", r.Status, r.Header.Get("Location"))
		}
		expect(t, c.do("GET", "/api/auth/verify-email?token=x&callbackURL=https://evil.example", nil), 403, "INVALID_CALLBACK_URL")

		// Following the link verifies, signs in, and lands on the callback.
		r = c.do("GET", verifyLink, nil)
		if r.Status != 302 || r.Header.Get("Location") != "/welcome" {
			t.Fatalf("verify link = %d %q %s", r.Status, r.Header.Get("Location"), r.Raw)
		}
		g := c.do("GET", "/api/auth/get-session", nil)
		if g.JSON == nil || g.JSON["user"].(map[string]any)["emailVerified"] != true {
			t.Fatalf("after verification get-session = %s", g.Raw)
		}
		// Following it again changes nothing and is no error.
		if r := c.do("GET", verifyLink, nil); r.Status != 302 || r.Header.Get("Location") != "/welcome" {
			t.Errorf("second use of the verify link = %d %q", r.Status, r.Header.Get("Location"))
		}

		// Password reset: same answer for known and unknown addresses, mail only for the known one.
		anon := e.client()
		known := anon.do("POST", "/api/auth/request-password-reset", map[string]any{"email": "kim@example.com", "redirectTo": "/reset"})
		unknown := anon.do("POST", "/api/auth/request-password-reset", map[string]any{"email": "nobody@example.com", "redirectTo": "/reset"})
		if known.Status != 200 || string(known.Raw) != string(unknown.Raw) {
			t.Errorf("reset answers differ: %s vs %s", known.Raw, unknown.Raw)
		}
		resetLink := e.link(t, sink.next(t))
		sink.none(t)
		r = anon.do("GET", resetLink, nil)
		loc := r.Header.Get("Location")
		if r.Status != 302 || !strings.HasPrefix(loc, "http://localhost:8000/reset?token=") {
			t.Fatalf("reset link = %d %q", r.Status, loc)
		}
		resetToken := strings.TrimPrefix(loc, "http://localhost:8000/reset?token=")
		// The verification JWT is not a reset token.
		verifyToken := strings.TrimPrefix(strings.Split(verifyLink, "&")[0], "/api/auth/verify-email?token=")
		expect(t, anon.do("POST", "/api/auth/reset-password", map[string]any{"token": verifyToken, "newPassword": "newpassword1"}), 400, "INVALID_TOKEN")
		expect(t, anon.do("POST", "/api/auth/reset-password", map[string]any{"token": resetToken, "newPassword": "short"}), 400, "PASSWORD_TOO_SHORT")
		expect(t, anon.do("POST", "/api/auth/reset-password", map[string]any{"token": resetToken, "newPassword": "newpassword1"}), 200, "")
		expect(t, anon.do("POST", "/api/auth/reset-password", map[string]any{"token": resetToken, "newPassword": "newpassword2"}), 400, "INVALID_TOKEN")
		if r := anon.do("GET", resetLink, nil); !strings.Contains(r.Header.Get("Location"), "error=INVALID_TOKEN") {
			t.Errorf("used reset link still forwards a token: %q", r.Header.Get("Location"))
		}
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "kim@example.com", "password": "password123"}), 401, "INVALID_EMAIL_OR_PASSWORD")
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "kim@example.com", "password": "newpassword1"}), 200, "")

		// Change email: the current (verified) address confirms, then the new one verifies.
		expect(t, c.do("POST", "/api/auth/change-email", map[string]any{"newEmail": "kim@example.com"}), 400, "")
		expect(t, c.do("POST", "/api/auth/change-email", map[string]any{"newEmail": "kim.new@example.com"}), 200, "")
		confirm := sink.next(t)
		if confirm.To != "kim@example.com" {
			t.Errorf("confirmation went to %q, want the current address", confirm.To)
		}
		r = c.do("GET", e.link(t, confirm), nil)
		if r.Status != 302 {
			t.Fatalf("confirmation link = %d %s", r.Status, r.Raw)
		}
		verifyNew := sink.next(t)
		if verifyNew.To != "kim.new@example.com" {
			t.Errorf("verification of the new address went to %q", verifyNew.To)
		}
		if r := c.do("GET", e.link(t, verifyNew), nil); r.Status != 302 {
			t.Fatalf("new-address link = %d %s", r.Status, r.Raw)
		}
		if u := c.do("GET", "/api/auth/get-session", nil).JSON["user"].(map[string]any); u["email"] != "kim.new@example.com" || u["emailVerified"] != true {
			t.Errorf("after change-email user = %v", u)
		}

		// Delete by emailed confirmation: everything of the user goes.
		uid := c.do("GET", "/api/auth/get-session", nil).JSON["user"].(map[string]any)["id"].(string)
		r = c.do("POST", "/api/auth/delete-user", map[string]any{"callbackURL": "/goodbye"})
		if r.Status != 200 || r.JSON["message"] != "Verification email sent" {
			t.Fatalf("delete-user = %d %s", r.Status, r.Raw)
		}
		delLink := e.link(t, sink.next(t))
		expect(t, e.client().do("GET", delLink, nil), 404, "FAILED_TO_GET_USER_INFO")
		r = c.do("GET", delLink, nil)
		if r.Status != 302 || r.Header.Get("Location") != "/goodbye" {
			t.Fatalf("delete link = %d %q %s", r.Status, r.Header.Get("Location"), r.Raw)
		}
		ctx := context.Background()
		if _, err := st.UserByID(ctx, uid); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user still there: %v", err)
		}
		if accts, _ := st.AccountsByUser(ctx, uid); len(accts) != 0 {
			t.Errorf("%d accounts left", len(accts))
		}
		if list, _ := st.SessionsByUser(ctx, uid, store.NewTime(time.Unix(0, 0))); len(list) != 0 {
			t.Errorf("%d sessions left", len(list))
		}
		var left int
		_ = st.RawRow(ctx, &left, `select count(*) from "verification" where "value" = ?`, uid)
		if left != 0 {
			t.Errorf("%d verification rows left", left)
		}

		// The audit log kept one row per change, after the user is gone, and none of the secrets.
		a := newAuditTrail(t, st)
		rows := a.next()
		for event, want := range map[string]int{"sign-up": 1, "email-verified": 1, "password-reset": 1, "email-change": 1, "user-deleted": 1} {
			if n := countEvents(rows, event, uid); n != want {
				t.Errorf("%d %s rows, want %d", n, event, want)
			}
		}
		a.noSecrets("password123", "newpassword1", resetToken, verifyToken)
	})
}

// Deleting with a password or a fresh session, without mail; and the options that switch it off.
func TestDeleteUserDirectly(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st, mailOptions(t, "smtp+insecure://127.0.0.1:1", nil, func(c *auth.Config) {
		c.Email.DeleteUserEnabled = true
	}))
	c := e.client()
	signUp(t, c, "lee@example.com", "password123")
	expect(t, c.do("POST", "/api/auth/delete-user", map[string]any{"password": "wrong-password"}), 400, "INVALID_PASSWORD")
	e.clock.Advance(25 * time.Hour)
	expect(t, c.do("POST", "/api/auth/delete-user", map[string]any{}), 400, "SESSION_EXPIRED")
	r := c.do("POST", "/api/auth/delete-user", map[string]any{"password": "password123"})
	if r.Status != 200 || r.JSON["message"] != "User deleted" {
		t.Fatalf("delete with password = %d %s", r.Status, r.Raw)
	}
	if string(c.do("GET", "/api/auth/get-session", nil).Raw) != "null" {
		t.Error("session survived account deletion")
	}

	off := newEnv(t, storetest.OpenSQLite(t), mailOptions(t, "smtp+insecure://127.0.0.1:1", nil, nil))
	oc := off.client()
	signUp(t, oc, "mo@example.com", "password123")
	r = oc.do("POST", "/api/auth/delete-user", map[string]any{"password": "password123"})
	if r.Status != 404 || len(r.Raw) != 0 {
		t.Errorf("disabled delete-user = %d %q, want 404 with no body", r.Status, r.Raw)
	}
	expect(t, oc.do("POST", "/api/auth/change-email", map[string]any{"newEmail": "mo2@example.com"}), 400, "CHANGE_EMAIL_DISABLED")
}

// With the SMTP server down, requests answer as usual, the failure is logged without the link,
// and nothing is half-written: the user exists and can ask for mail again.
func TestSMTPUnreachable(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		var logs bytes.Buffer
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
		e := newEnv(t, st, mailOptions(t, "smtp+insecure://127.0.0.1:1", log, func(c *auth.Config) {
			v := true
			c.Email.SendOnSignUp = &v
		}))
		c := e.client()
		r := signUp(t, c, "nia@example.com", "password123")
		if r.JSON["token"] == nil {
			t.Errorf("sign-up did not sign in: %s", r.Raw)
		}
		r = e.client().do("POST", "/api/auth/request-password-reset", map[string]any{"email": "nia@example.com"})
		expect(t, r, 200, "")
		if r.JSON["message"] != auth.ResetMessage {
			t.Errorf("reset message = %v", r.JSON["message"])
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			out := logs.String()
			mu.Unlock()
			if strings.Count(out, "mail delivery failed") >= 2 {
				if strings.Contains(out, "token=") || strings.Contains(out, "/reset-password/") {
					t.Errorf("a link reached the log:\n%s", out)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("delivery failures were not logged:\n%s", out)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := st.UserByEmail(context.Background(), "nia@example.com"); err != nil {
			t.Errorf("user missing after failed mail: %v", err)
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Signed-out send-verification-email answers the same for every address and takes at least 500 ms.
func TestSendVerificationEmailRevealsNothing(t *testing.T) {
	st := storetest.OpenSQLite(t)
	sink := newSMTPSink(t)
	e := newEnv(t, st, mailOptions(t, "smtp+insecure://"+sink.addr, nil, nil))
	c := e.client()
	signUp(t, c, "oz@example.com", "password123")
	anon := e.client()
	for _, email := range []string{"oz@example.com", "nobody@example.com"} {
		start := time.Now()
		r := anon.do("POST", "/api/auth/send-verification-email", map[string]any{"email": email})
		if r.Status != 200 || string(r.Raw) != `{"status":true}` || time.Since(start) < 500*time.Millisecond {
			t.Errorf("send-verification-email(%s) = %d %s after %v", email, r.Status, r.Raw, time.Since(start))
		}
	}
	if m := sink.next(t); m.To != "oz@example.com" {
		t.Errorf("mail went to %q", m.To)
	}
	sink.none(t)
	expect(t, c.do("POST", "/api/auth/send-verification-email", map[string]any{"email": "other@example.com"}), 400, "EMAIL_MISMATCH")
}
