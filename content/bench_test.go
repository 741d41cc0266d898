package content

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"authserver/store"
)

// The benchmarks measure the service calls behind GET /content/feed and GET /content/items/:slug
// (everything but HTTP framing and the session lookup) on a realistic catalog: the embedded sample
// articles repeated with varied slugs, tags (2–4 of 40), levels, languages and dates, and 10,000
// readers, each with a profile (3 topics), 10 progress rows (100,000 in all, 30% completed) and 3
// bookmarks. Catalog sizes default to 1,000 and 10,000 items; CONTENT_BENCH_SIZES=1000,10000,50000
// changes them. SQLite always runs; PostgreSQL runs when TEST_DATABASE_URL is set.
//
//	go test -run x -bench . -benchtime 2s ./content/

const (
	benchUsers           = 10_000
	benchProgressPerUser = 10
	benchBookmarksPerUse = 3
	benchPageSize        = 20
)

var benchTags = []string{
	"http", "cookies", "web", "security", "auth", "sessions", "cryptography", "databases", "sql", "performance",
	"api-design", "postgres", "oauth", "frontend", "go", "rust", "javascript", "typescript", "react", "css",
	"html", "accessibility", "testing", "ci", "docker", "kubernetes", "observability", "logging", "caching", "queues",
	"sqlite", "redis", "graphql", "rest", "grpc", "websockets", "networking", "dns", "tls", "linux",
}

type benchEnv struct {
	s     *Service
	users []string
	slugs []string
}

func BenchmarkContent(b *testing.B) {
	sizes := []int{1000, 10000}
	if v := os.Getenv("CONTENT_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 100 {
				b.Fatalf("CONTENT_BENCH_SIZES: bad size %q", f)
			}
			sizes = append(sizes, n)
		}
	}
	dialects := []string{"sqlite"}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		dialects = append(dialects, "postgres")
	}
	ctx := context.Background()
	for _, d := range dialects {
		for _, n := range sizes {
			env := seedBench(b, openBenchStore(b, d), n)
			name := fmt.Sprintf("%s/items=%d", d, n)

			b.Run(name+"/feed-first-page", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					page, err := env.s.Feed(ctx, env.users[i%len(env.users)], PageRequest{Limit: benchPageSize})
					if err != nil || len(page.Items) != benchPageSize {
						b.Fatalf("Feed = %d items, %v", len(page.Items), err)
					}
					i++
				}
			})

			// The fifth page, through the cursors a client would send.
			cursors := make([]string, 64)
			for u := range cursors {
				cur := ""
				for range 4 {
					page, err := env.s.Feed(ctx, env.users[u], PageRequest{Cursor: cur, Limit: benchPageSize})
					if err != nil {
						b.Fatal(err)
					}
					cur = page.NextCursor
				}
				cursors[u] = cur
			}
			b.Run(name+"/feed-page-5", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					u := i % len(cursors)
					page, err := env.s.Feed(ctx, env.users[u], PageRequest{Cursor: cursors[u], Limit: benchPageSize})
					if err != nil || len(page.Items) != benchPageSize {
						b.Fatalf("Feed page 5 = %d items, %v", len(page.Items), err)
					}
					i++
				}
			})

			b.Run(name+"/item", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					it, err := env.s.Item(ctx, env.users[i%len(env.users)], env.slugs[(i*7919)%len(env.slugs)])
					if err != nil || it.HTML == "" {
						b.Fatalf("Item = %v", err)
					}
					i++
				}
			})

			b.Run(name+"/public-list", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					page, err := env.s.PublicItems(ctx, "", PageRequest{Limit: benchPageSize})
					if err != nil || len(page.Items) != benchPageSize {
						b.Fatalf("PublicItems = %d, %v", len(page.Items), err)
					}
				}
			})
		}
	}
}

// openBenchStore opens an empty, migrated database of the dialect, removed when the benchmark ends.
func openBenchStore(b *testing.B, dialect string) *store.Store {
	b.Helper()
	ctx := context.Background()
	u := "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
	if dialect == "postgres" {
		admin, err := store.Open(ctx, store.Config{URL: os.Getenv("TEST_DATABASE_URL"), MaxOpenConns: 1})
		if err != nil {
			b.Fatal(err)
		}
		raw := make([]byte, 6)
		_, _ = crand.Read(raw)
		name := "bench_" + hex.EncodeToString(raw)
		if err := admin.ExecAdmin(ctx, fmt.Sprintf(`create database %q`, name)); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_ = admin.ExecAdmin(context.Background(), fmt.Sprintf(`drop database if exists %q with (force)`, name))
			_ = admin.Close()
		})
		parsed, _ := url.Parse(os.Getenv("TEST_DATABASE_URL"))
		parsed.Path = "/" + name
		u = parsed.String()
	}
	st, err := store.Open(ctx, store.Config{URL: u})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return st
}

// seedBench fills st with nItems items built from the sample articles and benchUsers readers.
func seedBench(b *testing.B, st *store.Store, nItems int) benchEnv {
	b.Helper()
	ctx := context.Background()
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	s := New(Config{PageSize: benchPageSize, Now: func() time.Time { return now }}, st)
	fsys, _, err := s.source()
	if err != nil {
		b.Fatal(err)
	}
	samples, _, err := s.load(fsys, nil)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, uint64(nItems)))
	levels := []string{"beginner", "intermediate", "advanced", "beginner", "intermediate", "advanced", "beginner", "intermediate", "advanced", AllLevels}
	start := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	span := now.Sub(start)
	items := make([]store.ContentItem, nItems)
	var tags []store.ContentItemTag
	slugs := make([]string, nItems)
	for i := range items {
		base := samples[i%len(samples)]
		it := base
		it.Slug = fmt.Sprintf("%s-%05d", base.Slug, i)
		it.Title = fmt.Sprintf("%s (%d)", base.Title, i)
		it.Level = levels[rng.IntN(len(levels))]
		switch r := rng.IntN(100); {
		case r < 85:
			it.Language = "en"
		case r < 93:
			it.Language = "es"
		default:
			it.Language = "fr"
		}
		it.PublishedAt = store.NewTime(start.Add(time.Duration(rng.Int64N(int64(span)))))
		it.CreatedAt, it.UpdatedAt = store.NewTime(now), store.NewTime(now)
		items[i] = it
		slugs[i] = it.Slug
		for _, k := range rng.Perm(len(benchTags))[:2+rng.IntN(3)] {
			tags = append(tags, store.ContentItemTag{Tag: benchTags[k], Slug: it.Slug})
		}
	}
	err = st.Tx(ctx, func(tx *store.Store) error { return tx.SaveContentItems(ctx, items, tags) })
	if err != nil {
		b.Fatal(err)
	}

	users := make([]string, benchUsers)
	var profiles []store.ContentProfile
	var progress []store.ContentProgress
	var bookmarks []store.ContentBookmark
	ts := store.NewTime(now)
	err = st.Tx(ctx, func(tx *store.Store) error {
		for u := range users {
			id := fmt.Sprintf("bench-user-%05d", u)
			users[u] = id
			if err := tx.CreateUser(ctx, &store.User{ID: id, Name: "Reader", Email: id + "@example.com", CreatedAt: ts, UpdatedAt: ts}); err != nil {
				return err
			}
			var topics []string
			for _, k := range rng.Perm(len(benchTags))[:3] {
				topics = append(topics, benchTags[k])
			}
			tj, _ := json.Marshal(topics)
			lang := "en"
			if u%10 == 0 {
				lang = "es"
			}
			profiles = append(profiles, store.ContentProfile{UserID: id, Level: string(Levels[u%3]), Topics: string(tj), Language: lang, CreatedAt: ts, UpdatedAt: ts})
			picked := map[int]bool{}
			for len(picked) < benchProgressPerUser+benchBookmarksPerUse {
				k := rng.IntN(nItems)
				if picked[k] {
					continue
				}
				picked[k] = true
				if len(picked) > benchProgressPerUser {
					bookmarks = append(bookmarks, store.ContentBookmark{UserID: id, Slug: slugs[k], CreatedAt: ts})
					continue
				}
				done := rng.IntN(10) < 3
				pct := rng.IntN(100)
				var at *store.Time
				if done {
					pct, at = 100, &ts
				}
				progress = append(progress, store.ContentProgress{UserID: id, Slug: slugs[k], Percent: pct, Completed: done, CompletedAt: at, CreatedAt: ts, UpdatedAt: ts})
			}
		}
		if err := tx.SaveContentProfileBatch(ctx, profiles); err != nil {
			return err
		}
		if err := tx.SaveContentProgressBatch(ctx, progress); err != nil {
			return err
		}
		return tx.SaveContentBookmarkBatch(ctx, bookmarks)
	})
	if err != nil {
		b.Fatal(err)
	}
	// Fresh tables have no planner statistics yet, and on PostgreSQL no visibility map (needed for
	// the feed's index-only scan); autovacuum would provide both soon after a load this size, so do
	// what it would do rather than measure a state a running server leaves within a minute.
	maintenance := "analyze"
	if st.Dialect() == store.Postgres {
		maintenance = "vacuum analyze"
	}
	if err := st.ExecAdmin(ctx, maintenance); err != nil {
		b.Fatal(err)
	}
	return benchEnv{s: s, users: users, slugs: slugs}
}
