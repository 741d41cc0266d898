package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

// seedItems stores items (slug, level, language, day of 2025, tags...) in one transaction.
func seedItems(t *testing.T, st *store.Store, now store.Time, specs ...[]string) {
	t.Helper()
	var items []store.ContentItem
	var tags []store.ContentItemTag
	for _, s := range specs {
		day, _ := time.Parse(time.DateOnly, s[3])
		items = append(items, store.ContentItem{Slug: s[0], Title: "T " + s[0], Summary: "S", Body: "B", Sections: "[]",
			Level: s[1], Language: s[2], ReadingMinutes: 3, PublishedAt: store.NewTime(day), Hash: "h-" + s[0],
			CreatedAt: now, UpdatedAt: now})
		for _, tag := range s[4:] {
			tags = append(tags, store.ContentItemTag{Tag: tag, Slug: s[0]})
		}
	}
	err := st.Tx(context.Background(), func(tx *store.Store) error {
		return tx.SaveContentItems(context.Background(), items, tags)
	})
	if err != nil {
		t.Fatalf("SaveContentItems: %v", err)
	}
}

func slugsOf(rows []store.FeedRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Slug
	}
	return out
}

func TestContentFeedRanksInSQL(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := store.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		for _, id := range []string{"u1", "u2"} {
			if err := st.CreateUser(ctx, newUser(id, id+"@example.com", now)); err != nil {
				t.Fatal(err)
			}
		}
		seedItems(t, st, now,
			[]string{"a", "beginner", "en", "2025-01-01", "databases", "sql"},
			[]string{"b", "advanced", "en", "2025-03-01", "databases"},
			[]string{"c", "beginner", "en", "2025-02-01", "security"},
			[]string{"d", "beginner", "es", "2025-04-01", "databases"},
			[]string{"e", "intermediate", "en", "2025-05-01", "web"},
			[]string{"f", "all", "en", "2024-01-01", "security"},
			[]string{"g", "all", "en", "2024-01-01", "web"}, // same date as f: the slug breaks the tie
		)
		q := store.FeedQuery{UserID: "u1", Topics: []string{"databases", "sql"}, Level: "beginner", NearLevels: []string{"intermediate"},
			Language: "en", Weights: store.FeedWeights{Tag: 3, Level: 2, NearLevel: 1, Language: 4}, Limit: 50}
		rows, err := st.ContentFeed(ctx, q)
		if err != nil {
			t.Fatalf("ContentFeed: %v", err)
		}
		// a 3*2+2+4=12, b 3+0+4=7, c 2+4=6, f 2+4=6, g 6, d 3+2=5, e 1+4=5
		want := []string{"a", "b", "c", "f", "g", "e", "d"}
		if got := slugsOf(rows); !slices.Equal(got, want) {
			t.Fatalf("feed = %v, want %v", got, want)
		}
		if r := rows[0]; r.Score != 12 || r.TagMatches != 2 || r.LevelScore != 2 || r.LanguageMatch != 1 || r.Finished != 0 || r.Percent != nil {
			t.Errorf("row a = %+v, want score 12 from 2 tags, level 2, language 1, unfinished", r)
		}
		if r := rows[5]; r.Slug != "e" || r.LevelScore != 1 {
			t.Errorf("row e = %+v, want the near-level score 1", r)
		}

		// Finished items go last; another user's progress and bookmarks change nothing for u1.
		fifty := 100
		if err := st.SaveContentProgress(ctx, &store.ContentProgress{UserID: "u1", Slug: "a", Percent: fifty, Completed: true, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveContentProgress(ctx, &store.ContentProgress{UserID: "u2", Slug: "b", Percent: 100, Completed: true, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddContentBookmark(ctx, &store.ContentBookmark{UserID: "u1", Slug: "c", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		rows, err = st.ContentFeed(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want = []string{"b", "c", "f", "g", "e", "d", "a"}
		if got := slugsOf(rows); !slices.Equal(got, want) {
			t.Fatalf("feed after finishing a = %v, want %v", got, want)
		}
		if rows[6].Finished != 1 || rows[6].Percent == nil || *rows[6].Percent != 100 {
			t.Errorf("finished row = %+v", rows[6])
		}
		if rows[1].BookmarkedAt == nil || rows[0].BookmarkedAt != nil {
			t.Errorf("bookmarks: b %v, c %v; want only c bookmarked", rows[0].BookmarkedAt, rows[1].BookmarkedAt)
		}

		// Keyset pages of every size walk the same order with no gap and no repeat.
		for size := 1; size <= 8; size++ {
			var got []string
			var after *store.FeedKey
			for pages := 0; pages < 20; pages++ {
				q.After, q.Limit = after, size
				page, err := st.ContentFeed(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, slugsOf(page)...)
				if len(page) < size {
					break
				}
				k := page[len(page)-1].Key()
				after = &k
			}
			if !slices.Equal(got, want) {
				t.Errorf("pages of %d = %v, want %v", size, got, want)
			}
		}

		// No topics: no tag join, the rest still ranks.
		q.Topics, q.After, q.Limit = nil, nil, 3
		rows, err = st.ContentFeed(ctx, q)
		if err != nil || len(rows) != 3 || rows[0].TagMatches != 0 {
			t.Fatalf("feed without topics = %v, %v", rows, err)
		}

		// Hidden items leave the feed but keep the progress rows.
		if err := st.HideContentItems(ctx, []string{"a"}, now); err != nil {
			t.Fatal(err)
		}
		q.Topics, q.Limit = []string{"databases"}, 50
		rows, _ = st.ContentFeed(ctx, q)
		if slices.Contains(slugsOf(rows), "a") {
			t.Errorf("hidden item a is still in the feed")
		}
		if _, err := st.ContentProgressOf(ctx, "u1", "a"); err != nil {
			t.Errorf("progress on hidden item: %v, want kept", err)
		}
		if _, err := st.ContentItemBySlug(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ContentItemBySlug(hidden) err = %v, want ErrNotFound", err)
		}
		list, err := st.ContentProgressList(ctx, "u1", nil, 10)
		if err != nil || len(list) != 0 {
			t.Errorf("progress list with its item hidden = %v, %v; want empty", list, err)
		}
		// Saving the item again shows it again, with the progress.
		seedItems(t, st, now, []string{"a", "beginner", "en", "2025-01-01", "databases", "sql"})
		list, err = st.ContentProgressList(ctx, "u1", nil, 10)
		if err != nil || len(list) != 1 || list[0].Title != "T a" {
			t.Errorf("progress list after the item returned = %+v, %v", list, err)
		}
	})
}

func TestContentRowsGoWithTheUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := store.NewTime(time.Now())
		if err := st.CreateUser(ctx, newUser("u1", "a@example.com", now)); err != nil {
			t.Fatal(err)
		}
		seedItems(t, st, now, []string{"a", "beginner", "en", "2025-01-01", "x"})
		if err := st.SaveContentProfile(ctx, &store.ContentProfile{UserID: "u1", Level: "beginner", Topics: `["x"]`, Language: "en", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveContentProgress(ctx, &store.ContentProgress{UserID: "u1", Slug: "a", Percent: 10, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddContentBookmark(ctx, &store.ContentBookmark{UserID: "u1", Slug: "a", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.CountContentRows(ctx, "u1"); n != 3 {
			t.Fatalf("content rows = %d, want 3", n)
		}
		if _, err := st.DeleteUser(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if n, err := st.CountContentRows(ctx, "u1"); n != 0 || err != nil {
			t.Errorf("content rows after DeleteUser = %d, %v; want 0", n, err)
		}
		// A per-user row for a user that does not exist is refused by the foreign key.
		err := st.SaveContentProgress(ctx, &store.ContentProgress{UserID: "ghost", Slug: "a", CreatedAt: now, UpdatedAt: now})
		if err == nil {
			t.Error("progress for an unknown user was stored")
		}
	})
}

func TestContentUpsertsAreIdempotent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		t0 := store.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		t1 := store.NewTime(t0.Add(time.Hour))
		if err := st.CreateUser(ctx, newUser("u1", "a@example.com", t0)); err != nil {
			t.Fatal(err)
		}
		seedItems(t, st, t0, []string{"a", "beginner", "en", "2025-01-01", "x", "y"})
		seedItems(t, st, t1, []string{"a", "advanced", "en", "2025-01-01", "z"})
		it, err := st.ContentItemBySlug(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if it.Level != "advanced" || !it.CreatedAt.Equal(t0.Time) || !it.UpdatedAt.Equal(t1.Time) {
			t.Errorf("re-saved item = level %s created %s updated %s; want advanced, %s, %s", it.Level, it.CreatedAt, it.UpdatedAt, t0, t1)
		}
		tags, err := st.ContentTags(ctx, []string{"a"})
		if err != nil || !slices.Equal(tags["a"], []string{"z"}) {
			t.Errorf("tags after re-save = %v, %v; want [z]", tags, err)
		}
		b1, err := st.AddContentBookmark(ctx, &store.ContentBookmark{UserID: "u1", Slug: "a", CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		b2, err := st.AddContentBookmark(ctx, &store.ContentBookmark{UserID: "u1", Slug: "a", CreatedAt: t1})
		if err != nil || !b2.CreatedAt.Equal(b1.CreatedAt.Time) {
			t.Errorf("second bookmark = %v, %v; want the first one's time %s", b2, err, b1.CreatedAt)
		}
		for i, want := range []bool{true, false} {
			removed, err := st.DeleteContentBookmark(ctx, "u1", "a")
			if err != nil || removed != want {
				t.Errorf("DeleteContentBookmark #%d = %v, %v; want %v", i+1, removed, err, want)
			}
		}
	})
}

func TestContentBatchesLargeCatalogs(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := context.Background()
	now := store.NewTime(time.Now())
	var specs [][]string
	for i := range 1200 { // more than one batch of rows and of IN-list values
		specs = append(specs, []string{fmt.Sprintf("item-%04d", i), "beginner", "en", "2025-01-01", "t1", "t2"})
	}
	seedItems(t, st, now, specs...)
	slugs := make([]string, len(specs))
	for i, s := range specs {
		slugs[i] = s[0]
	}
	tags, err := st.ContentTags(ctx, slugs)
	if err != nil || len(tags) != 1200 {
		t.Fatalf("ContentTags = %d items, %v", len(tags), err)
	}
	if err := st.HideContentItems(ctx, slugs, now); err != nil {
		t.Fatal(err)
	}
	if all, _ := st.ContentCatalogTags(ctx); len(all) != 0 {
		t.Errorf("catalog tags with every item hidden = %v", all)
	}
}
