// Package mail renders and delivers the server's account emails (verify
// email, reset password, confirm an email change, confirm account deletion).
//
// Delivery goes through SMTP when a URL is configured, otherwise every
// message is written as an .eml file into an outbox directory so development
// setups work without a mail server. Message bodies carry secret links, so
// this package logs recipient and subject only, and the links only when
// Config.LogLinks asks for them (development).
package mail

import (
	"authserver/obs"

	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"authserver/env"
)

// Message is one email. To is a single recipient address; Text is the
// plain-text part and HTML the optional HTML alternative.
type Message struct {
	To, Subject, Text, HTML string
}

// Sender delivers messages. Implementations returned by New are safe for
// concurrent use; Send returns only after the message was handed to the SMTP
// server (or written to the outbox), and its errors never contain the body.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Config configures delivery.
type Config struct {
	// SMTPURL selects SMTP delivery; "" means use the outbox. Forms:
	// smtp://user:pass@host:587 (STARTTLS required, default port 587),
	// smtps://user:pass@host:465 (implicit TLS, default port 465) and
	// smtp+insecure://host:25 (no TLS at all; local dev and tests only).
	// User and password are URL-encoded; auth is attempted only with a user.
	SMTPURL string
	// From is the sender (MAIL_FROM), e.g. "App <no-reply@example.com>";
	// default "no-reply@localhost".
	From string
	// Timeout bounds each Send, connection included; default 10s. A shorter
	// context deadline wins.
	Timeout time.Duration
	// OutboxDir is where .eml files go when SMTPURL is ""; required then.
	OutboxDir string
	// Logger receives delivery logs; nil discards them.
	Logger *slog.Logger
	// LogLinks adds the links of each message's text part to its delivery
	// log line, so a developer can copy them from the console. Links are
	// credentials (verification, reset, deletion): never set it in production.
	LogLinks bool
	// TLSConfig, when set, replaces the default TLS client configuration
	// (system roots). It exists for tests and private CAs; ServerName is
	// filled from the URL host when empty.
	TLSConfig *tls.Config

	// TemplatesDir and AppName are LoadTemplates' arguments (MAIL_TEMPLATES_DIR, APP_NAME); New
	// ignores them. They live here so every mail option is read in one place, LoadConfig.
	TemplatesDir string
	AppName      string
}

// LoadConfig reads the mail options: SMTP_URL, MAIL_FROM, MAIL_SEND_TIMEOUT (default 10 s),
// MAIL_TEMPLATES_DIR and APP_NAME (default defaultAppName, the caller's). OutboxDir, Logger and
// LogLinks depend on where and how the server runs: the caller sets them.
func LoadConfig(getenv func(string) string, defaultAppName string) (Config, error) {
	r := env.New(getenv)
	c := Config{
		SMTPURL:      r.String("SMTP_URL", ""),
		From:         r.String("MAIL_FROM", ""),
		Timeout:      r.Duration("MAIL_SEND_TIMEOUT", defaultTimeout),
		TemplatesDir: r.String("MAIL_TEMPLATES_DIR", ""),
		AppName:      r.String("APP_NAME", defaultAppName),
	}
	return c, r.Err()
}

const (
	defaultFrom    = "no-reply@localhost"
	defaultTimeout = 10 * time.Second
)

// New returns the SMTP sender when cfg.SMTPURL is set, else the outbox
// sender. It validates the URL (scheme, host, port) and the From address up
// front so a misconfiguration fails at startup, not at the first signup.
func New(cfg Config) (Sender, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	from := cfg.From
	if from == "" {
		from = defaultFrom
	}
	b, err := newBuilder(from)
	if err != nil {
		return nil, err
	}
	b.logLinks = cfg.LogLinks
	if cfg.SMTPURL == "" {
		o, err := newOutbox(cfg.OutboxDir, b, logger)
		if err != nil {
			return nil, err
		}
		return counted{o}, nil
	}
	ep, err := parseSMTPURL(cfg.SMTPURL)
	if err != nil {
		return nil, err
	}
	if ep.mode == modeInsecure {
		logger.Warn("smtp tls disabled", "host", ep.host)
	}
	return counted{&smtpSender{ep: ep, b: b, timeout: timeout, tlsConfig: cfg.TLSConfig, log: logger}}, nil
}

// counted counts every message its Sender is given in deliveries_total{channel="email"}.
type counted struct{ Sender }

// Send sends m and counts whether it went.
func (c counted) Send(ctx context.Context, m Message) error {
	err := c.Sender.Send(ctx, m)
	obs.Delivery("email", err)
	return err
}

// tlsMode is how the SMTP connection is secured.
type tlsMode int

const (
	modeStartTLS tlsMode = iota
	modeImplicit
	modeInsecure
)

// endpoint is a parsed SMTP URL.
type endpoint struct {
	mode       tlsMode
	host       string
	port       int
	user, pass string
}

// parseSMTPURL validates raw. Errors never quote raw because it may hold
// the SMTP password.
func parseSMTPURL(raw string) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included; keep only the cause.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return endpoint{}, fmt.Errorf("mail: invalid SMTP URL: %w", err)
	}
	var ep endpoint
	switch u.Scheme {
	case "smtp":
		ep.mode, ep.port = modeStartTLS, 587
	case "smtps":
		ep.mode, ep.port = modeImplicit, 465
	case "smtp+insecure":
		ep.mode, ep.port = modeInsecure, 25
	default:
		return endpoint{}, fmt.Errorf("mail: invalid SMTP URL: unsupported scheme %q (want smtp://, smtps:// or smtp+insecure://)", u.Scheme)
	}
	ep.host = u.Hostname()
	if ep.host == "" {
		return endpoint{}, errors.New("mail: invalid SMTP URL: missing host (want e.g. smtp://user:pass@smtp.example.com:587)")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return endpoint{}, fmt.Errorf("mail: invalid SMTP URL: bad port %q", p)
		}
		ep.port = n
	}
	if u.User != nil {
		ep.user = u.User.Username()
		ep.pass, _ = u.User.Password()
	}
	return ep, nil
}

// builder turns a Message into a go-mail Msg; SMTP and outbox share it so
// both produce byte-identical structure.
type builder struct {
	from     *netmail.Address
	domain   string // for Message-ID, so it does not leak the local hostname
	logLinks bool
}

func newBuilder(from string) (builder, error) {
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return builder{}, fmt.Errorf("mail: invalid From address %q: %w", from, err)
	}
	domain := "localhost"
	if i := strings.LastIndexByte(addr.Address, '@'); i >= 0 && i < len(addr.Address)-1 {
		domain = addr.Address[i+1:]
	}
	return builder{from: addr, domain: domain}, nil
}

// build makes a multipart/alternative message (text, then HTML when set)
// with From, To, Subject, Date and Message-ID headers. With readable, the
// text part is written as 8-bit text rather than quoted-printable, so a
// person reading the file sees each link whole on one line; a line too long
// for 8-bit transport (998 bytes) keeps quoted-printable.
func (b builder) build(m Message, readable bool) (*gomail.Msg, error) {
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("mail: subject contains a line break")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(b.from)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: invalid recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(rand.Text() + "@" + b.domain)
	if text, ok := eightBit(m.Text); readable && ok {
		msg.SetBodyString(gomail.TypeTextPlain, text, gomail.WithPartEncoding(gomail.NoEncoding))
	} else {
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// eightBit returns text with CRLF line ends, as 8-bit MIME needs (go-mail
// writes such a part as it is), and whether every line fits RFC 5322's
// 998-byte limit.
func eightBit(text string) (string, bool) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for _, l := range lines {
		if len(l) > 998 || strings.ContainsRune(l, '\r') {
			return "", false
		}
	}
	return strings.Join(lines, "\r\n"), true
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// logArgs is what a delivery log line says about m: recipient and subject,
// and with logLinks the distinct links of the text part.
func (b builder) logArgs(m Message) []any {
	args := []any{"to", m.To, "subject", m.Subject}
	if !b.logLinks {
		return args
	}
	var links []string
	for _, l := range linkPattern.FindAllString(m.Text, -1) {
		if !slices.Contains(links, l) {
			links = append(links, l)
		}
	}
	if len(links) > 0 {
		args = append(args, "links", strings.Join(links, " "))
	}
	return args
}
