package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// migrationsTable records which numbered core migration files have run (plugin migrations are
// recorded apart, in pluginMigrationsTable).
const migrationsTable = "schema_migrations"

// pgMigrationLock is the advisory-lock key that serialises migrations when several replicas start
// at once against one PostgreSQL database.
const pgMigrationLock = 7305120831

type migration struct {
	version int
	name    string
	sql     string
}

// coreTables are created by migration 1 and by Better-Auth's own migrate; when they already exist
// the database was made by Better-Auth and migration 1 is recorded without running.
var coreTables = map[string][]string{
	"user":         names(userCore),
	"session":      names(sessionCore),
	"account":      {"id", "accountId", "providerId", "userId", "accessToken", "refreshToken", "idToken", "accessTokenExpiresAt", "refreshTokenExpiresAt", "scope", "password", "createdAt", "updatedAt"},
	"verification": {"id", "identifier", "value", "expiresAt", "createdAt", "updatedAt"},
}

func loadMigrations(d Dialect) ([]migration, error) {
	dir := "migrations/" + string(d)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: bad version prefix", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migrations must be numbered 1..n without gaps; found %s", m.name)
		}
	}
	return out, nil
}

// LatestVersion is the schema version this binary migrates to.
func (s *Store) LatestVersion() int {
	ms, _ := loadMigrations(s.dialect)
	return len(ms)
}

// Migrate brings the schema up to this binary's version, one transaction per migration file. On a
// database whose core tables Better-Auth already created, migration 1 is recorded as applied
// without touching those tables (after checking they have every column the server uses). It
// refuses a database migrated by a newer binary rather than run against a schema it does not know.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	return s.withMigrationLock(ctx, func(db *gorm.DB) error {
		create := fmt.Sprintf(`create table if not exists %q ("version" integer not null primary key, "name" text not null, "appliedAt" text not null)`, migrationsTable)
		if err := db.Exec(create).Error; err != nil {
			return fmt.Errorf("store: create %s: %w", migrationsTable, classify(err))
		}
		var applied []int
		if err := db.Raw(fmt.Sprintf(`select "version" from %q order by "version"`, migrationsTable)).Scan(&applied).Error; err != nil {
			return fmt.Errorf("store: read %s: %w", migrationsTable, classify(err))
		}
		done := map[int]bool{}
		for _, v := range applied {
			done[v] = true
			if v > len(ms) {
				return fmt.Errorf("store: database schema version %d is newer than this binary knows (%d); upgrade the server", v, len(ms))
			}
		}
		for _, m := range ms {
			if done[m.version] {
				continue
			}
			err := db.Transaction(func(tx *gorm.DB) error {
				adopt := false
				if m.version == 1 {
					var err error
					if adopt, err = s.coreTablesExist(tx); err != nil {
						return err
					}
				}
				if !adopt {
					for _, stmt := range splitStatements(m.sql) {
						if err := tx.Exec(stmt).Error; err != nil {
							return fmt.Errorf("store: migration %s: %w", m.name, classify(err))
						}
					}
				}
				rec := fmt.Sprintf(`insert into %q ("version", "name", "appliedAt") values (?, ?, ?)`, migrationsTable)
				return tx.Exec(rec, m.version, m.name, time.Now().UTC().Format(JSTime)).Error
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// coreTablesExist reports whether Better-Auth's tables are already there. A partial or
// incompatible set is an error: the server will not guess how to repair someone else's schema.
func (s *Store) coreTablesExist(tx *gorm.DB) (bool, error) {
	found := 0
	for table, want := range coreTables {
		cols, err := s.columns(tx, table)
		if err != nil {
			return false, err
		}
		if len(cols) == 0 {
			continue
		}
		found++
		for _, c := range want {
			if !cols[c] {
				return false, fmt.Errorf("store: existing table %q lacks column %q; it was not created by Better-Auth 1.7 (run its migration first)", table, c)
			}
		}
	}
	switch found {
	case 0:
		return false, nil
	case len(coreTables):
		return true, nil
	}
	return false, fmt.Errorf("store: only %d of the %d Better-Auth tables exist; refusing to migrate a partial schema", found, len(coreTables))
}

func (s *Store) columns(tx *gorm.DB, table string) (map[string]bool, error) {
	var names []string
	var err error
	if s.dialect == Postgres {
		err = tx.Raw(`select column_name from information_schema.columns where table_schema = current_schema() and table_name = ?`, table).Scan(&names).Error
	} else {
		err = tx.Raw(`select name from pragma_table_info(?)`, table).Scan(&names).Error
	}
	if err != nil {
		return nil, fmt.Errorf("store: inspect %s: %w", table, classify(err))
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}

// withMigrationLock runs fn on one connection; on PostgreSQL it holds an advisory lock so replicas
// starting together migrate one at a time.
func (s *Store) withMigrationLock(ctx context.Context, fn func(db *gorm.DB) error) error {
	if s.dialect != Postgres {
		return fn(s.conn(ctx))
	}
	return s.conn(ctx).Connection(func(db *gorm.DB) error {
		if err := db.Exec(`select pg_advisory_lock(?)`, pgMigrationLock).Error; err != nil {
			return fmt.Errorf("store: migration lock: %w", classify(err))
		}
		defer db.Exec(`select pg_advisory_unlock(?)`, pgMigrationLock)
		return fn(db)
	})
}

// splitStatements splits a migration file on semicolons that end a line, except inside
// dollar-quoted bodies ($$ ... $$) such as PL/pgSQL functions. The files hold plain DDL without
// semicolons inside literals, and drivers differ in whether one Exec may run several statements.
func splitStatements(sqlText string) []string {
	var out []string
	var cur strings.Builder
	inDollar := false
	for _, line := range strings.Split(sqlText, "\n") {
		trimmed := strings.TrimSpace(line)
		if !inDollar && (strings.HasPrefix(trimmed, "--") || trimmed == "") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.Count(line, "$$")%2 == 1 {
			inDollar = !inDollar
		}
		if !inDollar && strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}
