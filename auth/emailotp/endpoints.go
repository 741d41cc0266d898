package emailotp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"authserver/auth"
	"authserver/auth/atrest"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// errBadType is zod's answer for a type outside the enum, as 1.7.25 words it.
var errBadType = &plugin.Error{Status: 400, Code: "VALIDATION_ERROR",
	Message: `[body.type] Invalid option: expected one of "email-verification"|"sign-in"|"forget-password"|"change-email"`}

func str(r *plugin.Request, key string) string {
	v, _ := r.Body[key].(string)
	return v
}

// otpType is the body's type, one of types.
func otpType(r *plugin.Request) (string, error) {
	t, ok := r.Body["type"].(string)
	if !ok || !slices.Contains(types, t) {
		return "", errBadType
	}
	return t, nil
}

// emailOf is the body's address lower-cased; checked is whether it must be a valid address.
func emailOf(r *plugin.Request, key string, checked bool) (string, error) {
	e := strings.ToLower(str(r, key))
	if checked && !auth.ValidEmail(e) {
		return "", auth.ErrInvalidEmail
	}
	return e, nil
}

func identifier(t, email string) string { return t + "-otp-" + email }

// stored is the code as the verification row keeps it.
func (p *emailOTP) stored(h plugin.Host, code string) (string, error) {
	switch p.cfg.Store {
	case StoreHashed:
		return atrest.Hash(code), nil
	case StoreEncrypted:
		return atrest.Encrypt(h.Keys(), code)
	}
	return code, nil
}

// matches compares a code with the stored one in constant time.
func (p *emailOTP) matches(h plugin.Host, stored, code string) bool {
	want := code
	switch p.cfg.Store {
	case StoreHashed:
		want = atrest.Hash(code)
	case StoreEncrypted:
		plain, err := atrest.Decrypt(h.Keys(), stored)
		if err != nil {
			return false
		}
		stored = plain
	}
	return subtle.ConstantTimeCompare([]byte(stored), []byte(want)) == 1
}

// issued is a code just stored: in clear for the message, and as the row keeps it. reused is a
// code sent again (ResendReuse), which an earlier message may have delivered.
type issued struct {
	code, stored string
	reused       bool
}

// resolve is Better-Auth's resolveOTP, the code send-verification-otp and the password-reset
// requests send: with ResendReuse a code still usable (unexpired, attempts left, kept plain or
// encrypted so it can be read back) is sent again with its life renewed; otherwise issue makes a
// new one.
func (p *emailOTP) resolve(ctx context.Context, h plugin.Host, ident string) (issued, error) {
	if p.cfg.ResendReuse && p.cfg.Store != StoreHashed {
		c, ok, err := p.reuse(ctx, h, ident)
		if err != nil || ok {
			return c, err
		}
	}
	return p.issue(ctx, h, ident)
}

// reuse renews the newest code of ident when it can be sent again, as 1.7.25's tryReuseOTP: its
// value (and failed tries) stay, its expiry is pushed to the configured life from now.
func (p *emailOTP) reuse(ctx context.Context, h plugin.Host, ident string) (issued, bool, error) {
	st := h.Store()
	row, err := st.LatestVerification(ctx, ident)
	if errors.Is(err, store.ErrNotFound) {
		return issued{}, false, nil
	}
	if err != nil {
		return issued{}, false, err
	}
	now := h.Now()
	if !row.ExpiresAt.After(now) {
		return issued{}, false, nil
	}
	val, used := row.Value, 0
	if i := strings.LastIndexByte(row.Value, ':'); i >= 0 {
		val = row.Value[:i]
		used, _ = strconv.Atoi(row.Value[i+1:])
	}
	if used >= p.cfg.AllowedAttempts {
		return issued{}, false, nil
	}
	code := val
	if p.cfg.Store == StoreEncrypted {
		if code, err = atrest.Decrypt(h.Keys(), val); err != nil {
			return issued{}, false, nil
		}
	}
	// The row is taken and written back with the new expiry, so a verify racing this send sees
	// either the old row or the renewed one; if a verify took it first, a new code is issued.
	taken, err := st.TakeVerification(ctx, ident)
	if errors.Is(err, store.ErrNotFound) {
		return issued{}, false, nil
	}
	if err != nil {
		return issued{}, false, err
	}
	back := &store.Verification{ID: session.NewID(), Identifier: ident, Value: taken.Value,
		ExpiresAt: store.NewTime(now.Add(p.cfg.ExpiresIn)), CreatedAt: taken.CreatedAt, UpdatedAt: store.NewTime(now)}
	if err := st.CreateVerification(ctx, back); err != nil {
		return issued{}, false, err
	}
	if taken.Value != row.Value {
		return issued{}, false, nil // a wrong try landed in between: the renewed row stands, a new code replaces it
	}
	return issued{code: code, stored: val, reused: true}, true, nil
}

// issue makes a new code for identifier, replacing any earlier one.
func (p *emailOTP) issue(ctx context.Context, h plugin.Host, ident string) (issued, error) {
	code := atrest.RandomString(atrest.Digits, p.cfg.Length)
	val, err := p.stored(h, code)
	if err != nil {
		return issued{}, err
	}
	now := store.NewTime(h.Now())
	st := h.Store()
	if _, err := st.TakeVerification(ctx, ident); err != nil && !errors.Is(err, store.ErrNotFound) {
		return issued{}, err
	}
	row := &store.Verification{ID: session.NewID(), Identifier: ident, Value: val + ":0",
		ExpiresAt: store.NewTime(now.Add(p.cfg.ExpiresIn)), CreatedAt: now, UpdatedAt: now}
	return issued{code: code, stored: val}, st.CreateVerification(ctx, row)
}

// mail sends the code in the background. Better-Auth 1.7.25 awaits sendVerificationOTP but logs
// its failure and answers success, so the answer never depends on the delivery; sending after
// the answer keeps its timing from telling a known address from an unknown one. When the
// delivery fails the code, which nobody received, is withdrawn (unless a newer one replaced it),
// so no dead row is left behind; a new request issues a fresh code as always.
func (p *emailOTP) mail(h plugin.Host, kind, to, ident string, c issued) {
	if c.reused {
		// An earlier message may have delivered this code: it stays, as Better-Auth leaves it.
		h.SendCode(kind, to, c.code, p.cfg.ExpiresIn, nil)
		return
	}
	h.SendCode(kind, to, c.code, p.cfg.ExpiresIn, func(ctx context.Context) {
		_, _ = h.Store().WithdrawVerification(ctx, ident, func(v string) bool {
			i := strings.LastIndexByte(v, ':')
			return i >= 0 && v[:i] == c.stored
		})
	})
}

// verify checks a code as 1.7.25 does: the row is taken (so of racing requests one compares), an
// expired one answers OTP_EXPIRED, a spent one TOO_MANY_ATTEMPTS (and stays gone), a wrong code
// puts it back with one more failure and its expiry; a right one stays spent unless keep, which
// puts it back unchanged (check-verification-otp and reset-password's first look).
func (p *emailOTP) verify(ctx context.Context, h plugin.Host, ident, code string, keep bool) error {
	st := h.Store()
	row, err := st.TakeVerification(ctx, ident)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidOTP
	}
	if err != nil {
		return err
	}
	if !row.ExpiresAt.After(h.Now()) {
		return ErrOTPExpired
	}
	i := strings.LastIndexByte(row.Value, ':')
	val, used := row.Value, 0
	if i >= 0 {
		val = row.Value[:i]
		used, _ = strconv.Atoi(row.Value[i+1:])
	}
	if used >= p.cfg.AllowedAttempts {
		return ErrTooManyAttempts
	}
	ok := p.matches(h, val, code)
	if ok && !keep {
		return nil
	}
	now := store.NewTime(h.Now())
	back := &store.Verification{ID: session.NewID(), Identifier: ident, Value: row.Value, ExpiresAt: row.ExpiresAt, CreatedAt: now, UpdatedAt: now}
	if !ok {
		back.Value = val + ":" + strconv.Itoa(used+1)
	}
	if err := st.CreateVerification(ctx, back); err != nil {
		return err
	}
	if !ok {
		return ErrInvalidOTP
	}
	return nil
}

// codeRefusal names verify's refusal of a code for the audit log (invalid-code, expired-code,
// too-many-attempts), "" for an error that is no refusal (the database's).
func codeRefusal(err error) string {
	switch {
	case errors.Is(err, ErrInvalidOTP):
		return "invalid-code"
	case errors.Is(err, ErrOTPExpired):
		return "expired-code"
	case errors.Is(err, ErrTooManyAttempts):
		return "too-many-attempts"
	}
	return ""
}

// userByEmail is the user with this address, nil when there is none.
func userByEmail(ctx context.Context, h plugin.Host, email string) (*store.User, error) {
	u, err := h.Store().UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

var success = map[string]bool{"success": true}

// send is POST /email-otp/send-verification-otp. An unknown address gets no mail and the same
// answer, except for a sign-in code while sign-up is open (the code creates the user).
func (p *emailOTP) send(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	t, err := otpType(r)
	if err != nil {
		return nil, err
	}
	email, err := emailOf(r, "email", true)
	if err != nil {
		return nil, err
	}
	if t == TypeChangeEmail {
		return nil, ErrInvalidType
	}
	if err := r.Incoming.AllowSend(ctx, email); err != nil {
		return nil, err
	}
	if err := p.sendCode(ctx, r.Host, email, t); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: success}, nil
}

// sendCode issues and mails a code of type t to email; for an unknown address (when the code
// could not create the user) the code is withdrawn and nothing is mailed.
func (p *emailOTP) sendCode(ctx context.Context, h plugin.Host, email, t string) error {
	ident := identifier(t, email)
	c, err := p.resolve(ctx, h, ident)
	if err != nil {
		return err
	}
	u, err := userByEmail(ctx, h, email)
	if err != nil {
		return err
	}
	if u == nil && (t != TypeSignIn || p.cfg.DisableSignUp) {
		_, err := h.Store().TakeVerification(ctx, ident)
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return err
	}
	to := email
	if u != nil {
		to = u.Email
	}
	p.mail(h, MailKind(t), to, ident, c)
	return nil
}

// signUpMail is the SignedUp hook of sendVerificationOnSignUp: a new email-verification code for
// the address the sign-up answer names, mailed whether or not that answer was a duplicate's
// look-alike, as 1.7.25's after hook does (so the mail does not tell either).
func (p *emailOTP) signUpMail(ctx context.Context, h plugin.Host, email string) error {
	ident := identifier(TypeEmailVerification, email)
	c, err := p.issue(ctx, h, ident)
	if err != nil {
		return err
	}
	p.mail(h, MailKind(TypeEmailVerification), email, ident, c)
	return nil
}

// verificationMail is the VerificationEmail hook: the core's verification mail becomes a code.
func (p *emailOTP) verificationMail(ctx context.Context, h plugin.Host, email string) error {
	return p.sendCode(ctx, h, strings.ToLower(email), TypeEmailVerification)
}

// check is POST /email-otp/check-verification-otp: the code is checked and left usable; wrong
// codes count toward the limit.
func (p *emailOTP) check(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	t, err := otpType(r)
	if err != nil {
		return nil, err
	}
	email, err := emailOf(r, "email", true)
	if err != nil {
		return nil, err
	}
	if err := p.verify(ctx, r.Host, identifier(t, email), str(r, "otp"), true); err != nil {
		return nil, err
	}
	u, err := userByEmail(ctx, r.Host, email)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, auth.ErrUserNotFound
	}
	return &plugin.Response{Body: success}, nil
}

// userBody is {"status":true,"token":…,"user":…} of verify-email.
type userBody struct {
	Status bool            `json:"status"`
	Token  *string         `json:"token"`
	User   json.RawMessage `json:"user"`
}

// userJSON prints the user as every answer does, with the plugins' fields.
func userJSON(h plugin.Host, u *store.User) json.RawMessage {
	return store.AppendUserJSON(nil, u, h.Store().Columns().User)
}

// verifyEmail is POST /email-otp/verify-email: the address is marked verified.
func (p *emailOTP) verifyEmail(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	email, err := emailOf(r, "email", true)
	if err != nil {
		return nil, err
	}
	h := r.Host
	if err := p.verify(ctx, h, identifier(TypeEmailVerification, email), str(r, "otp"), false); err != nil {
		return nil, err
	}
	u, err := userByEmail(ctx, h, email)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, auth.ErrUserNotFound
	}
	u, err = h.UpdateUserColumns(ctx, u.ID, map[string]any{"email": email, "emailVerified": true}, nil)
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: userBody{Status: true, User: userJSON(h, u)}}, nil
}

// signIn is POST /sign-in/email-otp: an unknown address becomes a verified user unless sign-up is
// off; an unverified one first loses every account and session it had, since nobody had proved
// owning the address before.
func (p *emailOTP) signIn(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	email, _ := emailOf(r, "email", false)
	h := r.Host
	if err := p.verify(ctx, h, identifier(TypeSignIn, email), str(r, "otp"), false); err != nil {
		if reason := codeRefusal(err); reason != "" {
			uid := ""
			if u, _ := userByEmail(ctx, h, email); u != nil {
				uid = u.ID
			}
			plugin.SignInFailed(ctx, h, ID, uid, reason)
		}
		return nil, err
	}
	u, err := userByEmail(ctx, h, email)
	if err != nil {
		return nil, err
	}
	var in *plugin.SignIn
	switch {
	case u == nil && p.cfg.DisableSignUp:
		plugin.SignInFailed(ctx, h, ID, "", "signup-disabled")
		return nil, ErrInvalidOTP
	case u == nil:
		var image *string
		if v, ok := r.Body["image"].(string); ok {
			image = &v
		}
		in, err = h.CreateUserAndSignIn(ctx, plugin.NewUser{Name: str(r, "name"), Email: email, EmailVerified: true, Image: image,
			Method: ID, Meta: r.Meta, Incoming: r.Incoming})
	default:
		if !u.EmailVerified {
			if u, err = revokeUnproven(ctx, h, u.ID); err != nil {
				return nil, err
			}
		}
		in, err = h.FinishSignIn(ctx, plugin.Finish{User: *u, Method: ID, Meta: r.Meta, Incoming: r.Incoming})
	}
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: signInBody{Token: in.Session.Token, User: userJSON(h, &in.User)}, SignIn: in}, nil
}

// signInBody is sign-in's {"token","user"}.
type signInBody struct {
	Token string          `json:"token"`
	User  json.RawMessage `json:"user"`
}

// revokeUnproven removes the accounts (the password too) and sessions of an unverified user and
// marks the address verified, returning the user as stored.
func revokeUnproven(ctx context.Context, h plugin.Host, userID string) (*store.User, error) {
	st := h.Store()
	accts, err := st.AccountsByUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, a := range accts {
		if err := st.DeleteAccount(ctx, userID, a.ID); err != nil {
			return nil, err
		}
	}
	if err := h.RevokeUserSessions(ctx, userID); err != nil {
		return nil, err
	}
	return h.UpdateUserColumns(ctx, userID, map[string]any{"emailVerified": true}, nil)
}

// requestReset is POST /email-otp/request-password-reset and its older name
// /forget-password/email-otp.
func (p *emailOTP) requestReset(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	email, err := emailOf(r, "email", true)
	if err != nil {
		return nil, err
	}
	if err := r.Incoming.AllowSend(ctx, email); err != nil {
		return nil, err
	}
	if err := p.sendCode(ctx, r.Host, email, TypeForgetPassword); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: success}, nil
}

// resetPassword is POST /email-otp/reset-password: the code is spent in the transaction that
// writes the new password, and the address counts as verified afterwards.
func (p *emailOTP) resetPassword(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	email, err := emailOf(r, "email", true)
	if err != nil {
		return nil, err
	}
	h := r.Host
	pw := str(r, "password")
	if err := h.CheckPassword(pw, true); err != nil {
		return nil, err
	}
	ident, code := identifier(TypeForgetPassword, email), str(r, "otp")
	if err := p.verify(ctx, h, ident, code, true); err != nil {
		return nil, err
	}
	u, err := userByEmail(ctx, h, email)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, auth.ErrUserNotFound
	}
	err = h.ResetUserPassword(ctx, u.ID, pw, func(ctx context.Context, tx *store.Store) error {
		row, err := tx.ConsumeVerification(ctx, ident, store.NewTime(h.Now()))
		if errors.Is(err, store.ErrNotFound) {
			return ErrInvalidOTP
		}
		if err != nil {
			return err
		}
		if i := strings.LastIndexByte(row.Value, ':'); i < 0 || !p.matches(h, row.Value[:i], code) {
			return ErrInvalidOTP
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !u.EmailVerified {
		if _, err := h.UpdateUserColumns(ctx, u.ID, map[string]any{"emailVerified": true}, nil); err != nil {
			return nil, err
		}
	}
	return &plugin.Response{Body: success}, nil
}

// newEmail checks the change-email preconditions and returns the new address.
func (p *emailOTP) newEmail(r *plugin.Request) (string, error) {
	if !p.cfg.ChangeEmail {
		return "", ErrChangeDisabled
	}
	email, err := emailOf(r, "newEmail", true)
	if err != nil {
		return "", err
	}
	if email == strings.ToLower(r.Auth.User.Email) {
		return "", ErrEmailIsTheSame
	}
	return email, nil
}

// changeIdentifier names a change-email code as 1.7.25 does: by user id and new address.
func changeIdentifier(userID, email string) string {
	return identifier(TypeChangeEmail, userID+":"+email)
}

// requestEmailChange is POST /email-otp/request-email-change: a code mailed to the new address
// (nothing when it is taken, with the same answer).
func (p *emailOTP) requestEmailChange(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	email, err := p.newEmail(r)
	if err != nil {
		return nil, err
	}
	h := r.Host
	if p.cfg.VerifyCurrentEmail {
		code, ok := r.Body["otp"].(string)
		if !ok || code == "" {
			return nil, ErrCurrentOTPRequired
		}
		cur := strings.ToLower(r.Auth.User.Email)
		if err := p.verify(ctx, h, identifier(TypeEmailVerification, cur), code, false); err != nil {
			return nil, err
		}
	}
	if err := r.Incoming.AllowSend(ctx, email); err != nil {
		return nil, err
	}
	ident := changeIdentifier(r.Auth.User.ID, email)
	c, err := p.issue(ctx, h, ident)
	if err != nil {
		return nil, err
	}
	taken, err := userByEmail(ctx, h, email)
	if err != nil {
		return nil, err
	}
	if taken != nil {
		if _, err := h.Store().TakeVerification(ctx, ident); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return &plugin.Response{Body: success}, nil
	}
	p.mail(h, MailKind(TypeChangeEmail), email, ident, c)
	return &plugin.Response{Body: success}, nil
}

// changeEmail is POST /email-otp/change-email: the new address, verified, and the session cookie
// set again.
func (p *emailOTP) changeEmail(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	email, err := p.newEmail(r)
	if err != nil {
		return nil, err
	}
	h := r.Host
	if err := p.verify(ctx, h, changeIdentifier(r.Auth.User.ID, email), str(r, "otp"), false); err != nil {
		return nil, err
	}
	taken, err := userByEmail(ctx, h, email)
	if err != nil {
		return nil, err
	}
	if taken != nil {
		return nil, ErrEmailInUse
	}
	u, err := h.UpdateUserColumns(ctx, r.Auth.User.ID, map[string]any{"email": email, "emailVerified": true}, nil)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrEmailInUse
		}
		return nil, err
	}
	// The caller's own session, written again as 1.7.25 does after the change (no new session,
	// no last-login method; the cookie follows the request's dont_remember choice).
	return &plugin.Response{Body: success, SignIn: &plugin.SignIn{User: *u, Session: r.Auth.Session, Host: h}}, nil
}
