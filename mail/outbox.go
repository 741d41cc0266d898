package mail

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// outboxSender writes each message as an RFC 5322 .eml file, so development
// setups can "receive" mail without a server and open it in any mail client
// or read it as text: the text part is 8-bit, so links are not wrapped.
type outboxSender struct {
	dir string
	b   builder
	log *slog.Logger
}

func newOutbox(dir string, b builder, logger *slog.Logger) (*outboxSender, error) {
	if dir == "" {
		return nil, errors.New("mail: no SMTP URL and no outbox directory configured")
	}
	// 0700/0600: the files hold live verification and reset links.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: create outbox: %w", err)
	}
	return &outboxSender{dir: dir, b: b, log: logger}, nil
}

// Send writes m to <dir>/<UTC timestamp>-<random>-<subject>.eml with mode
// 0600. The timestamp makes the directory list in send order; the random part
// keeps concurrent sends from colliding.
func (o *outboxSender) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	msg, err := o.b.build(m, true)
	if err != nil {
		return err
	}
	// Recreate in case the directory was removed while running (e.g. a test
	// or developer clearing the outbox).
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return fmt.Errorf("mail: create outbox: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%s.eml",
		time.Now().UTC().Format("20060102T150405.000000Z"),
		strings.ToLower(rand.Text()[:8]),
		sanitize(m.Subject))
	path := filepath.Join(o.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("mail: create outbox file: %w", err)
	}
	if _, err := msg.WriteTo(f); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("mail: write outbox file: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("mail: write outbox file: %w", err)
	}
	o.log.InfoContext(ctx, "mail written to outbox", append(o.b.logArgs(m), "file", path)...)
	return nil
}

// sanitize makes subject safe and short for a file name: lowercase ASCII
// letters and digits, runs of anything else collapsed to one '-'.
func sanitize(subject string) string {
	const maxLen = 40
	var sb strings.Builder
	dash := false
	for _, r := range strings.ToLower(subject) {
		if sb.Len() >= maxLen {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			sb.WriteRune(r)
			dash = false
		} else if !dash && sb.Len() > 0 {
			sb.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(sb.String(), "-")
	if s == "" {
		return "message"
	}
	return s
}
