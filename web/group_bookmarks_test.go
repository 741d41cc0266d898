package web_test

import (
	"context"
	"testing"
	"time"

	"authserver/auth/organization"
	"authserver/auth/plugin"
	"authserver/content"
	"authserver/mail"
	"authserver/store"
	"authserver/store/storetest"
)

// groupEnv serves the content API with the organization plugin on and signs up the named
// readers, each with their name as display name.
func groupEnv(t *testing.T, st *store.Store, names ...string) (*env, map[string]*client, map[string]string) {
	t.Helper()
	cfg, err := organization.LoadConfig(func(string) string { return "" }, testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	p := organization.New(cfg)
	if err := plugin.Install(context.Background(), st, []plugin.Plugin{p}); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	tpl, err := mail.LoadTemplates("", "Test App")
	if err != nil {
		t.Fatal(err)
	}
	dir := writeCatalog(t, testCatalog)
	e := newEnv(t, st, func(o *envOptions) {
		o.auth.Plugins = []plugin.Plugin{p}
		o.auth.Email.Sender = &memSender{}
		o.auth.Email.Templates = tpl
		o.auth.Email.SendTimeout = time.Second
		o.content = &content.Config{Dir: dir, PageSize: 10, MaxPageSize: 10}
	})
	users, ids := map[string]*client{}, map[string]string{}
	for _, n := range names {
		c := e.client()
		r := signUp(t, c, n+"@example.com", "password123", "name", n)
		users[n], ids[n] = c, userMap(t, r.Raw)["id"].(string)
	}
	return e, users, ids
}

// groupEntries reads GET /content/group-bookmarks as "slug by name" lines and the group's name.
func groupEntries(t *testing.T, c *client) (string, []string) {
	t.Helper()
	r := c.do("GET", "/content/group-bookmarks", nil)
	expect(t, r, 200, "")
	if r.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	name := ""
	if g, ok := r.JSON["group"].(map[string]any); ok {
		name = g["name"].(string)
	} else if r.JSON["group"] != nil {
		t.Fatalf("group = %s", r.Raw)
	}
	var out []string
	for _, it := range items(t, r) {
		by := it["bookmarkedBy"].(map[string]any)
		if !jsDate.MatchString(it["bookmarkedAt"].(string)) || by["id"] == "" {
			t.Errorf("entry %v", it)
		}
		out = append(out, it["slug"].(string)+" by "+by["name"].(string))
	}
	return name, out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s = %q, want %q", what, got, want)
		}
	}
}

// The feed's "your group's bookmarks": only the active group's members' bookmarks, newest first,
// with who saved each; nothing without an active group or after leaving the group.
func TestContentGroupBookmarks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, u, ids := groupEnv(t, st, "alice", "bob", "carol")
		expect(t, e.client().do("GET", "/content/group-bookmarks", nil), 401, "")

		bookmark := func(who, slug string) {
			t.Helper()
			e.clock.Advance(time.Second)
			expect(t, u[who].do("PUT", "/content/items/"+slug+"/bookmark", nil), 200, "")
		}
		bookmark("bob", "a")
		bookmark("carol", "b")
		bookmark("alice", "c")

		// No group yet: 200, no group, nothing listed (not even alice's own bookmark).
		name, got := groupEntries(t, u["alice"])
		if name != "" || len(got) != 0 {
			t.Fatalf("without a group: %q %q", name, got)
		}

		// Creating a group makes it active; alone in it, alice sees her own bookmark.
		r := u["alice"].do("POST", "/api/auth/organization/create", map[string]any{"name": "Book club", "slug": "book-club"})
		expect(t, r, 200, "")
		org := r.JSON["id"].(string)
		name, got = groupEntries(t, u["alice"])
		if name != "Book club" {
			t.Fatalf("group name = %q", name)
		}
		sameLines(t, "alone", got, []string{"c by alice"})

		// bob joins (accepting makes the group his active one); carol, outside, stays unlisted.
		inv := u["alice"].do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "bob@example.com", "role": "member", "organizationId": org})
		expect(t, inv, 200, "")
		expect(t, u["bob"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": inv.JSON["id"]}), 200, "")
		bookmark("bob", "e")
		bookmark("carol", "d")
		want := []string{"e by bob", "c by alice", "a by bob"}
		_, got = groupEntries(t, u["alice"])
		sameLines(t, "alice with bob", got, want)
		_, got = groupEntries(t, u["bob"])
		sameLines(t, "bob", got, want)
		_, got = groupEntries(t, u["carol"])
		sameLines(t, "carol outside", got, nil)

		// Two members saving the same item are two entries; ?limit= cuts the newest.
		bookmark("alice", "e")
		r = u["alice"].do("GET", "/content/group-bookmarks?limit=2", nil)
		expect(t, r, 200, "")
		if its := items(t, r); len(its) != 2 || its[0]["slug"] != "e" || its[1]["slug"] != "e" ||
			its[0]["bookmarkedBy"].(map[string]any)["id"] != ids["alice"] {
			t.Fatalf("limit 2 = %s", r.Raw)
		}
		expect(t, u["alice"].do("GET", "/content/group-bookmarks?limit=0", nil), 400, "VALIDATION_ERROR")

		// Removed from the group, bob's session still names it as active: he no longer reads it.
		expect(t, u["alice"].do("POST", "/api/auth/organization/remove-member", map[string]any{"memberIdOrEmail": "bob@example.com", "organizationId": org}), 200, "")
		if r := u["bob"].do("GET", "/api/auth/get-session", nil); r.JSON["session"].(map[string]any)["activeOrganizationId"] != org {
			t.Fatalf("bob's session after removal = %s (the check below needs it still naming the group)", r.Raw)
		}
		name, got = groupEntries(t, u["bob"])
		if name != "" || len(got) != 0 {
			t.Fatalf("bob after removal: %q %q", name, got)
		}
		_, got = groupEntries(t, u["alice"])
		sameLines(t, "alice after bob left", got, []string{"e by alice", "c by alice"})

		// Clearing the active group (set-active null) empties the section.
		expect(t, u["alice"].do("POST", "/api/auth/organization/set-active", map[string]any{"organizationId": nil}), 200, "")
		if name, got = groupEntries(t, u["alice"]); name != "" || len(got) != 0 {
			t.Fatalf("after set-active null: %q %q", name, got)
		}
	})
}

// Without the organization plugin there is no active-group column: the endpoint answers an empty
// list, not an error.
func TestContentGroupBookmarksPluginOff(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 10)
		c, _ := ce.reader(t, "solo@example.com")
		expect(t, c.do("PUT", "/content/items/a/bookmark", nil), 200, "")
		r := c.do("GET", "/content/group-bookmarks", nil)
		expect(t, r, 200, "")
		if string(r.Raw) != `{"group":null,"items":[]}` {
			t.Fatalf("body = %s", r.Raw)
		}
	})
}
