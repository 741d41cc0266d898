package obs

import (
	"context"
	"testing"

	"github.com/glebarez/sqlite"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Failed statements count in db_errors_total and mark their span; "not found" does neither, and
// no span carries the SQL's arguments.
func TestGormPluginCountsErrorsAndSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	db, err := gorm.Open(sqlite.Open("file::memory:"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Use(GormPlugin{System: "sqlite"}); err != nil {
		t.Fatal(err)
	}
	type thing struct{ ID, Secret string }
	if err := db.AutoMigrate(&thing{}); err != nil {
		t.Fatal(err)
	}
	ctx, root := Tracer().Start(context.Background(), "request")
	before := dbErrors.Get()
	var got thing
	if err := db.WithContext(ctx).Where("secret = ?", "hunter2").First(&got).Error; err != gorm.ErrRecordNotFound {
		t.Fatalf("First: %v", err)
	}
	if d := dbErrors.Get() - before; d != 0 {
		t.Errorf("not found counted as %d errors", d)
	}
	if err := db.WithContext(ctx).Table("missing").Create(map[string]any{"id": "1"}).Error; err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
	if d := dbErrors.Get() - before; d != 1 {
		t.Errorf("failed insert counted as %d errors", d)
	}
	root.End()
	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
		for _, a := range s.Attributes {
			if a.Value.Emit() == "hunter2" {
				t.Errorf("span %s carries an argument", s.Name)
			}
		}
	}
	q, c := byName["db.query"], byName["db.create"]
	if q.Parent.SpanID() != root.SpanContext().SpanID() || q.Status.Code.String() != "Unset" {
		t.Errorf("query span %+v", q)
	}
	if c.Parent.SpanID() != root.SpanContext().SpanID() || c.Status.Code.String() != "Error" {
		t.Errorf("create span %+v", c)
	}
}
