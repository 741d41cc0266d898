package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// SessionChannel is the PostgreSQL notification channel on which the triggers of migration 3
// announce session and user changes.
const SessionChannel = "authserver_sessions"

// Listen receives the notifications of one PostgreSQL channel on a dedicated connection and
// passes each payload to handle, until ctx ends. healthy(true) is called once the connection
// listens and healthy(false) whenever it is lost (it reconnects with backoff), so callers can stop
// trusting anything that depends on the notifications meanwhile. On SQLite, which serves a single
// process, it reports healthy and returns at once.
func (s *Store) Listen(ctx context.Context, channel string, handle func(string), healthy func(bool)) {
	if s.dialect != Postgres {
		healthy(true)
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, channel, handle, func() { healthy(true); backoff = 100 * time.Millisecond })
		healthy(false)
		if ctx.Err() != nil {
			return
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "notification listener lost its connection; retrying",
			slog.String("error", err.Error()), slog.Duration("retry_in", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, channel string, handle func(string), ready func()) error {
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(connectCtx, s.dsn)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "listen "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		handle(n.Payload)
	}
}
