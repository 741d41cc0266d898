// Package phonenumber is Better-Auth's phone-number plugin: a user may have a phone number,
// proven by a code sent as a text message, sign in with it and a password, reset the password
// with a code, and (when sign-up on verification is on) get an account by verifying a number.
//
// Codes live in the verification table as Better-Auth 1.7.25 keeps them, so the two servers share
// a database: identifier "phone-number-otp-<number>" (sign-in codes) or
// "phone-number-reset-<number>" (reset codes), value "<code>:<failed attempts>". Texts go through
// package sms; a send-otp whose text fails answers 500 with no body, as Better-Auth does when its
// sendOTP throws, and leaves no code behind; the password reset and the unverified sign-in answer
// as usual, as Better-Auth (which logs those failures) does.
package phonenumber

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"authserver/auth/plugin"
	"authserver/env"
	"authserver/session"
	"authserver/sms"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "phone-number"

// Config holds the plugin's options.
type Config struct {
	// OTPLength is the number of digits of a code (otpLength, PHONE_NUMBER_OTP_LENGTH, default 6).
	OTPLength int
	// ExpiresIn is a code's life (expiresIn, PHONE_NUMBER_EXPIRES_IN, default 300 s).
	ExpiresIn time.Duration
	// AllowedAttempts is how many wrong tries a code survives (allowedAttempts,
	// PHONE_NUMBER_ALLOWED_ATTEMPTS, default 3).
	AllowedAttempts int
	// SignUpOnVerification creates a user when an unknown number is verified
	// (PHONE_NUMBER_SIGN_UP_ON_VERIFICATION). The user's e-mail address is the number's letters
	// and digits at TempEmailDomain (PHONE_NUMBER_TEMP_EMAIL_DOMAIN, default "phone.invalid") and
	// the name is the number, as Better-Auth's getTempEmail and default getTempName.
	SignUpOnVerification bool
	TempEmailDomain      string
	// RequireVerification refuses a password sign-in with an unverified number and sends a code
	// instead (requireVerification, PHONE_NUMBER_REQUIRE_VERIFICATION).
	RequireVerification bool
	// ValidateE164 refuses numbers not in E.164 form (+ and 2 to 15 digits) on send-otp and
	// sign-in, as a phoneNumberValidator would (PHONE_NUMBER_VALIDATE=e164). Off by default:
	// Better-Auth checks nothing by default.
	ValidateE164 bool
	// AppName names the application in the texts.
	AppName string
	// Sender delivers the texts.
	Sender sms.Sender
	// Logger receives delivery failures (never the code); nil is slog.Default().
	Logger *slog.Logger
}

// LoadConfig reads the PHONE_NUMBER_* options and the SMS delivery settings (package sms). With
// no SMS provider the texts go to .sms files in outboxDir, which production refuses: codes
// would reach nobody.
func LoadConfig(getenv func(string) string, appName, outboxDir string, production bool) (Config, error) {
	r := env.New(getenv)
	c := Config{
		OTPLength:            r.Int("PHONE_NUMBER_OTP_LENGTH", 6),
		ExpiresIn:            r.Duration("PHONE_NUMBER_EXPIRES_IN", 300*time.Second),
		AllowedAttempts:      r.Int("PHONE_NUMBER_ALLOWED_ATTEMPTS", 3),
		SignUpOnVerification: r.Bool("PHONE_NUMBER_SIGN_UP_ON_VERIFICATION", false),
		TempEmailDomain:      strings.ToLower(r.String("PHONE_NUMBER_TEMP_EMAIL_DOMAIN", "phone.invalid")),
		RequireVerification:  r.Bool("PHONE_NUMBER_REQUIRE_VERIFICATION", false),
		AppName:              appName,
	}
	switch v := strings.ToLower(r.String("PHONE_NUMBER_VALIDATE", "")); v {
	case "", "none", "off":
	case "e164":
		c.ValidateE164 = true
	default:
		r.Fail(fmt.Errorf("PHONE_NUMBER_VALIDATE must be e164 or empty, not %q", v))
	}
	if c.OTPLength < 4 || c.OTPLength > 12 {
		r.Fail(fmt.Errorf("PHONE_NUMBER_OTP_LENGTH must be between 4 and 12, not %d", c.OTPLength))
	}
	if c.ExpiresIn <= 0 {
		r.Fail(errors.New("PHONE_NUMBER_EXPIRES_IN must be positive"))
	}
	if c.AllowedAttempts < 1 {
		r.Fail(errors.New("PHONE_NUMBER_ALLOWED_ATTEMPTS must be at least 1"))
	}
	if strings.ContainsAny(c.TempEmailDomain, "@ ") || c.TempEmailDomain == "" {
		r.Fail(fmt.Errorf("PHONE_NUMBER_TEMP_EMAIL_DOMAIN must be a domain name, not %q", c.TempEmailDomain))
	}
	sc, err := sms.LoadConfig(getenv)
	r.Fail(err)
	if err == nil {
		if production && !sc.HasProvider() {
			r.Fail(errors.New("the phone-number plugin needs an SMS provider in production: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID), or SMS_WEBHOOK_URL and SMS_WEBHOOK_SECRET"))
		}
		sc.OutboxDir = outboxDir
		c.Sender, err = sms.New(sc)
		r.Fail(err)
	}
	return c, r.Err()
}

// The user fields, as Better-Auth's schema declares them: a unique number the body may not set
// (only a verified code sets it) and whether it was verified, which only the server sets.
var (
	NumberField   = store.Field{Name: "phoneNumber", Type: store.StringField, Nullable: true}
	VerifiedField = store.Field{Name: "phoneNumberVerified", Type: store.BoolField, Nullable: true, ReadOnly: true}
)

// migrations add the columns as Better-Auth 1.7.25's migrate does: on PostgreSQL "text unique"
// (the constraint user_phoneNumber_key) and boolean; SQLite cannot add a unique column, so a
// unique index. A database Better-Auth migrated with the plugin already has them: adopted.
var migrations = []store.PluginMigration{{
	Name: ID + "/0001_user_phoneNumber",
	SQL: map[store.Dialect]string{
		store.Postgres: `alter table "user" add column "phoneNumber" text unique;`,
		store.SQLite: `alter table "user" add column "phoneNumber" text;
create unique index "user_phoneNumber_uidx" on "user" ("phoneNumber");`,
	},
	Table: "user", Column: NumberField.Name,
}, {
	Name: ID + "/0002_user_phoneNumberVerified",
	SQL: map[store.Dialect]string{
		store.Postgres: `alter table "user" add column "phoneNumberVerified" boolean;`,
		store.SQLite:   `alter table "user" add column "phoneNumberVerified" integer;`,
	},
	Table: "user", Column: VerifiedField.Name,
}}

// Better-Auth's answers.
var (
	ErrInvalidNumber       = &plugin.Error{Status: http.StatusBadRequest, Code: "INVALID_PHONE_NUMBER", Message: "Invalid phone number"}
	ErrNumberExists        = &plugin.Error{Status: http.StatusBadRequest, Code: "PHONE_NUMBER_EXIST", Message: "Phone number already exists"}
	ErrInvalidCredentials  = &plugin.Error{Status: http.StatusUnauthorized, Code: "INVALID_PHONE_NUMBER_OR_PASSWORD", Message: "Invalid phone number or password"}
	ErrUnexpected          = &plugin.Error{Status: http.StatusBadRequest, Code: "UNEXPECTED_ERROR", Message: "Unexpected error"}
	ErrOTPNotFound         = &plugin.Error{Status: http.StatusBadRequest, Code: "OTP_NOT_FOUND", Message: "OTP not found"}
	ErrOTPExpired          = &plugin.Error{Status: http.StatusBadRequest, Code: "OTP_EXPIRED", Message: "OTP expired"}
	ErrInvalidOTP          = &plugin.Error{Status: http.StatusBadRequest, Code: "INVALID_OTP", Message: "Invalid OTP"}
	ErrNotVerified         = &plugin.Error{Status: http.StatusUnauthorized, Code: "PHONE_NUMBER_NOT_VERIFIED", Message: "Phone number not verified"}
	ErrPendingVerification = &plugin.Error{Status: http.StatusBadRequest, Code: "PHONE_NUMBER_PENDING_VERIFICATION", Message: "Phone number requires account ownership proof"}
	ErrCannotBeUpdated     = &plugin.Error{Status: http.StatusBadRequest, Code: "PHONE_NUMBER_CANNOT_BE_UPDATED", Message: "Phone number cannot be updated"}
	ErrCannotBeSet         = &plugin.Error{Status: http.StatusBadRequest, Code: "PHONE_NUMBER_CANNOT_BE_SET", Message: "Phone number can only be set by verifying it"}
	ErrTooManyAttempts     = &plugin.Error{Status: http.StatusForbidden, Code: "TOO_MANY_ATTEMPTS", Message: "Too many attempts"}
	// ErrUserNotFound is updatePhoneNumber without a session.
	ErrUserNotFound = &plugin.Error{Status: http.StatusUnauthorized, Code: "USER_NOT_FOUND", Message: "User not found"}
	// ErrUpdateFailed is verifying a number nobody has while sign-up on verification is off (the
	// code is spent), as 1.7.25 answers it.
	ErrUpdateFailed = &plugin.Error{Status: http.StatusInternalServerError, Code: "FAILED_TO_UPDATE_USER", Message: "Failed to update user"}
	// ErrCreateFailed is a sign-up on verification whose temporary address is taken.
	ErrCreateFailed = &plugin.Error{Status: http.StatusInternalServerError, Code: "FAILED_TO_CREATE_USER", Message: "Failed to create user"}
	// ErrSendFailed is a text the provider did not take: status 500 with neither body nor content type, as Better-Auth
	// answers when sendOTP throws.
	ErrSendFailed = plugin.ErrDeliveryFailed
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

type plug struct {
	cfg Config
	log *slog.Logger
}

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	p := &plug{cfg: cfg, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.Default()
	}
	number := plugin.Field{Name: "phoneNumber", Kind: plugin.String, Stored: true}
	return plugin.Plugin{
		ID: ID,
		// Better-Auth's rule: 10 per minute on every /phone-number path.
		RateLimits: []plugin.RateLimit{{Window: time.Minute, Max: 10, Match: func(path string) bool {
			return strings.HasPrefix(path, "/phone-number")
		}}},
		UserFields: []store.Field{NumberField, VerifiedField},
		Migrations: migrations,
		Hooks:      plugin.Hooks{UserInput: p.userInput},
		Endpoints: []plugin.Endpoint{{
			Method: http.MethodPost, Path: "/sign-in/phone-number",
			Body: &plugin.Schema{Fields: []plugin.Field{number,
				{Name: "password", Kind: plugin.String, Stored: true},
				{Name: "rememberMe", Kind: plugin.Bool, Optional: true}}},
			Handle: p.signIn,
		}, {
			Method: http.MethodPost, Path: "/phone-number/send-otp",
			Body:   &plugin.Schema{Fields: []plugin.Field{number}},
			Handle: p.sendOTP,
		}, {
			Method: http.MethodPost, Path: "/phone-number/verify",
			Body: &plugin.Schema{Fields: []plugin.Field{number, {Name: "code", Kind: plugin.String},
				{Name: "disableSession", Kind: plugin.Bool, Optional: true},
				{Name: "updatePhoneNumber", Kind: plugin.Bool, Optional: true}}},
			Session:       plugin.OptionalSession,
			Authoritative: true,
			Handle:        p.verify,
		}, {
			Method: http.MethodPost, Path: "/phone-number/request-password-reset",
			Body:   &plugin.Schema{Fields: []plugin.Field{number}},
			Handle: p.requestReset,
		}, {
			Method: http.MethodPost, Path: "/phone-number/reset-password",
			Body: &plugin.Schema{Fields: []plugin.Field{number, {Name: "otp", Kind: plugin.String},
				{Name: "newPassword", Kind: plugin.String, Stored: true}}},
			Handle: p.resetPassword,
		}},
	}
}

func otpIdentifier(number string) string   { return "phone-number-otp-" + number }
func resetIdentifier(number string) string { return "phone-number-reset-" + number }

// userInput is Better-Auth's user hooks: a number cannot be given at sign-up nor changed through
// update-user (only a verified code sets one); update-user may clear it with null, which also
// clears its verified flag.
func (p *plug) userInput(_ context.Context, _ *store.Store, in plugin.UserInput) (map[string]store.Value, error) {
	v, present := in.Body[NumberField.Name]
	switch {
	case !present:
		return nil, nil
	case v != nil && in.UserID == "":
		return nil, ErrCannotBeSet
	case v != nil:
		return nil, ErrCannotBeUpdated
	case in.UserID == "":
		return nil, nil
	}
	return map[string]store.Value{NumberField.Name: {}, VerifiedField.Name: store.BoolValue(false)}, nil
}

func (p *plug) checkNumber(number string) error {
	if p.cfg.ValidateE164 && !e164.MatchString(number) {
		return ErrInvalidNumber
	}
	return nil
}

func userByNumber(ctx context.Context, st *store.Store, number string) (*store.User, error) {
	u, err := st.UserByField(ctx, NumberField.Name, number)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

func verifiedNumber(st *store.Store, u *store.User) bool {
	v, _ := st.UserField(u, VerifiedField.Name)
	return v.Bool()
}

// newCode returns a fresh code of the configured length, each digit uniform.
func (p *plug) newCode() string {
	b := make([]byte, p.cfg.OTPLength)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic(err) // crypto/rand does not fail on supported systems
		}
		b[i] = '0' + byte(n.Int64())
	}
	return string(b)
}

// issue sends a new code to number and stores it under identifier. The text goes first, so a
// failed send leaves no row: the previous code, if any, stays the valid one and a retry is free;
// the answer is ErrSendFailed, as Better-Auth's send-otp lets sendOTP's error through.
func (p *plug) issue(ctx context.Context, h plugin.Host, identifier, number, text, kind string) error {
	code := p.newCode()
	if err := p.send(ctx, number, text, code, kind); err != nil {
		return ErrSendFailed
	}
	return p.keep(ctx, h, identifier, code)
}

// issueQuietly is issue for the endpoints where Better-Auth logs a failed send and answers as
// if it had gone out (request-password-reset, and the code a password sign-in with an unverified
// number sends): the code is stored all the same, as Better-Auth stores it before sending, so
// the answer and what a guessed code gets are the same whether the text left or not (and, for a
// reset, whether the number has an account or not). A retry issues a fresh code as always.
func (p *plug) issueQuietly(ctx context.Context, h plugin.Host, identifier, number, text, kind string) error {
	code := p.newCode()
	_ = p.send(ctx, number, text, code, kind)
	return p.keep(context.WithoutCancel(ctx), h, identifier, code)
}

// send hands the text with code to the provider, logging a failure without the text or the code
// (the error names the provider and its status).
func (p *plug) send(ctx context.Context, number, text, code, kind string) error {
	err := p.cfg.Sender.Send(ctx, number, fmt.Sprintf(text, code, p.cfg.AppName))
	if err != nil {
		p.log.LogAttrs(ctx, slog.LevelError, "phone-number: text message not sent", slog.String("kind", kind), slog.String("error", err.Error()))
	}
	return err
}

// keep stores code under identifier with no failed attempts, living the configured time.
func (p *plug) keep(ctx context.Context, h plugin.Host, identifier, code string) error {
	now := store.NewTime(h.Now())
	return h.Store().CreateVerification(ctx, &store.Verification{ID: session.NewID(), Identifier: identifier,
		Value: code + ":0", ExpiresAt: store.NewTime(now.Add(p.cfg.ExpiresIn)), CreatedAt: now, UpdatedAt: now})
}

const (
	signInText = "%s is your %s verification code."
	resetText  = "%s is your %s password reset code."
)

// sendOTP is POST /phone-number/send-otp.
func (p *plug) sendOTP(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	number, _ := r.Body["phoneNumber"].(string)
	if err := p.checkNumber(number); err != nil {
		return nil, err
	}
	if err := r.Incoming.AllowSend(ctx, number); err != nil {
		return nil, err
	}
	if err := p.issue(ctx, r.Host, otpIdentifier(number), number, signInText, "otp"); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]string{"message": "code sent"}}, nil
}

// check tests code against the newest code stored under identifier, as Better-Auth's
// verifyPhoneNumberOTP: unknown → OTP_NOT_FOUND; expired or out of attempts → the row is dropped
// and OTP_EXPIRED or TOO_MANY_ATTEMPTS; a wrong code comes back with one more failed attempt. The
// row is taken before the comparison, so of two requests with one code only one can pass. A
// right code is spent unless keep, when it is put back for a later spend inside the caller's
// transaction.
func (p *plug) check(ctx context.Context, h plugin.Host, identifier, code string, keep bool) error {
	st := h.Store()
	now := store.NewTime(h.Now())
	row, err := st.LatestVerification(ctx, identifier)
	if errors.Is(err, store.ErrNotFound) {
		return ErrOTPNotFound
	}
	if err != nil {
		return err
	}
	if row.ExpiresAt.Before(now.Time) {
		if _, err := st.ConsumeVerification(ctx, identifier, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return ErrOTPExpired
	}
	if _, n := splitValue(row.Value); n >= p.cfg.AllowedAttempts {
		if _, err := st.ConsumeVerification(ctx, identifier, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return ErrTooManyAttempts
	}
	taken, err := st.ConsumeVerification(ctx, identifier, now)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidOTP // another request took it first
	}
	if err != nil {
		return err
	}
	stored, attempts := splitValue(taken.Value)
	if attempts >= p.cfg.AllowedAttempts {
		return ErrTooManyAttempts
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(code)) != 1 {
		again := *taken
		again.ID, again.Value, again.CreatedAt, again.UpdatedAt = session.NewID(), stored+":"+strconv.Itoa(attempts+1), now, now
		if err := st.CreateVerification(ctx, &again); err != nil {
			return err
		}
		return ErrInvalidOTP
	}
	if keep {
		back := *taken
		back.ID, back.CreatedAt, back.UpdatedAt = session.NewID(), now, now
		return st.CreateVerification(ctx, &back)
	}
	return nil
}

// codeRefusal names check's refusal of a code for the audit log (no-code, invalid-code,
// expired-code, too-many-attempts), "" for an error that is no refusal (the database's).
func codeRefusal(err error) string {
	switch {
	case errors.Is(err, ErrOTPNotFound):
		return "no-code"
	case errors.Is(err, ErrInvalidOTP):
		return "invalid-code"
	case errors.Is(err, ErrOTPExpired):
		return "expired-code"
	case errors.Is(err, ErrTooManyAttempts):
		return "too-many-attempts"
	}
	return ""
}

// splitValue reads "<code>:<attempts>"; a missing or malformed count is 0, as in Better-Auth.
func splitValue(v string) (string, int) {
	code, count, _ := strings.Cut(v, ":")
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 {
		n = 0
	}
	return code, n
}

// body is a user printed as every other body prints it.
func userBody(st *store.Store, u *store.User) rawJSON {
	return rawJSON(store.AppendUserJSON(nil, u, st.Columns().User))
}

type rawJSON []byte

func (j rawJSON) MarshalJSON() ([]byte, error) { return j, nil }

type verifyAnswer struct {
	Status bool    `json:"status"`
	Token  *string `json:"token"`
	User   rawJSON `json:"user"`
}

// verify is POST /phone-number/verify: the code is spent first, then the number is attached to
// the caller (updatePhoneNumber), marked verified on its user, or given a new user (sign-up on
// verification); a session follows unless disableSession. Like Better-Auth's code sign-ins it
// passes no second-factor challenge.
func (p *plug) verify(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	number, _ := r.Body["phoneNumber"].(string)
	code, _ := r.Body["code"].(string)
	h := r.Host
	st := h.Store()
	update, _ := r.Body["updatePhoneNumber"].(bool)
	if err := p.check(ctx, h, otpIdentifier(number), code, false); err != nil {
		if reason := codeRefusal(err); reason != "" && !update {
			uid := ""
			if u, _ := userByNumber(ctx, st, number); u != nil {
				uid = u.ID
			}
			plugin.SignInFailed(ctx, h, ID, uid, reason)
		}
		return nil, err
	}
	if update {
		if r.Auth == nil {
			return nil, ErrUserNotFound
		}
		owner, err := userByNumber(ctx, st, number)
		if err != nil {
			return nil, err
		}
		if owner != nil {
			return nil, ErrNumberExists
		}
		u, err := h.UpdateUserColumns(ctx, r.Auth.User.ID, nil, map[string]store.Value{
			NumberField.Name: store.StringValue(number), VerifiedField.Name: store.BoolValue(true)})
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrNumberExists // taken between the check and the write
		}
		if err != nil {
			return nil, err
		}
		token := r.Auth.Session.Token
		return &plugin.Response{Body: verifyAnswer{Status: true, Token: &token, User: userBody(st, u)}}, nil
	}
	noSession, _ := r.Body["disableSession"].(bool)
	u, err := userByNumber(ctx, st, number)
	if err != nil {
		return nil, err
	}
	if u == nil {
		if !p.cfg.SignUpOnVerification {
			plugin.SignInFailed(ctx, h, ID, "", "signup-disabled")
			return nil, ErrUpdateFailed
		}
		return p.signUp(ctx, r, number, noSession)
	}
	if u, err = h.SetUserFields(ctx, u.ID, map[string]store.Value{VerifiedField.Name: store.BoolValue(true)}); err != nil {
		return nil, err
	}
	if noSession {
		return &plugin.Response{Body: verifyAnswer{Status: true, User: userBody(st, u)}}, nil
	}
	res, err := h.StartSession(ctx, plugin.NewSession{User: *u, Meta: r.Meta, Incoming: r.Incoming})
	if err != nil {
		return nil, err
	}
	return signedIn(st, res), nil
}

func signedIn(st *store.Store, res *plugin.SignIn) *plugin.Response {
	token := res.Session.Token
	return &plugin.Response{SignIn: res, Body: verifyAnswer{Status: true, Token: &token, User: userBody(st, &res.User)}}
}

// tempEmail is the new user's address: the number's letters and digits at the configured domain.
func (p *plug) tempEmail(number string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(number) {
		if (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') {
			b.WriteRune(c)
		}
	}
	return b.String() + "@" + p.cfg.TempEmailDomain
}

// signUp creates the user of a verified number nobody has: name the number, the temporary
// address unverified, the number verified.
func (p *plug) signUp(ctx context.Context, r *plugin.Request, number string, noSession bool) (*plugin.Response, error) {
	h := r.Host
	st := h.Store()
	email := p.tempEmail(number)
	vals := map[string]store.Value{NumberField.Name: store.StringValue(number), VerifiedField.Name: store.BoolValue(true)}
	if !noSession {
		res, err := h.CreateUserAndSignIn(ctx, plugin.NewUser{Name: number, Email: email, Values: vals, Meta: r.Meta, Incoming: r.Incoming})
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrCreateFailed
		}
		if err != nil {
			return nil, err
		}
		return signedIn(st, res), nil
	}
	now := store.NewTime(h.Now())
	u := &store.User{ID: session.NewID(), Name: number, Email: email, CreatedAt: now, UpdatedAt: now}
	if err := st.SetExtra(u, vals); err != nil {
		return nil, err
	}
	if err := st.CreateUser(ctx, u); errors.Is(err, store.ErrConflict) {
		return nil, ErrCreateFailed
	} else if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: verifyAnswer{Status: true, User: userBody(st, u)}}, nil
}

// signIn is POST /sign-in/phone-number: the shared password sign-in by number, so lockout and
// the two-factor challenge apply, answered {"token","user"}.
func (p *plug) signIn(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	number, _ := r.Body["phoneNumber"].(string)
	password, _ := r.Body["password"].(string)
	if err := p.checkNumber(number); err != nil {
		return nil, err
	}
	var rememberMe *bool
	if b, ok := r.Body["rememberMe"].(bool); ok {
		rememberMe = &b
	}
	h := r.Host
	st := h.Store()
	res, err := h.SignInWithPassword(ctx, plugin.PasswordSignIn{
		Find: func(ctx context.Context) (*store.User, error) {
			u, err := st.UserByField(ctx, NumberField.Name, number)
			if err != nil || !p.cfg.RequireVerification || verifiedNumber(st, u) {
				return u, err
			}
			// Better-Auth checks this before the password: a code goes out and the sign-in stops.
			if err := r.Incoming.AllowSend(ctx, number); err != nil {
				return nil, err
			}
			if err := p.issueQuietly(ctx, h, otpIdentifier(number), number, signInText, "otp"); err != nil {
				return nil, err
			}
			plugin.SignInFailed(ctx, h, "", u.ID, "number-not-verified")
			return nil, ErrNotVerified
		},
		LockKey:  "phone:" + number,
		Password: password, RememberMe: rememberMe, Meta: r.Meta,
		Incoming: r.Incoming, Invalid: ErrInvalidCredentials,
	})
	if err != nil {
		return nil, err
	}
	if res.Challenge != nil {
		return &plugin.Response{SignIn: res}, nil
	}
	return &plugin.Response{SignIn: res, Body: struct {
		Token string  `json:"token"`
		User  rawJSON `json:"user"`
	}{res.Session.Token, userBody(st, &res.User)}}, nil
}

// requestReset is POST /phone-number/request-password-reset: always {"status":true}, so it
// tells nobody which numbers have accounts; only a number with an account gets a text.
func (p *plug) requestReset(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	number, _ := r.Body["phoneNumber"].(string)
	// Counted before the lookup, so the cap's 429 comes for unknown numbers too.
	if err := r.Incoming.AllowSend(ctx, number); err != nil {
		return nil, err
	}
	st := r.Host.Store()
	u, err := userByNumber(ctx, st, number)
	if err != nil {
		return nil, err
	}
	ok := &plugin.Response{Body: map[string]bool{"status": true}}
	if u == nil || (p.cfg.RequireVerification && !verifiedNumber(st, u)) {
		// A code nobody is told is still stored, as 1.7.25 does: reset-password then answers a
		// guess with INVALID_OTP as for a number with an account, not OTP_NOT_FOUND, which
		// would tell which numbers have accounts.
		if err := p.keep(ctx, r.Host, resetIdentifier(number), p.newCode()); err != nil {
			return nil, err
		}
		return ok, nil
	}
	if err := p.issueQuietly(ctx, r.Host, resetIdentifier(number), number, resetText, "reset"); err != nil {
		return nil, err
	}
	return ok, nil
}

// resetPassword is POST /phone-number/reset-password: the password rules, the code (checked with
// attempts counted, then spent in the same transaction as the new password), then the user.
func (p *plug) resetPassword(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	number, _ := r.Body["phoneNumber"].(string)
	code, _ := r.Body["otp"].(string)
	password, _ := r.Body["newPassword"].(string)
	h := r.Host
	if err := h.CheckPassword(password, true); err != nil {
		return nil, err
	}
	ident := resetIdentifier(number)
	if err := p.check(ctx, h, ident, code, true); err != nil {
		return nil, err
	}
	st := h.Store()
	u, err := userByNumber(ctx, st, number)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, ErrUnexpected
	}
	if p.cfg.RequireVerification && !verifiedNumber(st, u) {
		return nil, ErrPendingVerification
	}
	err = h.ResetUserPassword(ctx, u.ID, password, func(ctx context.Context, tx *store.Store) error {
		row, err := tx.ConsumeVerification(ctx, ident, store.NewTime(h.Now()))
		if errors.Is(err, store.ErrNotFound) {
			return ErrInvalidOTP
		}
		if err != nil {
			return err
		}
		if stored, _ := splitValue(row.Value); subtle.ConstantTimeCompare([]byte(stored), []byte(code)) != 1 {
			return ErrInvalidOTP
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]bool{"status": true}}, nil
}
