// Package store owns the database: the connection (embedded SQLite or PostgreSQL), the versioned
// SQL migrations, the table models that mirror Better-Auth's schema, and every query the server runs.
//
// It is the only package that imports GORM and the database drivers, and it imports nothing else
// from this module. Callers pass a context to every method; errors come back as kinds that
// errors.Is can match (ErrNotFound, ErrConflict, ErrGone, ErrUnavailable), never as driver errors.
package store

import (
	"authserver/obs"

	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Error kinds returned by Store methods. Wrapped errors keep these as their kind, so callers test
// with errors.Is and never look at driver messages.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a unique constraint refused the write (for example a duplicate email).
	ErrConflict = errors.New("store: conflict")
	// ErrGone means a foreign key refused the write: the row it refers to no longer exists. Every
	// foreign key to a table a request writes (session, account, the content tables) points at the
	// user, so this is a write for a user deleted meanwhile.
	ErrGone = errors.New("store: referenced row gone")
	// ErrUnavailable means the database could not be reached or refused the connection.
	ErrUnavailable = errors.New("store: database unavailable")
	// ErrInvalidText means PostgreSQL refused a text value (a NUL character or invalid UTF-8).
	// Callers check client text with ValidText first; this kind keeps a missed check a 400, not a 500.
	ErrInvalidText = errors.New("store: text with NUL characters or invalid UTF-8")
)

// Dialect names the SQL flavour behind a Store.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config says which database to open and how to size its pool.
type Config struct {
	// URL is "postgres://..." / "postgresql://..." for PostgreSQL, or "sqlite:PATH", "file:PATH" or a
	// bare path for SQLite. Empty means "sqlite:./data/app.db".
	URL string
	// MaxOpenConns bounds the pool (0 picks a default: 10 on Postgres, 4 on SQLite).
	MaxOpenConns int
	// MaxIdleConns bounds idle connections kept open (0 picks MaxOpenConns).
	MaxIdleConns int
	// ConnMaxIdleTime closes connections idle longer than this (0 means 5 minutes), so a serverless
	// Postgres that drops idle connections never hands the pool a dead one for long.
	ConnMaxIdleTime time.Duration
	// SimpleProtocol disables prepared statements on PostgreSQL, as transaction-mode poolers
	// (PgBouncer, Neon's pooled endpoint) require.
	SimpleProtocol bool
	// Logger receives slow-query and error logs; nil discards them.
	Logger *slog.Logger
	// ListenURL is the PostgreSQL URL the notification listener connects to; empty means URL.
	// Transaction-mode poolers cannot carry LISTEN, so behind one this names a direct connection.
	ListenURL string
}

// Store is the database handle shared by every package. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	log     *slog.Logger
	dsn     string // for dedicated connections (LISTEN)
	schema  *schema
	inTx    bool // db is a transaction (Tx's tx)
}

// Open connects to the database named by cfg.URL and checks that it answers. It does not migrate;
// call Migrate before serving.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dialect, dsn, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	gcfg := &gorm.Config{
		Logger:                 newGormLogger(log),
		SkipDefaultTransaction: true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var dialector gorm.Dialector
	switch dialect {
	case Postgres:
		dialector = postgres.New(postgres.Config{DSN: dsn, PreferSimpleProtocol: cfg.SimpleProtocol})
	case SQLite:
		if err := prepareSQLiteFile(sqlitePath(dsn), log); err != nil {
			return nil, err
		}
		dialector = sqlite.Open(dsn)
	}
	db, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, classify(err))
	}
	if err := db.Use(obs.GormPlugin{System: map[Dialect]string{Postgres: "postgresql", SQLite: "sqlite"}[dialect]}); err != nil {
		return nil, fmt.Errorf("store: instrumentation: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: pool: %w", err)
	}
	obs.DBStats(sqlDB.Stats)
	maxOpen := cfg.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = 10
		if dialect == SQLite {
			maxOpen = 4
		}
	}
	maxIdle := cfg.MaxIdleConns
	if maxIdle <= 0 || maxIdle > maxOpen {
		maxIdle = maxOpen
	}
	idle := cfg.ConnMaxIdleTime
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxIdle)
	sqlDB.SetConnMaxIdleTime(idle)
	listen := dsn
	if cfg.ListenURL != "" {
		listen = cfg.ListenURL
	}
	s := &Store{db: db, dialect: dialect, log: log, dsn: listen, schema: newSchema()}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// Dialect reports which database the store talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers; it is what /readyz reports.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: pool: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", classify(err))
	}
	return nil
}

// Close releases every pooled connection.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Tx runs fn inside one transaction: every write fn makes through tx commits together or not at all.
// fn must use tx, not s, for the work that belongs to the transaction. Inside Atomic's context
// it joins that transaction (as a savepoint), so it never waits on the lock its caller holds.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	err := s.conn(ctx).Transaction(func(gtx *gorm.DB) error {
		return fn(&Store{db: gtx, dialect: s.dialect, log: s.log, dsn: s.dsn, schema: s.schema, inTx: true})
	})
	return classify(err)
}

// ctxTx is the transaction Atomic opened, carried in a context so that every statement made
// with that context through the store joins it, however deep in the call chain it is made.
type ctxTx struct {
	db *gorm.DB
	// ended is set once the transaction commits or rolls back: a goroutine that outlives it with
	// a derived context (a background send) then talks to the database directly again.
	ended     atomic.Bool
	mu        sync.Mutex
	committed []func()
}

type ctxTxKey struct{}

// Atomic runs fn in one transaction carried by the context fn receives: every store method
// called with that context (by fn, or by code it calls that holds the root store) commits
// together with the rest or not at all. An Atomic inside another joins it as a savepoint. fn
// must not hand its context to work that runs after it returns; such work, and callbacks
// registered with AfterCommit, see the database outside the transaction.
func (s *Store) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	var t *ctxTx
	err := s.conn(ctx).Transaction(func(gtx *gorm.DB) error {
		t = &ctxTx{db: gtx}
		return fn(context.WithValue(ctx, ctxTxKey{}, t))
	})
	if t == nil {
		return classify(err)
	}
	t.ended.Store(true)
	if err == nil {
		if outer := txOf(ctx); outer != nil {
			// A savepoint: what waits for the commit waits for the outer transaction's.
			outer.mu.Lock()
			outer.committed = append(outer.committed, t.committed...)
			outer.mu.Unlock()
			return nil
		}
		t.mu.Lock()
		run := t.committed
		t.committed = nil
		t.mu.Unlock()
		for _, f := range run {
			f()
		}
	}
	return classify(err)
}

// InTransaction reports whether ctx carries a transaction Atomic opened that has not ended.
func InTransaction(ctx context.Context) bool { return txOf(ctx) != nil }

// AfterCommit runs f once the transaction ctx carries commits (never, if it rolls back), or at
// once when ctx carries none: for what must follow the change and not precede it, such as telling
// caches that a row changed (told before the commit, a concurrent reader could cache the old row).
func AfterCommit(ctx context.Context, f func()) {
	t := txOf(ctx)
	if t == nil {
		f()
		return
	}
	t.mu.Lock()
	t.committed = append(t.committed, f)
	t.mu.Unlock()
}

func txOf(ctx context.Context) *ctxTx {
	if t, ok := ctx.Value(ctxTxKey{}).(*ctxTx); ok && !t.ended.Load() {
		return t
	}
	return nil
}

// conn is the connection for a statement: the store's own transaction when it is one (Tx's tx),
// else the transaction ctx carries (Atomic), else the pool.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if !s.inTx {
		if t := txOf(ctx); t != nil {
			return t.db.WithContext(ctx)
		}
	}
	return s.db.WithContext(ctx)
}

// parseURL turns the configured URL into a dialect and a driver DSN.
func parseURL(raw string) (Dialect, string, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return SQLite, sqliteDSN("./data/app.db"), nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return Postgres, raw, nil
	case strings.HasPrefix(raw, "sqlite://"):
		return SQLite, sqliteDSN(strings.TrimPrefix(raw, "sqlite://")), nil
	case strings.HasPrefix(raw, "sqlite:"):
		return SQLite, sqliteDSN(strings.TrimPrefix(raw, "sqlite:")), nil
	case strings.HasPrefix(raw, "file:"):
		return SQLite, sqliteDSN(strings.TrimPrefix(raw, "file:")), nil
	case strings.Contains(raw, "://"):
		scheme, _, _ := strings.Cut(raw, "://")
		return "", "", fmt.Errorf("store: unsupported database URL scheme %q (use postgres:// or sqlite:)", scheme)
	default:
		return SQLite, sqliteDSN(raw), nil
	}
}

// sqliteDSN adds the pragmas every connection needs. busy_timeout must come first so the others
// wait for a lock instead of failing; foreign_keys makes Better-Auth's cascading deletes work; WAL
// lets readers run beside the single writer; _txlock=immediate takes the write lock at BEGIN, so
// two transactions never deadlock upgrading a read lock.
func sqliteDSN(path string) string {
	path, query, _ := strings.Cut(path, "?")
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if query != "" {
		pragmas = query + "&" + pragmas
	}
	return path + "?" + pragmas
}

func sqlitePath(dsn string) string {
	p, q, _ := strings.Cut(dsn, "?")
	if p == "" || strings.HasPrefix(p, ":memory:") || strings.Contains(q, "mode=memory") {
		return ""
	}
	return p
}

// SQLiteFile returns the database file a configured URL names, and false for PostgreSQL or an
// in-memory SQLite database. It lets the caller check the permissions of the folder holding it.
func SQLiteFile(url string) (string, bool) {
	dialect, dsn, err := parseURL(url)
	if err != nil || dialect != SQLite {
		return "", false
	}
	p := sqlitePath(dsn)
	return p, p != ""
}

// prepareSQLiteFile creates the database's folder (0700) and the empty database file (0600) before
// SQLite opens it. SQLite would create the file 0644 under the usual umask, and it gives the -wal
// and -shm files the mode of the database file, so this keeps all three, which hold live session
// and reset tokens, away from other local users. Files an older version left readable by others
// lose that access, with a warning.
func prepareSQLiteFile(path string, log *slog.Logger) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store: create sqlite folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("store: create sqlite file: %w", err)
		}
	case !errors.Is(err, os.ErrExist):
		return fmt.Errorf("store: create sqlite file: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		info, err := os.Stat(p)
		if err != nil || info.Mode().Perm()&0o007 == 0 {
			continue
		}
		mode := info.Mode().Perm() &^ 0o007
		if err := os.Chmod(p, mode); err != nil {
			log.Warn("database file is readable by other users and its mode cannot be changed", slog.String("file", p),
				slog.String("mode", fmt.Sprintf("%04o", info.Mode().Perm())), slog.String("error", err.Error()))
			continue
		}
		log.Warn("database file was readable by other users: their access is removed", slog.String("file", p),
			slog.String("mode", fmt.Sprintf("%04o", mode)))
	}
	return nil
}

// classify maps driver errors onto the store's error kinds, keeping the original for logs.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict), errors.Is(err, ErrGone), errors.Is(err, ErrUnavailable), errors.Is(err, ErrInvalidText):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return fmt.Errorf("%w: %v", ErrGone, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505":
			return fmt.Errorf("%w: %v", ErrConflict, err)
		case pgErr.Code == "22021", pgErr.Code == "22P05": // character_not_in_repertoire, untranslatable_character
			return fmt.Errorf("%w: %v", ErrInvalidText, err)
		case pgErr.Code == "23503":
			return fmt.Errorf("%w: %v", ErrGone, err)
		case strings.HasPrefix(pgErr.Code, "08"), pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", pgErr.Code == "53300":
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, driver.ErrBadConn) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return fmt.Errorf("%w: %v", ErrGone, err)
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "bad connection"),
		strings.Contains(msg, "conn closed"), strings.Contains(msg, "broken pipe"),
		strings.Contains(msg, "failed to connect"), strings.Contains(msg, "unexpected EOF"):
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

// gormLogger sends GORM's error and slow-query reports to slog without SQL parameters, so values
// such as session tokens and password hashes never reach a log.
type gormLogger struct{ log *slog.Logger }

func newGormLogger(l *slog.Logger) logger.Interface { return gormLogger{log: l} }

func (g gormLogger) LogMode(logger.LogLevel) logger.Interface { return g }
func (g gormLogger) Info(context.Context, string, ...any)     {}
func (g gormLogger) Warn(context.Context, string, ...any)     {}
func (g gormLogger) Error(context.Context, string, ...any)    {}

func (g gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, context.Canceled) {
		sqlText, _ := fc()
		g.log.LogAttrs(ctx, slog.LevelWarn, "query failed", slog.String("sql", firstWords(sqlText)), slog.Duration("elapsed", elapsed), slog.String("error", err.Error()))
		return
	}
	if elapsed > 500*time.Millisecond {
		sqlText, _ := fc()
		g.log.LogAttrs(ctx, slog.LevelWarn, "slow query", slog.String("sql", firstWords(sqlText)), slog.Duration("elapsed", elapsed))
	}
}

// firstWords keeps the statement's shape for the log and cuts it before any literal could appear.
func firstWords(sqlText string) string {
	if i := strings.IndexAny(sqlText, "'$?"); i >= 0 {
		sqlText = sqlText[:i]
	}
	if len(sqlText) > 120 {
		sqlText = sqlText[:120]
	}
	return strings.TrimSpace(sqlText)
}

// ExecAdmin runs one administrative statement (such as CREATE DATABASE) outside any transaction.
// It exists for test helpers and tools; request paths never call it.
func (s *Store) ExecAdmin(ctx context.Context, statement string) error {
	if err := s.conn(ctx).Exec(statement).Error; err != nil {
		return classify(err)
	}
	return nil
}

// RawRow scans the first row of a read-only query into dst. It exists for tests and diagnostics
// that need to see values exactly as stored.
func (s *Store) RawRow(ctx context.Context, dst any, query string, args ...any) error {
	return classify(s.conn(ctx).Raw(query, args...).Scan(dst).Error)
}
