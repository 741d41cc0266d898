package web_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"authserver/content"
	"authserver/store"
	"authserver/store/storetest"
)

// testCatalog is the CONTENT_DIR of these tests. With the profile {beginner, [databases, sql], en}
// and the feed weights (tag 3, level 2, near level 1, language 4) the scores are:
// a 12, b 7, c 6, levels 6, xss 6, e 5, d 5.
var testCatalog = map[string]string{
	"a.md": "---\ntitle: A\nsummary: Indexes and SQL.\ntags: [databases, sql]\nlevel: beginner\npublished: 2025-01-01\n---\nBody of a.\n",
	"b.md": "---\ntitle: B\nsummary: Deep database internals.\ntags: [databases]\nlevel: advanced\npublished: 2025-03-01\n---\nBody of b.\n",
	"c.md": "---\ntitle: C\nsummary: Security basics.\ntags: [security]\nlevel: beginner\npublished: 2025-02-01\n---\nBody of c.\n",
	"d.md": "---\ntitle: D\nsummary: Bases de datos.\ntags: [databases]\nlevel: beginner\nlanguage: es-ES\npublished: 2025-04-01\n---\nCuerpo de d.\n",
	"e.md": "---\ntitle: E\nsummary: The web platform.\ntags: [web]\nlevel: intermediate\npublished: 2025-05-01\n---\nBody of e.\n",
	"levels.md": "---\ntitle: Levels\nsummary: One article, three depths.\ntags: [web]\nlevel: all\npublished: 2024-06-01\n---\n" +
		"Shared intro.\n\n:::level beginner\nBEGINNER-ONLY text.\n:::\n\n:::level intermediate advanced\nDEEPER text.\n:::\n\n" +
		"```md\n:::level advanced\nnot a marker inside code\n:::\n```\n\nShared outro.\n",
	"xss.md": "---\ntitle: Hostile\nsummary: Tries every trick.\ntags: [security]\npublished: 2024-01-01\n---\n" +
		"Hello <script>alert('script')</script> world.\n\n" +
		"[click me](javascript:alert('md-link'))\n\n" +
		"<a href=\"javascript:alert('raw-link')\">raw link</a>\n\n" +
		"<img src=\"pic.png\" onerror=\"alert('onerror')\">\n\n" +
		"<p onclick=\"alert('onclick')\" style=\"color:red\">styled</p>\n\n" +
		"<iframe src=\"https://evil.example/\"></iframe>\n\n" +
		"[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)\n\n" +
		"<svg><script>alert('svg')</script></svg>\n",
	"_ignored.md": "not front matter at all",
}

// feedOrder is the full ranking of testCatalog for the profile above.
var feedOrder = []string{"a", "b", "c", "levels", "xss", "e", "d"}

func writeCatalog(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// contentEnv is the whole server with the content API over one test database and catalog folder.
type contentEnv struct {
	*env
	svc *content.Service
	dir string
}

func newContentEnv(t *testing.T, st *store.Store, maxPage int, opts ...func(*envOptions)) *contentEnv {
	t.Helper()
	dir := writeCatalog(t, testCatalog)
	e := newEnv(t, st, append(opts, func(o *envOptions) {
		o.content = &content.Config{Dir: dir, PageSize: 3, MaxPageSize: maxPage}
	})...)
	return &contentEnv{env: e, svc: e.content, dir: dir}
}

// reader signs a new user up and returns their cookie client and user id.
func (ce *contentEnv) reader(t *testing.T, email string) (*client, string) {
	t.Helper()
	c := ce.client()
	r := signUp(t, c, email, "password123")
	return c, r.JSON["user"].(map[string]any)["id"].(string)
}

func items(t *testing.T, r *response) []map[string]any {
	t.Helper()
	raw, ok := r.JSON["items"].([]any)
	if !ok {
		t.Fatalf("no items array in %s", r.Raw)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

func slugs(t *testing.T, r *response) []string {
	t.Helper()
	var out []string
	for _, it := range items(t, r) {
		out = append(out, it["slug"].(string))
	}
	return out
}

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func nextCursor(r *response) string {
	s, _ := r.JSON["nextCursor"].(string)
	return s
}

var privateRoutes = []struct{ method, path string }{
	{"GET", "/content/profile"},
	{"PUT", "/content/profile"},
	{"GET", "/content/feed"},
	{"GET", "/content/items/a"},
	{"PUT", "/content/items/a/progress"},
	{"GET", "/content/progress"},
	{"PUT", "/content/items/a/bookmark"},
	{"DELETE", "/content/items/a/bookmark"},
	{"GET", "/content/bookmarks"},
}

func TestContentNeedsASession(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		anon := ce.client()
		for _, rt := range privateRoutes {
			r := anon.do(rt.method, rt.path, map[string]any{"percent": 10})
			expect(t, r, 401, "UNAUTHORIZED")
			if r.JSON["message"] != "Unauthorized" {
				t.Errorf("%s %s message = %v, want Unauthorized", rt.method, rt.path, r.JSON["message"])
			}
		}
		// A forged or unknown token is no session either.
		r := anon.do("GET", "/content/feed", nil, "Authorization", "Bearer not-a-real-token")
		expect(t, r, 401, "UNAUTHORIZED")

		// The public routes answer visitors.
		expect(t, anon.do("GET", "/content/public/items", nil), 200, "")
		expect(t, anon.do("GET", "/content/public/items/a", nil), 200, "")
		// Unknown paths under /content are plain 404s, like every unknown path.
		if r := anon.do("GET", "/content/nope", nil); r.Status != 404 || r.code() == "UNAUTHORIZED" {
			t.Errorf("GET /content/nope = %d %s, want 404", r.Status, r.Raw)
		}
	})
}

func TestContentCookieBearerRevokedAndExpired(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		c := ce.client()
		r := signUp(t, c, "reader@example.com", "password123")
		token := r.JSON["token"].(string)
		signed := r.Header.Get("set-auth-token")

		expect(t, c.do("GET", "/content/profile", nil), 200, "")
		bearer := ce.client()
		for _, tok := range []string{token, signed} {
			r := bearer.do("GET", "/content/profile", nil, "Authorization", "Bearer "+tok)
			expect(t, r, 200, "")
			if r.Header.Get("Cache-Control") != "private, no-store" {
				t.Errorf("Cache-Control = %q, want private, no-store", r.Header.Get("Cache-Control"))
			}
		}

		// Signing out revokes the session for both ways of presenting it, at once.
		expect(t, c.do("POST", "/api/auth/sign-out", nil), 200, "")
		expect(t, bearer.do("GET", "/content/feed", nil, "Authorization", "Bearer "+token), 401, "UNAUTHORIZED")

		// An expired session is refused even if the client still holds it.
		c2 := ce.client()
		r = signUp(t, c2, "other@example.com", "password123")
		token2 := r.JSON["token"].(string)
		expect(t, c2.do("GET", "/content/feed", nil), 200, "")
		ce.clock.Advance(8 * 24 * time.Hour)
		expect(t, bearer.do("GET", "/content/feed", nil, "Authorization", "Bearer "+token2), 401, "UNAUTHORIZED")
	})
}

func TestContentProfile(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		c, _ := ce.reader(t, "p@example.com")

		r := c.do("GET", "/content/profile", nil)
		expect(t, r, 200, "")
		if r.JSON["level"] != "beginner" || r.JSON["language"] != "en" || len(r.JSON["topics"].([]any)) != 0 ||
			r.JSON["updatedAt"] != nil || r.JSON["background"] != "" {
			t.Errorf("default profile = %s", r.Raw)
		}

		r = c.do("PUT", "/content/profile", map[string]any{"level": "Intermediate", "topics": []string{"databases", " SQL "},
			"language": "pt-BR", "background": "  Backend developer. ", "goals": "Learn Postgres."})
		expect(t, r, 200, "")
		if r.JSON["level"] != "intermediate" || !slices.Equal(strs(r.JSON["topics"]), []string{"databases", "sql"}) ||
			r.JSON["language"] != "pt" || r.JSON["background"] != "Backend developer." || !jsDate.MatchString(r.JSON["updatedAt"].(string)) {
			t.Errorf("saved profile = %s", r.Raw)
		}
		// Absent fields keep their value; an empty list clears the topics.
		r = c.do("PUT", "/content/profile", map[string]any{"topics": []string{}})
		expect(t, r, 200, "")
		if r.JSON["level"] != "intermediate" || len(r.JSON["topics"].([]any)) != 0 || r.JSON["goals"] != "Learn Postgres." {
			t.Errorf("partial update = %s", r.Raw)
		}
		if got := c.do("GET", "/content/profile", nil); string(got.Raw) != string(r.Raw) {
			t.Errorf("GET after PUT = %s, want %s", got.Raw, r.Raw)
		}

		tests := []struct {
			name    string
			body    any
			wantMsg string
		}{
			{"unknown level", map[string]any{"level": "expert"}, "[body.level] must be one of beginner intermediate advanced"},
			{"topic not in catalog", map[string]any{"topics": []string{"sql", "cobol"}}, `[body.topics[1]] "cobol" is not a tag of the catalog`},
			{"repeated topic", map[string]any{"topics": []string{"sql", "SQL"}}, "[body.topics] must not repeat an entry"},
			{"bad language", map[string]any{"language": "not a language"}, "[body.language] must be a BCP 47 language tag such as en or pt-BR"},
			{"long background", map[string]any{"background": strings.Repeat("é", 501)}, "[body.background] must be at most 500 characters long"},
			{"two bad fields", map[string]any{"level": "x", "goals": strings.Repeat("g", 501)}, "[body.level] must be one of beginner intermediate advanced; [body.goals] must be at most 500 characters long"},
			{"wrong type", map[string]any{"level": 5}, "[body.level] Invalid input: expected string, received number"},
			{"array body", `[]`, "[body] Invalid input: expected object, received array"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := c.do("PUT", "/content/profile", tt.body)
				expect(t, r, 400, "VALIDATION_ERROR")
				if r.JSON["message"] != tt.wantMsg {
					t.Errorf("message = %q, want %q", r.JSON["message"], tt.wantMsg)
				}
			})
		}
		expect(t, c.do("PUT", "/content/profile", `{"level":`), 400, "BAD_REQUEST")
		expect(t, c.do("PUT", "/content/profile", "level=x", "Content-Type", "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE")
		// Nothing invalid was stored.
		if r := c.do("GET", "/content/profile", nil); r.JSON["level"] != "intermediate" {
			t.Errorf("profile after rejected updates = %s", r.Raw)
		}
	})
}

func TestContentFeedRankingAndPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 5)
		c, _ := ce.reader(t, "feed@example.com")
		expect(t, c.do("PUT", "/content/profile", map[string]any{"level": "beginner", "topics": []string{"databases", "sql"}, "language": "en"}), 200, "")

		r := c.do("GET", "/content/feed?limit=5", nil)
		expect(t, r, 200, "")
		if got := slugs(t, r); !slices.Equal(got, feedOrder[:5]) {
			t.Fatalf("feed = %v, want %v", got, feedOrder[:5])
		}
		first := items(t, r)[0]
		wantReasons := []string{"matches your interest in databases", "matches your interest in sql", "written for your level (beginner)", "in your language (English)"}
		if !slices.Equal(strs(first["reasons"]), wantReasons) || first["score"] != float64(12) {
			t.Errorf("a: score %v reasons %v, want 12 %v", first["score"], first["reasons"], wantReasons)
		}
		if first["progress"] != nil || first["bookmarked"] != false || !jsDate.MatchString(first["publishedAt"].(string)) ||
			!slices.Equal(strs(first["tags"]), []string{"databases", "sql"}) {
			t.Errorf("a entry = %v", first)
		}
		if got := strs(items(t, r)[3]["reasons"]); !slices.Equal(got, []string{"suits every level", "in your language (English)"}) {
			t.Errorf("levels reasons = %v", got)
		}

		// Pagination: default page size 3, pages walk the whole order; the last has no cursor.
		var all []string
		cursor := ""
		for range 5 {
			r := c.do("GET", "/content/feed?cursor="+cursor, nil)
			expect(t, r, 200, "")
			all = append(all, slugs(t, r)...)
			if cursor = nextCursor(r); cursor == "" {
				if len(items(t, r)) != 1 {
					t.Errorf("last page has %d items, want 1", len(items(t, r)))
				}
				break
			}
		}
		if !slices.Equal(all, feedOrder) {
			t.Errorf("paged feed = %v, want %v", all, feedOrder)
		}
		// A page size over the maximum (5) is clamped, not refused.
		r = c.do("GET", "/content/feed?limit=1000", nil)
		expect(t, r, 200, "")
		if len(items(t, r)) != 5 || nextCursor(r) == "" {
			t.Errorf("limit=1000 gave %d items, cursor %q; want 5 and a cursor", len(items(t, r)), nextCursor(r))
		}
		// Exactly one page: all remaining items fit, so there is no cursor.
		r = c.do("GET", "/content/feed?limit=2&cursor="+nextCursor(r), nil)
		if got := slugs(t, r); !slices.Equal(got, feedOrder[5:]) || nextCursor(r) != "" {
			t.Errorf("final exact page = %v cursor %q, want %v and none", got, nextCursor(r), feedOrder[5:])
		}

		// Bad cursors and limits.
		bookmarksCursor := func() string {
			for _, s := range []string{"a", "b"} {
				expect(t, c.do("PUT", "/content/items/"+s+"/bookmark", nil), 200, "")
			}
			return nextCursor(c.do("GET", "/content/bookmarks?limit=1", nil))
		}()
		for _, q := range []string{"cursor=garbage!", "cursor=eyJ9", "cursor=" + bookmarksCursor} {
			r := c.do("GET", "/content/feed?"+q, nil)
			expect(t, r, 400, "INVALID_CURSOR")
			if r.JSON["message"] != "Invalid cursor" {
				t.Errorf("%s: message %v", q, r.JSON["message"])
			}
		}
		for _, q := range []string{"limit=0", "limit=-1", "limit=ten"} {
			r := c.do("GET", "/content/feed?"+q, nil)
			expect(t, r, 400, "VALIDATION_ERROR")
			if r.JSON["message"] != "[query.limit] must be a positive integer" {
				t.Errorf("%s: message %v", q, r.JSON["message"])
			}
		}

		// Finishing an item moves it last; the same data gives the same answer every time.
		expect(t, c.do("PUT", "/content/items/a/progress", map[string]any{"completed": true}), 200, "")
		r = c.do("GET", "/content/feed?limit=5", nil)
		again := c.do("GET", "/content/feed?limit=5", nil)
		if string(r.Raw) != string(again.Raw) {
			t.Errorf("the same feed twice differs:\n%s\n%s", r.Raw, again.Raw)
		}
		all = append(slugs(t, r), slugs(t, c.do("GET", "/content/feed?limit=5&cursor="+nextCursor(r), nil))...)
		want := append(slices.Clone(feedOrder[1:]), "a")
		if !slices.Equal(all, want) {
			t.Errorf("feed after finishing a = %v, want %v", all, want)
		}
		if it := items(t, r)[0]; it["slug"] != "b" || it["bookmarked"] != true {
			t.Errorf("b entry = %v, want bookmarked", it)
		}

		// Language and level weigh for a Spanish-speaking advanced reader too.
		c2, _ := ce.reader(t, "es@example.com")
		expect(t, c2.do("PUT", "/content/profile", map[string]any{"level": "advanced", "language": "es"}), 200, "")
		r = c2.do("GET", "/content/feed?limit=5", nil)
		entries := append(items(t, r), items(t, c2.do("GET", "/content/feed?limit=5&cursor="+nextCursor(r), nil))...)
		var got []string
		for _, e := range entries {
			got = append(got, e["slug"].(string))
		}
		// d 4 (Spanish), b/levels/xss 2 (advanced or all, newest first), e 1 (near level), c and a 0.
		if !slices.Equal(got, []string{"d", "b", "levels", "xss", "e", "c", "a"}) {
			t.Fatalf("feed for es/advanced = %v", got)
		}
		if got := strs(entries[0]["reasons"]); !slices.Equal(got, []string{"in your language (Spanish)"}) {
			t.Errorf("d reasons = %v", got)
		}
		if got := strs(entries[4]["reasons"]); !slices.Equal(got, []string{"one step below your level (intermediate), good for review"}) {
			t.Errorf("e reasons = %v", got)
		}
		if got := strs(entries[6]["reasons"]); len(got) != 1 || (got[0] != "more from the catalog" && got[0] != "published recently") {
			t.Errorf("a reasons = %v", got)
		}
	})
}

func TestContentFeedDefaultsAndPublicList(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		c, _ := ce.reader(t, "new@example.com")
		// No profile yet: beginner, English, no topics.
		r := c.do("GET", "/content/feed?limit=50", nil)
		expect(t, r, 200, "")
		if len(items(t, r)) != 7 || nextCursor(r) != "" {
			t.Fatalf("default feed = %s", r.Raw)
		}
		first := items(t, r)[0]
		if first["slug"] != "c" || !slices.Equal(strs(first["reasons"]), []string{"written for your level (beginner)", "in your language (English)"}) {
			t.Errorf("default feed leads with %v", first)
		}

		anon := ce.client()
		r = anon.do("GET", "/content/public/items", nil)
		expect(t, r, 200, "")
		if got := slugs(t, r); !slices.Equal(got, []string{"e", "d", "b"}) || nextCursor(r) == "" {
			t.Errorf("public page 1 = %v", got)
		}
		if r.Header.Get("Cache-Control") != "public, max-age=60" {
			t.Errorf("public Cache-Control = %q", r.Header.Get("Cache-Control"))
		}
		var all []string
		for cur := ""; ; {
			r := anon.do("GET", "/content/public/items?limit=2&cursor="+cur, nil)
			expect(t, r, 200, "")
			all = append(all, slugs(t, r)...)
			if cur = nextCursor(r); cur == "" {
				break
			}
		}
		if want := []string{"e", "d", "b", "c", "a", "levels", "xss"}; !slices.Equal(all, want) {
			t.Errorf("public list = %v, want %v", all, want)
		}
		r = anon.do("GET", "/content/public/items?tag=security", nil)
		if got := slugs(t, r); !slices.Equal(got, []string{"c", "xss"}) {
			t.Errorf("tag=security = %v", got)
		}
		// Empty list: an unknown tag gives no items and no cursor.
		r = anon.do("GET", "/content/public/items?tag=cobol", nil)
		expect(t, r, 200, "")
		if string(r.Raw) != `{"items":[],"nextCursor":null}` {
			t.Errorf("empty list = %s", r.Raw)
		}
		r = anon.do("GET", "/content/public/items/nope", nil)
		expect(t, r, 404, "NOT_FOUND")
		if r.JSON["message"] != "Content not found" {
			t.Errorf("404 message = %v", r.JSON["message"])
		}
		expect(t, anon.do("GET", "/content/public/items?cursor=nope", nil), 400, "INVALID_CURSOR")
	})
}

func TestContentLevelSections(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		c, _ := ce.reader(t, "lv@example.com")
		html := func(r *response) string { return r.JSON["html"].(string) }

		r := c.do("GET", "/content/items/levels", nil)
		expect(t, r, 200, "")
		h := html(r)
		if !strings.Contains(h, "Shared intro.") || !strings.Contains(h, "Shared outro.") || !strings.Contains(h, "BEGINNER-ONLY") || strings.Contains(h, "DEEPER") {
			t.Errorf("beginner view = %s", h)
		}
		if !strings.Contains(h, `<section class="level-section" data-level="beginner">`) || r.JSON["shownLevel"] != "beginner" {
			t.Errorf("beginner view lacks its section wrapper: %s", r.Raw)
		}
		if !strings.Contains(h, ":::level advanced\nnot a marker inside code") {
			t.Errorf("a marker inside a code block was taken as a section: %s", h)
		}
		if got := strs(r.JSON["levels"]); !slices.Equal(got, []string{"beginner", "intermediate", "advanced"}) {
			t.Errorf("levels = %v", got)
		}

		expect(t, c.do("PUT", "/content/profile", map[string]any{"level": "advanced"}), 200, "")
		h = html(c.do("GET", "/content/items/levels", nil))
		if strings.Contains(h, "BEGINNER-ONLY") || !strings.Contains(h, "DEEPER") || !strings.Contains(h, `data-level="intermediate advanced"`) {
			t.Errorf("advanced view = %s", h)
		}

		// Visitors see every section, labelled.
		r = ce.client().do("GET", "/content/public/items/levels", nil)
		expect(t, r, 200, "")
		if h := html(r); !strings.Contains(h, "BEGINNER-ONLY") || !strings.Contains(h, "DEEPER") {
			t.Errorf("public view = %s", h)
		}
		if _, has := r.JSON["progress"]; has {
			t.Errorf("public view carries reader state: %s", r.Raw)
		}
	})
}

func TestContentSanitizesHTML(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		c, _ := ce.reader(t, "x@example.com")
		for _, r := range []*response{c.do("GET", "/content/items/xss", nil), ce.client().do("GET", "/content/public/items/xss", nil)} {
			expect(t, r, 200, "")
			h := strings.ToLower(r.JSON["html"].(string))
			for _, bad := range []string{"<script", "javascript:", "onerror", "onclick", "alert(", "<iframe", "style=", "data:text/html", "<svg"} {
				if strings.Contains(h, bad) {
					t.Errorf("rendered HTML contains %q:\n%s", bad, h)
				}
			}
			for _, good := range []string{"hello", "world", "click me", "raw link", `<img src="pic.png"`, "styled"} {
				if !strings.Contains(h, good) {
					t.Errorf("rendered HTML lost the harmless %q:\n%s", good, h)
				}
			}
		}
	})
}

func TestContentProgressAndBookmarks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		c, _ := ce.reader(t, "pb@example.com")

		// Empty lists.
		for _, p := range []string{"/content/progress", "/content/bookmarks"} {
			r := c.do("GET", p, nil)
			expect(t, r, 200, "")
			if string(r.Raw) != `{"items":[],"nextCursor":null}` {
				t.Errorf("empty %s = %s", p, r.Raw)
			}
		}

		r := c.do("PUT", "/content/items/b/progress", map[string]any{"percent": 40})
		expect(t, r, 200, "")
		if r.JSON["percent"] != float64(40) || r.JSON["completed"] != false || r.JSON["completedAt"] != nil || r.JSON["title"] != "B" {
			t.Errorf("progress = %s", r.Raw)
		}
		ce.clock.Advance(time.Minute)
		again := c.do("PUT", "/content/items/b/progress", map[string]any{"percent": 40})
		if string(again.Raw) != string(r.Raw) {
			t.Errorf("repeating a progress update changed it: %s then %s", r.Raw, again.Raw)
		}
		r = c.do("PUT", "/content/items/b/progress", map[string]any{"percent": 100})
		if r.JSON["completed"] != true || !jsDate.MatchString(r.JSON["completedAt"].(string)) {
			t.Errorf("100 percent = %s, want completed", r.Raw)
		}
		// Completed is sticky when the reader scrolls back; only completed:false clears it.
		r = c.do("PUT", "/content/items/b/progress", map[string]any{"percent": 30})
		if r.JSON["completed"] != true || r.JSON["percent"] != float64(30) {
			t.Errorf("scrolling back = %s", r.Raw)
		}
		r = c.do("PUT", "/content/items/b/progress", map[string]any{"completed": false})
		if r.JSON["completed"] != false || r.JSON["completedAt"] != nil {
			t.Errorf("completed:false = %s", r.Raw)
		}
		ce.clock.Advance(time.Minute)
		expect(t, c.do("PUT", "/content/items/c/progress", map[string]any{"completed": true}), 200, "")

		for _, tt := range []struct {
			body any
			msg  string
		}{
			{map[string]any{"percent": 101}, "[body.percent] must be at most 100"},
			{map[string]any{"percent": -1}, "[body.percent] must be at least 0"},
			{map[string]any{"percent": 12.5}, "[body.percent] Invalid input: expected integer, received number"},
			{map[string]any{"completed": "yes"}, "[body.completed] Invalid input: expected boolean, received string"},
			{map[string]any{}, "[body] must set percent or completed"},
		} {
			r := c.do("PUT", "/content/items/b/progress", tt.body)
			expect(t, r, 400, "VALIDATION_ERROR")
			if r.JSON["message"] != tt.msg {
				t.Errorf("%v: message %q, want %q", tt.body, r.JSON["message"], tt.msg)
			}
		}

		r = c.do("GET", "/content/progress", nil)
		if got := slugs(t, r); !slices.Equal(got, []string{"c", "b"}) {
			t.Errorf("progress list = %v, want most recent first [c b]", got)
		}
		r = c.do("GET", "/content/progress?limit=1", nil)
		r = c.do("GET", "/content/progress?limit=1&cursor="+nextCursor(r), nil)
		if got := slugs(t, r); !slices.Equal(got, []string{"b"}) || nextCursor(r) != "" {
			t.Errorf("progress page 2 = %v %q", got, nextCursor(r))
		}

		// Bookmarks are idempotent both ways.
		b1 := c.do("PUT", "/content/items/a/bookmark", nil)
		expect(t, b1, 200, "")
		ce.clock.Advance(time.Minute)
		b2 := c.do("PUT", "/content/items/a/bookmark", nil)
		if string(b1.Raw) != string(b2.Raw) || b1.JSON["bookmarked"] != true {
			t.Errorf("bookmark twice = %s then %s", b1.Raw, b2.Raw)
		}
		expect(t, c.do("PUT", "/content/items/levels/bookmark", nil), 200, "")
		r = c.do("GET", "/content/bookmarks", nil)
		if got := slugs(t, r); !slices.Equal(got, []string{"levels", "a"}) {
			t.Errorf("bookmarks = %v", got)
		}
		item := c.do("GET", "/content/items/a", nil)
		if item.JSON["bookmarked"] != true || item.JSON["bookmarkedAt"] != b1.JSON["bookmarkedAt"] || item.JSON["progress"] != nil {
			t.Errorf("item a state = %s", item.Raw)
		}
		if p := c.do("GET", "/content/items/b", nil).JSON["progress"].(map[string]any); p["percent"] != float64(30) {
			t.Errorf("item b progress = %v", p)
		}
		for range 2 {
			r := c.do("DELETE", "/content/items/a/bookmark", nil)
			expect(t, r, 200, "")
			if string(r.Raw) != `{"slug":"a","bookmarked":false,"bookmarkedAt":null}` {
				t.Errorf("DELETE bookmark = %s", r.Raw)
			}
		}

		// Unknown slugs are 404 everywhere.
		for _, rt := range []struct{ method, path string }{
			{"GET", "/content/items/nope"},
			{"PUT", "/content/items/nope/progress"},
			{"PUT", "/content/items/nope/bookmark"},
			{"DELETE", "/content/items/nope/bookmark"},
		} {
			r := c.do(rt.method, rt.path, map[string]any{"percent": 5})
			expect(t, r, 404, "NOT_FOUND")
			if r.JSON["message"] != "Content not found" {
				t.Errorf("%s %s message = %v", rt.method, rt.path, r.JSON["message"])
			}
		}
	})
}

func TestContentReloadKeepsProgress(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		c, _ := ce.reader(t, "reload@example.com")
		expect(t, c.do("PUT", "/content/items/b/progress", map[string]any{"percent": 60}), 200, "")
		expect(t, c.do("PUT", "/content/items/b/bookmark", nil), 200, "")

		// b leaves the folder: it disappears, the reader's rows stay.
		bBody := testCatalog["b.md"]
		if err := os.Remove(filepath.Join(ce.dir, "b.md")); err != nil {
			t.Fatal(err)
		}
		res, err := ce.svc.Sync(context.Background())
		if err != nil || res.Removed != 1 || res.Unchanged != 6 {
			t.Fatalf("Sync = %+v, %v; want 1 removed, 6 unchanged", res, err)
		}
		expect(t, c.do("GET", "/content/items/b", nil), 404, "NOT_FOUND")
		expect(t, c.do("PUT", "/content/items/b/progress", map[string]any{"percent": 70}), 404, "NOT_FOUND")
		if got := slugs(t, c.do("GET", "/content/feed?limit=50", nil)); slices.Contains(got, "b") {
			t.Errorf("feed still has b: %v", got)
		}
		if r := c.do("GET", "/content/progress", nil); len(items(t, r)) != 0 {
			t.Errorf("progress list shows a hidden item: %s", r.Raw)
		}

		// It comes back (edited): the progress and bookmark are there again.
		if err := os.WriteFile(filepath.Join(ce.dir, "b.md"), []byte(strings.Replace(bBody, "Body of b.", "Body of b, revised.", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err = ce.svc.Sync(context.Background())
		if err != nil || res.Updated != 1 {
			t.Fatalf("Sync = %+v, %v; want 1 updated", res, err)
		}
		r := c.do("GET", "/content/items/b", nil)
		expect(t, r, 200, "")
		if !strings.Contains(r.JSON["html"].(string), "revised") || r.JSON["bookmarked"] != true ||
			r.JSON["progress"].(map[string]any)["percent"] != float64(60) {
			t.Errorf("returned item = %s", r.Raw)
		}

		// A broken file fails the reload and changes nothing.
		if err := os.WriteFile(filepath.Join(ce.dir, "broken.md"), []byte("---\ntitle: x\n---\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ce.svc.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "broken.md") {
			t.Errorf("Sync with a broken file: err = %v, want one naming broken.md", err)
		}
		expect(t, c.do("GET", "/content/items/b", nil), 200, "")
	})
}

func TestContentIsolationBetweenUsers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		alice, aliceID := ce.reader(t, "alice@example.com")
		bob, bobID := ce.reader(t, "bob@example.com")

		expect(t, alice.do("PUT", "/content/profile", map[string]any{"level": "advanced", "topics": []string{"security"}, "goals": "alice's goals"}), 200, "")
		expect(t, alice.do("PUT", "/content/items/c/progress", map[string]any{"percent": 80}), 200, "")
		expect(t, alice.do("PUT", "/content/items/c/bookmark", nil), 200, "")

		// Bob sees none of it, whatever ids he puts in the request.
		r := bob.do("GET", "/content/profile?userId="+aliceID, nil)
		if r.JSON["level"] != "beginner" || r.JSON["goals"] != "" {
			t.Errorf("bob's profile = %s", r.Raw)
		}
		for _, p := range []string{"/content/progress?userId=" + aliceID, "/content/bookmarks?userId=" + aliceID} {
			if r := bob.do("GET", p, nil); len(items(t, r)) != 0 {
				t.Errorf("bob GET %s = %s", p, r.Raw)
			}
		}
		r = bob.do("GET", "/content/items/c", nil)
		if r.JSON["progress"] != nil || r.JSON["bookmarked"] != false {
			t.Errorf("bob sees alice's state on c: %s", r.Raw)
		}
		for _, it := range items(t, bob.do("GET", "/content/feed?limit=50", nil)) {
			if it["progress"] != nil || it["bookmarked"] != false {
				t.Errorf("bob's feed shows alice's state: %v", it)
			}
		}
		// Bob's writes (even naming alice) change only his rows.
		expect(t, bob.do("PUT", "/content/profile", map[string]any{"level": "intermediate", "userId": aliceID}), 200, "")
		expect(t, bob.do("PUT", "/content/items/c/progress", map[string]any{"percent": 5, "userId": aliceID}), 200, "")
		expect(t, bob.do("DELETE", "/content/items/c/bookmark", map[string]any{"userId": aliceID}), 200, "")
		if r := alice.do("GET", "/content/profile", nil); r.JSON["level"] != "advanced" {
			t.Errorf("alice's profile after bob's update = %s", r.Raw)
		}
		r = alice.do("GET", "/content/items/c", nil)
		if r.JSON["bookmarked"] != true || r.JSON["progress"].(map[string]any)["percent"] != float64(80) {
			t.Errorf("alice's state after bob's writes = %s", r.Raw)
		}

		// Deleting a user deletes their content rows, and only theirs.
		ctx := context.Background()
		if n, _ := st.CountContentRows(ctx, aliceID); n != 3 {
			t.Fatalf("alice has %d content rows, want 3", n)
		}
		if _, err := st.DeleteUser(ctx, aliceID); err != nil {
			t.Fatal(err)
		}
		if n, err := st.CountContentRows(ctx, aliceID); n != 0 || err != nil {
			t.Errorf("alice's content rows after DeleteUser = %d, %v", n, err)
		}
		if n, _ := st.CountContentRows(ctx, bobID); n != 2 {
			t.Errorf("bob's content rows = %d, want 2 (profile, progress)", n)
		}
	})
}
