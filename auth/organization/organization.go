// Package organization is Better-Auth's organization plugin: users create organizations, become
// their members with one or more roles (owner, admin, member, and with dynamic access control the
// roles an organization defines), invite others by e-mail, and, with teams on, group members in
// teams. The session carries the active organization (and team), which most endpoints use when
// the request names none. Every permission check goes through auth/access with the organization
// plugin's default statements and roles.
package organization

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"authserver/auth/access"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "organization"

// Better-Auth's defaults.
const (
	DefaultMembershipLimit     = 100
	DefaultInvitationLimit     = 100
	DefaultInvitationExpiresIn = 48 * time.Hour
	CreatorRole                = "owner"
)

// Config holds the plugin's options that change the wire.
type Config struct {
	// BaseURL is the web app's origin; invitation mails link to BaseURL/accept-invitation/<id>.
	BaseURL string
	// OrganizationLimit (organizationLimit) caps the organizations a user may belong to when they
	// create one; 0 is no cap, Better-Auth's default.
	OrganizationLimit int
	// MembershipLimit (membershipLimit) caps an organization's members.
	MembershipLimit int
	// InvitationLimit (invitationLimit) caps an organization's pending invitations.
	InvitationLimit int
	// InvitationExpiresIn (invitationExpiresIn) is an invitation's life.
	InvitationExpiresIn time.Duration
	// RequireEmailVerificationOnInvitation (requireEmailVerificationOnInvitation): accepting,
	// rejecting or viewing an invitation needs a verified e-mail address.
	RequireEmailVerificationOnInvitation bool
	// DisallowCreate is allowUserToCreateOrganization:false.
	DisallowCreate bool
	// Teams (teams.enabled) adds teams, a default team per new organization and activeTeamId.
	Teams bool
	// DynamicAccessControl (dynamicAccessControl.enabled) lets organizations define roles.
	DynamicAccessControl bool
	// CancelPendingOnReInvite (cancelPendingInvitationsOnReInvite): inviting an address again
	// cancels its pending invitation instead of refusing.
	CancelPendingOnReInvite bool
	// MaximumTeams (teams.maximumTeams) caps an organization's teams; 0 is no cap.
	MaximumTeams int
	// MaximumMembersPerTeam (teams.maximumMembersPerTeam) caps a team's members; 0 is no cap.
	MaximumMembersPerTeam int
}

// LoadConfig reads ORGANIZATION_LIMIT, ORGANIZATION_MEMBERSHIP_LIMIT,
// ORGANIZATION_INVITATION_LIMIT, ORGANIZATION_INVITATION_EXPIRES_IN (seconds),
// ORGANIZATION_REQUIRE_EMAIL_VERIFICATION_ON_INVITATION, ORGANIZATION_ALLOW_USER_TO_CREATE,
// ORGANIZATION_CANCEL_PENDING_INVITATIONS_ON_REINVITE, ORGANIZATION_TEAMS,
// ORGANIZATION_MAXIMUM_TEAMS, ORGANIZATION_MAXIMUM_MEMBERS_PER_TEAM and
// ORGANIZATION_DYNAMIC_ACCESS_CONTROL, as Better-Auth's options of the same meaning. baseURL is
// BETTER_AUTH_URL.
func LoadConfig(getenv func(string) string, baseURL string) (Config, error) {
	c := Config{BaseURL: strings.TrimRight(baseURL, "/"), MembershipLimit: DefaultMembershipLimit,
		InvitationLimit: DefaultInvitationLimit, InvitationExpiresIn: DefaultInvitationExpiresIn}
	var errs []error
	for _, o := range []struct {
		name string
		dst  *int
	}{{"ORGANIZATION_LIMIT", &c.OrganizationLimit}, {"ORGANIZATION_MEMBERSHIP_LIMIT", &c.MembershipLimit},
		{"ORGANIZATION_INVITATION_LIMIT", &c.InvitationLimit}, {"ORGANIZATION_MAXIMUM_TEAMS", &c.MaximumTeams},
		{"ORGANIZATION_MAXIMUM_MEMBERS_PER_TEAM", &c.MaximumMembersPerTeam}} {
		if v := strings.TrimSpace(getenv(o.name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				errs = append(errs, fmt.Errorf("%s: %q is not a positive number", o.name, v))
				continue
			}
			*o.dst = n
		}
	}
	if v := strings.TrimSpace(getenv("ORGANIZATION_INVITATION_EXPIRES_IN")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("ORGANIZATION_INVITATION_EXPIRES_IN: %q is not a positive number of seconds", v))
		} else {
			c.InvitationExpiresIn = time.Duration(n) * time.Second
		}
	}
	for _, o := range []struct {
		name string
		dst  *bool
		neg  bool
	}{{"ORGANIZATION_REQUIRE_EMAIL_VERIFICATION_ON_INVITATION", &c.RequireEmailVerificationOnInvitation, false},
		{"ORGANIZATION_ALLOW_USER_TO_CREATE", &c.DisallowCreate, true},
		{"ORGANIZATION_CANCEL_PENDING_INVITATIONS_ON_REINVITE", &c.CancelPendingOnReInvite, false},
		{"ORGANIZATION_TEAMS", &c.Teams, false}, {"ORGANIZATION_DYNAMIC_ACCESS_CONTROL", &c.DynamicAccessControl, false}} {
		v := strings.ToLower(strings.TrimSpace(getenv(o.name)))
		switch v {
		case "":
		case "1", "true", "yes", "on":
			*o.dst = !o.neg
		case "0", "false", "no", "off":
			*o.dst = o.neg
		default:
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", o.name, v))
		}
	}
	return c, errors.Join(errs...)
}

// The session fields: the active organization, and with teams the active team.
var (
	ActiveOrganizationField = store.Field{Name: "activeOrganizationId", Type: store.StringField, Nullable: true, ReadOnly: true}
	ActiveTeamField         = store.Field{Name: "activeTeamId", Type: store.StringField, Nullable: true, ReadOnly: true}
)

func table(name, pg, lite string) store.PluginMigration {
	return store.PluginMigration{Name: ID + "/" + name, SQL: map[store.Dialect]string{store.Postgres: pg, store.SQLite: lite}}
}

func column(n, table, name, pg, lite string) store.PluginMigration {
	return store.PluginMigration{
		Name: ID + "/" + n + "_" + table + "_" + name,
		SQL: map[store.Dialect]string{
			store.Postgres: fmt.Sprintf(`alter table %q add column %q %s;`, table, name, pg),
			store.SQLite:   fmt.Sprintf(`alter table %q add column %q %s;`, table, name, lite),
		},
		Table: table, Column: name,
	}
}

// migrations create the tables exactly as Better-Auth 1.7.25's migrate does (its DDL on
// PostgreSQL; on SQLite with its SQLite types and without the CURRENT_TIMESTAMP defaults, as the
// core tables). A table Better-Auth already made is adopted (Table/Column "id").
func migrations(cfg Config) []store.PluginMigration {
	teamCol := ""
	if cfg.Teams {
		teamCol = `"teamId" text, `
	}
	adopt := func(m store.PluginMigration, t string) store.PluginMigration {
		m.Table, m.Column = t, "id"
		return m
	}
	ms := []store.PluginMigration{
		column("0001", "session", "activeOrganizationId", "text", "text"),
		adopt(table("0002_organization",
			`create table "organization" ("id" text not null primary key, "name" text not null, "slug" text not null unique, "logo" text, "createdAt" timestamptz not null, "metadata" text);`,
			`create table "organization" ("id" text not null primary key, "name" text not null, "slug" text not null unique, "logo" text, "createdAt" date not null, "metadata" text);`), "organization"),
		adopt(table("0003_member",
			`create table "member" ("id" text not null primary key, "organizationId" text not null references "organization" ("id") on delete cascade, "userId" text not null references "user" ("id") on delete cascade, "role" text not null, "createdAt" timestamptz not null);
create index "member_organizationId_idx" on "member" ("organizationId");
create index "member_userId_idx" on "member" ("userId");`,
			`create table "member" ("id" text not null primary key, "organizationId" text not null references "organization" ("id") on delete cascade, "userId" text not null references "user" ("id") on delete cascade, "role" text not null, "createdAt" date not null);
create index "member_organizationId_idx" on "member" ("organizationId");
create index "member_userId_idx" on "member" ("userId");`), "member"),
		adopt(table("0004_invitation",
			`create table "invitation" ("id" text not null primary key, "organizationId" text not null references "organization" ("id") on delete cascade, "email" text not null, "role" text, `+teamCol+`"status" text not null, "expiresAt" timestamptz not null, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "inviterId" text not null references "user" ("id") on delete cascade);
create index "invitation_organizationId_idx" on "invitation" ("organizationId");
create index "invitation_email_idx" on "invitation" ("email");`,
			`create table "invitation" ("id" text not null primary key, "organizationId" text not null references "organization" ("id") on delete cascade, "email" text not null, "role" text, `+teamCol+`"status" text not null, "expiresAt" date not null, "createdAt" date not null, "inviterId" text not null references "user" ("id") on delete cascade);
create index "invitation_organizationId_idx" on "invitation" ("organizationId");
create index "invitation_email_idx" on "invitation" ("email");`), "invitation"),
	}
	if cfg.Teams {
		ms = append(ms,
			column("0005", "session", "activeTeamId", "text", "text"),
			column("0006", "invitation", "teamId", "text", "text"),
			adopt(table("0007_team",
				`create table "team" ("id" text not null primary key, "name" text not null, "memberCount" integer not null, "organizationId" text not null references "organization" ("id") on delete cascade, "createdAt" timestamptz not null, "updatedAt" timestamptz);
create index "team_organizationId_idx" on "team" ("organizationId");`,
				`create table "team" ("id" text not null primary key, "name" text not null, "memberCount" integer not null, "organizationId" text not null references "organization" ("id") on delete cascade, "createdAt" date not null, "updatedAt" date);
create index "team_organizationId_idx" on "team" ("organizationId");`), "team"),
			adopt(table("0008_teamMember",
				`create table "teamMember" ("id" text not null primary key, "teamId" text not null references "team" ("id") on delete cascade, "userId" text not null references "user" ("id") on delete cascade, "membershipKey" text unique, "createdAt" timestamptz);
create index "teamMember_teamId_idx" on "teamMember" ("teamId");
create index "teamMember_userId_idx" on "teamMember" ("userId");`,
				`create table "teamMember" ("id" text not null primary key, "teamId" text not null references "team" ("id") on delete cascade, "userId" text not null references "user" ("id") on delete cascade, "membershipKey" text unique, "createdAt" date);
create index "teamMember_teamId_idx" on "teamMember" ("teamId");
create index "teamMember_userId_idx" on "teamMember" ("userId");`), "teamMember"),
		)
	}
	if cfg.DynamicAccessControl {
		ms = append(ms, adopt(table("0009_organizationRole",
			`create table "organizationRole" ("id" text not null primary key, "organizationId" text not null references "organization" ("id") on delete cascade, "role" text not null, "permission" text not null, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz);
create index "organizationRole_organizationId_idx" on "organizationRole" ("organizationId");
create index "organizationRole_role_idx" on "organizationRole" ("role");`,
			`create table "organizationRole" ("id" text not null primary key, "organizationId" text not null references "organization" ("id") on delete cascade, "role" text not null, "permission" text not null, "createdAt" date not null, "updatedAt" date);
create index "organizationRole_organizationId_idx" on "organizationRole" ("organizationId");
create index "organizationRole_role_idx" on "organizationRole" ("role");`), "organizationRole"))
	}
	return ms
}

type org struct {
	cfg Config
}

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	if cfg.MembershipLimit <= 0 {
		cfg.MembershipLimit = DefaultMembershipLimit
	}
	if cfg.InvitationLimit <= 0 {
		cfg.InvitationLimit = DefaultInvitationLimit
	}
	if cfg.InvitationExpiresIn <= 0 {
		cfg.InvitationExpiresIn = DefaultInvitationExpiresIn
	}
	o := &org{cfg: cfg}
	fields := []store.Field{ActiveOrganizationField}
	if cfg.Teams {
		fields = append(fields, ActiveTeamField)
	}
	return plugin.Plugin{
		ID:            ID,
		SessionFields: fields,
		Migrations:    migrations(cfg),
		Endpoints:     o.endpoints(),
	}
}

func str(name string, optional bool) plugin.Field {
	return plugin.Field{Name: name, Kind: plugin.String, Optional: optional, Stored: true}
}

func (o *org) endpoints() []plugin.Endpoint {
	post := func(path string, need plugin.Need, fields []plugin.Field, h func(context.Context, *plugin.Request) (*plugin.Response, error)) plugin.Endpoint {
		return plugin.Endpoint{Method: http.MethodPost, Path: "/organization/" + path, Body: &plugin.Schema{Fields: fields}, Session: need, Handle: h}
	}
	get := func(path string, need plugin.Need, h func(context.Context, *plugin.Request) (*plugin.Response, error)) plugin.Endpoint {
		return plugin.Endpoint{Method: http.MethodGet, Path: "/organization/" + path, Session: need, Handle: h}
	}
	eps := []plugin.Endpoint{
		post("create", plugin.OptionalSession, []plugin.Field{
			{Name: "name", Kind: plugin.NonEmptyString, Stored: true}, {Name: "slug", Kind: plugin.NonEmptyString, Stored: true},
			{Name: "userId", Kind: plugin.Any, Optional: true}, {Name: "logo", Kind: plugin.NullableString, Optional: true, Stored: true},
			{Name: "metadata", Kind: plugin.Record, Optional: true}, {Name: "keepCurrentActiveOrganization", Kind: plugin.Bool, Optional: true},
		}, o.create),
		post("check-slug", plugin.NeedSession, []plugin.Field{str("slug", false)}, o.checkSlug),
		post("update", plugin.OptionalSession, []plugin.Field{{Name: "data", Kind: plugin.Any, Optional: true}, str("organizationId", true)}, o.update),
		post("delete", plugin.OptionalSession, []plugin.Field{str("organizationId", false)}, o.deleteOrg),
		get("get-organization", plugin.NeedSession, o.getOrganization),
		get("get-full-organization", plugin.NeedSession, o.getFullOrganization),
		post("set-active", plugin.NeedSession, []plugin.Field{{Name: "organizationId", Kind: plugin.NullableString, Optional: true}, str("organizationSlug", true)}, o.setActiveOrg),
		get("list", plugin.NeedSession, o.list),

		get("list-members", plugin.NeedSession, o.listMembers),
		post("update-member-role", plugin.NeedSession, []plugin.Field{{Name: "role", Kind: plugin.Any, Optional: true}, str("memberId", false), str("organizationId", true)}, o.updateMemberRole),
		post("remove-member", plugin.NeedSession, []plugin.Field{str("memberIdOrEmail", false), str("organizationId", true)}, o.removeMember),
		post("leave", plugin.NeedSession, []plugin.Field{str("organizationId", false)}, o.leave),
		get("get-active-member", plugin.NeedSession, o.getActiveMember),
		get("get-active-member-role", plugin.NeedSession, o.getActiveMemberRole),

		post("invite-member", plugin.NeedSession, []plugin.Field{str("email", false), {Name: "role", Kind: plugin.StringOrStrings},
			str("organizationId", true), {Name: "resend", Kind: plugin.Bool, Optional: true}, {Name: "teamId", Kind: plugin.Any, Optional: true}}, o.invite),
		post("accept-invitation", plugin.NeedSession, []plugin.Field{str("invitationId", false)}, o.acceptInvitation),
		post("reject-invitation", plugin.NeedSession, []plugin.Field{str("invitationId", false)}, o.rejectInvitation),
		post("cancel-invitation", plugin.NeedSession, []plugin.Field{str("invitationId", false)}, o.cancelInvitation),
		get("get-invitation", plugin.OptionalSession, o.getInvitation),
		get("list-invitations", plugin.NeedSession, o.listInvitations),
		get("list-user-invitations", plugin.OptionalSession, o.listUserInvitations),

		post("has-permission", plugin.NeedSession, []plugin.Field{str("organizationId", true),
			{Name: "permission", Kind: plugin.Any, Optional: true}, {Name: "permissions", Kind: plugin.Any, Optional: true}}, o.hasPermissionEndpoint),
	}
	if o.cfg.Teams {
		eps = append(eps, o.teamEndpoints(post, get)...)
	}
	if o.cfg.DynamicAccessControl {
		eps = append(eps, o.roleEndpoints(post, get)...)
	}
	return eps
}

type (
	postFn func(path string, need plugin.Need, fields []plugin.Field, h func(context.Context, *plugin.Request) (*plugin.Response, error)) plugin.Endpoint
	getFn  func(path string, need plugin.Need, h func(context.Context, *plugin.Request) (*plugin.Response, error)) plugin.Endpoint
)

// permissionsFor are the roles an organization's members may hold: the default ones and, with
// dynamic access control, the organization's own, whose permissions add to a default role of the
// same name, as Better-Auth merges them.
func (o *org) rolesFor(ctx context.Context, st *store.Store, orgID string) (access.Roles, error) {
	if !o.cfg.DynamicAccessControl || orgID == "" {
		return access.OrganizationRoles, nil
	}
	rows, err := store.OrgFind[store.OrganizationRole](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{orgID}})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return access.OrganizationRoles, nil
	}
	roles := make(access.Roles, len(access.OrganizationRoles)+len(rows))
	for k, v := range access.OrganizationRoles {
		roles[k] = v
	}
	for _, r := range rows {
		var perm map[string][]string
		if err := json.Unmarshal([]byte(r.Permission), &perm); err != nil {
			return nil, &plugin.Error{Status: http.StatusInternalServerError, Message: "Invalid permissions for role " + r.Role}
		}
		merged := access.Statements{}
		if base, ok := roles[r.Role]; ok {
			for k, v := range base.Statements() {
				merged[k] = append([]string(nil), v...)
			}
		}
		for k, acts := range perm {
			for _, a := range acts {
				if !contains(merged[k], a) {
					merged[k] = append(merged[k], a)
				}
			}
		}
		roles[r.Role] = access.NewRole(merged)
	}
	return roles, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// can reports whether a member holding role (comma-joined) is granted req in orgID.
// allowCreator grants the creator role everything (Better-Auth's allowCreatorAllPermissions).
func (o *org) can(ctx context.Context, st *store.Store, orgID, role string, req access.Request, allowCreator bool) (bool, error) {
	names := access.RoleList(role)
	if allowCreator && contains(names, CreatorRole) {
		return true, nil
	}
	roles, err := o.rolesFor(ctx, st, orgID)
	if err != nil {
		return false, err
	}
	return roles.AllowsAny(names, req), nil
}

func perm(resource string, actions ...string) access.Request {
	return access.Request{resource: {List: actions}}
}

func newID() string { return session.NewID() }

// activeOrg is the session's active organization id, "" when none.
func activeOrg(st *store.Store, a *session.Auth) string {
	v, _ := st.SessionField(&a.Session, ActiveOrganizationField.Name)
	return v.Str
}

func activeTeam(st *store.Store, a *session.Auth) string {
	v, _ := st.SessionField(&a.Session, ActiveTeamField.Name)
	return v.Str
}

// bodyString is a body field that passed the schema as an optional string.
func bodyString(body map[string]any, name string) string {
	s, _ := body[name].(string)
	return s
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func splitComma(s string) []string { return strings.Split(s, ",") }

func joinComma(list []string) string { return strings.Join(list, ",") }

// coerceString reads a body field as Better-Auth's z.coerce.string() does.
func coerceString(body map[string]any, name string) string {
	v, present := body[name]
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		if !present {
			return "undefined"
		}
		return "null"
	}
	return "[object Object]"
}

// objectField reads a body field that must be a JSON object (zod's z.object), with zod's message
// when it is absent or of another type.
func objectField(body map[string]any, name string) (map[string]any, error) {
	v, present := body[name]
	obj, ok := v.(map[string]any)
	if !ok {
		got := "undefined"
		if present {
			got = plugin.JSType(v)
		}
		return nil, validation("body."+name, "Invalid input: expected object, received "+got)
	}
	return obj, nil
}
