package store

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"
)

// JSTime is the layout of JavaScript's Date.toISOString: UTC, exactly three fractional digits.
// Better-Auth writes SQLite dates in this form and compares them as strings, and its client only
// revives dates in this form, so the server writes and prints no other.
const JSTime = "2006-01-02T15:04:05.000Z"

// Time is a timestamp stored the way Better-Auth stores it: an ISO string with milliseconds on
// SQLite (where range queries compare strings) and a timestamptz on PostgreSQL. Values are kept in
// UTC and truncated to milliseconds, the precision Node has.
type Time struct{ time.Time }

// NewTime truncates t to milliseconds in UTC.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Millisecond)} }

// String formats the time as JavaScript's toISOString would.
func (t Time) String() string { return t.UTC().Format(JSTime) }

// Value writes the ISO string. PostgreSQL parses it into timestamptz; SQLite keeps the text, so
// lexicographic comparisons there order correctly, exactly as with rows Better-Auth wrote.
func (t Time) Value() (driver.Value, error) { return t.String(), nil }

// Scan reads a timestamp from either driver: time.Time from PostgreSQL, or text from SQLite in the
// JS layout (or any RFC 3339 / SQLite layout other tools may have written).
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		t.Time = v.UTC()
		return nil
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	case int64:
		// Milliseconds since the epoch, as some adapters store dates in integer columns.
		t.Time = time.UnixMilli(v).UTC()
		return nil
	case nil:
		t.Time = time.Time{}
		return nil
	}
	return fmt.Errorf("store: cannot read %T as a time", src)
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

func (t *Time) parse(s string) error {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if p, err := time.Parse(layout, s); err == nil {
			t.Time = p.UTC()
			return nil
		}
	}
	return fmt.Errorf("store: unreadable time %q", s)
}

// User is a row of Better-Auth's "user" table.
type User struct {
	ID            string  `gorm:"column:id;primaryKey"`
	Name          string  `gorm:"column:name"`
	Email         string  `gorm:"column:email"`
	EmailVerified bool    `gorm:"column:emailVerified"`
	Image         *string `gorm:"column:image"`
	CreatedAt     Time    `gorm:"column:createdAt;autoCreateTime:false"`
	UpdatedAt     Time    `gorm:"column:updatedAt;autoUpdateTime:false"`
	// Extra holds the values of the fields plugins registered (Store.RegisterFields), in their
	// order; it may be shorter (nil when none are registered), and missing values are unset.
	Extra []Value `gorm:"-"`
}

// TableName maps User onto Better-Auth's table name.
func (User) TableName() string { return "user" }

// Session is a row of Better-Auth's "session" table. Token is the raw (unsigned) session token.
type Session struct {
	ID        string  `gorm:"column:id;primaryKey"`
	ExpiresAt Time    `gorm:"column:expiresAt"`
	Token     string  `gorm:"column:token"`
	CreatedAt Time    `gorm:"column:createdAt;autoCreateTime:false"`
	UpdatedAt Time    `gorm:"column:updatedAt;autoUpdateTime:false"`
	IPAddress *string `gorm:"column:ipAddress"`
	UserAgent *string `gorm:"column:userAgent"`
	UserID    string  `gorm:"column:userId"`
	// Extra holds the values of the session fields plugins registered, as User.Extra does.
	Extra []Value `gorm:"-"`
}

// TableName maps Session onto Better-Auth's table name.
func (Session) TableName() string { return "session" }

// Account is a row of Better-Auth's "account" table: one per sign-in method of a user. The
// email-and-password method is the row with ProviderID "credential" and AccountID equal to the
// user's id, holding the scrypt hash in Password.
type Account struct {
	ID                    string  `gorm:"column:id;primaryKey"`
	AccountID             string  `gorm:"column:accountId"`
	ProviderID            string  `gorm:"column:providerId"`
	UserID                string  `gorm:"column:userId"`
	AccessToken           *string `gorm:"column:accessToken"`
	RefreshToken          *string `gorm:"column:refreshToken"`
	IDToken               *string `gorm:"column:idToken"`
	AccessTokenExpiresAt  *Time   `gorm:"column:accessTokenExpiresAt"`
	RefreshTokenExpiresAt *Time   `gorm:"column:refreshTokenExpiresAt"`
	Scope                 *string `gorm:"column:scope"`
	Password              *string `gorm:"column:password"`
	CreatedAt             Time    `gorm:"column:createdAt;autoCreateTime:false"`
	UpdatedAt             Time    `gorm:"column:updatedAt;autoUpdateTime:false"`
}

// TableName maps Account onto Better-Auth's table name.
func (Account) TableName() string { return "account" }

// CredentialProvider is the providerId of email-and-password accounts.
const CredentialProvider = "credential"

// Verification is a row of Better-Auth's "verification" table: a short-lived, single-use value
// (password-reset token, delete-account token, OAuth state) keyed by Identifier.
type Verification struct {
	ID         string `gorm:"column:id;primaryKey"`
	Identifier string `gorm:"column:identifier"`
	Value      string `gorm:"column:value"`
	ExpiresAt  Time   `gorm:"column:expiresAt"`
	CreatedAt  Time   `gorm:"column:createdAt;autoCreateTime:false"`
	UpdatedAt  Time   `gorm:"column:updatedAt;autoUpdateTime:false"`
}

// TableName maps Verification onto Better-Auth's table name.
func (Verification) TableName() string { return "verification" }
