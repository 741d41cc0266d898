// Package auth implements Better-Auth's email-and-password flows (sign-up, sign-in, password
// change, profile update) and its password hashing, on top of session and store.
//
// It never imports a web framework: handlers in package web decode requests and call Service.
package auth

import (
	"authserver/obs"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// Config holds the emailAndPassword options of Better-Auth that the service honours; LoadConfig
// reads them from the environment.
type Config struct {
	// WebhookURLs receive every audit event (WEBHOOK_URLS): each event is queued for each URL
	// in the audit row's transaction, and package webhook delivers the queue.
	WebhookURLs []string
	// MinPasswordLength and MaxPasswordLength bound new passwords in UTF-16 code units (defaults 8
	// and 128, Better-Auth's).
	MinPasswordLength int
	MaxPasswordLength int
	// DisableSignUp refuses new accounts (DISABLE_SIGN_UP).
	DisableSignUp bool
	// RequireEmailVerification refuses sign-in until the email is verified and makes sign-up create
	// no session and answer duplicates generically.
	RequireEmailVerification bool
	// DisableAutoSignIn makes sign-up create no session (Better-Auth's autoSignIn: false).
	DisableAutoSignIn bool
	// Hasher bounds password hashing; zero values take the defaults.
	Hasher HasherConfig
	// Email configures the email flows and how mail is sent.
	Email EmailConfig
	// RejectCommonPasswords refuses new passwords found in the shipped list of common passwords.
	RejectCommonPasswords bool
	// Lockout is the optional per-account lockout after repeated failures.
	Lockout LockoutConfig
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Plugins are the enabled plugins, whose hooks run on every sign-in (see CompleteSignIn).
	Plugins []plugin.Plugin
}

// Service runs the email-and-password flows. It is safe for concurrent use.
type Service struct {
	cfg      Config
	email    EmailConfig
	st       *store.Store
	sessions *session.Manager
	hasher   *Hasher
	mail     *mailer
	lockout  *lockout
	social   atomic.Pointer[Social] // set by EnableSocial; empty (no providers) until then
	plugins  []plugin.Plugin
}

// New returns a Service with cfg's defaults filled in.
func New(cfg Config, st *store.Store, sessions *session.Manager) *Service {
	if cfg.MinPasswordLength <= 0 {
		cfg.MinPasswordLength = 8
	}
	if cfg.MaxPasswordLength <= 0 {
		cfg.MaxPasswordLength = 128
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := cfg.Email
	if e.SendTimeout <= 0 {
		e.SendTimeout = 10 * time.Second
	}
	if e.VerificationExpiresIn <= 0 {
		e.VerificationExpiresIn = time.Hour
	}
	if e.ResetPasswordExpiresIn <= 0 {
		e.ResetPasswordExpiresIn = time.Hour
	}
	if e.DeleteTokenExpiresIn <= 0 {
		e.DeleteTokenExpiresIn = 24 * time.Hour
	}
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Hasher.Logger == nil {
		cfg.Hasher.Logger = e.Logger
	}
	s := &Service{cfg: cfg, email: e, st: st, sessions: sessions, hasher: NewHasher(cfg.Hasher),
		mail: newMailer(e), lockout: newLockout(cfg.Lockout, e.Logger), plugins: cfg.Plugins}
	s.hookSessionCookies()
	obs.HashQueueDepth(s.hasher.Waiting)
	return s
}

// hookSessionCookies has the session manager ask the plugins' SessionCookieHeaders hooks for
// headers wherever it writes the session cookie.
func (s *Service) hookSessionCookies() {
	var hooks []func(context.Context, plugin.Host, string) ([]plugin.Header, error)
	for _, p := range s.plugins {
		if p.Hooks.SessionCookieHeaders != nil {
			hooks = append(hooks, p.Hooks.SessionCookieHeaders)
		}
	}
	if len(hooks) == 0 || s.sessions == nil {
		return
	}
	s.sessions.OnSessionCookie(func(ctx context.Context, token string) [][2]string {
		var out [][2]string
		for _, hook := range hooks {
			kv, err := hook(ctx, s, token)
			if err != nil {
				s.email.Logger.Error("session cookie hook failed", slog.String("error", err.Error()))
				continue
			}
			for _, hd := range kv {
				out = append(out, [2]string{hd.Name, hd.Value})
			}
		}
		return out
	})
}

// sendOnSignUp follows Better-Auth: emailVerification.sendOnSignUp, defaulting to
// requireEmailVerification.
func (s *Service) sendOnSignUp() bool {
	if s.email.SendOnSignUp != nil {
		return *s.email.SendOnSignUp
	}
	return s.cfg.RequireEmailVerification
}

// Hasher exposes the service's bounded password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

// Rules are the account rules a client's forms need before they send anything: none of it is
// secret, and a form that knows them can say "at least 12 characters" instead of failing.
type Rules struct {
	MinPasswordLength        int
	MaxPasswordLength        int
	SignUpDisabled           bool
	RequireEmailVerification bool
	RejectCommonPasswords    bool
	// Plugins are the IDs of the enabled plugins (Better-Auth's names), in the order they were
	// enabled; never nil. bearer is always on and not listed. A client shows only the features
	// the server has, instead of offering a button that answers 404.
	Plugins []string
	// SocialProviders are the IDs of the configured social and OIDC providers, sorted; never nil.
	SocialProviders []string
}

// Rules returns the rules this service enforces, with defaults filled in.
func (s *Service) Rules() Rules {
	ids := make([]string, 0, len(s.plugins))
	for _, p := range s.plugins {
		ids = append(ids, p.ID)
	}
	return Rules{MinPasswordLength: s.cfg.MinPasswordLength, MaxPasswordLength: s.cfg.MaxPasswordLength,
		SignUpDisabled: s.cfg.DisableSignUp, RequireEmailVerification: s.cfg.RequireEmailVerification,
		RejectCommonPasswords: s.cfg.RejectCommonPasswords, Plugins: ids, SocialProviders: s.Social().ProviderIDs()}
}

func (s *Service) now() store.Time { return store.NewTime(s.cfg.Now()) }

// emailPattern is zod v4's z.email() pattern, which Better-Auth validates emails with: ASCII only,
// a TLD of two letters or more, no surrounding spaces.
var emailPattern = regexp.MustCompile(`^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

// ValidEmail reports whether s passes Better-Auth's email check.
func ValidEmail(s string) bool { return len(s) <= 320 && emailPattern.MatchString(s) }

// MaxNameLength and MaxImageLength bound the name and image URL a user may store (sign-up and
// update-user), in UTF-16 code units as zod counts. Better-Auth sets no bound; these are far above
// any real name or avatar URL, and keep what one account adds to its sessions (read on every
// request, cached in memory and in the session_data cookie) small.
const (
	MaxNameLength  = 256
	MaxImageLength = 2048
)

// TextLength is s's length in UTF-16 code units, as JavaScript's String.length counts it (an
// invalid UTF-8 byte counts as one U+FFFD, as Node decodes it).
func TextLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16Units(r)
	}
	return n
}

// utf16Units is how many UTF-16 code units r takes: two for a surrogate pair.
func utf16Units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// NormalizeEmail lower-cases an email as Better-Auth does before every lookup and write. It does
// not trim: Better-Auth rejects surrounding spaces rather than removing them.
func NormalizeEmail(s string) string { return strings.ToLower(s) }

func (s *Service) checkNewPassword(p string) error {
	n := passwordLength(p)
	if n < s.cfg.MinPasswordLength {
		return ErrPasswordTooShort
	}
	if n > s.cfg.MaxPasswordLength {
		return ErrPasswordTooLong
	}
	if s.cfg.RejectCommonPasswords && isCommonPassword(p) {
		return ErrPasswordCompromised
	}
	return nil
}

func (s *Service) checkNotTooLong(p string) error {
	if passwordLength(p) > s.cfg.MaxPasswordLength {
		return ErrPasswordTooLong
	}
	return nil
}

// SignUpInput is a validated sign-up request.
type SignUpInput struct {
	Name       string
	Email      string
	Password   string
	Image      *string
	RememberMe *bool
	// CallbackURL is where the verification link sends the browser afterwards.
	CallbackURL string
	Meta        session.Meta
	// OnCreate, when set, runs inside the transaction that creates the user, after the user and
	// account rows, with that transaction's store: what it writes exists exactly when the user
	// does, and its error undoes the sign-up. It never runs for the answer to a duplicate email.
	OnCreate func(ctx context.Context, tx *store.Store, userID string) error
	// Refused, when set, is the answer for a body that sets a field only the server may set
	// (FIELD_NOT_ALLOWED). It is returned after the email and password checks, where Better-Auth
	// parses the added fields, so a body wrong in both ways gets the same error on both servers.
	Refused error
	// Values are the plugins' user field values from the body (see UserInput), stored with the
	// new user over the values the sign-in method gives.
	Values map[string]store.Value
	// Incoming is the request, for the plugins' hooks.
	Incoming plugin.Incoming
}

// SignUpResult is the created (or, in generic-duplicate mode, synthetic) user and the sign-in
// that followed; SignIn is nil when sign-up does not sign in.
type SignUpResult struct {
	User   store.User
	SignIn *plugin.SignIn
}

// genericDuplicates reports whether a duplicate email must be answered like a success, so that
// sign-up reveals nothing about which emails exist (Better-Auth does this whenever sign-up would
// not sign in anyway).
func (s *Service) genericDuplicates() bool {
	return s.cfg.RequireEmailVerification || s.cfg.DisableAutoSignIn
}

// SignUpEmail creates a user with a credential account and, unless configured otherwise, a
// session. The user and the account are written in one transaction: never one without the other.
// The password is hashed before the transaction opens, so no lock is held while scrypt runs.
// Every answer that names a user (a duplicate's look-alike answer too) is then handed to the
// plugins' SignedUp hooks in the background.
func (s *Service) SignUpEmail(ctx context.Context, in SignUpInput) (*SignUpResult, error) {
	res, err := s.signUpEmail(ctx, in)
	if err == nil && res != nil {
		s.signedUp(res.User.Email)
	}
	return res, err
}

// signedUp runs the plugins' SignedUp hooks after the answer, as Better-Auth's after hooks on
// /sign-up paths run on its body; an error is logged.
func (s *Service) signedUp(email string) {
	for _, p := range s.plugins {
		h := p.Hooks.SignedUp
		if h == nil {
			continue
		}
		id := p.ID
		s.mail.background("sign-up-hook", func(ctx context.Context) {
			if err := h(ctx, s, email); err != nil {
				s.mail.log.Error("sign-up hook failed", slog.String("plugin", id), slog.String("error", err.Error()))
			}
		})
	}
}

func (s *Service) signUpEmail(ctx context.Context, in SignUpInput) (*SignUpResult, error) {
	if s.cfg.DisableSignUp {
		return nil, ErrSignUpDisabled
	}
	if !ValidEmail(in.Email) {
		return nil, ErrInvalidEmail
	}
	if in.Password == "" {
		return nil, ErrInvalidPassword
	}
	if err := s.checkNewPassword(in.Password); err != nil {
		return nil, err
	}
	if in.Refused != nil {
		return nil, in.Refused
	}
	// The place in the hashing line is taken before the database read, so a burst's refusals
	// cost no reads (see Hasher.Admit).
	ctx, release, err := s.hasher.Admit(ctx)
	if err != nil {
		obs.HashWait(ctx, time.Now(), obs.HashBusy)
		return nil, err
	}
	defer release()
	if err := s.hasher.AwaitTurn(ctx); err != nil {
		return nil, err
	}
	email := NormalizeEmail(in.Email)
	_, err = s.st.UserByEmail(ctx, email)
	switch {
	case err == nil:
		if s.genericDuplicates() {
			return s.syntheticSignUp(ctx, in, email)
		}
		return nil, ErrUserExists
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := store.User{ID: session.NewID(), Name: in.Name, Email: email, Image: in.Image, CreatedAt: now, UpdatedAt: now}
	if err := s.newUserValues(&u, MethodEmail); err != nil {
		return nil, err
	}
	if err := s.st.SetExtra(&u, in.Values); err != nil {
		return nil, err
	}
	acct := store.Account{ID: session.NewID(), AccountID: u.ID, ProviderID: store.CredentialProvider, UserID: u.ID,
		Password: &hash, CreatedAt: now, UpdatedAt: now}
	res := &SignUpResult{User: u}
	err = s.st.Atomic(ctx, func(ctx context.Context) error {
		tx := s.st // joins the transaction ctx now carries, as does every call made with ctx
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		res.User = u // as stored: with the defaults of the fields plugins added
		if err := tx.CreateAccount(ctx, &acct); err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, plugin.AuditEvent{Event: "sign-up", UserID: u.ID, Detail: map[string]any{"method": MethodEmail}}); err != nil {
			return err
		}
		if in.OnCreate != nil {
			if err := in.OnCreate(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		if s.cfg.DisableAutoSignIn || s.cfg.RequireEmailVerification {
			return nil
		}
		res.SignIn, err = s.CompleteSignIn(ctx, tx, SignInRequest{User: u, Method: MethodEmail, Meta: in.Meta,
			DontRemember: dontRemember(in.RememberMe), Incoming: in.Incoming})
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		// Another sign-up with this email committed first.
		if s.genericDuplicates() {
			return s.syntheticSignUp(ctx, in, email)
		}
		return nil, ErrUserExists
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCreateUser, err)
	}
	if s.sendOnSignUp() {
		s.sendVerification(&res.User, in.CallbackURL)
	}
	return res, nil
}

// syntheticSignUp answers a duplicate sign-up like a real one, after the same hashing work.
func (s *Service) syntheticSignUp(ctx context.Context, in SignUpInput, email string) (*SignUpResult, error) {
	if _, err := s.hasher.Hash(ctx, in.Password); err != nil {
		return nil, err
	}
	now := s.now()
	// The added fields' defaults too, or they would tell this answer from a real one.
	return &SignUpResult{User: store.User{ID: session.NewID(), Name: in.Name, Email: email, Image: in.Image, CreatedAt: now, UpdatedAt: now,
		Extra: store.Defaults(s.st.Columns().User)}}, nil
}

// SignInInput is a validated sign-in request.
type SignInInput struct {
	Email       string
	Password    string
	RememberMe  *bool
	CallbackURL string
	Meta        session.Meta
	// Incoming is the request, for the plugins' hooks.
	Incoming plugin.Incoming
}

// dontRemember is Better-Auth's rememberMe === false: only an explicit false forgets.
func dontRemember(rememberMe *bool) *bool {
	dr := rememberMe != nil && !*rememberMe
	return &dr
}

// MethodEmail is the sign-in method of e-mail sign-in and sign-up.
const MethodEmail = "email"

// SignInEmail checks an email and password and creates a session. An unknown email, a user
// without a password and a wrong password all give ErrInvalidCredentials after the same scrypt
// work, so neither the answer nor its timing tells which.
func (s *Service) SignInEmail(ctx context.Context, in SignInInput) (*plugin.SignIn, error) {
	if !ValidEmail(in.Email) {
		return nil, ErrInvalidEmail
	}
	email := NormalizeEmail(in.Email)
	return s.SignInWithPassword(ctx, plugin.PasswordSignIn{
		Find:     func(ctx context.Context) (*store.User, error) { return s.st.UserByEmail(ctx, email) },
		LockKey:  email,
		Password: in.Password, RememberMe: in.RememberMe, CallbackURL: in.CallbackURL, Meta: in.Meta,
		Method: MethodEmail, Invalid: ErrInvalidCredentials, Incoming: in.Incoming,
	})
}

// Store returns the service's database (plugin.Host).
func (s *Service) Store() *store.Store { return s.st }

// SignInWithPassword is the password check behind every password sign-in (plugin.Host): e-mail
// sign-in and plugins' sign-ins by their own identifier. An unknown user, a user without a
// password and a wrong password all give in.Invalid after the same scrypt work.
func (s *Service) SignInWithPassword(ctx context.Context, in plugin.PasswordSignIn) (*plugin.SignIn, error) {
	if err := s.checkNotTooLong(in.Password); err != nil {
		return nil, err
	}
	// Before the database reads: a flood's refusals must cost little, and the place taken here
	// counts for the arrivals after it (see Hasher.Admit).
	ctx, release, err := s.hasher.Admit(ctx)
	if err != nil {
		obs.HashWait(ctx, time.Now(), obs.HashBusy)
		return nil, err
	}
	defer release()
	if err := s.hasher.AwaitTurn(ctx); err != nil {
		return nil, err
	}
	if wait := s.lockout.check(ctx, in.LockKey, s.cfg.Now()); wait > 0 {
		s.signInFailed(ctx, in.Method, nil, "locked")
		return nil, &LockedError{RetryAfter: wait}
	}
	u, err := in.Find(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	keys := []string{in.LockKey}
	if u != nil && u.Email != in.LockKey {
		// Found by another identifier: failures also count against the account's e-mail, so
		// guessing through two doors gives no more tries than through one.
		if wait := s.lockout.check(ctx, u.Email, s.cfg.Now()); wait > 0 {
			s.signInFailed(ctx, in.Method, u, "locked")
			return nil, &LockedError{RetryAfter: wait}
		}
		keys = append(keys, u.Email)
	}
	var acct *store.Account
	if u != nil {
		acct, err = s.st.CredentialAccount(ctx, u.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if acct != nil && acct.AccountID != u.ID {
			acct = nil
		}
	}
	if u == nil || acct == nil || acct.Password == nil || *acct.Password == "" {
		if err := s.hasher.Burn(ctx, in.Password); err != nil {
			return nil, err
		}
		for _, k := range keys {
			s.lockout.fail(ctx, k, s.cfg.Now())
		}
		s.signInFailed(ctx, in.Method, u, "invalid-credentials")
		return nil, in.Invalid
	}
	ok, err := s.hasher.Verify(ctx, *acct.Password, in.Password)
	if err != nil {
		return nil, err
	}
	if !ok {
		for _, k := range keys {
			s.lockout.fail(ctx, k, s.cfg.Now())
		}
		s.signInFailed(ctx, in.Method, u, "invalid-password")
		return nil, in.Invalid
	}
	for _, k := range keys {
		s.lockout.succeed(ctx, k)
	}
	if s.cfg.RequireEmailVerification && !u.EmailVerified {
		if s.email.SendOnSignIn {
			s.sendVerification(u, in.CallbackURL)
		}
		s.signInFailed(ctx, in.Method, u, "email-not-verified")
		return nil, ErrEmailNotVerified
	}
	return s.CompleteSignIn(ctx, nil, SignInRequest{User: *u, Method: in.Method, Meta: in.Meta,
		DontRemember: dontRemember(in.RememberMe), Password: true, Incoming: in.Incoming})
}

// ChangePasswordInput is a validated change-password request.
type ChangePasswordInput struct {
	CurrentPassword     string
	NewPassword         string
	RevokeOtherSessions bool
	Meta                session.Meta
}

// ChangePassword replaces the user's password after checking the current one and ends every
// outstanding reset token of the user. With RevokeOtherSessions every session of the user is
// deleted and a new sign-in is returned; the password write, the end of the reset tokens, the
// revocation and the new session commit together.
func (s *Service) ChangePassword(ctx context.Context, user *store.User, in ChangePasswordInput) (*plugin.SignIn, error) {
	userID := user.ID
	if err := s.checkNewPassword(in.NewPassword); err != nil {
		return nil, err
	}
	if err := s.checkNotTooLong(in.CurrentPassword); err != nil {
		return nil, err
	}
	acct, err := s.st.CredentialAccount(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (acct.Password == nil || *acct.Password == "")) {
		return nil, ErrCredentialAccountNotFound
	}
	if err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		return nil, err
	}
	ok, err := s.hasher.Verify(ctx, *acct.Password, in.CurrentPassword)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidPassword
	}
	var created *plugin.SignIn
	err = s.st.Atomic(ctx, func(ctx context.Context) error {
		tx := s.st // joins the transaction ctx now carries, as does every call made with ctx
		if in.RevokeOtherSessions {
			if err := s.sessions.RevokeAll(ctx, tx, userID); err != nil {
				return err
			}
		}
		if err := tx.SetAccountPassword(ctx, acct.ID, hash, s.now()); err != nil {
			return err
		}
		// A reset link sent before the change must not undo it.
		if err := tx.DeleteResetTokens(ctx, userID); err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, plugin.AuditEvent{Event: "password-change", UserID: userID,
			Detail: map[string]any{"revokeOtherSessions": in.RevokeOtherSessions}}); err != nil {
			return err
		}
		if !in.RevokeOtherSessions {
			return nil
		}
		created, err = s.CompleteSignIn(ctx, tx, SignInRequest{User: *user, Meta: in.Meta, Rotation: true})
		return err
	})
	if err != nil {
		return nil, err
	}
	if in.RevokeOtherSessions {
		s.sessions.ForgetUser(ctx, userID)
	}
	return created, nil
}

// UpdateUserInput holds the profile fields to change; nil pointers leave a field alone. ClearImage
// sets image to null.
type UpdateUserInput struct {
	Name       *string
	Image      *string
	ClearImage bool
	// Values are the plugins' user field values from the body (see UserInput).
	Values map[string]store.Value
}

// UserInput runs the plugins' UserInput hooks over a sign-up or update-user body, in the order
// the plugins were enabled, and collects the values they return; the first refusal is returned.
func (s *Service) UserInput(ctx context.Context, in plugin.UserInput) (map[string]store.Value, error) {
	var out map[string]store.Value
	for _, p := range s.plugins {
		if h := p.Hooks.UserInput; h != nil {
			vals, err := h(ctx, s.st, in)
			if err != nil {
				return nil, err
			}
			for k, v := range vals {
				if out == nil {
					out = map[string]store.Value{}
				}
				out[k] = v
			}
		}
	}
	return out, nil
}

// UpdateUser changes the user's name, image and plugin fields and returns the stored user.
func (s *Service) UpdateUser(ctx context.Context, userID string, in UpdateUserInput) (*store.User, error) {
	cols := map[string]any{}
	if in.Name != nil {
		cols["name"] = *in.Name
	}
	if in.ClearImage {
		cols["image"] = nil
	} else if in.Image != nil {
		cols["image"] = *in.Image
	}
	if len(cols) == 0 && len(in.Values) == 0 {
		return nil, ErrNoFieldsToUpdate
	}
	u, err := s.st.UpdateUserFields(ctx, userID, cols, in.Values, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUserNotFound
	}
	if err == nil {
		s.sessions.ForgetUser(ctx, userID)
	}
	return u, err
}

// ListAccounts returns every sign-in method of the user.
func (s *Service) ListAccounts(ctx context.Context, userID string) ([]store.Account, error) {
	return s.st.AccountsByUser(ctx, userID)
}

// UnlinkAccount deletes one of the user's accounts by its row id. The last account is never
// removed (the user could no longer sign in), and that is checked first, as in Better-Auth.
func (s *Service) UnlinkAccount(ctx context.Context, userID, accountID string) error {
	accts, err := s.st.AccountsByUser(ctx, userID)
	if err != nil {
		return err
	}
	if len(accts) <= 1 {
		return ErrLastAccount
	}
	for _, a := range accts {
		if a.ID == accountID {
			return s.Audited(ctx, plugin.AuditEvent{Event: "account-unlinked", UserID: userID, Detail: map[string]any{"provider": a.ProviderID}},
				func(ctx context.Context) error { return s.st.DeleteAccount(ctx, userID, a.ID) })
		}
	}
	return ErrAccountNotFound
}

// VerifyPassword checks the user's current password (ErrInvalidPassword when wrong or when the user
// has no password), with the same hashing work either way.
func (s *Service) VerifyPassword(ctx context.Context, userID, password string) error {
	if err := s.checkNotTooLong(password); err != nil {
		return err
	}
	acct, err := s.st.CredentialAccount(ctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if acct == nil || acct.Password == nil || *acct.Password == "" {
		if err := s.hasher.Burn(ctx, password); err != nil {
			return err
		}
		return ErrInvalidPassword
	}
	ok, err := s.hasher.Verify(ctx, *acct.Password, password)
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidPassword
	}
	return nil
}
