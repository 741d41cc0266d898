package web_test

import (
	"context"
	"testing"

	"authserver/auth/admin"
	"authserver/auth/anonymous"
	"authserver/auth/apikey"
	"authserver/auth/deviceauth"
	"authserver/auth/emailotp"
	"authserver/auth/phonenumber"
	"authserver/auth/plugin"
	"authserver/auth/twofactor"
	"authserver/store"
	"authserver/store/storetest"
)

// authoritativeEnv serves api-key with key sessions on (no per-key rate limit) beside the plugins
// whose endpoints Better-Auth guards with sensitiveSessionMiddleware or
// getAuthoritativeSessionFromCtx.
func authoritativeEnv(t *testing.T, st *store.Store) (*env, *smsSink) {
	t.Helper()
	kc := apikey.DefaultConfig()
	kc.SessionForKeys = true
	kc.RateLimit = false
	none := func(string) string { return "" }
	ac, err := admin.LoadConfig(none)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := deviceauth.LoadConfig(none, testBaseURL+"/api/auth")
	if err != nil {
		t.Fatal(err)
	}
	anc, err := anonymous.LoadConfig(none)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := emailotp.LoadConfig(none)
	if err != nil {
		t.Fatal(err)
	}
	sink := &smsSink{}
	ps := []plugin.Plugin{apikey.New(kc), admin.New(ac), deviceauth.New(dc), anonymous.New(anc), emailotp.New(ec),
		phonenumber.New(phoneConfig(sink, nil)), twofactor.New(defaultTwoFactor())}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	return newEnv(t, st, func(o *envOptions) { o.auth.Plugins = ps }), sink
}

// keyRefusedEndpoints are the endpoints that ignore a key's session in Better-Auth 1.7.25 (core:
// sensitiveSessionMiddleware; admin: adminMiddleware and getAuthoritativeSessionFromCtx; device
// pages, email-otp's email change, anonymous deletion, two-factor, phone-number's
// updatePhoneNumber: getAuthoritativeSessionFromCtx).
var keyRefusedEndpoints = []struct {
	method, path string
	body         map[string]any
}{
	{"POST", "/api/auth/revoke-session", map[string]any{"token": "x"}},
	{"POST", "/api/auth/revoke-sessions", nil},
	{"POST", "/api/auth/revoke-other-sessions", nil},
	{"POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password456"}},
	{"POST", "/api/auth/verify-password", map[string]any{"password": "password123"}},
	{"POST", "/api/auth/change-email", map[string]any{"newEmail": "new@example.com"}},
	{"POST", "/api/auth/delete-user", map[string]any{"password": "password123"}},
	{"POST", "/api/auth/link-social", map[string]any{"provider": "google"}},
	{"GET", "/api/auth/admin/list-users", nil},
	{"GET", "/api/auth/admin/get-user?id=x", nil},
	{"POST", "/api/auth/admin/create-user", map[string]any{"email": "c@example.com", "name": "C", "password": "password123"}},
	{"POST", "/api/auth/admin/set-role", map[string]any{"userId": "x", "role": "admin"}},
	{"POST", "/api/auth/admin/list-user-sessions", map[string]any{"userId": "x"}},
	{"POST", "/api/auth/admin/revoke-user-sessions", map[string]any{"userId": "x"}},
	{"POST", "/api/auth/admin/remove-user", map[string]any{"userId": "x"}},
	{"POST", "/api/auth/admin/impersonate-user", map[string]any{"userId": "x"}},
	{"POST", "/api/auth/admin/has-permission", map[string]any{"permissions": map[string]any{"user": []string{"list"}}}},
	{"POST", "/api/auth/email-otp/request-email-change", map[string]any{"newEmail": "new@example.com"}},
	{"POST", "/api/auth/email-otp/change-email", map[string]any{"newEmail": "new@example.com", "otp": "123456"}},
	{"POST", "/api/auth/delete-anonymous-user", nil},
	{"POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123"}},
	{"POST", "/api/auth/two-factor/disable", map[string]any{"password": "password123"}},
	{"POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": "123456"}},
	{"POST", "/api/auth/two-factor/send-otp", nil},
	{"POST", "/api/auth/two-factor/verify-otp", map[string]any{"code": "123456"}},
	{"POST", "/api/auth/two-factor/verify-backup-code", map[string]any{"code": "abcde-fghij"}},
	{"POST", "/api/auth/device/approve", map[string]any{"userCode": "ABCDEFGH"}},
	{"POST", "/api/auth/device/deny", map[string]any{"userCode": "ABCDEFGH"}},
}

// An x-api-key alone is no session on Better-Auth's sensitive endpoints: each answers exactly as
// to a caller with no credential. The key stays good elsewhere, and a cookie beside it is used.
func TestAPIKeySessionRefusedOnSensitiveEndpoints(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := authoritativeEnv(t, st)
		owner := e.client()
		uid := userMap(t, signUp(t, owner, "keyowner@example.com", "password123").Raw)["id"].(string)
		if err := st.SetUserFields(context.Background(), uid, map[string]store.Value{"role": store.StringValue("admin")}, store.NewTime(e.clock.Now())); err != nil {
			t.Fatal(err)
		}
		plain := createKey(t, owner, map[string]any{"name": "bot"})["key"].(string)

		for _, ep := range keyRefusedEndpoints {
			none := e.client().do(ep.method, ep.path, ep.body)
			byKey := e.client().do(ep.method, ep.path, ep.body, "x-api-key", plain)
			if none.Status < 400 || byKey.Status != none.Status || string(byKey.Raw) != string(none.Raw) {
				t.Errorf("%s %s: by key %d %s, with no credential %d %s", ep.method, ep.path, byKey.Status, byKey.Raw, none.Status, none.Raw)
			}
		}
		// Better-Auth's own words on two of them.
		expect(t, e.client().do("POST", "/api/auth/revoke-sessions", nil, "x-api-key", plain), 401, "UNAUTHORIZED")
		oauthError(t, e.client().do("POST", "/api/auth/device/approve", map[string]any{"userCode": "ABCDEFGH"}, "x-api-key", plain),
			401, "unauthorized", "Authentication required")

		// GET /device with only a key does not claim the code for the key's owner.
		g := requestDeviceCode(t, e, map[string]any{"client_id": "cli"})
		v := e.client().do("GET", "/api/auth/device?user_code="+g.userCode, nil, "x-api-key", plain)
		expect(t, v, 200, "")
		if v.JSON["user_code"] != g.userCode || v.JSON["status"] != "pending" || len(v.JSON) != 2 {
			t.Fatalf("GET /device by key answered %s", v.Raw)
		}
		rec, err := st.DeviceCodeBy(context.Background(), "userCode", g.userCode)
		if err != nil || rec == nil || rec.UserID != nil {
			t.Fatalf("GET /device by key: record %+v, %v; want it unclaimed", rec, err)
		}
		// phone-number/verify with updatePhoneNumber finds no session in a key alone.
		const number = "+15550001111"
		expect(t, e.client().do("POST", "/api/auth/phone-number/send-otp", map[string]any{"phoneNumber": number}), 200, "")
		expect(t, e.client().do("POST", "/api/auth/phone-number/verify", map[string]any{"phoneNumber": number,
			"code": sink.code(t, number), "updatePhoneNumber": true}, "x-api-key", plain), 401, "USER_NOT_FOUND")

		// A cookie beside the key is the session these endpoints use (the key's owner here is the
		// cookie's user, an admin).
		expect(t, owner.do("GET", "/api/auth/device?user_code="+g.userCode, nil, "x-api-key", plain), 200, "")
		expect(t, owner.do("POST", "/api/auth/device/approve", map[string]any{"userCode": g.userCode}, "x-api-key", plain), 200, "")
		expect(t, owner.do("GET", "/api/auth/admin/list-users", nil, "x-api-key", plain), 200, "")
		expect(t, owner.do("POST", "/api/auth/verify-password", map[string]any{"password": "password123"}, "x-api-key", plain), 200, "")
		expect(t, owner.do("POST", "/api/auth/revoke-other-sessions", nil), 200, "")

		// An invalid key is still refused before the endpoint looks for a cookie.
		expect(t, owner.do("POST", "/api/auth/revoke-sessions", nil, "x-api-key", "short"), 403, "INVALID_API_KEY")
		// Endpoints that use the session Better-Auth's hook set keep accepting the key.
		expect(t, e.client().do("GET", "/api/auth/list-sessions", nil, "x-api-key", plain), 200, "")
		expect(t, e.client().do("POST", "/api/auth/update-user", map[string]any{"name": "Bot"}, "x-api-key", plain), 200, "")
		expect(t, e.client().do("GET", "/api/auth/list-accounts", nil, "x-api-key", plain), 200, "")
		// The cookie alone works where the key alone did not.
		expect(t, owner.do("POST", "/api/auth/revoke-sessions", nil), 200, "")
	})
}
