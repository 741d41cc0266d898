package web_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"authserver/auth"
	"authserver/auth/plugin"
	"authserver/auth/twofactor"
	"authserver/auth/username"
	"authserver/content"
	"authserver/store"
	"authserver/store/storetest"
)

// withCatalog serves the content API over testCatalog.
func withCatalog(t *testing.T) func(*envOptions) {
	dir := writeCatalog(t, testCatalog)
	return func(o *envOptions) { o.content = &content.Config{Dir: dir} }
}

// The reading profile chosen on the sign-up form travels in the sign-up body and is stored with
// the new user, so it is there after the email is verified and the user signs in (the sign-up
// answer itself carries no session then).
func TestSignUpProfileSurvivesEmailVerification(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := newSMTPSink(t)
		e := newEnv(t, st, withCatalog(t), mailOptions(t, "smtp+insecure://"+sink.addr, nil, func(c *auth.Config) {
			c.RequireEmailVerification = true
		}))
		c := e.client()
		profile := map[string]any{"level": "Advanced", "topics": []string{"databases", " SQL "}, "language": "pt-BR", "goals": " Tune queries. "}
		r := c.do("POST", "/api/auth/sign-up/email", map[string]any{
			"name": "Noor", "email": "noor@example.com", "password": "password123", "callbackURL": "/verify-email",
			"contentProfile": profile,
		})
		expect(t, r, 200, "")
		if r.JSON["token"] != nil {
			t.Fatalf("sign-up signed in before verification: %s", r.Raw)
		}

		// A second sign-up with the same email answers like a success and must not touch the
		// first user's profile.
		r = e.client().do("POST", "/api/auth/sign-up/email", map[string]any{
			"name": "Mallory", "email": "noor@example.com", "password": "password456",
			"contentProfile": map[string]any{"level": "beginner", "topics": []string{"web"}},
		})
		expect(t, r, 200, "")

		if v := c.do("GET", e.link(t, sink.next(t)), nil); v.Status != 302 {
			t.Fatalf("verify link: status %d, body %s", v.Status, v.Raw)
		}
		expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "noor@example.com", "password": "password123"}), 200, "")

		got := c.do("GET", "/content/profile", nil)
		expect(t, got, 200, "")
		if got.JSON["level"] != "advanced" || strings.Join(strs(got.JSON["topics"]), ",") != "databases,sql" ||
			got.JSON["language"] != "pt" || got.JSON["goals"] != "Tune queries." || got.JSON["createdAt"] == nil {
			t.Errorf("GET /content/profile after verification = %s, want the profile chosen at sign-up", got.Raw)
		}
		feed := c.do("GET", "/content/feed", nil)
		expect(t, feed, 200, "")
		first := items(t, feed)[0]
		if reasons := strings.Join(strs(first["reasons"]), "; "); !strings.Contains(reasons, "matches your interest in databases") {
			t.Errorf("first feed entry %v has reasons %q, want the sign-up topics to count", first["slug"], reasons)
		}
	})
}

// A bad profile refuses the whole sign-up before anything is written: a 400 naming the field
// under body.contentProfile, and no user.
func TestSignUpProfileInvalid(t *testing.T) {
	tests := []struct {
		name    string
		profile any
		want    string
	}{
		{"unknown level", map[string]any{"level": "expert"}, "[body.contentProfile.level] must be one of beginner intermediate advanced"},
		{"topic not in the catalog", map[string]any{"topics": []string{"databases", "cooking"}}, `[body.contentProfile.topics[1]] "cooking" is not a tag of the catalog`},
		{"topics not an array", map[string]any{"topics": "databases"}, "[body.contentProfile.topics] Invalid input: expected array, received string"},
		{"goals too long", map[string]any{"goals": strings.Repeat("g", 501)}, "[body.contentProfile.goals] must be at most 500 characters long"},
		{"not an object", "advanced", "[body.contentProfile] Invalid input: expected object, received string"},
		{"an array", []string{"advanced"}, "[body.contentProfile] Invalid input: expected object, received array"},
	}
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, withCatalog(t))
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{
					"name": "Bad", "email": "bad@example.com", "password": "password123", "contentProfile": tt.profile,
				})
				expect(t, r, 400, "VALIDATION_ERROR")
				if r.JSON["message"] != tt.want {
					t.Errorf("sign-up with contentProfile %v: message %q, want %q", tt.profile, r.JSON["message"], tt.want)
				}
				if _, err := st.UserByEmail(context.Background(), "bad@example.com"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("UserByEmail after a refused sign-up: err = %v, want ErrNotFound", err)
				}
			})
		}
	})
}

// Without verification the sign-up signs in and the profile is already saved; a null profile
// (or none) leaves the defaults, as before.
func TestSignUpProfileWithAutoSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, withCatalog(t))
		tests := []struct {
			name      string
			profile   any
			wantLevel string
			wantSaved bool
		}{
			{"profile", map[string]any{"level": "intermediate", "topics": []string{"security"}}, "intermediate", true},
			{"null profile", nil, "beginner", false},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := e.client()
				r := c.do("POST", "/api/auth/sign-up/email", map[string]any{
					"name": "Ana", "email": "ana" + string(rune('a'+i)) + "@example.com", "password": "password123", "contentProfile": tt.profile,
				})
				expect(t, r, 200, "")
				got := c.do("GET", "/content/profile", nil)
				expect(t, got, 200, "")
				if got.JSON["level"] != tt.wantLevel || (got.JSON["createdAt"] != nil) != tt.wantSaved {
					t.Errorf("GET /content/profile = %s, want level %s, saved %v", got.Raw, tt.wantLevel, tt.wantSaved)
				}
			})
		}
	})
}

// GET /content/public/settings tells a client the account rules its forms must follow, and the
// plugins and social providers the server has on, without a session.
func TestPublicSettings(t *testing.T) {
	tests := []struct {
		name      string
		cfg       auth.Config
		plugins   func() []plugin.Plugin
		providers map[string]auth.ProviderConfig
		want      map[string]any
	}{
		{"defaults", auth.Config{}, nil, nil, map[string]any{"minPasswordLength": 8.0, "maxPasswordLength": 128.0,
			"signUpDisabled": false, "requireEmailVerification": false, "rejectCommonPasswords": false,
			"plugins": []any{}, "socialProviders": []any{}}},
		{"configured", auth.Config{MinPasswordLength: 12, MaxPasswordLength: 64, DisableSignUp: true, RequireEmailVerification: true, RejectCommonPasswords: true},
			func() []plugin.Plugin {
				return []plugin.Plugin{username.New(defaultUsernames), twofactor.New(defaultTwoFactor())}
			},
			map[string]auth.ProviderConfig{"github": {ClientID: "gh", ClientSecret: "s"}, "discord": {ClientID: "dc", ClientSecret: "s"}},
			map[string]any{"minPasswordLength": 12.0, "maxPasswordLength": 64.0,
				"signUpDisabled": true, "requireEmailVerification": true, "rejectCommonPasswords": true,
				// in the order BETTER_AUTH_PLUGINS names them; providers sorted
				"plugins": []any{"username", "two-factor"}, "socialProviders": []any{"discord", "github"}}},
	}
	for _, tt := range tests {
		// A store of its own per case: plugin fields are registered before a store is used.
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, st *store.Store) {
				cfg := tt.cfg
				if tt.plugins != nil {
					cfg.Plugins = tt.plugins()
					if err := plugin.Install(context.Background(), st, cfg.Plugins); err != nil {
						t.Fatalf("plugin.Install: %v", err)
					}
				}
				e := newEnv(t, st, func(o *envOptions) { o.auth = cfg })
				if tt.providers != nil {
					if _, err := e.svc.EnableSocial(auth.SocialConfig{Providers: tt.providers, APIURL: testBaseURL + "/api/auth", Secret: []byte(testSecret)}); err != nil {
						t.Fatal(err)
					}
				}
				r := e.client().do("GET", "/content/public/settings", nil)
				expect(t, r, 200, "")
				if len(r.JSON) != len(tt.want) {
					t.Errorf("GET /content/public/settings = %s, want exactly %v", r.Raw, tt.want)
				}
				for k, v := range tt.want {
					if !reflect.DeepEqual(r.JSON[k], v) {
						t.Errorf("GET /content/public/settings: %s = %#v, want %#v (body %s)", k, r.JSON[k], v, r.Raw)
					}
				}
				if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=60" {
					t.Errorf("Cache-Control = %q, want public, max-age=60", cc)
				}
			})
		})
	}
}
