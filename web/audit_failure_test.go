package web_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"authserver/auth/deviceauth"
	"authserver/auth/magiclink"
	"authserver/auth/onetimetoken"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

// failedSignIn fails unless exactly one new row was written: a refused sign-in by method for
// reason, about userID ("" for none), from the test client's address; it returns the detail.
func (a *auditTrail) failedSignIn(method, reason, userID string) map[string]any {
	a.t.Helper()
	rows := a.next()
	if len(rows) != 1 {
		a.t.Fatalf("%s %s: %d new audit rows, want 1: %+v", method, reason, len(rows), rows)
	}
	r := rows[0]
	if r.Event != "sign-in" || r.Outcome != "failure" {
		a.t.Fatalf("row = %s/%s, want sign-in/failure", r.Event, r.Outcome)
	}
	if (userID == "" && r.UserID != nil) || (userID != "" && (r.UserID == nil || *r.UserID != userID)) {
		a.t.Fatalf("%s %s: userId = %v, want %q", method, reason, r.UserID, userID)
	}
	if r.IPAddress == nil || *r.IPAddress != "127.0.0.1" {
		a.t.Fatalf("%s %s: ipAddress = %v, want 127.0.0.1", method, reason, r.IPAddress)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
		a.t.Fatalf("detail %q: %v", r.Detail, err)
	}
	if d["method"] != method || d["reason"] != reason {
		a.t.Fatalf("detail = %v, want method %q reason %q", d, method, reason)
	}
	return d
}

// none fails if anything was written since the last read.
func (a *auditTrail) none(what string) {
	a.t.Helper()
	if rows := a.next(); len(rows) != 0 {
		a.t.Fatalf("%s wrote audit rows: %+v", what, rows)
	}
}

// Every way of signing in leaves a failure row when it refuses: the method, a short reason, the
// user when the attempt named one, and nothing that was typed (code, token, link, address).
func TestAuditLogFailedSignIns(t *testing.T) {
	t.Run("magic link", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, st *store.Store) {
			e, sink := magicLinkEnv(t, st, func(c *magiclink.Config) { c.DisableSignUp = true })
			a := newAuditTrail(t, st)
			a.next()
			c := e.client()
			bogus := session.RandomString(32)
			location(t, c.do("GET", "/api/auth/magic-link/verify?token="+bogus, nil), testBaseURL+"/?error=INVALID_TOKEN")
			a.failedSignIn("magic-link", "invalid-token", "")
			_, tok := sendMagicLink(t, e, sink, c, map[string]any{"email": "newcomer@example.com"})
			location(t, c.do("GET", "/api/auth/magic-link/verify?token="+tok, nil), testBaseURL+"/?error=new_user_signup_disabled")
			a.failedSignIn("magic-link", "signup-disabled", "")
			a.noSecrets(bogus, tok, "newcomer@example.com")
		})
	})

	t.Run("email OTP", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, st *store.Store) {
			e, sink := emailOTPEnv(t, st, emailOTPConfig(t, nil))
			uid := signUp(t, e.client(), "olga@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
			a := newAuditTrail(t, st)
			a.next()
			c := e.client()
			send := func() string {
				t.Helper()
				expect(t, c.do("POST", "/api/auth/email-otp/send-verification-otp", map[string]any{"email": "olga@example.com", "type": "sign-in"}), 200, "")
				return otpMail(t, sink, "olga@example.com", "Your code to sign in to")
			}
			code := send()
			a.none("sending a code")
			wrong := otherCode(code)
			for i := 0; i < 3; i++ {
				expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "Olga@example.com", "otp": wrong}), 400, "INVALID_OTP")
				a.failedSignIn("email-otp", "invalid-code", uid)
			}
			expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "olga@example.com", "otp": code}), 403, "TOO_MANY_ATTEMPTS")
			a.failedSignIn("email-otp", "too-many-attempts", uid)
			code2 := send()
			e.clock.Advance(6 * time.Minute)
			expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "olga@example.com", "otp": code2}), 400, "OTP_EXPIRED")
			a.failedSignIn("email-otp", "expired-code", uid)
			// An address nobody has: no user named.
			expect(t, c.do("POST", "/api/auth/sign-in/email-otp", map[string]any{"email": "nobody@example.com", "otp": "123456"}), 400, "INVALID_OTP")
			a.failedSignIn("email-otp", "invalid-code", "")
			a.noSecrets(code, wrong, code2, "olga@example.com", "nobody@example.com")
		})
	})

	t.Run("phone number", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, st *store.Store) {
			sink := &smsSink{}
			e := phoneEnv(t, st, phoneConfig(sink, nil))
			const number = "+15550002222"
			bob := e.client()
			uid := signUp(t, bob, "bob@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
			expect(t, bob.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
			expect(t, bob.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": sink.code(t, number), "updatePhoneNumber": true}), 200, "")
			a := newAuditTrail(t, st)
			a.next()

			anon := e.client()
			expect(t, anon.do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
			code := sink.code(t, number)
			wrong := otherCode(code)
			expect(t, anon.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number, "code": wrong}), 400, "INVALID_OTP")
			a.failedSignIn("phone-number", "invalid-code", uid)
			expect(t, anon.do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": "+15550009999", "code": "123456"}), 400, "OTP_NOT_FOUND")
			a.failedSignIn("phone-number", "no-code", "")
			// The password sign-in by number names no method of its own: the row names its route.
			expect(t, anon.do("POST", "/api/auth/sign-in/phone-number", map[string]any{"phoneNumber": number, "password": "wrong-Password-5"}), 401, "INVALID_PHONE_NUMBER_OR_PASSWORD")
			a.failedSignIn("phone-number", "invalid-password", uid)
			a.noSecrets(code, wrong, number, "wrong-Password-5")
		})
	})

	t.Run("passkey", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, st *store.Store) {
			e := passkeyEnv(t, st)
			c := e.client()
			id := signUp(t, c, "pia@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
			sa := newSoftAuthn(t, trusted, "localhost")
			pk, cred := registerPasskey(t, c, sa, "", ceremony{})
			a := newAuditTrail(t, st)
			a.next()
			b := e.client()
			o := authOptions(t, b)
			r := b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": sa.get(o, cred, ceremony{WrongKey: true})})
			expect(t, r, 401, "AUTHENTICATION_FAILED")
			if d := a.failedSignIn("passkey", "invalid-signature", id); d["passkeyId"] != pk["id"] {
				t.Fatalf("detail %v, want passkeyId %v", d, pk["id"])
			}
			// The challenge was spent by the failure.
			expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": sa.get(o, cred, ceremony{})}), 400, "CHALLENGE_NOT_FOUND")
			a.failedSignIn("passkey", "challenge-not-found", "")
			r = b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": sa.get(authOptions(t, b), cred, ceremony{NotDER: true})})
			expect(t, r, 400, "AUTHENTICATION_FAILED")
			a.failedSignIn("passkey", "invalid-response", id)
			expect(t, c.do("POST", "/api/auth/passkey/delete-passkey", map[string]any{"id": pk["id"]}), 200, "")
			a.next()
			r = b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": sa.get(authOptions(t, b), cred, ceremony{})})
			expect(t, r, 401, "PASSKEY_NOT_FOUND")
			a.failedSignIn("passkey", "unknown-passkey", "")
			a.noSecrets(cred.IDString())
		})
	})

	t.Run("one-time token", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, st *store.Store) {
			e := oneTimeTokenEnv(t, st, onetimetoken.Config{})
			c := e.client()
			signUp(t, c, "otto@example.com", "password123")
			tok := generateOTT(t, c)
			a := newAuditTrail(t, st)
			a.next()
			other := e.client()
			bogus := session.RandomString(32)
			messageOnly(t, other.do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": bogus}), "Invalid token")
			a.failedSignIn("one-time-token", "invalid-token", "")
			expect(t, c.do("POST", "/api/auth/sign-out", map[string]any{}), 200, "")
			a.next()
			if r := other.do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": tok}); r.Status == 200 {
				t.Fatalf("a signed-out session's token: %d %s", r.Status, r.Raw)
			}
			a.failedSignIn("one-time-token", "session-not-found", "")
			a.noSecrets(bogus, tok)
		})
	})

	t.Run("device authorization", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, st *store.Store) {
			e := deviceEnv(t, st, nil)
			a := newAuditTrail(t, st)
			a.next()
			dev := e.client()
			pollBy := func(code string) *response {
				return dev.do("POST", "/api/auth/device/token", map[string]any{"grant_type": deviceauth.GrantType, "device_code": code, "client_id": "tv"})
			}
			bogus := session.RandomString(40)
			oauthError(t, pollBy(bogus), 400, "invalid_grant", "Invalid device code")
			a.failedSignIn("device-authorization", "invalid-code", "")
			g := requestDeviceCode(t, e, map[string]any{"client_id": "tv"})
			oauthError(t, pollBy(g.deviceCode), 400, "authorization_pending", "Authorization pending")
			a.none("a pending poll")
			person := e.client()
			uid := signUp(t, person, "dana@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
			expect(t, person.do("GET", "/api/auth/device?user_code="+g.userCode, nil), 200, "")
			expect(t, person.do("POST", "/api/auth/device/deny", map[string]any{"userCode": g.userCode}), 200, "")
			a.next()
			e.clock.Advance(6 * time.Second)
			oauthError(t, pollBy(g.deviceCode), 400, "access_denied", "Access denied")
			a.failedSignIn("device-authorization", "access-denied", uid)
			a.noSecrets(bogus, g.deviceCode, g.userCode)
		})
	})

	t.Run("two-factor mailed code", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, st *store.Store) {
			e, sink := twoFactorEnv(t, st, defaultTwoFactor())
			c := e.client()
			uid := signUp(t, c, "alice@example.com", "password123", "username", "alice").JSON["user"].(map[string]any)["id"].(string)
			expect(t, c.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123", "method": "otp"}), 200, "")
			a := newAuditTrail(t, st)
			b := e.client()
			e.challenge(b, false)
			a.next()
			expect(t, b.do("POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": "123456"}), 400, "OTP_HAS_EXPIRED")
			a.failedSignIn("two-factor", "expired-code", uid)
			expect(t, b.do("POST", "/api/auth/two-factor/send-otp", nil), 200, "")
			m := sink.next(t)
			code := otpPattern.FindStringSubmatch(m.Text)[1]
			wrong := otherCode(code)
			for i := 0; i < 5; i++ {
				expect(t, b.do("POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": wrong}), 401, "INVALID_CODE")
				a.failedSignIn("two-factor", "invalid-code", uid)
			}
			expect(t, b.do("POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": code}), 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE")
			a.failedSignIn("two-factor", "too-many-attempts", uid)
			a.noSecrets(code, wrong)
		})
	})

	t.Run("two-factor TOTP", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, st *store.Store) {
			e, _ := twoFactorEnv(t, st, defaultTwoFactor())
			_, uid, secret, _ := enableTOTP(t, e)
			a := newAuditTrail(t, st)
			b := e.client()
			e.challenge(b, false)
			a.next()
			for i := 0; i < 5; i++ {
				expect(t, b.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.wrongCode(secret)}), 401, "INVALID_CODE")
				a.failedSignIn("two-factor", "invalid-code", uid)
			}
			expect(t, b.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}), 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE")
			a.failedSignIn("two-factor", "too-many-attempts", uid)
			// Five more in a new challenge lock the account.
			b = e.client()
			e.challenge(b, false)
			a.next()
			for i := 0; i < 5; i++ {
				expect(t, b.do("POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": "xxxxx-xxxxx"}), 401, "INVALID_BACKUP_CODE")
				a.failedSignIn("two-factor", "invalid-code", uid)
			}
			b = e.client()
			e.challenge(b, false)
			a.next()
			expect(t, b.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}), 429, "ACCOUNT_TEMPORARILY_LOCKED")
			a.failedSignIn("two-factor", "locked", uid)
			a.noSecrets(secret, e.totpCode(secret), "xxxxx-xxxxx")
		})
	})

	t.Run("social", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, st *store.Store) {
			se := newSocialEnv(t, st)
			se.idp.addUser("cy", "cy@example.com", true)
			a := newAuditTrail(t, st)
			a.next()
			begin := func(c *client) *url.URL {
				t.Helper()
				se.idp.set(func(i *testIdP) { i.next = "cy" })
				return se.browse(t, c, startSignIn(t, c, map[string]any{"callbackURL": appURL("/dashboard"), "errorCallbackURL": appURL("/oops")}), isCallback)
			}
			// The callback in another browser: the state cookie is missing.
			cb := begin(se.browser())
			if got := se.browse(t, se.browser(), cb.String(), se.leavesAuth); got.Query().Get("error") != "state_mismatch" {
				t.Fatalf("landed on %s", got)
			}
			a.failedSignIn("idp", "state-mismatch", "")
			// The provider answers with an error of its own.
			c := se.browser()
			cb = begin(c)
			q := cb.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			cb.RawQuery = q.Encode()
			if got := se.browse(t, c, cb.String(), se.leavesAuth); got.Query().Get("error") != "access_denied" {
				t.Fatalf("landed on %s", got)
			}
			if d := a.failedSignIn("idp", "provider-error", ""); d["providerError"] != "access_denied" {
				t.Fatalf("detail %v", d)
			}
			// An existing account on an unverified address is not linked: the user is named.
			owner := se.client()
			halID := signUp(t, owner, "hal@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
			se.idp.addUser("hal", "hal@example.com", true)
			a.next()
			landed := se.signInVia(t, se.browser(), "hal", map[string]any{"callbackURL": appURL("/dashboard"), "errorCallbackURL": appURL("/oops")})
			if landed.Query().Get("error") != "account_not_linked" {
				t.Fatalf("landed on %s", landed)
			}
			a.failedSignIn("idp", "account-not-linked", halID)

			// ID-token sign-in: a token that does not verify, and one for the unlinked account.
			tok := se.idp.directIDToken(t, idpClientID, idpClientSecret, "cy", "")
			parts := strings.Split(tok, ".")
			parts[2] = strings.Repeat("A", len(parts[2]))
			bad := strings.Join(parts, ".")
			expect(t, se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": bad}}), 401, "INVALID_TOKEN")
			a.failedSignIn("idp", "invalid-id-token", "")
			halTok := se.idp.directIDToken(t, idpClientID, idpClientSecret, "hal", "")
			expect(t, se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": halTok}}), 401, "OAUTH_LINK_ERROR")
			a.failedSignIn("idp", "account-not-linked", halID)
			a.noSecrets(tok, bad, halTok, parts[1], cb.Query().Get("state"), "hal@example.com", "cy@example.com")
		})
	})
}

// Sign-ins whose flow names no method (Better-Auth's last-login-method names none for username
// sign-in or a passed two-factor challenge) are recorded with the way their route implies, on
// success and on failure, so the security page can say how someone got in.
func TestAuditSignInMethodFromRoute(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := usernameEnv(t, st, defaultUsernames)
		c := e.client()
		c.headers["User-Agent"] = "audit-test/1"
		uid := signUp(t, c, "bob@example.com", "password123", "username", "bobby").JSON["user"].(map[string]any)["id"].(string)
		a := newAuditTrail(t, st)
		a.next()
		expect(t, c.do("POST", "/api/auth/sign-in/username", map[string]any{"username": "bobby", "password": "wrong-Pass-9"}), 401, "")
		a.failedSignIn("username", "invalid-password", uid)
		expect(t, c.do("POST", "/api/auth/sign-in/username", map[string]any{"username": "bobby", "password": "password123"}), 200, "")
		if _, d := a.expectOne("sign-in", "success", uid); d["method"] != "username" {
			t.Fatalf("username sign-in detail %v, want method username", d)
		}
	})
}
