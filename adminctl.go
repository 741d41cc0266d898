package main

import (
	"bufio"
	"context"
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

// adminPasswordEnv names the variable `authserver admin create` reads the password from when it
// is set; otherwise the first line of standard input. Never an argument: arguments show in ps
// and in shell history.
const adminPasswordEnv = "AUTHSERVER_ADMIN_PASSWORD"

const adminUsage = `Usage:
  authserver admin create --email ADDRESS [--name NAME] [--role ROLE]
      create a user with a password (from $AUTHSERVER_ADMIN_PASSWORD, else the first line of
      standard input), e-mail verified, with ROLE (default admin)
  authserver admin set-role --email ADDRESS [--role ROLE]
      give an existing user ROLE (default admin)

Both read the same environment as the server (DATABASE_URL, DATA_DIR, BETTER_AUTH_PLUGINS, ...)
and need the admin plugin in BETTER_AUTH_PLUGINS. They can run while the server runs.
`

// adminCommand runs `authserver admin …`, the way to make the first administrator without SQL.
// It returns the process's exit status: 0 done, 1 refused or failed (the reason on stderr), 2 a
// usage error.
func adminCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || (args[0] != "create" && args[0] != "set-role") {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	fs := flag.NewFlagSet("admin "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the user's e-mail address")
	role := fs.String("role", "admin", "the role to give (several: comma-separated)")
	name := fs.String("name", "", "the new user's name (create; default: the address's local part)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *email == "" || strings.TrimSpace(*role) == "" {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	if err := runAdminCommand(ctx, args[0], *email, *name, strings.TrimSpace(*role), stdin, stdout, getenv); err != nil {
		fmt.Fprintln(stderr, "authserver admin:", err)
		return 1
	}
	return 0
}

func runAdminCommand(ctx context.Context, verb, email, name, role string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	if !auth.ValidEmail(email) {
		return fmt.Errorf("%q is not a valid e-mail address", email)
	}
	email = auth.NormalizeEmail(email)
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(cfg.Auth.Plugins, func(p plugin.Plugin) bool { return p.ID == admin.ID }) {
		return errors.New("the admin plugin is not enabled: add admin to BETTER_AUTH_PLUGINS (the same value the server runs with)")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	roleValue := map[string]store.Value{"role": store.StringValue(role)}
	// The service hashes as sign-up does, applies the same length rules and writes the audit
	// rows; it needs a session manager to exist, not a real secret, since this command makes no
	// session.
	cfg.Session.Secret = []byte("authserver-admin-command-makes-no-session")
	svc := auth.New(cfg.Auth, st, session.New(cfg.Session, st))

	if verb == "set-role" {
		u, err := st.UserByEmail(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user has the address %s", email)
		}
		if err != nil {
			return err
		}
		err = auditedChange(ctx, svc, st, "admin.set-role", func(tx *store.Store) (string, map[string]any, error) {
			return u.ID, map[string]any{"role": role}, tx.SetUserFields(ctx, u.ID, roleValue, store.NewTime(time.Now()))
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s (%s) now has the role %s\n", email, u.ID, role)
		return nil
	}

	password, err := adminPassword(stdin, getenv)
	if err != nil {
		return err
	}
	if err := svc.CheckPassword(password, true); err != nil {
		return fmt.Errorf("the password: %w", err)
	}
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	hash, err := svc.HashPassword(ctx, password) // before the transaction: see admin.NewUser
	if err != nil {
		return err
	}
	var u *store.User
	err = auditedChange(ctx, svc, st, "admin.create-user", func(tx *store.Store) (string, map[string]any, error) {
		var err error
		u, err = admin.CreateUser(ctx, tx, svc.Now(), admin.NewUser{Name: name, Email: email, PasswordHash: hash,
			Core: map[string]any{"emailVerified": true}, Values: roleValue})
		if err != nil {
			return "", nil, err
		}
		return u.ID, map[string]any{"role": role}, nil
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a user with the address %s exists already; use set-role", email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s (%s) with the role %s\n", email, u.ID, role)
	return nil
}

// adminPassword reads the new administrator's password: the environment variable, else the
// first line of standard input.
func adminPassword(stdin io.Reader, getenv func(string) string) (string, error) {
	if pw := getenv(adminPasswordEnv); pw != "" {
		return pw, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no password: set %s or pass it on the first line of standard input", adminPasswordEnv)
	}
	return line, nil
}
