package obs

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Without an OTLP endpoint nothing is installed and nothing can be exported.
func TestStartTracingOffByDefault(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_EXPORTER": "none"},
	} {
		_, on, err := StartTracing(envOf(env))
		if err != nil || on {
			t.Errorf("%v: enabled %v, err %v", env, on, err)
		}
	}
	if _, _, err := StartTracing(envOf(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})); err == nil {
		t.Error("grpc protocol accepted")
	}
}

// The exporter posts OTLP JSON to <endpoint>/v1/traces with the configured headers: hex ids, the
// parent link, OTLP's kind and status numbers, and typed attributes.
func TestJSONExporterPostsOTLP(t *testing.T) {
	type post struct {
		ResourceSpans []struct {
			ScopeSpans []struct {
				Scope struct{ Name string }
				Spans []struct {
					TraceID, SpanID, ParentSpanID, Name string
					Kind                                int
					StartTimeUnixNano                   string
					Status                              struct{ Code int }
					Attributes                          []struct {
						Key   string
						Value map[string]any
					}
				}
			}
		}
	}
	var posts []post
	var path, ct, hdr string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, ct, hdr = r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("X-Api-Key")
		b, _ := io.ReadAll(r.Body)
		var p post
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		posts = append(posts, p)
	}))
	defer srv.Close()
	exp, err := newJSONExporter(envOf(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL + "/", "OTEL_EXPORTER_OTLP_HEADERS": "X-Api-Key=a%20b"}))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	ctx, root := tp.Tracer("authserver").Start(context.Background(), "GET /x", trace.WithSpanKind(trace.SpanKindServer))
	_, child := tp.Tracer("authserver").Start(ctx, "db.query", trace.WithAttributes(attribute.Int("n", 3), attribute.String("s", "v")))
	child.SetStatus(codes.Error, "boom")
	child.End()
	root.End()

	if path != "/v1/traces" || ct != "application/json" || hdr != "a b" {
		t.Fatalf("posted to %q as %q with header %q", path, ct, hdr)
	}
	// WithSyncer exports each span as it ends: the child, then the root.
	if len(posts) != 2 {
		t.Fatalf("%d posts, want 2", len(posts))
	}
	ch, sp := posts[0].ResourceSpans[0].ScopeSpans[0].Spans[0], posts[1].ResourceSpans[0].ScopeSpans[0].Spans[0]
	if sp.Name != "GET /x" || sp.Kind != 2 || sp.ParentSpanID != "" || len(sp.TraceID) != 32 || len(sp.SpanID) != 16 || sp.StartTimeUnixNano == "" || sp.Status.Code != 0 {
		t.Errorf("root span %+v", sp)
	}
	if ch.Name != "db.query" || ch.ParentSpanID != sp.SpanID || ch.TraceID != sp.TraceID || ch.Kind != 1 || ch.Status.Code != 2 ||
		len(ch.Attributes) != 2 || ch.Attributes[0].Value["intValue"] != "3" || ch.Attributes[1].Value["stringValue"] != "v" {
		t.Errorf("child span %+v", ch)
	}
	if posts[1].ResourceSpans[0].ScopeSpans[0].Scope.Name != "authserver" {
		t.Errorf("scope %+v", posts[1].ResourceSpans[0].ScopeSpans[0].Scope)
	}
}

// A collector that refuses the batch is reported, so the SDK can log it.
func TestJSONExporterReportsRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	exp, err := newJSONExporter(envOf(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": srv.URL + "/custom"}))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	_, s := tp.Tracer("t").Start(context.Background(), "x")
	s.End()
	if err := exp.ExportSpans(context.Background(), rec.spans); err == nil {
		t.Error("503 not reported")
	}
}

type recorder struct{ spans []sdktrace.ReadOnlySpan }

func (r *recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan)                   { r.spans = append(r.spans, s) }
func (r *recorder) Shutdown(context.Context) error                  { return nil }
func (r *recorder) ForceFlush(context.Context) error                { return nil }
