package apikey

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// keyAlphabet is Better-Auth's generateRandomString(length, "a-z", "A-Z").
const keyAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

func validation(where, msg string) error {
	return &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: "[" + where + "] " + msg}
}

// body reads a request body's fields with zod's checks and messages.
type body struct {
	m   map[string]any
	err error
}

func (b *body) fail(name, msg string) {
	if b.err == nil {
		b.err = validation("body."+name, msg)
	}
}

func (b *body) has(name string) bool { _, ok := b.m[name]; return ok }

func received(v any) string { return plugin.JSType(v) }

// str reads an optional z.string().
func (b *body) str(name string) *string {
	v, ok := b.m[name]
	if !ok {
		return nil
	}
	s, isStr := v.(string)
	if !isStr {
		b.fail(name, "Invalid input: expected string, received "+received(v))
		return nil
	}
	return &s
}

// coerced reads an optional z.coerce.string(): any present value becomes text.
func (b *body) coerced(name string) *string {
	v, ok := b.m[name]
	if !ok {
		return nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	case nil:
		s = "null"
	default:
		b, _ := json.Marshal(x)
		s = string(b)
	}
	return &s
}

// num reads an optional z.number() with an optional minimum; nullable accepts null (reported as
// present with a nil value).
func (b *body) num(name string, min *float64, nullable bool) (val *float64, present bool) {
	v, ok := b.m[name]
	if !ok {
		return nil, false
	}
	if v == nil && nullable {
		return nil, true
	}
	f, isNum := v.(float64)
	if !isNum {
		b.fail(name, "Invalid input: expected number, received "+received(v))
		return nil, true
	}
	if min != nil && f < *min {
		b.fail(name, "Too small: expected number to be >="+strconv.FormatFloat(*min, 'f', -1, 64))
		return nil, true
	}
	return &f, true
}

func (b *body) boolean(name string) *bool {
	v, ok := b.m[name]
	if !ok {
		return nil
	}
	x, isBool := v.(bool)
	if !isBool {
		b.fail(name, "Invalid input: expected boolean, received "+received(v))
		return nil
	}
	return &x
}

// permissions reads z.record(z.string(), z.array(z.string())), nullable when asked.
func (b *body) permissions(name string, nullable bool) (val map[string][]string, present bool) {
	v, ok := b.m[name]
	if !ok {
		return nil, false
	}
	if v == nil && nullable {
		return nil, true
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		b.fail(name, "Invalid input: expected record, received "+received(v))
		return nil, true
	}
	out := map[string][]string{}
	for k, x := range obj {
		arr, isArr := x.([]any)
		if !isArr {
			b.fail(name+"."+k, "Invalid input: expected array, received "+received(x))
			return nil, true
		}
		for i, e := range arr {
			s, isStr := e.(string)
			if !isStr {
				b.fail(name+"."+k+"."+strconv.Itoa(i), "Invalid input: expected string, received "+received(e))
				return nil, true
			}
			out[k] = append(out[k], s)
		}
		if out[k] == nil {
			out[k] = []string{}
		}
	}
	return out, true
}

var one, zero = 1.0, 0.0

// truthy is JavaScript's truthiness of a decoded JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	}
	return true
}

// isJSObject is typeof v === "object" (null, arrays and objects).
func isJSObject(v any) bool {
	switch v.(type) {
	case nil, map[string]any, []any:
		return true
	}
	return false
}

// create is POST /api-key/create: a new key for the caller, the only answer that shows the key.
func (p *plug) create(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if r.Body == nil && r.Auth == nil {
		return nil, ErrUnauthorizedSession
	}
	b := &body{m: r.Body}
	_ = b.str("configId") // one configuration: any id resolves to it, as an unknown one does in Better-Auth
	name := b.str("name")
	expiresIn, _ := b.num("expiresIn", &one, true)
	prefix := b.str("prefix")
	if prefix != nil && !validPrefix(*prefix) {
		b.fail("prefix", "Invalid prefix format, must be alphanumeric and contain only underscores and hyphens.")
	}
	remaining, _ := b.num("remaining", &zero, true)
	metadata, hasMeta := b.m["metadata"]
	_, hasRefillAmount := b.num("refillAmount", &one, false)
	_, hasRefillInterval := b.num("refillInterval", nil, false)
	_, hasWindow := b.num("rateLimitTimeWindow", nil, false)
	_, hasMax := b.num("rateLimitMax", nil, false)
	rlEnabled := b.boolean("rateLimitEnabled")
	_, hasPerms := b.permissions("permissions", false)
	userID := b.coerced("userId")
	_ = b.coerced("organizationId")
	if b.err != nil {
		return nil, b.err
	}
	// Every HTTP request is a client request to Better-Auth: the usage fields are the server's.
	if hasRefillAmount || hasRefillInterval || hasWindow || hasMax || rlEnabled != nil || hasPerms || remaining != nil {
		return nil, ErrServerOnly
	}
	if userID != nil || r.Auth == nil {
		return nil, ErrUnauthorizedSession
	}
	if hasMeta && truthy(metadata) {
		if !p.cfg.EnableMetadata {
			return nil, ErrMetadataDisabled
		}
		if !isJSObject(metadata) {
			return nil, ErrInvalidMetadataType
		}
	}
	if expiresIn != nil && *expiresIn != 0 {
		days := *expiresIn / 86400
		if days < minExpiresDays {
			return nil, ErrExpiresTooSmall
		}
		if days > maxExpiresDays {
			return nil, ErrExpiresTooLarge
		}
	}
	if prefix != nil && *prefix != "" {
		if n := len([]rune(*prefix)); n < minPrefixLength || n > maxPrefixLength {
			return nil, ErrPrefixLength
		}
	}
	if name != nil && *name != "" {
		if n := len([]rune(*name)); n < minNameLength || n > maxNameLength {
			return nil, ErrNameLength
		}
	} else if p.cfg.RequireName {
		return nil, ErrNameRequired
	}
	p.sweepExpired(ctx, r.Host)

	usePrefix := p.cfg.DefaultPrefix
	if prefix != nil && *prefix != "" {
		usePrefix = *prefix
	}
	plain := usePrefix + session.RandomFrom(keyAlphabet, p.cfg.KeyLength)
	now := store.NewTime(r.Host.Now())
	start := plain[:min(startLength, len(plain))]
	t, f := true, false
	cfgID := defaultConfigID
	k := &store.APIKey{
		ID: session.NewID(), ConfigID: cfgID, Name: name, Start: &start, ReferenceID: r.Auth.User.ID,
		Key: plugin.HashToken(plain), Enabled: &t, RateLimitEnabled: &t, RequestCount: new(int64),
		CreatedAt: now, UpdatedAt: now,
	}
	if !p.cfg.RateLimit {
		k.RateLimitEnabled = &f
	}
	if prefix != nil {
		k.Prefix = prefix
	} else if p.cfg.DefaultPrefix != "" {
		dp := p.cfg.DefaultPrefix
		k.Prefix = &dp
	}
	window, max := p.cfg.RateLimitWindow.Milliseconds(), int64(p.cfg.RateLimitMax)
	k.RateLimitTimeWindow, k.RateLimitMax = &window, &max
	switch {
	case expiresIn != nil && *expiresIn != 0:
		exp := store.NewTime(now.Add(durationSeconds(*expiresIn)))
		k.ExpiresAt = &exp
	case p.cfg.DefaultExpiresIn > 0:
		exp := store.NewTime(now.Add(p.cfg.DefaultExpiresIn))
		k.ExpiresAt = &exp
	}
	if hasMeta && truthy(metadata) {
		raw, err := json.Marshal(metadata)
		if err != nil {
			return nil, err
		}
		s := string(raw)
		k.Metadata = &s
	}
	if err := r.Host.Store().CreateAPIKey(ctx, k); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: keyJSON(k, &plain)}, nil
}

// durationSeconds converts a body's seconds, fractions included.
func durationSeconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// get is GET /api-key/get?id=: one of the caller's keys, without the key.
func (p *plug) get(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	id, ok := r.Query["id"]
	if !ok || len(id) == 0 {
		return nil, validation("query.id", "Invalid input: expected string, received undefined")
	}
	var configID *string
	if c, ok := r.Query["configId"]; ok && len(c) > 0 {
		configID = &c[0]
	}
	k, err := p.ownKey(ctx, r.Host, id[0], r.Auth.User.ID, configID)
	if err != nil {
		return nil, err
	}
	p.sweepExpired(ctx, r.Host)
	return &plugin.Response{Body: keyJSON(k, nil)}, nil
}

// update is POST /api-key/update: name, enabled, expiresIn and (with metadata enabled) metadata
// of one of the caller's keys; the usage fields are the server's.
func (p *plug) update(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	b := &body{m: r.Body}
	configID := b.str("configId")
	keyID := b.str("keyId")
	if keyID == nil && b.err == nil {
		b.fail("keyId", "Invalid input: expected string, received undefined")
	}
	userID := b.coerced("userId")
	name := b.str("name")
	enabled := b.boolean("enabled")
	_, hasRemaining := b.num("remaining", &one, false)
	_, hasRefillAmount := b.num("refillAmount", nil, false)
	_, hasRefillInterval := b.num("refillInterval", nil, false)
	metadata, hasMeta := b.m["metadata"]
	expiresIn, hasExpires := b.num("expiresIn", &one, true)
	rlEnabled := b.boolean("rateLimitEnabled")
	_, hasWindow := b.num("rateLimitTimeWindow", nil, false)
	_, hasMax := b.num("rateLimitMax", nil, false)
	_, hasPerms := b.permissions("permissions", true)
	if b.err != nil {
		return nil, b.err
	}
	if r.Auth == nil {
		return nil, ErrUnauthorizedSession
	}
	if userID != nil && *userID != "" && *userID != r.Auth.User.ID {
		return nil, ErrUnauthorizedSession
	}
	if hasRefillAmount || hasRefillInterval || hasWindow || hasMax || rlEnabled != nil || hasRemaining || hasPerms {
		return nil, ErrServerOnly
	}
	k, err := p.ownKey(ctx, r.Host, *keyID, r.Auth.User.ID, configID)
	if err != nil {
		return nil, err
	}
	cols := map[string]any{}
	if name != nil {
		if n := len([]rune(*name)); n < minNameLength || n > maxNameLength {
			return nil, ErrNameLength
		}
		cols["name"] = *name
		k.Name = name
	}
	if enabled != nil {
		cols["enabled"] = *enabled
		k.Enabled = enabled
	}
	if hasExpires {
		if expiresIn != nil {
			days := *expiresIn / 86400
			if days < minExpiresDays {
				return nil, ErrExpiresTooSmall
			}
			if days > maxExpiresDays {
				return nil, ErrExpiresTooLarge
			}
		}
		if expiresIn != nil && *expiresIn != 0 {
			exp := store.NewTime(r.Host.Now().Add(durationSeconds(*expiresIn)))
			cols["expiresAt"] = exp
			k.ExpiresAt = &exp
		} else {
			cols["expiresAt"] = nil
			k.ExpiresAt = nil
		}
	}
	if hasMeta && p.cfg.EnableMetadata {
		if !isJSObject(metadata) {
			return nil, ErrInvalidMetadataType
		}
		if metadata == nil {
			cols["metadata"] = nil
			k.Metadata = nil
		} else {
			raw, err := json.Marshal(metadata)
			if err != nil {
				return nil, err
			}
			s := string(raw)
			cols["metadata"] = s
			k.Metadata = &s
		}
	}
	if len(cols) == 0 {
		return nil, ErrNoValues
	}
	wrote, err := r.Host.Store().UpdateAPIKey(ctx, k.ID, cols, "")
	if err != nil {
		return nil, err
	}
	p.forget(k.Key)
	if !wrote {
		return nil, ErrKeyNotFound
	}
	p.sweepExpired(ctx, r.Host)
	return &plugin.Response{Body: keyJSON(k, nil)}, nil
}

// delete is POST /api-key/delete: removes one of the caller's keys, at once on every instance.
func (p *plug) delete(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	b := &body{m: r.Body}
	configID := b.str("configId")
	keyID := b.str("keyId")
	if keyID == nil && b.err == nil {
		b.fail("keyId", "Invalid input: expected string, received undefined")
	}
	if b.err != nil {
		return nil, b.err
	}
	if banned(r.Host, &r.Auth.User) {
		return nil, ErrUserBanned
	}
	k, err := p.ownKey(ctx, r.Host, *keyID, r.Auth.User.ID, configID)
	if err != nil {
		return nil, err
	}
	if err := r.Host.Store().DeleteAPIKey(ctx, k.ID); err != nil {
		return nil, err
	}
	p.forget(k.Key)
	p.sweepExpired(ctx, r.Host)
	return &plugin.Response{Body: map[string]bool{"success": true}}, nil
}

// banned reports the admin plugin's banned flag on u (false without the admin plugin).
func banned(h plugin.Host, u *store.User) bool {
	v, _ := h.Store().UserField(u, "banned")
	return v.Bool()
}

// sortable are the columns list's sortBy may name.
var sortable = map[string]bool{"id": true, "configId": true, "name": true, "start": true, "referenceId": true, "prefix": true,
	"refillInterval": true, "refillAmount": true, "lastRefillAt": true, "enabled": true, "rateLimitEnabled": true,
	"rateLimitTimeWindow": true, "rateLimitMax": true, "requestCount": true, "remaining": true, "lastRequest": true,
	"expiresAt": true, "createdAt": true, "updatedAt": true, "permissions": true, "metadata": true}

// list is GET /api-key/list: the caller's keys, without the keys, {apiKeys, total[, limit,
// offset]}.
func (p *plug) list(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	q := r.Query
	intParam := func(name string) (*int, error) {
		v, ok := q[name]
		if !ok || len(v) == 0 {
			return nil, nil
		}
		n, err := strconv.ParseFloat(v[0], 64)
		if v[0] == "" {
			n, err = 0, nil // Number("") is 0
		}
		switch {
		case err != nil:
			return nil, validation("query."+name, "Invalid input: expected number, received NaN")
		case n != math.Trunc(n):
			return nil, validation("query."+name, "Invalid input: expected int, received number")
		case n < 0:
			return nil, validation("query."+name, "Too small: expected number to be >=0")
		}
		i := int(n)
		return &i, nil
	}
	limit, err := intParam("limit")
	if err != nil {
		return nil, err
	}
	offset, err := intParam("offset")
	if err != nil {
		return nil, err
	}
	desc := false
	if d, ok := q["sortDirection"]; ok && len(d) > 0 {
		switch d[0] {
		case "asc":
		case "desc":
			desc = true
		default:
			return nil, validation("query.sortDirection", `Invalid option: expected one of "asc"|"desc"`)
		}
	}
	if org := q.Get("organizationId"); org != "" {
		return nil, ErrOrgPluginRequired
	}
	sortBy := q.Get("sortBy")
	if !sortable[sortBy] {
		sortBy = ""
	}
	keys, err := r.Host.Store().APIKeysByReference(ctx, r.Auth.User.ID, sortBy, desc)
	if err != nil {
		return nil, err
	}
	configID := q.Get("configId")
	out := make([]any, 0, len(keys))
	for i := range keys {
		if configID != "" && !configMatches(keys[i].ConfigID, configID) {
			continue
		}
		out = append(out, keyJSON(&keys[i], nil))
	}
	total := len(out)
	if offset != nil {
		out = out[min(*offset, len(out)):]
	}
	if limit != nil {
		out = out[:min(*limit, len(out))]
	}
	p.sweepExpired(ctx, r.Host)
	return &plugin.Response{Body: listJSON{APIKeys: out, Total: total, Limit: limit, Offset: offset}}, nil
}

type listJSON struct {
	APIKeys []any `json:"apiKeys"`
	Total   int   `json:"total"`
	Limit   *int  `json:"limit,omitempty"`
	Offset  *int  `json:"offset,omitempty"`
}

// keyOut is a key as Better-Auth prints it: the schema's fields in order, then id; key only on
// create (the plain key).
type keyOut struct {
	ConfigID            string          `json:"configId"`
	Name                *string         `json:"name"`
	Start               *string         `json:"start"`
	ReferenceID         string          `json:"referenceId"`
	Prefix              *string         `json:"prefix"`
	Key                 *string         `json:"key,omitempty"`
	RefillInterval      *int64          `json:"refillInterval"`
	RefillAmount        *int64          `json:"refillAmount"`
	LastRefillAt        *string         `json:"lastRefillAt"`
	Enabled             *bool           `json:"enabled"`
	RateLimitEnabled    *bool           `json:"rateLimitEnabled"`
	RateLimitTimeWindow *int64          `json:"rateLimitTimeWindow"`
	RateLimitMax        *int64          `json:"rateLimitMax"`
	RequestCount        *int64          `json:"requestCount"`
	Remaining           *int64          `json:"remaining"`
	LastRequest         *string         `json:"lastRequest"`
	ExpiresAt           *string         `json:"expiresAt"`
	CreatedAt           string          `json:"createdAt"`
	UpdatedAt           string          `json:"updatedAt"`
	Permissions         json.RawMessage `json:"permissions"`
	Metadata            json.RawMessage `json:"metadata"`
	ID                  string          `json:"id"`
}

func optTime(t *store.Time) *string {
	if t == nil {
		return nil
	}
	s := t.String()
	return &s
}

// jsonText is stored JSON text as a value, null when absent or not JSON (safeJSONParse).
func jsonText(s *string) json.RawMessage {
	if s == nil || *s == "" || !json.Valid([]byte(*s)) {
		return json.RawMessage("null")
	}
	return json.RawMessage(*s)
}

func keyJSON(k *store.APIKey, plain *string) keyOut {
	return keyOut{ConfigID: k.ConfigID, Name: k.Name, Start: k.Start, ReferenceID: k.ReferenceID, Prefix: k.Prefix, Key: plain,
		RefillInterval: k.RefillInterval, RefillAmount: k.RefillAmount, LastRefillAt: optTime(k.LastRefillAt), Enabled: k.Enabled,
		RateLimitEnabled: k.RateLimitEnabled, RateLimitTimeWindow: k.RateLimitTimeWindow, RateLimitMax: k.RateLimitMax,
		RequestCount: k.RequestCount, Remaining: k.Remaining, LastRequest: optTime(k.LastRequest), ExpiresAt: optTime(k.ExpiresAt),
		CreatedAt: k.CreatedAt.String(), UpdatedAt: k.UpdatedAt.String(), Permissions: jsonText(k.Permissions),
		Metadata: jsonText(k.Metadata), ID: k.ID}
}
