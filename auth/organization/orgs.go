package organization

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"authserver/auth/access"
	"authserver/auth/plugin"
	"authserver/store"
)

// jsonNull is a body that prints null but, unlike a nil Body, does not make a Response with
// SignIn a sign-in answer.
var jsonNull = json.RawMessage("null")

func (o *org) orgByID(ctx context.Context, st *store.Store, id string) (*store.Organization, error) {
	return nilIfNotFound(store.OrgFirst[store.Organization](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{id}}))
}

func (o *org) orgBySlug(ctx context.Context, st *store.Store, slug string) (*store.Organization, error) {
	return nilIfNotFound(store.OrgFirst[store.Organization](ctx, st, store.Query{Where: `"slug" = ?`, Args: []any{slug}}))
}

// callerIn resolves the organization a request names (orgID), or else the session's active one,
// and the caller's membership in it. notMember is the endpoint's own refusal for a caller who is
// not a member: Better-Auth words it differently per endpoint.
func (o *org) callerIn(ctx context.Context, st *store.Store, r *plugin.Request, orgID string, notMember error) (string, *store.Member, error) {
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if orgID == "" {
		return "", nil, badRequest("NO_ACTIVE_ORGANIZATION")
	}
	me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return "", nil, err
	}
	if me == nil {
		return "", nil, notMember
	}
	return orgID, me, nil
}

// memberOf is userID's membership of orgID, nil when there is none.
func (o *org) memberOf(ctx context.Context, st *store.Store, orgID, userID string) (*store.Member, error) {
	return nilIfNotFound(store.OrgFirst[store.Member](ctx, st, store.Query{Where: `"organizationId" = ? and "userId" = ?`, Args: []any{orgID, userID}, Order: `"createdAt", "id"`}))
}

func nilIfNotFound[T any](v *T, err error) (*T, error) {
	if isNotFound(err) {
		return nil, nil
	}
	return v, err
}

// setActive writes the session's active organization ("" clears it) and returns the session.
func (o *org) setActive(ctx context.Context, r *plugin.Request, orgID string) (*store.Session, error) {
	v := store.Value{}
	if orgID != "" {
		v = store.StringValue(orgID)
	}
	return r.Host.SetSessionFields(ctx, r.Auth.Session.Token, map[string]store.Value{ActiveOrganizationField.Name: v})
}

// withCookie answers body and re-sets the session cookie for the updated session, as Better-Auth's
// setSessionCookie after updateSession.
func withCookie(r *plugin.Request, body any, sess *store.Session) *plugin.Response {
	return &plugin.Response{Body: body, SignIn: &plugin.SignIn{Session: *sess, User: r.Auth.User}}
}

// membershipKey is Better-Auth's teamMember.membershipKey: SHA-256 of the JSON pair
// [teamId, userId], base64url without padding.
func membershipKey(teamID, userID string) string {
	b, _ := json.Marshal([]string{teamID, userID})
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// orgsOf lists the organizations userID is a member of, in the order they joined.
func (o *org) orgsOf(ctx context.Context, st *store.Store, userID string) ([]store.Organization, error) {
	ms, err := store.OrgFind[store.Member](ctx, st, store.Query{Where: `"userId" = ?`, Args: []any{userID}})
	if err != nil {
		return nil, err
	}
	out := []store.Organization{}
	for _, m := range ms {
		org, err := o.orgByID(ctx, st, m.OrganizationID)
		if err != nil {
			return nil, err
		}
		if org != nil {
			out = append(out, *org)
		}
	}
	return out, nil
}

func (o *org) create(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if r.Auth == nil {
		return nil, errUnauthorized
	}
	st := r.Host.Store()
	user := r.Auth.User
	if o.cfg.DisallowCreate {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_ORGANIZATION")
	}
	if o.cfg.OrganizationLimit > 0 {
		n, err := store.OrgCount[store.Member](ctx, st, store.Query{Where: `"userId" = ?`, Args: []any{user.ID}})
		if err != nil {
			return nil, err
		}
		if n >= int64(o.cfg.OrganizationLimit) {
			return nil, forbidden("YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS")
		}
	}
	slug := bodyString(r.Body, "slug")
	if existing, err := o.orgBySlug(ctx, st, slug); err != nil {
		return nil, err
	} else if existing != nil {
		return nil, badRequest("ORGANIZATION_ALREADY_EXISTS")
	}
	now := store.NewTime(r.Host.Now())
	organization := store.Organization{ID: newID(), Name: bodyString(r.Body, "name"), Slug: slug, CreatedAt: now}
	if logo, ok := r.Body["logo"].(string); ok {
		organization.Logo = &logo
	}
	if md, ok := r.Body["metadata"].(map[string]any); ok {
		s, err := metadataText(r.RawBody, md, "metadata")
		if err != nil {
			return nil, err
		}
		organization.Metadata = &s
	}
	member := store.Member{ID: newID(), OrganizationID: organization.ID, UserID: user.ID, Role: CreatorRole, CreatedAt: now}
	var team *store.Team
	err := st.Tx(ctx, func(tx *store.Store) error {
		if err := store.OrgCreate(ctx, tx, &organization); err != nil {
			return err
		}
		if err := store.OrgCreate(ctx, tx, &member); err != nil {
			return err
		}
		if !o.cfg.Teams {
			return nil
		}
		team = &store.Team{ID: newID(), Name: organization.Name, OrganizationID: organization.ID, CreatedAt: now, MemberCount: 1}
		if err := store.OrgCreate(ctx, tx, team); err != nil {
			return err
		}
		key := membershipKey(team.ID, user.ID)
		return store.OrgCreate(ctx, tx, &store.TeamMember{ID: newID(), TeamID: team.ID, UserID: user.ID, MembershipKey: &key, CreatedAt: &now})
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, badRequest("ORGANIZATION_ALREADY_EXISTS")
	}
	if err != nil {
		return nil, err
	}
	if keep, _ := r.Body["keepCurrentActiveOrganization"].(bool); !keep {
		vals := map[string]store.Value{ActiveOrganizationField.Name: store.StringValue(organization.ID)}
		if team != nil {
			vals[ActiveTeamField.Name] = store.StringValue(team.ID)
		}
		if _, err := r.Host.SetSessionFields(ctx, r.Auth.Session.Token, vals); err != nil {
			return nil, err
		}
	}
	return &plugin.Response{Body: struct {
		orgParsedJSON
		Members []memberJSON `json:"members"`
	}{orgParsedOut(&organization), []memberJSON{memberOut(&member, nil)}}}, nil
}

func (o *org) checkSlug(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	existing, err := o.orgBySlug(ctx, r.Host.Store(), bodyString(r.Body, "slug"))
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return nil, badRequest("ORGANIZATION_SLUG_ALREADY_TAKEN")
	}
	return &plugin.Response{Body: map[string]bool{"status": true}}, nil
}

func validation(where, msg string) error {
	return &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: "[" + where + "] " + msg}
}

// updateColumns checks update's data object (name, slug non-empty strings; logo a string or
// null; metadata an object, stored as the client wrote it in rawBody) and returns the columns to set.
func updateColumns(data map[string]any, rawBody []byte) (map[string]any, error) {
	cols := map[string]any{}
	for _, k := range []string{"name", "slug"} {
		v, ok := data[k]
		if !ok {
			continue
		}
		s, isStr := v.(string)
		if !isStr {
			return nil, validation("body.data."+k, "Invalid input: expected string, received "+plugin.JSType(v))
		}
		if s == "" {
			return nil, validation("body.data."+k, "Too small: expected string to have >=1 characters")
		}
		if !store.ValidText(s) {
			return nil, validation("body.data."+k, "Invalid input")
		}
		cols[k] = s
	}
	if v, ok := data["logo"]; ok {
		switch x := v.(type) {
		case nil:
			cols["logo"] = nil
		case string:
			if !store.ValidText(x) {
				return nil, validation("body.data.logo", "Invalid input")
			}
			cols["logo"] = x
		default:
			return nil, validation("body.data.logo", "Invalid input: expected string, received "+plugin.JSType(v))
		}
	}
	if v, ok := data["metadata"]; ok {
		md, isObj := v.(map[string]any)
		if !isObj {
			return nil, validation("body.data.metadata", "Invalid input: expected record, received "+plugin.JSType(v))
		}
		text, err := metadataText(rawBody, md, "data", "metadata")
		if err != nil {
			return nil, err
		}
		cols["metadata"] = text
	}
	return cols, nil
}

func (o *org) update(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	data, err := objectField(r.Body, "data")
	if err != nil {
		return nil, err
	}
	cols, err := updateColumns(data, r.RawBody)
	if err != nil {
		return nil, err
	}
	if r.Auth == nil {
		return nil, &plugin.Error{Status: http.StatusUnauthorized, Message: "User not found"}
	}
	st := r.Host.Store()
	orgID := bodyString(r.Body, "organizationId")
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if orgID == "" {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	m, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, badRequest("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	}
	if ok, err := o.can(ctx, st, orgID, m.Role, perm("organization", "update"), false); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION")
	}
	if slug, ok := cols["slug"].(string); ok {
		existing, err := o.orgBySlug(ctx, st, slug)
		if err != nil {
			return nil, err
		}
		if existing != nil && existing.ID != orgID {
			return nil, badRequest("ORGANIZATION_SLUG_ALREADY_TAKEN")
		}
	}
	if len(cols) > 0 {
		_, err := store.OrgUpdate[store.Organization](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{orgID}}, cols)
		if errors.Is(err, store.ErrConflict) {
			return nil, badRequest("ORGANIZATION_SLUG_ALREADY_TAKEN")
		}
		if err != nil {
			return nil, err
		}
	}
	updated, err := o.orgByID(ctx, st, orgID)
	if err != nil {
		return nil, err
	}
	if updated == nil {
		return &plugin.Response{Body: jsonNull}, nil
	}
	return &plugin.Response{Body: orgParsedOut(updated)}, nil
}

func (o *org) deleteOrg(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if r.Auth == nil {
		return nil, errUnauthorized
	}
	st := r.Host.Store()
	orgID := bodyString(r.Body, "organizationId")
	if orgID == "" {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	m, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, badRequest("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	}
	if ok, err := o.can(ctx, st, orgID, m.Role, perm("organization", "delete"), false); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION")
	}
	organization, err := o.orgByID(ctx, st, orgID)
	if err != nil {
		return nil, err
	}
	if organization == nil {
		return nil, &plugin.Error{Status: http.StatusBadRequest}
	}
	err = st.Tx(ctx, func(tx *store.Store) error {
		q := store.Query{Where: `"organizationId" = ?`, Args: []any{orgID}}
		if _, err := store.OrgDelete[store.Member](ctx, tx, q); err != nil {
			return err
		}
		if _, err := store.OrgDelete[store.Invitation](ctx, tx, q); err != nil {
			return err
		}
		_, err := store.OrgDelete[store.Organization](ctx, tx, store.Query{Where: `"id" = ?`, Args: []any{orgID}})
		return err
	})
	if err != nil {
		return nil, err
	}
	if activeOrg(st, r.Auth) == orgID {
		if _, err := o.setActive(ctx, r, ""); err != nil {
			return nil, err
		}
	}
	return &plugin.Response{Body: orgOut(organization)}, nil
}

// target resolves the organization a GET names (organizationSlug over organizationId over the
// active one); "" means none at all.
func (o *org) lookup(ctx context.Context, st *store.Store, r *plugin.Request) (org *store.Organization, named bool, err error) {
	slug, id := r.Query.Get("organizationSlug"), r.Query.Get("organizationId")
	switch {
	case slug != "":
		org, err = o.orgBySlug(ctx, st, slug)
	case id != "":
		org, err = o.orgByID(ctx, st, id)
	default:
		active := activeOrg(st, r.Auth)
		if active == "" {
			return nil, false, nil
		}
		org, err = o.orgByID(ctx, st, active)
	}
	return org, true, err
}

// memberOrForget is the caller's membership of org; when there is none the session's active
// organization is cleared and the answer is 403, as Better-Auth does.
func (o *org) memberOrForget(ctx context.Context, r *plugin.Request, orgID string) (*store.Member, error) {
	st := r.Host.Store()
	m, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if m == nil {
		if _, err := o.setActive(ctx, r, ""); err != nil {
			return nil, err
		}
		return nil, forbidden("USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	}
	return m, nil
}

func (o *org) getOrganization(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	organization, named, err := o.lookup(ctx, st, r)
	if err != nil {
		return nil, err
	}
	if !named {
		return &plugin.Response{Body: jsonNull}, nil
	}
	if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	if _, err := o.memberOrForget(ctx, r, organization.ID); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: orgOut(organization)}, nil
}

// membersWithUsers lists an organization's members with their users, in the order they joined.
func (o *org) membersWithUsers(ctx context.Context, st *store.Store, q store.Query) ([]memberJSON, error) {
	ms, err := store.OrgFind[store.Member](ctx, st, q)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	users, err := st.UsersByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]memberJSON, 0, len(ms))
	for i := range ms {
		u, ok := users[ms[i].UserID]
		if !ok {
			continue
		}
		out = append(out, memberOut(&ms[i], &u))
	}
	return out, nil
}

// visibleInvitations filters an organization's invitations for a member holding role: none
// without the invitation:create permission, and none naming the creator role for a member
// without it, as Better-Auth's canViewInvitations and withoutCreatorRoleInvitations.
func (o *org) visibleInvitations(ctx context.Context, st *store.Store, orgID, role string, invs []store.Invitation) ([]invitationJSON, error) {
	out := []invitationJSON{}
	if len(invs) == 0 {
		return out, nil
	}
	ok, err := o.can(ctx, st, orgID, role, perm("invitation", "create"), false)
	if err != nil || !ok {
		return out, err
	}
	isCreator := contains(roleNames(role), CreatorRole)
	for i := range invs {
		if !isCreator && invs[i].Role != nil && contains(roleNames(*invs[i].Role), CreatorRole) {
			continue
		}
		out = append(out, o.invitationOut(&invs[i]))
	}
	return out, nil
}

func (o *org) getFullOrganization(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	organization, named, err := o.lookup(ctx, st, r)
	if err != nil {
		return nil, err
	}
	if !named {
		return &plugin.Response{Body: jsonNull}, nil
	}
	if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	limit := o.cfg.MembershipLimit
	if v := r.Query.Get("membersLimit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			limit = n
		}
	}
	members, err := o.membersWithUsers(ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{organization.ID}, Limit: limit})
	if err != nil {
		return nil, err
	}
	me, err := o.memberOrForget(ctx, r, organization.ID)
	if err != nil {
		return nil, err
	}
	invs, err := store.OrgFind[store.Invitation](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{organization.ID}})
	if err != nil {
		return nil, err
	}
	visible, err := o.visibleInvitations(ctx, st, organization.ID, me.Role, invs)
	if err != nil {
		return nil, err
	}
	body := struct {
		orgJSON
		Invitations []invitationJSON `json:"invitations"`
		Members     []memberJSON     `json:"members"`
		Teams       any              `json:"teams,omitempty"`
	}{orgJSON: orgOut(organization), Invitations: visible, Members: members}
	if o.cfg.Teams {
		teams, err := store.OrgFind[store.Team](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{organization.ID}})
		if err != nil {
			return nil, err
		}
		out := make([]teamFullJSON, 0, len(teams))
		for i := range teams {
			t := teamOut(&teams[i])
			out = append(out, teamFullJSON{Name: t.Name, MemberCount: teams[i].MemberCount, OrganizationID: t.OrganizationID,
				CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, ID: t.ID})
		}
		body.Teams = out
	}
	return &plugin.Response{Body: body}, nil
}

func (o *org) setActiveOrg(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	idVal, idGiven := r.Body["organizationId"]
	slug := bodyString(r.Body, "organizationSlug")
	active := activeOrg(st, r.Auth)
	if idGiven && idVal == nil {
		if active == "" {
			return &plugin.Response{Body: jsonNull}, nil
		}
		sess, err := o.setActive(ctx, r, "")
		if err != nil {
			return nil, err
		}
		return withCookie(r, jsonNull, sess), nil
	}
	orgID, _ := idVal.(string)
	if orgID == "" && slug == "" {
		if active == "" {
			return &plugin.Response{Body: jsonNull}, nil
		}
		orgID = active
	}
	if slug != "" && orgID == "" {
		organization, err := o.orgBySlug(ctx, st, slug)
		if err != nil {
			return nil, err
		}
		if organization == nil {
			return nil, badRequest("ORGANIZATION_NOT_FOUND")
		}
		orgID = organization.ID
	}
	if _, err := o.memberOrForget(ctx, r, orgID); err != nil {
		return nil, err
	}
	organization, err := o.orgByID(ctx, st, orgID)
	if err != nil {
		return nil, err
	}
	if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	sess, err := o.setActive(ctx, r, organization.ID)
	if err != nil {
		return nil, err
	}
	return withCookie(r, orgOut(organization), sess), nil
}

func (o *org) list(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	orgs, err := o.orgsOf(ctx, r.Host.Store(), r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	out := make([]orgJSON, len(orgs))
	for i := range orgs {
		out[i] = orgOut(&orgs[i])
	}
	return &plugin.Response{Body: out}, nil
}

// roleNames splits a role value (access.RoleList).
func roleNames(role string) []string { return access.RoleList(role) }
