package organization

import (
	"encoding/json"
	"net/http"

	"authserver/auth/plugin"
	"authserver/store"
)

// fail is Better-Auth's answer for one of its organization error codes.
func fail(status int, code string) *plugin.Error {
	msg, ok := messages[code]
	if !ok {
		panic("organization: unknown error code " + code)
	}
	return &plugin.Error{Status: status, Code: code, Message: msg}
}

func badRequest(code string) *plugin.Error { return fail(http.StatusBadRequest, code) }
func forbidden(code string) *plugin.Error  { return fail(http.StatusForbidden, code) }

// errUnauthorized is Better-Auth's bare 401 (no body) of a missing session.
var errUnauthorized = &plugin.Error{Status: http.StatusUnauthorized}

// orgJSON prints an organization as the list, get and set-active answers do: metadata is the
// stored JSON text (null when none).
type orgJSON struct {
	Name      string  `json:"name"`
	Slug      string  `json:"slug"`
	Logo      *string `json:"logo"`
	CreatedAt string  `json:"createdAt"`
	Metadata  *string `json:"metadata"`
	ID        string  `json:"id"`
}

func orgOut(o *store.Organization) orgJSON {
	return orgJSON{Name: o.Name, Slug: o.Slug, Logo: o.Logo, CreatedAt: o.CreatedAt.String(), Metadata: o.Metadata, ID: o.ID}
}

// orgParsedJSON prints an organization as create and update do: metadata parsed back into JSON,
// and left out when there is none.
type orgParsedJSON struct {
	Name      string          `json:"name"`
	Slug      string          `json:"slug"`
	Logo      *string         `json:"logo"`
	CreatedAt string          `json:"createdAt"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	ID        string          `json:"id"`
}

func orgParsedOut(o *store.Organization) orgParsedJSON {
	out := orgParsedJSON{Name: o.Name, Slug: o.Slug, Logo: o.Logo, CreatedAt: o.CreatedAt.String(), ID: o.ID}
	if o.Metadata != nil && *o.Metadata != "" && json.Valid([]byte(*o.Metadata)) {
		out.Metadata = json.RawMessage(*o.Metadata)
	}
	return out
}

type memberJSON struct {
	OrganizationID string    `json:"organizationId"`
	UserID         string    `json:"userId"`
	Role           string    `json:"role"`
	CreatedAt      string    `json:"createdAt"`
	ID             string    `json:"id"`
	User           *userJSON `json:"user,omitempty"`
}

type userJSON struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Email string  `json:"email"`
	Image *string `json:"image"`
}

func memberOut(m *store.Member, u *store.User) memberJSON {
	out := memberJSON{OrganizationID: m.OrganizationID, UserID: m.UserID, Role: m.Role, CreatedAt: m.CreatedAt.String(), ID: m.ID}
	if u != nil {
		out.User = &userJSON{ID: u.ID, Name: u.Name, Email: u.Email, Image: u.Image}
	}
	return out
}

// invitationJSON prints an invitation; teamId is there only when teams are on.
type invitationJSON struct {
	OrganizationID string          `json:"organizationId"`
	Email          string          `json:"email"`
	Role           *string         `json:"role"`
	TeamID         json.RawMessage `json:"teamId,omitempty"`
	Status         string          `json:"status"`
	ExpiresAt      string          `json:"expiresAt"`
	CreatedAt      string          `json:"createdAt"`
	InviterID      string          `json:"inviterId"`
	ID             string          `json:"id"`
}

func (o *org) invitationOut(i *store.Invitation) invitationJSON {
	out := invitationJSON{OrganizationID: i.OrganizationID, Email: i.Email, Role: i.Role, Status: i.Status,
		ExpiresAt: i.ExpiresAt.String(), CreatedAt: i.CreatedAt.String(), InviterID: i.InviterID, ID: i.ID}
	if o.cfg.Teams {
		out.TeamID = json.RawMessage("null")
		if i.TeamID != nil {
			out.TeamID, _ = json.Marshal(*i.TeamID)
		}
	}
	return out
}

// teamJSON prints a team without its member count, as every team answer but
// get-full-organization's does.
type teamJSON struct {
	Name           string  `json:"name"`
	OrganizationID string  `json:"organizationId"`
	CreatedAt      string  `json:"createdAt"`
	UpdatedAt      *string `json:"updatedAt"`
	ID             string  `json:"id"`
}

func teamOut(t *store.Team) teamJSON {
	out := teamJSON{Name: t.Name, OrganizationID: t.OrganizationID, CreatedAt: t.CreatedAt.String(), ID: t.ID}
	if t.UpdatedAt != nil {
		s := t.UpdatedAt.String()
		out.UpdatedAt = &s
	}
	return out
}

// teamFullJSON is a team as get-full-organization prints it, with memberCount.
type teamFullJSON struct {
	Name           string  `json:"name"`
	MemberCount    int64   `json:"memberCount"`
	OrganizationID string  `json:"organizationId"`
	CreatedAt      string  `json:"createdAt"`
	UpdatedAt      *string `json:"updatedAt"`
	ID             string  `json:"id"`
}

type teamMemberJSON struct {
	TeamID    string  `json:"teamId"`
	UserID    string  `json:"userId"`
	CreatedAt *string `json:"createdAt"`
	ID        string  `json:"id"`
}

func teamMemberOut(t *store.TeamMember) teamMemberJSON {
	out := teamMemberJSON{TeamID: t.TeamID, UserID: t.UserID, ID: t.ID}
	if t.CreatedAt != nil {
		s := t.CreatedAt.String()
		out.CreatedAt = &s
	}
	return out
}
