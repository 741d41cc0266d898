package web

import (
	"net/http"
	"net/url"
	"strings"
)

// checkOrigin is Better-Auth's router-level origin check. A request that carries cookies (or any
// request when force is set) must name a trusted Origin, or failing that a trusted Referer, so a
// third-party page cannot ride the user's cookies. Requests without cookies (curl, servers, bearer
// clients) are not checked here.
func (h *authHandler) checkOrigin(r *http.Request, force bool) error {
	if h.cfg.DisableCSRFCheck {
		return nil
	}
	if !force && r.Header.Get("Cookie") == "" {
		return nil
	}
	origin := r.Header.Get("Origin")
	candidate := origin
	if candidate == "" {
		candidate = r.Header.Get("Referer")
	}
	if origin == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		// A same-origin request from an opaque context: the browser vouches for it, and Better-Auth
		// then checks the server's own origin.
		candidate = h.baseOrigin
	}
	if candidate == "" || candidate == "null" {
		return errMissingOrigin
	}
	if !h.origins.Trusted(candidate, false) {
		h.refused.note(r.Context(), candidate)
		return errInvalidOrigin
	}
	return nil
}

// callbackFields are the body fields that name where the browser goes next; each must be a
// trusted origin or a safe relative path, or Better-Auth refuses with its own code.
var callbackFields = []struct{ key, label, code, message string }{
	{"callbackURL", "callbackURL", "INVALID_CALLBACK_URL", "Invalid callbackURL"},
	{"redirectTo", "redirectURL", "INVALID_REDIRECT_URL", "Invalid redirectURL"},
	{"errorCallbackURL", "errorCallbackURL", "INVALID_ERROR_CALLBACK_URL", "Invalid errorCallbackURL"},
	{"newUserCallbackURL", "newUserCallbackURL", "INVALID_NEW_USER_CALLBACK_URL", "Invalid newUserCallbackURL"},
}

// checkCallbackURLs validates redirect targets in the body (and callbackURL in the query), so the
// server never sends a browser to a place the operator has not trusted.
func (h *authHandler) checkCallbackURLs(r *http.Request, body map[string]any) error {
	for _, f := range callbackFields {
		v, present := body[f.key]
		if f.key == "callbackURL" && (!present || !truthy(v)) {
			if q := r.URL.Query().Get("callbackURL"); q != "" {
				v, present = q, true
			}
		}
		if !present || !truthy(v) {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return newAPIError(http.StatusBadRequest, "", "Invalid "+f.label+": expected a string")
		}
		if !h.origins.Trusted(s, true) {
			return newAPIError(http.StatusForbidden, f.code, f.message)
		}
	}
	return nil
}

// checkCallbackURL validates one redirect target outside the router check (the GET links in
// emails), with the same rule.
func (h *authHandler) checkCallbackURL(raw string) error {
	if raw == "" || h.origins.Trusted(raw, true) {
		return nil
	}
	return newAPIError(http.StatusForbidden, "INVALID_CALLBACK_URL", "Invalid callbackURL")
}

// checkFormCSRF protects sign-in and sign-up, which carry no cookie the first time: a browser
// that reports a cross-site navigation (a form posted from another site) is refused, and any
// request with fetch-metadata or an Origin must come from a trusted origin.
func (h *authHandler) checkFormCSRF(r *http.Request) error {
	if h.cfg.DisableCSRFCheck {
		return nil
	}
	if r.Header.Get("Cookie") != "" {
		return h.checkOrigin(r, false)
	}
	site := r.Header.Get("Sec-Fetch-Site")
	mode := r.Header.Get("Sec-Fetch-Mode")
	dest := r.Header.Get("Sec-Fetch-Dest")
	if strings.TrimSpace(site) != "" || strings.TrimSpace(mode) != "" || strings.TrimSpace(dest) != "" {
		if site == "cross-site" && mode == "navigate" {
			return errCrossSiteNav
		}
		return h.checkOrigin(r, true)
	}
	if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
		return h.checkOrigin(r, true)
	}
	return nil
}

// truthy is JavaScript's truthiness for decoded JSON values.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	}
	return true
}

// baseOriginOf returns the origin of the configured base URL.
func baseOriginOf(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
