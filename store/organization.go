package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// The organization plugin's tables (organization, member, invitation, team, teamMember,
// organizationRole). They exist only when the plugin is enabled; their migrations live with the
// plugin (auth/organization). The plugin's queries are many small lookups by one or two columns,
// so the store offers typed rows and a handful of generic row operations over them (OrgFirst,
// OrgFind, OrgCreate, OrgUpdate, OrgDelete, OrgCount) instead of one method per query: the
// conditions the plugin passes are fixed SQL fragments with ? placeholders, never client text.

// Organization is a row of the "organization" table.
type Organization struct {
	ID        string  `gorm:"column:id;primaryKey"`
	Name      string  `gorm:"column:name"`
	Slug      string  `gorm:"column:slug"`
	Logo      *string `gorm:"column:logo"`
	CreatedAt Time    `gorm:"column:createdAt;autoCreateTime:false"`
	// Metadata is JSON text, as Better-Auth stores it; NULL when none was given.
	Metadata *string `gorm:"column:metadata"`
}

// TableName maps Organization onto Better-Auth's table name.
func (Organization) TableName() string { return "organization" }

// Member is a row of the "member" table: a user's membership of an organization. Role is one or
// more role names joined by commas.
type Member struct {
	ID             string `gorm:"column:id;primaryKey"`
	OrganizationID string `gorm:"column:organizationId"`
	UserID         string `gorm:"column:userId"`
	Role           string `gorm:"column:role"`
	CreatedAt      Time   `gorm:"column:createdAt;autoCreateTime:false"`
}

// TableName maps Member onto Better-Auth's table name.
func (Member) TableName() string { return "member" }

// Invitation is a row of the "invitation" table. TeamID (comma-joined team ids) exists as a
// column only when teams are enabled; OrgCreate leaves it out otherwise (see OmitTeamID).
type Invitation struct {
	ID             string  `gorm:"column:id;primaryKey"`
	OrganizationID string  `gorm:"column:organizationId"`
	Email          string  `gorm:"column:email"`
	Role           *string `gorm:"column:role"`
	TeamID         *string `gorm:"column:teamId"`
	Status         string  `gorm:"column:status"`
	ExpiresAt      Time    `gorm:"column:expiresAt"`
	CreatedAt      Time    `gorm:"column:createdAt;autoCreateTime:false"`
	InviterID      string  `gorm:"column:inviterId"`
	// OmitTeamID, when set, keeps teamId out of the insert (a table without the column).
	OmitTeamID bool `gorm:"-"`
}

// TableName maps Invitation onto Better-Auth's table name.
func (Invitation) TableName() string { return "invitation" }

// Team is a row of the "team" table.
type Team struct {
	ID             string `gorm:"column:id;primaryKey"`
	Name           string `gorm:"column:name"`
	MemberCount    int64  `gorm:"column:memberCount"`
	OrganizationID string `gorm:"column:organizationId"`
	CreatedAt      Time   `gorm:"column:createdAt;autoCreateTime:false"`
	UpdatedAt      *Time  `gorm:"column:updatedAt;autoUpdateTime:false"`
}

// TableName maps Team onto Better-Auth's table name.
func (Team) TableName() string { return "team" }

// TeamMember is a row of the "teamMember" table. MembershipKey is unique per (team, user).
type TeamMember struct {
	ID            string  `gorm:"column:id;primaryKey"`
	TeamID        string  `gorm:"column:teamId"`
	UserID        string  `gorm:"column:userId"`
	MembershipKey *string `gorm:"column:membershipKey"`
	CreatedAt     *Time   `gorm:"column:createdAt;autoCreateTime:false"`
}

// TableName maps TeamMember onto Better-Auth's table name.
func (TeamMember) TableName() string { return "teamMember" }

// OrganizationRole is a row of the "organizationRole" table: a role an organization defined, its
// permission a JSON object of resource → actions.
type OrganizationRole struct {
	ID             string `gorm:"column:id;primaryKey"`
	OrganizationID string `gorm:"column:organizationId"`
	Role           string `gorm:"column:role"`
	Permission     string `gorm:"column:permission"`
	CreatedAt      Time   `gorm:"column:createdAt;autoCreateTime:false"`
	UpdatedAt      *Time  `gorm:"column:updatedAt;autoUpdateTime:false"`
}

// TableName maps OrganizationRole onto Better-Auth's table name.
func (OrganizationRole) TableName() string { return "organizationRole" }

// OrgRow is any of the organization plugin's row types.
type OrgRow interface {
	Organization | Member | Invitation | Team | TeamMember | OrganizationRole
}

// Query is a fixed SQL condition with its arguments, plus an optional order, limit and offset.
// Where is written by the caller with ? placeholders; values go in Args only.
type Query struct {
	Where  string
	Args   []any
	Order  string
	Limit  int
	Offset int
}

func validArgs(args []any) bool {
	for _, a := range args {
		if s, ok := a.(string); ok && !ValidText(s) {
			return false
		}
	}
	return true
}

// OrgFirst returns the first row of T matching q (in q.Order); ErrNotFound when there is none.
func OrgFirst[T OrgRow](ctx context.Context, s *Store, q Query) (*T, error) {
	var out T
	if !validArgs(q.Args) {
		return nil, notFound("organization row")
	}
	db := s.conn(ctx).Where(q.Where, q.Args...)
	if q.Order != "" {
		db = db.Order(q.Order)
	}
	if err := db.Take(&out).Error; err != nil {
		return nil, fmt.Errorf("store: find %T: %w", out, classify(err))
	}
	return &out, nil
}

// OrgFind returns the rows of T matching q.
func OrgFind[T OrgRow](ctx context.Context, s *Store, q Query) ([]T, error) {
	out := []T{}
	if !validArgs(q.Args) {
		return out, nil
	}
	db := s.conn(ctx).Where(q.Where, q.Args...)
	if q.Order != "" {
		db = db.Order(q.Order)
	}
	if q.Limit > 0 {
		db = db.Limit(q.Limit)
	}
	if q.Offset > 0 {
		db = db.Offset(q.Offset)
	}
	if err := db.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list %T: %w", out, classify(err))
	}
	return out, nil
}

// OrgCount counts the rows of T matching q.
func OrgCount[T OrgRow](ctx context.Context, s *Store, q Query) (int64, error) {
	var n int64
	if !validArgs(q.Args) {
		return 0, nil
	}
	var model T
	if err := s.conn(ctx).Model(&model).Where(q.Where, q.Args...).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: count %T: %w", model, classify(err))
	}
	return n, nil
}

// OrgCreate inserts row. ErrConflict is a unique column taken (a slug), ErrGone a referenced row
// deleted meanwhile.
func OrgCreate[T OrgRow](ctx context.Context, s *Store, row *T) error {
	db := s.conn(ctx)
	if inv, ok := any(row).(*Invitation); ok && inv.OmitTeamID {
		db = db.Omit("teamId")
	}
	if err := db.Create(row).Error; err != nil {
		return fmt.Errorf("store: create %T: %w", *row, classify(err))
	}
	return nil
}

// OrgUpdate sets cols (column name → value) on the rows of T matching q and returns how many
// matched.
func OrgUpdate[T OrgRow](ctx context.Context, s *Store, q Query, cols map[string]any) (int64, error) {
	if !validArgs(q.Args) {
		return 0, nil
	}
	var model T
	res := s.conn(ctx).Model(&model).Where(q.Where, q.Args...).Updates(cols)
	if res.Error != nil {
		return 0, fmt.Errorf("store: update %T: %w", model, classify(res.Error))
	}
	return res.RowsAffected, nil
}

// OrgDelete deletes the rows of T matching q and returns how many there were.
func OrgDelete[T OrgRow](ctx context.Context, s *Store, q Query) (int64, error) {
	if !validArgs(q.Args) {
		return 0, nil
	}
	var model T
	res := s.conn(ctx).Where(q.Where, q.Args...).Delete(&model)
	if res.Error != nil {
		return 0, fmt.Errorf("store: delete %T: %w", model, classify(res.Error))
	}
	return res.RowsAffected, nil
}

// UsersByIDs returns the users with these ids, by id; unknown ids are missing from the map.
func (s *Store) UsersByIDs(ctx context.Context, ids []string) (map[string]User, error) {
	out := make(map[string]User, len(ids))
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		u, err := s.UserByID(ctx, id)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, err
		}
		out[id] = *u
	}
	return out, nil
}

// SetSessionFields sets added session fields (by name) on the session with this token and bumps
// its updatedAt to now, as Better-Auth's updateSession does, and returns the stored session. A
// name that is not a registered session field is an error; a vanished session is ErrNotFound.
func (s *Store) SetSessionFields(ctx context.Context, token string, vals map[string]Value, now Time) (*Session, error) {
	cols := map[string]any{"updatedAt": now}
	for name, v := range vals {
		i := fieldIndex(s.Columns().Session, name)
		if i < 0 {
			return nil, fmt.Errorf("store: session field %s is not registered", strconv.Quote(name))
		}
		cols[name] = s.schema.cols.Session[i].arg(v)
	}
	res := s.conn(ctx).Model(&Session{}).Where(`"token" = ?`, token).Updates(cols)
	if res.Error != nil {
		return nil, fmt.Errorf("store: update session: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return nil, notFound("update session")
	}
	sess, _, err := s.SessionByToken(ctx, token)
	return sess, err
}
