package store

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MigrationStatus is what a database records of this binary's migrations: each core migration
// file and each plugin migration asked about, with whether it has run.
type MigrationStatus struct {
	Core    []MigrationState `json:"core"`
	Plugins []MigrationState `json:"plugins"`
}

// MigrationState is one migration, by its file name (core) or Name (plugin). AppliedAt is the
// time it was recorded (JSTime text), empty when it has not run.
type MigrationState struct {
	Name      string `json:"name"`
	Applied   bool   `json:"applied"`
	AppliedAt string `json:"appliedAt,omitempty"`
}

// Pending counts the migrations not yet applied.
func (m MigrationStatus) Pending() int {
	n := 0
	for _, s := range append(append([]MigrationState(nil), m.Core...), m.Plugins...) {
		if !s.Applied {
			n++
		}
	}
	return n
}

// DialectOf names the database a DATABASE_URL points at, without opening it.
func DialectOf(url string) (Dialect, error) {
	d, _, err := parseURL(url)
	return d, err
}

// Status reads which core migrations and which of the plugin migrations ms are recorded, changing
// nothing: a database never migrated has none applied.
func (s *Store) Status(ctx context.Context, ms []PluginMigration) (MigrationStatus, error) {
	core, err := loadMigrations(s.dialect)
	if err != nil {
		return MigrationStatus{}, err
	}
	db := s.conn(ctx)
	read := func(table, key string) (map[string]string, error) {
		cols, err := s.columns(db, table)
		if err != nil || len(cols) == 0 {
			return map[string]string{}, err
		}
		var rows []struct {
			Key       string `gorm:"column:k"`
			AppliedAt string `gorm:"column:appliedAt"`
		}
		q := fmt.Sprintf(`select cast(%q as text) as k, "appliedAt" from %q`, key, table)
		if err := db.Raw(q).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: read %s: %w", table, classify(err))
		}
		out := make(map[string]string, len(rows))
		for _, r := range rows {
			out[r.Key] = r.AppliedAt
		}
		return out, nil
	}
	doneCore, err := read(migrationsTable, "version")
	if err != nil {
		return MigrationStatus{}, err
	}
	donePlugins, err := read(pluginMigrationsTable, "name")
	if err != nil {
		return MigrationStatus{}, err
	}
	var st MigrationStatus
	for _, m := range core {
		at, ok := doneCore[strconv.Itoa(m.version)]
		st.Core = append(st.Core, MigrationState{Name: m.name, Applied: ok, AppliedAt: at})
	}
	if len(doneCore) > len(core) {
		return st, fmt.Errorf("store: the database records %d core migrations, more than the %d this binary knows; upgrade it", len(doneCore), len(core))
	}
	for _, m := range ms {
		at, ok := donePlugins[m.Name]
		st.Plugins = append(st.Plugins, MigrationState{Name: m.Name, Applied: ok, AppliedAt: at})
	}
	return st, nil
}

// MigrationScript is the SQL that Migrate followed by MigratePlugins(ms) runs on an empty
// database of dialect d, as one script for an operator who applies schema changes by hand: the
// same statements in the same order, and the rows recording them, so a server started on the
// result finds nothing left to do. It runs in one transaction. It is for an empty database only:
// on one Better-Auth created, the server adopts the tables it finds instead.
func MigrationScript(d Dialect, ms []PluginMigration) (string, error) {
	core, err := loadMigrations(d)
	if err != nil {
		return "", err
	}
	now := `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
	if d == Postgres {
		now = `to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
	}
	var b strings.Builder
	stmt := func(s string) { b.WriteString(s); b.WriteString(";\n\n") }
	b.WriteString("-- The authserver schema for " + string(d) + ", written by `authserver migrate print`.\n")
	b.WriteString("-- Apply it to an empty database; the server then finds every migration recorded.\n\n")
	stmt("begin")
	stmt(fmt.Sprintf(`create table if not exists %q ("version" integer not null primary key, "name" text not null, "appliedAt" text not null)`, migrationsTable))
	cols := map[string]map[string]bool{}
	for _, m := range core {
		b.WriteString("-- " + m.name + "\n")
		for _, s := range splitStatements(m.sql) {
			noteColumns(cols, s)
			stmt(s)
		}
		stmt(fmt.Sprintf(`insert into %q ("version", "name", "appliedAt") values (%d, %s, %s)`, migrationsTable, m.version, sqlString(m.name), now))
	}
	if len(ms) > 0 {
		stmt(fmt.Sprintf(`create table if not exists %q ("name" text not null primary key, "appliedAt" text not null)`, pluginMigrationsTable))
	}
	for _, m := range ms {
		body, ok := m.SQL[d]
		if !ok {
			return "", fmt.Errorf("store: plugin migration %s has no %s version", m.Name, d)
		}
		b.WriteString("-- " + m.Name + "\n")
		if m.Column != "" && cols[m.Table][m.Column] {
			// MigratePlugins adopts a column that is already there rather than add it again.
			b.WriteString(fmt.Sprintf("-- (%q.%q exists already: recorded without running, as the server does)\n", m.Table, m.Column))
		} else {
			for _, s := range splitStatements(body) {
				noteColumns(cols, s)
				stmt(s)
			}
		}
		stmt(fmt.Sprintf(`insert into %q ("name", "appliedAt") values (%s, %s)`, pluginMigrationsTable, sqlString(m.Name), now))
	}
	b.WriteString("commit;\n")
	return b.String(), nil
}

var (
	createTableRe = regexp.MustCompile(`(?is)^\s*create\s+table\s+(?:if\s+not\s+exists\s+)?"([^"]+)"\s*\((.*)\)\s*$`)
	addColumnRe   = regexp.MustCompile(`(?is)^\s*alter\s+table\s+"([^"]+)"\s+add\s+column\s+(?:if\s+not\s+exists\s+)?"([^"]+)"`)
	columnDefRe   = regexp.MustCompile(`^\s*"([^"]+)"`)
)

// noteColumns records in cols the columns a create-table or add-column statement makes, so
// MigrationScript can tell which plugin migrations the server would adopt instead of run. The
// migrations quote every identifier, which is what this reads.
func noteColumns(cols map[string]map[string]bool, stmt string) {
	add := func(table, col string) {
		if cols[table] == nil {
			cols[table] = map[string]bool{}
		}
		cols[table][col] = true
	}
	if m := addColumnRe.FindStringSubmatch(stmt); m != nil {
		add(m[1], m[2])
		return
	}
	m := createTableRe.FindStringSubmatch(stmt)
	if m == nil {
		return
	}
	depth, start := 0, 0
	body := m[2] + ","
	for i, r := range body {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				if c := columnDefRe.FindStringSubmatch(body[start:i]); c != nil {
					add(m[1], c[1])
				}
				start = i + 1
			}
		}
	}
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
