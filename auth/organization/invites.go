package organization

import (
	"context"
	"net/http"
	"strings"
	"time"

	"authserver/auth"
	"authserver/auth/access"
	"authserver/auth/plugin"
	"authserver/store"
)

// Invitation statuses.
const (
	statusPending  = "pending"
	statusAccepted = "accepted"
	statusRejected = "rejected"
	statusCanceled = "canceled"
)

func (o *org) invitationByID(ctx context.Context, st *store.Store, id string) (*store.Invitation, error) {
	return nilIfNotFound(store.OrgFirst[store.Invitation](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{id}}))
}

// pendingInvitations are orgID's pending, unexpired invitations (to email when it is not "").
func (o *org) pendingInvitations(ctx context.Context, st *store.Store, orgID, email string, now time.Time) ([]store.Invitation, error) {
	q := store.Query{Where: `"organizationId" = ? and "status" = ?`, Args: []any{orgID, statusPending}}
	if email != "" {
		q.Where += ` and "email" = ?`
		q.Args = append(q.Args, email)
	}
	all, err := store.OrgFind[store.Invitation](ctx, st, q)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, inv := range all {
		if inv.ExpiresAt.After(now) {
			out = append(out, inv)
		}
	}
	return out, nil
}

// setStatus moves an invitation to status (only from "from" when it is not "") and returns the
// row, nil when no row matched.
func (o *org) setStatus(ctx context.Context, st *store.Store, id, status, from string) (*store.Invitation, error) {
	q := store.Query{Where: `"id" = ?`, Args: []any{id}}
	if from != "" {
		q.Where += ` and "status" = ?`
		q.Args = append(q.Args, from)
	}
	n, err := store.OrgUpdate[store.Invitation](ctx, st, q, map[string]any{"status": status})
	if err != nil || n == 0 {
		return nil, err
	}
	return o.invitationByID(ctx, st, id)
}

// acceptLink is the web app's page for an invitation.
func (o *org) acceptLink(id string) string { return o.cfg.BaseURL + "/accept-invitation/" + id }

// errMailFailed answers an invitation whose e-mail could not be sent, and the invitation is
// removed again (a resend gets its old expiry back), so no invitation exists that nobody was told
// of. Better-Auth 1.7.25 differs here on purpose: it logs the failed sendInvitationEmail and
// answers 200 with an invitation that was never delivered.
var errMailFailed = &plugin.Error{Status: http.StatusInternalServerError, Code: "FAILED_TO_SEND_INVITATION", Message: "The invitation e-mail could not be sent"}

func (o *org) sendInvitation(ctx context.Context, r *plugin.Request, organization *store.Organization, inv *store.Invitation) error {
	role := ""
	if inv.Role != nil {
		role = *inv.Role
	}
	return r.Host.SendMail(ctx, plugin.Mail{Kind: "organization-invitation", To: inv.Email, URL: o.acceptLink(inv.ID),
		Organization: organization.Name, Inviter: r.Auth.User.Name, InviterEmail: r.Auth.User.Email, Role: role,
		ExpiresIn: inv.ExpiresAt.Sub(r.Host.Now()).Round(time.Second)})
}

func (o *org) invite(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	roles, _, err := roleInput(r.Body["role"])
	if err != nil {
		return nil, err
	}
	teamIDs, err := teamIDsInput(r.Body)
	if err != nil {
		return nil, err
	}
	orgID := bodyString(r.Body, "organizationId")
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if orgID == "" {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	email := strings.ToLower(bodyString(r.Body, "email"))
	if !auth.ValidEmail(email) {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Code: "INVALID_EMAIL", Message: "Invalid email"}
	}
	me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if me == nil {
		return nil, badRequest("MEMBER_NOT_FOUND")
	}
	if ok, err := o.can(ctx, st, orgID, me.Role, perm("invitation", "create"), false); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION")
	}
	if len(roles) == 0 {
		return nil, badRequest("ROLE_NOT_FOUND")
	}
	unknown, err := o.unknownRoles(ctx, st, orgID, roles)
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Message: "ROLE_NOT_FOUND: " + strings.Join(unknown, ", ")}
	}
	iAmCreator := contains(roleNames(me.Role), CreatorRole)
	if !iAmCreator && contains(roles, CreatorRole) {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
	}
	if u, err := nilIfNotFound(st.UserByEmail(ctx, email)); err != nil {
		return nil, err
	} else if u != nil {
		if m, err := o.memberOf(ctx, st, orgID, u.ID); err != nil {
			return nil, err
		} else if m != nil {
			return nil, badRequest("USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION")
		}
	}
	now := r.Host.Now()
	pending, err := o.pendingInvitations(ctx, st, orgID, email, now)
	if err != nil {
		return nil, err
	}
	resend, _ := r.Body["resend"].(bool)
	if len(pending) > 0 && !resend && !o.cfg.CancelPendingOnReInvite {
		return nil, badRequest("USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION")
	}
	organization, err := o.orgByID(ctx, st, orgID)
	if err != nil {
		return nil, err
	}
	if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	if len(pending) > 0 && resend {
		inv := pending[0]
		if !iAmCreator && inv.Role != nil && contains(roleNames(*inv.Role), CreatorRole) {
			return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
		}
		old := inv.ExpiresAt
		inv.ExpiresAt = store.NewTime(now.Add(o.cfg.InvitationExpiresIn))
		if _, err := store.OrgUpdate[store.Invitation](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{inv.ID}}, map[string]any{"expiresAt": inv.ExpiresAt}); err != nil {
			return nil, err
		}
		if err := o.sendInvitation(ctx, r, organization, &inv); err != nil {
			_, _ = store.OrgUpdate[store.Invitation](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{inv.ID}}, map[string]any{"expiresAt": old})
			return nil, errMailFailed
		}
		return &plugin.Response{Body: o.invitationOut(&inv)}, nil
	}
	if len(pending) > 0 && o.cfg.CancelPendingOnReInvite {
		if _, err := o.setStatus(ctx, st, pending[0].ID, statusCanceled, ""); err != nil {
			return nil, err
		}
	}
	all, err := o.pendingInvitations(ctx, st, orgID, "", now)
	if err != nil {
		return nil, err
	}
	if len(all) >= o.cfg.InvitationLimit {
		return nil, forbidden("INVITATION_LIMIT_REACHED")
	}
	if o.cfg.Teams && len(teamIDs) > 0 {
		for _, id := range teamIDs {
			if strings.Contains(id, ",") {
				return nil, badRequest("INVALID_TEAM_ID")
			}
		}
		for _, id := range teamIDs {
			if t, err := o.teamIn(ctx, st, id, orgID); err != nil {
				return nil, err
			} else if t == nil {
				return nil, badRequest("TEAM_NOT_FOUND")
			}
		}
		if o.cfg.MaximumMembersPerTeam > 0 {
			for _, id := range teamIDs {
				n, err := store.OrgCount[store.TeamMember](ctx, st, store.Query{Where: `"teamId" = ?`, Args: []any{id}})
				if err != nil {
					return nil, err
				}
				if n >= int64(o.cfg.MaximumMembersPerTeam) {
					return nil, forbidden("TEAM_MEMBER_LIMIT_REACHED")
				}
			}
		}
	}
	role := strings.Join(roles, ",")
	inv := store.Invitation{ID: newID(), OrganizationID: orgID, Email: email, Role: &role, Status: statusPending,
		ExpiresAt: store.NewTime(now.Add(o.cfg.InvitationExpiresIn)), CreatedAt: store.NewTime(now), InviterID: r.Auth.User.ID,
		OmitTeamID: !o.cfg.Teams}
	if o.cfg.Teams && len(teamIDs) > 0 {
		t := strings.Join(teamIDs, ",")
		inv.TeamID = &t
	}
	if err := store.OrgCreate(ctx, st, &inv); err != nil {
		return nil, err
	}
	if err := o.sendInvitation(ctx, r, organization, &inv); err != nil {
		_, _ = store.OrgDelete[store.Invitation](ctx, st, store.Query{Where: `"id" = ?`, Args: []any{inv.ID}})
		return nil, errMailFailed
	}
	return &plugin.Response{Body: o.invitationOut(&inv)}, nil
}

// teamIDsInput reads invite-member's teamId: absent, a string, or a list of strings.
func teamIDsInput(body map[string]any) ([]string, error) {
	switch x := body["teamId"].(type) {
	case nil:
		return nil, nil
	case string:
		if x == "" {
			return nil, nil
		}
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, validation("body.teamId", "Invalid input")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, validation("body.teamId", "Invalid input")
}

// recipient checks that the caller is the invitation's recipient and, when the server asks it,
// has a verified address; verifyCode is the refusal for an unverified one.
func (o *org) recipient(r *plugin.Request, inv *store.Invitation, verifyCode string) error {
	if !strings.EqualFold(inv.Email, r.Auth.User.Email) {
		return forbidden("YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION")
	}
	if o.cfg.RequireEmailVerificationOnInvitation && !r.Auth.User.EmailVerified {
		return forbidden(verifyCode)
	}
	return nil
}

func (o *org) acceptInvitation(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	id := bodyString(r.Body, "invitationId")
	inv, err := o.invitationByID(ctx, st, id)
	if err != nil {
		return nil, err
	}
	now := r.Host.Now()
	if inv == nil || inv.ExpiresAt.Before(now) || inv.Status != statusPending {
		return nil, badRequest("INVITATION_NOT_FOUND")
	}
	if err := o.recipient(r, inv, "EMAIL_VERIFICATION_REQUIRED_BEFORE_ACCEPTING_OR_REJECTING_INVITATION"); err != nil {
		return nil, err
	}
	n, err := store.OrgCount[store.Member](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{inv.OrganizationID}})
	if err != nil {
		return nil, err
	}
	if organization, err := o.orgByID(ctx, st, inv.OrganizationID); err != nil {
		return nil, err
	} else if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	if n >= int64(o.cfg.MembershipLimit) {
		return nil, forbidden("ORGANIZATION_MEMBERSHIP_LIMIT_REACHED")
	}
	accepted, err := o.setStatus(ctx, st, id, statusAccepted, statusPending)
	if err != nil {
		return nil, err
	}
	if accepted == nil {
		return nil, badRequest("INVITATION_NOT_FOUND")
	}
	role := ""
	if accepted.Role != nil {
		role = strings.Join(roleNames(*accepted.Role), ",")
	}
	member := store.Member{ID: newID(), OrganizationID: accepted.OrganizationID, UserID: r.Auth.User.ID, Role: role, CreatedAt: store.NewTime(now)}
	var teamIDs []string
	if o.cfg.Teams && accepted.TeamID != nil && *accepted.TeamID != "" {
		teamIDs = strings.Split(*accepted.TeamID, ",")
	}
	err = st.Tx(ctx, func(tx *store.Store) error {
		for _, tid := range teamIDs {
			t, err := o.teamIn(ctx, tx, tid, accepted.OrganizationID)
			if err != nil {
				return err
			}
			if t == nil {
				return badRequest("TEAM_NOT_FOUND")
			}
			if _, err := o.addToTeam(ctx, tx, tid, r.Auth.User.ID, now); err != nil {
				return err
			}
		}
		return store.OrgCreate(ctx, tx, &member)
	})
	if err != nil {
		_, _ = o.setStatus(ctx, st, id, statusPending, statusAccepted)
		return nil, err
	}
	vals := map[string]store.Value{ActiveOrganizationField.Name: store.StringValue(accepted.OrganizationID)}
	if len(teamIDs) == 1 {
		vals[ActiveTeamField.Name] = store.StringValue(teamIDs[0])
	}
	sess, err := r.Host.SetSessionFields(ctx, r.Auth.Session.Token, vals)
	if err != nil {
		return nil, err
	}
	body := struct {
		Invitation invitationJSON `json:"invitation"`
		Member     memberJSON     `json:"member"`
	}{o.invitationOut(accepted), memberOut(&member, nil)}
	if len(teamIDs) == 1 {
		return withCookie(r, body, sess), nil
	}
	return &plugin.Response{Body: body}, nil
}

func (o *org) rejectInvitation(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	id := bodyString(r.Body, "invitationId")
	inv, err := o.invitationByID(ctx, st, id)
	if err != nil {
		return nil, err
	}
	if inv == nil || inv.Status != statusPending {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Code: "INVITATION_NOT_FOUND", Message: "Invitation not found!"}
	}
	if err := o.recipient(r, inv, "EMAIL_VERIFICATION_REQUIRED_BEFORE_ACCEPTING_OR_REJECTING_INVITATION"); err != nil {
		return nil, err
	}
	if organization, err := o.orgByID(ctx, st, inv.OrganizationID); err != nil {
		return nil, err
	} else if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	rejected, err := o.setStatus(ctx, st, id, statusRejected, "")
	if err != nil {
		return nil, err
	}
	body := map[string]any{"invitation": nil, "member": nil}
	if rejected != nil {
		body["invitation"] = o.invitationOut(rejected)
	}
	return &plugin.Response{Body: body}, nil
}

func (o *org) cancelInvitation(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	id := bodyString(r.Body, "invitationId")
	inv, err := o.invitationByID(ctx, st, id)
	if err != nil {
		return nil, err
	}
	if inv == nil {
		return nil, badRequest("INVITATION_NOT_FOUND")
	}
	me, err := o.memberOf(ctx, st, inv.OrganizationID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if me == nil {
		return nil, badRequest("MEMBER_NOT_FOUND")
	}
	if ok, err := o.can(ctx, st, inv.OrganizationID, me.Role, perm("invitation", "cancel"), false); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION")
	}
	if organization, err := o.orgByID(ctx, st, inv.OrganizationID); err != nil {
		return nil, err
	} else if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	canceled, err := o.setStatus(ctx, st, id, statusCanceled, "")
	if err != nil {
		return nil, err
	}
	if canceled == nil {
		return &plugin.Response{Body: jsonNull}, nil
	}
	return &plugin.Response{Body: o.invitationOut(canceled)}, nil
}

func (o *org) getInvitation(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if _, ok := r.Query["id"]; !ok {
		return nil, validation("query.id", "Invalid input: expected string, received undefined")
	}
	if r.Auth == nil {
		return nil, &plugin.Error{Status: http.StatusUnauthorized, Message: "Not authenticated"}
	}
	st := r.Host.Store()
	inv, err := o.invitationByID(ctx, st, r.Query.Get("id"))
	if err != nil {
		return nil, err
	}
	if inv == nil || inv.Status != statusPending || inv.ExpiresAt.Before(r.Host.Now()) {
		return nil, badRequest("INVITATION_NOT_FOUND")
	}
	if err := o.recipient(r, inv, "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION"); err != nil {
		return nil, err
	}
	organization, err := o.orgByID(ctx, st, inv.OrganizationID)
	if err != nil {
		return nil, err
	}
	if organization == nil {
		return nil, badRequest("ORGANIZATION_NOT_FOUND")
	}
	inviter, err := o.memberOf(ctx, st, inv.OrganizationID, inv.InviterID)
	if err != nil {
		return nil, err
	}
	var inviterUser *store.User
	if inviter != nil {
		if inviterUser, err = nilIfNotFound(st.UserByID(ctx, inv.InviterID)); err != nil {
			return nil, err
		}
	}
	if inviterUser == nil {
		return nil, badRequest("INVITER_IS_NO_LONGER_A_MEMBER_OF_THE_ORGANIZATION")
	}
	return &plugin.Response{Body: struct {
		invitationJSON
		OrganizationName string `json:"organizationName"`
		OrganizationSlug string `json:"organizationSlug"`
		InviterEmail     string `json:"inviterEmail"`
	}{o.invitationOut(inv), organization.Name, organization.Slug, inviterUser.Email}}, nil
}

func (o *org) listInvitations(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	orgID := r.Query.Get("organizationId")
	if orgID == "" {
		orgID = activeOrg(st, r.Auth)
	}
	if orgID == "" {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Message: "Organization ID is required"}
	}
	me, err := o.memberOf(ctx, st, orgID, r.Auth.User.ID)
	if err != nil {
		return nil, err
	}
	if me == nil {
		return nil, &plugin.Error{Status: http.StatusForbidden, Message: "You are not a member of this organization"}
	}
	if ok, err := o.can(ctx, st, orgID, me.Role, perm("invitation", "create"), false); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden("YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS")
	}
	invs, err := store.OrgFind[store.Invitation](ctx, st, store.Query{Where: `"organizationId" = ?`, Args: []any{orgID}})
	if err != nil {
		return nil, err
	}
	out, err := o.visibleInvitations(ctx, st, orgID, me.Role, invs)
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: out}, nil
}

func (o *org) listUserInvitations(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if r.Query.Get("email") != "" {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Message: "User email cannot be passed for client side API calls."}
	}
	if r.Auth == nil {
		return nil, &plugin.Error{Status: http.StatusBadRequest, Message: "Missing session headers, or email query parameter."}
	}
	if !r.Auth.User.EmailVerified {
		return nil, forbidden("EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION")
	}
	st := r.Host.Store()
	invs, err := store.OrgFind[store.Invitation](ctx, st, store.Query{Where: `"email" = ? and "status" = ?`,
		Args: []any{strings.ToLower(r.Auth.User.Email), statusPending}})
	if err != nil {
		return nil, err
	}
	type withOrg struct {
		invitationJSON
		OrganizationName *string `json:"organizationName,omitempty"`
	}
	out := make([]withOrg, 0, len(invs))
	for i := range invs {
		w := withOrg{invitationJSON: o.invitationOut(&invs[i])}
		if organization, err := o.orgByID(ctx, st, invs[i].OrganizationID); err != nil {
			return nil, err
		} else if organization != nil {
			w.OrganizationName = &organization.Name
		}
		out = append(out, w)
	}
	return &plugin.Response{Body: out}, nil
}

// hasPermissionEndpoint is POST /organization/has-permission: whether the caller's role in the
// organization grants every permission asked. The deprecated permission field is accepted but
// asks nothing, so it is never granted, as in Better-Auth.
func (o *org) hasPermissionEndpoint(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	// The body is an exclusive choice between permission and permissions, each a record of
	// string lists; zod's xor reports any mismatch on the whole body.
	legacyOK := recordOfLists(r.Body["permission"])
	modernOK := recordOfLists(r.Body["permissions"])
	if legacyOK && modernOK {
		return nil, validation("body", "Invalid input: more than one option matched")
	}
	if !legacyOK && !modernOK {
		return nil, validation("body", "Invalid input")
	}
	var req access.Request
	if modernOK {
		parsed, err := access.ParseRequest(r.Body["permissions"].(map[string]any))
		if err != nil {
			return nil, validation("body", "Invalid input")
		}
		req = parsed
	}
	st := r.Host.Store()
	orgID, me, err := o.callerIn(ctx, st, r, bodyString(r.Body, "organizationId"), fail(http.StatusUnauthorized, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"))
	if err != nil {
		return nil, err
	}
	ok := false
	if req != nil {
		if ok, err = o.can(ctx, st, orgID, me.Role, req, false); err != nil {
			return nil, err
		}
	}
	return &plugin.Response{Body: map[string]any{"error": nil, "success": ok}}, nil
}

// recordOfLists reports whether v is a JSON object whose every value is a list of strings.
func recordOfLists(v any) bool {
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, x := range obj {
		list, ok := x.([]any)
		if !ok {
			return false
		}
		for _, e := range list {
			if _, ok := e.(string); !ok {
				return false
			}
		}
	}
	return true
}
