package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Sign returns value + "." + base64(HMAC-SHA256(secret, value)), the signed form Better-Auth
// (better-call) gives cookie values. The signature is standard base64 with padding: 44 characters
// ending in "=".
func Sign(secret []byte, value string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(value))
	return value + "." + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Unsign checks a signed value produced by Sign (already percent-decoded) and returns the value
// it carries. As in better-call, the value is split at the last ".", and a signature that is not
// 44 characters ending in "=" makes the cookie count as absent.
func Unsign(secret []byte, signed string) (string, bool) {
	i := strings.LastIndexByte(signed, '.')
	if i < 1 {
		return "", false
	}
	value, sig := signed[:i], signed[i+1:]
	if len(sig) != 44 || !strings.HasSuffix(sig, "=") {
		return "", false
	}
	// Strict: a signature whose unused trailing bits were altered decodes to the same bytes under a
	// lenient decoder; only the canonical encoding is accepted, so every altered character fails.
	got, err := base64.StdEncoding.Strict().DecodeString(sig)
	if err != nil {
		return "", false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(value))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return "", false
	}
	return value, true
}

// EncodeURIComponent escapes s exactly as JavaScript's encodeURIComponent does, so cookie values
// are byte-identical to the ones Better-Auth writes.
func EncodeURIComponent(s string) string {
	const safe = "-_.!~*'()"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

// tryDecode percent-decodes a value that contains "%", keeping it as is when it does not decode,
// as better-call's cookie parser does.
func tryDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	d, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return d
}

// ReadCookie returns the value of the first cookie with this exact name in the request's Cookie
// headers, trimmed, unquoted and percent-decoded the way better-call parses cookies.
func ReadCookie(r *http.Request, name string) (string, bool) {
	for _, header := range r.Header.Values("Cookie") {
		for _, part := range strings.Split(header, ";") {
			k, v, ok := strings.Cut(part, "=")
			if !ok || strings.TrimSpace(k) != name {
				continue
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return tryDecode(v), true
		}
	}
	return "", false
}

// cookieAttrs are the attributes Better-Auth gives every auth cookie.
type cookieAttrs struct {
	maxAge int // seconds; -1 omits Max-Age (a browser-session cookie)
	secure bool
	domain string
	// script leaves HttpOnly off, for cookies a client plugin reads from document.cookie.
	script bool
}

// formatSetCookie writes a Set-Cookie value with better-call's attribute order:
// name=value; Max-Age; Domain; Path; HttpOnly; Secure; SameSite.
func formatSetCookie(name, value string, a cookieAttrs) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(value)
	if a.maxAge >= 0 {
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.Itoa(a.maxAge))
	}
	if a.domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(a.domain)
	}
	b.WriteString("; Path=/")
	if !a.script {
		b.WriteString("; HttpOnly")
	}
	if a.secure {
		b.WriteString("; Secure")
	}
	b.WriteString("; SameSite=Lax")
	return b.String()
}
