package web_test

import (
	"context"
	"strings"
	"testing"

	"authserver/auth"
	"authserver/store"
	"authserver/store/storetest"
)

// Free text a user stores on their account has a length bound no real user reaches (256 UTF-16
// units for a name, 2048 for an image URL), on sign-up and update-user alike, so one account
// cannot make every copy of its session (cache, cookie, database) megabytes large. A refusal is
// Better-Auth's validation error and writes nothing.
func TestUserTextLimits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		huge := strings.Repeat("n", 900_000)
		longName := strings.Repeat("n", auth.MaxNameLength)
		longImage := "https://img.example/" + strings.Repeat("i", auth.MaxImageLength-len("https://img.example/"))
		astral := strings.Repeat("😀", auth.MaxNameLength/2) // two UTF-16 units each, as zod counts

		signUps := []struct {
			name       string
			body       map[string]any
			wantStatus int
			wantMsg    string
		}{
			{"900 kB name", map[string]any{"name": huge}, 400, "[body.name] Too big: expected string to have <=256 characters"},
			{"name one over", map[string]any{"name": longName + "n"}, 400, "[body.name] Too big: expected string to have <=256 characters"},
			{"astral name one over", map[string]any{"name": astral + "n"}, 400, "[body.name] Too big: expected string to have <=256 characters"},
			{"image one over", map[string]any{"name": "x", "image": longImage + "i"}, 400, "[body.image] Too big: expected string to have <=2048 characters"},
			{"both over", map[string]any{"name": longName + "n", "image": longImage + "i"}, 400,
				"[body.name] Too big: expected string to have <=256 characters; [body.image] Too big: expected string to have <=2048 characters"},
			{"name at the limit", map[string]any{"name": longName, "image": longImage}, 200, ""},
			{"astral name at the limit", map[string]any{"name": astral}, 200, ""},
		}
		for i, tt := range signUps {
			t.Run("sign-up "+tt.name, func(t *testing.T) {
				email := "limits" + string(rune('a'+i)) + "@example.com"
				body := map[string]any{"email": email, "password": "password123"}
				for k, v := range tt.body {
					body[k] = v
				}
				r := e.client().do("POST", "/api/auth/sign-up/email", body)
				if r.Status != tt.wantStatus {
					t.Fatalf("sign-up = %d %.200s, want %d", r.Status, r.Raw, tt.wantStatus)
				}
				if tt.wantMsg == "" {
					return
				}
				if r.code() != "VALIDATION_ERROR" || r.JSON["message"] != tt.wantMsg {
					t.Errorf("sign-up = %.300s, want VALIDATION_ERROR %q", r.Raw, tt.wantMsg)
				}
				if _, err := st.UserByEmail(context.Background(), email); err == nil {
					t.Error("a refused sign-up created the user")
				}
			})
		}

		c := e.client()
		signUp(t, c, "limits-update@example.com", "password123")
		updates := []struct {
			name    string
			body    map[string]any
			wantMsg string
		}{
			{"900 kB name", map[string]any{"name": huge}, "[body.name] Too big: expected string to have <=256 characters"},
			{"long image", map[string]any{"image": longImage + "i"}, "[body.image] Too big: expected string to have <=2048 characters"},
			{"long image with a fine name", map[string]any{"name": "Fine", "image": huge}, "[body.image] Too big: expected string to have <=2048 characters"},
		}
		for _, tt := range updates {
			t.Run("update-user "+tt.name, func(t *testing.T) {
				r := c.do("POST", "/api/auth/update-user", tt.body)
				expect(t, r, 400, "VALIDATION_ERROR")
				if r.JSON["message"] != tt.wantMsg {
					t.Errorf("message = %q, want %q", r.JSON["message"], tt.wantMsg)
				}
				u := c.do("GET", "/api/auth/get-session?disableCookieCache=true", nil).JSON["user"].(map[string]any)
				if u["name"] != "Test User" || u["image"] != nil {
					t.Errorf("a refused update changed the user: name %.40v, image %.40v", u["name"], u["image"])
				}
			})
		}
		expect(t, c.do("POST", "/api/auth/update-user", map[string]any{"name": longName, "image": longImage}), 200, "")
	})
}

// A provider's profile is held to the same bounds (its name and picture are not the user's to
// choose here, so they are not refused): a longer name is cut at a whole character, a longer
// picture URL is left out, and the user still signs in.
func TestSocialProfileTextLimits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		se := newSocialEnv(t, st)
		se.idp.addUser("long", "long@example.com", true)
		se.idp.users.mu.Lock()
		u := se.idp.users.byName["long"]
		u.FirstName = strings.Repeat("😀", 200) // with " Long", 406 UTF-16 units
		u.Picture = "https://img.example.test/" + strings.Repeat("p", auth.MaxImageLength)
		se.idp.users.mu.Unlock()
		c := se.browser()
		wantLanding(t, se.signInVia(t, c, "long", map[string]any{"callbackURL": appURL("/dashboard")}), appURL("/dashboard"))
		user := sessionOf(t, c)["user"].(map[string]any)
		if name, _ := user["name"].(string); name != strings.Repeat("😀", auth.MaxNameLength/2) {
			t.Errorf("name = %.60q (%d bytes), want the first %d emoji", name, len(name), auth.MaxNameLength/2)
		}
		if user["image"] != nil {
			t.Errorf("image = %.60v, want none (the provider's was too long)", user["image"])
		}
	})
}
