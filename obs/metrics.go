// Package obs is the server's observability: Prometheus metrics (in the text exposition format,
// through github.com/VictoriaMetrics/metrics, chosen for its small binary cost) and OpenTelemetry
// traces. Other packages call the small functions here at the points worth counting; every label
// value they pass comes from a short fixed set (route patterns, method names, outcomes), never a
// raw path, user id or address, so the number of series stays bounded.
package obs

import (
	"database/sql"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// set holds every series of this process; one set, because the process serves one server.
var set = metrics.NewSet()

// latencyBuckets are the request-latency histogram's upper bounds in seconds: sign-ins sit at tens
// of milliseconds of hashing, session checks well under one.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// WritePrometheus writes every metric in the Prometheus text format, with the Go runtime's and
// the process's own (go_*, process_*).
func WritePrometheus(w io.Writer) {
	set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
}

// name builds a series name with labels from key/value pairs; values are quoted by strconv so a
// stray quote cannot break the exposition.
func name(metric string, kv ...string) string {
	b := make([]byte, 0, 64)
	b = append(b, metric...)
	if len(kv) == 0 {
		return metric
	}
	b = append(b, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, kv[i]...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, kv[i+1])
	}
	return string(append(b, '}'))
}

// Request records one finished HTTP request by route pattern (the registered route such as
// /api/auth/sign-in/email, or "unmatched"), method and status code.
func Request(route, method string, status int, d time.Duration) {
	k := requestKey{route, method, status}
	s, ok := requestSeries.Load(k)
	if !ok {
		s, _ = requestSeries.LoadOrStore(k, &requestPair{
			count:   set.GetOrCreateCounter(name("http_requests_total", "route", route, "method", method, "code", strconv.Itoa(status))),
			latency: set.GetOrCreatePrometheusHistogramExt(name("http_request_duration_seconds", "route", route, "method", method), latencyBuckets),
		})
	}
	p := s.(*requestPair)
	p.count.Inc()
	p.latency.Update(d.Seconds())
}

// requestSeries caches each route's series so a request costs a map read, not building names.
var requestSeries sync.Map // requestKey → *requestPair

type requestKey struct {
	route, method string
	status        int
}

type requestPair struct {
	count   *metrics.Counter
	latency *metrics.PrometheusHistogram
}

// SignIn records a sign-in attempt by method (email, username, social, passkey, magic-link, …) and
// outcome (success, failure, refused).
func SignIn(method, outcome string) {
	set.GetOrCreateCounter(name("auth_sign_ins_total", "method", method, "outcome", outcome)).Inc()
}

// SignUp records a sign-up attempt by method and outcome, like SignIn.
func SignUp(method, outcome string) {
	set.GetOrCreateCounter(name("auth_sign_ups_total", "method", method, "outcome", outcome)).Inc()
}

// TwoFactor records a second-factor step: kind is "challenge" (a sign-in stopped for a second
// factor) or the verification method (totp, otp, backup-code); outcome is success or failure.
func TwoFactor(kind, outcome string) {
	set.GetOrCreateCounter(name("auth_two_factor_total", "kind", kind, "outcome", outcome)).Inc()
}

// HashQueueDepth makes f the source of auth_hash_queue_depth, the number of password hashes
// waiting for a worker, read on every scrape. The latest call wins (a process has one hasher;
// tests build many).
func HashQueueDepth(f func() int) { hashQueue.Store(&f) }

var hashQueue atomic.Pointer[func() int]

func init() {
	set.NewGauge("auth_hash_queue_depth", func() float64 {
		if f := hashQueue.Load(); f != nil {
			return float64((*f)())
		}
		return 0
	})
}

// SessionCache records one lookup in the in-process session cache.
func SessionCache(hit bool) {
	if hit {
		sessionCacheHits.Inc()
	} else {
		sessionCacheMisses.Inc()
	}
}

var (
	sessionCacheHits   = set.NewCounter("session_cache_hits_total")
	sessionCacheMisses = set.NewCounter("session_cache_misses_total")
)

// SessionInvalidation records cache entries dropped by scope: "token" (one session), "user" (all of
// a user's) or "all".
func SessionInvalidation(scope string) {
	set.GetOrCreateCounter(name("session_cache_invalidations_total", "scope", scope)).Inc()
}

// RateLimited records a request refused with 429; rule is "request" (the per-client limiter) or
// "sends" (the per-address cap on messages).
func RateLimited(rule string) {
	set.GetOrCreateCounter(name("rate_limit_refusals_total", "rule", rule)).Inc()
}

// Delivery records one message handed to a transport: channel is "email" or "sms", outcome
// "sent" or "failed".
func Delivery(channel string, err error) {
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	set.GetOrCreateCounter(name("deliveries_total", "channel", channel, "outcome", outcome)).Inc()
}

// dbErrors counts database errors other than "not found" seen by the store.
var dbErrors = set.NewCounter("db_errors_total")

// DBError records one failed database operation.
func DBError() { dbErrors.Inc() }

// DBStats makes stats the source of the db_pool_* gauges, read on every scrape. The latest call
// wins, like HashQueueDepth.
func DBStats(stats func() sql.DBStats) { dbStats.Store(&stats) }

var dbStats atomic.Pointer[func() sql.DBStats]

func init() {
	g := func(n string, f func(s sql.DBStats) float64) {
		set.NewGauge(n, func() float64 {
			if p := dbStats.Load(); p != nil {
				return f((*p)())
			}
			return 0
		})
	}
	g("db_pool_open_connections", func(s sql.DBStats) float64 { return float64(s.OpenConnections) })
	g("db_pool_in_use_connections", func(s sql.DBStats) float64 { return float64(s.InUse) })
	g("db_pool_idle_connections", func(s sql.DBStats) float64 { return float64(s.Idle) })
	g("db_pool_max_open_connections", func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) })
	g("db_pool_wait_count", func(s sql.DBStats) float64 { return float64(s.WaitCount) })
	g("db_pool_wait_seconds", func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() })
}

// WebhookAttempt records one attempt to deliver a webhook: delivered (a 2xx answer) or failed
// (any other answer, or none).
func WebhookAttempt(delivered bool) {
	if delivered {
		webhookDelivered.Inc()
	} else {
		webhookFailed.Inc()
	}
}

var (
	webhookDelivered = set.NewCounter(name("webhook_deliveries_total", "outcome", "delivered"))
	webhookFailed    = set.NewCounter(name("webhook_deliveries_total", "outcome", "failed"))
)

// WebhookQueue sets what webhook_queue_depth and webhook_oldest_pending_seconds report: pending
// outbox rows, and when the oldest of them was created (ignored when pending is 0). The age is
// taken at each scrape, so it keeps growing between calls while a receiver stays down. The
// latest call wins, like HashQueueDepth.
func WebhookQueue(pending int64, oldest time.Time) {
	webhookQueue.Store(&webhookQueueState{pending: pending, oldest: oldest})
}

type webhookQueueState struct {
	pending int64
	oldest  time.Time
}

var webhookQueue atomic.Pointer[webhookQueueState]

func init() {
	set.NewGauge("webhook_queue_depth", func() float64 {
		if q := webhookQueue.Load(); q != nil {
			return float64(q.pending)
		}
		return 0
	})
	set.NewGauge("webhook_oldest_pending_seconds", func() float64 {
		if q := webhookQueue.Load(); q != nil && q.pending > 0 {
			return max(time.Since(q.oldest).Seconds(), 0)
		}
		return 0
	})
}

// Sweep records one sweeper round: outcome is "done", "skipped" (another replica held the lock)
// or "failed", and deleted the rows it deleted per table ("sessions", "verifications",
// "rate_limits", "audit_log"); a failed sweep reports what it deleted before it stopped.
func Sweep(outcome string, deleted map[string]int64) {
	set.GetOrCreateCounter(name("sweep_runs_total", "outcome", outcome)).Inc()
	for table, n := range deleted {
		sweepDeleted(table).Add(int(n))
	}
}

// sweepDeleted is the sweep_deleted_total series of a table.
func sweepDeleted(table string) *metrics.Counter {
	return set.GetOrCreateCounter(name("sweep_deleted_total", "table", table))
}

func init() {
	// Every series exists from the start, at 0, so a rate() over the first sweep is not lost and
	// an alert on a missing series does not fire on a fresh instance.
	for _, o := range []string{"done", "skipped", "failed"} {
		set.GetOrCreateCounter(name("sweep_runs_total", "outcome", o))
	}
	for _, t := range []string{"sessions", "verifications", "rate_limits", "audit_log"} {
		sweepDeleted(t)
	}
}
