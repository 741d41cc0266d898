package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
	"authserver/webhook"
)

// METRICS_ADDR serves /metrics, and nothing else, on a listener of its own.
func TestServeMetricsOnItsOwnListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	errs := make(chan error, 1)
	srv, err := serveMetrics(addr, slog.New(slog.DiscardHandler), errs)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "auth_hash_queue_depth") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics = %d %.200s", code, body)
	}
	if code, _ := get("/api/auth/ok"); code != 404 {
		t.Errorf("the metrics listener answered another path with %d", code)
	}
}

// metricsScraper serves /metrics as METRICS_ADDR does, until the test ends, and returns a
// function that scrapes it into series → value ("name{labels}" as exposed).
func metricsScraper(t *testing.T) func() map[string]float64 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv, err := serveMetrics(addr, slog.New(slog.DiscardHandler), make(chan error, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return func() map[string]float64 {
		t.Helper()
		res, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out := map[string]float64{}
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			i := strings.LastIndexByte(line, ' ')
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			out[line[:i]] = v
		}
		return out
	}
}

// A webhook to a receiver that is down shows in the metrics as a failed attempt, a queue of one
// and the age of its event; once the receiver answers, as a delivery and an empty queue.
func TestWebhookMetrics(t *testing.T) {
	scrape := metricsScraper(t)
	storetest.RunSerial(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var up atomic.Bool
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !up.Load() {
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		defer rcv.Close()
		created := time.Now().Add(-90 * time.Second)
		if err := st.EnqueueWebhook(ctx, &store.WebhookDelivery{ID: "msg_metrics", CreatedAt: store.NewTime(created), URL: rcv.URL,
			Payload: `{"type":"auth.sign-in","data":{}}`, NextAttemptAt: store.NewTime(created)}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		d := &webhook.Deliverer{St: st, Key: []byte("0123456789abcdef"), Now: func() time.Time { return now }}
		const delivered, failed = `webhook_deliveries_total{outcome="delivered"}`, `webhook_deliveries_total{outcome="failed"}`

		before := scrape()
		if n, err := d.DeliverDue(ctx); n != 0 || err != nil {
			t.Fatalf("DeliverDue to a receiver that is down = %d, %v", n, err)
		}
		m := scrape()
		if got := m[failed] - before[failed]; got != 1 {
			t.Errorf("%s grew by %v, want 1", failed, got)
		}
		if got := m[delivered] - before[delivered]; got != 0 {
			t.Errorf("%s grew by %v while the receiver was down", delivered, got)
		}
		if m["webhook_queue_depth"] != 1 {
			t.Errorf("webhook_queue_depth = %v, want 1", m["webhook_queue_depth"])
		}
		if age := m["webhook_oldest_pending_seconds"]; age < 90 || age > 90+60 {
			t.Errorf("webhook_oldest_pending_seconds = %v, want the 90 s the event has waited", age)
		}

		up.Store(true)
		now = now.Add(6 * time.Second) // past the first backoff (5 s)
		if n, err := d.DeliverDue(ctx); n != 1 || err != nil {
			t.Fatalf("DeliverDue after the receiver came back = %d, %v", n, err)
		}
		after := scrape()
		if got := after[delivered] - m[delivered]; got != 1 {
			t.Errorf("%s grew by %v, want 1", delivered, got)
		}
		if got := after[failed] - m[failed]; got != 0 {
			t.Errorf("%s grew by %v after the receiver came back", failed, got)
		}
		if after["webhook_queue_depth"] != 0 || after["webhook_oldest_pending_seconds"] != 0 {
			t.Errorf("queue after delivery: depth %v, oldest %v s; want 0 and 0",
				after["webhook_queue_depth"], after["webhook_oldest_pending_seconds"])
		}
	})
}

// Each sweep counts in sweep_runs_total by outcome and its deleted rows in sweep_deleted_total by
// table; on PostgreSQL a sweep while another holds the lock counts as skipped.
func TestSweepMetrics(t *testing.T) {
	scrape := metricsScraper(t)
	storetest.RunSerial(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
		tn := store.NewTime(now)
		if err := st.CreateUser(ctx, &store.User{ID: "u1", Name: "U", Email: "u1@example.com", CreatedAt: tn, UpdatedAt: tn}); err != nil {
			t.Fatal(err)
		}
		ip := ""
		for i, exp := range []time.Duration{-time.Hour, -2 * time.Hour, -3 * time.Hour, time.Hour} {
			s := &store.Session{ID: fmt.Sprint("s", i), Token: fmt.Sprint("tok", i), UserID: "u1", CreatedAt: tn, UpdatedAt: tn,
				ExpiresAt: store.NewTime(now.Add(exp)), IPAddress: &ip, UserAgent: &ip}
			if err := st.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		const sessions, done, skipped = `sweep_deleted_total{table="sessions"}`, `sweep_runs_total{outcome="done"}`, `sweep_runs_total{outcome="skipped"}`
		before := scrape()
		if _, ok := before[skipped]; !ok {
			t.Fatalf("no %s series before any sweep", skipped)
		}
		var during error
		opts := store.SweepOptions{SessionMargin: time.Minute, Batch: 2}
		if st.Dialect() == store.Postgres {
			// Another sweeper (here on another connection of the same pool) while this one holds the lock.
			other := &store.Sweeper{St: st, Now: func() time.Time { return now }}
			opts.Locked = func() { _, during = other.Once(ctx) }
		}
		w := &store.Sweeper{St: st, Now: func() time.Time { return now }, Options: opts}
		if n, err := w.Once(ctx); err != nil || n.Sessions != 3 {
			t.Fatalf("sweep = %+v, %v; want 3 sessions", n, err)
		}
		m := scrape()
		if got := m[sessions] - before[sessions]; got != 3 {
			t.Errorf("%s grew by %v, want the 3 expired sessions", sessions, got)
		}
		if got := m[done] - before[done]; got != 1 {
			t.Errorf("%s grew by %v, want 1", done, got)
		}
		wantSkipped := 0.0
		if st.Dialect() == store.Postgres {
			wantSkipped = 1
			if during != store.ErrSweepBusy {
				t.Errorf("the second sweeper: %v, want ErrSweepBusy", during)
			}
		}
		if got := m[skipped] - before[skipped]; got != wantSkipped {
			t.Errorf("%s grew by %v, want %v", skipped, got, wantSkipped)
		}
	})
}
