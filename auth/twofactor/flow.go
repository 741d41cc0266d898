package twofactor

import (
	"authserver/obs"

	"context"
	"errors"
	"time"

	"authserver/auth/atrest"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

func enabled(st *store.Store, u *store.User) bool {
	v, _ := st.UserField(u, EnabledField.Name)
	return v.Bool()
}

// verified reads a twoFactor row's verified flag as Better-Auth does: NULL (a row from before the
// column existed) counts as verified.
func verified(tf *store.TwoFactor) bool { return tf.Verified == nil || *tf.Verified }

func newVerification(identifier, value string, expiresAt, now store.Time) *store.Verification {
	return &store.Verification{ID: session.NewID(), Identifier: identifier, Value: value, ExpiresAt: expiresAt, CreatedAt: now, UpdatedAt: now}
}

// challenge is the Challenge hook of password sign-ins: a user with two-factor on gets the
// challenge unless the request carries a trust_device cookie for them whose row is still there,
// in which case the cookie and the row are replaced and the sign-in goes on.
func (p *twoFactor) challenge(ctx context.Context, a *plugin.Attempt) (*plugin.Challenge, error) {
	h := a.Host
	st := h.Store()
	if !enabled(st, &a.User) {
		return nil, nil
	}
	now := store.NewTime(h.Now())
	var trustValue string
	var hasTrust bool
	if a.Incoming != nil {
		trustValue, hasTrust = a.Incoming.SignedCookie(trustCookie)
	}
	if hasTrust {
		if ident, ok := parseTrustCookieAny(h.Keys(), a.User.ID, trustValue); ok {
			v, err := st.FindVerification(ctx, ident, now)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if v != nil && v.Value == a.User.ID {
				c, err := p.trustDevice(ctx, h, a.User.ID, ident)
				if err != nil {
					return nil, err
				}
				a.Cookies = append(a.Cookies, c)
				return nil, nil
			}
		}
	}
	var cookies []plugin.Cookie
	if hasTrust {
		cookies = append(cookies, plugin.Cookie{Name: trustCookie, Signed: true})
	}
	life := time.Duration(p.cfg.CookieMaxAge) * time.Second
	ident := "2fa-" + atrest.RandomString(atrest.DefaultAlphabet, 20)
	expires := store.NewTime(now.Add(life))
	if err := st.CreateVerification(ctx, newVerification(ident, a.User.ID, expires, now)); err != nil {
		return nil, err
	}
	if err := st.CreateVerification(ctx, newVerification("2fa-attempts-"+ident, "0", expires, now)); err != nil {
		return nil, err
	}
	cookies = append(cookies, plugin.Cookie{Name: challengeCookie, Value: ident, MaxAge: p.cfg.CookieMaxAge, Signed: true, HTTPOnly: true})
	methods := []string{}
	tf, err := st.TwoFactorByUser(ctx, a.User.ID)
	switch {
	case err == nil && verified(tf):
		methods = append(methods, "totp")
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	if p.cfg.OTP {
		methods = append(methods, "otp")
	}
	body := struct {
		Redirect bool     `json:"twoFactorRedirect"`
		Methods  []string `json:"twoFactorMethods"`
	}{true, methods}
	obs.TwoFactor("challenge", "issued")
	return &plugin.Challenge{Body: body, Cookies: cookies}, nil
}

// trustDevice ends the trusted-device row replaced (old, empty for a first trust) and returns the
// cookie of a new one, as Better-Auth rotates them at every use.
func (p *twoFactor) trustDevice(ctx context.Context, h plugin.Host, userID, old string) (plugin.Cookie, error) {
	st := h.Store()
	now := store.NewTime(h.Now())
	if old != "" {
		if _, err := st.ConsumeVerification(ctx, old, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return plugin.Cookie{}, err
		}
	}
	ident := "trust-device-" + atrest.RandomString(atrest.DefaultAlphabet, 32)
	expires := store.NewTime(now.Add(time.Duration(p.cfg.TrustDeviceMaxAge) * time.Second))
	if err := st.CreateVerification(ctx, newVerification(ident, userID, expires, now)); err != nil {
		return plugin.Cookie{}, err
	}
	return plugin.Cookie{Name: trustCookie, Value: trustToken(h.Secret(), userID, ident) + "!" + ident,
		MaxAge: p.cfg.TrustDeviceMaxAge, Signed: true, HTTPOnly: true}, nil
}

// verifier is the caller of a verify or send endpoint: a signed-in user managing their own second
// factor (sess set) or a sign-in stopped by a challenge (challenge set, the two_factor cookie's
// value).
type verifier struct {
	user store.User
	sess *session.Auth
	// challenge is the challenge row's identifier; expires its end.
	challenge string
	expires   store.Time
	// key names the caller's mailed codes: the challenge, or "<userId>!<sessionId>".
	key string
}

func (v *verifier) signIn() bool { return v.sess == nil }

// endChallenge is err answered with the two_factor cookie expired, for a challenge that is over.
func endChallenge(err *plugin.Error) error {
	return &plugin.CookieError{Err: err, Cookies: []plugin.Cookie{{Name: challengeCookie, Signed: true}}}
}

// resolve finds the verifier of a request: its session if it has one, else its challenge cookie,
// which must name a live challenge row of an existing user.
func resolve(ctx context.Context, r *plugin.Request) (*verifier, error) {
	if r.Auth != nil {
		return &verifier{user: r.Auth.User, sess: r.Auth, key: r.Auth.User.ID + "!" + r.Auth.Session.ID}, nil
	}
	value, ok := r.Incoming.SignedCookie(challengeCookie)
	if !ok {
		return nil, ErrInvalidCookie
	}
	st := r.Host.Store()
	row, err := st.FindVerification(ctx, value, store.NewTime(r.Host.Now()))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidCookie
	}
	if err != nil {
		return nil, err
	}
	u, err := st.UserByID(ctx, row.Value)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidCookie
	}
	if err != nil {
		return nil, err
	}
	return &verifier{user: *u, challenge: value, expires: row.ExpiresAt, key: value}, nil
}

// attempt is one code tried against a challenge; see begin.
type attempt struct {
	v     *verifier
	count int
}

// begin takes the challenge's attempt counter for one try (TOTP and backup codes): a challenge
// whose counter is gone is invalid, and one that used up its tries is ended. The caller must call
// failed or restore unless the code was right, which leaves the counter taken, so the challenge
// cannot be tried again.
func (v *verifier) begin(ctx context.Context, h plugin.Host) (*attempt, error) {
	if !v.signIn() {
		return nil, nil
	}
	st := h.Store()
	now := store.NewTime(h.Now())
	row, err := st.ConsumeVerification(ctx, "2fa-attempts-"+v.challenge, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidCookie
	}
	if err != nil {
		return nil, err
	}
	n, perr := parseCount(row.Value)
	if perr != nil || n >= challengeAttempts {
		if _, err := st.ConsumeVerification(ctx, v.challenge, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		plugin.SignInFailed(ctx, h, "two-factor", v.user.ID, "too-many-attempts")
		return nil, endChallenge(ErrTooManyAttempts)
	}
	return &attempt{v: v, count: n}, nil
}

func (a *attempt) rearm(ctx context.Context, h plugin.Host, n int) error {
	if a == nil {
		return nil
	}
	now := store.NewTime(h.Now())
	return h.Store().CreateVerification(ctx, newVerification("2fa-attempts-"+a.v.challenge, itoa(n), a.v.expires, now))
}

// failed counts a wrong code against the challenge, and records the refused sign-in.
func (a *attempt) failed(ctx context.Context, h plugin.Host) error {
	if a == nil {
		return nil
	}
	_ = h.Audit(ctx, nil, plugin.AuditEvent{Event: "sign-in", UserID: a.v.user.ID, Failed: true,
		Detail: map[string]any{"method": "two-factor", "reason": "invalid-code"}})
	return a.rearm(ctx, h, a.count+1)
}

// restore gives the try back when the code could not be checked at all.
func (a *attempt) restore(ctx context.Context, h plugin.Host) error {
	if a == nil {
		return nil
	}
	return a.rearm(ctx, h, a.count)
}

// checkLock refuses a locked account and clears a lock that has ended.
func checkLock(ctx context.Context, h plugin.Host, tf *store.TwoFactor) error {
	if tf.LockedUntil == nil || tf.LockedUntil.IsZero() {
		return nil
	}
	now := store.NewTime(h.Now())
	if tf.LockedUntil.After(now.Time) {
		plugin.SignInFailed(ctx, h, "two-factor", tf.UserID, "locked") // only sign-ins check the lock
		return ErrLocked
	}
	return h.Store().ClearExpiredTwoFactorLock(ctx, tf.ID, now)
}

// recordFailure counts a wrong code toward the account's lockout.
func recordFailure(ctx context.Context, h plugin.Host, tf *store.TwoFactor) error {
	return h.Store().RecordTwoFactorFailure(ctx, tf.ID, lockoutFailures, store.NewTime(h.Now().Add(lockoutDuration)))
}

// succeed finishes a verify endpoint whose code was right. With a session it answers
// {"token","user"} with the caller's token and user as they were when the request began; for a
// challenge it consumes the challenge and signs the user in, trusting the device if asked.
func (p *twoFactor) succeed(ctx context.Context, r *plugin.Request, v *verifier) (*plugin.Response, error) {
	st := r.Host.Store()
	if !v.signIn() {
		return &plugin.Response{Body: tokenUser(st, &v.sess.Session.Token, &v.user)}, nil
	}
	row, err := st.ConsumeVerification(ctx, v.challenge, store.NewTime(r.Host.Now()))
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.Value != v.user.ID) {
		return nil, endChallenge(ErrInvalidCookie)
	}
	if err != nil {
		return nil, err
	}
	var dontRemember *bool
	if _, ok := r.Incoming.SignedCookie(dontRememberCookie); ok {
		t := true
		dontRemember = &t
	}
	cookies := []plugin.Cookie{{Name: challengeCookie, Signed: true}}
	if b, _ := r.Body["trustDevice"].(bool); b {
		c, err := p.trustDevice(ctx, r.Host, v.user.ID, "")
		if err != nil {
			return nil, err
		}
		cookies = append(cookies, c, plugin.Cookie{Name: dontRememberCookie, Signed: true})
	}
	res, err := r.Host.FinishSignIn(ctx, plugin.Finish{User: v.user, DontRemember: dontRemember, Meta: r.Meta,
		Incoming: r.Incoming, Cookies: cookies})
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: tokenUser(st, &res.Session.Token, &v.user), SignIn: res}, nil
}

// enableAndRotate turns two-factor on for a signed-in user and replaces their session, as
// Better-Auth does when the account's security changes; it returns the new sign-in and the
// updated user.
// The flag, the audit row and the new session commit together.
func enableAndRotate(ctx context.Context, h plugin.Host, a *session.Auth, on bool) (*plugin.SignIn, *store.User, error) {
	var res *plugin.SignIn
	var u *store.User
	err := h.Atomic(ctx, func(ctx context.Context) error {
		var err error
		if u, err = h.SetUserFields(ctx, a.User.ID, map[string]store.Value{EnabledField.Name: store.BoolValue(on)}); err != nil {
			return err
		}
		if on {
			if err := h.Audit(ctx, nil, plugin.AuditEvent{Event: "two-factor-enabled", UserID: a.User.ID, SessionID: a.Session.ID}); err != nil {
				return err
			}
		}
		res, err = h.RotateSession(ctx, a.Session, *u)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return res, u, nil
}
