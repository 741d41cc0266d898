package obs

import (
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
)

// GormPlugin gives every GORM statement a "db.<operation>" span (under the request's span, when
// the statement carries the request's context and tracing is on) and counts failed statements in
// db_errors_total. "Record not found" is an answer, not an error, and is not counted. Span
// attributes carry the operation and table, never the SQL or its arguments, which hold tokens.
type GormPlugin struct {
	// System is the db.system.name attribute ("sqlite" or "postgresql").
	System string
}

// Name is the plugin's registration name.
func (GormPlugin) Name() string { return "authserver:obs" }

// gormSpanKey is where the before callback leaves the statement's span for the after callback.
const gormSpanKey = "authserver:obs:span"

// Initialize registers the before/after callbacks around each of GORM's operations.
func (p GormPlugin) Initialize(db *gorm.DB) error {
	cb := db.Callback()
	regs := []error{
		cb.Create().Before("gorm:create").Register("obs:before_create", p.before("create")),
		cb.Create().After("gorm:create").Register("obs:after_create", p.after),
		cb.Query().Before("gorm:query").Register("obs:before_query", p.before("query")),
		cb.Query().After("gorm:query").Register("obs:after_query", p.after),
		cb.Update().Before("gorm:update").Register("obs:before_update", p.before("update")),
		cb.Update().After("gorm:update").Register("obs:after_update", p.after),
		cb.Delete().Before("gorm:delete").Register("obs:before_delete", p.before("delete")),
		cb.Delete().After("gorm:delete").Register("obs:after_delete", p.after),
		cb.Row().Before("gorm:row").Register("obs:before_row", p.before("row")),
		cb.Row().After("gorm:row").Register("obs:after_row", p.after),
		cb.Raw().Before("gorm:raw").Register("obs:before_raw", p.before("raw")),
		cb.Raw().After("gorm:raw").Register("obs:after_raw", p.after),
	}
	return errors.Join(regs...)
}

// before starts the statement's span when its context is inside a recorded trace; outside one
// (startup, background work, tracing off) it costs a context lookup.
func (p GormPlugin) before(op string) func(*gorm.DB) {
	return func(db *gorm.DB) {
		ctx := db.Statement.Context
		if ctx == nil || !trace.SpanFromContext(ctx).IsRecording() {
			return
		}
		_, span := Tracer().Start(ctx, "db."+op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system.name", p.System), attribute.String("db.operation.name", op)))
		db.InstanceSet(gormSpanKey, span)
	}
}

// after ends the statement's span and counts its failure.
func (p GormPlugin) after(db *gorm.DB) {
	failed := db.Error != nil && !errors.Is(db.Error, gorm.ErrRecordNotFound)
	if failed {
		DBError()
	}
	v, ok := db.InstanceGet(gormSpanKey)
	if !ok {
		return
	}
	span, ok := v.(trace.Span)
	if !ok {
		return
	}
	if t := db.Statement.Table; t != "" {
		span.SetAttributes(attribute.String("db.collection.name", t))
	}
	if failed {
		span.SetStatus(codes.Error, "database error")
	}
	span.End()
}
