// Package admin is Better-Auth's admin plugin: users carry a role (comma-separated role names,
// "user" for new users), a ban (banned, banReason, banExpires) and sessions an impersonatedBy;
// callers whose role grants it (auth/access's default admin role, or whose id is in
// ADMIN_USER_IDS) list, create, edit, ban, impersonate and remove users under /admin/*. A banned
// user gets no session by any way of signing in until the ban is lifted or, lazily at the next
// sign-in, has expired.
package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"authserver/auth/access"
	"authserver/auth/plugin"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "admin"

// Better-Auth's defaults.
const (
	DefaultRole                 = "user"
	DefaultImpersonationSession = time.Hour
	DefaultBanReason            = "No reason"
	DefaultBannedMessage        = "You have been banned from this application. Please contact support if you believe this is an error."
)

// Config holds the plugin's options that change the wire.
type Config struct {
	// UserIDs (adminUserIds) may do everything, whatever their role.
	UserIDs []string
	// DefaultRole (defaultRole) is the role of new users and of users without one.
	DefaultRole string
	// AdminRoles (adminRoles) are the roles that make a user an admin who cannot be impersonated
	// without the impersonate-admins permission. Each must be a known role.
	AdminRoles []string
	// ImpersonationSession (impersonationSessionDuration) is the life of an impersonation session.
	ImpersonationSession time.Duration
	// BanReason (defaultBanReason) is stored when ban-user gives none.
	BanReason string
	// BanExpiresIn (defaultBanExpiresIn), when not zero, ends bans that give no banExpiresIn.
	BanExpiresIn time.Duration
	// BannedMessage (bannedUserMessage) is the message of the BANNED_USER refusal.
	BannedMessage string
	// Roles are the known roles; nil is access.AdminRoles.
	Roles access.Roles
}

// LoadConfig reads ADMIN_USER_IDS and ADMIN_ROLES (comma-separated), ADMIN_DEFAULT_ROLE,
// ADMIN_IMPERSONATION_SESSION_DURATION and ADMIN_DEFAULT_BAN_EXPIRES_IN (seconds),
// ADMIN_DEFAULT_BAN_REASON and ADMIN_BANNED_USER_MESSAGE, as Better-Auth's options of the same
// meaning.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{DefaultRole: DefaultRole, AdminRoles: []string{"admin"}, ImpersonationSession: DefaultImpersonationSession,
		BanReason: DefaultBanReason, BannedMessage: DefaultBannedMessage, Roles: access.AdminRoles}
	var errs []error
	list := func(v string) []string {
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if v := getenv("ADMIN_USER_IDS"); strings.TrimSpace(v) != "" {
		c.UserIDs = list(v)
	}
	if v := strings.TrimSpace(getenv("ADMIN_DEFAULT_ROLE")); v != "" {
		c.DefaultRole = v
	}
	if v := getenv("ADMIN_ROLES"); strings.TrimSpace(v) != "" {
		c.AdminRoles = list(v)
		for _, r := range c.AdminRoles {
			if _, ok := c.Roles[strings.ToLower(r)]; !ok {
				errs = append(errs, fmt.Errorf("ADMIN_ROLES: %q is not a known role (known: admin, user)", r))
			}
		}
	}
	for _, o := range []struct {
		name string
		dst  *time.Duration
	}{{"ADMIN_IMPERSONATION_SESSION_DURATION", &c.ImpersonationSession}, {"ADMIN_DEFAULT_BAN_EXPIRES_IN", &c.BanExpiresIn}} {
		if v := strings.TrimSpace(getenv(o.name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				errs = append(errs, fmt.Errorf("%s: %q is not a positive number of seconds", o.name, v))
				continue
			}
			*o.dst = time.Duration(n) * time.Second
		}
	}
	if v := strings.TrimSpace(getenv("ADMIN_DEFAULT_BAN_REASON")); v != "" {
		c.BanReason = v
	}
	if v := strings.TrimSpace(getenv("ADMIN_BANNED_USER_MESSAGE")); v != "" {
		c.BannedMessage = v
	}
	return c, errors.Join(errs...)
}

// The fields, as Better-Auth's schema declares them: all input:false. role and banned take their
// defaults on every user the server creates; Better-Auth's migrate gives the columns no database
// default, so users from before the plugin print null.
var (
	BannedField         = store.Field{Name: "banned", Type: store.BoolField, Nullable: true, Default: store.BoolValue(false), ReadOnly: true}
	BanReasonField      = store.Field{Name: "banReason", Type: store.StringField, Nullable: true, ReadOnly: true}
	BanExpiresField     = store.Field{Name: "banExpires", Type: store.TimeField, Nullable: true, ReadOnly: true}
	ImpersonatedByField = store.Field{Name: "impersonatedBy", Type: store.StringField, Nullable: true, ReadOnly: true}
)

// RoleField is the user's role column with defaultRole as its default. Better-Auth's schema gives
// role no default (its user-create hook writes defaultRole), so a sign-up body naming a role is
// refused with FIELD_NOT_ALLOWED, where one naming banned is ignored.
func RoleField(defaultRole string) store.Field {
	return store.Field{Name: "role", Type: store.StringField, Nullable: true, Default: store.StringValue(defaultRole), ReadOnly: true, DefaultByHook: true}
}

func column(table, name, pg, lite string) store.PluginMigration {
	return store.PluginMigration{
		Name: ID + "/" + table + "_" + name,
		SQL: map[store.Dialect]string{
			store.Postgres: fmt.Sprintf(`alter table %q add column %q %s;`, table, name, pg),
			store.SQLite:   fmt.Sprintf(`alter table %q add column %q %s;`, table, name, lite),
		},
		Table: table, Column: name,
	}
}

// migrations add the columns with the types Better-Auth 1.7.25's migrate gives them; a database
// it migrated with the plugin already has them and keeps them.
var migrations = []store.PluginMigration{
	column("user", "role", "text", "text"),
	column("user", "banned", "boolean", "integer"),
	column("user", "banReason", "text", "text"),
	column("user", "banExpires", "timestamptz", "date"),
	column("session", "impersonatedBy", "text", "text"),
	listIndexes,
}

// listIndexes keeps list-users under 50 ms a page at 100,000 users (web/listload_bench_test.go,
// figures in the README): createdAt for the newest-first sort and the total, role for the role
// filter, and on PostgreSQL trigram indexes so that the LIKE '%v%' of the search operators, which
// no btree can serve, does not read the whole table twice (page and count). They are indexes
// only, under names of this server's own (authserver_*), so a database shared with Better-Auth
// keeps a schema its migrate accepts: 1.7.25's getMigrations checks only the indexes it declares,
// by name (<table>_<field>_idx), and leaves others alone (checked: it runs on a database this
// migration made). pg_trgm is a
// trusted extension (PostgreSQL 13+), so the database owner may create it; where that is refused
// the migration still succeeds without the trigram indexes, and search falls back to scanning.
var listIndexes = store.PluginMigration{
	Name: ID + "/user_list_indexes",
	SQL: map[store.Dialect]string{
		store.Postgres: `create index if not exists "authserver_user_createdAt_idx" on "user" ("createdAt", "id");
create index if not exists "authserver_user_role_idx" on "user" ("role");
do $$ begin create extension if not exists pg_trgm; exception when others then raise notice 'pg_trgm unavailable (%): list-users search scans the user table', sqlerrm; end $$;
do $$ begin if exists (select 1 from pg_extension where extname = 'pg_trgm') then
  create index if not exists "authserver_user_email_trgm_idx" on "user" using gin ("email" gin_trgm_ops);
  create index if not exists "authserver_user_name_trgm_idx" on "user" using gin ("name" gin_trgm_ops);
end if; end $$;`,
		store.SQLite: `create index if not exists "authserver_user_createdAt_idx" on "user" ("createdAt", "id");
create index if not exists "authserver_user_role_idx" on "user" ("role");`,
	},
}

func forbidden(code, msg string) *plugin.Error {
	return &plugin.Error{Status: http.StatusForbidden, Code: code, Message: msg}
}

func badRequest(code, msg string) *plugin.Error {
	return &plugin.Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

// Better-Auth's answers.
var (
	ErrUnauthorized        = &plugin.Error{Status: http.StatusUnauthorized}
	ErrChangeRole          = forbidden("YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE", "You are not allowed to change users role")
	ErrCreateUsers         = forbidden("YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS", "You are not allowed to create users")
	ErrListUsers           = forbidden("YOU_ARE_NOT_ALLOWED_TO_LIST_USERS", "You are not allowed to list users")
	ErrListSessions        = forbidden("YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS", "You are not allowed to list users sessions")
	ErrBanUsers            = forbidden("YOU_ARE_NOT_ALLOWED_TO_BAN_USERS", "You are not allowed to ban users")
	ErrImpersonate         = forbidden("YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS", "You are not allowed to impersonate users")
	ErrRevokeSessions      = forbidden("YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS", "You are not allowed to revoke users sessions")
	ErrDeleteUsers         = forbidden("YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS", "You are not allowed to delete users")
	ErrSetPassword         = forbidden("YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD", "You are not allowed to set users password")
	ErrGetUser             = forbidden("YOU_ARE_NOT_ALLOWED_TO_GET_USER", "You are not allowed to get user")
	ErrUpdateUsers         = forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS", "You are not allowed to update users")
	ErrSetEmail            = forbidden("YOU_ARE_NOT_ALLOWED_TO_SET_USERS_EMAIL", "You are not allowed to update users email")
	ErrSetPhone            = forbidden("YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PHONE_NUMBER", "You are not allowed to update users phone number")
	ErrImpersonateAdmins   = forbidden("YOU_CANNOT_IMPERSONATE_ADMINS", "You cannot impersonate admins")
	ErrUserExists          = badRequest("USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.")
	ErrBanYourself         = badRequest("YOU_CANNOT_BAN_YOURSELF", "You cannot ban yourself")
	ErrRemoveYourself      = badRequest("YOU_CANNOT_REMOVE_YOURSELF", "You cannot remove yourself")
	ErrNoData              = badRequest("NO_DATA_TO_UPDATE", "No data to update")
	ErrNonExistentRole     = badRequest("YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE", "You are not allowed to set a non-existent role value")
	ErrInvalidRoleType     = badRequest("INVALID_ROLE_TYPE", "Invalid role type")
	ErrPasswordViaUpdate   = badRequest("PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER", "Password cannot be updated through update-user. Use the set-user-password endpoint instead")
	ErrIDUpdate            = badRequest("USER_ID_CANNOT_BE_UPDATED", "User id cannot be updated")
	ErrInvalidEmail        = badRequest("INVALID_EMAIL", "Invalid email")
	ErrUserNotFound        = &plugin.Error{Status: http.StatusNotFound, Code: "USER_NOT_FOUND", Message: "User not found"}
	ErrNotImpersonating    = &plugin.Error{Status: http.StatusBadRequest, Message: "You are not impersonating anyone"}
	ErrNoAdminSession      = &plugin.Error{Status: http.StatusInternalServerError, Message: "Failed to find admin session"}
	ErrNoAdminUser         = &plugin.Error{Status: http.StatusInternalServerError, Message: "Failed to find user"}
	ErrNoPermissionsPassed = &plugin.Error{Status: http.StatusBadRequest, Message: "invalid permission check. no permission(s) were passed."}
)

// CookieName is the signed cookie that keeps the admin's own session during an impersonation.
const CookieName = "admin_session"

type admin struct {
	cfg  Config
	role store.Field
}

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	if cfg.Roles == nil {
		cfg.Roles = access.AdminRoles
	}
	if cfg.DefaultRole == "" {
		cfg.DefaultRole = DefaultRole
	}
	a := &admin{cfg: cfg, role: RoleField(cfg.DefaultRole)}
	action := func(path string, fields []plugin.Field, h handler) plugin.Endpoint {
		return plugin.Endpoint{Method: http.MethodPost, Path: path, Body: &plugin.Schema{Fields: fields},
			Session: plugin.OptionalSession, Authoritative: true, Handle: h}
	}
	post := func(path string, fields []plugin.Field, h handler) plugin.Endpoint {
		return action(path, fields, audited(path, h))
	}
	// postPrepared is post for an action that hashes a password before its transaction.
	postPrepared := func(path string, fields []plugin.Field, prepare func(context.Context, *plugin.Request) (apply, error)) plugin.Endpoint {
		return action(path, fields, prepared(path, prepare))
	}
	return plugin.Plugin{
		ID:            ID,
		UserFields:    []store.Field{a.role, BannedField, BanReasonField, BanExpiresField},
		SessionFields: []store.Field{ImpersonatedByField},
		Migrations:    migrations,
		Hooks:         plugin.Hooks{BeforeSession: a.beforeSession, ListSessions: hideImpersonations},
		Endpoints: []plugin.Endpoint{
			{Method: http.MethodGet, Path: "/admin/list-users", Session: plugin.OptionalSession, Authoritative: true, Handle: a.listUsers},
			{Method: http.MethodGet, Path: "/admin/get-user", Session: plugin.OptionalSession, Authoritative: true, Handle: a.getUser},
			{Method: http.MethodGet, Path: "/admin/audit-log", Session: plugin.OptionalSession, Authoritative: true, Handle: a.auditLog},
			postPrepared("/admin/create-user", []plugin.Field{{Name: "email", Kind: plugin.String}, {Name: "password", Kind: plugin.String, Optional: true},
				{Name: "name", Kind: plugin.String, Stored: true}}, a.createUser),
			post("/admin/update-user", nil, a.updateUser),
			post("/admin/set-role", nil, a.setRole),
			postPrepared("/admin/set-user-password", []plugin.Field{{Name: "newPassword", Kind: plugin.String}}, a.setUserPassword),
			post("/admin/ban-user", []plugin.Field{{Name: "banReason", Kind: plugin.String, Optional: true, Stored: true}}, a.banUser),
			post("/admin/unban-user", nil, a.unbanUser),
			{Method: http.MethodPost, Path: "/admin/list-user-sessions", Body: &plugin.Schema{}, Session: plugin.OptionalSession, Authoritative: true, Handle: a.listUserSessions},
			post("/admin/revoke-user-session", []plugin.Field{{Name: "sessionToken", Kind: plugin.String}}, a.revokeUserSession),
			post("/admin/revoke-user-sessions", nil, a.revokeUserSessions),
			post("/admin/remove-user", nil, a.removeUser),
			post("/admin/impersonate-user", nil, a.impersonate),
			{Method: http.MethodPost, Path: "/admin/stop-impersonating", Session: plugin.OptionalSession, Handle: audited("/admin/stop-impersonating", a.stopImpersonating)},
			{Method: http.MethodPost, Path: "/admin/has-permission", Body: &plugin.Schema{}, Session: plugin.OptionalSession, Authoritative: true, Handle: a.hasPermission},
		},
	}
}

// Allowed reports whether u may do what req asks: u's id is one of the configured admin ids, or
// one of the roles in u's role field (the default role when it has none) grants it.
func (a *admin) allowed(st *store.Store, u *store.User, req access.Request) bool {
	if slices.Contains(a.cfg.UserIDs, u.ID) {
		return true
	}
	return a.cfg.Roles.Allows(a.roleOf(st, u), req)
}

func (a *admin) roleOf(st *store.Store, u *store.User) string {
	if v, _ := st.UserField(u, a.role.Name); v.Valid && v.Str != "" {
		return v.Str
	}
	return a.cfg.DefaultRole
}

// need is the admin middleware: a session, and a role granting action on resource.
func (a *admin) need(r *plugin.Request, resource, action string, refusal error) error {
	if r.Auth == nil {
		return ErrUnauthorized
	}
	if !a.allowed(r.Host.Store(), &r.Auth.User, access.Request{resource: {List: []string{action}}}) {
		return refusal
	}
	return nil
}

// beforeSession refuses banned users a session; a ban that has expired is lifted instead, as
// Better-Auth lifts it in its session-create hook (the sign-in answer still shows the old row).
func (a *admin) beforeSession(ctx context.Context, db *store.Store, u *store.User, _ string) error {
	if v, _ := db.UserField(u, BannedField.Name); !v.Bool() {
		return nil
	}
	if exp, _ := db.UserField(u, BanExpiresField.Name); exp.Valid && exp.Time.Before(time.Now()) {
		_, err := db.UpdateUserFields(ctx, u.ID, nil, unbanned(), store.NewTime(time.Now()))
		return err
	}
	return forbidden("BANNED_USER", a.cfg.BannedMessage)
}

func unbanned() map[string]store.Value {
	return map[string]store.Value{BannedField.Name: store.BoolValue(false), BanReasonField.Name: {}, BanExpiresField.Name: {}}
}

// hideImpersonations keeps impersonation sessions out of the impersonated user's list-sessions.
func hideImpersonations(st *store.Store, list []store.Session) []store.Session {
	return slices.DeleteFunc(list, func(s store.Session) bool { return impersonatedBy(st, &s) != "" })
}

func impersonatedBy(st *store.Store, s *store.Session) string {
	v, _ := st.SessionField(s, ImpersonatedByField.Name)
	return v.Str
}
