package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// WebhookDelivery is a row of "authserver_webhook_outbox" (migration 5): one event waiting to be
// delivered to one URL. ID is the webhook-id every attempt sends; Payload the exact signed body.
type WebhookDelivery struct {
	ID            string  `gorm:"column:id;primaryKey"`
	CreatedAt     Time    `gorm:"column:createdAt;autoCreateTime:false"`
	URL           string  `gorm:"column:url"`
	Payload       string  `gorm:"column:payload"`
	Attempts      int     `gorm:"column:attempts"`
	NextAttemptAt Time    `gorm:"column:nextAttemptAt"`
	LastError     *string `gorm:"column:lastError"`
}

// TableName maps WebhookDelivery onto its table.
func (WebhookDelivery) TableName() string { return "authserver_webhook_outbox" }

// EnqueueWebhook stores a delivery; on a transaction's Store it commits with the change (and
// audit row) it announces, so an event is neither lost nor sent for a change that rolled back.
func (s *Store) EnqueueWebhook(ctx context.Context, d *WebhookDelivery) error {
	if err := s.conn(ctx).Create(d).Error; err != nil {
		return fmt.Errorf("store: enqueue webhook: %w", classify(err))
	}
	return nil
}

// DueWebhooks lists at most limit deliveries whose next attempt is due at now, oldest first.
func (s *Store) DueWebhooks(ctx context.Context, now time.Time, limit int) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	err := s.conn(ctx).Where(`"nextAttemptAt" <= ?`, NewTime(now)).Order(`"createdAt", "id"`).Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: due webhooks: %w", classify(err))
	}
	return out, nil
}

// WebhookDelivered deletes a delivered row.
func (s *Store) WebhookDelivered(ctx context.Context, id string) error {
	if err := s.conn(ctx).Delete(&WebhookDelivery{}, "id = ?", id).Error; err != nil {
		return fmt.Errorf("store: webhook delivered: %w", classify(err))
	}
	return nil
}

// WebhookFailed records a failed attempt and when to try again.
func (s *Store) WebhookFailed(ctx context.Context, id string, next time.Time, reason string) error {
	err := s.conn(ctx).Model(&WebhookDelivery{}).Where("id = ?", id).Updates(map[string]any{
		"attempts": gorm.Expr(`"attempts" + 1`), "nextAttemptAt": NewTime(next), "lastError": reason}).Error
	if err != nil {
		return fmt.Errorf("store: webhook failed: %w", classify(err))
	}
	return nil
}

// WebhookQueueStats is the size of the outbox: every row in it is pending (a delivered row is
// deleted), and Oldest is the creation time of the oldest one (zero when Pending is 0).
type WebhookQueueStats struct {
	Pending int64
	Oldest  time.Time
}

// WebhookQueue counts the outbox's rows and finds the oldest. It reads the whole table (no index
// on "createdAt"), which stays small while receivers answer; callers run it every few seconds,
// not per request.
func (s *Store) WebhookQueue(ctx context.Context) (WebhookQueueStats, error) {
	var q WebhookQueueStats
	var oldest *Time
	row := s.conn(ctx).Raw(`select count(*), min("createdAt") from "authserver_webhook_outbox"`).Row()
	if err := row.Scan(&q.Pending, &oldest); err != nil {
		return q, fmt.Errorf("store: webhook queue: %w", classify(err))
	}
	if oldest != nil {
		q.Oldest = oldest.Time
	}
	return q, nil
}

// PendingWebhooks lists at most limit outbox rows, oldest first (as DueWebhooks orders them),
// whether due or waiting for their next attempt.
func (s *Store) PendingWebhooks(ctx context.Context, limit int) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	if err := s.conn(ctx).Order(`"createdAt", "id"`).Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: pending webhooks: %w", classify(err))
	}
	return out, nil
}

// RetryWebhooks makes pending deliveries due at now: the one with the webhook-id id, or every
// one when id is empty. Attempts are kept, so a failure afterwards backs off as before. It
// returns how many rows it changed; 0 for an id that is not in the outbox (delivered, or never
// queued).
func (s *Store) RetryWebhooks(ctx context.Context, id string, now time.Time) (int64, error) {
	q := s.conn(ctx).Model(&WebhookDelivery{})
	if id != "" {
		q = q.Where("id = ?", id)
	} else {
		q = q.Where("1 = 1") // GORM refuses an update without a condition
	}
	res := q.Update("nextAttemptAt", NewTime(now))
	if res.Error != nil {
		return 0, fmt.Errorf("store: retry webhooks: %w", classify(res.Error))
	}
	return res.RowsAffected, nil
}

// webhookLockKey is the Postgres advisory-lock key that lets one replica at a time deliver
// webhooks ("authwk" in ASCII, then a zero byte).
const webhookLockKey int64 = 0x61757468776b6800

// WithWebhookLock runs fn while this process holds the delivery lock, and reports false without
// running it when another replica holds it. On SQLite (one process) fn always runs.
func (s *Store) WithWebhookLock(ctx context.Context, fn func() error) (bool, error) {
	if s.dialect != Postgres {
		return true, fn()
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("store: webhook lock: %w", classify(err))
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `select pg_try_advisory_lock($1)`, webhookLockKey).Scan(&got); err != nil {
		return false, fmt.Errorf("store: webhook lock: %w", classify(err))
	}
	if !got {
		return false, nil
	}
	defer unlockKey(conn, webhookLockKey)
	return true, fn()
}

// unlockKey releases an advisory lock even when the caller's context has ended.
func unlockKey(conn *sql.Conn, key int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.ExecContext(ctx, `select pg_advisory_unlock($1)`, key)
}
