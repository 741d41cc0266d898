package store

import (
	"context"
	"fmt"
)

// DeviceCode is a row of the device-authorization plugin's "deviceCode" table: one RFC 8628
// authorization request, from the device's POST /device/code until the device redeems it or it
// is denied or expires. The table exists only when the plugin is enabled; its migration lives
// with the plugin.
type DeviceCode struct {
	ID string `gorm:"column:id;primaryKey"`
	// DeviceCode is the device's secret, UserCode what the person types; both unique.
	DeviceCode string `gorm:"column:deviceCode"`
	UserCode   string `gorm:"column:userCode"`
	// UserID is the person who claimed the request (GET /device while signed in); NULL until then.
	UserID    *string `gorm:"column:userId"`
	ExpiresAt Time    `gorm:"column:expiresAt"`
	// Status is "pending", "approved" or "denied".
	Status       string `gorm:"column:status"`
	LastPolledAt *Time  `gorm:"column:lastPolledAt"`
	// PollingInterval is the minimum time between polls, in milliseconds as Better-Auth keeps it.
	PollingInterval *int64  `gorm:"column:pollingInterval"`
	ClientID        *string `gorm:"column:clientId"`
	Scope           *string `gorm:"column:scope"`
}

// TableName maps DeviceCode onto Better-Auth's table name.
func (DeviceCode) TableName() string { return "deviceCode" }

// CreateDeviceCode inserts a row; ErrConflict when its device or user code is taken.
func (s *Store) CreateDeviceCode(ctx context.Context, d *DeviceCode) error {
	if err := s.conn(ctx).Create(d).Error; err != nil {
		return fmt.Errorf("store: create device code: %w", classify(err))
	}
	return nil
}

// DeviceCodeBy returns the row whose column ("deviceCode", "userCode" or "id") equals value
// exactly; ErrNotFound when there is none.
func (s *Store) DeviceCodeBy(ctx context.Context, column, value string) (*DeviceCode, error) {
	switch column {
	case "deviceCode", "userCode", "id":
	default:
		return nil, fmt.Errorf("store: device code by %q: not a lookup column", column)
	}
	if !ValidText(value) {
		return nil, notFound("device code")
	}
	var d DeviceCode
	if err := s.conn(ctx).Where(fmt.Sprintf("%q = ?", column), value).Take(&d).Error; err != nil {
		return nil, fmt.Errorf("store: device code: %w", classify(err))
	}
	return &d, nil
}

// SetDeviceCodePolled records a poll of the row at now.
func (s *Store) SetDeviceCodePolled(ctx context.Context, id string, now Time) error {
	if err := s.conn(ctx).Model(&DeviceCode{}).Where(`"id" = ?`, id).Update("lastPolledAt", now).Error; err != nil {
		return fmt.Errorf("store: device code polled: %w", classify(err))
	}
	return nil
}

// ClaimDeviceCode binds a pending, unclaimed row to the user; false when another request claimed
// or decided it first.
func (s *Store) ClaimDeviceCode(ctx context.Context, id, userID string) (bool, error) {
	res := s.conn(ctx).Model(&DeviceCode{}).Where(`"id" = ? and "status" = 'pending' and "userId" is null`, id).Update("userId", userID)
	if res.Error != nil {
		return false, fmt.Errorf("store: claim device code: %w", classify(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// DecideDeviceCode sets a pending row claimed by userID to status ("approved" or "denied");
// false when it was decided (or deleted) meanwhile, so two decisions cannot both win.
func (s *Store) DecideDeviceCode(ctx context.Context, id, userID, status string) (bool, error) {
	res := s.conn(ctx).Model(&DeviceCode{}).Where(`"id" = ? and "status" = 'pending' and "userId" = ?`, id, userID).Update("status", status)
	if res.Error != nil {
		return false, fmt.Errorf("store: decide device code: %w", classify(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// DeleteDeviceCode removes the row; a row already gone is no error.
func (s *Store) DeleteDeviceCode(ctx context.Context, id string) error {
	if err := s.conn(ctx).Where(`"id" = ?`, id).Delete(&DeviceCode{}).Error; err != nil {
		return fmt.Errorf("store: delete device code: %w", classify(err))
	}
	return nil
}

// ConsumeDeviceCode deletes the approved row issued to clientID and reports whether this call
// deleted it, so a device code is redeemed for one session at most even when polls race.
func (s *Store) ConsumeDeviceCode(ctx context.Context, id, clientID string) (bool, error) {
	res := s.conn(ctx).Where(`"id" = ? and "status" = 'approved' and "clientId" = ?`, id, clientID).Delete(&DeviceCode{})
	if res.Error != nil {
		return false, fmt.Errorf("store: consume device code: %w", classify(res.Error))
	}
	return res.RowsAffected == 1, nil
}
