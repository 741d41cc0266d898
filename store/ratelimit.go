package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RateLimit is a row of Better-Auth's "rateLimit" table (rateLimit.storage: "database").
type RateLimit struct {
	ID          string `gorm:"column:id;primaryKey"`
	Key         string `gorm:"column:key"`
	Count       int    `gorm:"column:count"`
	LastRequest int64  `gorm:"column:lastRequest"`
}

// TableName maps RateLimit onto Better-Auth's table name.
func (RateLimit) TableName() string { return "rateLimit" }

// EnsureRateLimitTable creates Better-Auth's rateLimit table if it is missing, with the DDL
// Better-Auth's own migration uses. Like Better-Auth, the server creates it only when rate-limit
// counters are configured to live in the database.
func (s *Store) EnsureRateLimitTable(ctx context.Context) error {
	ddl := `create table if not exists "rateLimit" ("id" text not null primary key, "key" text not null unique, "count" integer not null, "lastRequest" bigint not null)`
	if err := s.conn(ctx).Exec(ddl).Error; err != nil {
		return fmt.Errorf("store: create rateLimit: %w", classify(err))
	}
	return nil
}

// RateLimitConsume applies Better-Auth's rate-limit rule to key inside one transaction, locking the
// row so replicas sharing the database count every request exactly once. It returns whether the
// request is allowed and, if not, when the last allowed request was (ms since the epoch).
func (s *Store) RateLimitConsume(ctx context.Context, id, key string, nowMs, windowMs int64, max int) (bool, int64, error) {
	allowed, last := false, int64(0)
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		var row RateLimit
		q := tx.Where(`"key" = ?`, key)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		err := q.Take(&row).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			allowed, last = true, nowMs
			return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}},
				DoUpdates: clause.Assignments(map[string]any{"count": 1, "lastRequest": nowMs})}).
				Create(&RateLimit{ID: id, Key: key, Count: 1, LastRequest: nowMs}).Error
		case err != nil:
			return err
		case nowMs-row.LastRequest >= windowMs:
			allowed, last = true, nowMs
			return tx.Model(&RateLimit{}).Where(`"key" = ?`, key).Updates(map[string]any{"count": 1, "lastRequest": nowMs}).Error
		case row.Count >= max:
			allowed, last = false, row.LastRequest
			return nil
		}
		allowed, last = true, nowMs
		return tx.Model(&RateLimit{}).Where(`"key" = ?`, key).Updates(map[string]any{"count": row.Count + 1, "lastRequest": nowMs}).Error
	})
	if err != nil {
		return false, 0, fmt.Errorf("store: rate limit: %w", classify(err))
	}
	return allowed, last, nil
}
