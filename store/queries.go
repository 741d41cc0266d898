package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// CreateUser inserts u. A taken email gives ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if err := insertRow(ctx, s, "user", userCore, u, s.schema.cols.User, &u.Extra); err != nil {
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

// ValidText reports whether s can be stored in, or compared with, a text column: PostgreSQL
// rejects invalid UTF-8 and NUL characters in text parameters with an error (SQLite takes them),
// so every text that comes from a client is checked with this before it reaches a query. Lookups
// by such a key are simply not found, on both databases; writes are refused by the caller.
func ValidText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

func notFound(what string) error { return fmt.Errorf("store: %s: %w", what, ErrNotFound) }

// UserByEmail finds the user with exactly this (already lower-cased) email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	if !ValidText(email) {
		return nil, notFound("user by email")
	}
	u, err := s.userWhere(ctx, `"email" = ?`, email)
	if err != nil {
		return nil, fmt.Errorf("store: user by email: %w", classify(err))
	}
	return u, nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id string) (*User, error) {
	u, err := s.userWhere(ctx, `"id" = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("store: user by id: %w", classify(err))
	}
	return u, nil
}

// userWhere reads the first user matching the condition, with its registered fields.
func (s *Store) userWhere(ctx context.Context, cond string, args ...any) (*User, error) {
	var u User
	err := s.scanUser(s.conn(ctx).Raw(s.schema.userSelect+` where `+cond+` limit 1`, args...).Row(), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// scanUser reads one row of userSelect.
func (s *Store) scanUser(row interface{ Scan(...any) error }, u *User) error {
	dest := make([]any, 0, len(userCore)+len(s.schema.cols.User))
	for _, c := range userCore {
		dest = append(dest, c.addr(u))
	}
	return row.Scan(extraDest(dest, s.schema.cols.User, &u.Extra)...)
}

// scanSession reads one row of sessionSelect.
func (s *Store) scanSession(row interface{ Scan(...any) error }, sess *Session) error {
	dest := make([]any, 0, len(sessionCore)+len(s.schema.cols.Session))
	for _, c := range sessionCore {
		dest = append(dest, c.addr(sess))
	}
	return row.Scan(extraDest(dest, s.schema.cols.Session, &sess.Extra)...)
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

// DeleteAccount removes one account of the user.
func (s *Store) DeleteAccount(ctx context.Context, userID, accountID string) error {
	if err := s.conn(ctx).Where(`"id" = ? and "userId" = ?`, accountID, userID).Delete(&Account{}).Error; err != nil {
		return fmt.Errorf("store: delete account: %w", classify(err))
	}
	return nil
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
	if err := insertRow(ctx, s, "session", sessionCore, sess, s.schema.cols.Session, &sess.Extra); err != nil {
		return fmt.Errorf("store: create session: %w", classify(err))
	}
	return nil
}

// SessionByToken finds a session and its user by the raw session token. A session whose user is
// gone counts as not found.
func (s *Store) SessionByToken(ctx context.Context, token string) (*Session, *User, error) {
	if !ValidText(token) {
		return nil, nil, notFound("session")
	}
	// One round trip, scanned by hand: this is the query behind every authenticated request that
	// the session cache does not answer.
	var r SessionWithUser
	err := s.scanSessionWithUser(s.conn(ctx).Raw(s.schema.sessionWithUser+` = ?`, token).Row(), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("session")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: session: %w", classify(err))
	}
	return &r.Session, &r.User, nil
}

// scanSessionWithUser reads one row of the schema's sessionWithUser query (sessions joined with
// their users, so a session whose user is gone is not found).
func (s *Store) scanSessionWithUser(row interface{ Scan(...any) error }, r *SessionWithUser) error {
	sc := s.schema
	dest := make([]any, 0, len(sessionCore)+len(sc.cols.Session)+len(userCore)+len(sc.cols.User))
	for _, c := range sessionCore {
		dest = append(dest, c.addr(&r.Session))
	}
	dest = extraDest(dest, sc.cols.Session, &r.Session.Extra)
	for _, c := range userCore {
		dest = append(dest, c.addr(&r.User))
	}
	return row.Scan(extraDest(dest, sc.cols.User, &r.User.Extra)...)
}

// SessionWithUser is a session and the user it belongs to, as one lookup returns them.
type SessionWithUser struct {
	Session Session
	User    User
}

// SessionsByTokens looks up many sessions by raw token in one round trip and returns those found,
// keyed by token; a token with no session (or whose user is gone) is simply absent. It exists for
// the session manager's batched lookups: under load one query serves every request that arrived
// while the previous one ran, instead of each paying a round trip and a statement execution.
// Duplicate and unlookupable tokens are dropped; at most 100 tokens are accepted.
func (s *Store) SessionsByTokens(ctx context.Context, tokens []string) (map[string]SessionWithUser, error) {
	if len(tokens) > 100 {
		return nil, fmt.Errorf("store: sessions by token: %d tokens, at most 100", len(tokens))
	}
	uniq := make([]string, 0, len(tokens))
	seen := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		if !seen[t] && ValidText(t) {
			seen[t] = true
			uniq = append(uniq, t)
		}
	}
	out := make(map[string]SessionWithUser, len(uniq))
	if len(uniq) == 0 {
		return out, nil
	}
	rows, err := s.conn(ctx).Raw(s.schema.sessionWithUser+` in ?`, uniq).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: sessions by token: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var r SessionWithUser
		if err := s.scanSessionWithUser(rows, &r); err != nil {
			return nil, fmt.Errorf("store: sessions by token: %w", classify(err))
		}
		out[r.Session.Token] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sessions by token: %w", classify(err))
	}
	return out, nil
}

// SessionsByUser lists the user's sessions that expire after the given time, oldest first.
func (s *Store) SessionsByUser(ctx context.Context, userID string, expiringAfter Time) ([]Session, error) {
	rows, err := s.conn(ctx).Raw(s.schema.sessionSelect+` where "userId" = ? and "expiresAt" > ? order by "createdAt", "id"`,
		userID, expiringAfter).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: sessions: %w", classify(err))
	}
	out, err := scanRows(rows, s.scanSession)
	if err != nil {
		return nil, fmt.Errorf("store: sessions: %w", classify(err))
	}
	return out, nil
}

// ExtendSession moves a session's expiry forward, but only if it still has the expiry the caller
// read: of several requests refreshing one session at once, exactly one writes. It reports whether
// this call wrote; false with a nil error means another request already refreshed (or deleted) it.
func (s *Store) ExtendSession(ctx context.Context, token string, readExpiresAt, newExpiresAt, now Time) (bool, error) {
	// The expiry is compared at millisecond precision, the precision Time writes, because another
	// tool may have written microseconds (PostgreSQL's now() + interval, or such text on SQLite);
	// an exact comparison would then never match and the session would never be refreshed.
	same := `date_trunc('milliseconds', "expiresAt") = ?`
	if s.dialect == SQLite {
		same = `replace(substr("expiresAt", 1, 23), ' ', 'T') = substr(?, 1, 23)`
	}
	res := s.conn(ctx).Model(&Session{}).
		Where(`"token" = ? and `+same, token, readExpiresAt).
		Updates(map[string]any{"expiresAt": newExpiresAt, "updatedAt": now})
	if res.Error != nil {
		return false, fmt.Errorf("store: extend session: %w", classify(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// DeleteSession removes the session with this token; a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if !ValidText(token) {
		return nil
	}
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

// CreateVerification inserts a single-use value (reset token, delete token, ...).
func (s *Store) CreateVerification(ctx context.Context, v *Verification) error {
	if err := s.conn(ctx).Create(v).Error; err != nil {
		return fmt.Errorf("store: create verification: %w", classify(err))
	}
	return nil
}

// FindVerification returns the newest unexpired row with this identifier, without consuming it.
func (s *Store) FindVerification(ctx context.Context, identifier string, now Time) (*Verification, error) {
	if !ValidText(identifier) {
		return nil, notFound("find verification")
	}
	var v Verification
	err := s.conn(ctx).Where(`"identifier" = ? and "expiresAt" > ?`, identifier, now).
		Order(`"createdAt" desc`).Take(&v).Error
	if err != nil {
		return nil, fmt.Errorf("store: find verification: %w", classify(err))
	}
	return &v, nil
}

// LatestVerification returns the newest row with this identifier even if it has expired, for
// flows that answer an expired code differently from an unknown one. It consumes nothing.
func (s *Store) LatestVerification(ctx context.Context, identifier string) (*Verification, error) {
	if !ValidText(identifier) {
		return nil, notFound("latest verification")
	}
	var v Verification
	if err := s.conn(ctx).Where(`"identifier" = ?`, identifier).Order(`"createdAt" desc`).Take(&v).Error; err != nil {
		return nil, fmt.Errorf("store: latest verification: %w", classify(err))
	}
	return &v, nil
}

// ConsumeVerification deletes every row with this identifier and returns the newest one if it had
// not expired. Because the delete decides, of two requests racing to use one token exactly one
// gets it; expired rows are deleted too, so they can never be replayed. ErrNotFound means the
// token is unknown, used or expired.
func (s *Store) ConsumeVerification(ctx context.Context, identifier string, now Time) (*Verification, error) {
	got, err := s.TakeVerification(ctx, identifier)
	if err != nil {
		return nil, fmt.Errorf("store: consume verification: %w", err)
	}
	if !got.ExpiresAt.After(now.Time) {
		return nil, fmt.Errorf("store: consume verification: %w", ErrNotFound)
	}
	return got, nil
}

// TakeVerification deletes every row with this identifier and returns the newest one, expired or
// not, for callers that answer an expired value differently from an unknown one. Of two requests
// racing for one identifier exactly one gets the row; ErrNotFound means there was none (or the
// other request took it).
func (s *Store) TakeVerification(ctx context.Context, identifier string) (*Verification, error) {
	if !ValidText(identifier) {
		return nil, notFound("take verification")
	}
	var rows []Verification
	var got *Verification
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where(`"identifier" = ?`, identifier).Order(`"createdAt" desc`).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		res := tx.Where(`"identifier" = ?`, identifier).Delete(&Verification{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // another request took it between our read and delete
		}
		got = &rows[0]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: take verification: %w", classify(err))
	}
	if got == nil {
		return nil, fmt.Errorf("store: take verification: %w", ErrNotFound)
	}
	return got, nil
}

// WithdrawVerification deletes the rows with this identifier whose value match accepts, and says
// whether it deleted any. A plugin calls it to take back a code whose message was not delivered,
// matching the value it stored so that a newer code issued meanwhile under the same identifier
// stays.
func (s *Store) WithdrawVerification(ctx context.Context, identifier string, match func(value string) bool) (bool, error) {
	if !ValidText(identifier) {
		return false, nil
	}
	var n int64
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []Verification
		if err := tx.Where(`"identifier" = ?`, identifier).Find(&rows).Error; err != nil {
			return err
		}
		var ids []string
		for _, r := range rows {
			if match(r.Value) {
				ids = append(ids, r.ID)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		res := tx.Where(`"id" in ?`, ids).Delete(&Verification{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("store: withdraw verification: %w", classify(err))
	}
	return n > 0, nil
}

// DeleteExpiredVerifications removes verification rows that expired before now, as Better-Auth
// does before lookups, so the table does not grow without bound.
func (s *Store) DeleteExpiredVerifications(ctx context.Context, now Time) error {
	if err := s.conn(ctx).Where(`"expiresAt" < ?`, now).Delete(&Verification{}).Error; err != nil {
		return fmt.Errorf("store: delete expired verifications: %w", classify(err))
	}
	return nil
}

// DeleteUser removes a user and everything kept for them, in one transaction: the user's
// verification rows (reset and delete tokens carry the user id as their value) explicitly, and
// sessions, accounts and any table that references "user" with ON DELETE CASCADE through the
// foreign keys. It returns the session tokens that were removed, so caches can forget them.
func (s *Store) DeleteUser(ctx context.Context, id string) ([]string, error) {
	var tokens []string
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&Session{}).Where(`"userId" = ?`, id).Pluck("token", &tokens).Error; err != nil {
			return err
		}
		if err := tx.Where(`"value" = ?`, id).Delete(&Verification{}).Error; err != nil {
			return err
		}
		if err := tx.Where(`"userId" = ?`, id).Delete(&Session{}).Error; err != nil {
			return err
		}
		if err := tx.Where(`"userId" = ?`, id).Delete(&Account{}).Error; err != nil {
			return err
		}
		res := tx.Where(`"id" = ?`, id).Delete(&User{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: delete user: %w", classify(err))
	}
	return tokens, nil
}
