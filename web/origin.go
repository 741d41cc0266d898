package web

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Origins is the list of trusted origins: the base URL's origin plus the configured ones. Entries
// are exact origins ("https://app.example.com"), wildcard patterns ("https://*.example.com",
// "*.example.com") or custom schemes ("myapp://"), matched as Better-Auth 1.7.25 matches them.
type Origins struct{ patterns []string }

// NewOrigins builds the trusted list; empty entries are dropped.
func NewOrigins(patterns ...string) Origins {
	var out []string
	for _, p := range patterns {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return Origins{patterns: out}
}

// Patterns returns the configured patterns.
func (o Origins) Patterns() []string { return append([]string(nil), o.patterns...) }

// Trusted reports whether rawURL matches a trusted pattern. With allowRelative, a safe
// root-relative path ("/dashboard") is also accepted, as Better-Auth accepts it for callback URLs
// (never for an Origin header).
func (o Origins) Trusted(rawURL string, allowRelative bool) bool {
	if strings.HasPrefix(rawURL, "/") {
		return allowRelative && safeRelativeURL(rawURL)
	}
	for _, p := range o.patterns {
		if matchOrigin(rawURL, p) {
			return true
		}
	}
	return false
}

var controlChars = regexp.MustCompile(`[\x00-\x1f\x7f-\x9f]`)
var encodedSeparator = regexp.MustCompile(`(?i)%2f|%5c`)

// safeRelativeURL accepts a root-relative URL that no browser or router could read as another
// host: no "//" start, no backslash, no control characters, no encoded slash or backslash in the
// path.
func safeRelativeURL(v string) bool {
	if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.Contains(v, `\`) || controlChars.MatchString(v) {
		return false
	}
	p := v
	if i := strings.IndexAny(v, "?#"); i >= 0 {
		p = v[:i]
	}
	if encodedSeparator.MatchString(p) {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && u.Host == "" && u.Scheme == ""
}

// originOf returns scheme://host[:port] of an http(s) URL the way the WHATWG URL parser reports
// it: lower-case, default port dropped, userinfo ignored. ok is false for anything unparseable.
func originOf(raw string) (string, bool) {
	if controlChars.MatchString(raw) || strings.Contains(raw, `\`) {
		return "", false
	}
	// The authority must be plain ASCII without percent-escapes. Browsers map non-ASCII hosts
	// through IDNA to a different (xn--) name, while Unicode case folding here would turn
	// "logİn.example" into "login.example": such a host could pass for a trusted one.
	if _, rest, ok := strings.Cut(raw, "://"); ok {
		authority := rest
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			authority = rest[:i]
		}
		for i := 0; i < len(authority); i++ {
			if authority[i] >= 0x80 || authority[i] == '%' {
				return "", false
			}
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", false
	}
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, true
	}
	return scheme + "://" + host, true
}

func schemeOf(raw string) string {
	i := strings.Index(raw, ":")
	if i <= 0 {
		return ""
	}
	return strings.ToLower(raw[:i])
}

// matchOrigin is Better-Auth's matchesOriginPattern for absolute URLs.
func matchOrigin(raw, pattern string) bool {
	wild := strings.ContainsAny(pattern, "*?")
	if wild && !strings.Contains(pattern, "://") {
		o, ok := originOf(raw)
		if !ok {
			return false
		}
		host := o[strings.Index(o, "://")+3:]
		return wildcardMatch(pattern, host) && allowedIPv4Host(pattern, host)
	}
	scheme := schemeOf(raw)
	if scheme == "http" || scheme == "https" || scheme == "" {
		o, ok := originOf(raw)
		if !ok {
			return false
		}
		if !wild {
			return pattern == o
		}
		if !wildcardMatch(pattern, o) {
			return false
		}
		return allowedIPv4Host(pattern[strings.Index(pattern, "://")+3:], o[strings.Index(o, "://")+3:])
	}
	return matchCustomScheme(raw, pattern, wild)
}

type customURL struct{ scheme, authority, path string }

func parseCustom(v string, wildcardPattern bool) (customURL, bool) {
	if controlChars.MatchString(v) {
		return customURL{}, false
	}
	i := strings.Index(v, ":")
	if i <= 0 {
		return customURL{}, false
	}
	out := customURL{scheme: strings.ToLower(v[:i])}
	rest := v[i+1:]
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		stops := "/?#"
		if wildcardPattern {
			stops = "/#"
		}
		if j := strings.IndexAny(rest, stops); j >= 0 {
			out.authority, rest = rest[:j], rest[j:]
		} else {
			out.authority, rest = rest, ""
		}
	}
	stops := "?#"
	if wildcardPattern {
		stops = "#"
	}
	if j := strings.IndexAny(rest, stops); j >= 0 {
		rest = rest[:j]
	}
	out.authority = strings.ToLower(out.authority)
	out.path = normalizePath(rest)
	return out, true
}

// normalizePath percent-decodes and resolves dot segments so "cb/../evil" cannot pass for "cb".
func normalizePath(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		p = d
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		case ".", "":
		default:
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return ""
	}
	return "/" + path.Join(segs...)
}

func matchCustomScheme(raw, pattern string, wild bool) bool {
	u, ok1 := parseCustom(raw, false)
	p, ok2 := parseCustom(pattern, wild)
	if !ok1 || !ok2 || u.scheme != p.scheme {
		return false
	}
	if wild {
		if strings.Contains(u.authority, "@") {
			return false
		}
		if p.authority != "" && !(wildcardMatch(p.authority, u.authority) && allowedIPv4Host(p.authority, u.authority)) {
			return false
		}
		if p.path == "" {
			return true
		}
		up := u.path
		if up == "" {
			up = "/"
		}
		return wildcardMatch(p.path, up)
	}
	if p.authority != "" && u.authority != p.authority {
		return false
	}
	if p.path == "" {
		return true
	}
	return u.path == p.path || strings.HasPrefix(u.path, p.path+"/")
}

// wildcardMatch matches s against a pattern where * is any run of characters other than "/" and
// ? is one such character.
func wildcardMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString("[^/]*")
		case '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}

var ipWildcardHost = regexp.MustCompile(`^[\d*?.]*\d[\d*?.]*$`)

// allowedIPv4Host stops a numeric wildcard such as 192.168.*.* from matching a domain name like
// 192.168.attacker.com: such patterns admit only IPv4 addresses.
func allowedIPv4Host(patternAuthority, authority string) bool {
	ph, _, _ := strings.Cut(patternAuthority, ":")
	if !ipWildcardHost.MatchString(ph) {
		return true
	}
	h, _, _ := strings.Cut(authority, ":")
	a, err := netip.ParseAddr(h)
	return err == nil && a.Is4()
}

// ClientIP returns the address a request came from: the connection's peer, or, when that peer is
// one of the trusted proxies, the right-most X-Forwarded-For hop that is not itself trusted.
// Forwarded headers from anyone else are ignored, so clients cannot choose their own address.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !inPrefixes(peer, trusted) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !inPrefixes(a, trusted) {
			return a.String()
		}
	}
	return peer.String()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
