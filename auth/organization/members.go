package organization

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"authserver/auth/plugin"
	"authserver/store"
)

// memberColumns are the member columns list-members may filter and sort by.
var memberColumns = map[string]bool{"id": true, "organizationId": true, "userId": true, "role": true, "createdAt": true}

// memberFilter turns list-members' filterField, filterOperator and filterValue into a condition.
func memberFilter(field, op, value string) (string, []any, error) {
	if !memberColumns[field] {
		return "", nil, &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: "[query.filterField] Invalid field"}
	}
	col := strconv.Quote(field)
	switch op {
	case "", "eq":
		return col + " = ?", []any{value}, nil
	case "ne":
		return col + " <> ?", []any{value}, nil
	case "lt", "lte", "gt", "gte":
		sym := map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
		return col + " " + sym + " ?", []any{value}, nil
	case "in", "not_in":
		parts := strings.Split(value, ",")
		args := make([]any, len(parts))
		for i, p := range parts {
			args[i] = p
		}
		if op == "in" {
			return col + " in ?", []any{args}, nil
		}
		return col + " not in ?", []any{args}, nil
	case "contains", "starts_with", "ends_with":
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(value)
		pat := map[string]string{"contains": "%" + esc + "%", "starts_with": esc + "%", "ends_with": "%" + esc}[op]
		return col + ` like ? escape '\'`, []any{pat}, nil
	}
	return "", nil, &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: `[query.filterOperator] Invalid option: expected one of "eq"|"ne"|"lt"|"lte"|"gt"|"gte"|"in"|"not_in"|"contains"|"starts_with"|"ends_with"`}
}

// orgFromQuery resolves organizationSlug, then organizationId, then the active organization, as
// list-members and get-active-member-role do; "" when none is named.
func (o *org) orgFromQuery(ctx context.Context, r *plugin.Request) (string, error) {
	st := r.Host.Store()
	orgID := r.Query.Get("organizationId")
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if slug := r.Query.Get("organizationSlug"); slug != "" {
		organization, err := o.orgBySlug(ctx, st, slug)
		if err != nil {
			return "", err
		}
		if organization == nil {
			return "", badRequest("ORGANIZATION_NOT_FOUND")
		}
		orgID = organization.ID
	}
	if orgID == "" {
		return "", badRequest("NO_ACTIVE_ORGANIZATION")
	}
	return orgID, nil
}

func (o *org) listMembers(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	q := r.Query
	if d := q.Get("sortDirection"); d != "" && d != "asc" && d != "desc" {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: `[query.sortDirection] Invalid option: expected one of "asc"|"desc"`}
	}
	orgID, err := o.orgFromQuery(ctx, r)
	if err != nil {
		return nil, err
	}
	if m, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID); err != nil {
		return nil, err
	} else if m == nil {
		return nil, forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	}
	where, args := `"organizationId" = ?`, []any{orgID}
	if f := q.Get("filterField"); f != "" {
		cond, fargs, err := memberFilter(f, q.Get("filterOperator"), q.Get("filterValue"))
		if err != nil {
			return nil, err
		}
		where += " and " + cond
		args = append(args, fargs...)
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = o.cfg.MembershipLimit
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	order := "" // Better-Auth gives no order without sortBy: the database's
	if s := q.Get("sortBy"); memberColumns[s] {
		dir := "asc"
		if q.Get("sortDirection") == "desc" {
			dir = "desc"
		}
		order = strconv.Quote(s) + " " + dir + `, "id"`
	}
	query := store.Query{Where: where, Args: args, Order: order, Limit: limit, Offset: offset}
	members, err := o.membersWithUsers(ctx, st, query)
	if err != nil {
		return nil, err
	}
	total, err := store.OrgCount[store.Member](ctx, st, store.Query{Where: where, Args: args})
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: struct {
		Members []memberJSON `json:"members"`
		Total   int64        `json:"total"`
	}{members, total}}, nil
}

// roleInput reads a body's role, a string or a list of strings, into its role names; anything
// else is the union's bare "Invalid input".
func roleInput(v any) ([]string, bool, error) {
	switch x := v.(type) {
	case string:
		return roleNames(x), x != "", nil
	case []any:
		var names []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false, validation("body.role", "Invalid input")
			}
			names = append(names, roleNames(s)...)
		}
		return names, true, nil
	}
	return nil, false, validation("body.role", "Invalid input")
}

// unknownRoles are the names among roles that are neither a default role nor, with dynamic
// access control, one orgID defined.
func (o *org) unknownRoles(ctx context.Context, st *store.Store, orgID string, roles []string) ([]string, error) {
	var unknown []string
	for _, r := range roles {
		if _, ok := defaultRoleNames[r]; !ok {
			unknown = append(unknown, r)
		}
	}
	if len(unknown) == 0 || !o.cfg.DynamicAccessControl {
		return unknown, nil
	}
	rows, err := store.OrgFind[store.OrganizationRole](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{orgID}})
	if err != nil {
		return nil, err
	}
	var still []string
	for _, u := range unknown {
		found := false
		for _, row := range rows {
			if row.Role == u {
				found = true
				break
			}
		}
		if !found {
			still = append(still, u)
		}
	}
	return still, nil
}

var defaultRoleNames = map[string]struct{}{"owner": {}, "admin": {}, "member": {}}

// ownerCount counts orgID's members holding the creator role.
func (o *org) ownerCount(ctx context.Context, st *store.Store, orgID string) (int, error) {
	ms, err := store.OrgFind[store.Member](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{orgID}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range ms {
		if contains(roleNames(m.Role), CreatorRole) {
			n++
		}
	}
	return n, nil
}

func (o *org) updateMemberRole(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	roles, truthy, err := roleInput(r.Body["role"])
	if err != nil {
		return nil, err
	}
	if !truthy {
		return nil, &plugin.Error{Status: http.StatusBadRequest}
	}
	orgID := bodyString(r.Body, "organizationId")
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if orgID == "" {
		return nil, badRequest("NO_ACTIVE_ORGANIZATION")
	}
	if len(roles) == 0 {
		return nil, &plugin.Error{Status: http.StatusBadRequest}
	}
	me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if me == nil {
		return nil, badRequest("MEMBER_NOT_FOUND")
	}
	memberID := bodyString(r.Body, "memberId")
	target := me
	if me.ID != memberID {
		if target, err = nilIfNotFound(store.OrgFirst[store.Member](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{memberID}})); err != nil {
			return nil, err
		}
	}
	if target == nil {
		return nil, badRequest("MEMBER_NOT_FOUND")
	}
	if target.OrganizationID != orgID {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	}
	updaterIsCreator := contains(roleNames(me.Role), CreatorRole)
	settingCreator := contains(roles, CreatorRole)
	if (contains(roleNames(target.Role), CreatorRole) || settingCreator) && !updaterIsCreator {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	}
	if updaterIsCreator && me.ID == target.ID && !settingCreator {
		n, err := o.ownerCount(ctx, st, orgID)
		if err != nil {
			return nil, err
		}
		if n <= 1 {
			return nil, badRequest("YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER")
		}
	}
	if ok, err := o.can(ctx, st, orgID, me.Role, perm("member", "update"), true); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	}
	unknown, err := o.unknownRoles(ctx, st, orgID, roles)
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Code: "ROLE_NOT_FOUND", Message: "ROLE_NOT_FOUND: " + strings.Join(unknown, ", ")}
	}
	if organization, err := o.orgByID(ctx, st, orgID); err != nil {
		return nil, err
	} else if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	newRole := strings.Join(roles, ",")
	n, err := store.OrgUpdate[store.Member](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{memberID}}, map[string]any{"role": newRole})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, badRequest("MEMBER_NOT_FOUND")
	}
	updated := *target
	updated.Role = newRole
	return &plugin.Response{Body: memberOut(&updated, nil)}, nil
}

// deleteMember removes a membership and, with teams, the user's places in the organization's
// teams, keeping each team's member count, in one transaction.
func (o *org) deleteMember(ctx context.Context, st *store.Store, m *store.Member) error {
	return st.Tx(ctx, func(tx *store.Store) error {
		if _, err := store.OrgDelete[store.Member](ctx, tx, store.Query{Where: `"id" = ?`, Args: []any{m.ID}}); err != nil {
			return err
		}
		if !o.cfg.Teams {
			return nil
		}
		teams, err := store.OrgFind[store.Team](ctx, tx, store.Query{Where: `"organizationId" = ?`, Args: []any{m.OrganizationID}})
		if err != nil {
			return err
		}
		for _, t := range teams {
			n, err := store.OrgDelete[store.TeamMember](ctx, tx, store.Query{Where: `"teamId" = ? and "userId" = ?`, Args: []any{t.ID, m.UserID}})
			if err != nil {
				return err
			}
			if err := releaseSeats(ctx, tx, t.ID, n); err != nil {
				return err
			}
		}
		return nil
	})
}

// releaseSeats lowers a team's member count by n, never below zero.
func releaseSeats(ctx context.Context, st *store.Store, teamID string, n int64) error {
	if n <= 0 {
		return nil
	}
	t, err := nilIfNotFound(store.OrgFirst[store.Team](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{teamID}}))
	if err != nil || t == nil || t.MemberCount < n {
		return err
	}
	_, err = store.OrgUpdate[store.Team](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{teamID}}, map[string]any{"memberCount": t.MemberCount - n})
	return err
}

func (o *org) removeMember(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	orgID, me, err := o.callerIn(ctx, st, r, bodyString(r.Body, "organizationId"), badRequest("MEMBER_NOT_FOUND"))
	if err != nil {
		return nil, err
	}
	idOrEmail := bodyString(r.Body, "memberIdOrEmail")
	var target *store.Member
	var targetUser *store.User
	if strings.Contains(idOrEmail, "@") {
		u, err := nilIfNotFound(st.UserByEmail(ctx, strings.ToLower(idOrEmail)))
		if err != nil {
			return nil, err
		}
		if u != nil {
			if target, err = o.memberOf(ctx, st, orgID, u.ID); err != nil {
				return nil, err
			}
			targetUser = u
		}
	} else if target, err = nilIfNotFound(store.OrgFirst[store.Member](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{idOrEmail}})); err != nil {
		return nil, err
	}
	if target == nil {
		return nil, badRequest("MEMBER_NOT_FOUND")
	}
	if contains(roleNames(target.Role), CreatorRole) {
		if !contains(roleNames(me.Role), CreatorRole) {
			return nil, badRequest("YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
		}
		n, err := o.ownerCount(ctx, st, orgID)
		if err != nil {
			return nil, err
		}
		if n <= 1 {
			return nil, badRequest("YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
		}
	}
	if ok, err := o.can(ctx, st, orgID, me.Role, perm("member", "delete"), false); err != nil {
		return nil, err
	} else if !ok {
		return nil, fail(http.StatusUnauthorized, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER")
	}
	if target.OrganizationID != orgID {
		return nil, badRequest("MEMBER_NOT_FOUND")
	}
	if organization, err := o.orgByID(ctx, st, orgID); err != nil {
		return nil, err
	} else if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	if targetUser == nil {
		if _, err := st.UserByID(ctx, target.UserID); isNotFound(err) {
			return nil, &plugin.Error{Status: http.StatusBadRequest, Message: "User not found"}
		} else if err != nil {
			return nil, err
		}
	}
	if err := o.deleteMember(ctx, st, target); err != nil {
		return nil, err
	}
	if r.Auth.User.ID == target.UserID && activeOrg(st, r.Auth) == target.OrganizationID {
		if _, err := o.setActive(ctx, r, ""); err != nil {
			return nil, err
		}
	}
	// Better-Auth answers the member found by e-mail with its user, the one found by id without.
	return &plugin.Response{Body: map[string]memberJSON{"member": memberOut(target, targetUser)}}, nil
}

func (o *org) leave(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	orgID := bodyString(r.Body, "organizationId")
	me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if me == nil {
		return nil, badRequest("MEMBER_NOT_FOUND")
	}
	if contains(roleNames(me.Role), CreatorRole) {
		n, err := o.ownerCount(ctx, st, orgID)
		if err != nil {
			return nil, err
		}
		if n <= 1 {
			return nil, badRequest("YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
		}
	}
	if err := o.deleteMember(ctx, st, me); err != nil {
		return nil, err
	}
	if activeOrg(st, r.Auth) == orgID {
		if _, err := o.setActive(ctx, r, ""); err != nil {
			return nil, err
		}
	}
	return &plugin.Response{Body: memberOut(me, &r.Auth.User)}, nil
}

func (o *org) getActiveMember(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	orgID := activeOrg(st, r.Auth)
	if orgID == "" {
		return nil, badRequest("NO_ACTIVE_ORGANIZATION")
	}
	me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if me == nil {
		return nil, badRequest("MEMBER_NOT_FOUND")
	}
	return &plugin.Response{Body: memberOut(me, &r.Auth.User)}, nil
}

func (o *org) getActiveMemberRole(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	orgID, err := o.orgFromQuery(ctx, r)
	if err != nil {
		return nil, err
	}
	me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if me == nil {
		return nil, forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	}
	if uid := r.Query.Get("userId"); uid != "" {
		if me, err = o.memberOf(ctx, st, orgID, uid); err != nil {
			return nil, err
		}
		if me == nil {
			return nil, forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
		}
	}
	return &plugin.Response{Body: map[string]string{"role": me.Role}}, nil
}
