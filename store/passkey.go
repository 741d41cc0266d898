package store

import (
	"context"
	"fmt"
)

// Passkey is a row of the passkey plugin's "passkey" table: one WebAuthn credential of a user.
// The table exists only when the plugin is enabled; its migration lives with the plugin.
type Passkey struct {
	ID string `gorm:"column:id;primaryKey"`
	// Name is the user's label; NULL when none was given.
	Name *string `gorm:"column:name"`
	// PublicKey is the credential's COSE public key in standard base64 with padding.
	PublicKey string `gorm:"column:publicKey"`
	UserID    string `gorm:"column:userId"`
	// CredentialID is the credential id in base64url without padding, as clients send it.
	CredentialID string `gorm:"column:credentialID"`
	// Counter is the authenticator's signature counter at the last accepted use.
	Counter int64 `gorm:"column:counter"`
	// DeviceType is "singleDevice" or "multiDevice" (backup eligible).
	DeviceType string `gorm:"column:deviceType"`
	BackedUp   bool   `gorm:"column:backedUp"`
	// Transports are the client's transport hints, comma-joined; NULL or "" when none.
	Transports *string `gorm:"column:transports"`
	CreatedAt  *Time   `gorm:"column:createdAt;autoCreateTime:false"`
	// AAGUID is the authenticator model's id as a UUID string.
	AAGUID *string `gorm:"column:aaguid"`
}

// TableName maps Passkey onto Better-Auth's table name.
func (Passkey) TableName() string { return "passkey" }

// PasskeysByUser returns the user's passkeys, oldest first.
func (s *Store) PasskeysByUser(ctx context.Context, userID string) ([]Passkey, error) {
	var out []Passkey
	if !ValidText(userID) {
		return out, nil
	}
	if err := s.conn(ctx).Where(`"userId" = ?`, userID).Order(`"createdAt", "id"`).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: passkeys by user: %w", classify(err))
	}
	return out, nil
}

// PasskeyByID returns the passkey id; ErrNotFound when there is none.
func (s *Store) PasskeyByID(ctx context.Context, id string) (*Passkey, error) {
	return s.passkeyWhere(ctx, `"id" = ?`, id)
}

// PasskeyByCredentialID returns the passkey with this credential id (base64url); ErrNotFound when
// there is none.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID string) (*Passkey, error) {
	return s.passkeyWhere(ctx, `"credentialID" = ?`, credentialID)
}

func (s *Store) passkeyWhere(ctx context.Context, cond, arg string) (*Passkey, error) {
	if !ValidText(arg) {
		return nil, notFound("passkey")
	}
	var p Passkey
	if err := s.conn(ctx).Where(cond, arg).Order(`"createdAt", "id"`).Take(&p).Error; err != nil {
		return nil, fmt.Errorf("store: passkey: %w", classify(err))
	}
	return &p, nil
}

// CreatePasskey inserts a passkey row. ErrGone means the user was deleted meanwhile.
func (s *Store) CreatePasskey(ctx context.Context, p *Passkey) error {
	if err := s.conn(ctx).Create(p).Error; err != nil {
		return fmt.Errorf("store: create passkey: %w", classify(err))
	}
	return nil
}

// RenamePasskey sets the passkey's name and returns the row; ErrNotFound when it is gone.
func (s *Store) RenamePasskey(ctx context.Context, id, name string) (*Passkey, error) {
	res := s.conn(ctx).Model(&Passkey{}).Where(`"id" = ?`, id).Update("name", name)
	if res.Error != nil {
		return nil, fmt.Errorf("store: rename passkey: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return nil, notFound("rename passkey")
	}
	return s.PasskeyByID(ctx, id)
}

// AdvancePasskeyCounter sets the passkey's counter to next only if it still is prev, so of two
// sign-ins presenting the same assertion (or two assertions racing from one counter value) only
// one is accepted; false means another won.
func (s *Store) AdvancePasskeyCounter(ctx context.Context, id string, prev, next int64) (bool, error) {
	res := s.conn(ctx).Model(&Passkey{}).Where(`"id" = ? and "counter" = ?`, id, prev).Update("counter", next)
	if res.Error != nil {
		return false, fmt.Errorf("store: advance passkey counter: %w", classify(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// DeletePasskey removes the passkey id; removing one that is already gone is no error.
func (s *Store) DeletePasskey(ctx context.Context, id string) error {
	if err := s.conn(ctx).Where(`"id" = ?`, id).Delete(&Passkey{}).Error; err != nil {
		return fmt.Errorf("store: delete passkey: %w", classify(err))
	}
	return nil
}
