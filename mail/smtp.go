package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// smtpSender delivers through an SMTP server, one connection per message:
// account emails are rare, and a fresh connection avoids managing idle
// connections that servers drop.
type smtpSender struct {
	ep        endpoint
	b         builder
	timeout   time.Duration
	tlsConfig *tls.Config
	log       *slog.Logger
}

// Send delivers m, bounded by min(ctx deadline, configured timeout) from dial
// to QUIT.
func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg, err := s.b.build(m, false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	left := time.Until(deadline)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: smtp send: %w", err)
	}
	if left <= 0 {
		return fmt.Errorf("mail: smtp send: %w", context.DeadlineExceeded)
	}

	opts := []gomail.Option{
		gomail.WithPort(s.ep.port),
		// go-mail refreshes its per-command deadline after dialing, so it alone
		// would not bound the whole exchange; dial() closes the connection when
		// ctx ends, which does.
		gomail.WithTimeout(left),
		gomail.WithDialContextFunc(s.dial(ctx)),
		gomail.WithTLSConfig(s.clientTLS()),
	}
	switch s.ep.mode {
	case modeStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case modeImplicit:
		// dial() does the TLS handshake; WithSSL only stops go-mail from
		// attempting STARTTLS inside the TLS session.
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.NoTLS))
	case modeInsecure:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.ep.user != "" {
		// The NoEnc variants skip go-mail's "is this connection encrypted"
		// check, which cannot see the TLS done by our dialer for smtps. The
		// transport is already guaranteed by the scheme: STARTTLS is mandatory,
		// smtps is TLS from the first byte, and smtp+insecure is an explicit
		// opt-out. Servers without PLAIN/LOGIN fall back to auto-discovery.
		opts = append(opts,
			gomail.WithUsername(s.ep.user),
			gomail.WithPassword(s.ep.pass),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc),
		)
	}
	client, err := gomail.NewClient(s.ep.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		ctxErr := ctx.Err()
		if ctxErr == nil && !time.Now().Before(deadline) {
			// go-mail's own socket deadline can fire just before ctx's timer.
			ctxErr = context.DeadlineExceeded
		}
		if ctxErr != nil {
			// Report why the exchange was cut short, not only the socket error.
			return fmt.Errorf("mail: smtp send: %w: %w", ctxErr, err)
		}
		return fmt.Errorf("mail: smtp send: %w", err)
	}
	s.log.InfoContext(ctx, "mail sent", s.b.logArgs(m)...)
	return nil
}

// clientTLS is the TLS configuration for both STARTTLS and smtps.
func (s *smtpSender) clientTLS() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.tlsConfig != nil {
		cfg = s.tlsConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.ep.host
	}
	return cfg
}

// dial connects (and for smtps, handshakes) and ties the connection's life to
// sendCtx: when it is cancelled or times out, the connection is closed, which
// unblocks whatever SMTP command go-mail is waiting on. After a normal Send the
// deferred cancel closes an already-QUIT connection, which is harmless.
func (s *smtpSender) dial(sendCtx context.Context) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(sendCtx, func() { _ = conn.Close() })
		if s.ep.mode != modeImplicit {
			return conn, nil
		}
		tc := tls.Client(conn, s.clientTLS())
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		return tc, nil
	}
}
