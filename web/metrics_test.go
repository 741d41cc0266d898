package web_test

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"authserver/store"
	"authserver/store/storetest"
	"authserver/web"
)

const metricsToken = "metrics-token-for-tests-0123456789"

// scrape fetches /metrics with the token and parses the Prometheus text format into series
// (name with its labels, as written) → value.
func scrape(t *testing.T, c *client) map[string]float64 {
	t.Helper()
	r := c.do("GET", "/metrics", nil, "Authorization", "Bearer "+metricsToken)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics with the token = %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	return parseMetrics(t, r.Raw)
}

func parseMetrics(t *testing.T, raw []byte) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad exposition line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad value in %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// /metrics is not served on the public port unless METRICS_TOKEN is set, and then only to callers
// bearing it.
func TestMetricsRefusedWithoutToken(t *testing.T) {
	st := storetest.OpenSQLite(t)
	off := newEnv(t, st)
	if r := off.client().do("GET", "/metrics", nil); bytes.Contains(r.Raw, []byte("http_requests_total")) {
		t.Fatalf("metrics served on the public port without METRICS_TOKEN: %d", r.Status)
	}
	on := newEnv(t, st, func(o *envOptions) { o.web.MetricsToken = metricsToken })
	c := on.client()
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + metricsToken + "x", metricsToken} {
		r := c.do("GET", "/metrics", nil, "Authorization", auth)
		if r.Status != http.StatusUnauthorized || bytes.Contains(r.Raw, []byte("http_requests_total")) {
			t.Errorf("Authorization %q: %d %s, want 401 without metrics", auth, r.Status, r.Raw)
		}
	}
	if m := scrape(t, c); len(m) == 0 {
		t.Fatal("no metrics with the token")
	}
}

// A sign-up, a sign-in, failed sign-ins and a rate-limited one show in the counters, labelled by
// route pattern, method and outcome.
func TestMetricsCountSignIns(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, rateLimited(web.NewMemoryRateLimitStore()), func(o *envOptions) { o.web.MetricsToken = metricsToken })
		c := e.client()
		before := scrape(t, c)
		signUp(t, c, "metrics@example.com", "correct horse battery")
		ip := "X-Forwarded-For"
		body := func(pw string) map[string]any { return map[string]any{"email": "metrics@example.com", "password": pw} }
		expect(t, c.do("POST", "/api/auth/sign-in/email", body("correct horse battery"), ip, "203.0.113.7"), 200, "")
		expect(t, c.do("POST", "/api/auth/sign-in/email", body("wrong password here"), ip, "203.0.113.7"), 401, "INVALID_EMAIL_OR_PASSWORD")
		expect(t, c.do("POST", "/api/auth/sign-in/email", body("wrong password here"), ip, "203.0.113.7"), 401, "INVALID_EMAIL_OR_PASSWORD")
		expect(t, c.do("POST", "/api/auth/sign-in/email", body("wrong password here"), ip, "203.0.113.7"), 429, "")
		after := scrape(t, c)

		want := map[string]float64{
			`auth_sign_ups_total{method="email",outcome="success"}`:                                         1,
			`auth_sign_ins_total{method="email",outcome="success"}`:                                         1,
			`auth_sign_ins_total{method="email",outcome="failure"}`:                                         2,
			`rate_limit_refusals_total{rule="client"}`:                                                      1,
			`http_requests_total{route="/api/auth/sign-in/email",method="POST",code="200"}`:                 1,
			`http_requests_total{route="/api/auth/sign-in/email",method="POST",code="401"}`:                 2,
			`http_requests_total{route="unmatched",method="POST",code="429"}`:                               1,
			`http_request_duration_seconds_count{route="/api/auth/sign-in/email",method="POST"}`:            3,
			`http_request_duration_seconds_bucket{route="/api/auth/sign-in/email",method="POST",le="+Inf"}`: 3,
		}
		for series, d := range want {
			if got := after[series] - before[series]; got != d {
				t.Errorf("%s grew by %v, want %v", series, got, d)
			}
		}
		if got := after[`auth_hash_requests_total{outcome="admitted"}`] - before[`auth_hash_requests_total{outcome="admitted"}`]; got < 3 {
			t.Errorf("admitted hashes grew by %v, want at least 3 (sign-up and three checked passwords)", got)
		}
		for _, g := range []string{"auth_hash_queue_depth", "db_pool_open_connections", "db_pool_max_open_connections", `auth_hash_wait_seconds_count`} {
			if _, ok := after[g]; !ok {
				t.Errorf("%s missing", g)
			}
		}
		if after["db_pool_max_open_connections"] < 1 {
			t.Errorf("db_pool_max_open_connections = %v", after["db_pool_max_open_connections"])
		}
		for series := range after {
			if strings.Contains(series, "metrics@example.com") || strings.Contains(series, "203.0.113.7") {
				t.Errorf("series %s carries a user's address", series)
			}
		}
	})
}

// With a tracer provider installed, a request gives a server span named by its route, with the
// database statements and the password hash's wait as its children.
func TestTracingSpanTree(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(t.Context()) })

	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	exp.Reset()
	signUp(t, c, "traced@example.com", "correct horse battery")

	spans := exp.GetSpans()
	var root *tracetest.SpanStub
	for i := range spans {
		if spans[i].Name == "POST /api/auth/sign-up/email" {
			root = &spans[i]
		}
	}
	if root == nil {
		t.Fatalf("no server span for the sign-up among %d spans", len(spans))
	}
	if root.SpanKind != trace.SpanKindServer || root.Parent.IsValid() {
		t.Errorf("root span kind %v parent %v", root.SpanKind, root.Parent)
	}
	children := map[string]int{}
	for _, s := range spans {
		if s.Parent.SpanID() == root.SpanContext.SpanID() && s.SpanContext.TraceID() == root.SpanContext.TraceID() {
			children[s.Name]++
		}
	}
	if children["hash.wait"] != 1 {
		t.Errorf("hash.wait children = %d, want 1; children %v", children["hash.wait"], children)
	}
	db := 0
	for name, n := range children {
		if strings.HasPrefix(name, "db.") {
			db += n
		}
	}
	// The sign-up looks the address up, then writes the user and the account.
	if children["db.create"] == 0 || db < 2 {
		t.Errorf("request span's database children: %v, want the writes and the lookup", children)
	}
	for _, s := range spans {
		for _, a := range s.Attributes {
			if v := a.Value.Emit(); strings.Contains(v, "traced@example.com") || strings.Contains(v, "correct horse") {
				t.Errorf("span %s attribute %s carries %q", s.Name, a.Key, v)
			}
		}
	}
}

// A sign-in stopped for a second factor counts as a challenge, and the codes sent to finish it as
// failed and successful verifications; a bad magic link counts as a failed sign-in.
func TestMetricsCountTwoFactorAndLinks(t *testing.T) {
	st := storetest.OpenSQLite(t)
	scraper := newEnv(t, storetest.OpenSQLite(t), func(o *envOptions) { o.web.MetricsToken = metricsToken }).client()
	e, _ := twoFactorEnv(t, st, defaultTwoFactor())
	_, _, secret, _ := enableTOTP(t, e)
	before := scrape(t, scraper)
	c := e.client()
	e.challenge(c, false)
	expect(t, c.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.wrongCode(secret)}), 401, "INVALID_CODE")
	expect(t, c.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(secret)}), 200, "")

	ml, _ := magicLinkEnv(t, storetest.OpenSQLite(t), nil)
	location(t, ml.client().do("GET", "/api/auth/magic-link/verify?token=nope", nil), testBaseURL+"/?error=INVALID_TOKEN")
	after := scrape(t, scraper)
	for series, d := range map[string]float64{
		`auth_two_factor_total{kind="challenge",outcome="issued"}`:   1,
		`auth_two_factor_total{kind="totp",outcome="failure"}`:       1,
		`auth_two_factor_total{kind="totp",outcome="success"}`:       1,
		`auth_sign_ins_total{method="email",outcome="success"}`:      1,
		`auth_sign_ins_total{method="magic-link",outcome="failure"}`: 1,
	} {
		if got := after[series] - before[series]; got != d {
			t.Errorf("%s grew by %v, want %v", series, got, d)
		}
	}
}

// Session reads show as cache misses then hits, and a sign-out as an invalidation.
func TestMetricsSessionCache(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t), func(o *envOptions) { o.web.MetricsToken = metricsToken })
	c := e.client()
	signUp(t, c, "cache@example.com", "correct horse battery")
	before := scrape(t, c)
	for range 4 {
		expect(t, c.do("GET", "/api/auth/get-session", nil), 200, "")
	}
	mid := scrape(t, c)
	expect(t, c.do("POST", "/api/auth/sign-out", map[string]any{}), 200, "")
	after := scrape(t, c)
	hits := mid["session_cache_hits_total"] - before["session_cache_hits_total"]
	misses := mid["session_cache_misses_total"] - before["session_cache_misses_total"]
	if hits < 1 || misses < 1 || hits+misses != 4 {
		t.Errorf("4 session reads: %v hits, %v misses", hits, misses)
	}
	if d := after[`session_cache_invalidations_total{scope="token"}`] - mid[`session_cache_invalidations_total{scope="token"}`]; d < 1 {
		t.Errorf("sign-out invalidated %v cached sessions", d)
	}
}
