package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"authserver/obs"
)

// SweepCounts is what one sweep deleted, per table.
type SweepCounts struct {
	Sessions      int64
	Verifications int64
	RateLimits    int64
	AuditRows     int64
	Batches       int64 // delete statements run, each of at most Batch rows
}

// SweepOptions bounds one sweep. Now is the sweep's clock reading (tests pass a test clock).
type SweepOptions struct {
	Now time.Time
	// SessionMargin keeps sessions that expired less than this long ago, so a request that read
	// a session just before it expired never finds it gone half-way through.
	SessionMargin time.Duration
	// RateLimitAge is how long a rateLimit row is kept after its last request. It must be at
	// least the longest rate-limit window and the lockout's longest lock, or a sweep would
	// forgive a counter that is still running.
	RateLimitAge time.Duration
	// Batch is the most rows one statement deletes; each batch commits on its own, so no lock is
	// held for longer than one small delete.
	Batch int
	// AuditRetention is how long audit-log rows are kept; zero keeps them forever.
	AuditRetention time.Duration
	// Locked, when set, is called once this sweep holds the lock and before it deletes anything
	// (tests use it to try a second sweeper mid-sweep).
	Locked func()
}

// sweepLockKey is the Postgres advisory-lock key that lets one replica at a time sweep
// ("authswep" in ASCII, an arbitrary constant shared by every replica).
const sweepLockKey int64 = 0x6175746873776570

// ErrSweepBusy reports that another replica holds the sweep lock; the caller skips this round.
var ErrSweepBusy = errors.New("store: another instance is sweeping")

// Sweep deletes expired sessions, expired verification rows and stale rateLimit rows in batches
// of opts.Batch. On PostgreSQL it first takes a session-level advisory lock on a dedicated
// connection and returns ErrSweepBusy when another replica holds it; SQLite serves a single
// process, so there is nothing to coordinate. Deleted sessions reach other replicas' caches
// through the session triggers' notifications, as any other delete does.
//
// Rows Better-Auth itself keeps after they expire are deliberately left alone: expired
// invitations (it lists them), device codes (polling an expired one answers expired_token, not
// invalid_grant) and expired API keys (its own cleanup deletes them). Audit-log rows older than
// opts.AuditRetention go too. Extension point: another table with a retention period adds one
// more sweepTable call below, with its own cutoff and a counter in SweepCounts.
func (s *Store) Sweep(ctx context.Context, opts SweepOptions) (SweepCounts, error) {
	var n SweepCounts
	if opts.Batch <= 0 {
		opts.Batch = 500
	}
	if s.dialect == Postgres {
		sqlDB, err := s.db.DB()
		if err != nil {
			return n, err
		}
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			return n, fmt.Errorf("store: sweep lock: %w", classify(err))
		}
		defer conn.Close()
		var got bool
		if err := conn.QueryRowContext(ctx, `select pg_try_advisory_lock($1)`, sweepLockKey).Scan(&got); err != nil {
			return n, fmt.Errorf("store: sweep lock: %w", classify(err))
		}
		if !got {
			return n, ErrSweepBusy
		}
		defer unlockSweep(conn)
	}
	if opts.Locked != nil {
		opts.Locked()
	}
	var err error
	if n.Sessions, err = s.sweepTable(ctx, &n, "session", `"expiresAt" < ?`, NewTime(opts.Now.Add(-opts.SessionMargin)), opts.Batch); err != nil {
		return n, err
	}
	if n.Verifications, err = s.sweepTable(ctx, &n, "verification", `"expiresAt" < ?`, NewTime(opts.Now), opts.Batch); err != nil {
		return n, err
	}
	if opts.RateLimitAge > 0 {
		ok, err := s.hasTable(ctx, "rateLimit")
		if err != nil {
			return n, err
		}
		if ok {
			cutoff := opts.Now.Add(-opts.RateLimitAge).UnixMilli()
			if n.RateLimits, err = s.sweepTable(ctx, &n, "rateLimit", `"lastRequest" < ?`, cutoff, opts.Batch); err != nil {
				return n, err
			}
		}
	}
	if opts.AuditRetention > 0 {
		if n.AuditRows, err = s.sweepTable(ctx, &n, "authserver_audit_log", `"createdAt" < ?`, NewTime(opts.Now.Add(-opts.AuditRetention)), opts.Batch); err != nil {
			return n, err
		}
	}
	return n, nil
}

// unlockSweep releases the advisory lock even when the sweep's context has ended; closing the
// connection afterwards would release it too, but only once the pool drops the connection.
func unlockSweep(conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.ExecContext(ctx, `select pg_advisory_unlock($1)`, sweepLockKey)
}

// sweepTable deletes the rows of table matching where, at most batch per statement, until a
// statement deletes fewer than batch; it returns how many went.
func (s *Store) sweepTable(ctx context.Context, n *SweepCounts, table, where string, arg any, batch int) (int64, error) {
	q := fmt.Sprintf(`delete from %q where "id" in (select "id" from %q where %s limit %d)`, table, table, where, batch)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		res := s.conn(ctx).Exec(q, arg)
		if res.Error != nil {
			return total, fmt.Errorf("store: sweep %s: %w", table, classify(res.Error))
		}
		total += res.RowsAffected
		n.Batches++
		if res.RowsAffected < int64(batch) {
			return total, nil
		}
	}
}

// hasTable reports whether the table exists (rateLimit does only where counters live in the
// database).
func (s *Store) hasTable(ctx context.Context, table string) (bool, error) {
	return s.db.WithContext(ctx).Migrator().HasTable(table), nil
}

// SweepStats are the sweeper's running totals since start, for the metrics endpoint to read
// (every field is safe to Load concurrently).
type SweepStats struct {
	Runs          atomic.Int64 // sweeps that ran to the end on this instance
	Skipped       atomic.Int64 // rounds left to another replica holding the lock
	Errors        atomic.Int64 // sweeps that stopped on an error
	Sessions      atomic.Int64 // expired sessions deleted
	Verifications atomic.Int64 // expired verification rows deleted
	RateLimits    atomic.Int64 // stale rateLimit rows deleted
	AuditRows     atomic.Int64 // audit-log rows older than the retention deleted
}

// Sweeper runs Sweep every Interval until its context ends. Log gets one summary line per sweep
// (counts only, never a row's contents).
type Sweeper struct {
	St       *Store
	Interval time.Duration
	Now      func() time.Time
	Options  SweepOptions // Now is filled in per run
	Log      *slog.Logger
	Stats    SweepStats
}

// Run sweeps once per Interval (the first after one Interval, so start-up is not slowed) until ctx
// ends. An Interval of zero or less turns the sweeper off.
func (w *Sweeper) Run(ctx context.Context) {
	if w.Interval <= 0 {
		return
	}
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Once(ctx)
		}
	}
}

// Once runs one sweep, records it in Stats and in the metrics (sweep_runs_total,
// sweep_deleted_total) and logs its summary.
func (w *Sweeper) Once(ctx context.Context) (SweepCounts, error) {
	opts := w.Options
	opts.Now = time.Now()
	if w.Now != nil {
		opts.Now = w.Now()
	}
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	n, err := w.St.Sweep(ctx, opts)
	w.Stats.Sessions.Add(n.Sessions)
	w.Stats.Verifications.Add(n.Verifications)
	w.Stats.RateLimits.Add(n.RateLimits)
	w.Stats.AuditRows.Add(n.AuditRows)
	// A failed sweep still committed the batches before the error, so they are counted too.
	deleted := map[string]int64{"sessions": n.Sessions, "verifications": n.Verifications,
		"rate_limits": n.RateLimits, "audit_log": n.AuditRows}
	switch {
	case errors.Is(err, ErrSweepBusy):
		w.Stats.Skipped.Add(1)
		obs.Sweep("skipped", nil)
		log.Debug("sweep skipped: another instance is sweeping")
	case err != nil:
		w.Stats.Errors.Add(1)
		obs.Sweep("failed", deleted)
		log.Warn("sweep failed", slog.String("error", err.Error()), slog.Int64("sessions", n.Sessions),
			slog.Int64("verifications", n.Verifications), slog.Int64("rate_limits", n.RateLimits),
			slog.Int64("audit_log", n.AuditRows))
	default:
		w.Stats.Runs.Add(1)
		obs.Sweep("done", deleted)
		log.Info("sweep", slog.Int64("sessions", n.Sessions), slog.Int64("verifications", n.Verifications),
			slog.Int64("rate_limits", n.RateLimits), slog.Int64("audit_log", n.AuditRows),
			slog.Duration("took", time.Since(start)))
	}
	return n, err
}
