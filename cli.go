package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"authserver/auth"
	"authserver/auth/admin"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// The exit statuses of every command of the binary, documented in README ("Operations → Command
// line") so scripts can tell a refusal from a typo.
const (
	exitOK    = 0 // done
	exitError = 1 // refused or failed; the reason is on stderr
	exitUsage = 2 // the arguments were wrong; the command's usage is on stderr
	// exitUnavailable is a command this build knows but cannot serve.
	exitUnavailable = 3
)

// userPasswordEnv names the variable `user create` and `user set-password` read the password
// from; adminPasswordEnv is accepted too, then the first line of standard input. Never an
// argument: arguments show in ps and in shell history.
const userPasswordEnv = "AUTHSERVER_PASSWORD"

// usageError is a wrong command line: the command prints its usage and exits exitUsage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// cli is one run of an operator command: its streams, environment and output format.
type cli struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	json           bool
}

// subcommand is one verb of an operator command: its usage text and what it runs with the
// arguments left after the verb.
type subcommand struct {
	usage string
	run   func(c *cli, args []string) error
}

// operatorCommands are the command groups of the binary (besides admin, healthcheck, version):
// `authserver GROUP VERB [flags]`.
var operatorCommands = map[string]map[string]subcommand{
	"migrate":  {"apply": {migrateApplyUsage, migrateApply}, "status": {migrateStatusUsage, migrateStatus}, "print": {migratePrintUsage, migratePrint}},
	"user":     {"create": {userCreateUsage, userCreate}, "set-password": {userSetPasswordUsage, userSetPassword}, "set-role": {userSetRoleUsage, userSetRole}, "ban": {userBanUsage, userBan}, "unban": {userUnbanUsage, userUnban}, "list": {userListUsage, userList}},
	"sessions": {"revoke": {sessionsRevokeUsage, sessionsRevoke}},
	"secret":   {"generate": {secretGenerateUsage, secretGenerate}},
	"audit":    {"tail": {auditTailUsage, auditTail}},
	"webhooks": {"status": {webhooksStatusUsage, webhooksStatus}, "retry": {webhooksRetryUsage, webhooksRetry}},
}

const commonHelp = `
Every command reads the same environment as the server (DATABASE_URL, DATA_DIR,
BETTER_AUTH_PLUGINS, ...) and may run while the server runs. --json prints the result as JSON.
Exit status: 0 done, 1 refused or failed (reason on stderr), 2 wrong arguments, 3 not available
in this build.
`

// groupUsage lists a group's verbs, for `authserver GROUP` and `authserver GROUP --help`.
func groupUsage(group string) string {
	verbs := operatorCommands[group]
	names := make([]string, 0, len(verbs))
	for v := range verbs {
		names = append(names, v)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, v := range names {
		b.WriteString(verbs[v].usage)
	}
	b.WriteString(commonHelp)
	return b.String()
}

// operatorCommand runs `authserver GROUP VERB [flags]` and returns the process's exit status.
func operatorCommand(ctx context.Context, group string, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	verbs := operatorCommands[group]
	if len(args) == 0 {
		fmt.Fprint(stderr, groupUsage(group))
		return exitUsage
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprint(stdout, groupUsage(group))
		return exitOK
	}
	sub, ok := verbs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "authserver %s: unknown command %q\n\n%s", group, args[0], groupUsage(group))
		return exitUsage
	}
	name := group + " " + args[0]
	rest := args[1:]
	for _, a := range rest {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprint(stdout, "Usage:\n"+sub.usage+commonHelp)
			return exitOK
		}
	}
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	err := sub.run(c, rest)
	var ue usageError
	var na notAvailable
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "authserver %s: %s\n\nUsage:\n%s", name, ue.msg, sub.usage)
		return exitUsage
	case errors.As(err, &na):
		c.fail(name, err)
		return exitUnavailable
	}
	c.fail(name, err)
	return exitError
}

// fail reports err on stderr, and as {"error": ...} on stdout with --json so a script reading
// stdout always gets a JSON document.
func (c *cli) fail(name string, err error) {
	fmt.Fprintf(c.stderr, "authserver %s: %v\n", name, err)
	if c.json {
		_ = json.NewEncoder(c.stdout).Encode(map[string]string{"error": err.Error()})
	}
}

// flags makes the command's flag set, with --json on every command.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&c.json, "json", false, "print the result as JSON")
	return fs
}

// parse parses args into fs; a wrong flag or a stray argument is a usageError.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// emit prints the result: v as JSON with --json, else text.
func (c *cli) emit(v any, text string) error {
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprint(c.stdout, text)
	return err
}

// opened is the command's environment: the server's configuration and its opened, migrated store
// with the enabled plugins installed, and the services that write through it.
type opened struct {
	cfg      Config
	st       *store.Store
	sessions *session.Manager
	svc      *auth.Service
	close    func()
}

// open loads the configuration and opens the store as the server does (openStore). Changes made
// through env.sessions and env.svc tell the caches as the server's own changes do: on PostgreSQL
// the database's triggers notify every running instance, and with REDIS_URL the shared cache is
// cleared too. On SQLite a running server may serve a revoked session from its memory cache for
// up to SESSION_CACHE_TTL.
func (c *cli) open() (*opened, error) {
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		return nil, err
	}
	st, err := openStore(c.ctx, cfg)
	if err != nil {
		return nil, err
	}
	e := &opened{cfg: cfg, st: st, close: func() { st.Close() }}
	// The service hashes as sign-up does; it needs a session manager to exist, not the real
	// secret, since no command makes a session.
	cfg.Session.Secret = []byte("authserver-command-line-makes-no-session")
	e.sessions = session.New(cfg.Session, st)
	if cfg.RedisURL != "" && st.Dialect() == store.Postgres {
		rdb, err := store.OpenRedis(c.ctx, cfg.RedisURL)
		if err != nil {
			st.Close()
			return nil, err
		}
		e.sessions.SetSharedStore(rdb)
		e.close = func() { rdb.Close(); st.Close() }
	}
	e.svc = auth.New(cfg.Auth, st, e.sessions)
	return e, nil
}

func (e *opened) hasPlugin(id string) bool {
	return slices.ContainsFunc(e.cfg.Auth.Plugins, func(p plugin.Plugin) bool { return p.ID == id })
}

func (e *opened) needAdmin() error {
	if !e.hasPlugin(admin.ID) {
		return errors.New("the admin plugin is not enabled: add admin to BETTER_AUTH_PLUGINS (the same value the server runs with)")
	}
	return nil
}

// userJSON is the user as Better-Auth's endpoints answer it, plugin fields included.
func (e *opened) userJSON(u *store.User) json.RawMessage {
	return store.AppendUserJSON(nil, u, e.st.Columns().User)
}

// audited runs change in one transaction with its audit row: event about the user change
// returns, detail (plus via "cli"; no actor, the operator has no account) and, with WEBHOOK_URLS,
// the webhook rows, as the server writes them. The change and its record commit together or not
// at all, so no change goes unrecorded.
func (e *opened) audited(ctx context.Context, event string, change func(tx *store.Store) (userID string, detail map[string]any, err error)) error {
	return auditedChange(ctx, e.svc, e.st, event, change)
}

// auditedChange is opened.audited for a command that opened st and svc itself (admin create).
func auditedChange(ctx context.Context, svc *auth.Service, st *store.Store, event string, change func(tx *store.Store) (userID string, detail map[string]any, err error)) error {
	return st.Tx(ctx, func(tx *store.Store) error {
		userID, detail, err := change(tx)
		if err != nil {
			return err
		}
		if detail == nil {
			detail = map[string]any{}
		}
		detail["via"] = "cli"
		return svc.Audit(ctx, tx, plugin.AuditEvent{Event: event, UserID: userID, Detail: detail})
	})
}

// ---- migrate ----

const migrateApplyUsage = `  authserver migrate apply [--json]
      run the migrations the server runs at start (core, the plugins in BETTER_AUTH_PLUGINS, and
      the rateLimit table when RATE_LIMIT_STORAGE=database)
`
const migrateStatusUsage = `  authserver migrate status [--json]
      list the core and plugin migrations (BETTER_AUTH_PLUGINS) and whether each has run
`
const migratePrintUsage = `  authserver migrate print [--plugins a,b] [--dialect postgres|sqlite]
      print the SQL the server would run on an empty database, with the rows recording it, for
      applying by hand (psql -f / sqlite3); --plugins defaults to BETTER_AUTH_PLUGINS, --dialect
      to DATABASE_URL's; needs no database
`

// pluginMigrations are the migrations of the plugins cfg enables, in the order the server runs them.
func pluginMigrations(cfg Config) []store.PluginMigration {
	var ms []store.PluginMigration
	for _, p := range cfg.Auth.Plugins {
		ms = append(ms, p.Migrations...)
	}
	return ms
}

func migrateStatus(c *cli, args []string) error {
	if err := parse(c.flags("migrate status"), args); err != nil {
		return err
	}
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(c.ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	status, err := st.Status(c.ctx, pluginMigrations(cfg))
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, group := range [][]store.MigrationState{status.Core, status.Plugins} {
		for _, m := range group {
			state := "pending"
			if m.Applied {
				state = "applied " + m.AppliedAt
			}
			fmt.Fprintf(&b, "%-50s %s\n", m.Name, state)
		}
	}
	fmt.Fprintf(&b, "%d pending\n", status.Pending())
	return c.emit(map[string]any{"dialect": st.Dialect(), "core": status.Core, "plugins": status.Plugins, "pending": status.Pending()}, b.String())
}

func migrateApply(c *cli, args []string) error {
	if err := parse(c.flags("migrate apply"), args); err != nil {
		return err
	}
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(c.ctx, cfg.Store)
	if err != nil {
		return err
	}
	before, err := st.Status(c.ctx, pluginMigrations(cfg))
	st.Close()
	if err != nil {
		return err
	}
	st, err = openStore(c.ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.Web.RateLimit.Storage == "database" {
		if err := st.EnsureRateLimitTable(c.ctx); err != nil {
			return err
		}
	}
	applied := []string{}
	for _, group := range [][]store.MigrationState{before.Core, before.Plugins} {
		for _, m := range group {
			if !m.Applied {
				applied = append(applied, m.Name)
			}
		}
	}
	text := "nothing to do: every migration has run\n"
	if len(applied) > 0 {
		text = "applied:\n  " + strings.Join(applied, "\n  ") + "\n"
	}
	return c.emit(map[string]any{"dialect": st.Dialect(), "applied": applied}, text)
}

func migratePrint(c *cli, args []string) error {
	fs := c.flags("migrate print")
	plugins := fs.String("plugins", c.getenv("BETTER_AUTH_PLUGINS"), "comma-separated plugin names")
	dialect := fs.String("dialect", "", "postgres or sqlite")
	if err := parse(fs, args); err != nil {
		return err
	}
	var d store.Dialect
	switch *dialect {
	case "postgres", "postgresql":
		d = store.Postgres
	case "sqlite":
		d = store.SQLite
	case "":
		var err error
		if d, err = store.DialectOf(c.getenv("DATABASE_URL")); err != nil {
			return err
		}
	default:
		return usageError{fmt.Sprintf("--dialect must be postgres or sqlite, not %q", *dialect)}
	}
	getenv := func(k string) string {
		if k == "BETTER_AUTH_PLUGINS" {
			return *plugins
		}
		return c.getenv(k)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	script, err := store.MigrationScript(d, pluginMigrations(cfg))
	if err != nil {
		return err
	}
	return c.emit(map[string]any{"dialect": d, "sql": script}, script)
}

// ---- user ----

const userCreateUsage = `  authserver user create --email ADDRESS [--name NAME] [--role ROLE] [--json]
      create a user with a password ($AUTHSERVER_PASSWORD, else the first line of standard
      input), e-mail verified; --role needs the admin plugin
`
const userSetPasswordUsage = `  authserver user set-password (--email ADDRESS | --id ID) [--revoke-sessions] [--json]
      set the user's password ($AUTHSERVER_PASSWORD, else the first line of standard input),
      adding an e-mail-and-password account if the user has none
`
const userSetRoleUsage = `  authserver user set-role (--email ADDRESS | --id ID) --role ROLE [--json]
      give the user ROLE (several: comma-separated); needs the admin plugin
`
const userBanUsage = `  authserver user ban (--email ADDRESS | --id ID) [--reason TEXT] [--expires-in DURATION] [--json]
      ban the user (admin plugin: banned, banReason, banExpires) and end every session of theirs;
      DURATION as 24h or 30m (default: ADMIN_BAN_EXPIRES_IN, else never)
`
const userUnbanUsage = `  authserver user unban (--email ADDRESS | --id ID) [--json]
      lift the user's ban (admin plugin)
`
const userListUsage = `  authserver user list [--email-contains TEXT] [--limit N] [--offset N] [--json]
      list users, oldest first (default limit 100)
`

// userFlags adds --email and --id, the two ways to name an existing user.
func userFlags(fs *flag.FlagSet) (email, id *string) {
	return fs.String("email", "", "the user's e-mail address"), fs.String("id", "", "the user's id")
}

// findUser reads the user named by exactly one of email and id.
func (e *opened) findUser(ctx context.Context, email, id string) (*store.User, error) {
	var u *store.User
	var err error
	if id != "" {
		u, err = e.st.UserByID(ctx, id)
	} else {
		u, err = e.st.UserByEmail(ctx, auth.NormalizeEmail(email))
	}
	if errors.Is(err, store.ErrNotFound) {
		if id != "" {
			return nil, fmt.Errorf("no user has the id %s", id)
		}
		return nil, fmt.Errorf("no user has the address %s", email)
	}
	return u, err
}

// oneUser checks that exactly one of --email and --id was given.
func oneUser(email, id string) error {
	if (email == "") == (id == "") {
		return usageError{"name the user with --email or --id (one of them)"}
	}
	return nil
}

// password reads a password from the environment or standard input.
func (c *cli) password() (string, error) {
	if pw := c.getenv(userPasswordEnv); pw != "" {
		return pw, nil
	}
	pw, err := adminPassword(c.stdin, c.getenv)
	if err != nil && strings.HasPrefix(err.Error(), "no password") {
		return "", fmt.Errorf("no password: set %s or pass it on the first line of standard input", userPasswordEnv)
	}
	return pw, err
}

func userCreate(c *cli, args []string) error {
	fs := c.flags("user create")
	email := fs.String("email", "", "")
	name := fs.String("name", "", "")
	role := fs.String("role", "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"--email is required"}
	}
	if !auth.ValidEmail(*email) {
		return fmt.Errorf("%q is not a valid e-mail address", *email)
	}
	addr := auth.NormalizeEmail(*email)
	e, err := c.open()
	if err != nil {
		return err
	}
	defer e.close()
	var values map[string]store.Value
	if r := strings.TrimSpace(*role); r != "" {
		if err := e.needAdmin(); err != nil {
			return err
		}
		values = map[string]store.Value{"role": store.StringValue(r)}
	}
	pw, err := c.password()
	if err != nil {
		return err
	}
	if err := e.svc.CheckPassword(pw, true); err != nil {
		return fmt.Errorf("the password: %w", err)
	}
	if *name == "" {
		*name, _, _ = strings.Cut(addr, "@")
	}
	hash, err := e.svc.HashPassword(c.ctx, pw) // before the transaction: see admin.NewUser
	if err != nil {
		return err
	}
	var u *store.User
	err = e.audited(c.ctx, "admin.create-user", func(tx *store.Store) (string, map[string]any, error) {
		var err error
		u, err = admin.CreateUser(c.ctx, tx, e.svc.Now(), admin.NewUser{Name: *name, Email: addr, PasswordHash: hash,
			Core: map[string]any{"emailVerified": true}, Values: values})
		if err != nil {
			return "", nil, err
		}
		d := map[string]any{}
		if values != nil {
			d["role"] = strings.TrimSpace(*role)
		}
		return u.ID, d, nil
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a user with the address %s exists already", addr)
	}
	if err != nil {
		return err
	}
	return c.emit(map[string]any{"user": e.userJSON(u)}, fmt.Sprintf("created %s (%s)\n", addr, u.ID))
}

func userSetPassword(c *cli, args []string) error {
	fs := c.flags("user set-password")
	email, id := userFlags(fs)
	revoke := fs.Bool("revoke-sessions", false, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := oneUser(*email, *id); err != nil {
		return err
	}
	e, err := c.open()
	if err != nil {
		return err
	}
	defer e.close()
	u, err := e.findUser(c.ctx, *email, *id)
	if err != nil {
		return err
	}
	pw, err := c.password()
	if err != nil {
		return err
	}
	if err := e.svc.CheckPassword(pw, true); err != nil {
		return fmt.Errorf("the password: %w", err)
	}
	hash, err := e.svc.HashPassword(c.ctx, pw)
	if err != nil {
		return err
	}
	now := store.NewTime(time.Now())
	revoked := 0
	err = e.audited(c.ctx, "admin.set-user-password", func(tx *store.Store) (string, map[string]any, error) {
		acc, err := tx.CredentialAccount(c.ctx, u.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			err = tx.CreateAccount(c.ctx, &store.Account{ID: session.NewID(), AccountID: u.ID, ProviderID: store.CredentialProvider,
				UserID: u.ID, Password: &hash, CreatedAt: now, UpdatedAt: now})
		case err == nil:
			err = tx.SetAccountPassword(c.ctx, acc.ID, hash, now)
		}
		if err != nil {
			return "", nil, err
		}
		if *revoke {
			if revoked, err = revokeSessions(c.ctx, tx, u.ID); err != nil {
				return "", nil, err
			}
		}
		return u.ID, map[string]any{"revokeSessions": *revoke}, nil
	})
	if err != nil {
		return err
	}
	if *revoke {
		e.sessions.InvalidateUser(u.ID)
	}
	text := fmt.Sprintf("set the password of %s (%s)\n", u.Email, u.ID)
	if *revoke {
		text += fmt.Sprintf("ended %d sessions\n", revoked)
	}
	return c.emit(map[string]any{"userId": u.ID, "revokedSessions": revoked}, text)
}

func userSetRole(c *cli, args []string) error {
	fs := c.flags("user set-role")
	email, id := userFlags(fs)
	role := fs.String("role", "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := oneUser(*email, *id); err != nil {
		return err
	}
	r := strings.TrimSpace(*role)
	if r == "" {
		return usageError{"--role is required"}
	}
	e, err := c.open()
	if err != nil {
		return err
	}
	defer e.close()
	if err := e.needAdmin(); err != nil {
		return err
	}
	u, err := e.findUser(c.ctx, *email, *id)
	if err != nil {
		return err
	}
	err = e.audited(c.ctx, "admin.set-role", func(tx *store.Store) (string, map[string]any, error) {
		var err error
		u, err = tx.UpdateUserFields(c.ctx, u.ID, nil, map[string]store.Value{"role": store.StringValue(r)}, store.NewTime(time.Now()))
		if err != nil {
			return "", nil, err
		}
		return u.ID, map[string]any{"role": r}, nil
	})
	if err != nil {
		return err
	}
	e.sessions.InvalidateUser(u.ID) // sessions cached with the old row would print the old role
	return c.emit(map[string]any{"user": e.userJSON(u)}, fmt.Sprintf("%s (%s) now has the role %s\n", u.Email, u.ID, r))
}

// revokeSessions deletes every session of the user in tx, as the admin plugin's
// revoke-user-sessions does, and counts them. The caller tells the caches
// (sessions.InvalidateUser) once tx has committed.
func revokeSessions(ctx context.Context, tx *store.Store, userID string) (int, error) {
	tokens, err := tx.DeleteUserSessions(ctx, userID)
	if err != nil {
		return 0, err
	}
	return len(tokens), nil
}

func userBan(c *cli, args []string) error {
	fs := c.flags("user ban")
	email, id := userFlags(fs)
	reason := fs.String("reason", "", "")
	expiresIn := fs.Duration("expires-in", 0, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := oneUser(*email, *id); err != nil {
		return err
	}
	if *expiresIn < 0 {
		return usageError{"--expires-in must be positive"}
	}
	e, err := c.open()
	if err != nil {
		return err
	}
	defer e.close()
	if err := e.needAdmin(); err != nil {
		return err
	}
	acfg, err := admin.LoadConfig(c.getenv)
	if err != nil {
		return err
	}
	u, err := e.findUser(c.ctx, *email, *id)
	if err != nil {
		return err
	}
	why := *reason
	if why == "" {
		why = acfg.BanReason
	}
	expires := store.Value{}
	detail := map[string]any{"banReason": why}
	life := *expiresIn
	if life == 0 {
		life = acfg.BanExpiresIn
	}
	if life > 0 {
		expires = store.TimeValue(time.Now().Add(life))
		detail["banExpiresIn"] = int64(life / time.Second) // seconds, as the admin endpoint takes it
	}
	n := 0
	err = e.audited(c.ctx, "admin.ban-user", func(tx *store.Store) (string, map[string]any, error) {
		var err error
		u, err = tx.UpdateUserFields(c.ctx, u.ID, nil, map[string]store.Value{
			admin.BannedField.Name: store.BoolValue(true), admin.BanReasonField.Name: store.StringValue(why), admin.BanExpiresField.Name: expires},
			store.NewTime(time.Now()))
		if err != nil {
			return "", nil, err
		}
		if n, err = revokeSessions(c.ctx, tx, u.ID); err != nil {
			return "", nil, err
		}
		detail["revokedSessions"] = n
		return u.ID, detail, nil
	})
	if err != nil {
		return err
	}
	e.sessions.InvalidateUser(u.ID)
	return c.emit(map[string]any{"user": e.userJSON(u), "revokedSessions": n},
		fmt.Sprintf("banned %s (%s); ended %d sessions\n", u.Email, u.ID, n))
}

func userUnban(c *cli, args []string) error {
	fs := c.flags("user unban")
	email, id := userFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := oneUser(*email, *id); err != nil {
		return err
	}
	e, err := c.open()
	if err != nil {
		return err
	}
	defer e.close()
	if err := e.needAdmin(); err != nil {
		return err
	}
	u, err := e.findUser(c.ctx, *email, *id)
	if err != nil {
		return err
	}
	err = e.audited(c.ctx, "admin.unban-user", func(tx *store.Store) (string, map[string]any, error) {
		var err error
		u, err = tx.UpdateUserFields(c.ctx, u.ID, nil, map[string]store.Value{
			admin.BannedField.Name: store.BoolValue(false), admin.BanReasonField.Name: {}, admin.BanExpiresField.Name: {}}, store.NewTime(time.Now()))
		if err != nil {
			return "", nil, err
		}
		return u.ID, nil, nil
	})
	if err != nil {
		return err
	}
	e.sessions.InvalidateUser(u.ID)
	return c.emit(map[string]any{"user": e.userJSON(u)}, fmt.Sprintf("lifted the ban of %s (%s)\n", u.Email, u.ID))
}

func userList(c *cli, args []string) error {
	fs := c.flags("user list")
	contains := fs.String("email-contains", "", "")
	limit := fs.Int("limit", 100, "")
	offset := fs.Int("offset", 0, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit <= 0 || *offset < 0 {
		return usageError{"--limit must be positive and --offset not negative"}
	}
	e, err := c.open()
	if err != nil {
		return err
	}
	defer e.close()
	q := store.UserQuery{SortBy: "createdAt", Limit: *limit, Offset: *offset}
	if *contains != "" {
		q.Where = []store.UserCond{{Field: "email", Op: "contains", Values: []string{*contains}}}
	}
	users, total, err := e.st.ListUsers(c.ctx, q)
	if err != nil {
		return err
	}
	out := make([]json.RawMessage, len(users))
	var b strings.Builder
	for i := range users {
		out[i] = e.userJSON(&users[i])
		fmt.Fprintf(&b, "%s  %s  %s\n", users[i].ID, users[i].Email, users[i].Name)
	}
	fmt.Fprintf(&b, "%d of %d users\n", len(users), total)
	return c.emit(map[string]any{"users": out, "total": total}, b.String())
}

// ---- sessions ----

const sessionsRevokeUsage = `  authserver sessions revoke --user (ADDRESS | ID) [--json]
      end every session of the user (they must sign in again)
`

func sessionsRevoke(c *cli, args []string) error {
	fs := c.flags("sessions revoke")
	who := fs.String("user", "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *who == "" {
		return usageError{"--user is required (an e-mail address or a user id)"}
	}
	e, err := c.open()
	if err != nil {
		return err
	}
	defer e.close()
	var u *store.User
	if strings.Contains(*who, "@") {
		u, err = e.findUser(c.ctx, *who, "")
	} else {
		u, err = e.findUser(c.ctx, "", *who)
	}
	if err != nil {
		return err
	}
	n := 0
	err = e.audited(c.ctx, "admin.revoke-user-sessions", func(tx *store.Store) (string, map[string]any, error) {
		var err error
		if n, err = revokeSessions(c.ctx, tx, u.ID); err != nil {
			return "", nil, err
		}
		return u.ID, map[string]any{"revokedSessions": n}, nil
	})
	if err != nil {
		return err
	}
	e.sessions.InvalidateUser(u.ID)
	return c.emit(map[string]any{"userId": u.ID, "revokedSessions": n}, fmt.Sprintf("ended %d sessions of %s (%s)\n", n, u.Email, u.ID))
}

// ---- secret ----

const secretGenerateUsage = `  authserver secret generate [--json]
      print a new random secret (32 bytes from the system's CSPRNG, base64url, 43 characters)
      for BETTER_AUTH_SECRET
`

func secretGenerate(c *cli, args []string) error {
	if err := parse(c.flags("secret generate"), args); err != nil {
		return err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	s := base64.RawURLEncoding.EncodeToString(raw)
	return c.emit(map[string]string{"secret": s}, s+"\n")
}

// ---- audit ----

const auditTailUsage = `  authserver audit tail [-n COUNT] [--user (ADDRESS | ID)] [--json]
      print the latest COUNT (default 20) audit-log rows, oldest first, of everyone or of one user
`

// notAvailable is a command this build knows but cannot serve; it exits exitUnavailable.
type notAvailable struct{ msg string }

func (e notAvailable) Error() string { return e.msg }

func auditTail(c *cli, args []string) error {
	fs := c.flags("audit tail")
	n := fs.Int("n", 20, "")
	who := fs.String("user", "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n <= 0 || *n > 10000 {
		return usageError{"-n must be from 1 to 10000"}
	}
	e, err := c.open()
	if err != nil {
		return err
	}
	defer e.close()
	f := store.AuditFilter{Limit: *n}
	if *who != "" {
		// A deleted user's rows stay: an id that names no user is still looked up.
		f.UserID = *who
		if strings.Contains(*who, "@") {
			u, err := e.findUser(c.ctx, *who, "")
			if err != nil {
				return err
			}
			f.UserID = u.ID
		}
	}
	rows, _, err := e.st.AuditLog(c.ctx, f)
	if err != nil {
		return err
	}
	slices.Reverse(rows) // a tail reads oldest to newest
	if rows == nil {
		rows = []store.AuditEntry{}
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s  %-22s %-7s user=%s actor=%s ip=%s %s\n", r.CreatedAt.String(), r.Event, r.Outcome,
			orDash(r.UserID), orDash(r.ActorID), orDash(r.IPAddress), r.Detail)
	}
	return c.emit(map[string]any{"entries": rows}, b.String())
}

// orDash prints an optional column, "-" when empty.
func orDash(p *string) string {
	if p == nil || *p == "" {
		return "-"
	}
	return *p
}

// ---- webhooks ----

const webhooksStatusUsage = `  authserver webhooks status [--limit N] [--json]
      list the webhook deliveries not yet delivered (at most N, default 100), oldest first: the
      webhook-id, event type, URL, when queued, attempts, next attempt and the last failure
`
const webhooksRetryUsage = `  authserver webhooks retry [--id WEBHOOK-ID] [--json]
      make the pending delivery WEBHOOK-ID (or every pending one) due now; a running server
      attempts it within a second
`

// webhookStatus is one pending delivery as `webhooks status --json` prints it.
type webhookStatus struct {
	ID            string  `json:"id"`
	Type          string  `json:"type"`
	URL           string  `json:"url"`
	CreatedAt     string  `json:"createdAt"`
	Attempts      int     `json:"attempts"`
	NextAttemptAt string  `json:"nextAttemptAt"`
	LastError     *string `json:"lastError"`
}

// openStoreOnly loads the configuration and opens and migrates the store as the server does,
// for commands that need nothing else.
func (c *cli) openStoreOnly() (*store.Store, error) {
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		return nil, err
	}
	return openStore(c.ctx, cfg)
}

func webhooksStatus(c *cli, args []string) error {
	fs := c.flags("webhooks status")
	limit := fs.Int("limit", 100, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit <= 0 {
		return usageError{"--limit must be positive"}
	}
	st, err := c.openStoreOnly()
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := st.WebhookQueue(c.ctx)
	if err != nil {
		return err
	}
	rows, err := st.PendingWebhooks(c.ctx, *limit)
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]webhookStatus, len(rows))
	var b strings.Builder
	for i, r := range rows {
		// The payload is the signed body ({"type":…,"timestamp":…,"data":…}); only its type is shown.
		var p struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal([]byte(r.Payload), &p)
		out[i] = webhookStatus{ID: r.ID, Type: p.Type, URL: r.URL, CreatedAt: r.CreatedAt.String(), Attempts: r.Attempts,
			NextAttemptAt: r.NextAttemptAt.String(), LastError: r.LastError}
		next := "due now"
		if wait := r.NextAttemptAt.Sub(now); wait > 0 {
			next = "next in " + wait.Round(time.Second).String()
		}
		fmt.Fprintf(&b, "%s  %s  %s  queued %s  attempts %d  %s  last error: %s\n", r.ID, orDash(&p.Type), r.URL,
			r.CreatedAt.String(), r.Attempts, next, orDash(r.LastError))
	}
	summary := map[string]any{"pending": q.Pending, "deliveries": out, "oldestCreatedAt": nil, "oldestAgeSeconds": 0}
	if q.Pending == 0 {
		b.WriteString("0 pending\n")
	} else {
		age := max(now.Sub(q.Oldest), 0)
		summary["oldestCreatedAt"], summary["oldestAgeSeconds"] = store.NewTime(q.Oldest).String(), int64(age.Seconds())
		if int64(len(rows)) < q.Pending {
			fmt.Fprintf(&b, "(%d shown)\n", len(rows))
		}
		fmt.Fprintf(&b, "%d pending, the oldest queued %s ago\n", q.Pending, age.Round(time.Second))
	}
	return c.emit(summary, b.String())
}

func webhooksRetry(c *cli, args []string) error {
	fs := c.flags("webhooks retry")
	id := fs.String("id", "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := c.openStoreOnly()
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.RetryWebhooks(c.ctx, *id, time.Now())
	if err != nil {
		return err
	}
	if *id != "" && n == 0 {
		return fmt.Errorf("no pending delivery has the webhook-id %s (delivered already, or never queued)", *id)
	}
	return c.emit(map[string]any{"retried": n}, fmt.Sprintf("%d deliveries due now\n", n))
}
