package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadQuery is a user listing the database cannot answer: an unknown field, an operator that
// does not fit the field or the value, a value of the wrong type, a negative or fractional page.
// Better-Auth's adapter throws for these and its list-users answers an empty list.
var ErrBadQuery = errors.New("store: bad user query")

// UserCond is one condition of a user listing, as Better-Auth's adapter where clauses: Field is a
// core column or a registered user field; Op one of eq, ne, lt, lte, gt, gte, in, not_in,
// contains, starts_with, ends_with; Values the operand as text (several for in and not_in),
// converted to the field's type.
type UserCond struct {
	Field  string
	Op     string
	Values []string
}

// UserQuery is a page of users: every condition must hold; SortBy (a field, empty: the
// database's order) with Desc; Limit and Offset when positive.
type UserQuery struct {
	Where         []UserCond
	SortBy        string
	Desc          bool
	Limit, Offset int
}

// fieldType is the type of a core user column or a registered user field; ok false when unknown.
func (s *Store) userFieldType(name string) (FieldType, bool) {
	switch name {
	case "id", "name", "email", "image":
		return StringField, true
	case "emailVerified":
		return BoolField, true
	case "createdAt", "updatedAt":
		return TimeField, true
	}
	if i := fieldIndex(s.Columns().User, name); i >= 0 {
		return s.Columns().User[i].Type, true
	}
	return 0, false
}

// queryArg converts a condition's text to the argument for a column of type t.
func queryArg(t FieldType, v string) (any, error) {
	switch t {
	case StringField:
		if !ValidText(v) {
			return nil, ErrBadQuery
		}
		return v, nil
	case BoolField:
		switch v {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case IntField:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, nil
		}
	case TimeField:
		var tm Time
		if err := tm.parse(v); err == nil {
			return NewTime(tm.Time), nil
		}
		if t, err := time.Parse("2006-01-02", v); err == nil {
			return NewTime(t), nil
		}
	}
	return nil, ErrBadQuery
}

var compareOps = map[string]string{"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}

// where builds the SQL condition of q.
func (s *Store) userQueryWhere(q UserQuery) (string, []any, error) {
	var parts []string
	var args []any
	for _, c := range q.Where {
		t, ok := s.userFieldType(c.Field)
		if !ok || len(c.Values) == 0 {
			return "", nil, ErrBadQuery
		}
		col := strconv.Quote(c.Field)
		switch c.Op {
		case "in", "not_in":
			if len(c.Values) < 2 {
				return "", nil, ErrBadQuery // a single text is not a list, as Better-Auth's adapter refuses it
			}
			marks := make([]string, len(c.Values))
			for i, v := range c.Values {
				a, err := queryArg(t, v)
				if err != nil {
					return "", nil, err
				}
				marks[i], args = "?", append(args, a)
			}
			op := " in "
			if c.Op == "not_in" {
				op = " not in "
			}
			parts = append(parts, col+op+"("+strings.Join(marks, ", ")+")")
			continue
		}
		if len(c.Values) != 1 {
			return "", nil, ErrBadQuery
		}
		v := c.Values[0]
		switch c.Op {
		case "contains", "starts_with", "ends_with":
			if t != StringField || !ValidText(v) {
				return "", nil, ErrBadQuery
			}
			// LIKE as Better-Auth's SQL adapter writes it: case-sensitive on PostgreSQL, not for
			// ASCII on SQLite, and % and _ in the value are wildcards there too.
			switch c.Op {
			case "contains":
				v = "%" + v + "%"
			case "starts_with":
				v += "%"
			default:
				v = "%" + v
			}
			parts, args = append(parts, col+" like ?"), append(args, v)
		default:
			op, ok := compareOps[c.Op]
			if !ok {
				return "", nil, ErrBadQuery
			}
			a, err := queryArg(t, v)
			if err != nil {
				return "", nil, err
			}
			parts, args = append(parts, col+" "+op+" ?"), append(args, a)
		}
	}
	if len(parts) == 0 {
		return "", nil, nil
	}
	return " where " + strings.Join(parts, " and "), args, nil
}

// ListUsers returns a page of the users matching q and how many match in all. A query the
// database cannot answer is ErrBadQuery.
func (s *Store) ListUsers(ctx context.Context, q UserQuery) ([]User, int64, error) {
	if q.Limit < 0 || q.Offset < 0 {
		return nil, 0, ErrBadQuery
	}
	where, args, err := s.userQueryWhere(q)
	if err != nil {
		return nil, 0, err
	}
	sqlText := s.schema.userSelect + where
	if q.SortBy != "" {
		if _, ok := s.userFieldType(q.SortBy); !ok {
			return nil, 0, ErrBadQuery
		}
		dir := " asc"
		if q.Desc {
			dir = " desc"
		}
		sqlText += ` order by ` + strconv.Quote(q.SortBy) + dir
	}
	switch {
	case q.Limit > 0:
		sqlText += " limit " + strconv.Itoa(q.Limit)
	case q.Offset > 0:
		sqlText += " limit -1" // SQLite needs a limit before an offset
		if s.dialect == Postgres {
			sqlText = strings.TrimSuffix(sqlText, " limit -1") + " limit all"
		}
	}
	if q.Offset > 0 {
		sqlText += " offset " + strconv.Itoa(q.Offset)
	}
	// The page and the total are two statements, as Better-Auth runs them (listUsers, then
	// countTotalUsers, no shared snapshot). On PostgreSQL they run side by side on two pooled
	// connections, so a page costs the slower of the two rather than their sum: at 100,000 users
	// the count alone is most of an unfiltered page (web/listload_bench_test.go).
	var total int64
	count := func() error {
		if err := s.conn(ctx).Raw(`select count(*) from "user"`+where, args...).Row().Scan(&total); err != nil {
			return fmt.Errorf("store: count users: %w", classify(err))
		}
		return nil
	}
	if s.dialect != Postgres {
		users, err := s.listUsersPage(ctx, sqlText, args)
		if err != nil {
			return nil, 0, err
		}
		if err := count(); err != nil {
			return nil, 0, err
		}
		return users, total, nil
	}
	counted := make(chan error, 1)
	go func() { counted <- count() }()
	users, err := s.listUsersPage(ctx, sqlText, args)
	if cerr := <-counted; err == nil {
		err = cerr
	}
	if err != nil {
		return nil, 0, err
	}
	return users, total, nil
}

// listUsersPage runs the page query of ListUsers.
func (s *Store) listUsersPage(ctx context.Context, sqlText string, args []any) ([]User, error) {
	rows, err := s.conn(ctx).Raw(sqlText, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", classify(err))
	}
	users, err := scanRows(rows, s.scanUser)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", classify(err))
	}
	return users, nil
}
