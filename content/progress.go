package content

import (
	"context"
	"errors"
	"time"

	"authserver/store"
)

// Progress is how far a reader got in one item.
type Progress struct {
	Slug        string
	Title       string
	Percent     int // 0 to 100
	Completed   bool
	CompletedAt *time.Time // when the item was last marked completed; nil while it is not
	UpdatedAt   time.Time
}

// ProgressUpdate sets a reader's progress. At least one field must be set; nil fields keep their
// current value.
//
// Completed is sticky: reaching 100 percent marks the item completed, and scrolling back later
// (a lower percent) keeps it completed; only "completed": false clears it. Marking an item
// completed sets the percent to 100.
type ProgressUpdate struct {
	Percent   *int  `json:"percent" validate:"omitnil,min=0,max=100"`
	Completed *bool `json:"completed"`
}

// ProgressPage is one page of a reader's progress list.
type ProgressPage struct {
	Items      []Progress
	NextCursor string
}

// SetProgress records a reader's progress on a visible item. Sending the same update again changes
// nothing (not even the update time). Unknown or hidden slugs give ErrNotFound.
func (s *Service) SetProgress(ctx context.Context, userID, slug string, in ProgressUpdate) (Progress, error) {
	if in.Percent == nil && in.Completed == nil {
		return Progress{}, invalid("body", "must set percent or completed")
	}
	if err := s.validate.StructCtx(ctx, in); err != nil {
		return Progress{}, describeAll(err, "body.")
	}
	title, err := s.st.ContentItemTitle(ctx, slug)
	if err != nil {
		return Progress{}, notFound(err)
	}
	now := s.now()
	cur, err := s.st.ContentProgressOf(ctx, userID, slug)
	fresh := errors.Is(err, store.ErrNotFound)
	if err != nil && !fresh {
		return Progress{}, err
	}
	if fresh {
		cur = &store.ContentProgress{UserID: userID, Slug: slug, CreatedAt: now}
	}
	next := *cur
	if in.Percent != nil {
		next.Percent = *in.Percent
	}
	switch {
	case in.Completed != nil:
		next.Completed = *in.Completed
		if next.Completed {
			next.Percent = 100
		}
	case next.Percent == 100:
		next.Completed = true
	}
	switch {
	case !next.Completed:
		next.CompletedAt = nil
	case !cur.Completed || cur.CompletedAt == nil:
		next.CompletedAt = &now
	}
	if !fresh && next.Percent == cur.Percent && next.Completed == cur.Completed {
		return newProgress(cur, title), nil
	}
	next.UpdatedAt = now
	if err := s.st.SaveContentProgress(ctx, &next); err != nil {
		return Progress{}, err
	}
	return newProgress(&next, title), nil
}

// ProgressList lists a reader's progress on visible items, most recently updated first. Progress on
// hidden items is kept and shows again when the item returns.
func (s *Service) ProgressList(ctx context.Context, userID string, page PageRequest) (ProgressPage, error) {
	c, err := decodeCursor(page.Cursor, listProgress)
	if err != nil {
		return ProgressPage{}, err
	}
	limit := s.limit(page.Limit)
	rows, err := s.st.ContentProgressList(ctx, userID, c.timeKey(), limit+1)
	if err != nil {
		return ProgressPage{}, err
	}
	out := ProgressPage{Items: []Progress{}}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		out.NextCursor = cursor{List: listProgress, At: last.UpdatedAt.String(), Slug: last.Slug}.encode()
	}
	for i := range rows {
		out.Items = append(out.Items, newProgress(&rows[i].ContentProgress, rows[i].Title))
	}
	return out, nil
}

func newProgress(p *store.ContentProgress, title string) Progress {
	out := Progress{Slug: p.Slug, Title: title, Percent: p.Percent, Completed: p.Completed, UpdatedAt: p.UpdatedAt.Time}
	if p.Completed && p.CompletedAt != nil && !p.CompletedAt.IsZero() {
		t := p.CompletedAt.Time
		out.CompletedAt = &t
	}
	return out
}

// Bookmark is a saved item.
type Bookmark struct {
	Summary
	BookmarkedAt time.Time
}

// BookmarkPage is one page of a reader's bookmarks.
type BookmarkPage struct {
	Items      []Bookmark
	NextCursor string
}

// AddBookmark saves a visible item for the reader and returns when it was (first) saved; saving it
// again changes nothing. Unknown or hidden slugs give ErrNotFound.
func (s *Service) AddBookmark(ctx context.Context, userID, slug string) (time.Time, error) {
	if _, err := s.st.ContentItemTitle(ctx, slug); err != nil {
		return time.Time{}, notFound(err)
	}
	b, err := s.st.AddContentBookmark(ctx, &store.ContentBookmark{UserID: userID, Slug: slug, CreatedAt: s.now()})
	if err != nil {
		return time.Time{}, err
	}
	return b.CreatedAt.Time, nil
}

// RemoveBookmark forgets a bookmark; removing one that is not there is not an error. A slug that
// names no item (visible or hidden) and no bookmark gives ErrNotFound, so a reader can still
// remove the bookmark of an item that left the catalog.
func (s *Service) RemoveBookmark(ctx context.Context, userID, slug string) error {
	removed, err := s.st.DeleteContentBookmark(ctx, userID, slug)
	if err != nil || removed {
		return err
	}
	exists, err := s.st.ContentItemExists(ctx, slug)
	if err != nil {
		return err
	}
	if !exists {
		return ErrNotFound
	}
	return nil
}

// Bookmarks lists a reader's bookmarks on visible items, newest first. Bookmarks on hidden items
// are kept and show again when the item returns.
func (s *Service) Bookmarks(ctx context.Context, userID string, page PageRequest) (BookmarkPage, error) {
	c, err := decodeCursor(page.Cursor, listBookmarks)
	if err != nil {
		return BookmarkPage{}, err
	}
	limit := s.limit(page.Limit)
	rows, err := s.st.ContentBookmarks(ctx, userID, c.timeKey(), limit+1)
	if err != nil {
		return BookmarkPage{}, err
	}
	out := BookmarkPage{Items: []Bookmark{}}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		out.NextCursor = cursor{List: listBookmarks, At: last.BookmarkedAt.String(), Slug: last.Slug}.encode()
	}
	tags, err := s.withTags(ctx, summarySlugs(rows, func(r store.ContentBookmarkRow) string { return r.Slug }))
	if err != nil {
		return BookmarkPage{}, err
	}
	for _, r := range rows {
		out.Items = append(out.Items, Bookmark{Summary: newSummary(r.ContentSummary, tags[r.Slug]), BookmarkedAt: r.BookmarkedAt.Time})
	}
	return out, nil
}

// Group is the reading group (organization) a session has active.
type Group struct {
	ID   string
	Name string
}

// GroupBookmark is an item a member of the reader's active group saved.
type GroupBookmark struct {
	Summary
	BookmarkedAt time.Time
	// ByID and ByName say which member saved it (the reader too, when it was them).
	ByID, ByName string
}

// GroupBookmarks is what the members of the reader's active group saved lately.
type GroupBookmarks struct {
	// Group is nil when the session has no active group; Items is then empty.
	Group *Group
	Items []GroupBookmark
}

// GroupBookmarks lists the newest bookmarks (at most the page limit; no further pages) of the
// members of the group the session sessionID has active, reader included. The group comes from
// the session row and counts only while userID is a member of it; without one (or with the
// organization plugin off) the answer is no group and no items, not an error.
func (s *Service) GroupBookmarks(ctx context.Context, userID, sessionID string, limit int) (GroupBookmarks, error) {
	out := GroupBookmarks{Items: []GroupBookmark{}}
	g, err := s.st.ContentActiveGroup(ctx, sessionID)
	if err != nil || g == nil {
		return out, err
	}
	out.Group = &Group{ID: g.ID, Name: g.Name}
	rows, err := s.st.ContentGroupBookmarks(ctx, g.ID, userID, s.limit(limit))
	if err != nil {
		return GroupBookmarks{}, err
	}
	tags, err := s.withTags(ctx, summarySlugs(rows, func(r store.ContentGroupBookmarkRow) string { return r.Slug }))
	if err != nil {
		return GroupBookmarks{}, err
	}
	for _, r := range rows {
		out.Items = append(out.Items, GroupBookmark{Summary: newSummary(r.ContentSummary, tags[r.Slug]),
			BookmarkedAt: r.BookmarkedAt.Time, ByID: r.UserID, ByName: r.UserName})
	}
	return out, nil
}
