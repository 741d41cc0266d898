package store

import (
	"context"
	"fmt"
)

// Jwk is a row of the jwt plugin's "jwks" table: one signing key pair. Rows are never deleted;
// a key stops signing once ExpiresAt passes and stops being published a grace period later.
// The table exists only when the plugin is enabled; its migration lives with the plugin.
type Jwk struct {
	// ID is the key's "kid".
	ID string `gorm:"column:id;primaryKey"`
	// PublicKey is the JSON text of the public JWK, without kid or alg.
	PublicKey string `gorm:"column:publicKey"`
	// PrivateKey is the JSON text of the private JWK, or (by default) a JSON string holding it
	// encrypted with the server's secret, as Better-Auth keeps it.
	PrivateKey string `gorm:"column:privateKey"`
	CreatedAt  Time   `gorm:"column:createdAt;autoCreateTime:false"`
	// ExpiresAt is when the key stops signing; NULL for a key that never rotates.
	ExpiresAt *Time `gorm:"column:expiresAt"`
	// Alg and Crv are NULL in rows from before Better-Auth had these columns: the configured
	// algorithm is meant then.
	Alg *string `gorm:"column:alg"`
	Crv *string `gorm:"column:crv"`
}

// TableName maps Jwk onto Better-Auth's table name.
func (Jwk) TableName() string { return "jwks" }

// Jwks returns every key row, oldest first.
func (s *Store) Jwks(ctx context.Context) ([]Jwk, error) {
	var out []Jwk
	if err := s.conn(ctx).Order(`"createdAt", "id"`).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: jwks: %w", classify(err))
	}
	return out, nil
}

// CreateJwk inserts a key row.
func (s *Store) CreateJwk(ctx context.Context, k *Jwk) error {
	if err := s.conn(ctx).Create(k).Error; err != nil {
		return fmt.Errorf("store: create jwk: %w", classify(err))
	}
	return nil
}
