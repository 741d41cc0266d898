package store_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"authserver/store"
)

// withUmask sets the process umask for one test, as a shell with the usual 022 would.
func withUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// The database, its WAL and its shared-memory file hold live session and reset tokens: another
// local user must not read them, even in a data folder that is 0755 (as Docker and mkdir make it)
// under the usual umask 022.
func TestSQLiteFilesArePrivate(t *testing.T) {
	withUmask(t, 0o022)
	tests := []struct {
		name     string
		existing os.FileMode // mode of a database file already there; 0 = none
		wantWarn bool
	}{
		{"new database", 0, false},
		{"database an older version left world-readable", 0o644, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "app.db")
			if tt.existing != 0 {
				if err := os.WriteFile(path, nil, tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			ctx := context.Background()
			st, err := store.Open(ctx, store.Config{URL: "sqlite:" + path, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			now := store.NewTime(time.Now())
			if err := st.CreateUser(ctx, newUser("u1", "a@example.com", now)); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"app.db", "app.db-wal", "app.db-shm"} {
				info, err := os.Stat(filepath.Join(dir, f))
				if err != nil {
					t.Errorf("%s: %v", f, err)
					continue
				}
				if perm := info.Mode().Perm(); perm&0o007 != 0 || (tt.existing == 0 && perm != 0o600) {
					t.Errorf("%s mode = %04o, want 0600 (no access for other users)", f, perm)
				}
			}
			if got := strings.Contains(logs.String(), "readable by other users"); got != tt.wantWarn {
				t.Errorf("warning logged = %v, want %v:\n%s", got, tt.wantWarn, logs.String())
			}
		})
	}
}

// The folder the server creates for the database is 0700; SQLiteFile names the file a URL points
// to (and nothing for Postgres or an in-memory database).
func TestSQLiteFolderAndFile(t *testing.T) {
	withUmask(t, 0o022)
	dir := filepath.Join(t.TempDir(), "new", "data")
	st, err := store.Open(context.Background(), store.Config{URL: "sqlite:" + filepath.Join(dir, "app.db")})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("created folder: %v, mode %v; want 0700", err, info.Mode())
	}
	tests := []struct {
		url, want string
		ok        bool
	}{
		{"sqlite:" + filepath.Join(dir, "app.db"), filepath.Join(dir, "app.db"), true},
		{"file:/srv/x.db?_pragma=busy_timeout(1)", "/srv/x.db", true},
		{"postgres://u@h/db", "", false},
		{"sqlite::memory:", "", false},
		{"file:x?mode=memory&cache=shared", "", false},
	}
	for _, tt := range tests {
		if got, ok := store.SQLiteFile(tt.url); got != tt.want || ok != tt.ok {
			t.Errorf("SQLiteFile(%q) = %q, %v; want %q, %v", tt.url, got, ok, tt.want, tt.ok)
		}
	}
}
