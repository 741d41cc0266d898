package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"authserver/auth/plugin"
	"authserver/mail"
	"authserver/session"
	"authserver/store"
)

// Errors of the email flows; the web layer's error table gives their wire form.
var (
	ErrInvalidToken         = errors.New("auth: invalid token")
	ErrTokenExpired         = errors.New("auth: token expired")
	ErrEmailMismatch        = errors.New("auth: email mismatch")
	ErrEmailAlreadyVerified = errors.New("auth: email already verified")
	ErrChangeEmailDisabled  = errors.New("auth: change email is disabled")
	ErrEmailIsTheSame       = errors.New("auth: email is the same")
	ErrDeleteUserDisabled   = errors.New("auth: delete user is disabled")
	ErrSessionExpired       = errors.New("auth: session too old for this action")
	ErrInvalidUser          = errors.New("auth: token belongs to another user")
)

// EmailConfig holds Better-Auth's emailVerification, user.changeEmail and user.deleteUser options
// plus how mail is sent.
type EmailConfig struct {
	// APIURL is the public base of the auth API (BETTER_AUTH_URL + "/api/auth"); links start here.
	APIURL string
	// Secret signs verification tokens (the same secret as cookies, as in Better-Auth).
	Secret []byte
	// Sender delivers mail; Templates renders it.
	Sender    mail.Sender
	Templates *mail.Templates
	// SendTimeout bounds one delivery (default 10 s). Mail is sent after the response is decided,
	// so a slow or dead SMTP server never delays an answer nor changes it, except where
	// Better-Auth's answer waits on the send (magic-link's sign-in, through
	// plugin.Host.DeliverLink), which waits at most this long.
	SendTimeout time.Duration
	Logger      *slog.Logger

	// SendOnSignUp mails a verification link after sign-up (default: RequireEmailVerification).
	SendOnSignUp *bool
	// SendOnSignIn mails a fresh link when an unverified user is refused sign-in.
	SendOnSignIn bool
	// AutoSignInAfterVerification signs the user in when they follow the link.
	AutoSignInAfterVerification bool
	// VerificationExpiresIn is the verification link lifetime (default 1 h).
	VerificationExpiresIn time.Duration
	// ResetPasswordExpiresIn is the reset link lifetime (default 1 h).
	ResetPasswordExpiresIn time.Duration
	// RevokeSessionsOnPasswordReset signs the user out everywhere when the password is reset.
	RevokeSessionsOnPasswordReset bool

	// ChangeEmailEnabled turns on change-email.
	ChangeEmailEnabled bool
	// ChangeEmailWithoutVerification lets an unverified user switch email at once.
	ChangeEmailWithoutVerification bool
	// ChangeEmailConfirmation first asks the current (verified) address to approve the change.
	ChangeEmailConfirmation bool

	// DeleteUserEnabled turns on delete-user.
	DeleteUserEnabled bool
	// DeleteUserVerification mails a confirmation link instead of deleting at once.
	DeleteUserVerification bool
	// DeleteTokenExpiresIn is the deletion link lifetime (default 24 h).
	DeleteTokenExpiresIn time.Duration
}

// mailer sends rendered messages in the background and lets shutdown wait for them.
type mailer struct {
	cfg     EmailConfig
	log     *slog.Logger
	pending sync.WaitGroup
	// queued holds a place for every background job waiting or running, running one for every job
	// running; both bound what a flood of requests can pile up.
	queued, running chan struct{}
}

// Bounds of mailer.background: jobs waiting or running at once, and jobs running at once.
const (
	maxQueuedJobs  = 1024
	maxRunningJobs = 8
)

func newMailer(cfg EmailConfig) *mailer {
	return &mailer{cfg: cfg, log: cfg.Logger, queued: make(chan struct{}, maxQueuedJobs), running: make(chan struct{}, maxRunningJobs)}
}

// background runs job after the caller has answered, so that the answer's timing does not depend
// on the job's work (database writes, rendering). Shutdown waits for it like for mail. Beyond
// maxQueuedJobs waiting jobs a new one is dropped and logged (as kind) rather than held in memory.
func (m *mailer) background(kind string, job func(ctx context.Context)) {
	select {
	case m.queued <- struct{}{}:
	default:
		m.log.Error("mail job dropped: queue full", slog.String("kind", kind))
		return
	}
	m.pending.Add(1)
	go func() {
		defer m.pending.Done()
		defer func() { <-m.queued }()
		m.running <- struct{}{}
		defer func() { <-m.running }()
		ctx, cancel := context.WithTimeout(context.Background(), 2*m.cfg.SendTimeout)
		defer cancel()
		job(ctx)
	}()
}

// deliver renders a message and sends it without holding up the caller. Failures are logged with
// the recipient and kind only: links and tokens never reach the log.
func (m *mailer) deliver(kind, to string, d mail.Data) { m.deliverThen(kind, to, d, nil) }

// deliverThen is deliver that runs failed, when not nil, after a failed send (or a message that
// could not be rendered), with a fresh context bounded like a send, so the caller can withdraw
// what the message carried.
func (m *mailer) deliverThen(kind, to string, d mail.Data, failed func(ctx context.Context)) {
	if m.cfg.Sender == nil || m.cfg.Templates == nil {
		m.log.Warn("mail not sent: no sender configured", slog.String("kind", kind))
		return
	}
	msg, err := m.cfg.Templates.Render(kind, to, d)
	if err != nil {
		m.log.Error("mail not rendered", slog.String("kind", kind), slog.String("error", err.Error()))
		m.afterFailure(failed)
		return
	}
	m.pending.Add(1)
	go func() {
		defer m.pending.Done()
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.SendTimeout)
		defer cancel()
		if err := m.cfg.Sender.Send(ctx, msg); err != nil {
			m.log.Error("mail delivery failed", slog.String("kind", kind), slog.String("to", to), slog.String("error", err.Error()))
			m.afterFailure(failed)
		}
	}()
}

// afterFailure runs a delivery's failure callback on a context of its own: the send's may have
// ended with the failure (a timeout).
func (m *mailer) afterFailure(failed func(ctx context.Context)) {
	if failed == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.SendTimeout)
	defer cancel()
	failed(ctx)
}

// deliverNow renders a message and sends it before returning, bounded by the send timeout and
// ctx. A failure is logged like deliver's (recipient, kind and reason; never the message) and
// returned. Without a sender there is nothing to wait for: a warning, and nil.
func (m *mailer) deliverNow(ctx context.Context, kind, to string, d mail.Data) error {
	if m.cfg.Sender == nil || m.cfg.Templates == nil {
		m.log.Warn("mail not sent: no sender configured", slog.String("kind", kind))
		return nil
	}
	msg, err := m.cfg.Templates.Render(kind, to, d)
	if err != nil {
		m.log.Error("mail not rendered", slog.String("kind", kind), slog.String("error", err.Error()))
		return err
	}
	// The send outlives a client that hung up, so what the answer would have said holds.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.SendTimeout)
	defer cancel()
	if err := m.cfg.Sender.Send(ctx, msg); err != nil {
		m.log.Error("mail delivery failed", slog.String("kind", kind), slog.String("to", to), slog.String("error", err.Error()))
		return err
	}
	return nil
}

// WaitForMail blocks until mail being sent has been handed over (or failed), or ctx ends. Shutdown
// calls it so no message is lost when the process stops.
func (s *Service) WaitForMail(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.mail.pending.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) link(path string, q url.Values) string {
	return s.email.APIURL + path + "?" + q.Encode()
}

// verificationToken mints a Better-Auth email-verification JWT.
func (s *Service) verificationToken(email, updateTo, requestType, userID string) string {
	now := s.cfg.Now()
	return signJWT(s.email.Secret, verificationClaims{
		Email: NormalizeEmail(email), UpdateTo: NormalizeEmail(updateTo), RequestType: requestType, UserID: userID,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(s.email.VerificationExpiresIn).Unix(),
	})
}

// verifyLink builds ${APIURL}/verify-email?token=…&callbackURL=… (callbackURL "/" when none).
func (s *Service) verifyLink(token, callbackURL string) string {
	if callbackURL == "" {
		callbackURL = "/"
	}
	return s.email.APIURL + "/verify-email?token=" + token + "&callbackURL=" + url.QueryEscape(callbackURL)
}

func (s *Service) sendVerification(u *store.User, callbackURL string) {
	for _, p := range s.plugins {
		if h := p.Hooks.VerificationEmail; h != nil {
			email := u.Email
			s.mail.background("verify-email", func(ctx context.Context) {
				if err := h(ctx, s, email); err != nil {
					s.mail.log.Error("verification mail not sent", slog.String("plugin", p.ID), slog.String("error", err.Error()))
				}
			})
			return
		}
	}
	tok := s.verificationToken(u.Email, "", "", u.ID)
	s.mail.deliver("verify-email", u.Email, mail.Data{URL: s.verifyLink(tok, callbackURL), Email: u.Email, ExpiresIn: s.email.VerificationExpiresIn})
}

// SendVerificationEmail mails a verification link. Signed in, the email must be the caller's and
// not yet verified. Signed out, the answer is always success and takes at least 500 ms, whether or
// not the address exists or is verified, so it cannot be used to learn which accounts exist.
func (s *Service) SendVerificationEmail(ctx context.Context, caller *store.User, email, callbackURL string) error {
	if caller != nil {
		if NormalizeEmail(caller.Email) != NormalizeEmail(email) {
			return ErrEmailMismatch
		}
		if caller.EmailVerified {
			return ErrEmailAlreadyVerified
		}
		s.sendVerification(caller, callbackURL)
		return nil
	}
	floor := time.NewTimer(500 * time.Millisecond)
	defer floor.Stop()
	u, err := s.st.UserByEmail(ctx, NormalizeEmail(email))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if u != nil && !u.EmailVerified {
		s.sendVerification(u, callbackURL)
	} else {
		_ = s.verificationToken(email, "", "", "")
	}
	select {
	case <-floor.C:
	case <-ctx.Done():
	}
	return nil
}

// VerifyResult is what following a verification link did.
type VerifyResult struct {
	// User is set for the email-change steps that Better-Auth answers with the user.
	User *store.User
	// SignIn is the auto sign-in after verification, to be answered like any sign-in.
	SignIn *plugin.SignIn
	// Refresh asks the caller to re-issue the current session cookie (the user changed).
	Refresh bool
	// NoUser marks the answer that has no user key at all (the confirmation step of an email
	// change answers {"status":true} in Better-Auth).
	NoUser bool
}

// MailGate is asked right before a request sends mail that its caller could repeat at will (the
// web layer's mail rate limit). A non-nil error stops the request before it changes anything and
// is returned unchanged.
type MailGate func(ctx context.Context) error

// Check runs the gate; a nil gate lets everything through.
func (g MailGate) Check(ctx context.Context) error {
	if g == nil {
		return nil
	}
	return g(ctx)
}

// VerifyEmail follows a verification link: it marks the email verified, or carries out a step of
// an email change. current is the caller's session, if any; gate is asked before a step that
// mails. The approval link of an email change works once (Better-Auth's JWT would work until it
// expires). Errors are ErrInvalidToken, ErrTokenExpired, ErrUserNotFound, ErrInvalidUser and
// whatever gate returns. incoming is the request, for the plugins' hooks on the auto sign-in.
func (s *Service) VerifyEmail(ctx context.Context, token, callbackURL string, current *session.Auth, meta session.Meta, gate MailGate, incoming plugin.Incoming) (*VerifyResult, error) {
	secrets := [][]byte{s.email.Secret}
	if s.sessions != nil {
		secrets = append(secrets, s.sessions.Keys().Verifiers()...)
	}
	c, err := verifyJWT(secrets, token, s.cfg.Now())
	switch {
	case errors.Is(err, errTokenExpired):
		return nil, ErrTokenExpired
	case err != nil:
		return nil, ErrInvalidToken
	case !ValidEmail(c.Email):
		return nil, ErrInvalidToken
	}
	if c.UpdateTo != "" {
		return s.verifyEmailChange(ctx, token, c, callbackURL, current, gate)
	}
	u, err := s.st.UserByEmail(ctx, c.Email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, err
	}
	if c.UserID != "" && c.UserID != u.ID {
		return nil, ErrInvalidToken
	}
	if u.EmailVerified {
		return &VerifyResult{}, nil
	}
	err = s.Audited(ctx, plugin.AuditEvent{Event: "email-verified", UserID: u.ID}, func(ctx context.Context) error {
		u, err = s.st.UpdateUser(ctx, u.ID, map[string]any{"emailVerified": true}, s.now())
		if err == nil {
			s.sessions.ForgetUser(ctx, u.ID)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &VerifyResult{}
	if s.email.AutoSignInAfterVerification {
		if current == nil || current.User.Email != c.Email {
			// Better-Auth's last-login-method names no method for this path.
			res.SignIn, err = s.CompleteSignIn(ctx, nil, SignInRequest{User: *u, Meta: meta, Incoming: incoming})
			if err != nil {
				return nil, err
			}
		} else {
			res.Refresh = true
		}
	}
	return res, nil
}

func (s *Service) verifyEmailChange(ctx context.Context, token string, c *verificationClaims, callbackURL string, current *session.Auth, gate MailGate) (*VerifyResult, error) {
	if c.UserID == "" {
		return nil, ErrInvalidToken
	}
	u, err := s.st.UserByID(ctx, c.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, err
	}
	if NormalizeEmail(u.Email) != c.Email {
		// The account's email changed since the link was sent: the link is spent.
		return nil, ErrInvalidToken
	}
	if current != nil && current.User.ID != u.ID {
		return nil, ErrInvalidUser
	}
	switch c.RequestType {
	case "change-email-confirmation":
		// The current address approved the change; now prove the new one. The approval link is
		// spent here, so one link mails the new address once, not once per click.
		if err := gate.Check(ctx); err != nil {
			return nil, err
		}
		// A token without exp (none of ours) stays valid, so its mark must stay too.
		until := time.Unix(c.ExpiresAt, 0)
		if c.ExpiresAt == 0 {
			until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		sum := sha256.Sum256([]byte(token))
		fresh, err := s.st.SpendLink(ctx, hex.EncodeToString(sum[:]), store.NewTime(until), s.now())
		if err != nil {
			return nil, err
		}
		if !fresh {
			return nil, ErrInvalidToken
		}
		tok := s.verificationToken(u.Email, c.UpdateTo, "change-email-verification", u.ID)
		s.mail.deliver("verify-email", c.UpdateTo, mail.Data{URL: s.verifyLink(tok, callbackURL), Email: c.UpdateTo,
			AccountEmail: u.Email, ExpiresIn: s.email.VerificationExpiresIn})
		return &VerifyResult{NoUser: true}, nil
	case "change-email-verification":
		updated, err := s.changeEmailTo(ctx, u.ID, map[string]any{"email": c.UpdateTo, "emailVerified": u.EmailVerified})
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrInvalidToken
		}
		if err != nil {
			return nil, err
		}
		return &VerifyResult{User: updated, Refresh: current != nil}, nil
	default:
		// Better-Auth's legacy one-step change: switch now, then verify the new address.
		if err := gate.Check(ctx); err != nil {
			return nil, err
		}
		updated, err := s.changeEmailTo(ctx, u.ID, map[string]any{"email": c.UpdateTo, "emailVerified": false})
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrInvalidToken
		}
		if err != nil {
			return nil, err
		}
		tok := s.verificationToken(updated.Email, "", "", updated.ID)
		s.mail.deliver("verify-email", updated.Email, mail.Data{URL: s.verifyLink(tok, callbackURL), Email: updated.Email,
			AccountEmail: u.Email, ExpiresIn: s.email.VerificationExpiresIn})
		return &VerifyResult{User: updated, Refresh: current != nil}, nil
	}
}

// changeEmailTo writes a user's new address (cols: email and maybe emailVerified) together with
// what must go with it, in one transaction: the note that the account took this address through
// change-email (which stops implicit social linking to it, see Social.handleUserInfo), and the
// end of every reset token sent to the old address. The session cache forgets the user after.
func (s *Service) changeEmailTo(ctx context.Context, userID string, cols map[string]any) (*store.User, error) {
	now := s.now()
	var updated *store.User
	err := s.st.Atomic(ctx, func(ctx context.Context) error {
		tx := s.st // joins the transaction ctx now carries, as does every call made with ctx
		var err error
		if updated, err = tx.UpdateUser(ctx, userID, cols, now); err != nil {
			return err
		}
		if err := tx.RecordEmailChange(ctx, userID, updated.Email, now); err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, plugin.AuditEvent{Event: "email-change", UserID: userID,
			Detail: map[string]any{"verified": updated.EmailVerified}}); err != nil {
			return err
		}
		return tx.DeleteResetTokens(ctx, userID)
	})
	if err != nil {
		return nil, err
	}
	s.sessions.ForgetUser(ctx, userID)
	return updated, nil
}

// ResetMessage is Better-Auth's answer to request-password-reset, the same for every address.
const ResetMessage = "If this email exists in our system, check your email for the reset link"

// RequestPasswordReset stores a single-use reset token, ends the user's older ones, and mails the
// link. Before it answers it does the same work whether or not the address has an account (one
// user lookup): storing the token and rendering the mail happen in the background afterwards, so
// the answer's timing does not tell which addresses exist.
func (s *Service) RequestPasswordReset(ctx context.Context, email, redirectTo string) error {
	u, err := s.st.UserByEmail(ctx, NormalizeEmail(email))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if u == nil {
		return nil
	}
	// The request's time orders the tokens: the newest request's token is the one that stays.
	now := s.now()
	s.mail.background("reset-password", func(ctx context.Context) {
		token := session.RandomString(24)
		v := &store.Verification{ID: session.NewID(), Identifier: "reset-password:" + token, Value: u.ID,
			ExpiresAt: store.NewTime(now.Add(s.email.ResetPasswordExpiresIn)), CreatedAt: now, UpdatedAt: now}
		if err := s.st.CreateVerification(ctx, v); err != nil {
			s.mail.log.Error("reset token not stored; no mail sent", slog.String("error", err.Error()))
			return
		}
		if err := s.st.KeepNewestResetToken(ctx, u.ID); err != nil {
			s.mail.log.Error("older reset tokens not ended", slog.String("error", err.Error()))
		}
		link := s.email.APIURL + "/reset-password/" + token + "?callbackURL=" + url.QueryEscape(redirectTo)
		s.mail.deliver("reset-password", u.Email, mail.Data{URL: link, Email: u.Email, ExpiresIn: s.email.ResetPasswordExpiresIn})
	})
	return nil
}

// CheckResetToken reports whether a reset token is live, without using it up (the emailed link
// first lands here and forwards the browser to the app's reset form).
func (s *Service) CheckResetToken(ctx context.Context, token string) error {
	_, err := s.st.FindVerification(ctx, "reset-password:"+token, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	}
	return err
}

// ResetPassword sets a new password with a reset token. The token is consumed, the user's other
// reset tokens ended, the password written and (if configured) every session revoked in one
// transaction: a failure leaves all of it unchanged and the token usable.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) error {
	if token == "" {
		return ErrInvalidToken
	}
	if err := s.checkNewPassword(newPassword); err != nil {
		return err
	}
	id := "reset-password:" + token
	v, err := s.st.FindVerification(ctx, id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return err
	}
	if _, err := s.st.UserByID(ctx, v.Value); errors.Is(err, store.ErrNotFound) {
		return ErrUserNotFound
	} else if err != nil {
		return err
	}
	return s.ResetUserPassword(ctx, v.Value, newPassword, func(ctx context.Context, tx *store.Store) error {
		// The token is used, and any other reset link the user still has dies with it.
		live, err := tx.ConsumeResetToken(ctx, v.Value, id, s.now())
		if err != nil {
			return err
		}
		if !live {
			return ErrInvalidToken
		}
		return nil
	})
}

// ResetUserPassword implements plugin.Host; the core's reset-password is its first user.
func (s *Service) ResetUserPassword(ctx context.Context, userID, newPassword string, consume func(ctx context.Context, tx *store.Store) error) error {
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	err = s.st.Atomic(ctx, func(ctx context.Context) error {
		tx := s.st // joins the transaction ctx now carries, as does every call made with ctx
		if err := consume(ctx, tx); err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, plugin.AuditEvent{Event: "password-reset", UserID: userID}); err != nil {
			return err
		}
		if s.email.RevokeSessionsOnPasswordReset {
			if err := s.sessions.RevokeAll(ctx, tx, userID); err != nil {
				return err
			}
		}
		acct, err := tx.CredentialAccount(ctx, userID)
		if errors.Is(err, store.ErrNotFound) {
			now := s.now()
			return tx.CreateAccount(ctx, &store.Account{ID: session.NewID(), AccountID: userID, ProviderID: store.CredentialProvider,
				UserID: userID, Password: &hash, CreatedAt: now, UpdatedAt: now})
		}
		if err != nil {
			return err
		}
		return tx.SetAccountPassword(ctx, acct.ID, hash, s.now())
	})
	if err == nil && s.email.RevokeSessionsOnPasswordReset {
		s.sessions.ForgetUser(ctx, userID)
	}
	return err
}

// ChangeEmailResult says whether the session cookie must be re-issued (the email changed at once).
type ChangeEmailResult struct{ Changed bool }

// ChangeEmail starts an email change for the signed-in user, following Better-Auth 1.7.25: an
// unverified user may switch at once when allowed; a verified user first confirms from the current
// address when confirmation is on; otherwise the new address gets the verification link. An address
// taken by someone else answers success too, so the endpoint does not reveal which emails exist.
func (s *Service) ChangeEmail(ctx context.Context, u *store.User, newEmail, callbackURL string) (*ChangeEmailResult, error) {
	if !s.email.ChangeEmailEnabled {
		return nil, ErrChangeEmailDisabled
	}
	newEmail = NormalizeEmail(newEmail)
	if newEmail == u.Email {
		return nil, ErrEmailIsTheSame
	}
	if _, err := s.st.UserByEmail(ctx, newEmail); err == nil {
		_ = s.verificationToken(u.Email, newEmail, "", u.ID)
		return &ChangeEmailResult{}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	switch {
	case !u.EmailVerified && s.email.ChangeEmailWithoutVerification:
		if _, err := s.changeEmailTo(ctx, u.ID, map[string]any{"email": newEmail}); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &ChangeEmailResult{}, nil
			}
			return nil, err
		}
		tok := s.verificationToken(newEmail, "", "", u.ID)
		s.mail.deliver("verify-email", newEmail, mail.Data{URL: s.verifyLink(tok, callbackURL), Email: newEmail,
			AccountEmail: u.Email, ExpiresIn: s.email.VerificationExpiresIn})
		return &ChangeEmailResult{Changed: true}, nil
	case u.EmailVerified && s.email.ChangeEmailConfirmation:
		tok := s.verificationToken(u.Email, newEmail, "change-email-confirmation", u.ID)
		s.mail.deliver("change-email", u.Email, mail.Data{URL: s.verifyLink(tok, callbackURL), Email: u.Email, NewEmail: newEmail, ExpiresIn: s.email.VerificationExpiresIn})
		return &ChangeEmailResult{}, nil
	default:
		tok := s.verificationToken(u.Email, newEmail, "change-email-verification", u.ID)
		s.mail.deliver("verify-email", newEmail, mail.Data{URL: s.verifyLink(tok, callbackURL), Email: newEmail,
			AccountEmail: u.Email, ExpiresIn: s.email.VerificationExpiresIn})
		return &ChangeEmailResult{}, nil
	}
}

// DeleteOutcome is what delete-user did.
type DeleteOutcome int

// The outcomes of DeleteUser.
const (
	UserDeleted DeleteOutcome = iota
	DeleteEmailSent
)

// DeleteUserInput is a delete-user request. MailGate is asked before the confirmation mail is sent.
type DeleteUserInput struct {
	Password    *string
	Token       string
	CallbackURL string
	MailGate    MailGate
}

// DeleteUser deletes the signed-in user's account, as Better-Auth 1.7.25 allows: with the
// password, with an emailed token, by mailing a confirmation link (when configured), or with a
// session fresh enough. Deleting removes the user and everything kept for them in one transaction.
func (s *Service) DeleteUser(ctx context.Context, a *session.Auth, in DeleteUserInput) (DeleteOutcome, []string, error) {
	if !s.email.DeleteUserEnabled {
		return 0, nil, ErrDeleteUserDisabled
	}
	if in.Password != nil && *in.Password != "" {
		if err := s.checkNotTooLong(*in.Password); err != nil {
			return 0, nil, err
		}
		acct, err := s.st.CredentialAccount(ctx, a.User.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (acct.Password == nil || *acct.Password == "")) {
			return 0, nil, ErrCredentialAccountNotFound
		}
		if err != nil {
			return 0, nil, err
		}
		ok, err := s.hasher.Verify(ctx, *acct.Password, *in.Password)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			return 0, nil, ErrInvalidPassword
		}
	}
	if in.Token != "" {
		tokens, err := s.DeleteUserWithToken(ctx, a.User.ID, in.Token)
		return UserDeleted, tokens, err
	}
	if s.email.DeleteUserVerification {
		if err := in.MailGate.Check(ctx); err != nil {
			return 0, nil, err
		}
		token := randomLowerAlnum(32)
		now := s.now()
		v := &store.Verification{ID: session.NewID(), Identifier: "delete-account-" + token, Value: a.User.ID,
			ExpiresAt: store.NewTime(now.Add(s.email.DeleteTokenExpiresIn)), CreatedAt: now, UpdatedAt: now}
		if err := s.st.CreateVerification(ctx, v); err != nil {
			return 0, nil, err
		}
		cb := in.CallbackURL
		if cb == "" {
			cb = "/"
		}
		link := s.email.APIURL + "/delete-user/callback?token=" + token + "&callbackURL=" + url.QueryEscape(cb)
		s.mail.deliver("delete-account", a.User.Email, mail.Data{URL: link, Email: a.User.Email, ExpiresIn: s.email.DeleteTokenExpiresIn})
		return DeleteEmailSent, nil, nil
	}
	if (in.Password == nil || *in.Password == "") && !s.sessions.IsFresh(&a.Session) {
		return 0, nil, ErrSessionExpired
	}
	method := "password"
	if in.Password == nil || *in.Password == "" {
		method = "fresh-session"
	}
	tokens, err := s.deleteUser(ctx, a.User.ID, plugin.AuditEvent{Event: "user-deleted", UserID: a.User.ID, SessionID: a.Session.ID,
		Detail: map[string]any{"method": method}})
	return UserDeleted, tokens, err
}

// deleteUser deletes the user (sessions, accounts and the rest cascade) and records ev in the
// same transaction; it returns the deleted sessions' tokens.
func (s *Service) deleteUser(ctx context.Context, userID string, ev plugin.AuditEvent) ([]string, error) {
	var tokens []string
	err := s.Audited(ctx, ev, func(ctx context.Context) error {
		var err error
		if tokens, err = s.st.DeleteUser(ctx, userID); err == nil {
			s.sessions.ForgetUser(ctx, userID)
		}
		return err
	})
	return tokens, err
}

// DeleteUserEnabled reports whether account deletion is switched on.
func (s *Service) DeleteUserEnabled() bool { return s.email.DeleteUserEnabled }

// DeleteUserWithToken consumes an emailed deletion token and, if it was this user's, deletes the
// account. As in Better-Auth the token is spent even when someone else presents it, so a leaked
// link cannot be probed and then used.
func (s *Service) DeleteUserWithToken(ctx context.Context, userID, token string) ([]string, error) {
	if !s.email.DeleteUserEnabled {
		return nil, ErrDeleteUserDisabled
	}
	v, err := s.st.ConsumeVerification(ctx, "delete-account-"+token, s.now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && v.Value != userID) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	return s.deleteUser(ctx, userID, plugin.AuditEvent{Event: "user-deleted", UserID: userID, Detail: map[string]any{"method": "email-link"}})
}

// randomLowerAlnum returns n characters of [0-9a-z], the alphabet of Better-Auth's delete tokens.
func randomLowerAlnum(n int) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	s := []byte(session.RandomString(n * 2))
	out := make([]byte, 0, n)
	for _, c := range s {
		// Map the 62-letter alphabet onto 36 letters without bias: keep the 36 that map one to one.
		switch {
		case c >= '0' && c <= '9':
			out = append(out, c)
		case c >= 'a' && c <= 'z':
			out = append(out, alphabet[10+c-'a'])
		}
		if len(out) == n {
			return string(out)
		}
	}
	return string(out) + randomLowerAlnum(n-len(out))
}
