package main

import (
	"strings"
	"testing"
)

func TestLoadConfigPlugins(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantIDs string // the enabled plugins, comma-separated
		wantErr []string
	}{
		{name: "none", env: nil, wantIDs: ""},
		{name: "bearer is always on and accepted", env: map[string]string{"BETTER_AUTH_PLUGINS": "bearer"}, wantIDs: ""},
		{name: "last-login-method", env: map[string]string{"BETTER_AUTH_PLUGINS": " bearer , Last-Login-Method,last-login-method"}, wantIDs: "last-login-method"},
		{name: "unknown name lists the known ones", env: map[string]string{"BETTER_AUTH_PLUGINS": "last-login-method,lastLoginMethod"},
			wantErr: []string{`unknown plugin "lastloginmethod"`, "anonymous, bearer, last-login-method, passkey, two-factor, username"}},
		{name: "username with both plugins", env: map[string]string{"BETTER_AUTH_PLUGINS": "username,last-login-method", "USERNAME_MIN_LENGTH": "4", "USERNAME_MAX_LENGTH": "4"},
			wantIDs: "username,last-login-method"},
		{name: "username lengths are positive numbers", env: map[string]string{"BETTER_AUTH_PLUGINS": "username", "USERNAME_MIN_LENGTH": "0", "USERNAME_MAX_LENGTH": "ten"},
			wantErr: []string{"USERNAME_MIN_LENGTH", "USERNAME_MAX_LENGTH"}},
		{name: "username min above max", env: map[string]string{"BETTER_AUTH_PLUGINS": "username", "USERNAME_MIN_LENGTH": "12", "USERNAME_MAX_LENGTH": "10"},
			wantErr: []string{"USERNAME_MIN_LENGTH (12) is greater than USERNAME_MAX_LENGTH (10)"}},
		{name: "a Better-Auth plugin not implemented yet", env: map[string]string{"BETTER_AUTH_PLUGINS": "magic-link"},
			wantErr: []string{"magic-link plugin is not implemented yet"}},
		{name: "two-factor with its options", env: map[string]string{"BETTER_AUTH_PLUGINS": "two-factor,username", "TWO_FACTOR_OTP": "off",
			"TWO_FACTOR_OTP_PERIOD": "5", "TWO_FACTOR_TRUST_DEVICE_MAX_AGE": "3600", "TWO_FACTOR_ISSUER": "Acme"}, wantIDs: "two-factor,username"},
		{name: "two-factor options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "two-factor", "TWO_FACTOR_OTP": "maybe",
			"TWO_FACTOR_OTP_PERIOD": "0", "TWO_FACTOR_OTP_DIGITS": "x", "TWO_FACTOR_TRUST_DEVICE_MAX_AGE": "-1", "TWO_FACTOR_COOKIE_MAX_AGE": "999999999"},
			wantErr: []string{"TWO_FACTOR_OTP:", "TWO_FACTOR_OTP_PERIOD", "TWO_FACTOR_OTP_DIGITS", "TWO_FACTOR_TRUST_DEVICE_MAX_AGE", "TWO_FACTOR_COOKIE_MAX_AGE"}},
		{name: "generic-oauth points to OIDC_PROVIDERS", env: map[string]string{"BETTER_AUTH_PLUGINS": "generic-oauth"},
			wantErr: []string{"OIDC_PROVIDERS"}},
		{name: "storeInDatabase", env: map[string]string{"BETTER_AUTH_PLUGINS": "last-login-method", "LAST_LOGIN_METHOD_STORE_IN_DATABASE": "true"},
			wantIDs: "last-login-method"},
		{name: "storeInDatabase must be a boolean", env: map[string]string{"BETTER_AUTH_PLUGINS": "last-login-method", "LAST_LOGIN_METHOD_STORE_IN_DATABASE": "sometimes"},
			wantErr: []string{"LAST_LOGIN_METHOD_STORE_IN_DATABASE"}},
		{name: "bad max age", env: map[string]string{"BETTER_AUTH_PLUGINS": "last-login-method", "LAST_LOGIN_METHOD_MAX_AGE": "34560001"},
			wantErr: []string{"LAST_LOGIN_METHOD_MAX_AGE"}},
		{name: "bad cookie name", env: map[string]string{"BETTER_AUTH_PLUGINS": "last-login-method", "LAST_LOGIN_METHOD_COOKIE_NAME": "a;b"},
			wantErr: []string{"LAST_LOGIN_METHOD_COOKIE_NAME"}},
		{name: "anonymous with its options", env: map[string]string{"BETTER_AUTH_PLUGINS": "anonymous", "ANONYMOUS_EMAIL_DOMAIN_NAME": "guests.example.org", "ANONYMOUS_DISABLE_DELETE": "true"},
			wantIDs: "anonymous"},
		{name: "anonymous options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "anonymous", "ANONYMOUS_EMAIL_DOMAIN_NAME": "a@b", "ANONYMOUS_DISABLE_DELETE": "maybe"},
			wantErr: []string{"ANONYMOUS_EMAIL_DOMAIN_NAME", "ANONYMOUS_DISABLE_DELETE"}},
		{name: "passkey with its defaults", env: map[string]string{"BETTER_AUTH_PLUGINS": "passkey", "BETTER_AUTH_URL": "https://auth.example.com",
			"BETTER_AUTH_TRUSTED_ORIGINS": "https://app.example.com,https://*.example.com,https://other.test"}, wantIDs: "passkey"},
		{name: "passkey with its options", env: map[string]string{"BETTER_AUTH_PLUGINS": "passkey,two-factor", "PASSKEY_RP_ID": "example.com",
			"PASSKEY_RP_NAME": "Acme", "PASSKEY_ORIGINS": "https://example.com, https://app.example.com/"}, wantIDs: "passkey,two-factor"},
		{name: "passkey origins are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "passkey", "PASSKEY_RP_ID": "example.com",
			"PASSKEY_ORIGINS": "https://evil.test,example.com,https://app.example.com/path"},
			wantErr: []string{`"https://evil.test" is not on the relying party's domain`, `"example.com" is not an origin`, `"https://app.example.com/path" is not an origin`}},
		{name: "passkey RP id must cover an origin", env: map[string]string{"BETTER_AUTH_PLUGINS": "passkey", "PASSKEY_RP_ID": "example.com"},
			wantErr: []string{"PASSKEY_RP_ID", "set PASSKEY_ORIGINS"}},
		{name: "passkey RP id is a domain", env: map[string]string{"BETTER_AUTH_PLUGINS": "passkey", "PASSKEY_RP_ID": "https://localhost"},
			wantErr: []string{"PASSKEY_RP_ID: \"https://localhost\" is not a domain name"}},
		{name: "options of a plugin that is off are not read", env: map[string]string{"LAST_LOGIN_METHOD_MAX_AGE": "soon"}, wantIDs: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(envMap(tt.env))
			if len(tt.wantErr) > 0 {
				for _, w := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("loadConfig err = %v, want it to mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, p := range c.Auth.Plugins {
				ids = append(ids, p.ID)
			}
			if got := strings.Join(ids, ","); got != tt.wantIDs {
				t.Errorf("plugins = %q, want %q", got, tt.wantIDs)
			}
		})
	}
}
