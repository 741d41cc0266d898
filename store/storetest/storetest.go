// Package storetest gives tests a freshly migrated database on every dialect the server supports:
// always a SQLite file in the test's temp folder, and a throwaway PostgreSQL database when
// TEST_DATABASE_URL names a server (skipped under -short).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"authserver/store"
)

// EnvPostgres names the environment variable holding an admin URL of a PostgreSQL server that tests
// may create and drop databases on.
const EnvPostgres = "TEST_DATABASE_URL"

// Run calls fn once per dialect as the subtests "sqlite" and "postgres", each with its own empty,
// migrated database that is removed when the subtest ends. The subtests are parallel: they start
// once the calling test function returns, so fn must not share mutable state between the two
// calls, and the caller must not inspect their results after Run returns.
func Run(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	// The two halves run side by side: each has its own database, and while one waits on
	// PostgreSQL the other uses the CPU, which a package of sequential tests leaves idle.
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, OpenSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, OpenPostgres(t))
	})
}

// RunSerial is Run with the halves one after the other, for tests that read process-wide state
// (the metrics registry) which the other half would change meanwhile, and for tests that fire
// many password hashes at once, which would starve the other half's timed waits of CPU.
func RunSerial(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, OpenSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, OpenPostgres(t))
	})
}

// OpenSQLite returns a migrated store on a new SQLite file under t.TempDir(); benchmarks may
// pass their *testing.B.
func OpenSQLite(t testing.TB) *store.Store {
	t.Helper()
	u := "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	return open(t, u)
}

// Open returns a migrated store on PostgreSQL when TEST_DATABASE_URL names a server (and the run
// is not -short), otherwise on SQLite: for callers, such as fuzz targets, that run on one database.
func Open(t testing.TB) *store.Store {
	t.Helper()
	if os.Getenv(EnvPostgres) != "" && !testing.Short() {
		return OpenPostgres(t)
	}
	return OpenSQLite(t)
}

// OpenPostgres returns a migrated store on a new PostgreSQL database that is dropped at cleanup;
// fuzz targets may pass their *testing.F.
// It skips the test when TEST_DATABASE_URL is unset or under -short.
func OpenPostgres(t testing.TB) *store.Store {
	t.Helper()
	u := newDatabase(t, template)
	return open(t, u)
}

// template names a migrated PostgreSQL database that OpenPostgres copies, set by Main; empty
// means each database is migrated from scratch.
var template string

// Main runs a package's tests; call it from TestMain. With TEST_DATABASE_URL set it first makes
// one migrated template database, so that each OpenPostgres copies it instead of running every
// migration again (about a second a test on a 2-core machine, and the web package opens some
// two hundred), and drops it when the tests end.
func Main(m *testing.M) int {
	flag.Parse()
	admin := os.Getenv(EnvPostgres)
	if admin == "" || testing.Short() {
		return m.Run()
	}
	name, drop, err := makeTemplate(admin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest: template database:", err)
		return 1
	}
	template = name
	code := m.Run()
	if err := drop(); err != nil {
		fmt.Fprintln(os.Stderr, "storetest: drop template database:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// makeTemplate creates and migrates a database, then closes every connection to it, which
// PostgreSQL requires of a template.
func makeTemplate(admin string) (string, func() error, error) {
	ctx := context.Background()
	adminStore, err := store.Open(ctx, store.Config{URL: admin, MaxOpenConns: 1})
	if err != nil {
		return "", nil, err
	}
	name := "tpl_" + randomSuffix()
	if err := adminStore.ExecAdmin(ctx, fmt.Sprintf(`create database %q`, name)); err != nil {
		_ = adminStore.Close()
		return "", nil, err
	}
	drop := func() error {
		defer adminStore.Close()
		return adminStore.ExecAdmin(context.Background(), fmt.Sprintf(`drop database if exists %q with (force)`, name))
	}
	u, err := databaseURL(admin, name)
	if err == nil {
		var st *store.Store
		if st, err = store.Open(ctx, store.Config{URL: u}); err == nil {
			err = st.Migrate(ctx)
			_ = st.Close()
		}
	}
	if err != nil {
		_ = drop()
		return "", nil, err
	}
	return name, drop, nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func databaseURL(admin, name string) (string, error) {
	parsed, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	parsed.Path = "/" + name
	return parsed.String(), nil
}

// PostgresURL creates an empty PostgreSQL database, registers its removal with t.Cleanup, and
// returns its URL. It skips the test when TEST_DATABASE_URL is unset or under -short.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "")
}

// newDatabase creates a database, a copy of tpl when tpl is not empty, registers its removal
// with t.Cleanup and returns its URL; it skips the test as PostgresURL does.
func newDatabase(t testing.TB, tpl string) string {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		t.Skipf("postgres: %s is not set", EnvPostgres)
	}
	if testing.Short() {
		t.Skip("postgres: skipped under -short")
	}
	ctx := context.Background()
	adminStore, err := store.Open(ctx, store.Config{URL: admin, MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("postgres admin connection: %v", err)
	}
	name := "t_" + randomSuffix()
	create := fmt.Sprintf(`create database %q`, name)
	if tpl != "" {
		create += fmt.Sprintf(` template %q`, tpl)
	}
	if err := adminStore.ExecAdmin(ctx, create); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		err := adminStore.ExecAdmin(context.Background(), fmt.Sprintf(`drop database if exists %q with (force)`, name))
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		_ = adminStore.Close()
	})
	u, err := databaseURL(admin, name)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	return u
}

func open(t testing.TB, u string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URL: u})
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}
