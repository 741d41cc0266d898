package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// jsonExporter sends spans to an OTLP/HTTP endpoint in OTLP's JSON encoding (protocol
// "http/json"), which every OpenTelemetry Collector accepts on /v1/traces. It stands in for
// otlptracehttp, which would add 3.8 MB of protobuf and gRPC code to the binary for the same
// spans.
type jsonExporter struct {
	url     string
	headers map[string]string
	client  *http.Client
}

// newJSONExporter configures the exporter from the standard variables: the endpoint from
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) or OTEL_EXPORTER_OTLP_ENDPOINT (plus
// /v1/traces), headers from OTEL_EXPORTER_OTLP_[TRACES_]HEADERS ("k=v,k2=v2", URL-encoded values),
// and the timeout in milliseconds from OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT (default 10 s).
func newJSONExporter(getenv func(string) string) (*jsonExporter, error) {
	pick := func(k string) string {
		if v := getenv("OTEL_EXPORTER_OTLP_TRACES_" + k); v != "" {
			return v
		}
		return getenv("OTEL_EXPORTER_OTLP_" + k)
	}
	switch p := pick("PROTOCOL"); p {
	case "", "http/json", "http/protobuf":
		// http/protobuf is the specification's default; the collector's HTTP receiver takes JSON
		// on the same URL, so it is served the same way.
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported: use http/json", p)
	}
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		endpoint = strings.TrimRight(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"), "/") + "/v1/traces"
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTLP endpoint %q is not an http(s) URL", endpoint)
	}
	timeout := 10 * time.Second
	if v := pick("TIMEOUT"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_TIMEOUT must be a positive number of milliseconds")
		}
		timeout = time.Duration(ms) * time.Millisecond
	}
	headers := map[string]string{}
	for _, kv := range strings.Split(pick("HEADERS"), ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if dv, err := url.QueryUnescape(strings.TrimSpace(v)); err == nil {
			v = dv
		}
		headers[strings.TrimSpace(k)] = v
	}
	return &jsonExporter{url: endpoint, headers: headers, client: &http.Client{Timeout: timeout}}, nil
}

// OTLP JSON shapes (opentelemetry-proto, JSON mapping: ids in hex, 64-bit integers as strings).
type (
	otlpValue struct {
		String *string  `json:"stringValue,omitempty"`
		Bool   *bool    `json:"boolValue,omitempty"`
		Int    *string  `json:"intValue,omitempty"`
		Double *float64 `json:"doubleValue,omitempty"`
	}
	otlpKV struct {
		Key   string    `json:"key"`
		Value otlpValue `json:"value"`
	}
	otlpStatus struct {
		Code    int    `json:"code,omitempty"`
		Message string `json:"message,omitempty"`
	}
	otlpSpan struct {
		TraceID      string     `json:"traceId"`
		SpanID       string     `json:"spanId"`
		ParentSpanID string     `json:"parentSpanId,omitempty"`
		Name         string     `json:"name"`
		Kind         int        `json:"kind"`
		Start        string     `json:"startTimeUnixNano"`
		End          string     `json:"endTimeUnixNano"`
		Attributes   []otlpKV   `json:"attributes,omitempty"`
		Status       otlpStatus `json:"status"`
	}
	otlpScopeSpans struct {
		Scope struct {
			Name    string `json:"name"`
			Version string `json:"version,omitempty"`
		} `json:"scope"`
		Spans []otlpSpan `json:"spans"`
	}
	otlpResourceSpans struct {
		Resource struct {
			Attributes []otlpKV `json:"attributes"`
		} `json:"resource"`
		ScopeSpans []*otlpScopeSpans `json:"scopeSpans"`
	}
)

func otlpAttrs(kvs []attribute.KeyValue) []otlpKV {
	out := make([]otlpKV, 0, len(kvs))
	for _, kv := range kvs {
		var v otlpValue
		switch kv.Value.Type() {
		case attribute.BOOL:
			b := kv.Value.AsBool()
			v.Bool = &b
		case attribute.INT64:
			s := strconv.FormatInt(kv.Value.AsInt64(), 10)
			v.Int = &s
		case attribute.FLOAT64:
			f := kv.Value.AsFloat64()
			v.Double = &f
		default:
			s := kv.Value.Emit()
			v.String = &s
		}
		out = append(out, otlpKV{Key: string(kv.Key), Value: v})
	}
	return out
}

// ExportSpans posts one batch. A refused or failed post is returned to the batcher, which drops
// the batch: traces are best effort and must never hold requests up.
func (x *jsonExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	var rs otlpResourceSpans
	rs.Resource.Attributes = otlpAttrs(spans[0].Resource().Attributes())
	scopes := map[string]*otlpScopeSpans{}
	for _, s := range spans {
		sc := s.InstrumentationScope()
		ss := scopes[sc.Name+"\x00"+sc.Version]
		if ss == nil {
			ss = &otlpScopeSpans{}
			ss.Scope.Name, ss.Scope.Version = sc.Name, sc.Version
			scopes[sc.Name+"\x00"+sc.Version] = ss
			rs.ScopeSpans = append(rs.ScopeSpans, ss)
		}
		o := otlpSpan{
			TraceID:    s.SpanContext().TraceID().String(),
			SpanID:     s.SpanContext().SpanID().String(),
			Name:       s.Name(),
			Kind:       int(s.SpanKind()),
			Start:      strconv.FormatInt(s.StartTime().UnixNano(), 10),
			End:        strconv.FormatInt(s.EndTime().UnixNano(), 10),
			Attributes: otlpAttrs(s.Attributes()),
		}
		if p := s.Parent(); p.IsValid() {
			o.ParentSpanID = p.SpanID().String()
		}
		switch s.Status().Code { // otel's codes differ from OTLP's (0 unset, 1 ok, 2 error)
		case codes.Ok:
			o.Status.Code = 1
		case codes.Error:
			o.Status.Code, o.Status.Message = 2, s.Status().Description
		}
		ss.Spans = append(ss.Spans, o)
	}
	body, err := json.Marshal(struct {
		ResourceSpans []otlpResourceSpans `json:"resourceSpans"`
	}{[]otlpResourceSpans{rs}})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range x.headers {
		req.Header.Set(k, v)
	}
	res, err := x.client.Do(req)
	if err != nil {
		return fmt.Errorf("otlp: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("otlp: collector answered %d", res.StatusCode)
	}
	return nil
}

// Shutdown has nothing to release: each export is one request.
func (x *jsonExporter) Shutdown(context.Context) error { return nil }
