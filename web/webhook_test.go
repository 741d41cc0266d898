package web_test

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
	"authserver/webhook"
)

// receiver is a webhook endpoint that checks every Standard Webhooks signature and can be down.
type receiver struct {
	t        *testing.T
	key      []byte
	up       atomic.Bool
	mu       sync.Mutex
	attempts []string          // webhook-id of every attempt, in order
	got      map[string]string // webhook-id -> event type, for the accepted ones
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		rc.t.Errorf("webhook-timestamp %q", ts)
	}
	want := webhook.Sign(rc.key, id, sec, body)
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("webhook-signature"))) {
		rc.t.Errorf("bad signature %q for %s", r.Header.Get("webhook-signature"), id)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.attempts = append(rc.attempts, id)
	if !rc.up.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var msg struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		rc.t.Errorf("body %s: %v", body, err)
	}
	rc.got[id] = msg.Type
	w.WriteHeader(http.StatusNoContent)
}

// Events reach a receiver that is down at first: nothing is lost, each retry (after the backoff)
// carries the same webhook-id, and delivered rows leave the queue.
func TestWebhooksDeliveredAfterOutage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		key := []byte("0123456789abcdef0123456789abcdef")
		if k, err := webhook.ParseSecret("whsec_" + base64.StdEncoding.EncodeToString(key)); err != nil || string(k) != string(key) {
			t.Fatalf("ParseSecret: %v", err)
		}
		rc := &receiver{t: t, key: key, got: map[string]string{}}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		e := newEnv(t, st, func(o *envOptions) { o.auth.WebhookURLs = []string{srv.URL + "/hook"} })
		d := &webhook.Deliverer{St: st, Key: key, Now: e.clock.Now}
		ctx := context.Background()

		signUp(t, e.client(), "hook@example.com", "hook-Secret-pw-1")
		if n, err := d.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("delivered %d to a receiver that is down: %v", n, err)
		}
		rc.mu.Lock()
		first := append([]string(nil), rc.attempts...)
		rc.mu.Unlock()
		if len(first) != 2 {
			t.Fatalf("first attempts %v, want sign-up and sign-in", first)
		}
		if n, _ := d.DeliverDue(ctx); n != 0 || rc.count() != 2 {
			t.Fatalf("retried before the backoff: %v", rc.attempts)
		}
		e.clock.Advance(4 * time.Second)
		d.DeliverDue(ctx)
		if rc.count() != 2 {
			t.Fatalf("retried before the backoff (5 s): %v", rc.attempts)
		}
		e.clock.Advance(2 * time.Second)
		d.DeliverDue(ctx) // second failure: the next wait is 10 s
		if rc.count() != 4 {
			t.Fatalf("attempts %v, want 4", rc.attempts)
		}
		rc.up.Store(true)
		e.clock.Advance(9 * time.Second)
		if n, _ := d.DeliverDue(ctx); n != 0 {
			t.Fatal("retried before the doubled backoff")
		}
		e.clock.Advance(2 * time.Second)
		if n, err := d.DeliverDue(ctx); err != nil || n != 2 {
			t.Fatalf("delivered %d after the outage: %v", n, err)
		}
		types := map[string]bool{}
		for _, id := range first {
			rc.mu.Lock()
			got := rc.got[id]
			rc.mu.Unlock()
			if got == "" {
				t.Fatalf("%s redelivered under another id: %v", id, rc.got)
			}
			types[got] = true
		}
		if !types["auth.sign-up"] || !types["auth.sign-in"] {
			t.Fatalf("types %v", types)
		}
		e.clock.Advance(time.Hour)
		if n, _ := d.DeliverDue(ctx); n != 0 || rc.count() != 6 {
			t.Fatalf("delivered rows sent again: %v", rc.attempts)
		}
	})
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.attempts)
}
