package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the optional secondary storage (REDIS_URL), used the way Better-Auth uses its
// secondaryStorage: validated sessions under their token as key, and rate-limit counters, shared by
// every replica. The database stays the source of truth, so every operation has a short timeout
// and a failure is reported to the caller, who falls back to the database; an outage slows
// requests down but never signs anyone out.
type Redis struct {
	c       *redis.Client
	timeout time.Duration
}

// OpenRedis makes a client for the Redis named by a redis:// or rediss:// URL. Only a bad URL is
// an error: an unreachable Redis is reported by Ping, and the client keeps reconnecting, so the
// server can start (and keep serving from the database) while Redis is down.
func OpenRedis(ctx context.Context, rawURL string) (*Redis, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: REDIS_URL: %w", err)
	}
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 500 * time.Millisecond
	opts.WriteTimeout = 500 * time.Millisecond
	opts.MaxRetries = 0
	return &Redis{c: redis.NewClient(opts), timeout: 300 * time.Millisecond}, nil
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("store: redis ping: %w", err)
	}
	return nil
}

// Close releases the connections.
func (r *Redis) Close() error { return r.c.Close() }

// Get returns the value under key; found is false when it is absent or Redis failed (err tells).
func (r *Redis) Get(ctx context.Context, key string) (value []byte, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := r.c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// Set stores value under key for ttl.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return r.c.Set(ctx, key, value, ttl).Err()
}

// Del removes keys.
func (r *Redis) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return r.c.Del(ctx, keys...).Err()
}

// rateLimitScript applies Better-Auth's rate-limit rule atomically: a request is allowed when the
// window since the last allowed request has passed (the count restarts at 1) or the count is under
// max; only allowed requests update the state. It returns {allowed, lastRequestMs}.
var rateLimitScript = redis.NewScript(`
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
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	res, err := rateLimitScript.Run(ctx, r.c, []string{"rate-limit:" + key}, nowMs, windowMs, max).Int64Slice()
	if err != nil {
		return false, 0, err
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
var saveScript = redis.NewScript(`
local epoch = redis.call('GET', KEYS[3]) or '0'
if epoch ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`)

var dropUserScript = redis.NewScript(`
local hashes = redis.call('SMEMBERS', KEYS[1])
for _, h in ipairs(hashes) do redis.call('DEL', ARGV[1] .. h) end
redis.call('DEL', KEYS[1])
return redis.call('INCR', KEYS[2])
`)

// SessionEpoch returns the current invalidation epoch, to pass to SaveSession.
func (r *Redis) SessionEpoch(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := r.c.Get(ctx, redisEpochKey).Result()
	if errors.Is(err, redis.Nil) {
		return "0", nil
	}
	return v, err
}

// LoadSession returns the shared copy of a validated session, if any.
func (r *Redis) LoadSession(ctx context.Context, hash string) ([]byte, bool, error) {
	return r.Get(ctx, redisSessionPrefix+hash)
}

// SaveSession shares a validated session for ttl unless the epoch moved since it was read.
func (r *Redis) SaveSession(ctx context.Context, hash, userID string, data []byte, ttl time.Duration, epoch string) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return saveScript.Run(ctx, r.c, []string{redisSessionPrefix + hash, redisUserPrefix + userID, redisEpochKey},
		epoch, data, ttl.Milliseconds(), hash).Err()
}

// DropSession forgets one shared session.
func (r *Redis) DropSession(ctx context.Context, hash string) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	pipe := r.c.TxPipeline()
	pipe.Del(ctx, redisSessionPrefix+hash)
	pipe.Incr(ctx, redisEpochKey)
	_, err := pipe.Exec(ctx)
	return err
}

// DropUserSessions forgets every shared session of a user.
func (r *Redis) DropUserSessions(ctx context.Context, userID string) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return dropUserScript.Run(ctx, r.c, []string{redisUserPrefix + userID, redisEpochKey}, redisSessionPrefix).Err()
}
