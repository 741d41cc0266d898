// Package apikey is the api-key plugin of @better-auth/api-key 1.7.5: a signed-in user creates
// keys (shown once, stored as base64url(SHA-256) of the key, as Better-Auth stores them, so both
// servers find each other's keys on a shared database), lists, reads, updates and deletes them,
// and, when API_KEY_ENABLE_SESSION is on, a request carrying the key in the x-api-key header acts
// as the key's owner wherever the server reads the caller's session (get-session, the endpoints
// that need a session, /content/*).
//
// Checking a key is a hot path: it is one SHA-256 and, for a key seen recently, no database read
// at all (a cache of verified keys and their owners). The cache drops a key at once on every
// instance when it is deleted, disabled or otherwise changed: the plugin's PostgreSQL triggers
// announce such changes on store.SessionChannel, which every instance already listens to for
// sessions, and user changes arrive there as they do for sessions. While that channel is down
// the cache stands aside. Usage counters (remaining uses, the per-key rate limit) are never taken
// from the cache: a key that has them is claimed with guarded writes against its row, as
// Better-Auth does, so concurrent requests cannot overspend it.
package apikey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"authserver/auth/plugin"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "api-key"

// Better-Auth's fixed defaults that have no option here.
const (
	minNameLength, maxNameLength     = 1, 32
	minPrefixLength, maxPrefixLength = 1, 32
	minExpiresDays, maxExpiresDays   = 1, 365
	startLength                      = 6
	defaultConfigID                  = "default"
	// expiredSweepEvery is how often at most the endpoints delete expired keys, as Better-Auth's
	// deleteAllExpiredApiKeys (10 s per process).
	expiredSweepEvery = 10 * time.Second
	// lastRequestEvery bounds how often a key without usage counters has its lastRequest written:
	// Better-Auth writes it on every use, which would make every API-key request a database
	// write; once a second per key per instance keeps the column meaningful.
	lastRequestEvery = time.Second
)

// Config holds the plugin's options.
type Config struct {
	// Header is the request header that carries a key (apiKeyHeaders, "x-api-key").
	Header string
	// KeyLength is the length of a new key's random part (defaultKeyLength, 64); a presented key
	// shorter than this is refused with 403.
	KeyLength int
	// DefaultPrefix (defaultPrefix) is put before keys created without a prefix.
	DefaultPrefix string
	// EnableMetadata (enableMetadata, false) lets create and update store a metadata object.
	EnableMetadata bool
	// RequireName (requireName) refuses create without a name.
	RequireName bool
	// RateLimit (rateLimit.enabled, true) turns the per-key rate limit on for every key; new keys
	// get RateLimitWindow and RateLimitMax (timeWindow 24 h, maxRequests 10).
	RateLimit       bool
	RateLimitWindow time.Duration
	RateLimitMax    int
	// DefaultExpiresIn (keyExpiration.defaultExpiresIn), when not zero, is the life of keys
	// created without expiresIn.
	DefaultExpiresIn time.Duration
	// SessionForKeys (enableSessionForAPIKeys, false) makes a request carrying a key act as the
	// key's owner.
	SessionForKeys bool
	// CacheTTL bounds how long a verified key is served from memory (60 s); DisableCache turns
	// the cache off.
	CacheTTL     time.Duration
	DisableCache bool
}

// DefaultConfig is Better-Auth's defaults.
func DefaultConfig() Config {
	return Config{Header: "x-api-key", KeyLength: 64, RateLimit: true, RateLimitWindow: 24 * time.Hour, RateLimitMax: 10, CacheTTL: time.Minute}
}

// LoadConfig reads API_KEY_HEADER, API_KEY_DEFAULT_PREFIX, API_KEY_DEFAULT_KEY_LENGTH,
// API_KEY_ENABLE_METADATA, API_KEY_REQUIRE_NAME, API_KEY_RATE_LIMIT_ENABLED,
// API_KEY_RATE_LIMIT_TIME_WINDOW (milliseconds), API_KEY_RATE_LIMIT_MAX_REQUESTS,
// API_KEY_DEFAULT_EXPIRES_IN (seconds), API_KEY_ENABLE_SESSION and API_KEY_CACHE (off to turn
// the verified-key cache off), as Better-Auth's options of the same meaning.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	if v := strings.TrimSpace(getenv("API_KEY_HEADER")); v != "" {
		c.Header = v
	}
	if v := strings.TrimSpace(getenv("API_KEY_DEFAULT_PREFIX")); v != "" {
		if !validPrefix(v) {
			errs = append(errs, fmt.Errorf("API_KEY_DEFAULT_PREFIX: %q may only hold letters, digits, _ and -", v))
		}
		c.DefaultPrefix = v
	}
	ints := []struct {
		name     string
		dst      *int
		min, max int
	}{{"API_KEY_DEFAULT_KEY_LENGTH", &c.KeyLength, 16, 256}, {"API_KEY_RATE_LIMIT_MAX_REQUESTS", &c.RateLimitMax, 1, 1 << 30}}
	for _, o := range ints {
		if v := strings.TrimSpace(getenv(o.name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < o.min || n > o.max {
				errs = append(errs, fmt.Errorf("%s: %q is not a number between %d and %d", o.name, v, o.min, o.max))
				continue
			}
			*o.dst = n
		}
	}
	var err error
	if c.RateLimitWindow, err = plugin.EnvDuration(getenv, "API_KEY_RATE_LIMIT_TIME_WINDOW", time.Millisecond, 1<<31-1, c.RateLimitWindow); err != nil {
		errs = append(errs, err)
	}
	if c.DefaultExpiresIn, err = plugin.EnvDuration(getenv, "API_KEY_DEFAULT_EXPIRES_IN", time.Second, maxExpiresDays*86400, 0); err != nil {
		errs = append(errs, err)
	}
	for _, o := range []struct {
		name string
		dst  *bool
		def  bool
	}{{"API_KEY_ENABLE_METADATA", &c.EnableMetadata, false}, {"API_KEY_REQUIRE_NAME", &c.RequireName, false},
		{"API_KEY_RATE_LIMIT_ENABLED", &c.RateLimit, true}, {"API_KEY_ENABLE_SESSION", &c.SessionForKeys, false}} {
		if strings.TrimSpace(getenv(o.name)) == "" {
			*o.dst = o.def
			continue
		}
		b, err := plugin.EnvBool(getenv, o.name)
		if err != nil {
			errs = append(errs, err)
		}
		*o.dst = b
	}
	if strings.TrimSpace(getenv("API_KEY_CACHE")) != "" {
		on, err := plugin.EnvBool(getenv, "API_KEY_CACHE")
		if err != nil {
			errs = append(errs, err)
		}
		c.DisableCache = !on
	}
	return c, errors.Join(errs...)
}

// Better-Auth's answers (API_KEY_ERROR_CODES of @better-auth/api-key 1.7.5).
var (
	ErrServerOnly          = &plugin.Error{Status: http.StatusBadRequest, Code: "SERVER_ONLY_PROPERTY", Message: "The property you're trying to set can only be set from the server auth instance only."}
	ErrUnauthorizedSession = &plugin.Error{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED_SESSION", Message: "Unauthorized or invalid session"}
	ErrMetadataDisabled    = &plugin.Error{Status: http.StatusBadRequest, Code: "METADATA_DISABLED", Message: "Metadata is disabled."}
	ErrInvalidMetadataType = &plugin.Error{Status: http.StatusBadRequest, Code: "INVALID_METADATA_TYPE", Message: "metadata must be an object or undefined"}
	ErrExpiresTooSmall     = &plugin.Error{Status: http.StatusBadRequest, Code: "EXPIRES_IN_IS_TOO_SMALL", Message: "The expiresIn is smaller than the predefined minimum value."}
	ErrExpiresTooLarge     = &plugin.Error{Status: http.StatusBadRequest, Code: "EXPIRES_IN_IS_TOO_LARGE", Message: "The expiresIn is larger than the predefined maximum value."}
	ErrPrefixLength        = &plugin.Error{Status: http.StatusBadRequest, Code: "INVALID_PREFIX_LENGTH", Message: "The prefix length is either too large or too small."}
	ErrNameLength          = &plugin.Error{Status: http.StatusBadRequest, Code: "INVALID_NAME_LENGTH", Message: "The name length is either too large or too small."}
	ErrNameRequired        = &plugin.Error{Status: http.StatusBadRequest, Code: "NAME_REQUIRED", Message: "API Key name is required."}
	ErrKeyNotFound         = &plugin.Error{Status: http.StatusNotFound, Code: "KEY_NOT_FOUND", Message: "API Key not found"}
	ErrNoValues            = &plugin.Error{Status: http.StatusBadRequest, Code: "NO_VALUES_TO_UPDATE", Message: "No values to update."}
	ErrUserBanned          = &plugin.Error{Status: http.StatusUnauthorized, Code: "USER_BANNED", Message: "User is banned"}
	ErrOrgPluginRequired   = &plugin.Error{Status: http.StatusInternalServerError, Code: "ORGANIZATION_PLUGIN_REQUIRED", Message: "Organization plugin is required for organization-owned API keys. Please install and configure the organization plugin."}
	// The refusals of a presented key.
	ErrInvalidKey      = &plugin.Error{Status: http.StatusUnauthorized, Code: "INVALID_API_KEY", Message: "Invalid API key."}
	ErrShortKey        = &plugin.Error{Status: http.StatusForbidden, Code: "INVALID_API_KEY", Message: "Invalid API key."}
	ErrKeyDisabled     = &plugin.Error{Status: http.StatusUnauthorized, Code: "KEY_DISABLED", Message: "API Key is disabled"}
	ErrKeyExpired      = &plugin.Error{Status: http.StatusUnauthorized, Code: "KEY_EXPIRED", Message: "API Key has expired"}
	ErrUsageExceeded   = &plugin.Error{Status: http.StatusTooManyRequests, Code: "USAGE_EXCEEDED", Message: "API Key has reached its usage limit"}
	ErrInvalidOwner    = &plugin.Error{Status: http.StatusUnauthorized, Code: "INVALID_REFERENCE_ID_FROM_API_KEY", Message: "The reference id from the API key is invalid."}
	errRateLimitedCode = "RATE_LIMITED"
)

// rateLimited is the per-key rate limit's refusal, with the milliseconds until the window ends.
func rateLimited(tryAgainIn int64) error {
	return &plugin.Error{Status: http.StatusTooManyRequests, Code: errRateLimitedCode, Message: "Rate limit exceeded.",
		Details: map[string]any{"details": map[string]int64{"tryAgainIn": tryAgainIn}}}
}

// migrations create the apikey table as Better-Auth 1.7.25's migrate does for
// @better-auth/api-key 1.7.5's schema (no column defaults, no foreign key on referenceId), and,
// on PostgreSQL, the triggers that tell every instance when a key changes in a way its cache of
// verified keys must see. A database Better-Auth migrated with the plugin already has the table:
// it is adopted.
var migrations = []store.PluginMigration{{
	Name: ID + "/0001_apikey",
	SQL: map[store.Dialect]string{
		store.Postgres: `create table "apikey" ("id" text not null primary key, "configId" text not null, "name" text, "start" text, "referenceId" text not null, "prefix" text, "key" text not null, "refillInterval" integer, "refillAmount" integer, "lastRefillAt" timestamptz, "enabled" boolean, "rateLimitEnabled" boolean, "rateLimitTimeWindow" integer, "rateLimitMax" integer, "requestCount" integer, "remaining" integer, "lastRequest" timestamptz, "expiresAt" timestamptz, "createdAt" timestamptz not null, "updatedAt" timestamptz not null, "permissions" text, "metadata" text);
create index "apikey_configId_idx" on "apikey" ("configId");
create index "apikey_referenceId_idx" on "apikey" ("referenceId");
create index "apikey_key_idx" on "apikey" ("key");`,
		store.SQLite: `create table "apikey" ("id" text not null primary key, "configId" text not null, "name" text, "start" text, "referenceId" text not null, "prefix" text, "key" text not null, "refillInterval" integer, "refillAmount" integer, "lastRefillAt" date, "enabled" integer, "rateLimitEnabled" integer, "rateLimitTimeWindow" integer, "rateLimitMax" integer, "requestCount" integer, "remaining" integer, "lastRequest" date, "expiresAt" date, "createdAt" date not null, "updatedAt" date not null, "permissions" text, "metadata" text);
create index "apikey_configId_idx" on "apikey" ("configId");
create index "apikey_referenceId_idx" on "apikey" ("referenceId");
create index "apikey_key_idx" on "apikey" ("key");`,
	},
	Table: "apikey", Column: "id",
}, {
	// The usage counters (requestCount, lastRequest, remaining's value, lastRefillAt, updatedAt)
	// change on every use and are never cached, so their writes announce nothing; a change of
	// whether remaining is counted at all does.
	Name: ID + "/0002_apikey_notify",
	SQL: map[store.Dialect]string{
		store.Postgres: `create or replace function "authserver_apikey_changed"() returns trigger language plpgsql as $$
begin
  perform pg_notify('authserver_sessions', 'k:' || OLD."key");
  return null;
end
$$;
create trigger "authserver_apikey_deleted" after delete on "apikey" for each row execute function "authserver_apikey_changed"();
create trigger "authserver_apikey_changed" after update on "apikey" for each row when (OLD."key" is distinct from NEW."key" or OLD."enabled" is distinct from NEW."enabled" or OLD."expiresAt" is distinct from NEW."expiresAt" or OLD."referenceId" is distinct from NEW."referenceId" or OLD."configId" is distinct from NEW."configId" or OLD."permissions" is distinct from NEW."permissions" or OLD."rateLimitEnabled" is distinct from NEW."rateLimitEnabled" or OLD."rateLimitTimeWindow" is distinct from NEW."rateLimitTimeWindow" or OLD."rateLimitMax" is distinct from NEW."rateLimitMax" or (OLD."remaining" is null) <> (NEW."remaining" is null) or OLD."refillAmount" is distinct from NEW."refillAmount" or OLD."refillInterval" is distinct from NEW."refillInterval") execute function "authserver_apikey_changed"();`,
		// SQLite serves one instance, which drops its cached keys itself.
		store.SQLite: `select 1`,
	},
}}

// keyMessage is the invalidation message for the key whose stored hash is hash (the triggers').
const keyMessage = "k:"

type plug struct {
	cfg        Config
	cache      *keyCache
	lastSweep  atomic.Int64 // unix nanoseconds of the last expired-key sweep
	lastWrites sync.Map     // key id → unix nanoseconds of the last lastRequest write
}

// New builds the plugin.
func New(cfg Config) plugin.Plugin {
	if cfg.Header == "" {
		cfg.Header = "x-api-key"
	}
	if cfg.KeyLength <= 0 {
		cfg.KeyLength = 64
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = time.Minute
	}
	p := &plug{cfg: cfg, cache: newKeyCache(cfg.CacheTTL, 10_000, !cfg.DisableCache)}
	hooks := plugin.Hooks{Invalidated: p.cache}
	if cfg.SessionForKeys {
		hooks.RequestSession = p.requestSession
	}
	return plugin.Plugin{
		ID: ID,
		Endpoints: []plugin.Endpoint{
			{Method: http.MethodPost, Path: "/api-key/create", Body: &plugin.Schema{OptionalBody: true}, Session: plugin.OptionalSession, Handle: p.create},
			{Method: http.MethodGet, Path: "/api-key/get", Session: plugin.NeedSession, Handle: p.get},
			{Method: http.MethodPost, Path: "/api-key/update", Body: &plugin.Schema{}, Session: plugin.OptionalSession, Handle: p.update},
			{Method: http.MethodPost, Path: "/api-key/delete", Body: &plugin.Schema{}, Session: plugin.NeedSession, Handle: p.delete},
			{Method: http.MethodGet, Path: "/api-key/list", Session: plugin.NeedSession, Handle: p.list},
		},
		Hooks:      hooks,
		Migrations: migrations,
	}
}

// sweepExpired deletes expired keys, at most once per expiredSweepEvery per instance, as the
// endpoints of Better-Auth do in passing. Failures only delay the sweep.
func (p *plug) sweepExpired(ctx context.Context, h plugin.Host) {
	now := h.Now()
	last := p.lastSweep.Load()
	if last != 0 && now.UnixNano()-last < int64(expiredSweepEvery) {
		return
	}
	if !p.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	_ = h.Store().DeleteExpiredAPIKeys(ctx, store.NewTime(now))
}

// ownKey returns the caller's key id; KEY_NOT_FOUND for an unknown key, another user's key or a
// key of another configuration.
func (p *plug) ownKey(ctx context.Context, h plugin.Host, id, userID string, configID *string) (*store.APIKey, error) {
	k, err := h.Store().APIKeyByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrKeyNotFound
	}
	if err != nil {
		return nil, err
	}
	want := defaultConfigID
	if configID != nil && *configID != "" {
		want = *configID
	}
	if !configMatches(k.ConfigID, want) || k.ReferenceID != userID {
		return nil, ErrKeyNotFound
	}
	return k, nil
}

// configMatches is Better-Auth's configIdMatches: empty and "default" are the same.
func configMatches(a, b string) bool {
	isDef := func(s string) bool { return s == "" || s == defaultConfigID }
	if isDef(a) && isDef(b) {
		return true
	}
	return a == b
}

func validPrefix(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// forget drops a key from this instance's cache at once; other instances hear it from the
// database trigger.
func (p *plug) forget(hash string) { p.cache.Invalidate(keyMessage + hash) }

// msDuration converts a millisecond count of the table.
func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
