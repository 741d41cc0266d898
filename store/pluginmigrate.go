package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// pluginMigrationsTable records the plugin migrations that have run, by name. The core runner's
// schema_migrations is numbered 1..n without gaps and refuses a version it does not know, so
// plugin migrations, which come and go with BETTER_AUTH_PLUGINS, are kept apart from it.
const pluginMigrationsTable = "authserver_plugin_migrations"

// PluginMigration is one schema change a plugin needs, run at startup when the plugin is enabled
// and recorded under its Name ("last-login-method/0001_user_lastLoginMethod") so it runs once.
// Turning the plugin off later leaves the change and its data in place; turning it on again does
// not repeat it.
type PluginMigration struct {
	Name string
	// SQL is the migration per dialect, statements separated by semicolons ending a line.
	SQL map[Dialect]string
	// Table and Column, when set, name the column the migration adds. A database Better-Auth
	// migrated with the same plugin already has it: then the migration is recorded without running,
	// so the column is adopted as it is.
	Table, Column string
}

// MigratePlugins runs the plugin migrations not yet recorded, in the order given, one transaction
// each, after the core migrations (Migrate). It holds the same lock as Migrate, so replicas
// starting together run each migration once.
func (s *Store) MigratePlugins(ctx context.Context, ms []PluginMigration) error {
	if len(ms) == 0 {
		return nil
	}
	return s.withMigrationLock(ctx, func(db *gorm.DB) error {
		create := fmt.Sprintf(`create table if not exists %q ("name" text not null primary key, "appliedAt" text not null)`, pluginMigrationsTable)
		if err := db.Exec(create).Error; err != nil {
			return fmt.Errorf("store: create %s: %w", pluginMigrationsTable, classify(err))
		}
		var applied []string
		if err := db.Raw(fmt.Sprintf(`select "name" from %q`, pluginMigrationsTable)).Scan(&applied).Error; err != nil {
			return fmt.Errorf("store: read %s: %w", pluginMigrationsTable, classify(err))
		}
		done := map[string]bool{}
		for _, n := range applied {
			done[n] = true
		}
		for _, m := range ms {
			if done[m.Name] {
				continue
			}
			body, ok := m.SQL[s.dialect]
			if !ok {
				return fmt.Errorf("store: plugin migration %s has no %s version", m.Name, s.dialect)
			}
			err := db.Transaction(func(tx *gorm.DB) error {
				adopt := false
				if m.Column != "" {
					cols, err := s.columns(tx, m.Table)
					if err != nil {
						return err
					}
					adopt = cols[m.Column]
				}
				if !adopt {
					for _, stmt := range splitStatements(body) {
						if err := tx.Exec(stmt).Error; err != nil {
							return fmt.Errorf("store: plugin migration %s: %w", m.Name, classify(err))
						}
					}
				}
				rec := fmt.Sprintf(`insert into %q ("name", "appliedAt") values (?, ?)`, pluginMigrationsTable)
				return tx.Exec(rec, m.Name, time.Now().UTC().Format(JSTime)).Error
			})
			if err != nil {
				return err
			}
			done[m.Name] = true
		}
		return nil
	})
}

// SetUserFields sets added user fields (by name) on the user and bumps updatedAt to now, as
// Better-Auth's updateUser does. A name that is not a registered user field is an error; a
// vanished user is ErrNotFound.
func (s *Store) SetUserFields(ctx context.Context, id string, vals map[string]Value, now Time) error {
	_, err := s.UpdateUserFields(ctx, id, nil, vals, now)
	return err
}

// UpdateUserFields is UpdateUser with added user fields (by name) set as well, and returns the
// stored user. A name that is not a registered user field is an error.
func (s *Store) UpdateUserFields(ctx context.Context, id string, core map[string]any, vals map[string]Value, now Time) (*User, error) {
	cols := make(map[string]any, len(core)+len(vals))
	for name, v := range core {
		cols[name] = v
	}
	for name, v := range vals {
		i := fieldIndex(s.Columns().User, name)
		if i < 0 {
			return nil, fmt.Errorf("store: user field %s is not registered", strconv.Quote(name))
		}
		cols[name] = s.schema.cols.User[i].arg(v)
	}
	return s.UpdateUser(ctx, id, cols, now)
}

// UserByField finds the user whose added user field name (a registered one) equals value.
func (s *Store) UserByField(ctx context.Context, name, value string) (*User, error) {
	if fieldIndex(s.Columns().User, name) < 0 {
		return nil, fmt.Errorf("store: user field %s is not registered", strconv.Quote(name))
	}
	if !ValidText(value) {
		return nil, notFound("user by " + name)
	}
	u, err := s.userWhere(ctx, strconv.Quote(name)+` = ?`, value)
	if err != nil {
		return nil, fmt.Errorf("store: user by %s: %w", name, classify(err))
	}
	return u, nil
}

// SetExtra sets added user fields (by name) on u, a row about to be inserted, sizing u.Extra to
// the registered fields. A name that is not a registered user field is an error.
func (s *Store) SetExtra(u *User, vals map[string]Value) error {
	fields := s.Columns().User
	for name, v := range vals {
		i := fieldIndex(fields, name)
		if i < 0 {
			return fmt.Errorf("store: user field %s is not registered", strconv.Quote(name))
		}
		for len(u.Extra) < len(fields) {
			u.Extra = append(u.Extra, Value{})
		}
		u.Extra[i] = v
	}
	return nil
}

// UserField returns the value of the added user field name on u (unset when u carries none); ok is
// false when no such field is registered.
func (s *Store) UserField(u *User, name string) (v Value, ok bool) {
	i := fieldIndex(s.Columns().User, name)
	if i < 0 {
		return Value{}, false
	}
	if i < len(u.Extra) {
		return u.Extra[i], true
	}
	return Value{}, true
}

// SessionField returns the value of the added session field name on sess, as UserField does for
// users.
func (s *Store) SessionField(sess *Session, name string) (v Value, ok bool) {
	i := fieldIndex(s.Columns().Session, name)
	if i < 0 {
		return Value{}, false
	}
	return at(sess.Extra, i), true
}

func fieldIndex(fields []Field, name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}
