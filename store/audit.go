package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// AuditEntry is a row of "authserver_audit_log" (migration 5): one security event. UserID is the
// account the event is about, ActorID who caused it when that is someone else (an admin, an
// impersonator); both stay after the user is deleted, so a deletion keeps its record. Detail is
// a JSON object of non-secret facts (method, reason, ...); it never holds a password, token or
// code.
type AuditEntry struct {
	ID        string  `gorm:"column:id;primaryKey" json:"id"`
	CreatedAt Time    `gorm:"column:createdAt;autoCreateTime:false" json:"createdAt"`
	Event     string  `gorm:"column:event" json:"event"`
	UserID    *string `gorm:"column:userId" json:"userId"`
	ActorID   *string `gorm:"column:actorId" json:"actorId"`
	IPAddress *string `gorm:"column:ipAddress" json:"ipAddress"`
	UserAgent *string `gorm:"column:userAgent" json:"userAgent"`
	SessionID *string `gorm:"column:sessionId" json:"sessionId"`
	Outcome   string  `gorm:"column:outcome" json:"outcome"`
	Detail    string  `gorm:"column:detail" json:"-"`
}

// TableName maps AuditEntry onto its table.
func (AuditEntry) TableName() string { return "authserver_audit_log" }

// RecordAudit inserts one audit row. Called on a transaction's Store, the row commits or rolls
// back with the change it records.
func (s *Store) RecordAudit(ctx context.Context, e *AuditEntry) error {
	if err := s.conn(ctx).Create(e).Error; err != nil {
		return fmt.Errorf("store: record audit %s: %w", e.Event, classify(err))
	}
	return nil
}

// AuditFilter selects audit rows: those of UserID when set, newest first, Offset rows skipped
// and at most Limit returned (Limit <= 0 means 100).
type AuditFilter struct {
	UserID string
	Limit  int
	Offset int
}

// AuditLog lists audit rows newest first, and how many match the filter in all.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := s.conn(ctx).Model(&AuditEntry{})
	if f.UserID != "" {
		q = q.Where(`"userId" = ?`, f.UserID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("store: audit log: %w", classify(err))
	}
	var out []AuditEntry
	err := q.Order(`"createdAt" desc, "id" desc`).Limit(f.Limit).Offset(f.Offset).Find(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("store: audit log: %w", classify(err))
	}
	return out, total, nil
}

// MarshalJSON prints the row as the audit-log endpoints answer it: createdAt as an ISO date
// string and detail as the JSON object it holds.
func (e AuditEntry) MarshalJSON() ([]byte, error) {
	detail := json.RawMessage(e.Detail)
	if !json.Valid(detail) {
		detail = json.RawMessage("{}")
	}
	type plain AuditEntry
	return json.Marshal(struct {
		plain
		CreatedAt string          `json:"createdAt"`
		Detail    json.RawMessage `json:"detail"`
	}{plain(e), e.CreatedAt.String(), detail})
}
