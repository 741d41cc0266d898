package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"authserver/auth/deviceauth"
	"authserver/auth/plugin"
	"authserver/store"
	"authserver/store/storetest"
	"authserver/web"
)

func deviceEnv(t *testing.T, st *store.Store, vars map[string]string) *env {
	t.Helper()
	cfg, err := deviceauth.LoadConfig(func(k string) string { return vars[k] }, testBaseURL+"/api/auth")
	if err != nil {
		t.Fatal(err)
	}
	ps := []plugin.Plugin{deviceauth.New(cfg)}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	return newEnv(t, st, func(o *envOptions) { o.auth.Plugins = ps })
}

// oauthError fails unless r is status with exactly {"error":code,"error_description":desc}.
func oauthError(t *testing.T, r *response, status int, code, desc string) {
	t.Helper()
	if r.Status != status || r.JSON["error"] != code || r.JSON["error_description"] != desc || len(r.JSON) != 2 {
		t.Fatalf("answer %d %s, want %d {error:%q, error_description:%q}", r.Status, r.Raw, status, code, desc)
	}
}

var (
	deviceCodePattern = regexp.MustCompile(`^[A-Za-z0-9]{40}$`)
	userCodePattern   = regexp.MustCompile(`^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$`)
)

type deviceGrant struct{ deviceCode, userCode string }

func requestDeviceCode(t *testing.T, e *env, body map[string]any) deviceGrant {
	t.Helper()
	r := e.client().do("POST", "/api/auth/device/code", body)
	expect(t, r, 200, "")
	dc, _ := r.JSON["device_code"].(string)
	uc, _ := r.JSON["user_code"].(string)
	if !deviceCodePattern.MatchString(dc) || !userCodePattern.MatchString(uc) {
		t.Fatalf("codes %s", r.Raw)
	}
	if r.JSON["verification_uri"] != testBaseURL+"/device" || r.JSON["verification_uri_complete"] != testBaseURL+"/device?user_code="+uc ||
		r.JSON["expires_in"] != 1800.0 || r.JSON["interval"] != 5.0 || len(r.JSON) != 6 {
		t.Fatalf("device/code answered %s", r.Raw)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("headers %v", r.Header)
	}
	return deviceGrant{dc, uc}
}

func poll(e *env, g deviceGrant, clientID string) *response {
	return e.client().do("POST", "/api/auth/device/token", map[string]any{
		"grant_type": deviceauth.GrantType, "device_code": g.deviceCode, "client_id": clientID})
}

func TestDeviceAuthorizationFlow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := deviceEnv(t, st, nil)
		g := requestDeviceCode(t, e, map[string]any{"client_id": "cli", "scope": "openid profile"})

		// Nobody has looked yet.
		oauthError(t, poll(e, g, "cli"), 400, "authorization_pending", "Authorization pending")
		// Polling again before the interval is over is refused and does not count as a poll.
		e.clock.Advance(4 * time.Second)
		r := poll(e, g, "cli")
		oauthError(t, r, 400, "slow_down", "Polling too frequently")
		if r.Header.Get("Pragma") != "no-cache" {
			t.Fatalf("token error headers %v", r.Header)
		}
		e.clock.Advance(time.Second)
		oauthError(t, poll(e, g, "cli"), 400, "authorization_pending", "Authorization pending")

		// Signed out, GET /device shows only the status and claims nothing.
		anon := e.client().do("GET", "/api/auth/device?user_code="+g.userCode, nil)
		if anon.Status != 200 || string(anon.Raw) != `{"user_code":"`+g.userCode+`","status":"pending"}` {
			t.Fatalf("signed-out view %d %s", anon.Status, anon.Raw)
		}
		person := e.client()
		up := signUp(t, person, "dev@example.com", "password123")
		userID := up.JSON["user"].(map[string]any)["id"].(string)
		// Approving before looking is refused: the code must be claimed first.
		oauthError(t, person.do("POST", "/api/auth/device/approve", map[string]any{"userCode": g.userCode}), 400, "invalid_request",
			"Device code has not been claimed by a verifying session; call `GET /device` with the `user_code` while signed in before approving or denying")
		// The code is typed as people type it: lower case, with a dash.
		typed := strings.ToLower(g.userCode[:4] + "-" + g.userCode[4:])
		v := person.do("GET", "/api/auth/device?user_code="+typed, nil)
		if v.Status != 200 || string(v.Raw) != `{"user_code":"`+typed+`","status":"pending","client_id":"cli","scope":"openid profile"}` {
			t.Fatalf("signed-in view %d %s", v.Status, v.Raw)
		}
		// Someone else cannot see the details or decide.
		other := e.client()
		signUp(t, other, "other@example.com", "password123")
		if o := other.do("GET", "/api/auth/device?user_code="+g.userCode, nil); string(o.Raw) != `{"user_code":"`+g.userCode+`","status":"pending"}` {
			t.Fatalf("another person's view %s", o.Raw)
		}
		oauthError(t, other.do("POST", "/api/auth/device/approve", map[string]any{"userCode": g.userCode}), 403, "access_denied",
			"You are not authorized to approve this device authorization")
		oauthError(t, other.do("POST", "/api/auth/device/deny", map[string]any{"userCode": g.userCode}), 403, "access_denied",
			"You are not authorized to deny this device authorization")
		oauthError(t, e.client().do("POST", "/api/auth/device/approve", map[string]any{"userCode": g.userCode}), 401, "unauthorized", "Authentication required")

		ok := person.do("POST", "/api/auth/device/approve", map[string]any{"userCode": typed})
		if ok.Status != 200 || string(ok.Raw) != `{"success":true}` {
			t.Fatalf("approve %d %s", ok.Status, ok.Raw)
		}
		oauthError(t, person.do("POST", "/api/auth/device/deny", map[string]any{"userCode": g.userCode}), 400, "invalid_request", "Device code already processed")
		if v := person.do("GET", "/api/auth/device?user_code="+g.userCode, nil); v.JSON["status"] != "approved" {
			t.Fatalf("view after approval %s", v.Raw)
		}

		// A poll with the wrong client id does not get the token.
		e.clock.Advance(5 * time.Second)
		oauthError(t, poll(e, g, "other-cli"), 400, "invalid_grant", "Client ID mismatch")
		tok := poll(e, g, "cli")
		expect(t, tok, 200, "")
		access, _ := tok.JSON["access_token"].(string)
		if access == "" || tok.JSON["token_type"] != "Bearer" || tok.JSON["scope"] != "openid profile" || len(tok.JSON) != 4 {
			t.Fatalf("token %s", tok.Raw)
		}
		if exp, _ := tok.JSON["expires_in"].(float64); exp < 604799 || exp > 604800 {
			t.Fatalf("expires_in %v", tok.JSON["expires_in"])
		}
		if len(tok.Header.Values("Set-Cookie")) != 0 || tok.Header.Get("Pragma") != "no-cache" {
			t.Fatalf("token headers %v", tok.Header)
		}
		// The access token is a session of the person who approved, usable as a bearer token.
		s := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+access)
		if u, _ := s.JSON["user"].(map[string]any); u["id"] != userID {
			t.Fatalf("get-session with the device token: %s", s.Raw)
		}
		// A device code is redeemed once.
		e.clock.Advance(5 * time.Second)
		oauthError(t, poll(e, g, "cli"), 400, "invalid_grant", "Invalid device code")
		oauthError(t, e.client().do("GET", "/api/auth/device?user_code="+g.userCode, nil), 400, "invalid_request", "Invalid user code")
	})
}

func TestDeviceAuthorizationDenyAndExpiry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := deviceEnv(t, st, nil)
		person := e.client()
		signUp(t, person, "deny@example.com", "password123")

		g := requestDeviceCode(t, e, map[string]any{"client_id": "tv"})
		if v := person.do("GET", "/api/auth/device?user_code="+g.userCode, nil); string(v.Raw) != `{"user_code":"`+g.userCode+`","status":"pending","client_id":"tv","scope":null}` {
			t.Fatalf("view %s", v.Raw)
		}
		if r := person.do("POST", "/api/auth/device/deny", map[string]any{"userCode": g.userCode}); string(r.Raw) != `{"success":true}` {
			t.Fatalf("deny %d %s", r.Status, r.Raw)
		}
		oauthError(t, person.do("POST", "/api/auth/device/approve", map[string]any{"userCode": g.userCode}), 400, "invalid_request", "Device code already processed")
		oauthError(t, poll(e, g, "tv"), 400, "access_denied", "Access denied")
		// A denial is told once; the code is gone afterwards.
		e.clock.Advance(5 * time.Second)
		oauthError(t, poll(e, g, "tv"), 400, "invalid_grant", "Invalid device code")

		// After 30 minutes the code is expired for the person and, once, for the device.
		g = requestDeviceCode(t, e, map[string]any{"client_id": "tv"})
		e.clock.Advance(30*time.Minute + time.Second)
		oauthError(t, person.do("GET", "/api/auth/device?user_code="+g.userCode, nil), 400, "expired_token", "User code has expired")
		oauthError(t, person.do("POST", "/api/auth/device/approve", map[string]any{"userCode": g.userCode}), 400, "expired_token", "User code has expired")
		oauthError(t, poll(e, g, "tv"), 400, "expired_token", "Device code has expired")
		e.clock.Advance(5 * time.Second)
		oauthError(t, poll(e, g, "tv"), 400, "invalid_grant", "Invalid device code")
		oauthError(t, person.do("GET", "/api/auth/device?user_code=NOPE2345", nil), 400, "invalid_request", "Invalid user code")
	})
}

func TestDeviceAuthorizationRequests(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := deviceEnv(t, st, map[string]string{
			"DEVICE_AUTHORIZATION_CLIENT_IDS": "cli, tv", "DEVICE_AUTHORIZATION_EXPIRES_IN": "10m",
			"DEVICE_AUTHORIZATION_INTERVAL": "2s", "DEVICE_AUTHORIZATION_USER_CODE_LENGTH": "6",
			"DEVICE_AUTHORIZATION_VERIFICATION_URI": "https://tv.example.com/link",
		})
		c := e.client()
		oauthError(t, c.do("POST", "/api/auth/device/code", map[string]any{"client_id": "unknown"}), 400, "invalid_client", "Invalid client ID")
		oauthError(t, c.do("POST", "/api/auth/device/code", map[string]any{"client_id": ""}), 400, "invalid_request", "client_id is required")
		oauthError(t, c.do("POST", "/api/auth/device/code", map[string]any{}), 400, "invalid_request", "[body.client_id] Invalid input: expected string, received undefined")
		// A form body, as RFC 8628 devices send it.
		r := c.do("POST", "/api/auth/device/code", "client_id=tv&scope=watch", "Content-Type", "application/x-www-form-urlencoded")
		expect(t, r, 200, "")
		uc, _ := r.JSON["user_code"].(string)
		if len(uc) != 6 || r.JSON["verification_uri"] != "https://tv.example.com/link" || r.JSON["verification_uri_complete"] != "https://tv.example.com/link?user_code="+uc ||
			r.JSON["expires_in"] != 600.0 || r.JSON["interval"] != 2.0 {
			t.Fatalf("configured answer %s", r.Raw)
		}
		g := deviceGrant{r.JSON["device_code"].(string), uc}
		form := func(body string) *response {
			return c.do("POST", "/api/auth/device/code", body, "Content-Type", "application/x-www-form-urlencoded")
		}
		oauthError(t, form("client_id=tv&client_id=cli"), 400, "invalid_request", "client_id must not be repeated")
		oauthError(t, form("client_id=tv&scope=a&scope=b"), 400, "invalid_request", "scope must not be repeated")
		expect(t, form("client_id=&client_id=tv&scope="), 200, "")
		oauthError(t, poll(e, g, "unknown"), 400, "invalid_client", "Invalid client ID")
		oauthError(t, poll(e, g, "cli"), 400, "invalid_grant", "Client ID mismatch")
		oauthError(t, poll(e, g, "tv"), 400, "authorization_pending", "Authorization pending")
		e.clock.Advance(2 * time.Second)
		oauthError(t, poll(e, g, "tv"), 400, "authorization_pending", "Authorization pending")
		oauthError(t, poll(e, deviceGrant{deviceCode: "nope"}, "tv"), 400, "invalid_grant", "Invalid device code")

		// The token endpoint takes JSON only, and the device-code grant only.
		f := c.do("POST", "/api/auth/device/token", "grant_type="+deviceauth.GrantType+"&device_code="+g.deviceCode+"&client_id=tv", "Content-Type", "application/x-www-form-urlencoded")
		expect(t, f, http.StatusUnsupportedMediaType, "")
		bad := c.do("POST", "/api/auth/device/token", map[string]any{"grant_type": "password", "device_code": g.deviceCode, "client_id": "tv"})
		expect(t, bad, 400, "VALIDATION_ERROR")
		if bad.JSON["message"] != `[body.grant_type] Invalid input: expected "urn:ietf:params:oauth:grant-type:device_code"` {
			t.Fatalf("grant_type message %s", bad.Raw)
		}
		both := c.do("POST", "/api/auth/device/token", map[string]any{"client_id": "tv"})
		if both.JSON["message"] != `[body.grant_type] Invalid input: expected "urn:ietf:params:oauth:grant-type:device_code"; [body.device_code] Invalid input: expected string, received undefined` {
			t.Fatalf("token validation %s", both.Raw)
		}
		expect(t, c.do("GET", "/api/auth/device", nil), 400, "VALIDATION_ERROR")
		expect(t, c.do("POST", "/api/auth/device/approve", map[string]any{}), 400, "VALIDATION_ERROR")
	})
}

// GET /device has Better-Auth's rule: 5 lookups per client address per code lifetime, so user
// codes cannot be found by trying.
func TestDeviceAuthorizationLookupRateLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		cfg, err := deviceauth.LoadConfig(func(string) string { return "" }, testBaseURL+"/api/auth")
		if err != nil {
			t.Fatal(err)
		}
		ps := []plugin.Plugin{deviceauth.New(cfg)}
		if err := plugin.Install(context.Background(), st, ps); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, st, func(o *envOptions) {
			o.auth.Plugins = ps
			o.web.RateLimit = web.RateLimitConfig{Enabled: true}
		})
		c := e.client()
		for i := range 5 {
			oauthError(t, c.do("GET", "/api/auth/device?user_code=GUESS"+strconv.Itoa(i), nil), 400, "invalid_request", "Invalid user code")
		}
		expect(t, c.do("GET", "/api/auth/device?user_code=GUESS9", nil), 429, "")
		// The device's own endpoints are not counted with it.
		expect(t, c.do("POST", "/api/auth/device/code", map[string]any{"client_id": "cli"}), 200, "")
	})
}
