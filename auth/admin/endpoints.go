package admin

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"authserver/auth"
	"authserver/auth/access"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// adminCookieMaxAge is admin_session's life: the session cookie's default Max-Age, as Better-Auth
// gives the cookie the session cookie's attributes.
const adminCookieMaxAge = 7 * 24 * 60 * 60

func validation(where, msg string) error {
	return &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: "[" + where + "] " + msg}
}

// jsKind names a decoded JSON value's type as zod's messages do; absent is "undefined".
func jsKind(v any, present bool) string {
	if !present {
		return "undefined"
	}
	return plugin.JSType(v)
}

// userID reads a body's userId as Better-Auth's z.coerce.string() does: any value becomes text
// (a missing one "undefined", which finds no user).
func userID(body map[string]any) string {
	v, present := body["userId"]
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		if !present {
			return "undefined"
		}
		return "null"
	}
	return "[object Object]"
}

// requireUserID is the body schema's userId (z.coerce.string()): any value passes and is read as
// text by userID, but a missing one is a validation error, ahead of the session check.
func requireUserID(body map[string]any) error {
	if _, ok := body["userId"]; !ok {
		return validation("body.userId", "Invalid input: expected nonoptional, received undefined")
	}
	return nil
}

// roleInput is the body schema's role, a string or a list of strings; anything else is the
// union's bare "Invalid input".
func roleInput(v any) (string, error) {
	role, err := roleList(v)
	if err != nil {
		return "", validation("body.role", "Invalid input")
	}
	return role, nil
}

func userJSON(st *store.Store, u *store.User) json.RawMessage {
	return store.AppendUserJSON(nil, u, st.Columns().User)
}

func sessionJSON(st *store.Store, s *store.Session) json.RawMessage {
	return store.AppendSessionJSON(nil, s, st.Columns().Session)
}

func wrapUser(st *store.Store, u *store.User) *plugin.Response {
	return &plugin.Response{Body: map[string]json.RawMessage{"user": userJSON(st, u)}}
}

var success = &plugin.Response{Body: map[string]bool{"success": true}}

// findUser reads the user an endpoint acts on; unknown is USER_NOT_FOUND.
func findUser(ctx context.Context, st *store.Store, id string) (*store.User, error) {
	u, err := st.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUserNotFound
	}
	return u, err
}

func oneOf(q map[string][]string, key string, allowed ...string) error {
	vs, ok := q[key]
	if !ok || slices.Contains(allowed, vs[0]) {
		return nil
	}
	return validation("query."+key, `Invalid option: expected one of "`+strings.Join(allowed, `"|"`)+`"`)
}

var whereOperators = []string{"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "starts_with", "ends_with"}

// jsNumber is Better-Auth's Number(x) || undefined for limit and offset: 0 for an absent,
// unreadable or zero value, and ok false for a value the database refuses (negative, fractional).
func jsNumber(v string) (n int, ok bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if strings.TrimSpace(v) == "" || err != nil || math.IsNaN(f) || f == 0 {
		return 0, true
	}
	if f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// listUsers is GET /admin/list-users: one search condition (searchValue in searchField with
// searchOperator) and one filter (filterValue, repeated for in and not_in, against filterField
// with filterOperator), sorted and paged; a query the database cannot answer is an empty list.
func (a *admin) listUsers(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	q := r.Query
	for _, check := range []error{
		oneOf(q, "searchField", "email", "name"),
		oneOf(q, "searchOperator", "contains", "starts_with", "ends_with"),
		oneOf(q, "sortDirection", "asc", "desc"),
		oneOf(q, "filterOperator", whereOperators...),
	} {
		if check != nil {
			return nil, check
		}
	}
	if err := a.need(r, "user", "list", ErrListUsers); err != nil {
		return nil, err
	}
	or := func(key, def string) string {
		if v := q.Get(key); v != "" {
			return v
		}
		return def
	}
	var uq store.UserQuery
	if v := q.Get("searchValue"); v != "" {
		uq.Where = append(uq.Where, store.UserCond{Field: or("searchField", "email"), Op: or("searchOperator", "contains"), Values: []string{v}})
	}
	if vs, ok := q["filterValue"]; ok {
		uq.Where = append(uq.Where, store.UserCond{Field: or("filterField", "email"), Op: or("filterOperator", "eq"), Values: vs})
	}
	limit, okL := jsNumber(q.Get("limit"))
	offset, okO := jsNumber(q.Get("offset"))
	uq.Limit, uq.Offset = limit, offset
	if s := q.Get("sortBy"); s != "" {
		uq.SortBy, uq.Desc = s, q.Get("sortDirection") == "desc"
	}
	st := r.Host.Store()
	var users []store.User
	var total int64
	var err error
	if okL && okO {
		users, total, err = st.ListUsers(ctx, uq)
	} else {
		err = store.ErrBadQuery
	}
	if errors.Is(err, store.ErrBadQuery) {
		return &plugin.Response{Body: map[string]any{"users": []any{}, "total": 0}}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(users))
	for i := range users {
		out[i] = userJSON(st, &users[i])
	}
	body := map[string]any{"users": out, "total": total}
	if limit > 0 {
		body["limit"] = limit
	}
	if offset > 0 {
		body["offset"] = offset
	}
	return &plugin.Response{Body: body}, nil
}

// getUser is GET /admin/get-user?id=: the bare user.
func (a *admin) getUser(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	id, ok := r.Query["id"]
	if !ok {
		return nil, validation("query.id", "Invalid input: expected string, received undefined")
	}
	if err := a.need(r, "user", "get", ErrGetUser); err != nil {
		return nil, err
	}
	u, err := findUser(ctx, r.Host.Store(), id[0])
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: userJSON(r.Host.Store(), u)}, nil
}

// roleList reads a role value (a string or a list of strings) and joins it as the role field
// stores it; anything else is INVALID_ROLE_TYPE.
func roleList(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return "", ErrInvalidRoleType
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", ErrInvalidRoleType
}

var banKeys = []string{BannedField.Name, BanReasonField.Name, BanExpiresField.Name}

func hasAny(m map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// userData converts the data object of create-user and update-user into core columns and plugin
// fields: name, email, emailVerified and image, and every registered user field; other keys are
// ignored, as Better-Auth's adapter drops fields its schema lacks. A value of the wrong type is a
// validation error.
func userData(st *store.Store, data map[string]any) (map[string]any, map[string]store.Value, error) {
	core := map[string]any{}
	vals := map[string]store.Value{}
	bad := func(k string, v any) error {
		return validation("body.data."+k, "Invalid input: received "+jsKind(v, true))
	}
	for k, v := range data {
		switch k {
		case "name", "email":
			s, ok := v.(string)
			if !ok || !store.ValidText(s) || (k == "name" && auth.TextLength(s) > auth.MaxNameLength) {
				return nil, nil, bad(k, v)
			}
			core[k] = s
			continue
		case "emailVerified":
			b, ok := v.(bool)
			if !ok {
				return nil, nil, bad(k, v)
			}
			core[k] = b
			continue
		case "image":
			switch s := v.(type) {
			case nil:
				core[k] = nil
			case string:
				if !store.ValidText(s) || auth.TextLength(s) > auth.MaxImageLength {
					return nil, nil, bad(k, v)
				}
				core[k] = s
			default:
				return nil, nil, bad(k, v)
			}
			continue
		}
		i := slices.IndexFunc(st.Columns().User, func(f store.Field) bool { return f.Name == k })
		if i < 0 {
			continue
		}
		f := st.Columns().User[i]
		val, ok := fieldValue(f, v)
		if !ok {
			return nil, nil, bad(k, v)
		}
		vals[k] = val
	}
	return core, vals, nil
}

// fieldValue reads a JSON value for a plugin field: null clears it, otherwise the type must fit
// (a date as an ISO string).
func fieldValue(f store.Field, v any) (store.Value, bool) {
	if v == nil {
		return store.Value{}, f.Nullable
	}
	switch f.Type {
	case store.StringField:
		s, ok := v.(string)
		return store.StringValue(s), ok && store.ValidText(s)
	case store.BoolField:
		b, ok := v.(bool)
		return store.BoolValue(b), ok
	case store.IntField:
		n, ok := v.(float64)
		return store.IntValue(int64(n)), ok && n == math.Trunc(n)
	case store.TimeField:
		s, ok := v.(string)
		if !ok {
			return store.Value{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return store.TimeValue(t), err == nil
	}
	return store.Value{}, false
}

// createUser is POST /admin/create-user: a user with the given role (the default one otherwise)
// and, with a password, a credential account, written together.
func (a *admin) createUser(ctx context.Context, r *plugin.Request) (apply, error) {
	if err := a.need(r, "user", "create", ErrCreateUsers); err != nil {
		return nil, err
	}
	st := r.Host.Store()
	data := map[string]any{}
	if v, ok := r.Body["data"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, validation("body.data", "Invalid input: expected record, received "+jsKind(v, true))
		}
		data = m
	}
	requested, hasRole := r.Body["role"]
	if hasRole && requested != nil {
		if _, err := roleInput(requested); err != nil {
			return nil, err
		}
	}
	if !hasRole || requested == nil {
		requested, hasRole = data["role"]
	}
	delete(data, "role")
	role := a.cfg.DefaultRole
	if hasRole {
		if !a.allowed(st, &r.Auth.User, access.Request{"user": {List: []string{"set-role"}}}) {
			return nil, ErrChangeRole
		}
		var err error
		if role, err = roleList(requested); err != nil {
			return nil, err
		}
	}
	if hasAny(data, banKeys...) && !a.allowed(st, &r.Auth.User, access.Request{"user": {List: []string{"ban"}}}) {
		return nil, ErrBanUsers
	}
	email := auth.NormalizeEmail(r.Body["email"].(string))
	if !auth.ValidEmail(email) {
		return nil, ErrInvalidEmail
	}
	password, _ := r.Body["password"].(string)
	if password != "" {
		if err := r.Host.CheckPassword(password, false); err != nil {
			return nil, err
		}
	}
	delete(data, "email")
	delete(data, "name")
	core, vals, err := userData(st, data)
	if err != nil {
		return nil, err
	}
	vals[a.role.Name] = store.StringValue(role)
	if _, err := st.UserByEmail(ctx, email); err == nil {
		return nil, ErrUserExists
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	in := NewUser{Name: r.Body["name"].(string), Email: email, Core: core, Values: vals}
	if password != "" {
		// Hashed here, before the transaction: see prepared.
		if in.PasswordHash, err = r.Host.HashPassword(ctx, password); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context) (*plugin.Response, error) {
		u, err := CreateUser(ctx, st, r.Host.Now(), in)
		if errors.Is(err, store.ErrConflict) {
			// Taken between the check above and now.
			return nil, ErrUserExists
		}
		if err != nil {
			return nil, err
		}
		return wrapUser(st, u), nil
	}, nil
}

// NewUser is a user CreateUser writes.
type NewUser struct {
	Name, Email string
	// PasswordHash, when not empty, is the credential account's password as HashPassword made
	// it. The caller hashes, before any transaction of its own: a hash takes tens of
	// milliseconds, and on SQLite an open transaction holds the database's one write lock.
	PasswordHash string
	// Core holds emailVerified and image (by column name); Values the plugins' user fields.
	Core   map[string]any
	Values map[string]store.Value
}

// CreateUser writes a user and, with a password hash, their credential account in one
// transaction (a savepoint inside the caller's, when st or ctx carries one), as admin's
// create-user and the command line do; now is their creation time. The e-mail address must be
// normalized and valid; a taken one wraps store.ErrConflict.
func CreateUser(ctx context.Context, st *store.Store, at time.Time, in NewUser) (*store.User, error) {
	hash := in.PasswordHash
	now := store.NewTime(at)
	u := store.User{ID: session.NewID(), Name: in.Name, Email: in.Email, CreatedAt: now, UpdatedAt: now}
	if v, ok := in.Core["emailVerified"].(bool); ok {
		u.EmailVerified = v
	}
	if v, ok := in.Core["image"].(string); ok {
		u.Image = &v
	}
	if err := st.SetExtra(&u, in.Values); err != nil {
		return nil, err
	}
	err := st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if hash == "" {
			return nil
		}
		return tx.CreateAccount(ctx, &store.Account{ID: session.NewID(), AccountID: u.ID, ProviderID: store.CredentialProvider,
			UserID: u.ID, Password: &hash, CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// updateUser is POST /admin/update-user: data's fields set on the user, each kind of change
// behind its own permission; banning ends the user's sessions.
func (a *admin) updateUser(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := requireUserID(r.Body); err != nil {
		return nil, err
	}
	raw, present := r.Body["data"]
	data, ok := raw.(map[string]any)
	if !ok {
		return nil, validation("body.data", "Invalid input: expected record, received "+jsKind(raw, present))
	}
	if err := a.need(r, "user", "update", ErrUpdateUsers); err != nil {
		return nil, err
	}
	st, me := r.Host.Store(), &r.Auth.User
	can := func(action string) bool { return a.allowed(st, me, access.Request{"user": {List: []string{action}}}) }
	id := userID(r.Body)
	switch {
	case len(data) == 0:
		return nil, ErrNoData
	case hasAny(data, "password"):
		return nil, ErrPasswordViaUpdate
	case hasAny(data, "id"):
		return nil, ErrIDUpdate
	}
	if v, ok := data["role"]; ok {
		if !can("set-role") {
			return nil, ErrChangeRole
		}
		role, err := roleList(v)
		if err != nil {
			return nil, err
		}
		data["role"] = role
	}
	if hasAny(data, banKeys...) {
		if !can("ban") {
			return nil, ErrBanUsers
		}
		if data["banned"] == true && id == me.ID {
			return nil, ErrBanYourself
		}
	}
	if hasAny(data, "email", "emailVerified") {
		if !can("set-email") {
			return nil, ErrSetEmail
		}
		if v, ok := data["email"]; ok {
			s, _ := v.(string)
			email := auth.NormalizeEmail(s)
			if !auth.ValidEmail(email) {
				return nil, ErrInvalidEmail
			}
			if other, err := st.UserByEmail(ctx, email); err == nil && other.ID != id {
				return nil, ErrUserExists
			}
			data["email"] = email
		}
	}
	if hasAny(data, "phoneNumber", "phoneNumberVerified") && !can("set-phone") {
		return nil, ErrSetPhone
	}
	if _, err := findUser(ctx, st, id); err != nil {
		return nil, err
	}
	core, vals, err := userData(st, data)
	if err != nil {
		return nil, err
	}
	u, err := r.Host.UpdateUserColumns(ctx, id, core, vals)
	if errors.Is(err, store.ErrConflict) {
		return nil, ErrUserExists
	}
	if err != nil {
		return nil, err
	}
	if data["banned"] == true {
		if err := r.Host.RevokeUserSessions(ctx, id); err != nil {
			return nil, err
		}
	}
	return &plugin.Response{Body: userJSON(st, u)}, nil
}

// setRole is POST /admin/set-role.
func (a *admin) setRole(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := requireUserID(r.Body); err != nil {
		return nil, err
	}
	role, err := roleInput(r.Body["role"])
	if err != nil {
		return nil, err
	}
	if err := a.need(r, "user", "set-role", ErrChangeRole); err != nil {
		return nil, err
	}
	id := userID(r.Body)
	if _, err := findUser(ctx, r.Host.Store(), id); err != nil {
		return nil, err
	}
	u, err := r.Host.UpdateUserColumns(ctx, id, nil, map[string]store.Value{a.role.Name: store.StringValue(role)})
	if err != nil {
		return nil, err
	}
	return wrapUser(r.Host.Store(), u), nil
}

// setUserPassword is POST /admin/set-user-password: the user's credential account gets the new
// password (created when they have none); their sessions stay. The password is hashed before
// the transaction (see prepared).
func (a *admin) setUserPassword(ctx context.Context, r *plugin.Request) (apply, error) {
	if pw, _ := r.Body["newPassword"].(string); pw == "" {
		return nil, validation("body.newPassword", "newPassword cannot be empty")
	}
	if err := requireUserID(r.Body); err != nil {
		return nil, err
	}
	id := userID(r.Body)
	if id == "" {
		return nil, validation("body.userId", "userId cannot be empty")
	}
	if err := a.need(r, "user", "set-password", ErrSetPassword); err != nil {
		return nil, err
	}
	pw := r.Body["newPassword"].(string)
	if err := r.Host.CheckPassword(pw, true); err != nil {
		return nil, err
	}
	st := r.Host.Store()
	if _, err := findUser(ctx, st, id); err != nil {
		return nil, err
	}
	hash, err := r.Host.HashPassword(ctx, pw)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (*plugin.Response, error) {
		// Found again in the transaction: the user may have been removed while the hash ran.
		u, err := findUser(ctx, st, id)
		if err != nil {
			return nil, err
		}
		now := store.NewTime(r.Host.Now())
		acct, err := st.CredentialAccount(ctx, u.ID)
		switch {
		case err == nil:
			err = st.SetAccountPassword(ctx, acct.ID, hash, now)
		case errors.Is(err, store.ErrNotFound):
			err = st.CreateAccount(ctx, &store.Account{ID: session.NewID(), AccountID: u.ID, ProviderID: store.CredentialProvider,
				UserID: u.ID, Password: &hash, CreatedAt: now, UpdatedAt: now})
		}
		if err != nil {
			return nil, err
		}
		return &plugin.Response{Body: map[string]bool{"status": true}}, nil
	}, nil
}

// banUser is POST /admin/ban-user: banned, with the reason and end given or configured, and
// every session of the user ended.
func (a *admin) banUser(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := requireUserID(r.Body); err != nil {
		return nil, err
	}
	var expiresIn float64
	if v, present := r.Body["banExpiresIn"]; present {
		n, ok := v.(float64)
		if !ok {
			return nil, validation("body.banExpiresIn", "Invalid input: expected number, received "+jsKind(v, present))
		}
		expiresIn = n
	}
	if err := a.need(r, "user", "ban", ErrBanUsers); err != nil {
		return nil, err
	}
	id := userID(r.Body)
	if _, err := findUser(ctx, r.Host.Store(), id); err != nil {
		return nil, err
	}
	if id == r.Auth.User.ID {
		return nil, ErrBanYourself
	}
	reason, _ := r.Body["banReason"].(string)
	if reason == "" {
		reason = a.cfg.BanReason
	}
	expires := store.Value{}
	switch {
	case expiresIn != 0:
		expires = store.TimeValue(r.Host.Now().Add(time.Duration(expiresIn * float64(time.Second))))
	case a.cfg.BanExpiresIn > 0:
		expires = store.TimeValue(r.Host.Now().Add(a.cfg.BanExpiresIn))
	}
	u, err := r.Host.UpdateUserColumns(ctx, id, nil, map[string]store.Value{
		BannedField.Name: store.BoolValue(true), BanReasonField.Name: store.StringValue(reason), BanExpiresField.Name: expires})
	if err != nil {
		return nil, err
	}
	if err := r.Host.RevokeUserSessions(ctx, id); err != nil {
		return nil, err
	}
	return wrapUser(r.Host.Store(), u), nil
}

// unbanUser is POST /admin/unban-user.
func (a *admin) unbanUser(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := requireUserID(r.Body); err != nil {
		return nil, err
	}
	if err := a.need(r, "user", "ban", ErrBanUsers); err != nil {
		return nil, err
	}
	id := userID(r.Body)
	if _, err := findUser(ctx, r.Host.Store(), id); err != nil {
		return nil, err
	}
	u, err := r.Host.UpdateUserColumns(ctx, id, nil, unbanned())
	if err != nil {
		return nil, err
	}
	return wrapUser(r.Host.Store(), u), nil
}

// listUserSessions is POST /admin/list-user-sessions: the user's sessions, expired ones included,
// as Better-Auth's adapter lists them.
func (a *admin) listUserSessions(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := requireUserID(r.Body); err != nil {
		return nil, err
	}
	if err := a.need(r, "session", "list", ErrListSessions); err != nil {
		return nil, err
	}
	st := r.Host.Store()
	list, err := st.SessionsByUser(ctx, userID(r.Body), store.Time{})
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(list))
	for i := range list {
		out[i] = sessionJSON(st, &list[i])
	}
	return &plugin.Response{Body: map[string]any{"sessions": out}}, nil
}

// revokeUserSession is POST /admin/revoke-user-session; an unknown token is a success too.
func (a *admin) revokeUserSession(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := a.need(r, "session", "revoke", ErrRevokeSessions); err != nil {
		return nil, err
	}
	if err := r.Host.RevokeSession(ctx, r.Body["sessionToken"].(string)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return success, nil
}

// revokeUserSessions is POST /admin/revoke-user-sessions; an unknown user is a success too.
func (a *admin) revokeUserSessions(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := requireUserID(r.Body); err != nil {
		return nil, err
	}
	if err := a.need(r, "session", "revoke", ErrRevokeSessions); err != nil {
		return nil, err
	}
	if err := r.Host.RevokeUserSessions(ctx, userID(r.Body)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return success, nil
}

// removeUser is POST /admin/remove-user: the user, their sessions and accounts are deleted.
func (a *admin) removeUser(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := requireUserID(r.Body); err != nil {
		return nil, err
	}
	if err := a.need(r, "user", "delete", ErrDeleteUsers); err != nil {
		return nil, err
	}
	id := userID(r.Body)
	if id == r.Auth.User.ID {
		return nil, ErrRemoveYourself
	}
	if _, err := findUser(ctx, r.Host.Store(), id); err != nil {
		return nil, err
	}
	if err := r.Host.RemoveUser(ctx, nil, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return success, nil
}

// impersonate is POST /admin/impersonate-user: the caller's session cookie is replaced by a
// browser-session cookie for a new session of the user (impersonatedBy the caller, living
// ImpersonationSession), and the caller's own session token is kept in the signed admin_session
// cookie with their dont_remember choice, for stop-impersonating.
func (a *admin) impersonate(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if err := requireUserID(r.Body); err != nil {
		return nil, err
	}
	if err := a.need(r, "user", "impersonate", ErrImpersonate); err != nil {
		return nil, err
	}
	st := r.Host.Store()
	target, err := findUser(ctx, st, userID(r.Body))
	if err != nil {
		return nil, err
	}
	isAdmin := slices.Contains(a.cfg.UserIDs, target.ID)
	for _, role := range strings.Split(a.roleOf(st, target), ",") {
		isAdmin = isAdmin || slices.Contains(a.cfg.AdminRoles, role)
	}
	if isAdmin && !a.allowed(st, &r.Auth.User, access.Request{"user": {List: []string{"impersonate-admins"}}}) {
		return nil, ErrImpersonateAdmins
	}
	dontRemember, _ := r.Incoming.SignedCookie("dont_remember")
	yes := true
	in, err := r.Host.StartSession(ctx, plugin.NewSession{User: *target, ExpiresIn: a.cfg.ImpersonationSession,
		Values:       map[string]store.Value{ImpersonatedByField.Name: store.StringValue(r.Auth.User.ID)},
		DontRemember: &yes, Meta: r.Meta, Incoming: r.Incoming})
	if err != nil {
		return nil, err
	}
	return &plugin.Response{
		Body: map[string]json.RawMessage{"session": sessionJSON(st, &in.Session), "user": userJSON(st, target)},
		Cookies: []plugin.Cookie{{Name: CookieName, Value: r.Auth.Session.Token + ":" + dontRemember,
			MaxAge: adminCookieMaxAge, Signed: true}},
		ClearSession: true, SignIn: in,
	}, nil
}

// stopImpersonating is POST /admin/stop-impersonating: the impersonation session is deleted and
// the admin's session, kept in admin_session, is the browser's again.
func (a *admin) stopImpersonating(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if r.Auth == nil {
		return nil, ErrUnauthorized
	}
	st := r.Host.Store()
	by := impersonatedBy(st, &r.Auth.Session)
	if by == "" {
		return nil, ErrNotImpersonating
	}
	if _, err := st.UserByID(ctx, by); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNoAdminUser
		}
		return nil, err
	}
	kept, ok := r.Incoming.SignedCookie(CookieName)
	if !ok || kept == "" {
		return nil, ErrNoAdminSession
	}
	token, dontRemember, _ := strings.Cut(kept, ":")
	sess, u, err := st.SessionByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.UserID != by) {
		return nil, ErrNoAdminSession
	}
	if err != nil {
		return nil, err
	}
	if err := r.Host.RevokeSession(ctx, r.Auth.Session.Token); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	dr := dontRemember != ""
	return &plugin.Response{
		Body:    map[string]json.RawMessage{"session": sessionJSON(st, sess), "user": userJSON(st, u)},
		Cookies: []plugin.Cookie{{Name: CookieName, MaxAge: 0, Signed: true}},
		SignIn:  &plugin.SignIn{User: *u, Session: *sess, DontRemember: &dr, Host: r.Host},
	}, nil
}

// hasPermission is POST /admin/has-permission: whether the caller's role grants permissions
// (resource → actions). Better-Auth's older field name, permission, is refused with a message.
func (a *admin) hasPermission(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	_, legacy := r.Body["permission"]
	raw, current := r.Body["permissions"]
	if legacy && current {
		return nil, validation("body", "Invalid input: more than one option matched")
	}
	for _, key := range []string{"permission", "permissions"} {
		if v, ok := r.Body[key]; ok && !permissionRecord(v) {
			return nil, validation("body", "Invalid input")
		}
	}
	if !legacy && !current {
		return nil, validation("body", "Invalid input")
	}
	if v, ok := r.Body["role"]; ok {
		if _, isString := v.(string); !isString {
			return nil, validation("body.role", "Invalid input: expected string, received "+jsKind(v, true))
		}
	}
	if !current {
		return nil, ErrNoPermissionsPassed
	}
	if r.Auth == nil {
		return nil, ErrUnauthorized
	}
	req, err := access.ParseRequest(raw.(map[string]any))
	if err != nil {
		return nil, validation("body", "Invalid input")
	}
	ok := a.allowed(r.Host.Store(), &r.Auth.User, req)
	return &plugin.Response{Body: struct {
		Error   *string `json:"error"`
		Success bool    `json:"success"`
	}{nil, ok}}, nil
}

// permissionRecord reports whether v is an object of string lists, as the body schema demands.
func permissionRecord(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, list := range m {
		items, ok := list.([]any)
		if !ok {
			return false
		}
		for _, it := range items {
			if _, ok := it.(string); !ok {
				return false
			}
		}
	}
	return true
}
