package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"authserver/auth/atrest"
	"authserver/auth/plugin"
	"authserver/auth/twofactor"
	"authserver/auth/username"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

// twoFactorEnv serves the two-factor and username plugins with mail going to an SMTP sink.
func twoFactorEnv(t *testing.T, st *store.Store, cfg twofactor.Config) (*env, *smtpSink) {
	t.Helper()
	ps := []plugin.Plugin{twofactor.New(cfg), username.New(defaultUsernames)}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	sink := newSMTPSink(t)
	e := newEnv(t, st, mailOptions(t, "smtp+insecure://"+sink.addr, nil, nil), func(o *envOptions) { o.auth.Plugins = ps })
	return e, sink
}

func defaultTwoFactor() twofactor.Config {
	cfg, err := twofactor.LoadConfig(func(string) string { return "" }, "Test App")
	if err != nil {
		panic(err)
	}
	return cfg
}

var (
	totpURIPattern    = regexp.MustCompile(`^otpauth://totp/Test%20App:alice%40example\.com\?secret=([A-Z2-7]{52})&issuer=Test\+App&digits=6&period=30$`)
	backupCodePattern = regexp.MustCompile(`^[a-zA-Z0-9]{5}-[a-zA-Z0-9]{5}$`)
	challengePattern  = regexp.MustCompile(`^2fa-[a-zA-Z0-9_-]{20}$`)
)

// code is the TOTP code of secret (base32) at the env's clock.
func (e *env) totpCode(secret string) string {
	e.t.Helper()
	c, err := totp.GenerateCodeCustom(secret, e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// wrongCode is a six-digit code that is not valid now, one step before or after.
func (e *env) wrongCode(secret string) string {
	near := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		c, _ := totp.GenerateCodeCustom(secret, e.clock.Now().Add(d), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix})
		near[c] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !near[c] {
			return c
		}
	}
	panic("unreachable")
}

func (e *env) verification(identifier string) (string, bool) {
	var row struct{ Value string }
	err := e.st.RawRow(context.Background(), &row, `select "value" from "verification" where "identifier" = ?`, identifier)
	return row.Value, err == nil && row.Value != ""
}

func (e *env) sessionCount(userID string) int {
	var n struct{ N int }
	if err := e.st.RawRow(context.Background(), &n, `select count(*) as n from "session" where "userId" = ?`, userID); err != nil {
		e.t.Fatal(err)
	}
	return n.N
}

// enableTOTP signs up alice (username alice), turns TOTP on through enable and a first
// verify-totp, and returns her signed-in client, her id, the base32 secret and the backup codes.
func enableTOTP(t *testing.T, e *env) (*client, string, string, []string) {
	t.Helper()
	c := e.client()
	up := signUp(t, c, "alice@example.com", "password123", "username", "alice")
	pluginObject(t, "sign-up user", userOf(t, up.Raw), append([]string{"name", "email", "emailVerified", "image", "createdAt", "updatedAt"}, "twoFactorEnabled", "username", "displayUsername", "id"),
		map[string]any{"twoFactorEnabled": false})
	id := up.JSON["user"].(map[string]any)["id"].(string)

	expect(t, c.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "wrong-password"}), 400, "INVALID_PASSWORD")
	expect(t, c.do("POST", "/api/auth/two-factor/enable", map[string]any{}), 400, "VALIDATION_ERROR")
	expect(t, c.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123", "method": "sms"}), 400, "VALIDATION_ERROR")
	expect(t, e.client().do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123"}), 401, "")
	expect(t, c.do("POST", "/api/auth/two-factor/get-totp-uri", map[string]any{"password": "password123"}), 400, "TOTP_NOT_ENABLED")

	en := c.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123"})
	expect(t, en, 200, "")
	if got := strings.Join(jsonKeys(t, en.Raw), ","); got != "method,totpURI,backupCodes" || en.JSON["method"] != "totp" {
		t.Fatalf("enable answer %s", en.Raw)
	}
	uri, _ := en.JSON["totpURI"].(string)
	m := totpURIPattern.FindStringSubmatch(uri)
	if m == nil {
		t.Fatalf("totpURI %q", uri)
	}
	var codes []string
	for _, c := range en.JSON["backupCodes"].([]any) {
		s, _ := c.(string)
		if !backupCodePattern.MatchString(s) {
			t.Errorf("backup code %q", s)
		}
		codes = append(codes, s)
	}
	if len(codes) != 10 {
		t.Fatalf("%d backup codes", len(codes))
	}
	// Stored encrypted, unverified, two-factor still off.
	var row struct {
		Secret, BackupCodes string
		Verified            bool
	}
	if err := e.st.RawRow(context.Background(), &row, `select "secret", "backupCodes", "verified" from "twoFactor" where "userId" = ?`, id); err != nil {
		t.Fatal(err)
	}
	plain, err := atrest.Decrypt(session.SingleKey([]byte(testSecret)), row.BackupCodes)
	if row.Verified || strings.Contains(row.Secret, m[1]) || err != nil || !strings.Contains(plain, codes[0]) {
		t.Errorf("stored row %+v, codes %q (%v)", row, plain, err)
	}
	g := c.do("GET", "/api/auth/get-session", nil)
	if g.JSON["user"].(map[string]any)["twoFactorEnabled"] != false {
		t.Errorf("enabled before verification: %s", g.Raw)
	}
	uri2 := c.do("POST", "/api/auth/two-factor/get-totp-uri", map[string]any{"password": "password123"})
	expect(t, uri2, 200, "")
	if uri2.JSON["totpURI"] != uri {
		t.Errorf("get-totp-uri %s, enable gave %s", uri2.Raw, uri)
	}
	expect(t, c.do("POST", "/api/auth/two-factor/get-totp-uri", map[string]any{"password": "nope-nope-nope"}), 400, "INVALID_PASSWORD")
	expect(t, c.do("POST", "/api/auth/two-factor/generate-backup-codes", map[string]any{"password": "password123"}), 400, "TWO_FACTOR_NOT_ENABLED")

	// Before verification a sign-in is not challenged.
	plainIn := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123"})
	expect(t, plainIn, 200, "")
	if plainIn.JSON["twoFactorRedirect"] != nil || plainIn.JSON["token"] == nil {
		t.Fatalf("sign-in before verification: %s", plainIn.Raw)
	}

	expect(t, c.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.wrongCode(m[1])}), 401, "INVALID_CODE")
	oldToken := c.cookieValue("better-auth.session_token")
	v := c.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(m[1])})
	expect(t, v, 200, "")
	oldRaw, _ := session.Unsign([]byte(testSecret), mustUnescape(t, oldToken))
	// The answer's user is the one read before two-factor was turned on, as in Better-Auth.
	if v.JSON["user"].(map[string]any)["twoFactorEnabled"] != false {
		t.Errorf("verify-totp user %s", v.Raw)
	}
	if v.JSON["token"] != oldRaw {
		t.Errorf("verify-totp token %v, want the old token %s (Better-Auth's quirk)", v.JSON["token"], oldRaw)
	}
	if newToken := c.cookieValue("better-auth.session_token"); newToken == "" || newToken == oldToken {
		t.Errorf("session not rotated: %q", newToken)
	}
	expect(t, e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+oldRaw), 200, "")
	if old := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+oldRaw); string(old.Raw) != "null" {
		t.Errorf("old session still valid: %s", old.Raw)
	}
	g = c.do("GET", "/api/auth/get-session", nil)
	if g.JSON["user"].(map[string]any)["twoFactorEnabled"] != true {
		t.Errorf("not enabled after verification: %s", g.Raw)
	}
	expect(t, c.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123"}), 400, "TOTP_ALREADY_ENABLED")
	return c, id, m[1], codes
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	u, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// challenge signs in by e-mail (or username) and expects the two-factor challenge.
func (e *env) challenge(c *client, byUsername bool) (string, *response) {
	e.t.Helper()
	path, body := "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123"}
	if byUsername {
		path, body = "/api/auth/sign-in/username", map[string]any{"username": "alice", "password": "password123"}
	}
	r := c.do("POST", path, body)
	expect(e.t, r, 200, "")
	if r.JSON["twoFactorRedirect"] != true || strings.Join(jsonKeys(e.t, r.Raw), ",") != "twoFactorRedirect,twoFactorMethods" {
		e.t.Fatalf("sign-in answer %s", r.Raw)
	}
	sc := r.setCookies()
	for _, name := range []string{"better-auth.session_token", "better-auth.session_data"} {
		if !strings.Contains(sc[name], "Max-Age=0") {
			e.t.Errorf("%s not expired: %q", name, sc[name])
		}
	}
	if !strings.Contains(sc["better-auth.two_factor"], "Max-Age=600") || !strings.Contains(sc["better-auth.two_factor"], "HttpOnly") {
		e.t.Errorf("two_factor cookie %q", sc["better-auth.two_factor"])
	}
	value, ok := session.Unsign([]byte(testSecret), mustUnescape(e.t, c.cookieValue("better-auth.two_factor")))
	if !ok || !challengePattern.MatchString(value) {
		e.t.Fatalf("two_factor cookie value %q", value)
	}
	return value, r
}

// The whole TOTP life: enable and verify, the challenge on e-mail and username sign-in finished by
// TOTP and by a backup code, every refusal, the per-challenge limit, the account lockout and its
// end, and disable.
func TestTwoFactorTOTPChallenge(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, _ := twoFactorEnv(t, st, defaultTwoFactor())
		_, id, secret, codes := enableTOTP(t, e)

		c := e.client()
		ch, r := e.challenge(c, false)
		if got := r.JSON["twoFactorMethods"].([]any); len(got) != 2 || got[0] != "totp" || got[1] != "otp" {
			t.Errorf("methods %v", got)
		}
		if v, ok := e.verification(ch); !ok || v != id {
			t.Errorf("challenge row value %q", v)
		}
		if v, _ := e.verification("2fa-attempts-" + ch); v != "0" {
			t.Errorf("attempts row %q", v)
		}
		sessions := e.sessionCount(id)

		// No cookie, a forged cookie, a wrong code.
		expect(t, e.client().do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}), 401, "INVALID_TWO_FACTOR_COOKIE")
		forged := session.EncodeURIComponent(session.Sign([]byte("another secret"), ch))
		expect(t, e.client().do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}, "Cookie", "better-auth.two_factor="+forged), 401, "INVALID_TWO_FACTOR_COOKIE")
		expect(t, c.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.wrongCode(secret)}), 401, "INVALID_CODE")
		if e.sessionCount(id) != sessions {
			t.Errorf("a refused code made a session")
		}
		cookie := "better-auth.two_factor=" + c.cookieValue("better-auth.two_factor")

		ok := c.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)})
		expect(t, ok, 200, "")
		if got := strings.Join(jsonKeys(t, ok.Raw), ","); got != "token,user" {
			t.Errorf("verify answer keys %s", got)
		}
		if sc := ok.setCookies(); !strings.Contains(sc["better-auth.two_factor"], "Max-Age=0") || sc["better-auth.session_token"] == "" {
			t.Errorf("verify cookies %v", ok.Header.Values("Set-Cookie"))
		}
		if g := c.do("GET", "/api/auth/get-session", nil); g.JSON["session"] == nil {
			t.Errorf("no session after verify: %s", g.Raw)
		}
		// The challenge is spent.
		expect(t, e.client().do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}, "Cookie", cookie), 401, "INVALID_TWO_FACTOR_COOKIE")

		// Username sign-in is challenged too; a backup code finishes it once.
		c2 := e.client()
		e.challenge(c2, true)
		expect(t, c2.do("POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": "aaaaa-bbbbb"}), 401, "INVALID_BACKUP_CODE")
		expect(t, c2.do("POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": codes[0]}), 200, "")
		c3 := e.client()
		e.challenge(c3, false)
		expect(t, c3.do("POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": codes[0]}), 401, "INVALID_BACKUP_CODE")
		// disableSession: the user alone, no session, the challenge spent.
		d := c3.do("POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": codes[1], "disableSession": true})
		expect(t, d, 200, "")
		if got := strings.Join(jsonKeys(t, d.Raw), ","); got != "user" || d.setCookies()["better-auth.session_token"] != "" {
			t.Errorf("disableSession answer %s, cookies %v", d.Raw, d.Header.Values("Set-Cookie"))
		}
		expect(t, c3.do("POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": codes[2]}), 401, "INVALID_TWO_FACTOR_COOKIE")

		// Five wrong codes per challenge, then the challenge is over. The failures so far were
		// followed by successes, so the account counter starts from zero here.
		c4 := e.client()
		e.challenge(c4, false)
		for i := 0; i < 5; i++ {
			expect(t, c4.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.wrongCode(secret)}), 401, "INVALID_CODE")
		}
		spent := "better-auth.two_factor=" + c4.cookieValue("better-auth.two_factor")
		over := c4.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)})
		expect(t, over, 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE")
		if !strings.Contains(over.setCookies()["better-auth.two_factor"], "Max-Age=0") {
			t.Errorf("ended challenge kept its cookie: %v", over.Header.Values("Set-Cookie"))
		}
		expect(t, e.client().do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}, "Cookie", spent), 401, "INVALID_TWO_FACTOR_COOKIE")

		// Five more in a new challenge make ten in a row: the account is locked for 15 minutes,
		// even for the right code, in this and in new challenges.
		c5 := e.client()
		e.challenge(c5, false)
		for i := 0; i < 5; i++ {
			expect(t, c5.do("POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": "xxxxx-xxxxx"}), 401, "INVALID_BACKUP_CODE")
		}
		c6 := e.client()
		e.challenge(c6, false)
		expect(t, c6.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}), 429, "ACCOUNT_TEMPORARILY_LOCKED")
		e.clock.Advance(9 * time.Minute)
		expect(t, c6.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}), 429, "ACCOUNT_TEMPORARILY_LOCKED")
		// The challenge outlives neither its 10 minutes nor the lock.
		e.clock.Advance(2 * time.Minute)
		expect(t, c6.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}), 401, "INVALID_TWO_FACTOR_COOKIE")
		e.clock.Advance(5 * time.Minute)
		c7 := e.client()
		e.challenge(c7, false)
		expect(t, c7.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}), 200, "")
		var lock struct {
			Count  *int64
			Locked bool
		}
		if err := st.RawRow(context.Background(), &lock, `select "failedVerificationCount" as count, "lockedUntil" is not null as locked from "twoFactor" where "userId" = ?`, id); err != nil {
			t.Fatal(err)
		}
		if lock.Count == nil || *lock.Count != 0 || lock.Locked {
			t.Errorf("after the lock ended and a success: count %v, lockedUntil set %v; want 0 and NULL", lock.Count, lock.Locked)
		}

		// New backup codes replace the old ones.
		gen := c7.do("POST", "/api/auth/two-factor/generate-backup-codes", map[string]any{"password": "password123"})
		expect(t, gen, 200, "")
		fresh, _ := gen.JSON["backupCodes"].([]any)
		if gen.JSON["status"] != true || len(fresh) != 10 {
			t.Fatalf("generate-backup-codes %s", gen.Raw)
		}
		c8 := e.client()
		e.challenge(c8, false)
		expect(t, c8.do("POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": codes[3]}), 401, "INVALID_BACKUP_CODE")
		expect(t, c8.do("POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": fresh[0]}), 200, "")

		// Disable: password checked, session rotated, rows gone, sign-in no longer challenged.
		expect(t, c8.do("POST", "/api/auth/two-factor/disable", map[string]any{"password": "wrong-password"}), 400, "INVALID_PASSWORD")
		before := c8.cookieValue("better-auth.session_token")
		dis := c8.do("POST", "/api/auth/two-factor/disable", map[string]any{"password": "password123"})
		expect(t, dis, 200, "")
		if string(dis.Raw) != `{"status":true}` || c8.cookieValue("better-auth.session_token") == before {
			t.Errorf("disable %s, session cookie unchanged", dis.Raw)
		}
		var n struct{ N int }
		_ = st.RawRow(context.Background(), &n, `select count(*) as n from "twoFactor" where "userId" = ?`, id)
		if n.N != 0 {
			t.Errorf("twoFactor rows left: %d", n.N)
		}
		in := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123"})
		expect(t, in, 200, "")
		if in.JSON["token"] == nil || in.JSON["user"].(map[string]any)["twoFactorEnabled"] != false {
			t.Errorf("sign-in after disable %s", in.Raw)
		}
		expect(t, c8.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}), 400, "TOTP_NOT_ENABLED")
	})
}

var otpPattern = regexp.MustCompile(`(?m)^(\d{6})\r?$`)

// Mailed codes: enabling by OTP rotates the session at once; a challenge is finished by a mailed
// code; a wrong code counts per code (five, then a new code is needed), an expired one is refused;
// a trusted device skips the challenge and its cookie rotates at every use; a forged trust cookie
// is expired; disable ends the trust.
func TestTwoFactorOTPAndTrustedDevice(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := twoFactorEnv(t, st, defaultTwoFactor())
		c := e.client()
		signUp(t, c, "alice@example.com", "password123", "username", "alice")
		before := c.cookieValue("better-auth.session_token")
		en := c.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123", "method": "otp"})
		expect(t, en, 200, "")
		if string(en.Raw) != `{"method":"otp"}` || c.cookieValue("better-auth.session_token") == before {
			t.Fatalf("enable otp %s; session rotated: %v", en.Raw, c.cookieValue("better-auth.session_token") != before)
		}

		readCode := func() string {
			t.Helper()
			m := sink.next(t)
			code := otpPattern.FindStringSubmatch(m.Text)
			if m.To != "alice@example.com" || code == nil || !strings.Contains(m.Subject, "Test App") {
				t.Fatalf("otp mail to %q subject %q:\n%s", m.To, m.Subject, m.Text)
			}
			return code[1]
		}

		b := e.client()
		ch, r := e.challenge(b, false)
		if got := r.JSON["twoFactorMethods"].([]any); len(got) != 1 || got[0] != "otp" {
			t.Errorf("methods %v (no verified TOTP: otp only)", got)
		}
		expect(t, b.do("POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": "123456"}), 400, "OTP_HAS_EXPIRED")
		expect(t, e.client().do("POST", "/api/auth/two-factor/send-otp", nil), 401, "INVALID_TWO_FACTOR_COOKIE")
		expect(t, b.do("POST", "/api/auth/two-factor/send-otp", nil), 200, "")
		code := readCode()
		if v, _ := e.verification("2fa-otp-" + ch); v != code+":0" {
			t.Errorf("otp row %q", v)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 0; i < 5; i++ {
			expect(t, b.do("POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": wrong}), 401, "INVALID_CODE")
		}
		expect(t, b.do("POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": code}), 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE")
		// The challenge survives: a new code works, but not after its three minutes.
		expect(t, b.do("POST", "/api/auth/two-factor/send-otp", map[string]any{}), 200, "")
		code = readCode()
		e.clock.Advance(3*time.Minute + time.Second)
		expect(t, b.do("POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": code}), 400, "OTP_HAS_EXPIRED")
		expect(t, b.do("POST", "/api/auth/two-factor/send-otp", nil), 200, "")
		code = readCode()
		ok := b.do("POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": code, "trustDevice": true})
		expect(t, ok, 200, "")
		tc := ok.setCookies()["better-auth.trust_device"]
		if !strings.Contains(tc, "Max-Age=2592000") || !strings.Contains(tc, "HttpOnly") {
			t.Fatalf("trust_device cookie %q", tc)
		}
		trust, valid := session.Unsign([]byte(testSecret), mustUnescape(t, b.cookieValue("better-auth.trust_device")))
		tok, ident, _ := strings.Cut(trust, "!")
		if !valid || tok == "" || !regexp.MustCompile(`^trust-device-[a-zA-Z0-9_-]{32}$`).MatchString(ident) {
			t.Fatalf("trust cookie value %q", trust)
		}
		if _, ok := e.verification(ident); !ok {
			t.Errorf("no trust row %s", ident)
		}

		// The trusted browser signs in without a challenge and gets a new trust cookie.
		in := b.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123"})
		expect(t, in, 200, "")
		if in.JSON["token"] == nil || in.JSON["twoFactorRedirect"] != nil {
			t.Fatalf("trusted sign-in %s", in.Raw)
		}
		rotated, _ := session.Unsign([]byte(testSecret), mustUnescape(t, b.cookieValue("better-auth.trust_device")))
		if rotated == trust || !strings.Contains(in.setCookies()["better-auth.trust_device"], "Max-Age=2592000") {
			t.Errorf("trust cookie not rotated: %q", in.Header.Values("Set-Cookie"))
		}
		if _, ok := e.verification(ident); ok {
			t.Errorf("old trust row %s kept", ident)
		}
		// The old cookie no longer trusts, and is expired.
		old := e.client()
		r = old.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123"},
			"Cookie", "better-auth.trust_device="+session.EncodeURIComponent(session.Sign([]byte(testSecret), trust)))
		if r.JSON["twoFactorRedirect"] != true || !strings.Contains(r.setCookies()["better-auth.trust_device"], "Max-Age=0") {
			t.Errorf("old trust cookie: %s %v", r.Raw, r.Header.Values("Set-Cookie"))
		}
		// A trust cookie signed for someone else's id, or tampered with, is refused the same way.
		// (The first character replaced by another: "x" alone would leave one value in 64 unchanged.)
		first := "x"
		if rotated[0] == 'x' {
			first = "y"
		}
		forged := first + rotated[1:]
		r = e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123"},
			"Cookie", "better-auth.trust_device="+session.EncodeURIComponent(session.Sign([]byte(testSecret), forged)))
		if r.JSON["twoFactorRedirect"] != true || !strings.Contains(r.setCookies()["better-auth.trust_device"], "Max-Age=0") {
			t.Errorf("forged trust cookie: %s %v", r.Raw, r.Header.Values("Set-Cookie"))
		}

		// Disabling ends the trust.
		_, rotatedIdent, _ := strings.Cut(rotated, "!")
		dis := b.do("POST", "/api/auth/two-factor/disable", map[string]any{"password": "password123"})
		expect(t, dis, 200, "")
		if !strings.Contains(dis.setCookies()["better-auth.trust_device"], "Max-Age=0") {
			t.Errorf("disable kept the trust cookie: %v", dis.Header.Values("Set-Cookie"))
		}
		if _, ok := e.verification(rotatedIdent); ok {
			t.Errorf("trust row kept after disable")
		}
	})
}

// OTP switched off: enable by otp and send-otp are refused, and the challenge offers TOTP only.
func TestTwoFactorOTPOff(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		cfg := defaultTwoFactor()
		cfg.OTP = false
		e, _ := twoFactorEnv(t, st, cfg)
		c, _, _, _ := enableTOTP(t, e)
		expect(t, c.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123", "method": "otp"}), 400, "OTP_NOT_CONFIGURED")
		expect(t, c.do("POST", "/api/auth/two-factor/send-otp", nil), 400, "OTP_NOT_CONFIGURED")
		_, r := e.challenge(e.client(), false)
		if got := r.JSON["twoFactorMethods"].([]any); len(got) != 1 || got[0] != "totp" {
			t.Errorf("methods %v", got)
		}
	})
}

// One backup code sent by several requests at once is spent once: one 200, the others 409 (the
// list changed under them, Better-Auth's answer without a code) or 401 (already spent).
func TestTwoFactorBackupCodeRace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, _ := twoFactorEnv(t, st, defaultTwoFactor())
		c, _, _, codes := enableTOTP(t, e)
		const n = 6
		out := make(chan *response, n)
		for i := 0; i < n; i++ {
			go func() {
				out <- c.do("POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": codes[0]})
			}()
		}
		won := 0
		for i := 0; i < n; i++ {
			r := <-out
			switch {
			case r.Status == 200:
				won++
			case r.Status == 409 && string(r.Raw) == `{"message":"Failed to verify backup code. Please try again."}`:
			case r.Status == 401 && r.code() == "INVALID_BACKUP_CODE":
			default:
				t.Errorf("answer %d %s", r.Status, r.Raw)
			}
		}
		if won != 1 {
			t.Errorf("%d requests spent the code", won)
		}
	})
}
