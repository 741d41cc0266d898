package sms

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestTwilio checks the request as Twilio would: the account path, basic auth with the account
// SID and token, and the form fields.
func TestTwilio(t *testing.T) {
	for _, tc := range []struct {
		name, from, service string
	}{{"from number", "+15550000000", ""}, {"messaging service", "", "MG123"}} {
		t.Run(tc.name, func(t *testing.T) {
			var got http.Header
			var form map[string][]string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				user, pass, ok := r.BasicAuth()
				if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/AC1/Messages.json" || !ok || user != "AC1" || pass != "tok" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				if err := r.ParseForm(); err != nil {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				got, form = r.Header, r.PostForm
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, `{"sid":"SM1","status":"queued"}`)
			}))
			defer srv.Close()
			c, err := LoadConfig(getenv(map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "tok",
				"TWILIO_FROM": tc.from, "TWILIO_MESSAGING_SERVICE_SID": tc.service, "TWILIO_BASE_URL": srv.URL}))
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), "+15551234567", "Your code is 123456"); err != nil {
				t.Fatal(err)
			}
			if ct := got.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("content type %q", ct)
			}
			want := map[string]string{"To": "+15551234567", "Body": "Your code is 123456", "From": tc.from, "MessagingServiceSid": tc.service}
			for k, v := range want {
				if g := strings.Join(form[k], ","); g != v {
					t.Errorf("%s = %q, want %q", k, g, v)
				}
			}
		})
	}
}

// TestWebhookSignature recomputes the signature as the README tells a receiver to.
func TestWebhookSignature(t *testing.T) {
	secret := "s3cret"
	var payload struct{ To, Body string }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Timestamp")
		want := Sign([]byte(secret), ts, raw)
		if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Signature"))) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if err := json.Unmarshal(raw, &payload); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := LoadConfig(getenv(map[string]string{"SMS_WEBHOOK_URL": srv.URL, "SMS_WEBHOOK_SECRET": secret}))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := New(c)
	if err := s.Send(context.Background(), "+15551234567", "code 42"); err != nil {
		t.Fatal(err)
	}
	if payload.To != "+15551234567" || payload.Body != "code 42" {
		t.Fatalf("payload %+v", payload)
	}
	// A sender with another secret is refused by the same receiver.
	c.WebhookSecret = "other"
	s, _ = New(c)
	if err := s.Send(context.Background(), "+1", "x"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong secret: %v", err)
	}
	// The hex digest is of "<timestamp>.<body>", pinned to openssl's answer for the README's recipe.
	if got := Sign([]byte("k"), "1700000000", []byte(`{"to":"+1","body":"b"}`)); got != "sha256=62202b54ffdbd83ad866ca42544e631ec902b88612b6d1e9ffae5d7f92126f48" {
		t.Fatalf("signature %q", got)
	}
}

// TestProviderFailures: 4xx, 5xx and a timeout are errors that name the status but never the text.
func TestProviderFailures(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Test") {
		case "400":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"code":21211,"message":"The 'To' number +15551234567 is not valid.","status":400}`)
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			<-release
		}
	}))
	defer srv.Close()
	defer close(release)
	for _, tc := range []struct{ mode, want string }{{"400", "answered 400 (error code 21211)"}, {"503", "answered 503"}, {"hang", "deadline exceeded"}} {
		t.Run(tc.mode, func(t *testing.T) {
			client := &http.Client{Transport: headerRT{mode: tc.mode}}
			s, _ := New(Config{TwilioAccountSID: "AC1", TwilioAuthToken: "t", TwilioFrom: "+1", TwilioBaseURL: srv.URL,
				Client: client, Timeout: 200 * time.Millisecond})
			err := s.Send(context.Background(), "+15551234567", "Your code is 987654")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "987654") || strings.Contains(err.Error(), "5551234567") {
				t.Fatalf("error leaks the message or number: %v", err)
			}
		})
	}
}

type headerRT struct{ mode string }

func (h headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Test", h.mode)
	return http.DefaultTransport.RoundTrip(r)
}

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	s, err := New(Config{OutboxDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"first 111111", "second 222222"} {
		if err := s.Send(context.Background(), "+15551234567", text); err != nil {
			t.Fatal(err)
		}
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.sms"))
	if len(names) != 2 {
		t.Fatalf("files %v", names)
	}
	b, _ := os.ReadFile(names[1])
	if string(b) != "To: +15551234567\n\nsecond 222222\n" {
		t.Fatalf("file %q", b)
	}
	st, _ := os.Stat(names[0])
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
}

func TestLoadConfigRefusals(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_FROM": "+1"}, "TWILIO_AUTH_TOKEN"},
		{map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, "exactly one"},
		{map[string]string{"SMS_WEBHOOK_URL": "https://x.example/sms"}, "SMS_WEBHOOK_SECRET"},
		{map[string]string{"SMS_WEBHOOK_URL": "ftp://x", "SMS_WEBHOOK_SECRET": "s"}, "http(s) URL"},
		{map[string]string{"SMS_WEBHOOK_URL": "https://x.example", "SMS_WEBHOOK_SECRET": "s", "TWILIO_ACCOUNT_SID": "AC1"}, "not both"},
	} {
		_, err := LoadConfig(getenv(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.env, err, tc.want)
		}
	}
	c, err := LoadConfig(getenv(nil))
	if err != nil || c.HasProvider() {
		t.Fatalf("empty env: %v %v", c, err)
	}
}
