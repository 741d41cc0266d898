package content

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"authserver/store"
	"authserver/store/storetest"
)

func TestSplitSections(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []string // "levels|text" per part
		wantErr string
	}{
		{"no sections", "a\n\nb\n", []string{"|a\n\nb\n"}, ""},
		{"one section", "a\n:::level beginner\nb\n:::\nc\n", []string{"|a\n", "beginner|b\n", "|c\n"}, ""},
		{"several levels and spaces", "  :::level intermediate advanced  \nx\n  :::  \n", []string{"intermediate advanced|x\n"}, ""},
		{"marker inside a fence", "```\n:::level beginner\n```\n", []string{"|```\n:::level beginner\n```\n"}, ""},
		{"marker inside a tilde fence with a backtick line", "~~~\n```\n:::level beginner\n~~~\n", []string{"|~~~\n```\n:::level beginner\n~~~\n"}, ""},
		{"unknown level", ":::level expert\nx\n:::\n", nil, `unknown level "expert"`},
		{"no level", ":::level\nx\n:::\n", nil, "names no level"},
		{"nested", ":::level beginner\n:::level advanced\n:::\n", nil, "do not nest"},
		{"unclosed", ":::level beginner\nx\n", nil, "not closed"},
		{"stray close", "x\n:::\n", nil, "closes no level section"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitSections(tt.body)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("splitSections(%q) err = %v, want %q", tt.body, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, p := range got {
				parts = append(parts, strings.Join(p.levels, " ")+"|"+p.text)
			}
			if !slices.Equal(parts, tt.want) {
				t.Errorf("splitSections(%q) = %q, want %q", tt.body, parts, tt.want)
			}
		})
	}
}

func TestRendererSanitizes(t *testing.T) {
	r := newRenderer()
	tests := []struct {
		name, md      string
		want, notWant []string
	}{
		{"script element", "hi <script>alert(1)</script>", []string{"hi"}, []string{"<script", "alert"}},
		{"javascript link", "[x](javascript:alert(1))", []string{"<p>x</p>"}, []string{"javascript:"}},
		{"javascript link, encoded", "[x](jAvAsCrIpT&#58;alert(1))", nil, []string{"alert(1)\""}},
		{"raw javascript link", `<a href="javascript:alert(1)">x</a>`, []string{"x"}, []string{"javascript:"}},
		{"onerror", `<img src="a.png" onerror="alert(1)">`, []string{`<img src="a.png"`}, []string{"onerror", "alert"}},
		{"style and class", `<p style="x" class="y">t</p>`, []string{"<p>t</p>"}, []string{"style", "class="}},
		{"iframe", `<iframe src="https://e.example"></iframe>`, nil, []string{"iframe"}},
		{"code keeps its language", "```go\nx := 1\n```", []string{`<code class="language-go">`}, nil},
		{"links get nofollow", "<https://example.com>", []string{`rel="nofollow"`}, nil},
		{"tables", "| a |\n|---|\n| b |", []string{"<table>", "<td>b</td>"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.html(tt.md)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("html(%q) = %q, want it to contain %q", tt.md, got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(strings.ToLower(got), strings.ToLower(w)) {
					t.Errorf("html(%q) = %q, must not contain %q", tt.md, got, w)
				}
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	s := New(Config{}, nil)
	good := "---\ntitle: T\nsummary: S\ntags: [Web, sql]\nlevel: Beginner\nlanguage: pt-BR\npublished: 2025-03-14T10:00:00+02:00\n---\nword word\n"
	it, tags, skip, err := s.parseFile("dir/My-Article.md", []byte(good))
	if err != nil || skip {
		t.Fatalf("parseFile = %v, skip %v", err, skip)
	}
	if it.Slug != "my-article" || it.Level != "beginner" || it.Language != "pt" || it.ReadingMinutes != 1 ||
		it.PublishedAt.String() != "2025-03-14T08:00:00.000Z" || !slices.Equal(tags, []string{"sql", "web"}) {
		t.Errorf("parsed = %+v tags %v", it, tags)
	}
	// The hash changes with the file, so an edit is picked up and an untouched file is skipped.
	it2, _, _, _ := s.parseFile("dir/My-Article.md", []byte(good+"more\n"))
	if it2.Hash == it.Hash {
		t.Error("hash did not change with the body")
	}
	_, _, skip, err = s.parseFile("d.md", []byte("---\ntitle: T\ndraft: true\n---\n"))
	if !skip || err != nil {
		t.Errorf("draft: skip %v err %v, want skipped", skip, err)
	}

	bad := []struct{ name, file, wantErr string }{
		{"no front matter", "# Title\n", "must start with front matter"},
		{"unclosed front matter", "---\ntitle: T\n", "not closed"},
		{"missing fields", "---\ntitle: T\n---\n", "[summary] is required; [published] is required"},
		{"misspelt key", "---\ntitle: T\nsumary: S\npublished: 2025-01-01\n---\n", "field sumary not found"},
		{"bad level", "---\ntitle: T\nsummary: S\npublished: 2025-01-01\nlevel: expert\n---\n", "[level] must be one of"},
		{"bad date", "---\ntitle: T\nsummary: S\npublished: yesterday\n---\n", "not a date"},
		{"bad tag", "---\ntitle: T\nsummary: S\npublished: 2025-01-01\ntags: [\"two words\"]\n---\n", `tag "two words"`},
		{"bad slug", "---\ntitle: T\nsummary: S\npublished: 2025-01-01\nslug: Not_A_Slug\n---\n", "slug"},
		{"bad section", "---\ntitle: T\nsummary: S\npublished: 2025-01-01\n---\n:::level beginner\n", "not closed"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := s.parseFile("x.md", []byte(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseFile err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSampleCatalog(t *testing.T) {
	s := New(Config{}, nil)
	fsys, _, err := s.source()
	if err != nil {
		t.Fatal(err)
	}
	items, tags, err := s.load(fsys, nil)
	if err != nil {
		t.Fatalf("the embedded sample does not load: %v", err)
	}
	if len(items) < 12 {
		t.Errorf("sample has %d items, want about 12", len(items))
	}
	langs, levels, tagSet := map[string]bool{}, map[string]bool{}, map[string]bool{}
	withSections := 0
	for _, it := range items {
		langs[it.Language] = true
		levels[it.Level] = true
		for _, tg := range tags[it.Slug] {
			tagSet[tg.Tag] = true
		}
		if strings.Contains(it.Sections, `"levels"`) {
			withSections++
		}
	}
	if len(langs) < 2 || !levels["beginner"] || !levels["intermediate"] || !levels["advanced"] || withSections == 0 || len(tagSet) < 8 {
		t.Errorf("sample variety: languages %v, levels %v, %d with sections, %d tags", langs, levels, withSections, len(tagSet))
	}
	entries, _ := fs.ReadDir(sampleFS, "sample")
	if len(entries) != len(items) {
		t.Errorf("%d sample files but %d items", len(entries), len(items))
	}
}

func TestSyncSampleIsIdempotent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := New(Config{}, st)
		first, err := s.Sync(ctx)
		if err != nil || first.Added < 12 || first.Source != "embedded sample" {
			t.Fatalf("first Sync = %+v, %v", first, err)
		}
		second, err := s.Sync(ctx)
		if err != nil || second.Unchanged != first.Added || second.Added+second.Updated+second.Removed != 0 {
			t.Errorf("second Sync = %+v, %v; want everything unchanged", second, err)
		}
		if _, err := s.PublicItem(ctx, "storing-passwords"); err != nil {
			t.Errorf("PublicItem(storing-passwords): %v", err)
		}
		if _, err := s.PublicItem(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("PublicItem(nope) err = %v, want ErrNotFound", err)
		}
		// An empty or missing folder is refused, and hides nothing.
		for _, dir := range []string{t.TempDir(), "/nonexistent/content"} {
			if _, err := New(Config{Dir: dir}, st).Sync(ctx); err == nil {
				t.Errorf("Sync(%s) succeeded", dir)
			}
		}
		if p, _ := s.PublicItems(ctx, "", PageRequest{Limit: 50}); len(p.Items) != first.Added {
			t.Errorf("after refused syncs %d items are visible, want %d", len(p.Items), first.Added)
		}
	})
}

func TestLimitAndCursor(t *testing.T) {
	s := New(Config{PageSize: 20, MaxPageSize: 50}, nil)
	for in, want := range map[int]int{0: 20, 1: 1, 50: 50, 51: 50, 1000: 50} {
		if got := s.limit(in); got != want {
			t.Errorf("limit(%d) = %d, want %d", in, got, want)
		}
	}
	c := cursor{List: listFeed, Finished: true, Score: 7, At: "2025-01-01T00:00:00.000Z", Slug: "x"}
	got, err := decodeCursor(c.encode(), listFeed)
	if err != nil || *got != c {
		t.Errorf("round trip = %+v, %v", got, err)
	}
	for _, raw := range []string{"%%%", "e30", c.encode() + "x", strings.Repeat("A", 600)} {
		if _, err := decodeCursor(raw, listFeed); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("decodeCursor(%q) err = %v, want ErrInvalidCursor", raw, err)
		}
	}
	if _, err := decodeCursor(c.encode(), listItems); !errors.Is(err, ErrInvalidCursor) {
		t.Errorf("a feed cursor was accepted by the items list")
	}
}

func TestConcurrentSyncsOfOneChange(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := New(Config{}, st).Sync(ctx); err != nil {
			t.Fatal(err)
		}
		// Two replicas start with the same new folder (every item changed) at the same moment.
		dir := t.TempDir()
		for i := range 30 {
			body := fmt.Sprintf("---\ntitle: T%d\nsummary: S\ntags: [a, b, c]\npublished: 2025-01-01\n---\nBody %d\n", i, i)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("item-%02d.md", i)), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := New(Config{Dir: dir}, st).Sync(ctx)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Errorf("concurrent Sync: %v", err)
			}
		}
		p, err := New(Config{}, st).PublicItems(ctx, "b", PageRequest{Limit: 50})
		if err != nil || len(p.Items) != 30 || len(p.Items[0].Tags) != 3 {
			t.Errorf("after concurrent syncs: %d items, %v", len(p.Items), err)
		}
	})
}
