package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"authserver/auth/emailotp"
	"authserver/auth/lastloginmethod"
	"authserver/auth/magiclink"
	"authserver/auth/plugin"
	"authserver/auth/twofactor"
	"authserver/store"
	"authserver/store/storetest"
)

// logBuffer collects a server's log lines for the delivery tests.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{&l.mu, &l.buf}, nil))
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor polls cond for up to five seconds: background deliveries fail after the answer.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// deliveryEnv serves the plugins with mail going to an SMTP sink that can refuse, and the mail
// log going to logs.
func deliveryEnv(t *testing.T, st *store.Store, ps ...plugin.Plugin) (*env, *smtpSink, *logBuffer) {
	t.Helper()
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	sink := newSMTPSink(t)
	logs := &logBuffer{}
	e := newEnv(t, st, mailOptions(t, "smtp+insecure://"+sink.addr, logs.logger(), nil), func(o *envOptions) { o.auth.Plugins = ps })
	return e, sink, logs
}

func verificationsLike(t *testing.T, st *store.Store, pattern string) int {
	t.Helper()
	var n struct{ N int }
	if err := st.RawRow(context.Background(), &n, `select count(*) as n from "verification" where "identifier" like ?`, pattern); err != nil {
		t.Fatal(err)
	}
	return n.N
}

var sixDigits = regexp.MustCompile(`(^|[^0-9])[0-9]{6}([^0-9]|$)`)

// A magic link the mail server refuses answers as Better-Auth does when sendMagicLink throws (500,
// no body), whoever the address belongs to; the log says why without the link, and the link's
// row is gone, so the retry once the server takes mail again gives a link that works.
func TestMagicLinkDeliveryFailure(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		cfg, err := magiclink.LoadConfig(func(string) string { return "" }, testBaseURL+"/api/auth")
		if err != nil {
			t.Fatal(err)
		}
		e, sink, logs := deliveryEnv(t, st, magiclink.New(cfg))
		signUp(t, e.client(), "known@example.com", "password123")
		sink.refusing.Store(true)
		for _, email := range []string{"known@example.com", "ray@example.com"} {
			r := e.client().do("POST", "/api/auth/sign-in/magic-link", map[string]any{"email": email, "callbackURL": "/dash"})
			if r.Status != 500 || len(bytes.TrimSpace(r.Raw)) != 0 || len(r.Header.Values("Set-Cookie")) != 0 {
				t.Fatalf("refused link to %s: %d %q", email, r.Status, r.Raw)
			}
		}
		if n := verificationsLike(t, st, "magic-link:%"); n != 0 {
			t.Fatalf("%d magic-link rows after refused sends", n)
		}
		out := logs.String()
		if strings.Count(out, "mail delivery failed") != 2 || !strings.Contains(out, "kind=magic-link") || !strings.Contains(out, "550") ||
			!strings.Contains(out, "to=ray@example.com") || strings.Contains(out, "token") || strings.Contains(out, "/magic-link/verify") {
			t.Fatalf("log:\n%s", out)
		}
		sink.refusing.Store(false)
		c := e.client()
		link, _ := sendMagicLink(t, e, sink, c, map[string]any{"email": "ray@example.com", "callbackURL": "/dash"})
		location(t, e.client().do("GET", link, nil), testBaseURL+"/dash")
	})
}

// A code the mail server refuses still answers success, as Better-Auth (which logs its failed
// sendVerificationOTP) does, with the same answer for known and unknown addresses; the log says
// why without the code, the code nobody received is withdrawn, and a new request's code works.
func TestEmailOTPDeliveryFailure(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		cfg := emailOTPConfig(t, map[string]string{"EMAIL_OTP_STORE": "hashed"})
		llm, _ := lastloginmethod.LoadConfig(func(string) string { return "" })
		e, sink, logs := deliveryEnv(t, st, emailotp.New(cfg), lastloginmethod.New(llm))
		signUp(t, e.client(), "known@example.com", "password123")
		sink.refusing.Store(true)
		sends := []struct{ email, typ string }{
			{"new@example.com", "sign-in"},            // mailed: sign-up is open
			{"known@example.com", "forget-password"},  // mailed
			{"nobody@example.com", "forget-password"}, // unknown: nothing mailed, the same answer
		}
		for _, s := range sends {
			r := e.client().do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": s.email, "type": s.typ})
			if r.Status != 200 || string(r.Raw) != `{"success":true}` {
				t.Fatalf("%s code to %s: %d %s", s.typ, s.email, r.Status, r.Raw)
			}
		}
		r := e.client().do("POST", "/api/auth/forget-password/email-otp", map[string]any{"email": "known@example.com"})
		if r.Status != 200 || string(r.Raw) != `{"success":true}` {
			t.Fatalf("forget-password/email-otp: %d %s", r.Status, r.Raw)
		}
		waitFor(t, "three failed deliveries and their codes withdrawn", func() bool {
			return strings.Count(logs.String(), "mail delivery failed") == 3 && verificationsLike(t, st, "%-otp-%") == 0
		})
		out := logs.String()
		if !strings.Contains(out, "kind=email-otp-sign-in") || !strings.Contains(out, "kind=email-otp-forget-password") ||
			!strings.Contains(out, "550") || sixDigits.MatchString(out) {
			t.Fatalf("log:\n%s", out)
		}
		sink.refusing.Store(false)
		c := e.client()
		expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "new@example.com", "type": "sign-in"}), 200, "")
		code := otpMail(t, sink, "new@example.com", "Your code to sign in to")
		expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "new@example.com", "otp": code}), 200, "")
	})
}

// A two-factor code the mail server refuses answers success as Better-Auth does, and, as there,
// the code nobody received stays until the next send-otp replaces it: a code typed meanwhile is
// INVALID_CODE, and the next code, once mail flows, finishes the sign-in.
func TestTwoFactorOTPDeliveryFailure(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink, logs := deliveryEnv(t, st, twofactor.New(defaultTwoFactor()))
		c := e.client()
		signUp(t, c, "alice@example.com", "password123")
		expect(t, c.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123", "method": "otp"}), 200, "")
		b := e.client()
		ch, _ := e.challenge(b, false)
		sink.refusing.Store(true)
		r := b.do("POST", "/api/auth/two-factor/send-otp", nil)
		if r.Status != 200 || string(r.Raw) != `{"status":true}` {
			t.Fatalf("refused send-otp: %d %s", r.Status, r.Raw)
		}
		waitFor(t, "the failed delivery logged", func() bool { return strings.Contains(logs.String(), "mail delivery failed") })
		if out := logs.String(); !strings.Contains(out, "kind=two-factor-otp") || sixDigits.MatchString(out) {
			t.Fatalf("log:\n%s", out)
		}
		if n := rowCount(t, st, "2fa-otp-"+ch); n != 1 {
			t.Fatalf("%d code rows after the failed send, want Better-Auth's one", n)
		}
		v, _ := e.verification("2fa-otp-" + ch)
		expect(t, b.do("POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": otherCode(strings.TrimSuffix(v, ":0"))}), 401, "INVALID_CODE")
		sink.refusing.Store(false)
		e.clock.Advance(time.Second) // the new code is the newest row (the test clock stands still)
		expect(t, b.do("POST", "/api/auth/two-factor/send-otp", nil), 200, "")
		m := sink.next(t)
		code := otpPattern.FindStringSubmatch(m.Text)
		if code == nil {
			t.Fatalf("otp mail:\n%s", m.Text)
		}
		expect(t, b.do("POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": code[1]}), 200, "")
	})
}
