package web_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"authserver/auth/phonenumber"
	"authserver/auth/plugin"
	"authserver/auth/twofactor"
	"authserver/store"
	"authserver/store/storetest"
)

// smsSink is a test SMS provider: it keeps every text, or refuses them all while failing is set.
type smsSink struct {
	mu      sync.Mutex
	sent    []smsText
	failing bool
}

type smsText struct{ To, Body string }

func (s *smsSink) Send(_ context.Context, to, body string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing {
		return errors.New("sms: twilio answered 503")
	}
	s.sent = append(s.sent, smsText{to, body})
	return nil
}

var codeInText = regexp.MustCompile(`^([0-9]{6}) is your Test App (verification|password reset) code\.$`)

// code returns the code of the last text sent to number and forgets the texts.
func (s *smsSink) code(t *testing.T, number string) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) == 0 {
		t.Fatal("no text was sent")
	}
	last := s.sent[len(s.sent)-1]
	m := codeInText.FindStringSubmatch(last.Body)
	if last.To != number || m == nil {
		t.Fatalf("text %+v", last)
	}
	s.sent = nil
	return m[1]
}

func (s *smsSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

func phoneConfig(sink *smsSink, change func(*phonenumber.Config)) phonenumber.Config {
	// The defaults; the error only says no outbox folder was given, and the sink replaces that sender.
	cfg, _ := phonenumber.LoadConfig(func(string) string { return "" }, "Test App", "", false)
	cfg.Sender = sink
	if change != nil {
		change(&cfg)
	}
	return cfg
}

// phoneEnv serves the phone-number plugin (and the others given) with texts going to a sink.
func phoneEnv(t *testing.T, st *store.Store, cfg phonenumber.Config, others ...plugin.Plugin) *env {
	t.Helper()
	ps := append(others, phonenumber.New(cfg))
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	return newEnv(t, st, func(o *envOptions) { o.auth.Plugins = ps })
}

func rowCount(t *testing.T, st *store.Store, identifier string) int {
	t.Helper()
	var n struct{ N int }
	if err := st.RawRow(context.Background(), &n, `select count(*) as n from "verification" where "identifier" = ?`, identifier); err != nil {
		t.Fatal(err)
	}
	return n.N
}

var phoneUserKeys = []string{"name", "email", "emailVerified", "image", "createdAt", "updatedAt", "phoneNumber", "phoneNumberVerified", "id"}

// The code flow as 1.7.25 answers it: send, wrong code, a number nobody has, attaching a number
// to the signed-in user, verifying it again to sign in, password sign-in, and the number being
// out of reach of sign-up and update-user.
func TestPhoneNumberFlow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := &smsSink{}
		e := phoneEnv(t, st, phoneConfig(sink, nil))
		anon := e.client()
		const number = "+15550001111"

		expect(t, anon.do("POST", "/api/auth/phone-number/send-otp", map[string]any{}), 400, "VALIDATION_ERROR")
		expect(t, anon.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": "1"}), 400, "OTP_NOT_FOUND")
		r := anon.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number})
		expect(t, r, 200, "")
		if string(r.Raw) != `{"message":"code sent"}` {
			t.Fatalf("send-otp answer %s", r.Raw)
		}
		code := sink.code(t, number)
		if v, ok := e.verification("phone-number-otp-" + number); !ok || v != code+":0" {
			t.Fatalf("stored value %q", v)
		}
		expect(t, anon.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": "000000x"}), 400, "INVALID_OTP")
		if v, _ := e.verification("phone-number-otp-" + number); v != code+":1" {
			t.Fatalf("after a wrong code %q", v)
		}
		// Nobody has the number and sign-up on verification is off: the code is spent anyway.
		expect(t, anon.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": code}), 500, "FAILED_TO_UPDATE_USER")
		if n := rowCount(t, st, "phone-number-otp-"+number); n != 0 {
			t.Fatalf("%d rows left", n)
		}

		expect(t, anon.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": "password123", "phoneNumber": number}), 400, "PHONE_NUMBER_CANNOT_BE_SET")
		if userCount(t, st, "a@example.com") != 0 {
			t.Fatal("the refused sign-up created a user")
		}
		bob := e.client()
		up := signUp(t, bob, "bob@example.com", "password123")
		pluginObject(t, "sign-up user", userOf(t, up.Raw), phoneUserKeys, map[string]any{"phoneNumber": nil, "phoneNumberVerified": nil})
		token := up.JSON["token"].(string)

		// Attaching needs a session: without one the code is spent and the answer is 401.
		expect(t, anon.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
		code = sink.code(t, number)
		expect(t, anon.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": code, "updatePhoneNumber": true}), 401, "USER_NOT_FOUND")
		expect(t, anon.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
		code = sink.code(t, number)
		r = bob.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": code, "updatePhoneNumber": true})
		expect(t, r, 200, "")
		if r.JSON["status"] != true || r.JSON["token"] != token || len(r.setCookies()) != 0 {
			t.Fatalf("update answer %s, cookies %v", r.Raw, r.setCookies())
		}
		pluginObject(t, "updated user", userOf(t, r.Raw), phoneUserKeys, map[string]any{"phoneNumber": number, "phoneNumberVerified": true})
		expect(t, anon.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": code, "updatePhoneNumber": true}), 400, "OTP_NOT_FOUND")
		if s := bob.do("GET", "/api/auth/get-session", nil); !strings.Contains(string(s.Raw), `"phoneNumber":"`+number+`"`) {
			t.Fatalf("get-session %s", s.Raw)
		}
		// The number is taken now, even by its own user.
		expect(t, anon.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
		expect(t, bob.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": sink.code(t, number), "updatePhoneNumber": true}), 400, "PHONE_NUMBER_EXIST")

		// Verifying a known number signs its user in, with no second step.
		expect(t, anon.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
		c := e.client()
		r = c.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": sink.code(t, number)})
		expect(t, r, 200, "")
		if tok, _ := r.JSON["token"].(string); tok == "" || tok == token || c.do("GET", "/api/auth/get-session", nil).JSON["user"] == nil {
			t.Fatalf("verify sign-in %s", r.Raw)
		}

		// Password sign-in by number.
		expect(t, anon.do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": number, "password": "wrong-password"}), 401, "INVALID_PHONE_NUMBER_OR_PASSWORD")
		expect(t, anon.do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": "+19999", "password": "password123"}), 401, "INVALID_PHONE_NUMBER_OR_PASSWORD")
		expect(t, anon.do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": number, "password": strings.Repeat("x", 200)}), 400, "PASSWORD_TOO_LONG")
		expect(t, anon.do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": number}), 400, "VALIDATION_ERROR")
		d := e.client()
		r = d.do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": number, "password": "password123", "rememberMe": false})
		expect(t, r, 200, "")
		if got := strings.Join(jsonKeys(t, r.Raw), ","); got != "token,user" {
			t.Fatalf("sign-in keys %s", got)
		}
		if d.do("GET", "/api/auth/get-session", nil).JSON["user"] == nil {
			t.Fatal("no session after sign-in")
		}

		// update-user cannot set a number, but null clears it with its verified flag.
		expect(t, bob.do("POST", "/api/auth/update-user", map[string]any{"phoneNumber": "+12"}), 400, "PHONE_NUMBER_CANNOT_BE_UPDATED")
		expect(t, bob.do("POST", "/api/auth/update-user", map[string]any{"phoneNumberVerified": true}), 400, "FIELD_NOT_ALLOWED")
		expect(t, bob.do("POST", "/api/auth/update-user", map[string]any{"phoneNumber": nil}), 200, "")
		s := bob.do("GET", "/api/auth/get-session", nil)
		pluginObject(t, "cleared user", userOf(t, s.Raw), phoneUserKeys, map[string]any{"phoneNumber": nil, "phoneNumberVerified": false})
	})
}

// A code lasts its life and survives AllowedAttempts wrong tries; a used one is gone; only the
// newest code counts.
func TestPhoneNumberAttemptsAndExpiry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := &smsSink{}
		e := phoneEnv(t, st, phoneConfig(sink, func(c *phonenumber.Config) { c.SignUpOnVerification = true }))
		c := e.client()
		const number = "+15550002222"
		send := func() string {
			expect(t, c.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
			return sink.code(t, number)
		}
		verify := func(code string) *response {
			return c.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": code, "disableSession": true})
		}
		code := send()
		for i := 0; i < 3; i++ {
			expect(t, verify("wrong"), 400, "INVALID_OTP")
		}
		expect(t, verify(code), 403, "TOO_MANY_ATTEMPTS")
		expect(t, verify(code), 400, "OTP_NOT_FOUND")

		code = send()
		e.clock.Advance(301 * time.Second)
		expect(t, verify(code), 400, "OTP_EXPIRED")
		expect(t, verify(code), 400, "OTP_NOT_FOUND")

		old := send()
		e.clock.Advance(time.Second) // the newer code is the one with the later createdAt
		code = send()
		if old == code {
			code = send() // the two random codes happened to agree
		}
		expect(t, verify(old), 400, "INVALID_OTP")
		e.clock.Advance(299 * time.Second)
		expect(t, verify(code), 200, "")
		expect(t, verify(code), 400, "OTP_NOT_FOUND")
	})
}

// With sign-up on verification an unknown number gets a user named after it, with the temporary
// address; disableSession creates the user without a session.
func TestPhoneNumberSignUpOnVerification(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := &smsSink{}
		e := phoneEnv(t, st, phoneConfig(sink, func(c *phonenumber.Config) { c.SignUpOnVerification = true }))
		c := e.client()
		number := "+1 (555) 000-3333"
		expect(t, c.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
		r := c.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": sink.code(t, number), "disableSession": true, "name": "ignored"})
		expect(t, r, 200, "")
		if r.JSON["token"] != nil || len(r.setCookies()) != 0 {
			t.Fatalf("disableSession answer %s", r.Raw)
		}
		pluginObject(t, "new user", userOf(t, r.Raw), phoneUserKeys, map[string]any{"name": number, "email": "15550003333@phone.invalid",
			"emailVerified": false, "phoneNumber": number, "phoneNumberVerified": true})
		if e.sessionCount(userOf2(t, r)) != 0 {
			t.Fatal("disableSession created a session")
		}

		other := "+15550004444"
		expect(t, c.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": other}), 200, "")
		r = c.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": other, "code": sink.code(t, other)})
		expect(t, r, 200, "")
		s := c.do("GET", "/api/auth/get-session", nil)
		if tok, _ := r.JSON["token"].(string); tok == "" || !strings.Contains(string(s.Raw), `"email":"15550004444@phone.invalid"`) {
			t.Fatalf("sign-up answer %s, session %s", r.Raw, s.Raw)
		}
		// A number whose temporary address another number already took cannot sign up.
		clash := "1555-000-4444"
		expect(t, c.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": clash}), 200, "")
		expect(t, c.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": clash, "code": sink.code(t, clash)}), 500, "FAILED_TO_CREATE_USER")
	})
}

func userOf2(t *testing.T, r *response) string {
	t.Helper()
	u, _ := r.JSON["user"].(map[string]any)
	id, _ := u["id"].(string)
	if id == "" {
		t.Fatalf("no user id in %s", r.Raw)
	}
	return id
}

// Password reset by text: unknown numbers get the same answer and no text; the code is checked
// with attempts counted and spent with the new password.
func TestPhoneNumberPasswordReset(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := &smsSink{}
		e := phoneEnv(t, st, phoneConfig(sink, nil))
		c := e.client()
		const number = "+15550005555"
		signUp(t, c, "carol@example.com", "password123")
		expect(t, c.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
		expect(t, c.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": sink.code(t, number), "updatePhoneNumber": true}), 200, "")

		anon := e.client()
		r := anon.do("POST", "/api/auth/phone-number/request-password-reset", map[string]any{"phoneNumber": "+19998887777"})
		expect(t, r, 200, "")
		if string(r.Raw) != `{"status":true}` || sink.count() != 0 {
			t.Fatalf("unknown number: %s, %d texts", r.Raw, sink.count())
		}
		// A guess for the unknown number is refused as for a known one (1.7.25 stores a code
		// nobody receives), so the answer tells nothing about accounts.
		expect(t, anon.do("POST", "/api/auth/phone-number/reset-password", map[string]any{"phoneNumber": "+19998887777", "otp": "123456", "newPassword": "newpassword1"}), 400, "INVALID_OTP")
		expect(t, anon.do("POST", "/api/auth/phone-number/reset-password", map[string]any{"phoneNumber": "+19998887776", "otp": "123456", "newPassword": "newpassword1"}), 400, "OTP_NOT_FOUND")
		expect(t, anon.do("POST", "/api/auth/phone-number/request-password-reset", map[string]any{"phoneNumber": number}), 200, "")
		code := sink.code(t, number)
		reset := func(otp, pw string) *response {
			return anon.do("POST", "/api/auth/phone-number/reset-password", map[string]any{"phoneNumber": number, "otp": otp, "newPassword": pw})
		}
		expect(t, reset(code, "short"), 400, "PASSWORD_TOO_SHORT")
		expect(t, reset("000", "newpassword1"), 400, "INVALID_OTP")
		if v, _ := e.verification("phone-number-reset-" + number); v != code+":1" {
			t.Fatalf("reset row %q", v)
		}
		expect(t, reset(code, "newpassword1"), 200, "")
		expect(t, reset(code, "newpassword2"), 400, "OTP_NOT_FOUND")
		expect(t, anon.do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": number, "password": "password123"}), 401, "INVALID_PHONE_NUMBER_OR_PASSWORD")
		expect(t, anon.do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": number, "password": "newpassword1"}), 200, "")
		// The old session lives on, as with Better-Auth's default.
		if c.do("GET", "/api/auth/get-session", nil).JSON["user"] == nil {
			t.Fatal("the reset revoked the session")
		}
	})
}

// A send-otp text the provider refuses answers 500 with no body (nor content type), is logged
// without the code and leaves no code behind, so the retry after the provider recovers works; a
// reset text that fails answers success, as Better-Auth does.
func TestPhoneNumberDeliveryFailure(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := &smsSink{failing: true}
		var logs bytes.Buffer
		var mu sync.Mutex
		cfg := phoneConfig(sink, func(c *phonenumber.Config) {
			c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
		})
		e := phoneEnv(t, st, cfg)
		c := e.client()
		const number = "+15550006666"
		r := c.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number})
		expect(t, r, 500, "")
		if len(bytes.TrimSpace(r.Raw)) != 0 || r.Header.Get("Content-Type") != "" {
			t.Fatalf("failed send body %q", r.Raw)
		}
		if n := rowCount(t, st, "phone-number-otp-"+number); n != 0 {
			t.Fatalf("%d code rows after a failed send", n)
		}
		mu.Lock()
		line := logs.String()
		mu.Unlock()
		if !strings.Contains(line, "text message not sent") || !strings.Contains(line, "503") || regexp.MustCompile(`[0-9]{6}`).MatchString(strings.ReplaceAll(line, number, "")) {
			t.Fatalf("log %q", line)
		}
		signUp(t, c, "dan@example.com", "password123")
		expect(t, c.do("POST", "/api/auth/phone-number/request-password-reset", map[string]any{"phoneNumber": number}), 200, "") // unknown: no text tried
		sink.mu.Lock()
		sink.failing = false
		sink.mu.Unlock()
		expect(t, c.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
		expect(t, c.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": sink.code(t, number), "updatePhoneNumber": true}), 200, "")
		sink.mu.Lock()
		sink.failing = true
		sink.mu.Unlock()
		// A reset whose text fails answers as one that went out (and as one for a number nobody
		// has), as Better-Auth, which logs the failure, does; its untold code is stored like an
		// unknown number's, so a guess gets INVALID_OTP either way.
		before := rowCount(t, st, "phone-number-reset-"+number)
		r = c.do("POST", "/api/auth/phone-number/request-password-reset", map[string]any{"phoneNumber": number})
		if r.Status != 200 || string(r.Raw) != `{"status":true}` {
			t.Fatalf("reset with a failing provider: %d %s", r.Status, r.Raw)
		}
		if n := rowCount(t, st, "phone-number-reset-"+number); n != before+1 {
			t.Fatalf("%d reset rows after a failed send, %d before", n, before)
		}
		expect(t, c.do("POST", "/api/auth/phone-number/reset-password", map[string]any{"phoneNumber": number, "otp": "000000", "newPassword": "password456"}), 400, "INVALID_OTP")
		mu.Lock()
		line = logs.String()
		mu.Unlock()
		if strings.Count(line, "text message not sent") != 2 || !strings.Contains(line, "kind=reset") {
			t.Fatalf("log %q", line)
		}
	})
}

// The optional E.164 check refuses other forms on send-otp and sign-in.
func TestPhoneNumberE164(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := &smsSink{}
		e := phoneEnv(t, st, phoneConfig(sink, func(c *phonenumber.Config) { c.ValidateE164 = true }))
		c := e.client()
		for _, n := range []string{"5550001111", "+0123", "+1 555 000", "+1234567890123456"} {
			expect(t, c.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": n}), 400, "INVALID_PHONE_NUMBER")
			expect(t, c.do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": n, "password": "password123"}), 400, "INVALID_PHONE_NUMBER")
		}
		expect(t, c.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": "+442071838750"}), 200, "")
	})
}

// Password sign-in by number passes the two-factor challenge, as in Better-Auth.
func TestPhoneNumberTwoFactorChallenge(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := &smsSink{}
		e := phoneEnv(t, st, phoneConfig(sink, nil), twofactor.New(defaultTwoFactor()))
		alice := e.client()
		signUp(t, alice, "alice@example.com", "password123")
		en := alice.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123"})
		expect(t, en, 200, "")
		secret := totpURIPattern.FindStringSubmatch(en.JSON["totpURI"].(string))[1]
		expect(t, alice.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}), 200, "")
		const number = "+15550007777"
		expect(t, alice.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
		expect(t, alice.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": sink.code(t, number), "updatePhoneNumber": true}), 200, "")
		c := e.client()
		r := c.do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": number, "password": "password123"})
		expect(t, r, 200, "")
		if r.JSON["twoFactorRedirect"] != true || r.JSON["token"] != nil {
			t.Fatalf("challenge answer %s", r.Raw)
		}
		if c.do("GET", "/api/auth/get-session", nil).JSON["user"] != nil {
			t.Fatal("a session before the second factor")
		}
	})
}

// With verification required, a password sign-in with an unverified number whose code text fails
// answers PHONE_NUMBER_NOT_VERIFIED all the same, as Better-Auth (which logs the failed sendOTP)
// does, and stores the code as Better-Auth stores it before sending.
func TestPhoneNumberUnverifiedSignInSendFailure(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := &smsSink{}
		var logs bytes.Buffer
		var mu sync.Mutex
		cfg := phoneConfig(sink, func(c *phonenumber.Config) {
			c.RequireVerification = true
			c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
		})
		e := phoneEnv(t, st, cfg)
		c := e.client()
		const number = "+15550007777"
		signUp(t, c, "eve@example.com", "password123")
		expect(t, c.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
		expect(t, c.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": sink.code(t, number), "updatePhoneNumber": true}), 200, "")
		if err := st.ExecAdmin(context.Background(), `update "user" set "phoneNumberVerified" = false`); err != nil {
			t.Fatal(err)
		}
		sink.mu.Lock()
		sink.failing = true
		sink.mu.Unlock()
		r := e.client().do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": number, "password": "password123"})
		expect(t, r, 401, "PHONE_NUMBER_NOT_VERIFIED")
		if n := rowCount(t, st, "phone-number-otp-"+number); n != 1 {
			t.Fatalf("%d code rows after the failed send, want 1", n)
		}
		mu.Lock()
		line := logs.String()
		mu.Unlock()
		if !strings.Contains(line, "text message not sent") || !strings.Contains(line, "kind=otp") {
			t.Fatalf("log %q", line)
		}
	})
}
