package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"
)

// EmailChange is a row of "authserver_email_change": the address a user's account took through
// change-email. It is the server's own table (migration 4); Better-Auth's tables are not altered.
type EmailChange struct {
	UserID    string `gorm:"column:userId;primaryKey"`
	Email     string `gorm:"column:email"`
	CreatedAt Time   `gorm:"column:createdAt;autoCreateTime:false"`
}

// TableName maps EmailChange onto its table.
func (EmailChange) TableName() string { return "authserver_email_change" }

// SpentLink is a row of "authserver_spent_link": an emailed single-use link that has been used,
// named by the SHA-256 of its token, kept until the token would have expired anyway.
type SpentLink struct {
	TokenHash string `gorm:"column:tokenHash;primaryKey"`
	ExpiresAt Time   `gorm:"column:expiresAt"`
}

// TableName maps SpentLink onto its table.
func (SpentLink) TableName() string { return "authserver_spent_link" }

// resetIdentifiers matches Better-Auth's password-reset rows in "verification"
// (identifier "reset-password:<token>", value the user id).
const resetIdentifiers = "reset-password:%"

// RecordEmailChange notes that the user's email became email through change-email, replacing
// what was noted before (only the latest address matters).
func (s *Store) RecordEmailChange(ctx context.Context, userID, email string, now Time) error {
	row := EmailChange{UserID: userID, Email: email, CreatedAt: now}
	err := s.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "userId"}},
		DoUpdates: clause.AssignmentColumns([]string{"email", "createdAt"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("store: record email change: %w", classify(err))
	}
	return nil
}

// EmailFromChange reports whether the user's account took email through change-email and still
// has it as its last changed-to address.
func (s *Store) EmailFromChange(ctx context.Context, userID, email string) (bool, error) {
	var n int64
	err := s.conn(ctx).Model(&EmailChange{}).Where(`"userId" = ? and "email" = ?`, userID, email).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("store: read email change: %w", classify(err))
	}
	return n > 0, nil
}

// SpendLink marks the link whose token hashes to tokenHash as used and reports whether this call
// was the first: of any number of requests racing with one link exactly one gets true. Rows of
// links that have expired are removed on the way, so the table holds only live links.
func (s *Store) SpendLink(ctx context.Context, tokenHash string, expiresAt, now Time) (bool, error) {
	db := s.conn(ctx)
	if err := db.Where(`"expiresAt" < ?`, now).Delete(&SpentLink{}).Error; err != nil {
		return false, fmt.Errorf("store: spend link: %w", classify(err))
	}
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&SpentLink{TokenHash: tokenHash, ExpiresAt: expiresAt})
	if res.Error != nil {
		return false, fmt.Errorf("store: spend link: %w", classify(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// DeleteResetTokens ends every outstanding password-reset token of the user.
func (s *Store) DeleteResetTokens(ctx context.Context, userID string) error {
	err := s.conn(ctx).Where(`"value" = ? and "identifier" like ?`, userID, resetIdentifiers).Delete(&Verification{}).Error
	if err != nil {
		return fmt.Errorf("store: delete reset tokens: %w", classify(err))
	}
	return nil
}

// ConsumeResetToken uses the password-reset token identifier of the user: it deletes every reset
// token of the user in one statement and reports whether identifier was among them and live.
// Being one statement, two requests racing with the user's tokens wait on each other's rows
// instead of locking them in opposite orders; the loser finds nothing and gets false. Inside a
// transaction that then fails, the tokens come back.
func (s *Store) ConsumeResetToken(ctx context.Context, userID, identifier string, now Time) (bool, error) {
	var rows []Verification
	err := s.conn(ctx).Raw(`delete from "verification" where "value" = ? and "identifier" like ? returning "identifier", "expiresAt"`,
		userID, resetIdentifiers).Scan(&rows).Error
	if err != nil {
		return false, fmt.Errorf("store: consume reset token: %w", classify(err))
	}
	for _, r := range rows {
		if r.Identifier == identifier && r.ExpiresAt.After(now.Time) {
			return true, nil
		}
	}
	return false, nil
}

// KeepNewestResetToken deletes every password-reset token of the user but the newest (by
// createdAt, then identifier). Run as its own statement after each insert, it leaves one token
// whatever the order in which concurrent requests commit: the last statement to run sees every
// committed insert.
func (s *Store) KeepNewestResetToken(ctx context.Context, userID string) error {
	err := s.conn(ctx).Exec(`delete from "verification" where "value" = ? and "identifier" like ? and "identifier" <> (`+
		`select "identifier" from "verification" where "value" = ? and "identifier" like ? order by "createdAt" desc, "identifier" desc limit 1)`,
		userID, resetIdentifiers, userID, resetIdentifiers).Error
	if err != nil {
		return fmt.Errorf("store: delete older reset tokens: %w", classify(err))
	}
	return nil
}
