package organization

import (
	"context"
	"errors"
	"net/http"
	"time"

	"authserver/auth/plugin"
	"authserver/store"
)

// teamIn is the team id of orgID ("" orgID: of any organization), nil when there is none.
func (o *org) teamIn(ctx context.Context, st *store.Store, id, orgID string) (*store.Team, error) {
	q := store.Query{Where: `"id" = ?`, Args: []any{id}}
	if orgID != "" {
		q.Where += ` and "organizationId" = ?`
		q.Args = append(q.Args, orgID)
	}
	return nilIfNotFound(store.OrgFirst[store.Team](ctx, st, q))
}

func (o *org) teamMember(ctx context.Context, st *store.Store, teamID, userID string) (*store.TeamMember, error) {
	return nilIfNotFound(store.OrgFirst[store.TeamMember](ctx, st, store.Query{Where: `"teamId" = ? and "userId" = ?`, Args: []any{teamID, userID}, Order: `"id"`}))
}

// addToTeam makes userID a member of teamID unless they are one already (Better-Auth's
// findOrCreateTeamMember), keeping the team's member count; a full team (MaximumMembersPerTeam)
// is 403 TEAM_MEMBER_LIMIT_REACHED.
func (o *org) addToTeam(ctx context.Context, st *store.Store, teamID, userID string, now time.Time) (*store.TeamMember, error) {
	if tm, err := o.teamMember(ctx, st, teamID, userID); err != nil || tm != nil {
		return tm, err
	}
	if o.cfg.MaximumMembersPerTeam > 0 {
		n, err := store.OrgCount[store.TeamMember](ctx, st, store.Query{Where: `"teamId" = ?`, Args: []any{teamID}})
		if err != nil {
			return nil, err
		}
		if n >= int64(o.cfg.MaximumMembersPerTeam) {
			return nil, forbidden("TEAM_MEMBER_LIMIT_REACHED")
		}
	}
	key := membershipKey(teamID, userID)
	created := store.NewTime(now)
	tm := &store.TeamMember{ID: newID(), TeamID: teamID, UserID: userID, MembershipKey: &key, CreatedAt: &created}
	err := store.OrgCreate(ctx, st, tm)
	if errors.Is(err, store.ErrConflict) {
		return o.teamMember(ctx, st, teamID, userID)
	}
	if err != nil {
		return nil, err
	}
	n, err := store.OrgCount[store.TeamMember](ctx, st, store.Query{Where: `"teamId" = ?`, Args: []any{teamID}})
	if err != nil {
		return nil, err
	}
	if _, err := store.OrgUpdate[store.Team](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{teamID}}, map[string]any{"memberCount": n}); err != nil {
		return nil, err
	}
	return tm, nil
}

func (o *org) teamEndpoints(post postFn, get getFn) []plugin.Endpoint {
	return []plugin.Endpoint{
		post("create-team", plugin.OptionalSession, []plugin.Field{str("name", false), str("organizationId", true)}, o.createTeam),
		post("remove-team", plugin.OptionalSession, []plugin.Field{str("teamId", false), str("organizationId", true)}, o.removeTeam),
		post("update-team", plugin.NeedSession, []plugin.Field{str("teamId", false), {Name: "data", Kind: plugin.Any, Optional: true}}, o.updateTeam),
		get("list-teams", plugin.NeedSession, o.listTeams),
		post("set-active-team", plugin.NeedSession, []plugin.Field{{Name: "teamId", Kind: plugin.NullableString, Optional: true}}, o.setActiveTeam),
		get("list-user-teams", plugin.NeedSession, o.listUserTeams),
		get("list-team-members", plugin.NeedSession, o.listTeamMembers),
		post("add-team-member", plugin.NeedSession, []plugin.Field{str("teamId", false), {Name: "userId", Kind: plugin.Any}, str("organizationId", true)}, o.addTeamMember),
		post("remove-team-member", plugin.NeedSession, []plugin.Field{str("teamId", false), {Name: "userId", Kind: plugin.Any}, str("organizationId", true)}, o.removeTeamMember),
	}
}

func (o *org) createTeam(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if r.Auth == nil {
		return nil, errUnauthorized
	}
	st := r.Host.Store()
	orgID, me, err := o.callerIn(ctx, st, r, bodyString(r.Body, "organizationId"), forbidden("YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION"))
	if err != nil {
		return nil, err
	}
	if ok, err := o.can(ctx, st, orgID, me.Role, perm("team", "create"), false); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_CREATE_TEAMS_IN_THIS_ORGANIZATION")
	}
	if o.cfg.MaximumTeams > 0 {
		n, err := store.OrgCount[store.Team](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{orgID}})
		if err != nil {
			return nil, err
		}
		if n >= int64(o.cfg.MaximumTeams) {
			return nil, badRequest("YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_TEAMS")
		}
	}
	if organization, err := o.orgByID(ctx, st, orgID); err != nil {
		return nil, err
	} else if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	now := store.NewTime(r.Host.Now())
	t := store.Team{ID: newID(), Name: bodyString(r.Body, "name"), OrganizationID: orgID, CreatedAt: now, UpdatedAt: &now}
	if err := store.OrgCreate(ctx, st, &t); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: teamOut(&t)}, nil
}

func (o *org) removeTeam(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	orgID := bodyString(r.Body, "organizationId")
	if orgID == "" && r.Auth != nil {
		orgID = activeOrg(st, r.Auth)
	}
	if orgID == "" {
		return nil, badRequest("NO_ACTIVE_ORGANIZATION")
	}
	if r.Auth == nil {
		return nil, errUnauthorized
	}
	teamID := bodyString(r.Body, "teamId")
	me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if me == nil || activeTeam(st, r.Auth) == teamID {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM")
	}
	if ok, err := o.can(ctx, st, orgID, me.Role, perm("team", "delete"), false); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_DELETE_TEAMS_IN_THIS_ORGANIZATION")
	}
	t, err := o.teamIn(ctx, st, teamID, orgID)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, badRequest("TEAM_NOT_FOUND")
	}
	n, err := store.OrgCount[store.Team](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{orgID}})
	if err != nil {
		return nil, err
	}
	if n <= 1 {
		return nil, badRequest("UNABLE_TO_REMOVE_LAST_TEAM")
	}
	now := r.Host.Now()
	err = st.Tx(ctx, func(tx *store.Store) error {
		if _, err := store.OrgDelete[store.TeamMember](ctx, tx, store.Query{Where: `"teamId" = ?`, Args: []any{t.ID}}); err != nil {
			return err
		}
		if _, err := store.OrgDelete[store.Team](ctx, tx, store.Query{Where: `"id" = ?`, Args: []any{t.ID}}); err != nil {
			return err
		}
		pending, err := o.pendingInvitations(ctx, tx, orgID, "", now)
		if err != nil {
			return err
		}
		for _, inv := range pending {
			if inv.TeamID == nil || *inv.TeamID == "" {
				continue
			}
			var rest []string
			found := false
			for _, id := range splitComma(*inv.TeamID) {
				if id == t.ID {
					found = true
				} else {
					rest = append(rest, id)
				}
			}
			if !found {
				continue
			}
			var v any
			if len(rest) > 0 {
				v = joinComma(rest)
			}
			if _, err := store.OrgUpdate[store.Invitation](ctx, tx, store.Query{Where: `"id" = ?`, Args: []any{inv.ID}}, map[string]any{"teamId": v}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]string{"message": "Team removed successfully."}}, nil
}

func (o *org) updateTeam(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	data, err := objectField(r.Body, "data")
	if err != nil {
		return nil, err
	}
	cols := map[string]any{}
	if v, ok := data["name"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return nil, validation("body.data.name", "Invalid input: expected string, received "+plugin.JSType(v))
		}
		if s == "" {
			return nil, validation("body.data.name", "Too small: expected string to have >=1 characters")
		}
		if !store.ValidText(s) {
			return nil, validation("body.data.name", "Invalid input")
		}
		cols["name"] = s
	}
	requested, _ := data["organizationId"].(string)
	orgID, me, err := o.callerIn(ctx, st, r, requested, forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM"))
	if err != nil {
		return nil, err
	}
	if ok, err := o.can(ctx, st, orgID, me.Role, perm("team", "update"), false); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM")
	}
	t, err := o.teamIn(ctx, st, bodyString(r.Body, "teamId"), orgID)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, badRequest("TEAM_NOT_FOUND")
	}
	if organization, err := o.orgByID(ctx, st, orgID); err != nil {
		return nil, err
	} else if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	// Better-Auth's update stamps updatedAt whatever the data changes.
	cols["updatedAt"] = store.NewTime(r.Host.Now())
	if _, err := store.OrgUpdate[store.Team](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{t.ID}}, cols); err != nil {
		return nil, err
	}
	if t, err = o.teamIn(ctx, st, t.ID, ""); err != nil || t == nil {
		return nil, err
	}
	return &plugin.Response{Body: teamOut(t)}, nil
}

func teamsOut(ts []store.Team) []teamJSON {
	out := make([]teamJSON, len(ts))
	for i := range ts {
		out[i] = teamOut(&ts[i])
	}
	return out
}

func (o *org) listTeams(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	orgID := r.Query.Get("organizationId")
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if orgID == "" {
		return nil, badRequest("NO_ACTIVE_ORGANIZATION")
	}
	if me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID); err != nil {
		return nil, err
	} else if me == nil {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_ACCESS_THIS_ORGANIZATION")
	}
	ts, err := store.OrgFind[store.Team](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{orgID}})
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: teamsOut(ts)}, nil
}

func (o *org) setActiveTeam(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	v, given := r.Body["teamId"]
	current := activeTeam(st, r.Auth)
	set := func(id string) (*store.Session, error) {
		val := store.Value{}
		if id != "" {
			val = store.StringValue(id)
		}
		return r.Host.SetSessionFields(ctx, r.Auth.Session.Token, map[string]store.Value{ActiveTeamField.Name: val})
	}
	if given && v == nil {
		if current == "" {
			return &plugin.Response{Body: jsonNull}, nil
		}
		sess, err := set("")
		if err != nil {
			return nil, err
		}
		return withCookie(r, jsonNull, sess), nil
	}
	teamID, _ := v.(string)
	if teamID == "" {
		if current == "" {
			return &plugin.Response{Body: jsonNull}, nil
		}
		teamID = current
	}
	orgID := activeOrg(st, r.Auth)
	if orgID == "" {
		return nil, badRequest("NO_ACTIVE_ORGANIZATION")
	}
	t, err := o.teamIn(ctx, st, teamID, orgID)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, badRequest("TEAM_NOT_FOUND")
	}
	if tm, err := o.teamMember(ctx, st, t.ID, r.Auth.User.ID); err != nil {
		return nil, err
	} else if tm == nil {
		return nil, forbidden("USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	}
	sess, err := set(t.ID)
	if err != nil {
		return nil, err
	}
	return withCookie(r, teamOut(t), sess), nil
}

// teamsOfUser are the teams userID belongs to, in the order they joined.
func (o *org) teamsOfUser(ctx context.Context, st *store.Store, userID string) ([]store.Team, error) {
	tms, err := store.OrgFind[store.TeamMember](ctx, st, store.Query{Where: `"userId" = ?`, Args: []any{userID}})
	if err != nil {
		return nil, err
	}
	out := []store.Team{}
	for _, tm := range tms {
		t, err := o.teamIn(ctx, st, tm.TeamID, "")
		if err != nil {
			return nil, err
		}
		if t != nil {
			out = append(out, *t)
		}
	}
	return out, nil
}

func filterTeams(ts []store.Team, keep func(store.Team) bool) []store.Team {
	out := []store.Team{}
	for _, t := range ts {
		if keep(t) {
			out = append(out, t)
		}
	}
	return out
}

func (o *org) listUserTeams(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	target := r.Query.Get("userId")
	if target == "" {
		target = r.Auth.User.ID
	}
	explicit := r.Query.Get("organizationId")
	orgID := explicit
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if target != r.Auth.User.ID {
		if orgID == "" {
			return nil, badRequest("NO_ACTIVE_ORGANIZATION")
		}
		me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
		if err != nil {
			return nil, err
		}
		if me == nil {
			return nil, forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
		}
		if ok, err := o.can(ctx, st, orgID, me.Role, perm("member", "update"), false); err != nil {
			return nil, err
		} else if !ok {
			return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
		}
		if m, err := o.memberOf(ctx, st, orgID, target); err != nil {
			return nil, err
		} else if m == nil {
			return nil, badRequest("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
		}
	} else if explicit != "" {
		if me, err := o.memberOf(ctx, st, explicit, r.Auth.User.ID); err != nil {
			return nil, err
		} else if me == nil {
			return nil, forbidden("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
		}
	}
	ts, err := o.teamsOfUser(ctx, st, target)
	if err != nil {
		return nil, err
	}
	if target != r.Auth.User.ID || explicit != "" {
		return &plugin.Response{Body: teamsOut(filterTeams(ts, func(t store.Team) bool { return t.OrganizationID == orgID }))}, nil
	}
	member := map[string]bool{}
	for _, t := range ts {
		if _, seen := member[t.OrganizationID]; seen {
			continue
		}
		m, err := o.memberOf(ctx, st, t.OrganizationID, target)
		if err != nil {
			return nil, err
		}
		member[t.OrganizationID] = m != nil
	}
	return &plugin.Response{Body: teamsOut(filterTeams(ts, func(t store.Team) bool { return member[t.OrganizationID] }))}, nil
}

func (o *org) listTeamMembers(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	teamID := r.Query.Get("teamId")
	if teamID == "" {
		teamID = activeTeam(st, r.Auth)
	}
	if teamID == "" {
		return nil, badRequest("YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM")
	}
	t, err := o.teamIn(ctx, st, teamID, "")
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, badRequest("TEAM_NOT_FOUND")
	}
	if m, err := o.memberOf(ctx, st, t.OrganizationID, r.Auth.User.ID); err != nil {
		return nil, err
	} else if m == nil {
		return nil, badRequest("USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	}
	if tm, err := o.teamMember(ctx, st, t.ID, r.Auth.User.ID); err != nil {
		return nil, err
	} else if tm == nil {
		return nil, badRequest("USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	}
	tms, err := store.OrgFind[store.TeamMember](ctx, st, store.Query{Where: `"teamId" = ?`, Args: []any{t.ID}})
	if err != nil {
		return nil, err
	}
	out := make([]teamMemberJSON, len(tms))
	for i := range tms {
		out[i] = teamMemberOut(&tms[i])
	}
	return &plugin.Response{Body: out}, nil
}

// teamMemberTarget runs the checks add-team-member and remove-team-member share: the caller's
// membership and permission, the target's membership, the team and the organization.
func (o *org) teamMemberTarget(ctx context.Context, r *plugin.Request, action, refusal string) (orgID, userID string, t *store.Team, err error) {
	st := r.Host.Store()
	userID = coerceString(r.Body, "userId")
	orgID = bodyString(r.Body, "organizationId")
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if orgID == "" {
		return "", "", nil, badRequest("NO_ACTIVE_ORGANIZATION")
	}
	me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return "", "", nil, err
	}
	if me == nil {
		return "", "", nil, badRequest("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	}
	if ok, err := o.can(ctx, st, orgID, me.Role, perm("member", action), false); err != nil {
		return "", "", nil, err
	} else if !ok {
		return "", "", nil, forbidden(refusal)
	}
	if m, err := o.memberOf(ctx, st, orgID, userID); err != nil {
		return "", "", nil, err
	} else if m == nil {
		return "", "", nil, badRequest("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	}
	if t, err = o.teamIn(ctx, st, bodyString(r.Body, "teamId"), orgID); err != nil {
		return "", "", nil, err
	} else if t == nil {
		return "", "", nil, badRequest("TEAM_NOT_FOUND")
	}
	if organization, err := o.orgByID(ctx, st, orgID); err != nil {
		return "", "", nil, err
	} else if organization == nil {
		return "", "", nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	if _, err := st.UserByID(ctx, userID); isNotFound(err) {
		return "", "", nil, &plugin.Error{Status: http.StatusBadRequest, Message: "User not found"}
	} else if err != nil {
		return "", "", nil, err
	}
	return orgID, userID, t, nil
}

func (o *org) addTeamMember(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	_, userID, t, err := o.teamMemberTarget(ctx, r, "update", "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER")
	if err != nil {
		return nil, err
	}
	st := r.Host.Store()
	var tm *store.TeamMember
	err = st.Tx(ctx, func(tx *store.Store) error {
		var err error
		tm, err = o.addToTeam(ctx, tx, t.ID, userID, r.Host.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: teamMemberOut(tm)}, nil
}

func (o *org) removeTeamMember(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	_, userID, t, err := o.teamMemberTarget(ctx, r, "delete", "YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER")
	if err != nil {
		return nil, err
	}
	st := r.Host.Store()
	if tm, err := o.teamMember(ctx, st, t.ID, userID); err != nil {
		return nil, err
	} else if tm == nil {
		return nil, badRequest("USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	}
	err = st.Tx(ctx, func(tx *store.Store) error {
		n, err := store.OrgDelete[store.TeamMember](ctx, tx, store.Query{Where: `"teamId" = ? and "userId" = ?`, Args: []any{t.ID, userID}})
		if err != nil {
			return err
		}
		return releaseSeats(ctx, tx, t.ID, n)
	})
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]string{"message": "Team member removed successfully."}}, nil
}
