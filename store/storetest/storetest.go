// Package storetest gives tests a freshly migrated database on every dialect the server supports:
// always a SQLite file in the test's temp folder, and a throwaway PostgreSQL database when
// TEST_DATABASE_URL names a server (skipped under -short).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
// migrated database that is removed when the subtest ends.
func Run(t *testing.T, fn func(t *testing.T, st *store.Store)) {
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
	u := PostgresURL(t)
	return open(t, u)
}

// PostgresURL creates an empty PostgreSQL database, registers its removal with t.Cleanup, and
// returns its URL. It skips the test when TEST_DATABASE_URL is unset or under -short.
func PostgresURL(t testing.TB) string {
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
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if err := adminStore.ExecAdmin(ctx, fmt.Sprintf(`create database %q`, name)); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		err := adminStore.ExecAdmin(context.Background(), fmt.Sprintf(`drop database if exists %q with (force)`, name))
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		_ = adminStore.Close()
	})
	parsed, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	parsed.Path = "/" + name
	return parsed.String()
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
