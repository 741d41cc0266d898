package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"authserver/auth/atrest"
	"authserver/auth/emailotp"
	"authserver/auth/lastloginmethod"
	"authserver/auth/plugin"
	"authserver/auth/twofactor"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

// emailOTPEnv serves the e-mail OTP plugin (with two-factor and last-login-method beside it) with
// mail going to an SMTP sink.
func emailOTPEnv(t *testing.T, st *store.Store, cfg emailotp.Config, more ...func(*envOptions)) (*env, *smtpSink) {
	t.Helper()
	llm, _ := lastloginmethod.LoadConfig(func(string) string { return "" })
	ps := []plugin.Plugin{emailotp.New(cfg), twofactor.New(defaultTwoFactor()), lastloginmethod.New(llm)}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	sink := newSMTPSink(t)
	opts := append([]func(*envOptions){mailOptions(t, "smtp+insecure://"+sink.addr, nil, nil), func(o *envOptions) { o.auth.Plugins = ps }}, more...)
	e := newEnv(t, st, opts...)
	return e, sink
}

func emailOTPConfig(t *testing.T, env map[string]string) emailotp.Config {
	t.Helper()
	cfg, err := emailotp.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// otpMail reads the next mail, checks it is a code to to with subject and the app name, and
// returns the code.
func otpMail(t *testing.T, sink *smtpSink, to, subject string) string {
	t.Helper()
	m := sink.next(t)
	code := otpPattern.FindStringSubmatch(m.Text)
	if m.To != to || code == nil || !strings.HasPrefix(m.Subject, subject) || !strings.Contains(m.Subject, "Test App") ||
		!strings.Contains(m.Text, "It expires in 5 minutes.") {
		t.Fatalf("mail to %q subject %q:\n%s", m.To, m.Subject, m.Text)
	}
	return code[1]
}

// drain drops the mail delivered so far.
func (s *smtpSink) drain() {
	for {
		select {
		case <-s.msgs:
		case <-time.After(300 * time.Millisecond):
			return
		}
	}
}

func otherCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// Sign-in by code: a new address becomes a verified user (name from the body, last-login-method
// "email-otp"); a wrong code counts, the fourth try is refused for good; a used code is refused;
// check-verification-otp does not spend the code; the code row has Better-Auth's form.
func TestEmailOTPSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := emailOTPEnv(t, st, emailOTPConfig(t, nil))
		c := e.client()
		expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "x@example.com", "type": "bogus"}), 400, "VALIDATION_ERROR")
		expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "not-an-email", "type": "sign-in"}), 400, "INVALID_EMAIL")
		r := c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "x@example.com", "type": "change-email"})
		expect(t, r, 400, "")
		if string(r.Raw) != `{"message":"Invalid OTP type"}` {
			t.Errorf("change-email type: %s", r.Raw)
		}
		r = c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "Carol@Example.com", "type": "sign-in"})
		expect(t, r, 200, "")
		if string(r.Raw) != `{"success":true}` {
			t.Errorf("send: %s", r.Raw)
		}
		code := otpMail(t, sink, "carol@example.com", "Your code to sign in to")
		if v, _ := e.verification("sign-in-otp-carol@example.com"); v != code+":0" {
			t.Errorf("row %q", v)
		}
		wrong := otherCode(code)
		expect(t, c.do("POST", "/api/auth/email-otp/check-verification-otp", map[string]any{"email": "carol@example.com", "type": "sign-in", "otp": wrong}), 400, "INVALID_OTP")
		if v, _ := e.verification("sign-in-otp-carol@example.com"); v != code+":1" {
			t.Errorf("row after a wrong check %q", v)
		}
		// The right code checks (the user does not exist yet) and stays usable.
		expect(t, c.do("POST", "/api/auth/email-otp/check-verification-otp", map[string]any{"email": "carol@example.com", "type": "sign-in", "otp": code}), 400, "USER_NOT_FOUND")
		r = c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "CAROL@example.com", "otp": code, "name": "Carol"})
		expect(t, r, 200, "")
		u, _ := r.JSON["user"].(map[string]any)
		if r.JSON["token"] == "" || u["email"] != "carol@example.com" || u["emailVerified"] != true || u["name"] != "Carol" || r.JSON["redirect"] != nil {
			t.Fatalf("sign-in: %s", r.Raw)
		}
		if got := c.cookieValue("better-auth.last_used_login_method"); got != "email-otp" {
			t.Errorf("last login method %q", got)
		}
		expect(t, c.do("GET", "/api/auth/get-session", nil), 200, "")
		expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "carol@example.com", "otp": code}), 400, "INVALID_OTP")

		// The attempt limit: three wrong codes, then even the right one is refused, then it is gone.
		expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "carol@example.com", "type": "sign-in"}), 200, "")
		code = otpMail(t, sink, "carol@example.com", "Your code to sign in to")
		for i := 0; i < 3; i++ {
			expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "carol@example.com", "otp": otherCode(code)}), 400, "INVALID_OTP")
		}
		expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "carol@example.com", "otp": code}), 403, "TOO_MANY_ATTEMPTS")
		expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "carol@example.com", "otp": code}), 400, "INVALID_OTP")
		expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "carol@example.com"}), 400, "VALIDATION_ERROR")

		// Expiry: five minutes.
		expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "carol@example.com", "type": "sign-in"}), 200, "")
		code = otpMail(t, sink, "carol@example.com", "Your code to sign in to")
		e.clock.Advance(5*time.Minute + time.Second)
		expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "carol@example.com", "otp": code}), 400, "OTP_EXPIRED")
		expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "carol@example.com", "otp": code}), 400, "INVALID_OTP")

		// Unknown addresses get the same answer and no mail for the other types.
		for _, typ := range []string{"email-verification", "forget-password"} {
			expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "nobody@example.com", "type": typ}), 200, "")
			if _, ok := e.verification(typ + "-otp-nobody@example.com"); ok {
				t.Errorf("%s: a row stayed for an unknown address", typ)
			}
		}
		expect(t, c.do("POST", "/api/auth/email-otp/request-password-reset", map[string]any{"email": "nobody@example.com"}), 200, "")
		sink.none(t)
	})
}

// An OTP sign-in to an unverified account ends its sessions and removes its password; a user with
// two-factor gets no challenge; the first-sign-in CSRF check guards send-verification-otp.
func TestEmailOTPExistingUsers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := emailOTPEnv(t, st, emailOTPConfig(t, nil))
		old := e.client()
		signUp(t, old, "eve@example.com", "password123")
		c := e.client()
		expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "eve@example.com", "type": "sign-in"}), 200, "")
		code := otpMail(t, sink, "eve@example.com", "Your code to sign in to")
		r := c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "eve@example.com", "otp": code, "name": "ignored"})
		expect(t, r, 200, "")
		if u := r.JSON["user"].(map[string]any); u["emailVerified"] != true || u["name"] == "ignored" {
			t.Fatalf("sign-in: %s", r.Raw)
		}
		if g := old.do("GET", "/api/auth/get-session", nil); string(g.Raw) != "null" {
			t.Errorf("the unproven session lives on: %s", g.Raw)
		}
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "eve@example.com", "password": "password123"}), 401, "INVALID_EMAIL_OR_PASSWORD")

		// Password reset by code gives her a password again.
		expect(t, c.do("POST", "/api/auth/forget-password/email-otp", map[string]any{"email": "eve@example.com"}), 200, "")
		code = otpMail(t, sink, "eve@example.com", "Your code to reset your")
		expect(t, c.do("POST", "/api/auth/email-otp/reset-password", map[string]any{"email": "eve@example.com", "otp": code, "password": "short"}), 400, "PASSWORD_TOO_SHORT")
		expect(t, c.do("POST", "/api/auth/email-otp/reset-password", map[string]any{"email": "eve@example.com", "otp": otherCode(code), "password": "newpassword123"}), 400, "INVALID_OTP")
		expect(t, c.do("POST", "/api/auth/email-otp/reset-password", map[string]any{"email": "eve@example.com", "otp": code, "password": "newpassword123"}), 200, "")
		expect(t, c.do("POST", "/api/auth/email-otp/reset-password", map[string]any{"email": "eve@example.com", "otp": code, "password": "newpassword123"}), 400, "INVALID_OTP")
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "eve@example.com", "password": "newpassword123"}), 200, "")

		// Two-factor does not stand in front of a code sign-in.
		en := c.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "newpassword123", "method": "otp"})
		expect(t, en, 200, "")
		sink.drain()
		d := e.client()
		expect(t, d.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "eve@example.com", "type": "sign-in"}), 200, "")
		code = otpMail(t, sink, "eve@example.com", "Your code to sign in to")
		r = d.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "eve@example.com", "otp": code})
		expect(t, r, 200, "")
		if r.JSON["twoFactorRedirect"] != nil || r.JSON["token"] == nil {
			t.Errorf("2FA user: %s", r.Raw)
		}

		// CSRF: a cross-site form post and a fetch without Origin are refused before anything is sent.
		anon := e.client()
		expect(t, anon.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "f@example.com", "type": "sign-in"},
			"Origin", "", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"), 403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
		expect(t, anon.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "f@example.com", "type": "sign-in"},
			"Origin", "", "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"), 403, "MISSING_OR_NULL_ORIGIN")
		expect(t, anon.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "f@example.com", "type": "sign-in"},
			"Origin", "http://evil.example"), 403, "INVALID_ORIGIN")
		sink.none(t)
	})
}

// verify-email marks the address verified and answers {status, token:null, user}; with sign-up
// disabled a sign-in code for an unknown address is neither mailed nor accepted; hashed and
// encrypted storage keep Better-Auth's forms.
func TestEmailOTPVerifyEmailAndOptions(t *testing.T) {
	for _, mode := range []string{"hashed", "encrypted"} {
		t.Run(mode, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, st *store.Store) {
				e, sink := emailOTPEnv(t, st, emailOTPConfig(t, map[string]string{"EMAIL_OTP_STORE": mode, "EMAIL_OTP_DISABLE_SIGN_UP": "true"}))
				email := mode + "@example.com"
				c := e.client()
				expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": email, "type": "sign-in"}), 200, "")
				sink.none(t)
				signUp(t, c, email, "password123")
				expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": email, "type": "email-verification"}), 200, "")
				code := otpMail(t, sink, email, "Your code to verify your email")
				v, _ := e.verification("email-verification-otp-" + email)
				stored, attempts, _ := strings.Cut(v, ":")
				if mode == "hashed" && (stored != atrest.Hash(code) || attempts != "0") {
					t.Errorf("hashed row %q", v)
				}
				if mode == "encrypted" {
					if plain, err := atrest.Decrypt(session.SingleKey([]byte(testSecret)), stored); err != nil || plain != code || attempts != "0" {
						t.Errorf("encrypted row %q: %q %v", v, plain, err)
					}
				}
				expect(t, c.do("POST", "/api/auth/email-otp/check-verification-otp", map[string]any{"email": email, "type": "email-verification", "otp": code}), 200, "")
				r := c.do("POST", "/api/auth/email-otp/verify-email", map[string]any{"email": email, "otp": code})
				expect(t, r, 200, "")
				if u, _ := r.JSON["user"].(map[string]any); r.JSON["status"] != true || r.JSON["token"] != nil || u["emailVerified"] != true {
					t.Fatalf("verify-email: %s", r.Raw)
				}
				expect(t, c.do("POST", "/api/auth/email-otp/verify-email", map[string]any{"email": email, "otp": code}), 400, "INVALID_OTP")
				expect(t, c.do("POST", "/api/auth/email-otp/verify-email", map[string]any{"email": "bad", "otp": code}), 400, "INVALID_EMAIL")
				expect(t, e.client().do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "new-" + email, "otp": "123456"}), 400, "INVALID_OTP")
			})
		})
	}
}

// With overrideDefaultEmailVerification, sign-up's verification mail is a code, not a link.
func TestEmailOTPOverridesVerificationMail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := emailOTPEnv(t, st, emailOTPConfig(t, map[string]string{"EMAIL_OTP_OVERRIDE_EMAIL_VERIFICATION": "true"}),
			func(o *envOptions) {
				on := true
				o.auth.RequireEmailVerification = true
				o.auth.Email.SendOnSignUp = &on
			})
		c := e.client()
		signUp(t, c, "gus@example.com", "password123")
		code := otpMail(t, sink, "gus@example.com", "Your code to verify your email")
		expect(t, c.do("POST", "/api/auth/email-otp/verify-email", map[string]any{"email": "gus@example.com", "otp": code}), 200, "")
		expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "gus@example.com", "password": "password123"}), 200, "")
	})
}

// change-email by code: the address changes and is verified, and the caller's own session cookie
// is written again (same token, full term), as 1.7.25 answers; a wrong code changes nothing.
func TestEmailOTPChangeEmail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := emailOTPEnv(t, st, emailOTPConfig(t, map[string]string{"EMAIL_OTP_CHANGE_EMAIL": "true"}))
		c := e.client()
		up := signUp(t, c, "hal@example.com", "password123")
		token, _ := up.JSON["token"].(string)
		expect(t, c.do("POST", "/api/auth/email-otp/request-email-change", map[string]any{"newEmail": "hal2@example.com"}), 200, "")
		code := otpMail(t, sink, "hal2@example.com", "Your code to change your")
		bad := c.do("POST", "/api/auth/email-otp/change-email", map[string]any{"newEmail": "hal2@example.com", "otp": otherCode(code)})
		expect(t, bad, 400, "INVALID_OTP")
		if len(bad.setCookies()) != 0 {
			t.Fatalf("a refused change sets cookies: %v", bad.setCookies())
		}
		r := c.do("POST", "/api/auth/email-otp/change-email", map[string]any{"newEmail": "hal2@example.com", "otp": code})
		expect(t, r, 200, "")
		ck := r.setCookies()["better-auth.session_token"]
		if token == "" || !strings.HasPrefix(ck, "better-auth.session_token="+token+".") || !strings.Contains(ck, "Max-Age=604800") {
			t.Fatalf("change-email session cookie %q (token %q)", ck, token)
		}
		g := c.do("GET", "/api/auth/get-session", nil)
		if u, _ := g.JSON["user"].(map[string]any); u["email"] != "hal2@example.com" || u["emailVerified"] != true {
			t.Fatalf("get-session after change: %s", g.Raw)
		}
	})
}

// resendStrategy "reuse": a code still usable is mailed again with its life renewed and its
// failed tries kept; a code out of tries or expired is replaced, and a hashed one always is (a new
// code equal to the old one, one chance in a million, would fail these checks).
func TestEmailOTPResendReuse(t *testing.T) {
	for _, mode := range []string{"plain", "encrypted", "hashed"} {
		t.Run(mode, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, st *store.Store) {
				e, sink := emailOTPEnv(t, st, emailOTPConfig(t, map[string]string{"EMAIL_OTP_RESEND_STRATEGY": "reuse", "EMAIL_OTP_STORE": mode}))
				c := e.client()
				email := mode + "@example.com"
				send := func() string {
					t.Helper()
					expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": email, "type": "sign-in"}), 200, "")
					return otpMail(t, sink, email, "Your code to sign in to")
				}
				first := send()
				e.clock.Advance(4 * time.Minute)
				second := send()
				if mode == "hashed" {
					if second == first {
						t.Fatalf("hashed: the code %s was sent again", first)
					}
					return
				}
				if second != first {
					t.Fatalf("reuse sent a new code %s, want %s again", second, first)
				}
				expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": email, "otp": otherCode(first)}), 400, "INVALID_OTP")
				e.clock.Advance(4 * time.Minute) // 8 minutes after the first mail, 4 after the renewal
				if third := send(); third != first {
					t.Fatalf("third send %s, want %s", third, first)
				}
				if v, _ := e.verification("sign-in-otp-" + email); !strings.HasSuffix(v, ":1") {
					t.Fatalf("row %q: the failed try is forgotten", v)
				}
				for i := 0; i < 2; i++ {
					expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": email, "otp": otherCode(first)}), 400, "INVALID_OTP")
				}
				fresh := send()
				if fresh == first {
					t.Fatal("a code out of tries was sent again")
				}
				e.clock.Advance(6 * time.Minute)
				if after := send(); after == fresh {
					t.Fatal("an expired code was sent again")
				}
			})
		})
	}
}

// sendVerificationOnSignUp: every e-mail sign-up answer that names a user mails an
// email-verification code (no link: the core's mail is off), the duplicate's look-alike answer
// under required verification included, so the mail says nothing the answer does not; the code
// verifies the address. Without the option a sign-up mails nothing.
func TestEmailOTPSendOnSignUp(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := emailOTPEnv(t, st, emailOTPConfig(t, map[string]string{"EMAIL_OTP_SEND_VERIFICATION_ON_SIGN_UP": "true"}),
			func(o *envOptions) {
				off := false
				o.auth.RequireEmailVerification = true
				o.auth.Email.SendOnSignUp = &off // the core's link would come too otherwise, as in Better-Auth
			})
		c := e.client()
		signUp(t, c, "Ida@Example.com", "password123")
		code := otpMail(t, sink, "ida@example.com", "Your code to verify your email")
		expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ida@example.com", "password": "password123"}), 403, "EMAIL_NOT_VERIFIED")
		expect(t, c.do("POST", "/api/auth/email-otp/verify-email", map[string]any{"email": "ida@example.com", "otp": code}), 200, "")
		sink.drain()
		dup := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"email": "ida@example.com", "password": "password456", "name": "Not Ida"})
		expect(t, dup, 200, "")
		again := otpMail(t, sink, "ida@example.com", "Your code to verify your email")
		if v, _ := e.verification("email-verification-otp-ida@example.com"); v != again+":0" {
			t.Fatalf("row %q, want the new code", v)
		}
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ida@example.com", "password": "password123"}), 200, "")
	})
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := emailOTPEnv(t, st, emailOTPConfig(t, nil))
		signUp(t, e.client(), "jo@example.com", "password123")
		sink.none(t)
	})
}
