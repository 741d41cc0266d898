// Package plugin is the contract between the server's core and the Better-Auth plugins it
// implements: what a plugin contributes (endpoints, error kinds, hooks into the sign-in path) in
// terms that need no web framework, so package web stays the only adapter to HTTP.
//
// It imports only session and store. Plugin packages (auth/lastloginmethod, …) import it and
// auth; auth runs the hooks, web mounts the endpoints and writes the answers.
package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"authserver/auth/atrest"
	"authserver/session"
	"authserver/store"
)

// Plugin is one enabled Better-Auth plugin. A plugin that is not enabled is not built at all, so
// it adds no route, no cookie and no column.
type Plugin struct {
	// ID is Better-Auth's name for the plugin, as written in BETTER_AUTH_PLUGINS
	// ("last-login-method").
	ID string
	// Endpoints are mounted under the auth base path next to the core endpoints and pass the same
	// request stages (body parsing, origin check, schema, session check) before Handle runs.
	Endpoints []Endpoint
	// Hooks join the sign-in path that every way of signing in ends in.
	Hooks Hooks
	// UserFields and SessionFields are the columns the plugin adds to the user and session rows
	// (Better-Auth's plugin schema), printed after the core fields in every body that carries the
	// row. Install registers them; Migrations must create them.
	UserFields, SessionFields []store.Field
	// RateLimits replace the server's built-in rate-limit rule for the paths they match, as a
	// Better-Auth plugin's rateLimit does; the operator's RATE_LIMIT_RULES still win.
	RateLimits []RateLimit
	// Migrations add the plugin's columns, named "<ID>/<number>_<what>" and run once each, after
	// the core migrations (store.MigratePlugins).
	Migrations []store.PluginMigration
}

// RateLimit is one rule of Plugin.RateLimits: requests from one client address to a path Match
// accepts (the path below the auth base path, lower-cased) count against Max per Window.
type RateLimit struct {
	Match  func(path string) bool
	Window time.Duration
	Max    int
}

// Install prepares the store for the enabled plugins: it runs their migrations and registers
// their fields, in the order the plugins were enabled. It must run at startup, after the core
// migrations and before the store is handed to the session manager or the web server. A plugin
// that is not enabled is not passed, so it adds no column and no field; its columns from an
// earlier run stay as they are.
func Install(ctx context.Context, st *store.Store, ps []Plugin) error {
	var ms []store.PluginMigration
	var user, sess []store.Field
	for _, p := range ps {
		ms = append(ms, p.Migrations...)
		user = append(user, p.UserFields...)
		sess = append(sess, p.SessionFields...)
	}
	if err := st.MigratePlugins(ctx, ms); err != nil {
		return err
	}
	if len(user) == 0 && len(sess) == 0 {
		return nil
	}
	return st.RegisterFields(user, sess)
}

// Hooks are the plugin's places in the sign-in path. Nil hooks are skipped. Hooks of several
// plugins run in the order the plugins were enabled.
type Hooks struct {
	// BeforeSession runs once the user is known and before the session is created; an error
	// (typically an *Error) refuses the sign-in and no session is created. db is the database the
	// session will be written in (a sign-up's transaction), for the hook's own writes.
	BeforeSession func(ctx context.Context, db *store.Store, u *store.User, method string) error
	// AfterSession runs after the session is created; it may add cookies to the answer. An error
	// fails the sign-in answer (the session already exists). It also runs for a sign-in a
	// Challenge hook stopped, with SignIn.Challenge set and no session: a hook that acts on the
	// new session must return at once then; cookies it adds join the challenge answer.
	AfterSession func(ctx context.Context, s *SignIn) error
	// UserValues gives the values of the plugin's user fields for a sign-in by method (nil or
	// empty: none), as Better-Auth's user-create and session-create database hooks set them.
	// They are written into the user a sign-up or first social sign-in creates, and set again on
	// the user once the session exists (bumping updatedAt); the sign-in answer's user is the one
	// read before, as in Better-Auth.
	UserValues func(method string) map[string]store.Value
	// UserInput runs on the core paths that take user fields from the body, sign-up and
	// update-user, before anything is written: it checks the plugin's own fields in the body and
	// returns the values to store (nil or empty: none). An error (typically an *Error) refuses the
	// request. st is the database, for checks such as uniqueness.
	UserInput func(ctx context.Context, st *store.Store, in UserInput) (map[string]store.Value, error)
	// Challenge runs on password sign-ins only (Attempt.Password: e-mail, username, later phone
	// number), after BeforeSession and before the session is created, so a second factor can stand
	// between the password and the session. A non-nil *Challenge is the answer instead of a
	// session: no session is created, the later Challenge hooks do not run, and the answer is
	// Challenge.Body with status 200, the session cookies expired and Challenge.Cookies set. A nil
	// Challenge lets the sign-in go on; cookies the hook appends to Attempt.Cookies (a rotated
	// trusted-device cookie) are carried into the sign-in answer. An error refuses the sign-in.
	Challenge func(ctx context.Context, a *Attempt) (*Challenge, error)
	// VerificationEmail, when set, replaces the core's verification link: every verification
	// mail the core would send (after sign-up, to an unverified user refused sign-in, from
	// /send-verification-email) becomes this call, run in the background after the answer, as
	// Better-Auth lets a plugin take over emailVerification.sendVerificationEmail (e-mail OTP's
	// overrideDefaultEmailVerification). The first enabled plugin's hook wins; an error is logged.
	VerificationEmail func(ctx context.Context, h Host, email string) error
	// SignedUp runs in the background after every e-mail sign-up answer that names a user, a
	// duplicate's look-alike answer included (Better-Auth's after hooks on /sign-up see only the
	// answer), with the answer's (normalized) address: email-otp's sendVerificationOnSignUp. An
	// error is logged.
	SignedUp func(ctx context.Context, h Host, email string) error
	// SessionCookieHeaders runs wherever an answer writes the session cookie (a sign-in or
	// sign-up, a refresh, a session handed over; not a challenged sign-in), where Better-Auth's
	// after hooks see ctx.context.newSession (one-time-token's set-ott). The headers it returns
	// are set on the answer and exposed to scripts (Access-Control-Expose-Headers); an error is
	// logged and adds nothing. SessionHeaders, by contrast, serves GET /get-session alone.
	SessionCookieHeaders func(ctx context.Context, h Host, sessionToken string) ([]Header, error)
	// ListSessions filters the sessions the core GET /list-sessions prints (admin hides
	// impersonation sessions); it returns the ones to keep, in order.
	ListSessions func(st *store.Store, sessions []store.Session) []store.Session
	// SessionHeaders runs when GET /get-session answers a session (not when it answers null),
	// as Better-Auth's after-hooks on /get-session: the headers it returns are set on the answer
	// and added to Access-Control-Expose-Headers so browser scripts can read them (jwt's
	// set-auth-jwt). An error fails the answer.
	SessionHeaders func(ctx context.Context, h Host, a *session.Auth) ([]Header, error)
	// SignOut runs on POST /sign-out after the core has deleted the caller's session (if any) and
	// expired the session cookies, as Better-Auth's after-hooks matching "/sign-out" do; in reads
	// the request's cookies. The cookies it returns are set on the answer after the core's
	// (multi-session expires its per-session cookies and deletes those sessions). An error fails
	// the answer.
	SignOut func(ctx context.Context, h Host, in Incoming) ([]Cookie, error)
	// SessionCookie runs whenever an answer sets the session cookie for a session: after every
	// sign-in, on plugin answers that hand the browser an existing session (Response.SignIn:
	// multi-session's set-active, one-time-token's verify) and when reading the caller's session
	// refreshes it, as Better-Auth's after-hooks that act on ctx.context.newSession, which its
	// setSessionCookie sets. in reads the request; the cookies it returns are set after the
	// answer's session cookie. It does not run for a challenged sign-in (no session). An error is
	// logged and the hook's cookies are left out, since the session is already the browser's.
	SessionCookie func(ctx context.Context, h Host, in Incoming, s *store.Session, u *store.User) ([]Cookie, error)
	// RequestSession lets a request authenticate by something other than the session cookie or
	// bearer token (api-key's x-api-key header), as a Better-Auth plugin's before-hook that sets
	// ctx.context.session does. It runs first wherever the server reads the caller's session
	// (get-session, endpoints that need a session, /content/*; not Incoming.Session, which must
	// not write): a nil Auth and nil error leave
	// the request to the cookie and bearer; an Auth is the caller's session (nothing is
	// refreshed, no cookie written); an error (typically an *Error) refuses the request. The
	// first enabled plugin that answers wins.
	RequestSession func(ctx context.Context, h Host, r *http.Request) (*session.Auth, error)
	// Invalidated hears every invalidation the session cache hears (session.InvalidationObserver:
	// this instance's own and, on PostgreSQL, every instance's through store.SessionChannel),
	// for a plugin that keeps its own cache of credentials which must drop at once.
	Invalidated session.InvalidationObserver
}

// CookieLister is implemented by the Incoming of an HTTP request, for plugins that act on every
// cookie of a kind the browser holds (multi-session's one cookie per session). It is separate
// from Incoming so fakes of Incoming need not implement it.
type CookieLister interface {
	// CookieNames returns the names of the request's cookies, each once, in the order of their
	// first appearance in the Cookie header, as better-call's cookie parser keys them.
	CookieNames() []string
}

// CookieNames returns in's cookie names (CookieLister), none when in is nil or cannot list them.
func CookieNames(in Incoming) []string {
	if l, ok := in.(CookieLister); ok {
		return l.CookieNames()
	}
	return nil
}

// Header is a response header a plugin sets (Hooks.SessionHeaders, Hooks.SessionCookieHeaders).
type Header struct {
	Name, Value string
}

// Attempt is a sign-in whose credentials are checked but that has no session yet, as a
// Challenge hook sees it.
type Attempt struct {
	User store.User
	// Method is SignIn.Method.
	Method string
	// Password is true for sign-ins by password, the only ones a Challenge hook may stop.
	Password bool
	// DontRemember is SignIn.DontRemember; a challenge answer for a rememberMe:false sign-in
	// keeps the choice in the dont_remember cookie.
	DontRemember *bool
	Meta         session.Meta
	// Incoming reads the request's cookies and session; nil when the sign-in has no request (tests).
	Incoming Incoming
	// Cookies are added to the answer if the sign-in goes on (see Hooks.Challenge).
	Cookies []Cookie
	// Host is the server.
	Host Host
}

// Challenge answers a sign-in that needs one more step before it gets a session.
type Challenge struct {
	// Body is written as JSON with status 200 (two-factor: {"twoFactorRedirect":true,…}).
	Body any
	// Cookies are set after the session cookies are expired.
	Cookies []Cookie
}

// Incoming is what a plugin may read of the request beyond its body.
type Incoming interface {
	// SignedCookie returns the value of the auth cookie name (written "<prefix>.<name>", with
	// __Secure- when cookies are secure), verified against the secret. ok is false when the cookie
	// is absent or its signature does not verify.
	SignedCookie(name string) (value string, ok bool)
	// Cookie returns the cookie with exactly this name, percent-decoded.
	Cookie(name string) (value string, ok bool)
	// Session returns the request's valid session (from the session cookie or a bearer token,
	// read from the database or the in-process cache), nil when it has none. It has no side
	// effects: the session is not refreshed and no cookie is written.
	Session(ctx context.Context) (*session.Auth, error)
	// Path is the request's path below the auth base path ("/sign-up/email",
	// "/callback/google"), the ctx.path Better-Auth's hook matchers test.
	Path() string
	// AllowSend counts one message to recipient (an e-mail address or a phone number) against the
	// server's per-recipient hourly cap; a plugin calls it right before it sends a code or a link
	// on request, and answers the returned error (the rate limiter's 429) as it is. It counts
	// whether or not the message is then sent, so an unknown recipient looks like a known one.
	AllowSend(ctx context.Context, recipient string) error
}

// UserInput is a sign-up or update-user body as a plugin's UserInput hook sees it.
type UserInput struct {
	// Body is the decoded JSON body; the hook must not modify it.
	Body map[string]any
	// UserID is the caller on update-user and empty on sign-up.
	UserID string
}

// Host is what the server offers a plugin's endpoints.
type Host interface {
	// Store is the database, with every enabled plugin's fields registered.
	Store() *store.Store
	// SignInWithPassword checks a password for a user a plugin finds by its own identifier and
	// completes the sign-in as e-mail sign-in does: the same hashing work for an unknown user, a
	// user without a password and a wrong password, the same lockout, busy and too-long checks
	// and the same e-mail-verification refusal.
	SignInWithPassword(ctx context.Context, in PasswordSignIn) (*SignIn, error)
	// FinishSignIn gives a user whose sign-in passed its challenge a session, as the end of any
	// sign-in does: the plugins' BeforeSession and AfterSession hooks run, Challenge hooks do not.
	FinishSignIn(ctx context.Context, in Finish) (*SignIn, error)
	// VerifyPassword checks the user's current password, as Better-Auth's endpoints that ask for
	// it again do: the core's INVALID_PASSWORD error when it is wrong or the user has none (after
	// the same hashing work), PASSWORD_TOO_LONG when it is over the maximum length.
	VerifyPassword(ctx context.Context, userID, password string) error
	// RotateSession replaces old by a new session of user, as Better-Auth does when a change to
	// the account's security must be carried by a fresh session: the new one keeps old's client
	// address and user agent, old is deleted. The answer must carry the returned SignIn (the new
	// session cookie, following the request's dont_remember choice).
	RotateSession(ctx context.Context, old store.Session, user store.User) (*SignIn, error)
	// SetUserFields sets the plugin's user fields on the user (bumping updatedAt) and returns the
	// stored user; sessions cached with the old row forget it, so every instance prints the new
	// values.
	SetUserFields(ctx context.Context, userID string, vals map[string]store.Value) (*store.User, error)
	// Secret is the server's secret (BETTER_AUTH_SECRET), for the plugin's signatures and
	// encryption at rest, which must match Better-Auth's on a shared database.
	Secret() []byte
	// Keys is the server's keyring during a secret rotation (BETTER_AUTH_SECRETS): the current
	// secret seals new values at rest, every version still configured (and the legacy
	// BETTER_AUTH_SECRET) opens old ones, as Better-Auth's secretConfig does.
	Keys() session.Keys
	// Now is the server's clock; tests may set it.
	Now() time.Time
	// SessionExpiresIn is the configured life of a session (SESSION_EXPIRES_IN).
	SessionExpiresIn() time.Duration
	// SendCode mails a one-time code to the address in the background, with the message kind's
	// template ("two-factor-otp"), for endpoints whose answer Better-Auth does not let depend on
	// the delivery (it logs a failed send and answers success). The answer's timing thus says
	// nothing about the address. A failed delivery is logged with the kind, the recipient and the
	// reason, never the code; then failed, when not nil, runs with a context of its own so the
	// plugin can withdraw the code nobody received.
	SendCode(kind, to, code string, expiresIn time.Duration, failed func(ctx context.Context))
	// DeliverLink mails a link to the address with the message kind's template ("magic-link") and
	// waits until the mail server has taken it or refused it (bounded by the mail send timeout),
	// for endpoints whose answer Better-Auth makes wait on the delivery. A failure is logged with
	// the kind, the recipient and the reason, never the link, and returned; the plugin then
	// withdraws what it stored and answers ErrDeliveryFailed. A server without a mail sender
	// (embedded tests) logs a warning and returns nil.
	DeliverLink(ctx context.Context, kind, to, link string, expiresIn time.Duration) error
	// SetSessionFields sets the plugin's session fields on the session with this token (bumping
	// updatedAt, as Better-Auth's updateSession does) and returns the stored session; cached
	// copies are forgotten, so every instance prints the new values. An unknown token is
	// store.ErrNotFound.
	SetSessionFields(ctx context.Context, token string, vals map[string]store.Value) (*store.Session, error)
	// SendMail renders and sends one message now and returns the delivery error, for a plugin
	// whose request must fail when its mail cannot go out (organization's invitation). The mail
	// has no code or secret that may reach a log.
	SendMail(ctx context.Context, m Mail) error
	// ProveEmail is what a sign-in that proves control of the user's mailbox (magic link, e-mail
	// OTP) does to a user whose address is not verified yet, before the session is made, as
	// Better-Auth's revokeUnprovenAccountAccess: every account (password included) and session
	// the user had is removed, and the address is marked verified, so whoever made the account
	// without owning the address keeps no way in. It returns the stored user; a verified user is
	// returned unchanged, an unknown one is store.ErrNotFound.
	ProveEmail(ctx context.Context, userID string) (*store.User, error)
	// Audit records one event in the audit log with the request's client address and user
	// agent, in db when not nil (a transaction, so the row commits with the change it records),
	// else in the transaction of Atomic's context, else in Store(). A failure is returned: inside
	// a transaction it should roll the change back.
	Audit(ctx context.Context, db *store.Store, ev AuditEvent) error
	// Atomic runs fn in one database transaction carried by the context fn receives: every store
	// call and Host method fn makes with that context joins it, so a change and its Audit row
	// commit together or not at all (an error from fn rolls both back). Caches hear of the
	// change after the commit. fn must not keep its context for work after it returns, and
	// should not hash a password (HashPassword first): the transaction would hold its locks,
	// on SQLite the one write lock, for the whole hash.
	Atomic(ctx context.Context, fn func(ctx context.Context) error) error
	// CreateUserAndSignIn creates a user who signs in without a password (anonymous, and later
	// magic link, e-mail OTP, phone number) and signs them in as any sign-in ends: the user row and
	// the session are written in one transaction, and the plugins' hooks run. A taken e-mail
	// address is an error wrapping store.ErrConflict; no user is created then.
	CreateUserAndSignIn(ctx context.Context, in NewUser) (*SignIn, error)
	// RemoveUser deletes a user at once, with their sessions, accounts and verification rows,
	// and forgets their cached sessions; the checks are the caller's. db is the database to write
	// in (SignIn.DB inside a sign-in's hooks), nil for Store(). An unknown user is
	// store.ErrNotFound.
	RemoveUser(ctx context.Context, db *store.Store, userID string) error
	// StartSession gives a known user a session as the end of any sign-in does (BeforeSession
	// and AfterSession hooks run, Challenge hooks do not), with the life and session field values
	// the plugin chooses (admin's impersonation session).
	StartSession(ctx context.Context, in NewSession) (*SignIn, error)
	// RevokeSession deletes one session by token and RevokeUserSessions every session of a
	// user; every instance stops accepting them. Unknown tokens and users are no error.
	RevokeSession(ctx context.Context, token string) error
	RevokeUserSessions(ctx context.Context, userID string) error
	// UpdateUserColumns sets core columns (by column name) and plugin user fields (by name) on the user,
	// bumping updatedAt, and returns the stored user; cached sessions forget the old row. An
	// unknown user is store.ErrNotFound, a taken e-mail address wraps store.ErrConflict.
	UpdateUserColumns(ctx context.Context, userID string, core map[string]any, vals map[string]store.Value) (*store.User, error)
	// CheckPassword applies the core's password length rules to a new password: PASSWORD_TOO_LONG
	// over the maximum and, when minimum is true, PASSWORD_TOO_SHORT under the minimum.
	CheckPassword(password string, minimum bool) error
	// HashPassword hashes a password as sign-up stores it (the credential account's password).
	HashPassword(ctx context.Context, password string) (string, error)
	// ResetUserPassword sets the user's password as the core's reset-password does, after the
	// caller checked its length: in one transaction consume runs (it spends the caller's proof,
	// and its error aborts everything), every session is revoked when the server revokes
	// sessions on reset, and the credential account gets the new hash (created when the user
	// had none).
	ResetUserPassword(ctx context.Context, userID, password string, consume func(ctx context.Context, tx *store.Store) error) error
}

// Mail is a message a plugin sends with Host.SendMail: Kind names the template
// ("organization-invitation"), To the recipient; the other fields are the template's data.
type Mail struct {
	Kind, To, URL string
	// Organization, Inviter (a name), InviterEmail and Role describe an invitation.
	Organization, Inviter, InviterEmail, Role string
	ExpiresIn                                 time.Duration
}

// NewSession is a session a plugin starts for a user (Host.StartSession).
type NewSession struct {
	User store.User
	// ExpiresIn is the session's life; zero is the configured one.
	ExpiresIn time.Duration
	// Values are the plugin's session fields for the new row.
	Values       map[string]store.Value
	DontRemember *bool
	Meta         session.Meta
	Incoming     Incoming
}

// NewUser is a user to create and sign in (Host.CreateUserAndSignIn).
type NewUser struct {
	// Name, Email (stored as given: normalize it first), EmailVerified and Image of the new user;
	// the host sets the id and the timestamps.
	Name          string
	Email         string
	EmailVerified bool
	Image         *string
	// Values are the plugins' user fields for the new user, over the values the sign-in method
	// gives (Hooks.UserValues).
	Values map[string]store.Value
	// Method, DontRemember, Meta and Incoming are SignIn's.
	Method       string
	DontRemember *bool
	Meta         session.Meta
	Incoming     Incoming
}

// Finish is a challenged sign-in that passed its challenge.
type Finish struct {
	User store.User
	// Method, DontRemember and Meta are SignIn's and Attempt's.
	Method       string
	DontRemember *bool
	Meta         session.Meta
	Incoming     Incoming
	// Cookies are added to the answer after the plugins' (a new trusted-device cookie).
	Cookies []Cookie
}

// PasswordSignIn is a password sign-in by a plugin's identifier.
type PasswordSignIn struct {
	// Find returns the user, or store.ErrNotFound for an unknown identifier.
	Find func(ctx context.Context) (*store.User, error)
	// LockKey names the identifier for the per-account lockout ("username:alice").
	LockKey  string
	Password string
	// RememberMe is the body's rememberMe; only an explicit false forgets.
	RememberMe *bool
	// CallbackURL is where a verification link sent on sign-in leads afterwards.
	CallbackURL string
	Meta        session.Meta
	// Method is SignIn.Method.
	Method string
	// Incoming is the request, for the plugins' hooks (Request.Incoming).
	Incoming Incoming
	// Invalid is the answer for an unknown user or a wrong password.
	Invalid error
}

// SignIn is a completed sign-in: the user, their new session, and what the answer must carry
// besides the session cookie.
type SignIn struct {
	// Method is how the user signed in, as Better-Auth's last-login-method names it: "email" for
	// e-mail sign-in and sign-up, the provider id after an OAuth callback, and empty where
	// Better-Auth names no method (an ID token sent to /sign-in/social, auto sign-in after e-mail
	// verification, the new session of change-password).
	Method  string
	User    store.User
	Session store.Session
	// DontRemember is the client's rememberMe choice inverted: true gives a one-day session, a
	// browser-session cookie and the dont_remember cookie. Nil means the flow asks no such choice
	// (OAuth callback, verification, change-password): a full-term session whose cookie follows
	// the request's dont_remember cookie, as Better-Auth's setSessionCookie does.
	DontRemember *bool
	// Cookies are the plugins' cookies for the answer, written after the session cookie.
	Cookies []Cookie
	// Challenge, when set, is the answer instead of a session (see Hooks.Challenge); Session is
	// then empty.
	Challenge *Challenge
	// Incoming reads the request's cookies and session, for AfterSession hooks that look at the
	// session the browser had before (anonymous account linking); nil when there is no request.
	Incoming Incoming
	// DB is the database the session was written in: the transaction that also creates the user
	// on sign-up, so an AfterSession hook's writes commit or roll back with the sign-in (and on
	// SQLite do not wait for that transaction's lock). Hooks write through it.
	DB *store.Store
	// Host is the server.
	Host Host
}

// Cookie is a cookie a plugin adds to an answer. It gets the session cookie's Path, SameSite,
// Domain and Secure attributes. A plain cookie's Name is written as given (no __Secure- prefix);
// a Signed one is an auth cookie like Better-Auth's two_factor and trust_device.
type Cookie struct {
	Name  string
	Value string
	// MaxAge in seconds; 0 expires the cookie (Value is then ignored).
	MaxAge int
	// HTTPOnly hides the cookie from scripts; false when the client plugin reads document.cookie.
	// Signed cookies are always HttpOnly.
	HTTPOnly bool
	// Signed writes the cookie as Better-Auth writes its auth cookies: named
	// "<prefix>.<Name>" (with __Secure- when cookies are secure), Value signed with the secret.
	Signed bool
}

// Error is an error kind of a plugin together with Better-Auth's answer for it, so a plugin
// declares its status, code and message beside the kind instead of in the core error table.
// Compare with errors.Is against the declared *Error value. An Error with neither Code nor Message
// is answered with its status and no body; one with a Message only has no "code" in its body.
type Error struct {
	Status  int
	Code    string
	Message string
	// Details are more keys of the body, printed after code in sorted order (organization's
	// missingPermissions); nil for none.
	Details map[string]any
	// Thrown answers as Better-Auth's router answers an error that is not an API error (a send
	// callback that threw): the status alone, with neither body nor content type.
	Thrown bool
}

func (e *Error) Error() string {
	if e.Code == "" && e.Message == "" {
		return fmt.Sprintf("status %d", e.Status)
	}
	return e.Code + ": " + e.Message
}

// ErrDeliveryFailed is a code or link the mail server or SMS provider did not take, on an
// endpoint where Better-Auth awaits its send callback and lets the failure through: Better-Auth
// 1.7.25 answers 500 with no body then (its router's answer to a thrown non-API error).
var ErrDeliveryFailed = &Error{Status: 500, Thrown: true}

// OAuthError is an error answered in OAuth 2.0's shape, {"error","error_description"}, as
// Better-Auth's RFC-style endpoints (device authorization) throw it, instead of {code,message}.
type OAuthError struct {
	Status int
	// Code is the body's "error" ("authorization_pending"), Description its "error_description".
	Code, Description string
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// CookieError is an error answer that also sets cookies, as when two-factor expires the
// challenge cookie of a challenge it ends. Err gives the status and body.
type CookieError struct {
	Err     error
	Cookies []Cookie
}

func (e *CookieError) Error() string { return e.Err.Error() }

// Unwrap lets errors.Is and errors.As see Err.
func (e *CookieError) Unwrap() error { return e.Err }

// Need says what an endpoint requires of the caller's session.
type Need int

// The session needs, as the core endpoints have them.
const (
	NoSession Need = iota
	// NeedSession reads the session from the database or the in-process cache, never from the
	// session_data cookie cache.
	NeedSession
	// NeedFreshSession also demands a recent sign-in (SESSION_NOT_FRESH otherwise).
	NeedFreshSession
	// OptionalSession sets Request.Auth when the caller has a valid session and leaves it nil
	// otherwise, for endpoints that take a session or something else (a challenge cookie).
	OptionalSession
)

// Kind is the type a body field must have; the messages follow zod's.
type Kind int

// The field kinds the core's validator knows.
const (
	String         Kind = iota // z.string()
	NonEmptyString             // z.string().nonempty()
	Email                      // z.email()
	Bool                       // z.boolean()
	NullableString             // z.string().nullable()
	Record                     // z.record(z.any(), z.any()): any JSON object
	Any                        // z.any(): any value; with Optional, also none
	// StringOrStrings is z.union([z.string(), z.array(z.string())]); zod reports any failure,
	// absence included, as "Invalid input".
	StringOrStrings
)

// Field is one body field of an endpoint's schema.
type Field struct {
	Name     string
	Kind     Kind
	Optional bool
	// Stored marks text written to the database as is: a NUL character is refused.
	Stored bool
	// Literal, when set, is the only value the field may have (zod's z.literal of a string); Kind
	// and Optional are then ignored.
	Literal string
}

// Schema is an endpoint's body schema (z.object of Fields); nil means no body validation.
type Schema struct {
	Fields []Field
	// OptionalBody lets the whole body be absent.
	OptionalBody bool
}

// Endpoint is one route a plugin adds, relative to the auth base path.
type Endpoint struct {
	Method string
	Path   string
	Body   *Schema
	// Session is checked before Handle; Request.Auth is set when it is not NoSession.
	Session Need
	// Authoritative refuses a session a plugin's RequestSession hook made (an API key's,
	// session.Auth.Via set): the session is then read from the cookie or bearer token alone and,
	// without one, the endpoint answers as to a caller with no session. Better-Auth's endpoints
	// that use sensitiveSessionMiddleware or getAuthoritativeSessionFromCtx behave so, because
	// they re-read the session without the hook. The credential is still checked first (an
	// invalid key is refused as on any endpoint).
	Authoritative bool
	// FormCSRF applies the first-sign-in CSRF check of e-mail sign-in (Better-Auth's
	// formCsrfMiddleware) to a POST that signs in without a session cookie: a cross-site
	// navigation is refused, and fetch metadata or an Origin must name a trusted origin.
	FormCSRF bool
	// CallbackQuery names query parameters that say where the browser goes next (the links in
	// e-mails); each one present must be a trusted origin or a relative path, or the request is
	// refused with 403 INVALID_CALLBACK_URL before Handle runs.
	CallbackQuery []string
	// Form also accepts an application/x-www-form-urlencoded body (fields as strings), as
	// Better-Auth's allowedMediaTypes lets an endpoint do; otherwise only JSON is accepted (415).
	Form bool
	// NoStore adds Pragma: no-cache to every answer of Handle, error or not, as Better-Auth's
	// metadata.noStore does for credential-bearing answers (Cache-Control: no-store is on every
	// answer already).
	NoStore bool
	// OnValidationError, when set, replaces the answer to a body that fails Body's schema: it gets
	// the zod-style message the VALIDATION_ERROR answer would carry and the decoded body (nil when
	// absent or not an object) and returns the error to answer instead, as Better-Auth's
	// onValidationError.
	OnValidationError func(message string, body map[string]any) error
	Handle            func(ctx context.Context, r *Request) (*Response, error)
}

// Request is what an endpoint handler sees of a request that passed every stage.
type Request struct {
	// Body is the decoded JSON object (nil when absent). A form body (Endpoint.Form) is decoded
	// into it as strings, the last of repeated fields winning.
	Body map[string]any
	// RawBody is the JSON object body as sent (nil for a form body or none), for a handler that
	// must keep a client's value as JSON.stringify would print it, key order included.
	RawBody []byte
	// Form is a form body's fields as sent, repeats included; nil for any other body.
	Form  url.Values
	Query url.Values
	// Auth is the caller's session when the endpoint needs one.
	Auth *session.Auth
	// Meta is the client's address and user agent, for sessions the endpoint creates.
	Meta session.Meta
	// Incoming reads the request's cookies and session.
	Incoming Incoming
	// Host is the server, for the database and the password sign-in.
	Host Host
}

// Response is an endpoint's answer: Body as JSON with status 200 and, when SignIn is set, the
// session cookie, set-auth-token and the plugins' sign-in cookies, as after any sign-in.
type Response struct {
	Body any
	// Cookies are set on the answer (after the sign-in's, when SignIn is set).
	Cookies []Cookie
	// ClearSession expires the session cookies (sign-out-like answers), before Cookies are set.
	ClearSession bool
	SignIn       *SignIn
	// Redirect, when set, makes the answer a 302 to it (an absolute URL) with an empty body, as
	// Better-Auth's ctx.redirect; SignIn's cookies and Cookies are still set, Body is ignored.
	Redirect string
	// CallbackURL is the body's callbackURL (nil when absent) of a sign-in answered as e-mail
	// sign-in is: with SignIn set and Body nil the answer is {"redirect","token","url","user"},
	// with a Location header for a non-empty callbackURL.
	CallbackURL *string
}

// JSType names a decoded JSON value's type as zod's messages do ("received number"): null,
// object, array, string, number, boolean; "unknown" for anything JSON decoding cannot produce.
// An absent value is the caller's "undefined".
func JSType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return "unknown"
}

// HashToken is Better-Auth's hash for tokens kept "hashed" in the verification table (the
// storeToken:"hashed" option of magic-link, one-time-token and others): SHA-256 of the token,
// base64url without padding. A server sharing the database must hash alike to find the rows.
func HashToken(token string) string { return atrest.Hash(token) }

// AuditEvent is one security event for the audit log (Host.Audit). Event names a class
// ("sign-in", "admin.ban-user", ...); UserID is the account it is about, ActorID who caused it
// when that is someone else, SessionID the session it concerns or was made by. Failed marks a
// refused attempt. Detail holds non-secret facts only (method, reason, changed role): never a
// password, token, code or link.
type AuditEvent struct {
	Event     string
	UserID    string
	ActorID   string
	SessionID string
	Failed    bool
	Detail    map[string]any
}
