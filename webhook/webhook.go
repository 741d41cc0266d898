// Package webhook delivers the audit log's events to WEBHOOK_URLS following Standard Webhooks
// (webhook-id, webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256>"), from the durable
// outbox table the events are written to in their own transaction. One replica delivers at a
// time (a PostgreSQL advisory lock); failed attempts are retried with exponential backoff, each
// with the same webhook-id so receivers can drop duplicates.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"authserver/obs"
	"authserver/store"
)

// ParseSecret decodes a Standard Webhooks secret: "whsec_" and the base64 of the key.
func ParseSecret(s string) ([]byte, error) {
	raw, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return nil, errors.New("WEBHOOK_SECRET must start with whsec_ (Standard Webhooks)")
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) < 16 {
		return nil, errors.New("WEBHOOK_SECRET must be whsec_ and the base64 of at least 16 bytes")
	}
	return key, nil
}

// Sign is the webhook-signature header value for a message: "v1," and the base64 HMAC-SHA256,
// under key, of "id.timestamp.body".
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.", id, timestamp)
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Deliverer sends due outbox rows and reports the queue in the metrics. Now defaults to
// time.Now, Client to a client with a 10 s timeout, Batch to 50, MaxBackoff to one hour,
// QueueEvery to 10 s. One goroutine uses a Deliverer at a time (Run's loop, or a test's calls).
type Deliverer struct {
	St         *store.Store
	Key        []byte
	Client     *http.Client
	Now        func() time.Time
	Log        *slog.Logger
	Batch      int
	MaxBackoff time.Duration
	// QueueEvery is how often, at most, a round that attempted nothing counts the outbox for
	// webhook_queue_depth and webhook_oldest_pending_seconds; a round that attempted a delivery
	// always counts it afterwards, so the gauges follow deliveries and failures at once.
	QueueEvery time.Duration

	queueAt time.Time // when RefreshQueue last ran, by Now
}

// Backoff is the wait after the n-th failed attempt (n from 1): 5 s doubling, at most max.
func Backoff(n int, max time.Duration) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Run delivers every interval until ctx ends.
func (d *Deliverer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			d.log().Warn("webhook delivery round failed", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverDue makes one attempt at each due delivery while holding the delivery lock and returns
// how many were delivered; when another replica holds the lock it attempts nothing. Each attempt
// counts in webhook_deliveries_total; afterwards the queue gauges are refreshed (see QueueEvery),
// on every replica, whether it holds the lock or not.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	delivered, attempted := 0, 0
	_, err := d.St.WithWebhookLock(ctx, func() error {
		batch := d.Batch
		if batch <= 0 {
			batch = 50
		}
		rows, err := d.St.DueWebhooks(ctx, d.now(), batch)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			attempted++
			err := d.attempt(ctx, r)
			obs.WebhookAttempt(err == nil)
			if err != nil {
				maxB := d.MaxBackoff
				if maxB <= 0 {
					maxB = time.Hour
				}
				next := d.now().Add(Backoff(r.Attempts+1, maxB))
				d.log().Warn("webhook delivery failed", slog.String("webhook_id", r.ID), slog.String("url", r.URL),
					slog.Int("attempt", r.Attempts+1), slog.String("error", err.Error()))
				if err := d.St.WebhookFailed(ctx, r.ID, next, err.Error()); err != nil {
					return err
				}
				continue
			}
			if err := d.St.WebhookDelivered(ctx, r.ID); err != nil {
				return err
			}
			delivered++
		}
		return nil
	})
	every := d.QueueEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	if attempted > 0 || d.queueAt.IsZero() || d.now().Sub(d.queueAt) >= every {
		if qerr := d.RefreshQueue(ctx); qerr != nil && ctx.Err() == nil {
			err = errors.Join(err, qerr)
		}
	}
	return delivered, err
}

// RefreshQueue counts the outbox and sets webhook_queue_depth and webhook_oldest_pending_seconds
// from it.
func (d *Deliverer) RefreshQueue(ctx context.Context) error {
	q, err := d.St.WebhookQueue(ctx)
	if err != nil {
		return err
	}
	d.queueAt = d.now()
	obs.WebhookQueue(q.Pending, q.Oldest)
	return nil
}

func (d *Deliverer) attempt(ctx context.Context, r store.WebhookDelivery) error {
	body := []byte(r.Payload)
	ts := d.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", r.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(d.Key, r.ID, ts, body))
	client := d.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("receiver answered %d", res.StatusCode)
	}
	return nil
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}
