package content

import (
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"authserver/store"
)

// feedWeights are the points an item earns toward its feed score. Language weighs most (an
// article the reader cannot read helps nobody), then each interest matched, then level.
var feedWeights = store.FeedWeights{Tag: 3, Level: 2, NearLevel: 1, Language: 4}

// recentFor is how new an item must be for "published recently" to explain an otherwise unmatched pick.
const recentFor = 30 * 24 * time.Hour

// FeedEntry is one ranked item with why it was picked and the reader's state on it.
type FeedEntry struct {
	Summary
	// Score is the item's rank score: the match weights summed over the matches with the profile.
	Score int
	// Reasons explain the score in words, such as "matches your interest in databases".
	Reasons []string
	// Percent is the reader's progress, nil when they never opened the item.
	Percent *int
	// Completed items rank after every unfinished one.
	Completed bool
	// Bookmarked tells whether the reader saved the item.
	Bookmarked bool
}

// FeedPage is one page of a reader's feed.
type FeedPage struct {
	Items []FeedEntry
	// NextCursor continues the feed; empty on the last page.
	NextCursor string
}

// Feed ranks the visible catalog for a reader and returns one page. The order is: unfinished
// before finished, then score (interests, level and language matched against the profile, or the
// default profile) descending, then newer before older, then slug — a total order, so the same data
// always gives the same pages. Ranking and paging happen in SQL (keyset on those four values);
// only the page's rows and their tags are read.
func (s *Service) Feed(ctx context.Context, userID string, page PageRequest) (FeedPage, error) {
	c, err := decodeCursor(page.Cursor, listFeed)
	if err != nil {
		return FeedPage{}, err
	}
	prof, err := s.Profile(ctx, userID)
	if err != nil {
		return FeedPage{}, err
	}
	limit := s.limit(page.Limit)
	q := store.FeedQuery{
		UserID:     userID,
		Topics:     prof.Topics,
		Level:      string(prof.Level),
		NearLevels: prof.Level.near(),
		Language:   prof.Language,
		Weights:    feedWeights,
		Limit:      limit + 1,
	}
	if c != nil {
		q.After = &store.FeedKey{Finished: c.Finished, Score: c.Score, PublishedAt: c.at(), Slug: c.Slug}
	}
	rows, err := s.st.ContentFeed(ctx, q)
	if err != nil {
		return FeedPage{}, err
	}
	out := FeedPage{Items: []FeedEntry{}}
	if len(rows) > limit {
		rows = rows[:limit]
		k := rows[limit-1].Key()
		out.NextCursor = cursor{List: listFeed, Finished: k.Finished, Score: k.Score, At: k.PublishedAt.String(), Slug: k.Slug}.encode()
	}
	tags, err := s.withTags(ctx, summarySlugs(rows, func(r store.FeedRow) string { return r.Slug }))
	if err != nil {
		return FeedPage{}, err
	}
	now := s.cfg.Now()
	for _, r := range rows {
		e := FeedEntry{
			Summary:    newSummary(r.ContentSummary, tags[r.Slug]),
			Score:      r.Score,
			Percent:    r.Percent,
			Completed:  r.Finished != 0,
			Bookmarked: r.BookmarkedAt != nil && !r.BookmarkedAt.IsZero(),
		}
		e.Reasons = reasons(r, e.Tags, prof, now)
		out.Items = append(out.Items, e)
	}
	return out, nil
}

// reasons words the parts of a row's score, in the order they weigh with the reader: interests
// (in the order the reader listed them), level, language.
func reasons(r store.FeedRow, tags []string, prof Profile, now time.Time) []string {
	out := []string{}
	for _, t := range prof.Topics {
		if slices.Contains(tags, t) {
			out = append(out, "matches your interest in "+t)
		}
	}
	switch {
	case r.LevelScore == feedWeights.Level && r.Level == AllLevels:
		out = append(out, "suits every level")
	case r.LevelScore == feedWeights.Level:
		out = append(out, fmt.Sprintf("written for your level (%s)", prof.Level))
	case r.LevelScore == feedWeights.NearLevel && Level(r.Level).rank() > prof.Level.rank():
		out = append(out, fmt.Sprintf("one step above your level (%s)", r.Level))
	case r.LevelScore == feedWeights.NearLevel:
		out = append(out, fmt.Sprintf("one step below your level (%s), good for review", r.Level))
	}
	if r.LanguageMatch != 0 {
		out = append(out, fmt.Sprintf("in your language (%s)", languageName(r.Language)))
	}
	if len(out) == 0 {
		if now.Sub(r.PublishedAt.Time) < recentFor {
			out = append(out, "published recently")
		} else {
			out = append(out, "more from the catalog")
		}
	}
	return out
}

// languageName is the English name of a base language ("es" → "Spanish"), or the code itself.
func languageName(code string) string {
	t, err := language.Parse(code)
	if err != nil {
		return code
	}
	if name := display.English.Languages().Name(t); name != "" {
		return name
	}
	return code
}
