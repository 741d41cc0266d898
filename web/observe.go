package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"authserver/obs"
)

// unmatchedRoute is the route label of requests answered before routing (the rate limiter's 429)
// or that matched no route: the raw path would make one series per scanned URL.
const unmatchedRoute = "unmatched"

// observe is the outermost middleware: it starts the request's span (continuing a caller's
// trace from its traceparent header), and after the answer records the request metrics by route
// pattern and status, and the sign-in, sign-up and second-factor counters derived from them. It
// runs before the rate limiter so refused requests are counted too.
func observe(basePath string) echo.MiddlewareFunc {
	basePath = strings.TrimRight(basePath, "/")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			r := c.Request()
			ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span := obs.Tracer().Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", r.Method)))
			defer span.End()
			if span.IsRecording() { // with tracing off, spare every request a copy
				c.SetRequest(r.WithContext(ctx))
			}
			if err := next(c); err != nil {
				c.Error(err) // answer now, so the status below is the one the client gets
			}
			status := c.Response().Status
			route := c.Path()
			if route == "" || route == "/*" || route == "*" {
				route = unmatchedRoute
			}
			span.SetName(r.Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, strconv.Itoa(status))
			}
			obs.Request(route, r.Method, status, time.Since(start))
			if r.Method != http.MethodOptions && strings.HasPrefix(route, basePath+"/") {
				countAuth(strings.TrimPrefix(route, basePath), status, c.Response().Header().Get("Location"))
			}
			return nil
		}
	}
}

// authRoutes maps the routes that sign someone in or up, or verify a second factor, to what they
// count as. Other routes under /sign-in/ and /sign-up/ are taken by their last segment; the
// sign-in routes that only start a flow (a redirect to the provider, a link by mail) are "" here:
// their sign-in is counted where the flow ends (the callback, the link).
var authRoutes = map[string]struct{ kind, method string }{
	"/sign-in/social":                {},
	"/sign-in/oauth2":                {},
	"/sign-in/magic-link":            {},
	"/magic-link/verify":             {"sign-in", "magic-link"},
	"/passkey/verify-authentication": {"sign-in", "passkey"},
	"/phone-number/verify":           {"sign-in", "phone-number-otp"},
	"/callback/:id":                  {"sign-in", "social"},
	"/one-time-token/verify":         {"sign-in", "one-time-token"},
	"/two-factor/verify-totp":        {"two-factor", "totp"},
	"/two-factor/verify-otp":         {"two-factor", "otp"},
	"/two-factor/verify-backup-code": {"two-factor", "backup-code"},
}

// countAuth counts a finished request to the auth route (base path removed) with its status and
// Location: success below 400, except a redirect carrying an error (a failed OAuth callback or
// magic link lands on the error URL with ?error=); refused for 429 and 503 (rate limit,
// SERVER_BUSY); failure otherwise.
func countAuth(route string, status int, location string) {
	outcome := "success"
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		outcome = "refused"
	case status >= 400:
		outcome = "failure"
	case status >= 300 && (strings.Contains(location, "?error=") || strings.Contains(location, "&error=")):
		outcome = "failure"
	}
	a, listed := authRoutes[route]
	switch {
	case listed && a.kind == "sign-in":
		obs.SignIn(a.method, outcome)
	case listed && a.kind == "two-factor":
		obs.TwoFactor(a.method, outcome)
	case listed:
	case strings.HasPrefix(route, "/sign-in/"):
		obs.SignIn(strings.TrimPrefix(route, "/sign-in/"), outcome)
	case strings.HasPrefix(route, "/sign-up/"):
		obs.SignUp(strings.TrimPrefix(route, "/sign-up/"), outcome)
	}
}

// MetricsHandler serves the Prometheus text format of every metric.
func MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		obs.WritePrometheus(w)
	})
}

// metricsWithToken serves /metrics on the public port to callers presenting
// "Authorization: Bearer <token>", compared in constant time; anyone else gets 401 and nothing.
func metricsWithToken(token string) echo.HandlerFunc {
	h := MetricsHandler()
	want := []byte("Bearer " + token)
	return func(c echo.Context) error {
		got := []byte(c.Request().Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			return writeJSON(c, http.StatusUnauthorized, map[string]string{"code": "UNAUTHORIZED", "message": "Unauthorized"})
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
