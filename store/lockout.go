package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Sign-in lockout counters share Better-Auth's rateLimit table with the rate limiter: the row's
// count is the number of consecutive failures and lastRequest the time of the last one (ms since
// the epoch). Callers pass keys that cannot collide with Better-Auth's own ("lockout:" and a hash
// of the identifier, never the e-mail itself).

// LockoutState returns the failures counted under key and when the last one was; (0, 0) when
// there are none.
func (s *Store) LockoutState(ctx context.Context, key string) (int, int64, error) {
	var row RateLimit
	err := s.conn(ctx).Where(`"key" = ?`, key).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return 0, 0, nil
	case err != nil:
		return 0, 0, fmt.Errorf("store: lockout state: %w", classify(err))
	}
	return row.Count, row.LastRequest, nil
}

// LockoutFail counts one failure under key at nowMs in one transaction, locking the row so
// replicas sharing the database count every failure once. A count whose last failure is more
// than resetMs old starts again at 1. It returns the new count.
func (s *Store) LockoutFail(ctx context.Context, id, key string, nowMs, resetMs int64) (int, error) {
	count := 0
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		var row RateLimit
		q := tx.Where(`"key" = ?`, key)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		err := q.Take(&row).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			// Two replicas may both find no row: the loser of the insert race adds its failure
			// to the winner's row instead of dropping it.
			count = 1
			res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}},
				DoUpdates: clause.Assignments(map[string]any{"count": gorm.Expr(`"rateLimit"."count" + 1`), "lastRequest": nowMs})}).
				Create(&RateLimit{ID: id, Key: key, Count: 1, LastRequest: nowMs})
			if res.Error != nil {
				return res.Error
			}
			return tx.Model(&RateLimit{}).Select("count").Where(`"key" = ?`, key).Scan(&count).Error
		case err != nil:
			return err
		case nowMs-row.LastRequest > resetMs:
			count = 1
		default:
			count = row.Count + 1
		}
		return tx.Model(&RateLimit{}).Where(`"key" = ?`, key).Updates(map[string]any{"count": count, "lastRequest": nowMs}).Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: lockout: %w", classify(err))
	}
	return count, nil
}

// LockoutClear forgets the failures under key (a successful sign-in).
func (s *Store) LockoutClear(ctx context.Context, key string) error {
	if err := s.conn(ctx).Where(`"key" = ?`, key).Delete(&RateLimit{}).Error; err != nil {
		return fmt.Errorf("store: lockout clear: %w", classify(err))
	}
	return nil
}
