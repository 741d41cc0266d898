package organization

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"authserver/auth/access"
	"authserver/auth/plugin"
	"authserver/store"
)

// Dynamic access control: roles an organization defines (the organizationRole table), each a
// name and a permission object over the default statements' resources. rolesFor merges them
// into every permission check of the organization.

func (o *org) roleEndpoints(post postFn, get getFn) []plugin.Endpoint {
	return []plugin.Endpoint{
		post("create-role", plugin.NeedSession, []plugin.Field{str("organizationId", true), str("role", false), {Name: "permission", Kind: plugin.Any, Optional: true}}, o.createRole),
		post("delete-role", plugin.NeedSession, []plugin.Field{str("organizationId", true), {Name: "roleName", Kind: plugin.Any, Optional: true}, {Name: "roleId", Kind: plugin.Any, Optional: true}}, o.deleteRole),
		get("list-roles", plugin.NeedSession, o.listRoles),
		get("get-role", plugin.NeedSession, o.getRole),
		post("update-role", plugin.NeedSession, []plugin.Field{str("organizationId", true), {Name: "roleName", Kind: plugin.Any, Optional: true},
			{Name: "roleId", Kind: plugin.Any, Optional: true}, {Name: "data", Kind: plugin.Any, Optional: true}}, o.updateRole),
	}
}

type roleJSON struct {
	OrganizationID string              `json:"organizationId"`
	Role           string              `json:"role"`
	Permission     map[string][]string `json:"permission"`
	CreatedAt      string              `json:"createdAt"`
	UpdatedAt      *string             `json:"updatedAt"`
	ID             string              `json:"id"`
}

func roleOut(r *store.OrganizationRole) roleJSON {
	out := roleJSON{OrganizationID: r.OrganizationID, Role: r.Role, CreatedAt: r.CreatedAt.String(), ID: r.ID}
	_ = json.Unmarshal([]byte(r.Permission), &out.Permission)
	if r.UpdatedAt != nil {
		s := r.UpdatedAt.String()
		out.UpdatedAt = &s
	}
	return out
}

// permissionInput reads a permission object: resource → list of actions.
func permissionInput(v any) (map[string][]string, bool) {
	if !recordOfLists(v) {
		return nil, false
	}
	out := map[string][]string{}
	for k, list := range v.(map[string]any) {
		acts := []string{}
		for _, a := range list.([]any) {
			acts = append(acts, a.(string))
		}
		out[k] = acts
	}
	return out, true
}

// checkResources refuses a permission naming a resource outside the default statements.
func checkResources(p map[string][]string) error {
	for k := range p {
		if _, ok := access.OrganizationStatements[k]; !ok {
			return badRequest("INVALID_RESOURCE")
		}
	}
	return nil
}

// checkGrantable refuses a permission the member does not hold itself, action by action, as
// Better-Auth does (with the default roles only: it passes no organization to this check); the
// refusal lists the missing "resource:action" pairs in missingPermissions, sorted (Better-Auth
// lists them in the order the body gave them).
func (o *org) checkGrantable(p map[string][]string, role, refusal string) error {
	names := roleNames(role)
	var missing []string
	for res, acts := range p {
		for _, a := range acts {
			if !access.OrganizationRoles.AllowsAny(names, perm(res, a)) {
				missing = append(missing, res+":"+a)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	e := forbidden(refusal)
	e.Details = map[string]any{"missingPermissions": missing}
	return e
}

// roleCaller resolves the organization (body or query organizationId, else the active one) and
// checks the caller's membership and ac permission.
func (o *org) roleCaller(ctx context.Context, r *plugin.Request, orgID, noOrg, action, refusal string, dynamic bool) (string, *store.Member, error) {
	st := r.Host.Store()
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if orgID == "" {
		return "", nil, badRequest(noOrg)
	}
	me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return "", nil, err
	}
	if me == nil {
		return "", nil, forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	}
	checkOrg := orgID
	if !dynamic {
		checkOrg = ""
	}
	if ok, err := o.can(ctx, st, checkOrg, me.Role, perm("ac", action), false); err != nil {
		return "", nil, err
	} else if !ok {
		return "", nil, forbidden(refusal)
	}
	return orgID, me, nil
}

func (o *org) roleByName(ctx context.Context, st *store.Store, orgID, name string) (*store.OrganizationRole, error) {
	return nilIfNotFound(store.OrgFirst[store.OrganizationRole](ctx, st, store.Query{Where: `"organizationId" = ? and "role" = ?`, Args: []any{orgID, name}}))
}

// roleRef is the condition naming one role of orgID by roleName or roleId.
func roleRef(orgID, name, id string) (store.Query, bool) {
	switch {
	case name != "":
		return store.Query{Where: `"organizationId" = ? and "role" = ?`, Args: []any{orgID, name}}, true
	case id != "":
		return store.Query{Where: `"organizationId" = ? and "id" = ?`, Args: []any{orgID, id}}, true
	}
	return store.Query{}, false
}

// nameOrID reads the roleName/roleId union: one of them a non-empty string.
func nameOrID(get func(string) (any, bool), where string) (name, id string, err error) {
	n, hasN := get("roleName")
	i, hasI := get("roleId")
	name, _ = n.(string)
	id, _ = i.(string)
	if (hasN && name != "") || (hasI && id != "") {
		return name, id, nil
	}
	return "", "", validation(where, "Invalid input")
}

func (o *org) createRole(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	permission, ok := permissionInput(r.Body["permission"])
	if !ok {
		got := "undefined"
		if v, present := r.Body["permission"]; present {
			got = plugin.JSType(v)
		}
		return nil, validation("body.permission", "Invalid input: expected record, received "+got)
	}
	st := r.Host.Store()
	orgID := bodyString(r.Body, "organizationId")
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if orgID == "" {
		return nil, badRequest("YOU_MUST_BE_IN_AN_ORGANIZATION_TO_CREATE_A_ROLE")
	}
	name := strings.ToLower(bodyString(r.Body, "role"))
	if _, ok := defaultRoleNames[name]; ok {
		return nil, badRequest("ROLE_NAME_IS_ALREADY_TAKEN")
	}
	_, me, err := o.roleCaller(ctx, r, orgID, "YOU_MUST_BE_IN_AN_ORGANIZATION_TO_CREATE_A_ROLE", "create", "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE", true)
	if err != nil {
		return nil, err
	}
	if err := checkResources(permission); err != nil {
		return nil, err
	}
	if err := o.checkGrantable(permission, me.Role, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE"); err != nil {
		return nil, err
	}
	if existing, err := o.roleByName(ctx, st, orgID, name); err != nil {
		return nil, err
	} else if existing != nil {
		return nil, badRequest("ROLE_NAME_IS_ALREADY_TAKEN")
	}
	b, _ := json.Marshal(permission)
	row := store.OrganizationRole{ID: newID(), OrganizationID: orgID, Role: name, Permission: string(b), CreatedAt: store.NewTime(r.Host.Now())}
	if err := store.OrgCreate(ctx, st, &row); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: struct {
		Success    bool                `json:"success"`
		RoleData   roleJSON            `json:"roleData"`
		Statements map[string][]string `json:"statements"`
	}{true, roleOut(&row), permission}}, nil
}

func (o *org) deleteRole(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	name, id, err := nameOrID(func(k string) (any, bool) { v, ok := r.Body[k]; return v, ok }, "body")
	if err != nil {
		return nil, err
	}
	st := r.Host.Store()
	orgID, _, err := o.roleCaller(ctx, r, bodyString(r.Body, "organizationId"), "NO_ACTIVE_ORGANIZATION", "delete", "YOU_ARE_NOT_ALLOWED_TO_DELETE_A_ROLE", true)
	if err != nil {
		return nil, err
	}
	if _, ok := defaultRoleNames[name]; ok {
		return nil, badRequest("CANNOT_DELETE_A_PRE_DEFINED_ROLE")
	}
	q, _ := roleRef(orgID, name, id)
	row, err := nilIfNotFound(store.OrgFirst[store.OrganizationRole](ctx, st, q))
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, badRequest("ROLE_NOT_FOUND")
	}
	members, err := store.OrgFind[store.Member](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{orgID}})
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if contains(roleNames(m.Role), row.Role) {
			return nil, badRequest("ROLE_IS_ASSIGNED_TO_MEMBERS")
		}
	}
	if _, err := store.OrgDelete[store.OrganizationRole](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{row.ID}}); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]bool{"success": true}}, nil
}

func (o *org) listRoles(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	orgID, _, err := o.roleCaller(ctx, r, r.Query.Get("organizationId"), "NO_ACTIVE_ORGANIZATION", "read", "YOU_ARE_NOT_ALLOWED_TO_LIST_A_ROLE", true)
	if err != nil {
		return nil, err
	}
	rows, err := store.OrgFind[store.OrganizationRole](ctx, r.Host.Store(), store.Query{Where: `"organizationId" = ?`, Args: []any{orgID}})
	if err != nil {
		return nil, err
	}
	out := make([]roleJSON, len(rows))
	for i := range rows {
		out[i] = roleOut(&rows[i])
	}
	return &plugin.Response{Body: out}, nil
}

func (o *org) getRole(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	name, id, err := nameOrID(func(k string) (any, bool) {
		v, ok := r.Query[k]
		if !ok || len(v) == 0 {
			return nil, false
		}
		return v[0], true
	}, "query")
	if err != nil {
		return nil, err
	}
	orgID, _, err := o.roleCaller(ctx, r, r.Query.Get("organizationId"), "NO_ACTIVE_ORGANIZATION", "read", "YOU_ARE_NOT_ALLOWED_TO_READ_A_ROLE", true)
	if err != nil {
		return nil, err
	}
	q, _ := roleRef(orgID, name, id)
	row, err := nilIfNotFound(store.OrgFirst[store.OrganizationRole](ctx, r.Host.Store(), q))
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, badRequest("ROLE_NOT_FOUND")
	}
	return &plugin.Response{Body: roleOut(row)}, nil
}

func (o *org) updateRole(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	name, id, err := nameOrID(func(k string) (any, bool) { v, ok := r.Body[k]; return v, ok }, "body")
	if err != nil {
		return nil, err
	}
	data, err := objectField(r.Body, "data")
	if err != nil {
		return nil, err
	}
	var newPerm map[string][]string
	if v, ok := data["permission"]; ok {
		p, valid := permissionInput(v)
		if !valid {
			return nil, validation("body.data.permission", "Invalid input: expected record, received "+plugin.JSType(v))
		}
		newPerm = p
	}
	newName, _ := data["roleName"].(string)
	if v, ok := data["roleName"]; ok {
		if _, isStr := v.(string); !isStr {
			return nil, validation("body.data.roleName", "Invalid input: expected string, received "+plugin.JSType(v))
		}
	}
	st := r.Host.Store()
	// Better-Auth checks ac:update here against the default roles only.
	orgID, me, err := o.roleCaller(ctx, r, bodyString(r.Body, "organizationId"), "NO_ACTIVE_ORGANIZATION", "update", "YOU_ARE_NOT_ALLOWED_TO_UPDATE_A_ROLE", false)
	if err != nil {
		return nil, err
	}
	q, _ := roleRef(orgID, name, id)
	row, err := nilIfNotFound(store.OrgFirst[store.OrganizationRole](ctx, st, q))
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, badRequest("ROLE_NOT_FOUND")
	}
	cols := map[string]any{}
	if len(newPerm) > 0 {
		if err := checkResources(newPerm); err != nil {
			return nil, err
		}
		if err := o.checkGrantable(newPerm, me.Role, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_A_ROLE"); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(newPerm)
		cols["permission"] = string(b)
	}
	if newName != "" {
		newName = strings.ToLower(newName)
		if _, ok := defaultRoleNames[newName]; ok {
			return nil, badRequest("ROLE_NAME_IS_ALREADY_TAKEN")
		}
		if existing, err := o.roleByName(ctx, st, orgID, newName); err != nil {
			return nil, err
		} else if existing != nil {
			return nil, badRequest("ROLE_NAME_IS_ALREADY_TAKEN")
		}
		cols["role"] = newName
	}
	// The answer is the row as read before the write, so its updatedAt is the previous update's
	// (null on a role never updated), while the row itself is stamped now, as Better-Auth's
	// adapter does on every update.
	out := roleOut(row)
	if len(cols) > 0 {
		cols["updatedAt"] = store.NewTime(r.Host.Now())
		if _, err := store.OrgUpdate[store.OrganizationRole](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{row.ID}}, cols); err != nil {
			return nil, err
		}
	}
	if newName != "" {
		out.Role = newName
	}
	if len(newPerm) > 0 {
		out.Permission = newPerm
	}
	return &plugin.Response{Body: struct {
		Success  bool     `json:"success"`
		RoleData roleJSON `json:"roleData"`
	}{true, out}}, nil
}
