// Package access is Better-Auth's access-control model: a set of statements (each resource with
// the actions that exist on it), roles that each grant some of those actions, and Authorize, which
// answers whether a role grants a requested set of actions. The admin plugin's roles (admin, user)
// and later the organization plugin's (owner, admin, member) are built on it; a user's role field
// may name several roles, comma-separated, and any one of them granting a request is enough.
package access

import (
	"fmt"
	"slices"
	"strings"
)

// Statements maps each resource to its actions, as Better-Auth's statements object does.
type Statements map[string][]string

// Connector says how the parts of a request combine.
type Connector string

// The connectors. Anything else counts as And, as in Better-Auth.
const (
	And Connector = "AND"
	Or  Connector = "OR"
)

// Actions is the request for one resource: a list of actions, all of which (And, the default) or
// any of which (Or) must be granted. Better-Auth accepts either a bare list or
// {actions, connector}; a bare list is Actions with an empty Connector.
type Actions struct {
	List      []string
	Connector Connector
}

// Request maps resources to the actions asked on each.
type Request map[string]Actions

// Role is what one role grants.
type Role struct {
	statements Statements
}

// NewRole returns a role granting the given actions; the statements are copied.
func NewRole(granted Statements) Role {
	cp := make(Statements, len(granted))
	for k, v := range granted {
		cp[k] = slices.Clone(v)
	}
	return Role{cp}
}

// Statements returns what the role grants; callers must not modify it.
func (r Role) Statements() Statements { return r.statements }

// Result is Authorize's answer: Error explains a refusal with Better-Auth's wording.
type Result struct {
	Success bool
	Error   string
}

// Authorize answers whether the role grants req. Across resources, connector And (the default,
// and any value other than Or) needs every resource granted, and a resource the role has no
// statement for refuses at once; Or needs one granted resource and skips unknown ones. Within a
// resource its own connector applies to its actions, and an empty action list is never granted.
// An empty request is not granted. Resources are taken in sorted order, so the error named for a
// refused And request is deterministic (Better-Auth takes them in the order the JSON gave them).
func (r Role) Authorize(req Request, connector Connector) Result {
	keys := make([]string, 0, len(req))
	for k := range req {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	granted := false
	for _, res := range keys {
		allowed, ok := r.statements[res]
		if !ok {
			if connector != Or {
				return Result{Error: "You are not allowed to access resource: " + res}
			}
			continue
		}
		if resourceGranted(allowed, req[res]) {
			if connector == Or {
				return Result{Success: true}
			}
			granted = true
		} else if connector != Or {
			return Result{Error: fmt.Sprintf("unauthorized to access resource %q", res)}
		}
	}
	if granted {
		return Result{Success: true}
	}
	return Result{Error: "Not authorized"}
}

func resourceGranted(allowed []string, a Actions) bool {
	if len(a.List) == 0 {
		return false
	}
	if a.Connector == Or {
		return slices.ContainsFunc(a.List, func(x string) bool { return slices.Contains(allowed, x) })
	}
	for _, x := range a.List {
		if !slices.Contains(allowed, x) {
			return false
		}
	}
	return true
}

// Roles are the roles a plugin knows, by name.
type Roles map[string]Role

// Allows reports whether any of the comma-separated roles in roleList grants req (connector And),
// as Better-Auth's admin and organization permission checks do. Names are matched exactly (no
// trimming, as Better-Auth splits on "," only); an unknown name grants nothing.
func (rs Roles) Allows(roleList string, req Request) bool {
	for _, name := range strings.Split(roleList, ",") {
		if role, ok := rs[name]; ok && role.Authorize(req, And).Success {
			return true
		}
	}
	return false
}

// ParseRequest reads a permission request as JSON gives it: each resource maps to a list of
// action strings or to {"actions": [...], "connector": "AND"|"OR"}. A value of any other shape is
// an error (Better-Auth's "Invalid access control request"); an object whose actions is not a
// list asks for nothing, and so is never granted.
func ParseRequest(v map[string]any) (Request, error) {
	out := make(Request, len(v))
	for res, raw := range v {
		switch x := raw.(type) {
		case []any:
			out[res] = Actions{List: stringsOf(x)}
		case map[string]any:
			a := Actions{Connector: And}
			if c, _ := x["connector"].(string); c == string(Or) {
				a.Connector = Or
			}
			if list, ok := x["actions"].([]any); ok {
				a.List = stringsOf(list)
			}
			out[res] = a
		default:
			return nil, fmt.Errorf("access: invalid access control request for %q", res)
		}
	}
	return out, nil
}

// stringsOf keeps the strings of a JSON list; anything else in it is an action no role grants,
// kept as a name no statement can contain.
func stringsOf(list []any) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		} else {
			out = append(out, "\x00")
		}
	}
	return out
}

// AdminStatements are the admin plugin's default statements.
var AdminStatements = Statements{
	"user": {"create", "list", "set-role", "ban", "impersonate", "impersonate-admins", "delete",
		"set-password", "set-email", "set-phone", "get", "update"},
	"session": {"list", "revoke", "delete"},
}

// AdminRoles are the admin plugin's default roles: admin may do everything but impersonate other
// admins; user may do nothing.
var AdminRoles = Roles{
	"admin": NewRole(Statements{
		"user": {"create", "list", "set-role", "ban", "impersonate", "delete",
			"set-password", "set-email", "set-phone", "get", "update"},
		"session": {"list", "revoke", "delete"},
	}),
	"user": NewRole(Statements{"user": {}, "session": {}}),
}

// OrganizationStatements are the organization plugin's default statements.
var OrganizationStatements = Statements{
	"organization": {"update", "delete"},
	"member":       {"create", "update", "delete"},
	"invitation":   {"create", "cancel"},
	"team":         {"create", "update", "delete"},
	"ac":           {"create", "read", "update", "delete"},
}

// OrganizationRoles are the organization plugin's default roles: owner may do everything, admin
// everything but delete the organization, member only read the organization's roles.
var OrganizationRoles = Roles{
	"owner": NewRole(OrganizationStatements),
	"admin": NewRole(Statements{
		"organization": {"update"},
		"member":       {"create", "update", "delete"},
		"invitation":   {"create", "cancel"},
		"team":         {"create", "update", "delete"},
		"ac":           {"create", "read", "update", "delete"},
	}),
	"member": NewRole(Statements{"organization": {}, "member": {}, "invitation": {}, "team": {}, "ac": {"read"}}),
}

// RoleList splits a stored or requested role value as Better-Auth's organization plugin does:
// comma-separated names, each trimmed, empty ones dropped.
func RoleList(roles string) []string {
	var out []string
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// AllowsAny reports whether any of the named roles grants req (connector And); an unknown name
// grants nothing. Unlike Allows the names are given already split (RoleList).
func (rs Roles) AllowsAny(names []string, req Request) bool {
	for _, name := range names {
		if role, ok := rs[name]; ok && role.Authorize(req, And).Success {
			return true
		}
	}
	return false
}
