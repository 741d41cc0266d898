package content

import (
	"context"
	"strings"
	"time"

	"authserver/store"
)

// Summary is what lists show of an item.
type Summary struct {
	Slug           string
	Title          string
	Summary        string
	Tags           []string
	Level          string // beginner, intermediate, advanced, or "all"
	Language       string // base language, such as "en"
	ReadingMinutes int
	PublishedAt    time.Time
}

// Item is one item rendered for a reader (or for a visitor).
type Item struct {
	Summary
	// HTML is the sanitized body: the shared parts and, for a reader, the sections for their level;
	// for a visitor, every section. Level sections are wrapped in
	// <section class="level-section" data-level="...">.
	HTML string
	// Levels lists the levels the body has sections for (empty when it has none).
	Levels []string
	// ShownLevel is the level whose sections HTML holds; "" in the public view.
	ShownLevel Level
	// Progress is the reader's progress, nil when they have none (and always in the public view).
	Progress *Progress
	// BookmarkedAt is when the reader bookmarked the item, nil when they did not.
	BookmarkedAt *time.Time
}

// ItemPage is one page of the public list.
type ItemPage struct {
	Items []Summary
	// NextCursor continues the list; empty on the last page.
	NextCursor string
}

// PublicItems lists visible items for visitors, newest first (then by slug), optionally only those
// with a tag. A tag no column can hold is a *ValidationError.
func (s *Service) PublicItems(ctx context.Context, tag string, page PageRequest) (ItemPage, error) {
	if !store.ValidText(tag) {
		return ItemPage{}, invalid("query.tag", textMessage)
	}
	c, err := decodeCursor(page.Cursor, listItems)
	if err != nil {
		return ItemPage{}, err
	}
	limit := s.limit(page.Limit)
	rows, err := s.st.ContentItems(ctx, store.ContentListQuery{Tag: strings.ToLower(strings.TrimSpace(tag)), After: c.timeKey(), Limit: limit + 1})
	if err != nil {
		return ItemPage{}, err
	}
	out := ItemPage{Items: []Summary{}}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		out.NextCursor = cursor{List: listItems, At: last.PublishedAt.String(), Slug: last.Slug}.encode()
	}
	tags, err := s.withTags(ctx, summarySlugs(rows, func(r store.ContentSummary) string { return r.Slug }))
	if err != nil {
		return ItemPage{}, err
	}
	for _, r := range rows {
		out.Items = append(out.Items, newSummary(r, tags[r.Slug]))
	}
	return out, nil
}

// PublicItem renders an item for a visitor: every level section, no reader state.
func (s *Service) PublicItem(ctx context.Context, slug string) (Item, error) {
	row, err := s.st.ContentItemBySlug(ctx, slug)
	if err != nil {
		return Item{}, notFound(err)
	}
	return s.item(ctx, row, "")
}

// Item renders an item for a reader: the shared parts and the sections for the reader's level
// (beginner when they have no profile), with their progress and bookmark.
func (s *Service) Item(ctx context.Context, userID, slug string) (Item, error) {
	view, err := s.st.ContentItemForUser(ctx, userID, slug)
	if err != nil {
		return Item{}, notFound(err)
	}
	prof, err := s.Profile(ctx, userID)
	if err != nil {
		return Item{}, err
	}
	it, err := s.item(ctx, &view.ContentItem, prof.Level)
	if err != nil {
		return Item{}, err
	}
	if view.Percent != nil {
		p := Progress{Slug: view.Slug, Title: view.Title, Percent: *view.Percent, Completed: view.Completed != nil && *view.Completed}
		if view.CompletedAt != nil && !view.CompletedAt.IsZero() {
			t := view.CompletedAt.Time
			p.CompletedAt = &t
		}
		if view.ProgressAt != nil {
			p.UpdatedAt = view.ProgressAt.Time
		}
		it.Progress = &p
	}
	if view.BookmarkedAt != nil && !view.BookmarkedAt.IsZero() {
		t := view.BookmarkedAt.Time
		it.BookmarkedAt = &t
	}
	return it, nil
}

func (s *Service) item(ctx context.Context, row *store.ContentItem, level Level) (Item, error) {
	tags, err := s.withTags(ctx, []string{row.Slug})
	if err != nil {
		return Item{}, err
	}
	html, levels, err := assemble(row.Sections, level)
	if err != nil {
		return Item{}, err
	}
	sum := newSummary(store.ContentSummary{Slug: row.Slug, Title: row.Title, Summary: row.Summary, Level: row.Level,
		Language: row.Language, ReadingMinutes: row.ReadingMinutes, PublishedAt: row.PublishedAt}, tags[row.Slug])
	return Item{Summary: sum, HTML: html, Levels: levels, ShownLevel: level}, nil
}

func newSummary(r store.ContentSummary, tags []string) Summary {
	if tags == nil {
		tags = []string{}
	}
	return Summary{Slug: r.Slug, Title: r.Title, Summary: r.Summary, Tags: tags, Level: r.Level, Language: r.Language,
		ReadingMinutes: r.ReadingMinutes, PublishedAt: r.PublishedAt.Time}
}

func summarySlugs[T any](rows []T, slug func(T) string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = slug(r)
	}
	return out
}
