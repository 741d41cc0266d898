package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"
)

// Redis is the optional secondary storage (REDIS_URL), used the way Better-Auth uses its
// secondaryStorage: validated sessions under their token as key, and rate-limit counters, shared by
// every replica. The database stays the source of truth, so every operation has a short timeout
// and a failure is reported to the caller, who falls back to the database; an outage slows
// requests down but never signs anyone out.
//
// It is built on redigo rather than go-redis: html/template's MethodByName makes the linker keep
// every exported method of a reachable type, and go-redis's command API alone cost megabytes of
// binary for the dozen commands used here.
type Redis struct {
	pool    *redis.Pool
	timeout time.Duration
}

// Connection timeouts. A call never waits longer than its context allows (callCtx, Ping), and
// these bound each step underneath: a server that stops answering costs at most one short wait,
// never a hang, and there are no retries, so a failure reaches the caller (and the database
// fallback) at once.
const (
	redisCallTimeout  = 300 * time.Millisecond
	redisPingTimeout  = 2 * time.Second
	redisDialTimeout  = 2 * time.Second
	redisReadTimeout  = 500 * time.Millisecond
	redisWriteTimeout = 500 * time.Millisecond
	// Connections idle this long are dropped rather than reused, under the ~5 minutes after which
	// NATs and cloud load balancers silently forget a TCP connection.
	redisIdleTimeout = 4 * time.Minute
	// A connection idle longer than this is PINGed before reuse, so one that died while idle
	// (Redis restart, dropped by the network) is replaced instead of failing the caller's command.
	redisCheckIdle = time.Minute
)

// withoutURL drops the URL that url.Parse puts in its errors: REDIS_URL may hold a password,
// and this error is logged.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// errURLChecked stops the dial made by OpenRedis to validate the URL before it opens a socket.
var errURLChecked = errors.New("store: redis url checked")

// OpenRedis makes a client for the Redis named by a redis:// or rediss:// URL. Only a bad URL is
// an error: an unreachable Redis is reported by Ping, and the client keeps reconnecting, so the
// server can start (and keep serving from the database) while Redis is down.
//
// The URL carries the address, an optional user and password, and the database number as its
// path (redis://user:pass@host:6379/2); rediss:// uses TLS. Query parameters are refused rather
// than ignored, so that a setting such as ?db=2 can never silently fall back to a default.
func OpenRedis(ctx context.Context, rawURL string) (*Redis, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: REDIS_URL: %w", withoutURL(err))
	}
	if u.RawQuery != "" {
		return nil, errors.New("store: REDIS_URL: query parameters are not supported (give the database number as the path)")
	}
	// redigo reads the database number from the last path segment; refuse longer paths instead of
	// guessing what redis://host/a/2 means.
	if strings.Contains(strings.TrimPrefix(u.Path, "/"), "/") {
		return nil, fmt.Errorf("store: REDIS_URL: invalid database %q", u.Path)
	}
	// redigo only parses the URL when it dials. Run its parser now, with a dialer that fails
	// before touching the network, so that a bad URL stops the server at start rather than
	// turning every later call into the same error.
	_, err = redis.DialURLContext(ctx, rawURL, redis.DialContextFunc(func(context.Context, string, string) (net.Conn, error) {
		return nil, errURLChecked
	}))
	if !errors.Is(err, errURLChecked) {
		return nil, fmt.Errorf("store: REDIS_URL: %w", withoutURL(err))
	}
	maxActive := 10 * runtime.GOMAXPROCS(0)
	pool := &redis.Pool{
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			// The TLS handshake of rediss:// does not watch the context; bound it by the caller's
			// remaining time too, so dialing never outlasts the call that asked for it.
			handshake := redisDialTimeout
			if dl, ok := ctx.Deadline(); ok {
				handshake = min(handshake, max(time.Until(dl), time.Millisecond))
			}
			return redis.DialURLContext(ctx, rawURL,
				redis.DialConnectTimeout(redisDialTimeout),
				redis.DialTLSHandshakeTimeout(handshake),
				redis.DialReadTimeout(redisReadTimeout),
				redis.DialWriteTimeout(redisWriteTimeout))
		},
		TestOnBorrowContext: func(ctx context.Context, c redis.Conn, lastUsed time.Time) error {
			if time.Since(lastUsed) < redisCheckIdle {
				return nil
			}
			_, err := redis.DoContext(c, ctx, "PING")
			return err
		},
		// Bounded like go-redis's default pool (10 per CPU): a slow Redis must not make every
		// request open a new connection. Wait makes a caller queue for a free connection, within
		// its own timeout, instead of failing at once.
		MaxActive:   maxActive,
		Wait:        true,
		MaxIdle:     min(16, maxActive),
		IdleTimeout: redisIdleTimeout,
	}
	return &Redis{pool: pool, timeout: redisCallTimeout}, nil
}

// withConn runs f on a pooled connection under a deadline of timeout, and always hands the
// connection back: to the pool when it is healthy, closed when a command or the deadline broke
// it (redigo marks such a connection failed and the pool discards it).
func (r *Redis) withConn(ctx context.Context, timeout time.Duration, f func(ctx context.Context, c redis.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := r.pool.GetContext(ctx)
	if err != nil {
		return err
	}
	// Close only returns the connection; its error repeats one f already reported, or concerns a
	// connection the pool is discarding anyway.
	defer c.Close()
	return f(ctx, c)
}

// do runs one command within the per-call timeout.
func (r *Redis) do(ctx context.Context, cmd string, args ...any) (reply any, err error) {
	err = r.withConn(ctx, r.timeout, func(ctx context.Context, c redis.Conn) error {
		reply, err = redis.DoContext(c, ctx, cmd, args...)
		return err
	})
	return reply, err
}

// script runs a Lua script within the per-call timeout (EVALSHA, then EVAL the first time a
// server has not seen it).
func (r *Redis) script(ctx context.Context, s *redis.Script, keysAndArgs ...any) (reply any, err error) {
	err = r.withConn(ctx, r.timeout, func(ctx context.Context, c redis.Conn) error {
		reply, err = s.DoContext(ctx, c, keysAndArgs...)
		return err
	})
	return reply, err
}

// Ping checks that Redis answers within 2 seconds, connecting if need be; the error says why not.
func (r *Redis) Ping(ctx context.Context) error {
	err := r.withConn(ctx, redisPingTimeout, func(ctx context.Context, c redis.Conn) error {
		_, err := redis.DoContext(c, ctx, "PING")
		return err
	})
	if err != nil {
		return fmt.Errorf("store: redis ping: %w", err)
	}
	return nil
}

// Close releases the connections. Calls made afterwards fail (and callers fall back to the
// database); connections still in use are closed when their call ends.
func (r *Redis) Close() error { return r.pool.Close() }

// Get returns the value under key; found is false when it is absent or Redis failed (err tells).
func (r *Redis) Get(ctx context.Context, key string) (value []byte, found bool, err error) {
	v, err := redis.Bytes(r.do(ctx, "GET", key))
	if errors.Is(err, redis.ErrNil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// Set stores value under key for ttl (rounded up to a whole millisecond); a ttl of zero or less
// stores it without expiry.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	args := []any{key, value}
	if ttl > 0 {
		args = append(args, "PX", max(ttl.Milliseconds(), 1))
	}
	_, err := r.do(ctx, "SET", args...)
	return err
}

// Del removes keys; keys that do not exist are not an error.
func (r *Redis) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := r.do(ctx, "DEL", redis.Args{}.AddFlat(keys)...)
	return err
}

// rateLimitScript applies Better-Auth's rate-limit rule atomically: a request is allowed when the
// window since the last allowed request has passed (the count restarts at 1) or the count is under
// max; only allowed requests update the state. It returns {allowed, lastRequestMs}.
var rateLimitScript = redis.NewScript(1, `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'count', 'lastRequest')
local count = tonumber(v[1])
local last = tonumber(v[2])
if count == nil or now - last >= window then
  redis.call('HSET', KEYS[1], 'count', 1, 'lastRequest', now)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, now}
end
if count < max then
  redis.call('HSET', KEYS[1], 'count', count + 1, 'lastRequest', now)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, now}
end
return {0, last}
`)

// RateLimit counts one request against key under Better-Auth's rule (window in ms) and reports
// whether it is allowed and, when not, when the last allowed request was (ms since the epoch).
func (r *Redis) RateLimit(ctx context.Context, key string, nowMs, windowMs int64, max int) (allowed bool, lastMs int64, err error) {
	res, err := redis.Int64s(r.script(ctx, rateLimitScript, "rate-limit:"+key, nowMs, windowMs, max))
	if err != nil {
		return false, 0, err
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("store: redis rate limit: unexpected reply %v", res)
	}
	return res[0] == 1, res[1], nil
}

// Shared-session keys. Sessions are stored under the hash of their token (never the token), with
// a per-user set of those hashes so a change to the user can drop them all, and one global epoch
// that every invalidation advances.
const (
	redisSessionPrefix = "authserver:session:"
	redisUserPrefix    = "authserver:user-sessions:"
	redisEpochKey      = "authserver:epoch"
)

// saveScript stores a session only if no invalidation happened since the writer read the epoch
// (before it read the database), so a revocation that commits mid-read can never be overwritten by
// the stale row, on any replica.
var saveScript = redis.NewScript(3, `
local epoch = redis.call('GET', KEYS[3]) or '0'
if epoch ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`)

var dropUserScript = redis.NewScript(2, `
local hashes = redis.call('SMEMBERS', KEYS[1])
for _, h in ipairs(hashes) do redis.call('DEL', ARGV[1] .. h) end
redis.call('DEL', KEYS[1])
return redis.call('INCR', KEYS[2])
`)

// SessionEpoch returns the current invalidation epoch, to pass to SaveSession; "0" before the
// first invalidation.
func (r *Redis) SessionEpoch(ctx context.Context) (string, error) {
	v, err := redis.String(r.do(ctx, "GET", redisEpochKey))
	if errors.Is(err, redis.ErrNil) {
		return "0", nil
	}
	return v, err
}

// LoadSession returns the shared copy of a validated session, if any.
func (r *Redis) LoadSession(ctx context.Context, hash string) ([]byte, bool, error) {
	return r.Get(ctx, redisSessionPrefix+hash)
}

// SaveSession shares a validated session for ttl unless the epoch moved since it was read. A
// save skipped for a moved epoch is not an error.
func (r *Redis) SaveSession(ctx context.Context, hash, userID string, data []byte, ttl time.Duration, epoch string) error {
	_, err := r.script(ctx, saveScript, redisSessionPrefix+hash, redisUserPrefix+userID, redisEpochKey,
		epoch, data, ttl.Milliseconds(), hash)
	return err
}

// DropSession forgets one shared session and advances the epoch, in one transaction, so that a
// replica that read the session from the database before the drop cannot share it again.
func (r *Redis) DropSession(ctx context.Context, hash string) error {
	return r.withConn(ctx, r.timeout, func(ctx context.Context, c redis.Conn) error {
		// The queued commands go out with EXEC in one round trip. If anything fails before EXEC,
		// closing the connection sends DISCARD (or the pool drops it), so no MULTI leaks.
		if err := c.Send("MULTI"); err != nil {
			return err
		}
		if err := c.Send("DEL", redisSessionPrefix+hash); err != nil {
			return err
		}
		if err := c.Send("INCR", redisEpochKey); err != nil {
			return err
		}
		replies, err := redis.Values(redis.DoContext(c, ctx, "EXEC"))
		if err != nil {
			return err
		}
		// A command that fails inside EXEC (INCR on a non-integer) is an element, not an error.
		for _, v := range replies {
			if e, ok := v.(redis.Error); ok {
				return e
			}
		}
		return nil
	})
}

// DropUserSessions forgets every shared session of a user and advances the epoch, atomically.
func (r *Redis) DropUserSessions(ctx context.Context, userID string) error {
	_, err := r.script(ctx, dropUserScript, redisUserPrefix+userID, redisEpochKey, redisSessionPrefix)
	return err
}

// lockoutFailScript counts one failure: a count whose last failure is more than ARGV[2] ms old
// starts again at 1; the key expires when it could no longer matter. It returns the new count.
var lockoutFailScript = redis.NewScript(1, `
local now = tonumber(ARGV[1])
local reset = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'count', 'last')
local count = tonumber(v[1])
local last = tonumber(v[2])
if count == nil or now - last > reset then
  count = 0
end
count = count + 1
redis.call('HSET', KEYS[1], 'count', count, 'last', now)
redis.call('PEXPIRE', KEYS[1], reset + 1000)
return count
`)

// redisLockoutPrefix namespaces sign-in lockout counters.
const redisLockoutPrefix = "authserver:lockout:"

// LockoutFail counts one sign-in failure under key (see Store.LockoutFail) and returns the count.
func (r *Redis) LockoutFail(ctx context.Context, key string, nowMs, resetMs int64) (int, error) {
	return redis.Int(r.script(ctx, lockoutFailScript, redisLockoutPrefix+key, nowMs, resetMs))
}

// LockoutState returns the failures under key and when the last one was; (0, 0) when none.
func (r *Redis) LockoutState(ctx context.Context, key string) (int, int64, error) {
	v, err := redis.Int64s(r.do(ctx, "HMGET", redisLockoutPrefix+key, "count", "last"))
	if err != nil || len(v) != 2 {
		return 0, 0, err
	}
	return int(v[0]), v[1], nil
}

// LockoutClear forgets the failures under key.
func (r *Redis) LockoutClear(ctx context.Context, key string) error {
	return r.Del(ctx, redisLockoutPrefix+key)
}
