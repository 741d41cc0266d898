// Package username is Better-Auth's username plugin: users may have a unique username (stored
// lower-cased) and a display username (stored as given), set at sign-up or with update-user, and
// sign in with username and password at POST /sign-in/username. POST /is-username-available
// tells a sign-up form whether a name is free.
//
// It imports auth (for the shared error answers), auth/plugin and store; the fields reach the
// database through the core's sign-up and update-user paths and the sign-in through
// plugin.Host.SignInWithPassword, so it has no sign-in logic of its own.
package username

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"authserver/auth"
	"authserver/auth/plugin"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "username"

// Better-Auth's default length bounds, in UTF-16 code units.
const (
	DefaultMinLength = 3
	DefaultMaxLength = 30
)

// Config holds the plugin's options.
type Config struct {
	// MinLength and MaxLength bound a username (minUsernameLength, maxUsernameLength).
	MinLength, MaxLength int
}

// LoadConfig reads USERNAME_MIN_LENGTH and USERNAME_MAX_LENGTH, as Better-Auth's
// minUsernameLength and maxUsernameLength.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{MinLength: DefaultMinLength, MaxLength: DefaultMaxLength}
	var errs []error
	for _, o := range []struct {
		name string
		dst  *int
	}{{"USERNAME_MIN_LENGTH", &c.MinLength}, {"USERNAME_MAX_LENGTH", &c.MaxLength}} {
		if v := strings.TrimSpace(getenv(o.name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				errs = append(errs, fmt.Errorf("%s: %q is not a positive whole number", o.name, v))
				continue
			}
			*o.dst = n
		}
	}
	if len(errs) == 0 && c.MinLength > c.MaxLength {
		errs = append(errs, fmt.Errorf("USERNAME_MIN_LENGTH (%d) is greater than USERNAME_MAX_LENGTH (%d)", c.MinLength, c.MaxLength))
	}
	return c, errors.Join(errs...)
}

// The user fields, as Better-Auth's schema declares them: both nullable text that bodies may set.
var (
	UsernameField        = store.Field{Name: "username", Type: store.StringField, Nullable: true}
	DisplayUsernameField = store.Field{Name: "displayUsername", Type: store.StringField, Nullable: true}
)

// migrations add the columns. On PostgreSQL "text unique" gives the constraint user_username_key,
// as Better-Auth's migrate names it when it creates the user table; SQLite cannot add a unique
// column, so there the unique index is the one Better-Auth's migrate adds to an existing table.
// A database Better-Auth migrated with the plugin already has the columns: they are adopted.
var migrations = []store.PluginMigration{{
	Name: ID + "/0001_user_username",
	SQL: map[store.Dialect]string{
		store.Postgres: `alter table "user" add column "username" text unique;`,
		store.SQLite: `alter table "user" add column "username" text;
create unique index "user_username_uidx" on "user" ("username");`,
	},
	Table: "user", Column: UsernameField.Name,
}, {
	Name: ID + "/0002_user_displayUsername",
	SQL: map[store.Dialect]string{
		store.Postgres: `alter table "user" add column "displayUsername" text;`,
		store.SQLite:   `alter table "user" add column "displayUsername" text;`,
	},
	Table: "user", Column: DisplayUsernameField.Name,
}}

// Better-Auth's answers. On sign-up and update-user the username errors are 400; on the plugin's
// own endpoints 422 (see unprocessable).
var (
	ErrInvalidCredentials = &plugin.Error{Status: http.StatusUnauthorized, Code: "INVALID_USERNAME_OR_PASSWORD", Message: "Invalid username or password"}
	ErrTaken              = &plugin.Error{Status: http.StatusBadRequest, Code: "USERNAME_IS_ALREADY_TAKEN", Message: "Username is already taken. Please try another."}
	ErrTooShort           = &plugin.Error{Status: http.StatusBadRequest, Code: "USERNAME_TOO_SHORT", Message: "Username is too short"}
	ErrTooLong            = &plugin.Error{Status: http.StatusBadRequest, Code: "USERNAME_TOO_LONG", Message: "Username is too long"}
	ErrInvalid            = &plugin.Error{Status: http.StatusBadRequest, Code: "INVALID_USERNAME", Message: "Username is invalid"}
)

// pattern is Better-Auth's default username validator.
var pattern = regexp.MustCompile(`^[a-zA-Z0-9_.]+$`)

type usernames struct{ cfg Config }

// check is Better-Auth's validateUsernameValue on the raw input: length first (so "a!" is too
// short, not invalid), then the pattern. nil means valid.
func (u usernames) check(name string) *plugin.Error {
	switch n := auth.TextLength(name); {
	case n < u.cfg.MinLength:
		return ErrTooShort
	case n > u.cfg.MaxLength:
		return ErrTooLong
	case !pattern.MatchString(name):
		return ErrInvalid
	}
	return nil
}

// unprocessable is err as the plugin's own endpoints answer it: status 422.
func unprocessable(err *plugin.Error) error {
	e := *err
	e.Status = http.StatusUnprocessableEntity
	return &e
}

// normalize is Better-Auth's default usernameNormalization. Validated names are ASCII, so Go's
// and JavaScript's lower-casing agree.
func normalize(name string) string { return strings.ToLower(name) }

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	u := usernames{cfg}
	return plugin.Plugin{
		ID:         ID,
		UserFields: []store.Field{UsernameField, DisplayUsernameField},
		Migrations: migrations,
		Hooks:      plugin.Hooks{UserInput: u.userInput},
		Endpoints: []plugin.Endpoint{{
			Method: http.MethodPost, Path: "/sign-in/username",
			Body: &plugin.Schema{Fields: []plugin.Field{
				{Name: "username", Kind: plugin.String},
				{Name: "password", Kind: plugin.String, Stored: true},
				{Name: "rememberMe", Kind: plugin.Bool, Optional: true},
				{Name: "callbackURL", Kind: plugin.String, Optional: true},
			}},
			Handle: u.signIn,
		}, {
			Method: http.MethodPost, Path: "/is-username-available",
			Body:   &plugin.Schema{Fields: []plugin.Field{{Name: "username", Kind: plugin.String}}},
			Handle: u.isAvailable,
		}},
	}
}

// text reads an optional text field of the body: absent, null, or a string. Anything else is
// refused, where Better-Auth would store it as it came.
func text(body map[string]any, key string) (s string, present, isNull bool, err error) {
	v, present := body[key]
	switch v := v.(type) {
	case nil:
		return "", present, present, nil
	case string:
		if !store.ValidText(v) {
			return "", true, false, validation(key, "Invalid input: the text contains a NUL character")
		}
		return v, true, false, nil
	}
	return "", true, false, validation(key, "Invalid input: expected string, received "+plugin.JSType(v))
}

func validation(key, msg string) error {
	return &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: "[body." + key + "] " + msg}
}

// userInput is Better-Auth's before-hooks on sign-up and update-user together with its user
// create and update hooks: a username given is checked and must be free (the caller's own is
// free to them), and is stored lower-cased; a sign-up without one takes a valid displayUsername
// as its username, and a sign-up with one but no displayUsername displays it as typed. null
// clears a field.
func (u usernames) userInput(ctx context.Context, st *store.Store, in plugin.UserInput) (map[string]store.Value, error) {
	name, hasName, nameNull, err := text(in.Body, UsernameField.Name)
	if err != nil {
		return nil, err
	}
	display, hasDisplay, displayNull, err := text(in.Body, DisplayUsernameField.Name)
	if err != nil {
		return nil, err
	}
	signUp := in.UserID == ""
	if signUp && !hasName && hasDisplay && !displayNull && u.check(display) == nil {
		name, hasName = display, true
	}
	out := map[string]store.Value{}
	switch {
	case hasName && nameNull:
		out[UsernameField.Name] = store.Value{Valid: false}
	case hasName:
		if e := u.check(name); e != nil {
			return nil, e
		}
		owner, err := st.UserByField(ctx, UsernameField.Name, normalize(name))
		switch {
		case err == nil && owner.ID != in.UserID:
			return nil, ErrTaken
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		out[UsernameField.Name] = store.StringValue(normalize(name))
		if signUp && (!hasDisplay || display == "") {
			// Better-Auth fills a missing or empty displayUsername with the name as typed.
			display, hasDisplay, displayNull = name, true, false
		}
	}
	switch {
	case hasDisplay && displayNull:
		out[DisplayUsernameField.Name] = store.Value{Valid: false}
	case hasDisplay:
		out[DisplayUsernameField.Name] = store.StringValue(display)
	}
	return out, nil
}

// signIn is POST /sign-in/username: Better-Auth's checks in its order (a missing username or
// password is a 401, a malformed username a 422), then the shared password sign-in by the
// lower-cased username, answered as e-mail sign-in is.
func (u usernames) signIn(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	name, _ := r.Body["username"].(string)
	password, _ := r.Body["password"].(string)
	if name == "" || password == "" {
		return nil, ErrInvalidCredentials
	}
	if e := u.check(name); e != nil {
		return nil, unprocessable(e)
	}
	var rememberMe *bool
	if b, ok := r.Body["rememberMe"].(bool); ok {
		rememberMe = &b
	}
	callback, _ := r.Body["callbackURL"].(string)
	key := normalize(name)
	st := r.Host.Store()
	res, err := r.Host.SignInWithPassword(ctx, plugin.PasswordSignIn{
		Find:     func(ctx context.Context) (*store.User, error) { return st.UserByField(ctx, UsernameField.Name, key) },
		LockKey:  "username:" + key,
		Password: password, RememberMe: rememberMe, CallbackURL: callback, Meta: r.Meta,
		Incoming: r.Incoming, Invalid: ErrInvalidCredentials,
	})
	if err != nil {
		return nil, err
	}
	var url *string
	if _, sent := r.Body["callbackURL"]; sent {
		url = &callback
	}
	return &plugin.Response{SignIn: res, CallbackURL: url}, nil
}

// isAvailable is POST /is-username-available: {"available":bool} for a well-formed name,
// looked up lower-cased; an empty or malformed one is a 422.
func (u usernames) isAvailable(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	name, _ := r.Body["username"].(string)
	if name == "" {
		return nil, unprocessable(ErrInvalid)
	}
	if e := u.check(name); e != nil {
		return nil, unprocessable(e)
	}
	_, err := r.Host.Store().UserByField(ctx, UsernameField.Name, normalize(name))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &plugin.Response{Body: map[string]bool{"available": true}}, nil
	case err != nil:
		return nil, err
	}
	return &plugin.Response{Body: map[string]bool{"available": false}}, nil
}
