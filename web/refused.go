package web

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
)

// maxRefusedOrigins bounds how many distinct refused origins are remembered (and logged), so a
// client sending a new Origin on every request cannot grow the server's memory.
const maxRefusedOrigins = 100

// refusedOrigins logs each origin the server turns away (no CORS headers, or 403 INVALID_ORIGIN)
// once, with the setting that would let it in. Without it a browser app on another origin sees
// only "Failed to fetch" and the server log only a 204 or 403.
type refusedOrigins struct {
	log     *slog.Logger
	trusted []string // BETTER_AUTH_TRUSTED_ORIGINS as configured, to print the whole value to set

	mu   sync.Mutex
	seen map[string]struct{}
	full bool
}

func newRefusedOrigins(log *slog.Logger, trusted []string) *refusedOrigins {
	return &refusedOrigins{log: log, trusted: trusted, seen: map[string]struct{}{}}
}

// originForm matches an Origin header of a custom scheme (capacitor://localhost), which originOf
// does not parse.
var originForm = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.:\[\]-]+$`)

// note records that raw (an Origin header, or a Referer whose origin is taken) was refused. Values
// that are no origin ("null", garbage) are not logged: no setting could admit them.
func (r *refusedOrigins) note(ctx context.Context, raw string) {
	origin, ok := originOf(raw)
	if !ok {
		if len(raw) > 200 || !originForm.MatchString(raw) {
			return
		}
		origin = strings.ToLower(raw)
	}
	r.mu.Lock()
	_, dup := r.seen[origin]
	first, lastOne := !dup && !r.full, false
	if first {
		r.seen[origin] = struct{}{}
		if len(r.seen) >= maxRefusedOrigins {
			r.full, lastOne = true, true
		}
	}
	r.mu.Unlock()
	if !first {
		return
	}
	r.log.LogAttrs(ctx, slog.LevelWarn, "origin not trusted: browsers get no CORS headers and cookie requests get 403",
		slog.String("origin", origin),
		slog.String("fix", "BETTER_AUTH_TRUSTED_ORIGINS="+strings.Join(append(append([]string(nil), r.trusted...), origin), ",")))
	if lastOne {
		r.log.LogAttrs(ctx, slog.LevelWarn, "many untrusted origins seen: no further ones are logged",
			slog.Int("logged", maxRefusedOrigins))
	}
}
