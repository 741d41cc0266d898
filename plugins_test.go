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
			wantErr: []string{`unknown plugin "lastloginmethod"`, "(known: admin, anonymous, api-key, bearer, device-authorization, email-otp, jwt, last-login-method, magic-link, multi-session, one-time-token, open-api, organization, passkey, phone-number, two-factor, username)"}},
		{name: "username with both plugins", env: map[string]string{"BETTER_AUTH_PLUGINS": "username,last-login-method", "USERNAME_MIN_LENGTH": "4", "USERNAME_MAX_LENGTH": "4"},
			wantIDs: "username,last-login-method"},
		{name: "username lengths are positive numbers", env: map[string]string{"BETTER_AUTH_PLUGINS": "username", "USERNAME_MIN_LENGTH": "0", "USERNAME_MAX_LENGTH": "ten"},
			wantErr: []string{"USERNAME_MIN_LENGTH", "USERNAME_MAX_LENGTH"}},
		{name: "username min above max", env: map[string]string{"BETTER_AUTH_PLUGINS": "username", "USERNAME_MIN_LENGTH": "12", "USERNAME_MAX_LENGTH": "10"},
			wantErr: []string{"USERNAME_MIN_LENGTH (12) is greater than USERNAME_MAX_LENGTH (10)"}},
		{name: "device-authorization", env: map[string]string{"BETTER_AUTH_PLUGINS": "device-authorization", "DEVICE_AUTHORIZATION_EXPIRES_IN": "15m"},
			wantIDs: "device-authorization"},
		{name: "device-authorization times need a unit", env: map[string]string{"BETTER_AUTH_PLUGINS": "device-authorization", "DEVICE_AUTHORIZATION_INTERVAL": "5"},
			wantErr: []string{"DEVICE_AUTHORIZATION_INTERVAL", "not a time such as 30m"}},
		{name: "api-key with its options", env: map[string]string{"BETTER_AUTH_PLUGINS": "api-key", "API_KEY_DEFAULT_PREFIX": "ak_",
			"API_KEY_DEFAULT_KEY_LENGTH": "32", "API_KEY_ENABLE_METADATA": "true", "API_KEY_RATE_LIMIT_ENABLED": "false",
			"API_KEY_RATE_LIMIT_TIME_WINDOW": "60000", "API_KEY_RATE_LIMIT_MAX_REQUESTS": "100", "API_KEY_ENABLE_SESSION": "true",
			"API_KEY_DEFAULT_EXPIRES_IN": "86400", "API_KEY_HEADER": "x-key", "API_KEY_CACHE": "off"}, wantIDs: "api-key"},
		{name: "api-key options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "api-key", "API_KEY_DEFAULT_PREFIX": "a b",
			"API_KEY_DEFAULT_KEY_LENGTH": "8", "API_KEY_ENABLE_METADATA": "maybe", "API_KEY_RATE_LIMIT_TIME_WINDOW": "0",
			"API_KEY_RATE_LIMIT_MAX_REQUESTS": "x", "API_KEY_ENABLE_SESSION": "2"},
			wantErr: []string{"API_KEY_DEFAULT_PREFIX", "API_KEY_DEFAULT_KEY_LENGTH", "API_KEY_ENABLE_METADATA", "API_KEY_RATE_LIMIT_TIME_WINDOW",
				"API_KEY_RATE_LIMIT_MAX_REQUESTS", "API_KEY_ENABLE_SESSION"}},
		{name: "a Better-Auth plugin not implemented yet", env: map[string]string{"BETTER_AUTH_PLUGINS": "captcha"},
			wantErr: []string{"captcha plugin is not implemented yet"}},
		{name: "multi-session with its maximum", env: map[string]string{"BETTER_AUTH_PLUGINS": "multi-session", "MULTI_SESSION_MAXIMUM_SESSIONS": "3"}, wantIDs: "multi-session"},
		{name: "multi-session maximum is checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "multi-session", "MULTI_SESSION_MAXIMUM_SESSIONS": "0"},
			wantErr: []string{"MULTI_SESSION_MAXIMUM_SESSIONS"}},
		{name: "jwt with its options", env: map[string]string{"BETTER_AUTH_PLUGINS": "jwt", "JWT_KEY_PAIR_ALG": "PS256", "JWT_KEY_PAIR_MODULUS_LENGTH": "3072",
			"JWT_ROTATION_INTERVAL": "86400", "JWT_GRACE_PERIOD": "3600", "JWT_JWKS_PATH": "/.well-known/jwks.json", "JWT_ISSUER": "https://auth.example.com",
			"JWT_AUDIENCE": "https://api.example.com,https://other.example.com", "JWT_EXPIRATION_TIME": "1 hour", "JWT_DISABLE_SETTING_JWT_HEADER": "true",
			"JWT_DISABLE_PRIVATE_KEY_ENCRYPTION": "false"}, wantIDs: "jwt"},
		{name: "jwt options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "jwt", "JWT_KEY_PAIR_ALG": "HS256", "JWT_KEY_PAIR_MODULUS_LENGTH": "1024",
			"JWT_ROTATION_INTERVAL": "1d", "JWT_GRACE_PERIOD": "-1", "JWT_JWKS_PATH": "jwks", "JWT_EXPIRATION_TIME": "900",
			"JWT_DISABLE_SETTING_JWT_HEADER": "maybe", "JWT_DISABLE_PRIVATE_KEY_ENCRYPTION": "2"},
			wantErr: []string{"JWT_KEY_PAIR_ALG", "JWT_KEY_PAIR_MODULUS_LENGTH", "JWT_ROTATION_INTERVAL", "JWT_GRACE_PERIOD", "JWT_JWKS_PATH",
				"JWT_EXPIRATION_TIME", "JWT_DISABLE_SETTING_JWT_HEADER", "JWT_DISABLE_PRIVATE_KEY_ENCRYPTION"}},
		{name: "magic-link and one-time-token with their options", env: map[string]string{"BETTER_AUTH_PLUGINS": "magic-link,one-time-token",
			"MAGIC_LINK_EXPIRES_IN": "600", "MAGIC_LINK_DISABLE_SIGN_UP": "true", "MAGIC_LINK_STORE_TOKEN": "hashed",
			"OTT_EXPIRES_IN": "10", "OTT_DISABLE_SET_SESSION_COOKIE": "true", "OTT_STORE_TOKEN": "plain"}, wantIDs: "magic-link,one-time-token"},
		{name: "magic-link options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "magic-link",
			"MAGIC_LINK_EXPIRES_IN": "0", "MAGIC_LINK_DISABLE_SIGN_UP": "maybe", "MAGIC_LINK_STORE_TOKEN": "encrypted"},
			wantErr: []string{"MAGIC_LINK_EXPIRES_IN", "MAGIC_LINK_DISABLE_SIGN_UP", "MAGIC_LINK_STORE_TOKEN"}},
		{name: "one-time-token options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "one-time-token",
			"OTT_EXPIRES_IN": "soon", "OTT_DISABLE_SET_SESSION_COOKIE": "2", "OTT_STORE_TOKEN": "hashish"},
			wantErr: []string{"OTT_EXPIRES_IN", "OTT_DISABLE_SET_SESSION_COOKIE", "OTT_STORE_TOKEN"}},
		{name: "two-factor with its options", env: map[string]string{"BETTER_AUTH_PLUGINS": "two-factor,username", "TWO_FACTOR_OTP": "off",
			"TWO_FACTOR_OTP_PERIOD": "5", "TWO_FACTOR_TRUST_DEVICE_MAX_AGE": "3600", "TWO_FACTOR_ISSUER": "Acme"}, wantIDs: "two-factor,username"},
		{name: "two-factor options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "two-factor", "TWO_FACTOR_OTP": "maybe",
			"TWO_FACTOR_OTP_PERIOD": "0", "TWO_FACTOR_OTP_DIGITS": "x", "TWO_FACTOR_TRUST_DEVICE_MAX_AGE": "-1", "TWO_FACTOR_COOKIE_MAX_AGE": "999999999"},
			wantErr: []string{"TWO_FACTOR_OTP:", "TWO_FACTOR_OTP_PERIOD", "TWO_FACTOR_OTP_DIGITS", "TWO_FACTOR_TRUST_DEVICE_MAX_AGE", "TWO_FACTOR_COOKIE_MAX_AGE"}},
		{name: "organization with its options", env: map[string]string{"BETTER_AUTH_PLUGINS": "organization", "ORGANIZATION_LIMIT": "3",
			"ORGANIZATION_MEMBERSHIP_LIMIT": "10", "ORGANIZATION_INVITATION_LIMIT": "5", "ORGANIZATION_INVITATION_EXPIRES_IN": "3600",
			"ORGANIZATION_REQUIRE_EMAIL_VERIFICATION_ON_INVITATION": "true", "ORGANIZATION_TEAMS": "true", "ORGANIZATION_DYNAMIC_ACCESS_CONTROL": "true",
			"ORGANIZATION_MAXIMUM_TEAMS": "5", "ORGANIZATION_MAXIMUM_MEMBERS_PER_TEAM": "10", "ORGANIZATION_CANCEL_PENDING_INVITATIONS_ON_REINVITE": "true",
			"ORGANIZATION_ALLOW_USER_TO_CREATE": "false"},
			wantIDs: "organization"},
		{name: "organization options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "organization", "ORGANIZATION_LIMIT": "0",
			"ORGANIZATION_MEMBERSHIP_LIMIT": "many", "ORGANIZATION_INVITATION_EXPIRES_IN": "-1", "ORGANIZATION_TEAMS": "maybe"},
			wantErr: []string{"ORGANIZATION_LIMIT", "ORGANIZATION_MEMBERSHIP_LIMIT", "ORGANIZATION_INVITATION_EXPIRES_IN", "ORGANIZATION_TEAMS"}},
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
		{name: "phone-number with its options", env: map[string]string{"BETTER_AUTH_PLUGINS": "phone-number", "PHONE_NUMBER_OTP_LENGTH": "8",
			"PHONE_NUMBER_EXPIRES_IN": "600", "PHONE_NUMBER_ALLOWED_ATTEMPTS": "5", "PHONE_NUMBER_SIGN_UP_ON_VERIFICATION": "true",
			"PHONE_NUMBER_TEMP_EMAIL_DOMAIN": "phone.example.com", "PHONE_NUMBER_VALIDATE": "e164"}, wantIDs: "phone-number"},
		{name: "phone-number options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "phone-number", "PHONE_NUMBER_OTP_LENGTH": "2",
			"PHONE_NUMBER_ALLOWED_ATTEMPTS": "0", "PHONE_NUMBER_VALIDATE": "strict", "PHONE_NUMBER_TEMP_EMAIL_DOMAIN": "a@b", "SMS_WEBHOOK_URL": "https://sms.example.com"},
			wantErr: []string{"PHONE_NUMBER_OTP_LENGTH", "PHONE_NUMBER_ALLOWED_ATTEMPTS", "PHONE_NUMBER_VALIDATE", "PHONE_NUMBER_TEMP_EMAIL_DOMAIN", "SMS_WEBHOOK_SECRET"}},
		{name: "phone-number in production needs an SMS provider", env: map[string]string{"BETTER_AUTH_PLUGINS": "phone-number", "APP_ENV": "production",
			"BETTER_AUTH_SECRET": strings.Repeat("s", 40), "BETTER_AUTH_URL": "https://auth.example.com"},
			wantErr: []string{"the phone-number plugin needs an SMS provider in production"}},
		{name: "phone-number in production with Twilio", env: map[string]string{"BETTER_AUTH_PLUGINS": "phone-number", "APP_ENV": "production",
			"BETTER_AUTH_SECRET": strings.Repeat("s", 40), "BETTER_AUTH_URL": "https://auth.example.com",
			"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+15550000000"}, wantIDs: "phone-number"},
		{name: "email-otp with its options", env: map[string]string{"BETTER_AUTH_PLUGINS": "email-otp", "EMAIL_OTP_LENGTH": "8", "EMAIL_OTP_EXPIRES_IN": "600",
			"EMAIL_OTP_ALLOWED_ATTEMPTS": "5", "EMAIL_OTP_DISABLE_SIGN_UP": "true", "EMAIL_OTP_STORE": "Hashed", "EMAIL_OTP_OVERRIDE_EMAIL_VERIFICATION": "on",
			"EMAIL_OTP_CHANGE_EMAIL": "yes", "EMAIL_OTP_CHANGE_EMAIL_VERIFY_CURRENT": "no"}, wantIDs: "email-otp"},
		{name: "email-otp options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "email-otp", "EMAIL_OTP_LENGTH": "3", "EMAIL_OTP_EXPIRES_IN": "soon",
			"EMAIL_OTP_ALLOWED_ATTEMPTS": "0", "EMAIL_OTP_DISABLE_SIGN_UP": "maybe", "EMAIL_OTP_STORE": "rot13"},
			wantErr: []string{"EMAIL_OTP_LENGTH", "EMAIL_OTP_EXPIRES_IN", "EMAIL_OTP_ALLOWED_ATTEMPTS", "EMAIL_OTP_DISABLE_SIGN_UP", "EMAIL_OTP_STORE"}},
		{name: "open-api with its options", env: map[string]string{"BETTER_AUTH_PLUGINS": "open-api", "OPEN_API_PATH": "/docs", "OPEN_API_DISABLE_DEFAULT_REFERENCE": "true"},
			wantIDs: "open-api"},
		{name: "open-api options are checked", env: map[string]string{"BETTER_AUTH_PLUGINS": "open-api", "OPEN_API_PATH": "docs", "OPEN_API_DISABLE_DEFAULT_REFERENCE": "maybe"},
			wantErr: []string{"OPEN_API_PATH", "OPEN_API_DISABLE_DEFAULT_REFERENCE"}},
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
