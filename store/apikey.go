package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// APIKey is a row of the api-key plugin's "apikey" table (@better-auth/api-key 1.7.5): one key,
// stored as base64url(SHA-256) of the key in Key, never the key itself. The table exists only
// when the plugin is enabled; its migration lives with the plugin.
type APIKey struct {
	ID string `gorm:"column:id;primaryKey"`
	// ConfigID names the plugin configuration the key belongs to ("default").
	ConfigID string  `gorm:"column:configId"`
	Name     *string `gorm:"column:name"`
	// Start is the key's first characters (the prefix included), for telling keys apart.
	Start *string `gorm:"column:start"`
	// ReferenceID is the owner: a user id.
	ReferenceID string  `gorm:"column:referenceId"`
	Prefix      *string `gorm:"column:prefix"`
	// Key is the hash of the key, as Better-Auth stores it.
	Key string `gorm:"column:key"`
	// RefillInterval (milliseconds) and RefillAmount: every RefillInterval, Remaining is reset to
	// RefillAmount at the next use.
	RefillInterval *int64 `gorm:"column:refillInterval"`
	RefillAmount   *int64 `gorm:"column:refillAmount"`
	LastRefillAt   *Time  `gorm:"column:lastRefillAt"`
	// Enabled is NULL in rows written without the column; only false disables the key.
	Enabled             *bool  `gorm:"column:enabled"`
	RateLimitEnabled    *bool  `gorm:"column:rateLimitEnabled"`
	RateLimitTimeWindow *int64 `gorm:"column:rateLimitTimeWindow"`
	RateLimitMax        *int64 `gorm:"column:rateLimitMax"`
	RequestCount        *int64 `gorm:"column:requestCount"`
	// Remaining is the number of uses left; NULL is unlimited.
	Remaining   *int64 `gorm:"column:remaining"`
	LastRequest *Time  `gorm:"column:lastRequest"`
	ExpiresAt   *Time  `gorm:"column:expiresAt"`
	CreatedAt   Time   `gorm:"column:createdAt;autoCreateTime:false"`
	UpdatedAt   Time   `gorm:"column:updatedAt;autoUpdateTime:false"`
	// Permissions and Metadata are JSON text (Better-Auth's transform), NULL when unset.
	Permissions *string `gorm:"column:permissions"`
	Metadata    *string `gorm:"column:metadata"`
}

// TableName maps APIKey onto Better-Auth's table name.
func (APIKey) TableName() string { return "apikey" }

// CreateAPIKey inserts a key row.
func (s *Store) CreateAPIKey(ctx context.Context, k *APIKey) error {
	if err := s.conn(ctx).Create(k).Error; err != nil {
		return fmt.Errorf("store: create api key: %w", classify(err))
	}
	return nil
}

// APIKeyByID returns the key row id; ErrNotFound when there is none.
func (s *Store) APIKeyByID(ctx context.Context, id string) (*APIKey, error) {
	return s.apiKeyWhere(ctx, `"id" = ?`, id)
}

// APIKeyByHash returns the key row whose stored hash is hash; ErrNotFound when there is none.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*APIKey, error) {
	return s.apiKeyWhere(ctx, `"key" = ?`, hash)
}

func (s *Store) apiKeyWhere(ctx context.Context, cond, arg string) (*APIKey, error) {
	if !ValidText(arg) {
		return nil, notFound("api key")
	}
	var k APIKey
	err := s.conn(ctx).Where(cond, arg).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound("api key")
	}
	if err != nil {
		return nil, fmt.Errorf("store: api key: %w", classify(err))
	}
	return &k, nil
}

// APIKeysByReference returns the keys of an owner, in insertion order unless sortBy names a
// column (checked by the caller against the table's columns) to sort by, asc or desc.
func (s *Store) APIKeysByReference(ctx context.Context, referenceID, sortBy string, desc bool) ([]APIKey, error) {
	var out []APIKey
	if !ValidText(referenceID) {
		return out, nil
	}
	q := s.conn(ctx).Where(`"referenceId" = ?`, referenceID)
	if sortBy != "" {
		dir := "asc"
		if desc {
			dir = "desc"
		}
		q = q.Order(fmt.Sprintf(`%q %s`, sortBy, dir))
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: api keys by reference: %w", classify(err))
	}
	return out, nil
}

// UpdateAPIKey sets columns (by column name) on key id, where the extra condition (SQL with
// args, may be empty) holds too; it reports whether a row was written. It is the guarded write
// the usage counters need: a condition that no longer holds (another request took the last use)
// writes nothing.
func (s *Store) UpdateAPIKey(ctx context.Context, id string, cols map[string]any, cond string, args ...any) (bool, error) {
	q := s.conn(ctx).Model(&APIKey{}).Where(`"id" = ?`, id)
	if cond != "" {
		q = q.Where(cond, args...)
	}
	res := q.Updates(cols)
	if res.Error != nil {
		return false, fmt.Errorf("store: update api key: %w", classify(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// DeleteAPIKey deletes key id; a missing key is no error.
func (s *Store) DeleteAPIKey(ctx context.Context, id string) error {
	if err := s.conn(ctx).Where(`"id" = ?`, id).Delete(&APIKey{}).Error; err != nil {
		return fmt.Errorf("store: delete api key: %w", classify(err))
	}
	return nil
}

// DeleteExpiredAPIKeys deletes every key whose expiry is before now.
func (s *Store) DeleteExpiredAPIKeys(ctx context.Context, now Time) error {
	err := s.conn(ctx).Where(`"expiresAt" is not null and "expiresAt" < ?`, now).Delete(&APIKey{}).Error
	if err != nil {
		return fmt.Errorf("store: delete expired api keys: %w", classify(err))
	}
	return nil
}

// TakeAPIKeyUse takes one of key id's remaining uses, only while some are left; false means
// none was left (or the key is gone).
func (s *Store) TakeAPIKeyUse(ctx context.Context, id string) (bool, error) {
	return s.UpdateAPIKey(ctx, id, map[string]any{"remaining": gorm.Expr(`"remaining" - 1`)}, `"remaining" > 0`)
}

// CountAPIKeyRequest counts one more request in key id's current rate-limit window (requestCount
// + 1, lastRequest = now), only while the window that started after windowStart still holds
// fewer than max requests; false means another request changed the window first, or it is full.
func (s *Store) CountAPIKeyRequest(ctx context.Context, id string, now, windowStart Time, max int64) (bool, error) {
	return s.UpdateAPIKey(ctx, id, map[string]any{"requestCount": gorm.Expr(`"requestCount" + 1`), "lastRequest": now},
		`"lastRequest" > ? and "requestCount" < ?`, windowStart, max)
}
