package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The user and session rows are spelled out here once. The core columns are the typed fields of
// User and Session, listed in userCore and sessionCore in the order Better-Auth prints them (its
// adapter walks the schema's fields, core first, then each plugin's, and puts id last). Columns a
// plugin adds are Fields, registered on the Store at startup with RegisterFields; their values
// ride along in User.Extra and Session.Extra, in registration order. Everything that reads,
// writes, caches or prints a row (the select list and scan here, the session cache's packed form,
// the cookie cache, the JSON bodies) walks these lists, so a plugin column is one Field and
// nothing else.

// FieldType is the type of a column a plugin adds, as Better-Auth's schema names them.
type FieldType uint8

// The field types Better-Auth's plugins use on the user and session tables.
const (
	StringField FieldType = iota + 1 // "string": TEXT
	BoolField                        // "boolean": BOOLEAN on PostgreSQL, INTEGER 0/1 on SQLite
	IntField                         // "number": an integer
	TimeField                        // "date": stored and printed as the core timestamps are
)

// Field is a column a plugin adds to the user or session table. Its Name is both the column name
// and the JSON key, as in Better-Auth's schema.
type Field struct {
	Name string
	Type FieldType
	// Nullable lets an insert leave the column NULL when the caller set no value. A field that is
	// not nullable must have a Default.
	Nullable bool
	// Hidden is Better-Auth's returned:false: the value is read and cached but never printed, in
	// no JSON body and not in the cookie cache (so a session read back from that cookie has it unset).
	Hidden bool
	// Default is written on insert when the caller left the value unset (Valid false).
	Default Value
	// ReadOnly is Better-Auth's input:false: only the server sets the value. A sign-up or
	// update-user body that sets it to a truthy value is refused with FIELD_NOT_ALLOWED; a falsy
	// one (null, "", false, 0) is ignored, as in Better-Auth.
	ReadOnly bool
	// DefaultByHook marks a Default that Better-Auth writes from a user-create hook rather than
	// from its schema (admin's role): a ReadOnly field without a schema default is refused on
	// sign-up too, where a schema default silently replaces what the body says.
	DefaultByHook bool
}

// Value is the value of one added column. Valid false is SQL NULL (printed as null) or, on a row
// about to be inserted, "not set". Str holds strings, Int integers and booleans (0 or 1), Time
// times.
type Value struct {
	Valid bool
	Str   string
	Int   int64
	Time  time.Time
}

// StringValue, BoolValue, IntValue and TimeValue make a set Value of each type.
func StringValue(s string) Value { return Value{Valid: true, Str: s} }

// BoolValue makes a set boolean Value.
func BoolValue(b bool) Value {
	if b {
		return Value{Valid: true, Int: 1}
	}
	return Value{Valid: true}
}

// IntValue makes a set integer Value.
func IntValue(n int64) Value { return Value{Valid: true, Int: n} }

// TimeValue makes a set time Value, truncated to milliseconds in UTC as every stored time is.
func TimeValue(t time.Time) Value { return Value{Valid: true, Time: NewTime(t).Time} }

// Bool reports whether a boolean Value is set and true.
func (v Value) Bool() bool { return v.Valid && v.Int != 0 }

// Columns is the list of added fields of each table, in the order they were registered.
// Callers must not modify the slices.
type Columns struct {
	User    []Field
	Session []Field
}

// column is one core column of T: its name and the address of its value in a T. The address is
// the scan destination, and dereferenced (deref) the insert argument.
type column[T any] struct {
	name string
	addr func(*T) any
}

// userCore is the user's core columns in Better-Auth's output order.
var userCore = []column[User]{
	{"name", func(u *User) any { return &u.Name }},
	{"email", func(u *User) any { return &u.Email }},
	{"emailVerified", func(u *User) any { return &u.EmailVerified }},
	{"image", func(u *User) any { return &u.Image }},
	{"createdAt", func(u *User) any { return &u.CreatedAt }},
	{"updatedAt", func(u *User) any { return &u.UpdatedAt }},
	{"id", func(u *User) any { return &u.ID }},
}

// sessionCore is the session's core columns in Better-Auth's output order.
var sessionCore = []column[Session]{
	{"expiresAt", func(s *Session) any { return &s.ExpiresAt }},
	{"token", func(s *Session) any { return &s.Token }},
	{"createdAt", func(s *Session) any { return &s.CreatedAt }},
	{"updatedAt", func(s *Session) any { return &s.UpdatedAt }},
	{"ipAddress", func(s *Session) any { return &s.IPAddress }},
	{"userAgent", func(s *Session) any { return &s.UserAgent }},
	{"userId", func(s *Session) any { return &s.UserID }},
	{"id", func(s *Session) any { return &s.ID }},
}

func names[T any](cols []column[T]) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// deref turns a core column's address into the value to insert.
func deref(p any) any {
	switch p := p.(type) {
	case *string:
		return *p
	case **string:
		if *p == nil {
			return nil
		}
		return **p
	case *bool:
		return *p
	case *Time:
		return *p
	}
	panic(fmt.Sprintf("store: no insert value for %T", p))
}

// schema is a Store's registered fields and the SQL made from them. It is shared by a Store and
// the transaction Stores made from it.
type schema struct {
	mu     sync.Mutex
	frozen bool // Columns was called: registering more would leave its callers behind
	cols   Columns

	userSelect, sessionSelect, sessionWithUser string
}

func newSchema() *schema {
	s := &schema{}
	s.build()
	return s
}

// build makes the select lists from the core columns and the registered fields.
func (sc *schema) build() {
	list := func(alias string, core []string, extra []Field) string {
		cols := make([]string, 0, len(core)+len(extra))
		for _, n := range core {
			cols = append(cols, alias+strconv.Quote(n))
		}
		for _, f := range extra {
			cols = append(cols, alias+strconv.Quote(f.Name))
		}
		return strings.Join(cols, ", ")
	}
	sc.userSelect = `select ` + list("", names(userCore), sc.cols.User) + ` from "user"`
	sc.sessionSelect = `select ` + list("", names(sessionCore), sc.cols.Session) + ` from "session"`
	sc.sessionWithUser = `select ` + list("s.", names(sessionCore), sc.cols.Session) + `,
 ` + list("u.", names(userCore), sc.cols.User) + `
 from "session" s join "user" u on u."id" = s."userId" where s."token"`
}

// RegisterFields adds plugin columns to the user and session rows, after the core columns and
// after any registered before, in the order given (Better-Auth prints them in the order the
// plugins are enabled). The columns must exist (a plugin's migration adds them). It must be called
// at startup, before the store is handed to the session manager or the web server: once Columns
// has been read, it fails. A name that is empty, not a plain identifier, or already a column of
// that table is an error, and so is a non-nullable field without a default.
func (s *Store) RegisterFields(user, session []Field) error {
	sc := s.schema
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.frozen {
		return fmt.Errorf("store: fields registered after the store was put to use")
	}
	check := func(table string, core []string, have, add []Field) error {
		taken := map[string]bool{}
		for _, n := range core {
			taken[n] = true
		}
		for _, f := range have {
			taken[f.Name] = true
		}
		for _, f := range add {
			switch {
			case !plainIdent(f.Name):
				return fmt.Errorf("store: %s field %q: not a plain column name", table, f.Name)
			case taken[f.Name]:
				return fmt.Errorf("store: %s field %q registered twice", table, f.Name)
			case f.Type < StringField || f.Type > TimeField:
				return fmt.Errorf("store: %s field %q: unknown type %d", table, f.Name, f.Type)
			case !f.Nullable && !f.Default.Valid:
				return fmt.Errorf("store: %s field %q: not nullable, so it needs a default", table, f.Name)
			}
			taken[f.Name] = true
		}
		return nil
	}
	if err := check("user", names(userCore), sc.cols.User, user); err != nil {
		return err
	}
	if err := check("session", names(sessionCore), sc.cols.Session, session); err != nil {
		return err
	}
	sc.cols.User = append(sc.cols.User[:len(sc.cols.User):len(sc.cols.User)], user...)
	sc.cols.Session = append(sc.cols.Session[:len(sc.cols.Session):len(sc.cols.Session)], session...)
	sc.build()
	return nil
}

// Columns returns the registered fields (none for a nil Store). From then on RegisterFields
// fails, so every reader (session manager, web server) works from the same list.
func (s *Store) Columns() Columns {
	if s == nil {
		return Columns{}
	}
	s.schema.mu.Lock()
	defer s.schema.mu.Unlock()
	s.schema.frozen = true
	return s.schema.cols
}

func plainIdent(n string) bool {
	if n == "" {
		return false
	}
	for i, c := range n {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// fieldScanner scans one added column into a Value of its type.
type fieldScanner struct {
	typ FieldType
	v   *Value
}

func (f fieldScanner) Scan(src any) error {
	*f.v = Value{}
	if src == nil {
		return nil
	}
	switch f.typ {
	case StringField:
		switch s := src.(type) {
		case string:
			f.v.Str = s
		case []byte:
			f.v.Str = string(s)
		default:
			return fmt.Errorf("store: cannot read %T as a string", src)
		}
	case BoolField, IntField:
		switch n := src.(type) {
		case bool:
			if n {
				f.v.Int = 1
			}
		case int64:
			f.v.Int = n
		case float64:
			f.v.Int = int64(n)
		case string:
			return f.parseNumber(n)
		case []byte:
			return f.parseNumber(string(n))
		default:
			return fmt.Errorf("store: cannot read %T as a number", src)
		}
		if f.typ == BoolField && f.v.Int != 0 {
			f.v.Int = 1
		}
	case TimeField:
		var t Time
		if err := t.Scan(src); err != nil {
			return err
		}
		f.v.Time = t.Time
	}
	f.v.Valid = true
	return nil
}

func (f fieldScanner) parseNumber(s string) error {
	if f.typ == BoolField {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("store: cannot read %q as a boolean", s)
		}
		*f.v = BoolValue(b)
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("store: cannot read %q as an integer", s)
	}
	*f.v = IntValue(n)
	return nil
}

// extraDest appends scan destinations for fields into vals, which it returns sized to fields.
func extraDest(dest []any, fields []Field, vals *[]Value) []any {
	if len(fields) == 0 {
		return dest
	}
	*vals = make([]Value, len(fields))
	for i, f := range fields {
		dest = append(dest, fieldScanner{f.Type, &(*vals)[i]})
	}
	return dest
}

// Defaults returns the values an insert of a row with no added values set would store: each
// field's default (unset for nullable fields without one). It is nil when there are no fields.
func Defaults(fields []Field) []Value {
	if len(fields) == 0 {
		return nil
	}
	out := make([]Value, len(fields))
	for i, f := range fields {
		out[i] = f.Default
	}
	return out
}

// resolve is the value an insert stores for f: v, or the default when v is unset.
func (f Field) resolve(v Value) Value {
	if !v.Valid {
		return f.Default
	}
	return v
}

// arg is v as an insert argument.
func (f Field) arg(v Value) any {
	if !v.Valid {
		return nil
	}
	switch f.Type {
	case StringField:
		return v.Str
	case BoolField:
		return v.Int != 0
	case IntField:
		return v.Int
	}
	return NewTime(v.Time)
}

// at returns vals[i], or an unset Value when vals is shorter (a row built without its extras).
func at(vals []Value, i int) Value {
	if i < len(vals) {
		return vals[i]
	}
	return Value{}
}

// insertRow inserts one row of table: the core columns, then the registered fields. It sets
// *extra to the values stored (defaults applied), so the caller's row is what a read would return.
func insertRow[T any](ctx context.Context, s *Store, table string, core []column[T], row *T, fields []Field, extra *[]Value) error {
	cols := make([]string, 0, len(core)+len(fields))
	args := make([]any, 0, len(core)+len(fields))
	for _, c := range core {
		cols = append(cols, strconv.Quote(c.name))
		args = append(args, deref(c.addr(row)))
	}
	var stored []Value
	if len(fields) > 0 {
		stored = make([]Value, len(fields))
	}
	for i, f := range fields {
		stored[i] = f.resolve(at(*extra, i))
		cols = append(cols, strconv.Quote(f.Name))
		args = append(args, f.arg(stored[i]))
	}
	q := `insert into ` + strconv.Quote(table) + ` (` + strings.Join(cols, ", ") + `) values (?` + strings.Repeat(", ?", len(cols)-1) + `)`
	if err := s.conn(ctx).Exec(q, args...).Error; err != nil {
		return err
	}
	if len(fields) > 0 {
		*extra = stored
	}
	return nil
}

// scanRows reads every row of rows with scan.
func scanRows[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }, *T) error) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
