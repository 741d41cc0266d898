// Package sms delivers the server's text messages (phone-number sign-in and reset codes).
//
// Three ways: Twilio's Messages API, a signed JSON webhook the operator's own gateway receives,
// and, in development without either, one .sms file per message in the outbox folder beside the
// .eml mail files. A message body holds a live code, so nothing here logs or returns it: errors
// name the provider and the HTTP status, never the text.
package sms

import (
	"authserver/obs"

	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"authserver/env"
)

// Sender delivers one text message. Send returns only once the provider accepted the message
// (or the file is written); an error means it was not sent. Implementations are safe for
// concurrent use and their errors never contain the body.
type Sender interface {
	Send(ctx context.Context, to, body string) error
}

// counted counts every message its Sender is given in deliveries_total{channel="sms"}.
type counted struct{ Sender }

// Send sends body to to and counts whether it went.
func (c counted) Send(ctx context.Context, to, body string) error {
	err := c.Sender.Send(ctx, to, body)
	obs.Delivery("sms", err)
	return err
}

// DefaultTwilioBaseURL is Twilio's API origin.
const DefaultTwilioBaseURL = "https://api.twilio.com"

// defaultTimeout bounds one send, so a hanging provider answers the request in time.
const defaultTimeout = 10 * time.Second

// Config selects and configures delivery. At most one provider may be configured.
type Config struct {
	// Twilio: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and one of TWILIO_FROM (a number) or
	// TWILIO_MESSAGING_SERVICE_SID. TwilioBaseURL (TWILIO_BASE_URL) replaces Twilio's origin, for
	// tests and regional endpoints.
	TwilioAccountSID, TwilioAuthToken, TwilioFrom, TwilioMessagingServiceSID, TwilioBaseURL string
	// WebhookURL (SMS_WEBHOOK_URL) receives {"to","body"}, signed with WebhookSecret
	// (SMS_WEBHOOK_SECRET, required with the URL).
	WebhookURL, WebhookSecret string
	// Timeout bounds one send (SMS_SEND_TIMEOUT, default 10 s).
	Timeout time.Duration
	// OutboxDir is where .sms files go when no provider is configured; empty refuses to build
	// such a sender. The caller sets it (DATA_DIR/outbox).
	OutboxDir string
	// Logger receives delivery logs (never the text); nil is slog.Default().
	Logger *slog.Logger
	// Client is the HTTP client; nil is a plain one with Timeout.
	Client *http.Client
}

// LoadConfig reads the provider variables named in Config. OutboxDir, Logger and Client are the
// caller's.
func LoadConfig(getenv func(string) string) (Config, error) {
	r := env.New(getenv)
	c := Config{
		TwilioAccountSID:          r.String("TWILIO_ACCOUNT_SID", ""),
		TwilioAuthToken:           r.Raw("TWILIO_AUTH_TOKEN"),
		TwilioFrom:                r.String("TWILIO_FROM", ""),
		TwilioMessagingServiceSID: r.String("TWILIO_MESSAGING_SERVICE_SID", ""),
		TwilioBaseURL:             strings.TrimRight(r.String("TWILIO_BASE_URL", DefaultTwilioBaseURL), "/"),
		WebhookURL:                r.String("SMS_WEBHOOK_URL", ""),
		WebhookSecret:             r.Raw("SMS_WEBHOOK_SECRET"),
		Timeout:                   r.Duration("SMS_SEND_TIMEOUT", defaultTimeout),
	}
	twilio := c.TwilioAccountSID != "" || c.TwilioAuthToken != "" || c.TwilioFrom != "" || c.TwilioMessagingServiceSID != ""
	switch {
	case twilio && c.WebhookURL != "":
		r.Fail(errors.New("SMS: set either the TWILIO_* variables or SMS_WEBHOOK_URL, not both"))
	case twilio && (c.TwilioAccountSID == "" || c.TwilioAuthToken == ""):
		r.Fail(errors.New("SMS: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are both required for Twilio"))
	case twilio && (c.TwilioFrom == "") == (c.TwilioMessagingServiceSID == ""):
		r.Fail(errors.New("SMS: Twilio needs exactly one of TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID"))
	case c.WebhookURL != "" && c.WebhookSecret == "":
		r.Fail(errors.New("SMS: SMS_WEBHOOK_SECRET is required with SMS_WEBHOOK_URL, so the receiver can check who sent the request"))
	}
	if c.WebhookURL != "" {
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.Fail(fmt.Errorf("SMS_WEBHOOK_URL must be an http(s) URL, not %q", c.WebhookURL))
		}
	}
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	return c, r.Err()
}

// HasProvider reports whether a real provider (Twilio or the webhook) is configured, which
// production requires: the outbox delivers to nobody.
func (c Config) HasProvider() bool { return c.TwilioAccountSID != "" || c.WebhookURL != "" }

// New returns the configured sender: Twilio, the webhook, or else the outbox.
func New(c Config) (Sender, error) {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: c.Timeout}
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	switch {
	case c.TwilioAccountSID != "":
		base := c.TwilioBaseURL
		if base == "" {
			base = DefaultTwilioBaseURL
		}
		return counted{&twilio{c: c, base: strings.TrimRight(base, "/"), http: client, timeout: timeout}}, nil
	case c.WebhookURL != "":
		return counted{&webhook{url: c.WebhookURL, secret: []byte(c.WebhookSecret), http: client, timeout: timeout, now: time.Now}}, nil
	case c.OutboxDir != "":
		return counted{&outbox{dir: c.OutboxDir, log: log}}, nil
	}
	return nil, errors.New("sms: no provider and no outbox directory configured")
}

// post sends a request built by build and turns any non-2xx answer into an error that names the
// provider and status (and the provider's own error code when it gives one) but not the text.
func post(ctx context.Context, client *http.Client, timeout time.Duration, provider string, req *http.Request) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := client.Do(req.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is known to the operator; the error beneath says what happened
		}
		return fmt.Errorf("sms: %s: %w", provider, err)
	}
	defer res.Body.Close()
	detail, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	// Twilio's error bodies carry a numeric code that says why (21211: invalid To number); the
	// message may quote the number, so only the code is kept.
	var e struct {
		Code int `json:"code"`
	}
	if json.Unmarshal(detail, &e) == nil && e.Code != 0 {
		return fmt.Errorf("sms: %s answered %d (error code %d)", provider, res.StatusCode, e.Code)
	}
	return fmt.Errorf("sms: %s answered %d", provider, res.StatusCode)
}

// twilio sends through Twilio's Messages API: a form POST with basic authentication.
type twilio struct {
	c       Config
	base    string
	http    *http.Client
	timeout time.Duration
}

func (t *twilio) Send(ctx context.Context, to, body string) error {
	form := url.Values{"To": {to}, "Body": {body}}
	if t.c.TwilioMessagingServiceSID != "" {
		form.Set("MessagingServiceSid", t.c.TwilioMessagingServiceSID)
	} else {
		form.Set("From", t.c.TwilioFrom)
	}
	u := t.base + "/2010-04-01/Accounts/" + url.PathEscape(t.c.TwilioAccountSID) + "/Messages.json"
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("sms: twilio: %w", err)
	}
	req.SetBasicAuth(t.c.TwilioAccountSID, t.c.TwilioAuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return post(ctx, t.http, t.timeout, "twilio", req)
}

// The webhook's signature headers.
const (
	// TimestampHeader holds the send time in Unix seconds.
	TimestampHeader = "X-Timestamp"
	// SignatureHeader holds "sha256=" and the hex HMAC-SHA256, keyed with the secret, of the
	// timestamp, a ".", and the raw body.
	SignatureHeader = "X-Signature"
)

// Sign returns the SignatureHeader value for a timestamp and body, as a receiver recomputes it.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhook POSTs {"to","body"} as JSON, signed so the receiver knows it came from this server and
// is recent.
type webhook struct {
	url     string
	secret  []byte
	http    *http.Client
	timeout time.Duration
	now     func() time.Time
}

func (w *webhook) Send(ctx context.Context, to, body string) error {
	payload, err := json.Marshal(struct {
		To   string `json:"to"`
		Body string `json:"body"`
	}{to, body})
	if err != nil {
		return fmt.Errorf("sms: webhook: %w", err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, w.url, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("sms: webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, Sign(w.secret, ts, payload))
	return post(ctx, w.http, w.timeout, "webhook", req)
}

// outbox writes each message as <UTC time>-<n>.sms, mode 0600 in a 0700 folder (the files hold
// live codes): a "To:" line, a blank line, and the text.
type outbox struct {
	dir string
	log *slog.Logger
	n   atomic.Uint64
}

func (o *outbox) Send(ctx context.Context, to, body string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sms: outbox: %w", err)
	}
	// Created on each send: a developer may clear the folder while the server runs.
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return fmt.Errorf("sms: create outbox: %w", err)
	}
	name := fmt.Sprintf("%s-%d.sms", time.Now().UTC().Format("20060102T150405.000000Z"), o.n.Add(1))
	path := filepath.Join(o.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sms: create outbox file: %w", err)
	}
	_, werr := fmt.Fprintf(f, "To: %s\n\n%s\n", to, body)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return fmt.Errorf("sms: write outbox file: %w", werr)
	}
	o.log.InfoContext(ctx, "text message written to outbox", slog.String("file", path))
	return nil
}
