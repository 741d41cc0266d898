package twofactor

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"authserver/auth/atrest"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// userJSON prints a user as every other body does, with the plugins' fields.
type userJSON struct {
	u      *store.User
	fields []store.Field
}

func (j userJSON) MarshalJSON() ([]byte, error) { return store.AppendUserJSON(nil, j.u, j.fields), nil }

// tokenUserBody is the verify endpoints' answer; token is absent for verify-backup-code with
// disableSession during a challenge.
type tokenUserBody struct {
	Token *string  `json:"token,omitempty"`
	User  userJSON `json:"user"`
}

func tokenUser(st *store.Store, token *string, u *store.User) tokenUserBody {
	return tokenUserBody{Token: token, User: userJSON{u: u, fields: st.Columns().User}}
}

func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.New("twofactor: bad attempt count")
	}
	return n, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// checkPassword asks for the user's password again, unless allowPasswordless is on and the user
// has none.
func (p *twoFactor) checkPassword(ctx context.Context, r *plugin.Request, userID string) error {
	if p.cfg.AllowPasswordless {
		acct, err := r.Host.Store().CredentialAccount(ctx, userID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (acct.Password == nil || *acct.Password == "")) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	pw, _ := r.Body["password"].(string)
	if pw == "" {
		return ErrInvalidPassword
	}
	return r.Host.VerifyPassword(ctx, userID, pw)
}

// totpKey is the HOTP key of a stored (decrypted) secret: its ASCII bytes, or the decoded bytes
// of a "base32:"-prefixed secret, which Better-Auth also accepts.
func totpKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, "base32:"); ok {
		if b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(strings.ToUpper(rest), "=")); err == nil {
			return b
		}
	}
	return []byte(secret)
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpURI is the otpauth URI authenticator apps read, written as Better-Auth writes it.
func totpURI(key []byte, issuer, account string) string {
	return "otpauth://totp/" + session.EncodeURIComponent(issuer) + ":" + session.EncodeURIComponent(account) +
		"?secret=" + b32.EncodeToString(key) + "&issuer=" + formEncode(issuer) +
		"&digits=" + strconv.Itoa(totpDigits) + "&period=" + strconv.Itoa(totpPeriod)
}

// formEncode is URLSearchParams' encoding: letters, digits and *-._ kept, space as +.
func formEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)>>4, 16)+strconv.FormatInt(int64(c)&15, 16)))
		}
	}
	return b.String()
}

// validTOTP checks a code against the key at now, one 30-second step either side. Only a code of
// exactly six digits can match, as in Better-Auth (no trimming).
func validTOTP(key []byte, code string, now time.Time) bool {
	if len(code) != totpDigits {
		return false
	}
	ok, err := totp.ValidateCustom(code, b32.EncodeToString(key), now, totp.ValidateOpts{
		Period: totpPeriod, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	return err == nil && ok
}

// newBackupCodes returns ten fresh codes "xxxxx-xxxxx" and their encrypted JSON list.
func newBackupCodes(keys session.Keys) ([]string, string, error) {
	codes := make([]string, backupCodeCount)
	for i := range codes {
		c := atrest.RandomString(atrest.Alphanumeric, 10)
		codes[i] = c[:5] + "-" + c[5:]
	}
	enc, err := encryptCodes(keys, codes)
	return codes, enc, err
}

func encryptCodes(keys session.Keys, codes []string) (string, error) {
	b, err := json.Marshal(codes)
	if err != nil {
		return "", err
	}
	return atrest.Encrypt(keys, string(b))
}

// enable is POST /two-factor/enable: method "otp" turns two-factor on at once (rotating the
// session); "totp" (the default) stores a new unverified secret and backup codes, answers the URI
// and codes, and leaves two-factor off until a first code is verified, unless
// SkipVerificationOnEnable.
func (p *twoFactor) enable(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	method := "totp"
	if m, ok := r.Body["method"].(string); ok {
		method = m
	}
	if method != "totp" && method != "otp" {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: `[body.method] Invalid option: expected one of "otp"|"totp"`}
	}
	a := r.Auth
	if err := p.checkPassword(ctx, r, a.User.ID); err != nil {
		return nil, err
	}
	if method == "otp" {
		if !p.cfg.OTP {
			return nil, ErrOTPNotAvailable
		}
		res, _, err := enableAndRotate(ctx, r.Host, a, true)
		if err != nil {
			return nil, err
		}
		return &plugin.Response{Body: map[string]string{"method": "otp"}, SignIn: res}, nil
	}
	st := r.Host.Store()
	existing, err := st.TwoFactorByUser(ctx, a.User.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if existing != nil && verified(existing) {
		return nil, ErrTOTPAlreadyEnabled
	}
	keys := r.Host.Keys()
	codes, encCodes, err := newBackupCodes(keys)
	if err != nil {
		return nil, err
	}
	totpSecret := atrest.RandomString(atrest.DefaultAlphabet, 32)
	encSecret, err := atrest.Encrypt(keys, totpSecret)
	if err != nil {
		return nil, err
	}
	var res *plugin.SignIn
	if p.cfg.SkipVerificationOnEnable {
		if res, _, err = enableAndRotate(ctx, r.Host, a, true); err != nil {
			return nil, err
		}
	}
	ver := p.cfg.SkipVerificationOnEnable
	if existing != nil {
		err = st.UpdateTwoFactor(ctx, existing.ID, map[string]any{"secret": encSecret, "backupCodes": encCodes, "verified": ver})
	} else {
		zero := int64(0)
		err = st.CreateTwoFactor(ctx, &store.TwoFactor{ID: session.NewID(), Secret: encSecret, BackupCodes: encCodes,
			UserID: a.User.ID, Verified: &ver, FailedVerificationCount: &zero})
	}
	if err != nil {
		return nil, err
	}
	issuer := p.cfg.Issuer
	if s, _ := r.Body["issuer"].(string); s != "" {
		issuer = s
	}
	body := struct {
		Method      string   `json:"method"`
		TOTPURI     string   `json:"totpURI"`
		BackupCodes []string `json:"backupCodes"`
	}{"totp", totpURI([]byte(totpSecret), issuer, a.User.Email), codes}
	return &plugin.Response{Body: body, SignIn: res}, nil
}

// disable is POST /two-factor/disable: two-factor off, the secret and codes deleted, the session
// rotated, and the device's trusted-device row and cookie ended.
func (p *twoFactor) disable(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	a := r.Auth
	if err := p.checkPassword(ctx, r, a.User.ID); err != nil {
		return nil, err
	}
	st := r.Host.Store()
	// The flag, the secret's removal, the audit row and the new session commit together.
	var res *plugin.SignIn
	err := r.Host.Atomic(ctx, func(ctx context.Context) error {
		u, err := r.Host.SetUserFields(ctx, a.User.ID, map[string]store.Value{EnabledField.Name: store.BoolValue(false)})
		if err != nil {
			return err
		}
		if err := r.Host.Audit(ctx, nil, plugin.AuditEvent{Event: "two-factor-disabled", UserID: a.User.ID, SessionID: a.Session.ID}); err != nil {
			return err
		}
		if err := st.DeleteTwoFactor(ctx, a.User.ID); err != nil {
			return err
		}
		res, err = r.Host.RotateSession(ctx, a.Session, *u)
		return err
	})
	if err != nil {
		return nil, err
	}
	var cookies []plugin.Cookie
	if v, ok := r.Incoming.SignedCookie(trustCookie); ok {
		if ident := trustIdentifier(v); ident != "" {
			if _, err := st.ConsumeVerification(ctx, ident, store.NewTime(r.Host.Now())); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		cookies = append(cookies, plugin.Cookie{Name: trustCookie, Signed: true})
	}
	return &plugin.Response{Body: map[string]bool{"status": true}, SignIn: res, Cookies: cookies}, nil
}

// totpURI is POST /two-factor/get-totp-uri: the URI of the stored secret, after the password.
func (p *twoFactor) totpURI(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	u := &r.Auth.User
	tf, err := r.Host.Store().TwoFactorByUser(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrTOTPNotEnabled
	}
	if err != nil {
		return nil, err
	}
	secret, err := atrest.Decrypt(r.Host.Keys(), tf.Secret)
	if err != nil {
		return nil, err
	}
	if err := p.checkPassword(ctx, r, u.ID); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]string{"totpURI": totpURI(totpKey(secret), p.cfg.Issuer, u.Email)}}, nil
}

// generateBackupCodes is POST /two-factor/generate-backup-codes: ten new codes replace the old.
func (p *twoFactor) generateBackupCodes(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	u := &r.Auth.User
	st := r.Host.Store()
	if !enabled(st, u) {
		return nil, ErrNotEnabled
	}
	if err := p.checkPassword(ctx, r, u.ID); err != nil {
		return nil, err
	}
	tf, err := st.TwoFactorByUser(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotEnabled
	}
	if err != nil {
		return nil, err
	}
	codes, enc, err := newBackupCodes(r.Host.Keys())
	if err != nil {
		return nil, err
	}
	if err := st.UpdateTwoFactor(ctx, tf.ID, map[string]any{"backupCodes": enc}); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: struct {
		Status      bool     `json:"status"`
		BackupCodes []string `json:"backupCodes"`
	}{true, codes}}, nil
}

// verifyTOTP is POST /two-factor/verify-totp: with a session it confirms the secret enable stored
// (turning two-factor on and rotating the session the first time; the answer still carries the
// old token, as Better-Auth's does); with a challenge it finishes the sign-in.
func (p *twoFactor) verifyTOTP(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	v, err := resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	h := r.Host
	st := h.Store()
	tf, err := st.TwoFactorByUser(ctx, v.user.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrTOTPNotEnabled
	}
	if err != nil {
		return nil, err
	}
	if v.signIn() {
		if !verified(tf) {
			return nil, ErrTOTPNotEnabled
		}
		if err := checkLock(ctx, h, tf); err != nil {
			return nil, err
		}
	}
	at, err := v.begin(ctx, h)
	if err != nil {
		return nil, err
	}
	secret, err := atrest.Decrypt(h.Keys(), tf.Secret)
	if err != nil {
		return nil, errors.Join(err, at.restore(ctx, h))
	}
	code, _ := r.Body["code"].(string)
	if !validTOTP(totpKey(secret), code, h.Now()) {
		if err := at.failed(ctx, h); err != nil {
			return nil, err
		}
		if v.signIn() {
			if err := recordFailure(ctx, h, tf); err != nil {
				return nil, err
			}
		}
		return nil, ErrInvalidCode
	}
	if v.signIn() {
		if err := st.ResetTwoFactorFailures(ctx, tf.ID); err != nil {
			return nil, err
		}
	}
	var rotated *plugin.SignIn
	if tf.Verified == nil || !*tf.Verified {
		if !enabled(st, &v.user) && !v.signIn() {
			if rotated, _, err = enableAndRotate(ctx, h, v.sess, true); err != nil {
				return nil, err
			}
		}
		if err := st.UpdateTwoFactor(ctx, tf.ID, map[string]any{"verified": true}); err != nil {
			return nil, err
		}
	}
	res, err := p.succeed(ctx, r, v)
	if err != nil {
		return nil, err
	}
	if rotated != nil {
		res.SignIn = rotated
	}
	return res, nil
}

// sendOTP is POST /two-factor/send-otp: a new code mailed to the user, valid OTPPeriod.
func (p *twoFactor) sendOTP(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if !p.cfg.OTP {
		return nil, ErrOTPNotConfigured
	}
	v, err := resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := r.Incoming.AllowSend(ctx, v.user.Email); err != nil {
		return nil, err
	}
	code := atrest.RandomString(atrest.Digits, p.cfg.OTPDigits)
	now := store.NewTime(r.Host.Now())
	row := newVerification("2fa-otp-"+v.key, code+":0", store.NewTime(now.Add(p.cfg.OTPPeriod)), now)
	if err := r.Host.Store().CreateVerification(ctx, row); err != nil {
		return nil, err
	}
	// Better-Auth logs a failed sendOTP and answers success. The undelivered code's row stays, as
	// Better-Auth's does: it blocks nothing (the next send-otp replaces it), and a code typed
	// meanwhile gets Better-Auth's INVALID_CODE rather than OTP_HAS_EXPIRED.
	r.Host.SendCode("two-factor-otp", v.user.Email, code, p.cfg.OTPPeriod, nil)
	return &plugin.Response{Body: map[string]bool{"status": true}}, nil
}

// verifyOTP is POST /two-factor/verify-otp: the mailed code, five tries per code. With a session
// it turns two-factor on (rotating the session) if it was off; with a challenge it finishes the
// sign-in.
func (p *twoFactor) verifyOTP(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	v, err := resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	h := r.Host
	st := h.Store()
	var tf *store.TwoFactor
	if v.signIn() {
		tf, err = st.TwoFactorByUser(ctx, v.user.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if tf != nil {
			if err := checkLock(ctx, h, tf); err != nil {
				return nil, err
			}
		}
	}
	id := "2fa-otp-" + v.key
	// refused records a refused code of a sign-in's challenge (not of enabling two-factor).
	refused := func(reason string) {
		if v.signIn() {
			plugin.SignInFailed(ctx, h, "two-factor", v.user.ID, reason)
		}
	}
	row, err := st.ConsumeVerification(ctx, id, store.NewTime(h.Now()))
	if errors.Is(err, store.ErrNotFound) {
		refused("expired-code")
		return nil, ErrOTPExpired
	}
	if err != nil {
		return nil, err
	}
	stored, counter, _ := strings.Cut(row.Value, ":")
	attempts, _ := strconv.Atoi(counter)
	if attempts >= challengeAttempts {
		refused("too-many-attempts")
		return nil, ErrTooManyAttempts
	}
	code, _ := r.Body["code"].(string)
	if subtle.ConstantTimeCompare([]byte(stored), []byte(code)) != 1 {
		again := newVerification(id, stored+":"+itoa(attempts+1), row.ExpiresAt, store.NewTime(h.Now()))
		if err := st.CreateVerification(ctx, again); err != nil {
			return nil, err
		}
		if tf != nil {
			if err := recordFailure(ctx, h, tf); err != nil {
				return nil, err
			}
		}
		refused("invalid-code")
		return nil, ErrInvalidCode
	}
	if tf != nil {
		if err := st.ResetTwoFactorFailures(ctx, tf.ID); err != nil {
			return nil, err
		}
	}
	if !enabled(st, &v.user) {
		if v.signIn() {
			return nil, ErrNoSession
		}
		res, u, err := enableAndRotate(ctx, h, v.sess, true)
		if err != nil {
			return nil, err
		}
		return &plugin.Response{Body: tokenUser(st, &res.Session.Token, u), SignIn: res}, nil
	}
	return p.succeed(ctx, r, v)
}

// verifyBackupCode is POST /two-factor/verify-backup-code: a backup code, spent once. With
// disableSession the answer is the user alone and no session is made (the challenge is spent).
func (p *twoFactor) verifyBackupCode(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	v, err := resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	h := r.Host
	st := h.Store()
	tf, err := st.TwoFactorByUser(ctx, v.user.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrBackupNotEnabled
	}
	if err != nil {
		return nil, err
	}
	if v.signIn() {
		if err := checkLock(ctx, h, tf); err != nil {
			return nil, err
		}
	}
	at, err := v.begin(ctx, h)
	if err != nil {
		return nil, err
	}
	plain, err := atrest.Decrypt(h.Keys(), tf.BackupCodes)
	if err != nil {
		return nil, errors.Join(err, at.restore(ctx, h))
	}
	var codes []string // a list that is not JSON holds no valid code, as in Better-Auth
	_ = json.Unmarshal([]byte(plain), &codes)
	code, _ := r.Body["code"].(string)
	left := make([]string, 0, len(codes))
	found := false
	for _, c := range codes {
		if c == code {
			found = true
			continue
		}
		left = append(left, c)
	}
	if !found {
		if err := at.failed(ctx, h); err != nil {
			return nil, err
		}
		if v.signIn() {
			if err := recordFailure(ctx, h, tf); err != nil {
				return nil, err
			}
		}
		return nil, ErrInvalidBackupCode
	}
	enc, err := encryptCodes(h.Keys(), left)
	if err != nil {
		return nil, err
	}
	swapped, err := st.SwapBackupCodes(ctx, tf.ID, tf.BackupCodes, enc)
	if err != nil {
		return nil, err
	}
	if !swapped {
		return nil, ErrBackupCodeRace
	}
	if v.signIn() {
		if err := st.ResetTwoFactorFailures(ctx, tf.ID); err != nil {
			return nil, err
		}
	}
	if b, _ := r.Body["disableSession"].(bool); b {
		var token *string
		if v.sess != nil {
			token = &v.sess.Session.Token
		}
		return &plugin.Response{Body: tokenUser(st, token, &v.user)}, nil
	}
	return p.succeed(ctx, r, v)
}
