package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// CreateUser inserts u. A taken email gives ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if err := s.conn(ctx).Create(u).Error; err != nil {
		return fmt.Errorf("store: create user: %w", classify(err))
	}
	return nil
}

// CreateAccount inserts a.
func (s *Store) CreateAccount(ctx context.Context, a *Account) error {
	if err := s.conn(ctx).Create(a).Error; err != nil {
		return fmt.Errorf("store: create account: %w", classify(err))
	}
	return nil
}

// UserByEmail finds the user with exactly this (already lower-cased) email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.conn(ctx).Where(`"email" = ?`, email).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("store: user by email: %w", classify(err))
	}
	return &u, nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id string) (*User, error) {
	var u User
	if err := s.conn(ctx).Where(`"id" = ?`, id).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("store: user by id: %w", classify(err))
	}
	return &u, nil
}

// UpdateUser sets the given columns (by column name) and updatedAt on the user, then returns the
// row as stored. A vanished user gives ErrNotFound.
func (s *Store) UpdateUser(ctx context.Context, id string, cols map[string]any, now Time) (*User, error) {
	values := make(map[string]any, len(cols)+1)
	for k, v := range cols {
		values[k] = v
	}
	values["updatedAt"] = now
	res := s.conn(ctx).Model(&User{}).Where(`"id" = ?`, id).Updates(values)
	if res.Error != nil {
		return nil, fmt.Errorf("store: update user: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("store: update user: %w", ErrNotFound)
	}
	return s.UserByID(ctx, id)
}

// AccountsByUser lists every account of a user, oldest first.
func (s *Store) AccountsByUser(ctx context.Context, userID string) ([]Account, error) {
	var out []Account
	if err := s.conn(ctx).Where(`"userId" = ?`, userID).Order(`"createdAt"`).Order(`"id"`).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: accounts: %w", classify(err))
	}
	return out, nil
}

// CredentialAccount finds the user's email-and-password account (providerId "credential").
func (s *Store) CredentialAccount(ctx context.Context, userID string) (*Account, error) {
	var a Account
	err := s.conn(ctx).Where(`"userId" = ? and "providerId" = ?`, userID, CredentialProvider).
		Order(`"createdAt"`).Take(&a).Error
	if err != nil {
		return nil, fmt.Errorf("store: credential account: %w", classify(err))
	}
	return &a, nil
}

// SetAccountPassword stores a new password hash on an account.
func (s *Store) SetAccountPassword(ctx context.Context, accountID, hash string, now Time) error {
	res := s.conn(ctx).Model(&Account{}).Where(`"id" = ?`, accountID).
		Updates(map[string]any{"password": hash, "updatedAt": now})
	if res.Error != nil {
		return fmt.Errorf("store: set password: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: set password: %w", ErrNotFound)
	}
	return nil
}

// CreateSession inserts a session row.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	if err := s.conn(ctx).Create(sess).Error; err != nil {
		return fmt.Errorf("store: create session: %w", classify(err))
	}
	return nil
}

// SessionByToken finds a session and its user by the raw session token. A session whose user is
// gone counts as not found.
func (s *Store) SessionByToken(ctx context.Context, token string) (*Session, *User, error) {
	var sess Session
	if err := s.conn(ctx).Where(`"token" = ?`, token).Take(&sess).Error; err != nil {
		return nil, nil, fmt.Errorf("store: session: %w", classify(err))
	}
	u, err := s.UserByID(ctx, sess.UserID)
	if err != nil {
		return nil, nil, err
	}
	return &sess, u, nil
}

// SessionsByUser lists the user's sessions that expire after the given time, oldest first.
func (s *Store) SessionsByUser(ctx context.Context, userID string, expiringAfter Time) ([]Session, error) {
	var out []Session
	err := s.conn(ctx).Where(`"userId" = ? and "expiresAt" > ?`, userID, expiringAfter).
		Order(`"createdAt"`).Order(`"id"`).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: sessions: %w", classify(err))
	}
	return out, nil
}

// ExtendSession moves a session's expiry forward, but only if it still has the expiry the caller
// read: of several requests refreshing one session at once, exactly one writes. It reports whether
// this call wrote; false with a nil error means another request already refreshed (or deleted) it.
func (s *Store) ExtendSession(ctx context.Context, token string, readExpiresAt, newExpiresAt, now Time) (bool, error) {
	res := s.conn(ctx).Model(&Session{}).
		Where(`"token" = ? and "expiresAt" = ?`, token, readExpiresAt).
		Updates(map[string]any{"expiresAt": newExpiresAt, "updatedAt": now})
	if res.Error != nil {
		return false, fmt.Errorf("store: extend session: %w", classify(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// DeleteSession removes the session with this token; a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if err := s.conn(ctx).Where(`"token" = ?`, token).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("store: delete session: %w", classify(err))
	}
	return nil
}

// DeleteUserSessions removes every session of the user and returns the tokens it removed, so
// caches can forget them.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) ([]string, error) {
	return s.deleteSessionsWhere(ctx, `"userId" = ?`, userID)
}

// DeleteOtherSessions removes the user's unexpired sessions except the one with keepToken and
// returns the tokens it removed.
func (s *Store) DeleteOtherSessions(ctx context.Context, userID, keepToken string, now Time) ([]string, error) {
	return s.deleteSessionsWhere(ctx, `"userId" = ? and "token" <> ? and "expiresAt" > ?`, userID, keepToken, now)
}

func (s *Store) deleteSessionsWhere(ctx context.Context, where string, args ...any) ([]string, error) {
	var tokens []string
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&Session{}).Where(where, args...).Pluck("token", &tokens).Error; err != nil {
			return err
		}
		if len(tokens) == 0 {
			return nil
		}
		return tx.Where(`"token" in ?`, tokens).Delete(&Session{}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("store: delete sessions: %w", classify(err))
	}
	return tokens, nil
}
