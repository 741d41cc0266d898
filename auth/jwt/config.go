package jwt

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"authserver/auth/plugin"
)

// The algorithms Better-Auth's jwks.keyPairConfig offers.
const (
	EdDSA = "EdDSA" // Ed25519, the default
	ES256 = "ES256" // P-256
	ES512 = "ES512" // P-521
	RS256 = "RS256"
	PS256 = "PS256"
)

// Better-Auth's defaults.
const (
	DefaultExpirationTime = "15m"
	DefaultGracePeriod    = 30 * 24 * time.Hour
	DefaultJWKSPath       = "/jwks"
	DefaultModulusLength  = 2048
)

// Config holds the plugin's options, Better-Auth's jwt({jwks, jwt, disableSettingJwtHeader}).
type Config struct {
	// Alg (jwks.keyPairConfig.alg) is the algorithm of the keys the server mints and signs with.
	Alg string
	// ModulusLength (jwks.keyPairConfig.modulusLength) is the RSA key size in bits.
	ModulusLength int
	// RotationInterval (jwks.rotationInterval), when set, gives every new key an expiry: after
	// it the next signature mints a new key. Zero keeps a key forever.
	RotationInterval time.Duration
	// GracePeriod (jwks.gracePeriod) is how long an expired key stays in the JWKS, so tokens it
	// signed still verify.
	GracePeriod time.Duration
	// JWKSPath (jwks.jwksPath) is where the key set is served, below the auth base path.
	JWKSPath string
	// DisablePrivateKeyEncryption (jwks.disablePrivateKeyEncryption) keeps private keys in the
	// clear instead of encrypted with the server's secret.
	DisablePrivateKeyEncryption bool
	// Issuer and Audience (jwt.issuer, jwt.audience) default to the server's origin. More than
	// one audience makes "aud" an array.
	Issuer   string
	Audience []string
	// AudienceList is true when the audience was given as a list, which Better-Auth writes as an
	// array even with one entry.
	AudienceList bool
	// ExpiresIn (jwt.expirationTime, a time string such as "15m" or "1h") is a token's life,
	// rounded to whole seconds as Better-Auth rounds it.
	ExpiresIn time.Duration
	// DisableSettingJwtHeader (disableSettingJwtHeader) stops get-session from setting set-auth-jwt.
	DisableSettingJwtHeader bool
}

// LoadConfig reads the JWT_* variables, named after Better-Auth's options: JWT_KEY_PAIR_ALG
// (EdDSA, ES256, ES512, RS256, PS256), JWT_KEY_PAIR_MODULUS_LENGTH (RSA bits, at least 2048),
// JWT_ROTATION_INTERVAL and JWT_GRACE_PERIOD (seconds), JWT_JWKS_PATH,
// JWT_DISABLE_PRIVATE_KEY_ENCRYPTION, JWT_ISSUER, JWT_AUDIENCE (comma-separated for several),
// JWT_EXPIRATION_TIME (a time string such as "15m") and JWT_DISABLE_SETTING_JWT_HEADER.
// baseURL (the server's origin) is the default issuer and audience.
func LoadConfig(getenv func(string) string, baseURL string) (Config, error) {
	c := Config{Alg: EdDSA, ModulusLength: DefaultModulusLength, GracePeriod: DefaultGracePeriod, JWKSPath: DefaultJWKSPath}
	var errs []error
	fail := func(err error) { errs = append(errs, err) }
	if v := strings.TrimSpace(getenv("JWT_KEY_PAIR_ALG")); v != "" {
		switch v {
		case EdDSA, ES256, ES512, RS256, PS256:
			c.Alg = v
		default:
			fail(fmt.Errorf("JWT_KEY_PAIR_ALG: %q is not one of EdDSA, ES256, ES512, RS256, PS256", v))
		}
	}
	if v := strings.TrimSpace(getenv("JWT_KEY_PAIR_MODULUS_LENGTH")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2048 || n > 8192 || n%8 != 0 {
			fail(fmt.Errorf("JWT_KEY_PAIR_MODULUS_LENGTH: %q is not a number of bits between 2048 and 8192", v))
		} else {
			c.ModulusLength = n
		}
	}
	var err error
	if c.RotationInterval, err = seconds(getenv, "JWT_ROTATION_INTERVAL", 0); err != nil {
		fail(err)
	}
	if c.GracePeriod, err = seconds(getenv, "JWT_GRACE_PERIOD", DefaultGracePeriod); err != nil {
		fail(err)
	}
	if v := strings.TrimSpace(getenv("JWT_JWKS_PATH")); v != "" {
		// Better-Auth's own check, plus a plain path: it is mounted as a route.
		if !strings.HasPrefix(v, "/") || strings.Contains(v, "..") || strings.ContainsAny(v, "?#*: \t") {
			fail(fmt.Errorf("JWT_JWKS_PATH: %q must start with / and must not contain '..'", v))
		} else {
			c.JWKSPath = v
		}
	}
	if c.DisablePrivateKeyEncryption, err = plugin.EnvBool(getenv, "JWT_DISABLE_PRIVATE_KEY_ENCRYPTION"); err != nil {
		fail(err)
	}
	if c.DisableSettingJwtHeader, err = plugin.EnvBool(getenv, "JWT_DISABLE_SETTING_JWT_HEADER"); err != nil {
		fail(err)
	}
	c.Issuer = strings.TrimSpace(getenv("JWT_ISSUER"))
	if c.Issuer == "" {
		c.Issuer = baseURL
	}
	if v := strings.TrimSpace(getenv("JWT_AUDIENCE")); v != "" {
		c.AudienceList = strings.Contains(v, ",")
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.Audience = append(c.Audience, a)
			}
		}
	}
	if len(c.Audience) == 0 {
		c.Audience, c.AudienceList = []string{baseURL}, false
	}
	exp := strings.TrimSpace(getenv("JWT_EXPIRATION_TIME"))
	if exp == "" {
		exp = DefaultExpirationTime
	}
	if c.ExpiresIn, err = ParseTime(exp); err != nil || c.ExpiresIn <= 0 {
		fail(fmt.Errorf("JWT_EXPIRATION_TIME: %q is not a positive time such as 15m, 1h or 2 days", exp))
	}
	return c, errors.Join(errs...)
}

func seconds(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > 100*365*24*3600 {
		return def, fmt.Errorf("%s: %q is not a positive number of seconds", name, v)
	}
	return time.Duration(n) * time.Second, nil
}

// timeString is the grammar of Better-Auth's time strings ("7d", "30m", "1 hour", "2 hours ago").
var timeString = regexp.MustCompile(`(?i)^(\+|\-)? ?(\d+|\d+\.\d+) ?(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|months?|mo|years?|yrs?|y)(?: (ago|from now))?$`)

// ParseTime reads a time string as Better-Auth's sec() does and returns it rounded to whole
// seconds as sec() rounds (a month is 30 days, a year 365.25).
func ParseTime(s string) (time.Duration, error) {
	m := timeString.FindStringSubmatch(s)
	if m == nil || (m[4] != "" && m[1] != "") {
		return 0, fmt.Errorf("invalid time string %q", s)
	}
	n, err := strconv.ParseFloat(m[2], 64)
	if err != nil {
		return 0, fmt.Errorf("invalid time string %q", s)
	}
	var unit float64 // seconds
	switch u := strings.ToLower(m[3]); u {
	case "years", "year", "yrs", "yr", "y":
		unit = 365.25 * 86400
	case "months", "month", "mo":
		unit = 30 * 86400
	case "weeks", "week", "w":
		unit = 7 * 86400
	case "days", "day", "d":
		unit = 86400
	case "hours", "hour", "hrs", "hr", "h":
		unit = 3600
	case "minutes", "minute", "mins", "min", "m":
		unit = 60
	default:
		unit = 1
	}
	secs := n * unit
	if m[1] == "-" || strings.EqualFold(m[4], "ago") {
		secs = -secs
	}
	// JavaScript's Math.round: halves go up.
	return time.Duration(math.Floor(secs+0.5)) * time.Second, nil
}
