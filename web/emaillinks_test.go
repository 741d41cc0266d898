package web_test

// Regression tests for the email-link findings of the adversarial review (issue 12): a change of
// email that hands a victim's future social sign-in to the changer, an approval link that mails
// without end, reset tokens outliving what should end them, and reset requests whose timing
// tells which addresses exist.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"authserver/auth"
	"authserver/mail"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
	"authserver/web"
)

// socialMail gives a social env a real SMTP sink and change-email options.
func socialMail(t *testing.T, sink *smtpSink, edit func(*auth.EmailConfig)) func(*socialOptions) {
	return func(o *socialOptions) {
		sender, err := mail.New(mail.Config{SMTPURL: "smtp+insecure://" + sink.addr, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := mail.LoadTemplates("", "Test App")
		if err != nil {
			t.Fatal(err)
		}
		o.auth.Email.Sender, o.auth.Email.Templates, o.auth.Email.SendTimeout = sender, tpl, time.Second
		o.auth.Email.ChangeEmailEnabled = true
		if edit != nil {
			edit(&o.auth.Email)
		}
	}
}

// mailLink extracts the action link of a message sent by a social env (whose base URL is its own
// listener), as a path for the env's clients.
func (se *socialEnv) mailLink(t *testing.T, m delivered) string {
	t.Helper()
	l := regexp.MustCompile(regexp.QuoteMeta(se.srv.URL) + `/api/auth/[^\s"<>]+`).FindString(m.Text)
	if l == "" {
		t.Fatalf("no link in mail %q:\n%s", m.Subject, m.Text)
	}
	return strings.TrimPrefix(l, se.srv.URL)
}

// withoutCallback drops a verify-email link's callbackURL, so that it answers JSON.
func withoutCallback(link string) string { return strings.Split(link, "&callbackURL=")[0] }

// accountProviders lists the providers of a user's accounts, as stored.
func accountProviders(t *testing.T, st *store.Store, email string) []string {
	t.Helper()
	u, err := st.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	accts, err := st.AccountsByUser(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range accts {
		out = append(out, a.ProviderID)
	}
	return out
}

// Finding 1: Mallory moves her account onto the victim's address; the victim, by clicking the
// link in a mail they never asked for, verifies it; their later social sign-in with that address
// must not land in Mallory's account. The mail tells the victim whose account it is about, and
// the owner can still link a provider explicitly.
func TestChangeEmailDoesNotHandOverSocialSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		t.Run("with confirmation from the current address", func(t *testing.T) {
			sink := newSMTPSink(t)
			se := newSocialEnv(t, st, socialMail(t, sink, func(e *auth.EmailConfig) { e.ChangeEmailConfirmation = true }))
			mallory := se.browser()
			signUp(t, mallory, "mallory@example.com", "password123")
			markVerified(t, st, "mallory@example.com")
			expect(t, mallory.do("POST", "/api/auth/change-email", map[string]any{"newEmail": "victim@corp.example"}), 200, "")
			approve := sink.next(t)
			if approve.To != "mallory@example.com" {
				t.Fatalf("approval went to %s", approve.To)
			}
			expect(t, mallory.do("GET", withoutCallback(se.mailLink(t, approve)), nil), 200, "")
			toVictim := sink.next(t)
			if toVictim.To != "victim@corp.example" || !strings.Contains(toVictim.Text, "mallory@example.com") {
				t.Errorf("the mail to the new address does not say whose account it joins (to %s):\n%s", toVictim.To, toVictim.Text)
			}
			// The victim clicks, signed out.
			r := se.browser().do("GET", withoutCallback(se.mailLink(t, toVictim)), nil)
			if r.Status != 200 || r.JSON["user"].(map[string]any)["email"] != "victim@corp.example" {
				t.Fatalf("verification link = %d %s", r.Status, r.Raw)
			}

			se.idp.addUser("victim", "victim@corp.example", true)
			victim := se.browser()
			landed := se.signInVia(t, victim, "victim", map[string]any{"callbackURL": appURL("/dashboard"), "errorCallbackURL": appURL("/oops")})
			if landed.Path != "/oops" || landed.Query().Get("error") != "account_not_linked" {
				t.Fatalf("the victim's social sign-in landed on %s, want /oops?error=account_not_linked", landed)
			}
			if r := victim.do("GET", "/api/auth/get-session", nil); string(r.Raw) != "null" {
				t.Fatalf("the victim got a session: %s", r.Raw)
			}
			if got := accountProviders(t, st, "victim@corp.example"); len(got) != 1 || got[0] != store.CredentialProvider {
				t.Fatalf("accounts of the changed user = %v, want only the password", got)
			}

			// The signed-in owner can still link the provider on purpose; from then on it signs in.
			r = mallory.do("POST", "/api/auth/link-social", map[string]any{"provider": "idp", "callbackURL": appURL("/settings"), "errorCallbackURL": appURL("/oops")})
			expect(t, r, 200, "")
			se.idp.set(func(i *testIdP) { i.next = "victim" })
			wantLanding(t, se.browse(t, mallory, r.JSON["url"].(string), nil), appURL("/settings"))
			again := se.browser()
			wantLanding(t, se.signInVia(t, again, "victim", map[string]any{"callbackURL": appURL("/dashboard")}), appURL("/dashboard"))
		})

		t.Run("unverified user switching at once", func(t *testing.T) {
			sink := newSMTPSink(t)
			se := newSocialEnv(t, st, socialMail(t, sink, func(e *auth.EmailConfig) { e.ChangeEmailWithoutVerification = true }))
			mallory := se.browser()
			signUp(t, mallory, "mallory2@example.com", "password123")
			expect(t, mallory.do("POST", "/api/auth/change-email", map[string]any{"newEmail": "victim2@corp.example"}), 200, "")
			toVictim := sink.next(t)
			if toVictim.To != "victim2@corp.example" || !strings.Contains(toVictim.Text, "mallory2@example.com") {
				t.Errorf("the mail to the new address does not say whose account it joins (to %s):\n%s", toVictim.To, toVictim.Text)
			}
			if r := se.browser().do("GET", withoutCallback(se.mailLink(t, toVictim)), nil); r.Status != 200 {
				t.Fatalf("verification link = %d %s", r.Status, r.Raw)
			}
			se.idp.addUser("victim2", "victim2@corp.example", true)
			landed := se.signInVia(t, se.browser(), "victim2", map[string]any{"callbackURL": appURL("/dashboard"), "errorCallbackURL": appURL("/oops")})
			if landed.Query().Get("error") != "account_not_linked" {
				t.Fatalf("the victim's social sign-in landed on %s, want error=account_not_linked", landed)
			}
		})

		t.Run("ACCOUNT_LINKING_ALLOW_CHANGED_EMAIL restores Better-Auth's linking", func(t *testing.T) {
			sink := newSMTPSink(t)
			se := newSocialEnv(t, st, socialMail(t, sink, nil), func(o *socialOptions) { o.social.AccountLinking.AllowChangedEmail = true })
			owner := se.browser()
			signUp(t, owner, "old3@example.com", "password123")
			markVerified(t, st, "old3@example.com")
			expect(t, owner.do("POST", "/api/auth/change-email", map[string]any{"newEmail": "new3@example.com"}), 200, "")
			if r := owner.do("GET", withoutCallback(se.mailLink(t, sink.next(t))), nil); r.Status != 200 {
				t.Fatalf("verification link = %d %s", r.Status, r.Raw)
			}
			se.idp.addUser("new3", "new3@example.com", true)
			c := se.browser()
			wantLanding(t, se.signInVia(t, c, "new3", map[string]any{"callbackURL": appURL("/dashboard")}), appURL("/dashboard"))
			if got := sessionOf(t, c)["user"].(map[string]any)["email"]; got != "new3@example.com" {
				t.Fatalf("signed in as %v", got)
			}
		})
	})
}

// mailEnv is a server with mail to a sink and change-email with confirmation.
func mailEnv(t *testing.T, st *store.Store, opts ...func(*envOptions)) (*env, *smtpSink) {
	sink := newSMTPSink(t)
	opts = append([]func(*envOptions){mailOptions(t, "smtp+insecure://"+sink.addr, nil, func(c *auth.Config) {
		c.Email.ChangeEmailEnabled = true
		c.Email.ChangeEmailConfirmation = true
		c.Email.DeleteUserEnabled = true
		c.Email.DeleteUserVerification = true
	})}, opts...)
	return newEnv(t, st, opts...), sink
}

// approvalLink signs up a verified user, asks to change their email and returns the approval
// link mailed to the current address.
func approvalLink(t *testing.T, e *env, sink *smtpSink, c *client, from, to string, headers ...string) string {
	t.Helper()
	expect(t, c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "Test User", "email": from, "password": "password123"}, headers...), 200, "")
	markVerified(t, e.st, from)
	expect(t, c.do("POST", "/api/auth/change-email", map[string]any{"newEmail": to}, headers...), 200, "")
	m := sink.next(t)
	if m.To != from {
		t.Fatalf("approval went to %s, want %s", m.To, from)
	}
	return e.link(t, m)
}

// Finding 2: the approval link works once, even when opened many times at once; a second use is
// Better-Auth's invalid-token answer on that path.
func TestChangeEmailApprovalLinkWorksOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := mailEnv(t, st)
		link := approvalLink(t, e, sink, e.client(), "once@example.com", "once.new@example.com")
		noCallback := withoutCallback(link)

		const n = 8
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := http.Get(e.srv.URL + noCallback)
				if err == nil {
					statuses[i] = res.StatusCode
					res.Body.Close()
				}
			}()
		}
		wg.Wait()
		won := 0
		for _, s := range statuses {
			switch s {
			case 200:
				won++
			case 401:
			default:
				t.Errorf("an approval attempt answered %d", s)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent approvals succeeded (%v), want exactly 1", won, n, statuses)
		}
		if m := sink.next(t); m.To != "once.new@example.com" {
			t.Fatalf("verification went to %s", m.To)
		}
		sink.none(t)

		expect(t, e.client().do("GET", noCallback, nil), 401, "INVALID_TOKEN")
		r := e.client().do("GET", link, nil)
		if r.Status != 302 || r.Header.Get("Location") != "/?error=INVALID_TOKEN" {
			t.Errorf("used approval link with callbackURL = %d %q", r.Status, r.Header.Get("Location"))
		}
		sink.none(t)
	})
}

// Finding 2: requests that mail only sometimes count against the mail rule (3 per minute per
// client) when they do: following approval links, and delete-user by mail.
func TestMailRateLimitCoversLinksAndDeleteUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := mailEnv(t, st, rateLimited(web.NewMemoryRateLimitStore()))
		var links []string
		for i := range 4 {
			// Each change is asked from its own address, so only the links' client is limited.
			ip := "198.51.100." + strconv.Itoa(i+1)
			from := "rl" + strconv.Itoa(i) + "@example.com"
			links = append(links, approvalLink(t, e, sink, e.client(), from, "new-"+from, "X-Forwarded-For", ip))
		}
		opener := e.client()
		for _, l := range links[:3] {
			r := opener.do("GET", withoutCallback(l), nil, "X-Forwarded-For", "203.0.113.7")
			expect(t, r, 200, "")
			sink.next(t)
		}
		r := opener.do("GET", links[3], nil, "X-Forwarded-For", "203.0.113.7")
		if r.Status != 429 || r.Header.Get("X-Retry-After") == "" || r.JSON["message"] != "Too many requests. Please try again later." {
			t.Fatalf("fourth mailing link in a minute = %d %q %s, want 429 with X-Retry-After", r.Status, r.Header.Get("X-Retry-After"), r.Raw)
		}
		sink.none(t)
		// The refused link was not spent: another client may still use it.
		expect(t, e.client().do("GET", withoutCallback(links[3]), nil, "X-Forwarded-For", "203.0.113.8"), 200, "")
		sink.next(t)

		// delete-user by mail, from one client: three mails, then 429.
		c := e.client()
		expect(t, c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "Del", "email": "deleter@example.com", "password": "password123"}, "X-Forwarded-For", "192.0.2.50"), 200, "")
		for range 3 {
			expect(t, c.do("POST", "/api/auth/delete-user", map[string]any{}, "X-Forwarded-For", "192.0.2.50"), 200, "")
			sink.next(t)
		}
		r = c.do("POST", "/api/auth/delete-user", map[string]any{}, "X-Forwarded-For", "192.0.2.50")
		if r.Status != 429 {
			t.Fatalf("fourth delete-user mail in a minute = %d %s, want 429", r.Status, r.Raw)
		}
		sink.none(t)
	})
}

// resetToken asks for a reset of email and returns the token from the mailed link.
func resetToken(t *testing.T, e *env, sink *smtpSink, email string) string {
	t.Helper()
	expect(t, e.client().do("POST", "/api/auth/request-password-reset", map[string]any{"email": email, "redirectTo": "/reset"}), 200, "")
	m := sink.next(t)
	if m.To != email {
		t.Fatalf("reset mail went to %s, want %s", m.To, email)
	}
	path := strings.TrimPrefix(e.link(t, m), "/api/auth/reset-password/")
	token, _, _ := strings.Cut(path, "?")
	return token
}

func resetWith(e *env, token, password string) *response {
	return e.client().do("POST", "/api/auth/reset-password", map[string]any{"token": token, "newPassword": password})
}

// Finding 5: a reset token ends with any password change or reset, any email change, and when a
// newer one is issued.
func TestResetTokensEndWithChanges(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		t.Run("a newer token ends the older", func(t *testing.T) {
			e, sink := mailEnv(t, st)
			signUp(t, e.client(), "newer@example.com", "password123")
			older := resetToken(t, e, sink, "newer@example.com")
			e.clock.Advance(time.Second)
			newer := resetToken(t, e, sink, "newer@example.com")
			expect(t, resetWith(e, older, "password-older"), 400, "INVALID_TOKEN")
			expect(t, resetWith(e, newer, "password-newer"), 200, "")
		})
		t.Run("a reset ends every other token", func(t *testing.T) {
			e, sink := mailEnv(t, st)
			signUp(t, e.client(), "other@example.com", "password123")
			u, err := st.UserByEmail(context.Background(), "other@example.com")
			if err != nil {
				t.Fatal(err)
			}
			// A token this server did not end (issued by a Better-Auth server on the same database).
			now := store.NewTime(e.clock.Now())
			if err := st.CreateVerification(context.Background(), &store.Verification{ID: session.NewID(), Identifier: "reset-password:fromelsewhere", Value: u.ID,
				ExpiresAt: store.NewTime(e.clock.Now().Add(time.Hour)), CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Second)
			expect(t, resetWith(e, resetToken(t, e, sink, "other@example.com"), "password-reset1"), 200, "")
			expect(t, resetWith(e, "fromelsewhere", "password-reset2"), 400, "INVALID_TOKEN")
		})
		t.Run("two tokens used at once: one wins, the other is spent", func(t *testing.T) {
			e, _ := mailEnv(t, st, func(o *envOptions) {
				o.auth.Hasher = auth.HasherConfig{Concurrency: 2, MaxWait: time.Minute}
			})
			signUp(t, e.client(), "twice@example.com", "password123")
			u, err := st.UserByEmail(context.Background(), "twice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			// Two live tokens, as a Better-Auth server on the same database leaves them.
			now := store.NewTime(e.clock.Now())
			for _, tok := range []string{"tokenone", "tokentwo"} {
				if err := st.CreateVerification(context.Background(), &store.Verification{ID: session.NewID(), Identifier: "reset-password:" + tok, Value: u.ID,
					ExpiresAt: store.NewTime(e.clock.Now().Add(time.Hour)), CreatedAt: now, UpdatedAt: now}); err != nil {
					t.Fatal(err)
				}
			}
			statuses := make([]int, 2)
			var wg sync.WaitGroup
			for i, tok := range []string{"tokenone", "tokentwo"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body, _ := json.Marshal(map[string]any{"token": tok, "newPassword": "password-" + tok})
					req, _ := http.NewRequest("POST", e.srv.URL+"/api/auth/reset-password", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Origin", trusted)
					if res, err := http.DefaultClient.Do(req); err == nil {
						statuses[i] = res.StatusCode
						res.Body.Close()
					}
				}()
			}
			wg.Wait()
			if !(statuses[0] == 200 && statuses[1] == 400) && !(statuses[0] == 400 && statuses[1] == 200) {
				t.Fatalf("two tokens used at once answered %v, want one 200 and one 400", statuses)
			}
		})
		for _, revoke := range []bool{true, false} {
			name := "change-password"
			if revoke {
				name += " revoking other sessions"
			}
			t.Run(name, func(t *testing.T) {
				e, sink := mailEnv(t, st)
				c := e.client()
				email := "cp-" + strconv.FormatBool(revoke) + "@example.com"
				signUp(t, c, email, "password123")
				token := resetToken(t, e, sink, email)
				expect(t, c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password-changed", "revokeOtherSessions": revoke}), 200, "")
				expect(t, resetWith(e, token, "password-attacker"), 400, "INVALID_TOKEN")
				expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": "password-changed"}), 200, "")
			})
		}
		t.Run("change-email", func(t *testing.T) {
			e, sink := mailEnv(t, st)
			c := e.client()
			link := approvalLink(t, e, sink, c, "ce@example.com", "ce.new@example.com")
			token := resetToken(t, e, sink, "ce@example.com")
			expect(t, c.do("GET", link, nil), 302, "")
			r := c.do("GET", e.link(t, sink.next(t)), nil)
			if r.Status != 302 {
				t.Fatalf("new-address link = %d %s", r.Status, r.Raw)
			}
			if u := sessionOf(t, c)["user"].(map[string]any); u["email"] != "ce.new@example.com" {
				t.Fatalf("email not changed: %v", u)
			}
			expect(t, resetWith(e, token, "password-attacker"), 400, "INVALID_TOKEN")
		})
	})
}

// Finding 7: a reset request for a known address answers without waiting for the token to be
// stored or the mail to be rendered. With the verification table locked, the known address still
// gets its answer; the token and the mail follow once the lock is gone.
func TestRequestPasswordResetAnswersBeforeStoring(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := mailEnv(t, st)
		signUp(t, e.client(), "timing@example.com", "password123")

		locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- st.Tx(context.Background(), func(tx *store.Store) error {
				// SQLite's transactions take the write lock when they begin (_txlock=immediate).
				if tx.Dialect() == store.Postgres {
					if err := tx.ExecAdmin(context.Background(), `lock table "verification" in exclusive mode`); err != nil {
						return err
					}
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		answered := make(chan int, 1)
		go func() {
			body, _ := json.Marshal(map[string]any{"email": "timing@example.com"})
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/auth/request-password-reset", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", trusted)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				answered <- 0
				return
			}
			res.Body.Close()
			answered <- res.StatusCode
		}()
		var status int
		select {
		case status = <-answered:
		case <-time.After(5 * time.Second):
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if status == 0 {
			<-answered
			t.Fatal("request-password-reset for a known address waited for the token to be stored")
		}
		if status != 200 {
			t.Fatalf("request-password-reset = %d", status)
		}
		m := sink.next(t)
		token, _, _ := strings.Cut(strings.TrimPrefix(e.link(t, m), "/api/auth/reset-password/"), "?")
		expect(t, resetWith(e, token, "password-after"), 200, "")
	})
}
