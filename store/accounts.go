package store

import (
	"context"
	"fmt"
)

// AccountsByKey returns the accounts whose (providerId, accountId) is the given pair, at most two:
// Better-Auth 1.7.25 identifies a linked provider account by that pair (the table has no unique
// index on it), so a caller that gets two knows the identity is ambiguous and must not pick one.
func (s *Store) AccountsByKey(ctx context.Context, providerID, accountID string) ([]Account, error) {
	var out []Account
	err := s.conn(ctx).Where(`"providerId" = ? and "accountId" = ?`, providerID, accountID).
		Order(`"createdAt"`).Order(`"id"`).Limit(2).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: accounts by key: %w", classify(err))
	}
	return out, nil
}

// AccountByID finds one account row by its id.
func (s *Store) AccountByID(ctx context.Context, id string) (*Account, error) {
	var a Account
	if err := s.conn(ctx).Where(`"id" = ?`, id).Take(&a).Error; err != nil {
		return nil, fmt.Errorf("store: account by id: %w", classify(err))
	}
	return &a, nil
}

// UpdateAccount sets the given columns (by column name) and updatedAt on one account and returns
// the row as stored. A vanished account gives ErrNotFound.
func (s *Store) UpdateAccount(ctx context.Context, id string, cols map[string]any, now Time) (*Account, error) {
	values := make(map[string]any, len(cols)+1)
	for k, v := range cols {
		values[k] = v
	}
	values["updatedAt"] = now
	res := s.conn(ctx).Model(&Account{}).Where(`"id" = ?`, id).Updates(values)
	if res.Error != nil {
		return nil, fmt.Errorf("store: update account: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("store: update account: %w", ErrNotFound)
	}
	return s.AccountByID(ctx, id)
}
