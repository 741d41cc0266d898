package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// TwoFactor is a row of the two-factor plugin's "twoFactor" table: a user's TOTP secret and backup
// codes (both encrypted by the plugin) and the account-wide count of failed second-factor checks.
// The table exists only when the plugin is enabled; its migration lives with the plugin.
type TwoFactor struct {
	ID          string `gorm:"column:id;primaryKey"`
	Secret      string `gorm:"column:secret"`
	BackupCodes string `gorm:"column:backupCodes"`
	UserID      string `gorm:"column:userId"`
	// Verified is nullable: Better-Auth reads NULL (a row from before the column) as verified.
	Verified *bool `gorm:"column:verified"`
	// FailedVerificationCount is nullable for the same reason; NULL counts as 0.
	FailedVerificationCount *int64 `gorm:"column:failedVerificationCount"`
	LockedUntil             *Time  `gorm:"column:lockedUntil"`
}

// TableName maps TwoFactor onto Better-Auth's table name.
func (TwoFactor) TableName() string { return "twoFactor" }

// TwoFactorByUser returns the user's twoFactor row (the oldest, should there be several, as
// Better-Auth's findOne would take the first).
func (s *Store) TwoFactorByUser(ctx context.Context, userID string) (*TwoFactor, error) {
	if !ValidText(userID) {
		return nil, notFound("two-factor by user")
	}
	var tf TwoFactor
	if err := s.conn(ctx).Where(`"userId" = ?`, userID).Take(&tf).Error; err != nil {
		return nil, fmt.Errorf("store: two-factor by user: %w", classify(err))
	}
	return &tf, nil
}

// CreateTwoFactor inserts a twoFactor row. ErrGone means the user was deleted meanwhile.
func (s *Store) CreateTwoFactor(ctx context.Context, tf *TwoFactor) error {
	if err := s.conn(ctx).Create(tf).Error; err != nil {
		return fmt.Errorf("store: create two-factor: %w", classify(err))
	}
	return nil
}

// UpdateTwoFactor sets the named columns of the row id; ErrNotFound when the row is gone.
func (s *Store) UpdateTwoFactor(ctx context.Context, id string, cols map[string]any) error {
	res := s.conn(ctx).Model(&TwoFactor{}).Where(`"id" = ?`, id).Updates(cols)
	if res.Error != nil {
		return fmt.Errorf("store: update two-factor: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return notFound("update two-factor")
	}
	return nil
}

// SwapBackupCodes replaces the row's backupCodes with next only if they still are prev, so of two
// requests spending codes from the same list only one writes; false means another won.
func (s *Store) SwapBackupCodes(ctx context.Context, id, prev, next string) (bool, error) {
	res := s.conn(ctx).Model(&TwoFactor{}).Where(`"id" = ? and "backupCodes" = ?`, id, prev).Update("backupCodes", next)
	if res.Error != nil {
		return false, fmt.Errorf("store: swap backup codes: %w", classify(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// DeleteTwoFactor removes the user's twoFactor rows.
func (s *Store) DeleteTwoFactor(ctx context.Context, userID string) error {
	if err := s.conn(ctx).Where(`"userId" = ?`, userID).Delete(&TwoFactor{}).Error; err != nil {
		return fmt.Errorf("store: delete two-factor: %w", classify(err))
	}
	return nil
}

// RecordTwoFactorFailure adds one to the row's failure count in one statement (so concurrent
// failures all count; NULL counts as 0) and, once the count reaches max, sets lockedUntil.
func (s *Store) RecordTwoFactorFailure(ctx context.Context, id string, max int, lockedUntil Time) error {
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`update "twoFactor" set "failedVerificationCount" = coalesce("failedVerificationCount", 0) + 1 where "id" = ?`, id).Error; err != nil {
			return err
		}
		return tx.Exec(`update "twoFactor" set "lockedUntil" = ? where "id" = ? and "failedVerificationCount" >= ?`, lockedUntil, id, max).Error
	})
	if err != nil {
		return fmt.Errorf("store: record two-factor failure: %w", classify(err))
	}
	return nil
}

// ResetTwoFactorFailures clears the failure count and the lock after a success.
func (s *Store) ResetTwoFactorFailures(ctx context.Context, id string) error {
	err := s.conn(ctx).Exec(`update "twoFactor" set "failedVerificationCount" = 0, "lockedUntil" = null where "id" = ?`, id).Error
	if err != nil {
		return fmt.Errorf("store: reset two-factor failures: %w", classify(err))
	}
	return nil
}

// ClearExpiredTwoFactorLock resets the count and the lock of a row whose lock ended by now; a lock
// renewed meanwhile is left alone.
func (s *Store) ClearExpiredTwoFactorLock(ctx context.Context, id string, now Time) error {
	err := s.conn(ctx).Exec(`update "twoFactor" set "failedVerificationCount" = 0, "lockedUntil" = null where "id" = ? and "lockedUntil" <= ?`, id, now).Error
	if err != nil {
		return fmt.Errorf("store: clear two-factor lock: %w", classify(err))
	}
	return nil
}
