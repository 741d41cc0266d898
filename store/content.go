package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm/clause"
)

// ContentItem is a row of "content_item": one article of the catalog. Items that left the
// content folder stay as rows with Removed set, so progress and bookmarks that name them survive
// a reload and come back with the item.
type ContentItem struct {
	Slug           string `gorm:"column:slug;primaryKey"`
	Title          string `gorm:"column:title"`
	Summary        string `gorm:"column:summary"`
	Body           string `gorm:"column:body"`
	Sections       string `gorm:"column:sections"` // the rendered, sanitized sections as JSON (package content owns the format)
	Level          string `gorm:"column:level"`
	Language       string `gorm:"column:language"`
	ReadingMinutes int    `gorm:"column:readingMinutes"`
	PublishedAt    Time   `gorm:"column:publishedAt"`
	Hash           string `gorm:"column:hash"`
	Removed        bool   `gorm:"column:removed"`
	CreatedAt      Time   `gorm:"column:createdAt;autoCreateTime:false"`
	UpdatedAt      Time   `gorm:"column:updatedAt;autoUpdateTime:false"`
}

// TableName maps ContentItem onto its table.
func (ContentItem) TableName() string { return "content_item" }

// ContentItemTag is a row of "content_item_tag": one tag of one item. The feed counts a user's
// interests among an item's tags through this table's (tag, slug) primary key.
type ContentItemTag struct {
	Tag  string `gorm:"column:tag;primaryKey"`
	Slug string `gorm:"column:slug;primaryKey"`
}

// TableName maps ContentItemTag onto its table.
func (ContentItemTag) TableName() string { return "content_item_tag" }

// ContentProfile is a row of "content_profile": a user's personalization settings. Topics holds a
// JSON array of tags.
type ContentProfile struct {
	UserID     string `gorm:"column:userId;primaryKey"`
	Level      string `gorm:"column:level"`
	Topics     string `gorm:"column:topics"`
	Language   string `gorm:"column:language"`
	Background string `gorm:"column:background"`
	Goals      string `gorm:"column:goals"`
	CreatedAt  Time   `gorm:"column:createdAt;autoCreateTime:false"`
	UpdatedAt  Time   `gorm:"column:updatedAt;autoUpdateTime:false"`
}

// TableName maps ContentProfile onto its table.
func (ContentProfile) TableName() string { return "content_profile" }

// ContentProgress is a row of "content_progress": how far a user got in one item.
type ContentProgress struct {
	UserID      string `gorm:"column:userId;primaryKey"`
	Slug        string `gorm:"column:slug;primaryKey"`
	Percent     int    `gorm:"column:percent"`
	Completed   bool   `gorm:"column:completed"`
	CompletedAt *Time  `gorm:"column:completedAt"`
	CreatedAt   Time   `gorm:"column:createdAt;autoCreateTime:false"`
	UpdatedAt   Time   `gorm:"column:updatedAt;autoUpdateTime:false"`
}

// TableName maps ContentProgress onto its table.
func (ContentProgress) TableName() string { return "content_progress" }

// ContentBookmark is a row of "content_bookmark": an item a user saved.
type ContentBookmark struct {
	UserID    string `gorm:"column:userId;primaryKey"`
	Slug      string `gorm:"column:slug;primaryKey"`
	CreatedAt Time   `gorm:"column:createdAt;autoCreateTime:false"`
}

// TableName maps ContentBookmark onto its table.
func (ContentBookmark) TableName() string { return "content_bookmark" }

// ContentSummary is the part of an item that lists show: everything but the body.
type ContentSummary struct {
	Slug           string `gorm:"column:slug"`
	Title          string `gorm:"column:title"`
	Summary        string `gorm:"column:summary"`
	Level          string `gorm:"column:level"`
	Language       string `gorm:"column:language"`
	ReadingMinutes int    `gorm:"column:readingMinutes"`
	PublishedAt    Time   `gorm:"column:publishedAt"`
}

// summaryColumns selects a ContentSummary from "content_item" aliased as i.
const summaryColumns = `i."slug", i."title", i."summary", i."level", i."language", i."readingMinutes", i."publishedAt"`

// ContentItemState is what a catalog sync compares: the stored hash and whether the item is hidden.
type ContentItemState struct {
	Slug    string `gorm:"column:slug"`
	Hash    string `gorm:"column:hash"`
	Removed bool   `gorm:"column:removed"`
}

// ContentItemStates returns the sync state of every item, hidden ones included. Only catalog syncs
// call it; request paths never load the whole catalog.
func (s *Store) ContentItemStates(ctx context.Context) ([]ContentItemState, error) {
	var out []ContentItemState
	if err := s.conn(ctx).Model(&ContentItem{}).Select(`"slug", "hash", "removed"`).Order(`"slug"`).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: content item states: %w", classify(err))
	}
	return out, nil
}

// contentBatch bounds the rows of one multi-row statement, well under SQLite's and PostgreSQL's
// limits on bound parameters.
const contentBatch = 400

// SaveContentItems inserts or replaces the given items (visible again, createdAt kept for existing
// rows) and replaces their tags with the given ones. Call it inside Tx so that a sync applies as a
// whole.
func (s *Store) SaveContentItems(ctx context.Context, items []ContentItem, tags []ContentItemTag) error {
	if len(items) == 0 {
		return nil
	}
	db := s.conn(ctx)
	upsert := clause.OnConflict{
		Columns: []clause.Column{{Name: "slug"}},
		DoUpdates: clause.AssignmentColumns([]string{"title", "summary", "body", "sections", "level", "language",
			"readingMinutes", "publishedAt", "hash", "removed", "updatedAt"}),
	}
	if err := db.Clauses(upsert).CreateInBatches(items, contentBatch).Error; err != nil {
		return fmt.Errorf("store: save content items: %w", classify(err))
	}
	slugs := make([]string, len(items))
	for i, it := range items {
		slugs[i] = it.Slug
	}
	for start := 0; start < len(slugs); start += contentBatch {
		end := min(start+contentBatch, len(slugs))
		if err := db.Where(`"slug" in ?`, slugs[start:end]).Delete(&ContentItemTag{}).Error; err != nil {
			return fmt.Errorf("store: replace content tags: %w", classify(err))
		}
	}
	if len(tags) == 0 {
		return nil
	}
	// DoNothing: two replicas syncing the same change at once both delete and re-insert the same
	// tags; the second must not fail on the first one's rows.
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(tags, contentBatch).Error; err != nil {
		return fmt.Errorf("store: save content tags: %w", classify(err))
	}
	return nil
}

// HideContentItems marks the items removed from the catalog. Their rows, and every user's progress
// and bookmarks on them, stay; a later sync that finds the file again shows them again.
func (s *Store) HideContentItems(ctx context.Context, slugs []string, now Time) error {
	for start := 0; start < len(slugs); start += contentBatch {
		end := min(start+contentBatch, len(slugs))
		err := s.conn(ctx).Model(&ContentItem{}).Where(`"slug" in ?`, slugs[start:end]).
			Updates(map[string]any{"removed": true, "updatedAt": now}).Error
		if err != nil {
			return fmt.Errorf("store: hide content items: %w", classify(err))
		}
	}
	return nil
}

// itemColumns are the columns of content_item (aliased i) that serving an item needs: all but
// the Markdown source, which only syncs use.
const itemColumns = `i."slug", i."title", i."summary", i."level", i."language", i."readingMinutes", i."publishedAt", i."hash", i."removed", i."createdAt", i."updatedAt", i."sections"`

// ContentItemBySlug returns a visible item without its Markdown source (Body is empty). Hidden and
// unknown slugs give ErrNotFound.
func (s *Store) ContentItemBySlug(ctx context.Context, slug string) (*ContentItem, error) {
	if !ValidText(slug) {
		return nil, notFound("content item")
	}
	var it ContentItem
	err := s.conn(ctx).Table(`"content_item" i`).Select(itemColumns).
		Where(`i."slug" = ? and i."removed" = ?`, slug, false).Take(&it).Error
	if err != nil {
		return nil, fmt.Errorf("store: content item: %w", classify(err))
	}
	return &it, nil
}

// ContentItemTitle returns the title of a visible item. Hidden and unknown slugs give ErrNotFound.
func (s *Store) ContentItemTitle(ctx context.Context, slug string) (string, error) {
	if !ValidText(slug) {
		return "", notFound("content item title")
	}
	var titles []string
	err := s.conn(ctx).Model(&ContentItem{}).Where(`"slug" = ? and "removed" = ?`, slug, false).Limit(1).Pluck("title", &titles).Error
	if err != nil {
		return "", fmt.Errorf("store: content item title: %w", classify(err))
	}
	if len(titles) == 0 {
		return "", fmt.Errorf("store: content item title: %w", ErrNotFound)
	}
	return titles[0], nil
}

// ContentItemExists reports whether a row for the slug exists, visible or hidden.
func (s *Store) ContentItemExists(ctx context.Context, slug string) (bool, error) {
	if !ValidText(slug) {
		return false, nil
	}
	var n int64
	if err := s.conn(ctx).Model(&ContentItem{}).Where(`"slug" = ?`, slug).Count(&n).Error; err != nil {
		return false, fmt.Errorf("store: content item exists: %w", classify(err))
	}
	return n > 0, nil
}

// ContentItemView is a visible item with one user's progress and bookmark on it.
type ContentItemView struct {
	ContentItem  `gorm:"embedded"`
	Percent      *int  `gorm:"column:progressPercent"`
	Completed    *bool `gorm:"column:progressCompleted"`
	CompletedAt  *Time `gorm:"column:progressCompletedAt"`
	ProgressAt   *Time `gorm:"column:progressUpdatedAt"`
	BookmarkedAt *Time `gorm:"column:bookmarkedAt"`
}

// ContentItemForUser returns a visible item (without its Markdown source) together with the
// user's progress and bookmark, in one query. Hidden and unknown slugs give ErrNotFound.
func (s *Store) ContentItemForUser(ctx context.Context, userID, slug string) (*ContentItemView, error) {
	if !ValidText(slug) {
		return nil, notFound("content item for user")
	}
	var out []ContentItemView
	err := s.conn(ctx).Raw(`select `+itemColumns+`, p."percent" as "progressPercent", p."completed" as "progressCompleted",
		p."completedAt" as "progressCompletedAt", p."updatedAt" as "progressUpdatedAt", b."createdAt" as "bookmarkedAt"
		from "content_item" i
		left join "content_progress" p on p."userId" = ? and p."slug" = i."slug"
		left join "content_bookmark" b on b."userId" = ? and b."slug" = i."slug"
		where i."slug" = ? and i."removed" = ?`, userID, userID, slug, false).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: content item for user: %w", classify(err))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("store: content item for user: %w", ErrNotFound)
	}
	return &out[0], nil
}

// ContentTags returns the tags of the given items, each list sorted.
func (s *Store) ContentTags(ctx context.Context, slugs []string) (map[string][]string, error) {
	out := make(map[string][]string, len(slugs))
	if len(slugs) == 0 {
		return out, nil
	}
	var rows []ContentItemTag
	for start := 0; start < len(slugs); start += contentBatch {
		end := min(start+contentBatch, len(slugs))
		var part []ContentItemTag
		if err := s.conn(ctx).Where(`"slug" in ?`, slugs[start:end]).Order(`"slug"`).Order(`"tag"`).Find(&part).Error; err != nil {
			return nil, fmt.Errorf("store: content tags: %w", classify(err))
		}
		rows = append(rows, part...)
	}
	for _, r := range rows {
		out[r.Slug] = append(out[r.Slug], r.Tag)
	}
	return out, nil
}

// ContentCatalogTags returns the distinct tags of visible items, sorted: the topics a profile may
// choose from.
func (s *Store) ContentCatalogTags(ctx context.Context) ([]string, error) {
	var out []string
	err := s.conn(ctx).Raw(`select distinct t."tag" from "content_item_tag" t
		join "content_item" i on i."slug" = t."slug" and i."removed" = ?
		order by t."tag"`, false).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: content catalog tags: %w", classify(err))
	}
	return out, nil
}

// TimeKey is a keyset position in a list ordered by a time descending, then slug ascending.
type TimeKey struct {
	At   Time
	Slug string
}

// ContentListQuery asks for one page of visible items, newest first.
type ContentListQuery struct {
	Tag   string   // only items with this tag; empty for all
	After *TimeKey // the last item of the previous page (publishedAt, slug); nil for the first page
	Limit int
}

// ContentItems returns one page of visible items ordered by publishedAt descending, then slug.
func (s *Store) ContentItems(ctx context.Context, q ContentListQuery) ([]ContentSummary, error) {
	db := s.conn(ctx).Table(`"content_item" i`).Select(summaryColumns).Where(`i."removed" = ?`, false)
	if q.Tag != "" {
		db = db.Where(`exists (select 1 from "content_item_tag" t where t."slug" = i."slug" and t."tag" = ?)`, q.Tag)
	}
	if q.After != nil {
		db = db.Where(`(i."publishedAt" < ? or (i."publishedAt" = ? and i."slug" > ?))`, q.After.At, q.After.At, q.After.Slug)
	}
	var out []ContentSummary
	if err := db.Order(`i."publishedAt" desc`).Order(`i."slug"`).Limit(q.Limit).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("store: content items: %w", classify(err))
	}
	return out, nil
}

// FeedWeights are the points an item scores for each kind of match with the reader's profile.
type FeedWeights struct {
	Tag       int // per tag of the item among the reader's topics
	Level     int // the item's level is the reader's (or "all")
	NearLevel int // the item's level is one step from the reader's
	Language  int // the item is in the reader's language
}

// FeedKey is a keyset position in the feed's order: unfinished before finished, then score
// descending, publishedAt descending, slug ascending.
type FeedKey struct {
	Finished    bool
	Score       int
	PublishedAt Time
	Slug        string
}

// FeedQuery asks for one page of a reader's feed.
type FeedQuery struct {
	UserID     string
	Topics     []string // the reader's interests (tags)
	Level      string   // the reader's level
	NearLevels []string // levels one step from Level
	Language   string
	Weights    FeedWeights
	After      *FeedKey // the last row of the previous page; nil for the first page
	Limit      int
}

// FeedRow is one ranked item with the parts of its score, so callers can explain it.
type FeedRow struct {
	ContentSummary `gorm:"embedded"`
	TagMatches     int   `gorm:"column:tagMatches"`
	LevelScore     int   `gorm:"column:levelScore"`
	LanguageMatch  int   `gorm:"column:languageMatch"`
	Score          int   `gorm:"column:score"`
	Finished       int   `gorm:"column:finished"`
	Percent        *int  `gorm:"column:progressPercent"`
	BookmarkedAt   *Time `gorm:"column:bookmarkedAt"`
}

// Key is the keyset position of the row.
func (r FeedRow) Key() FeedKey {
	return FeedKey{Finished: r.Finished != 0, Score: r.Score, PublishedAt: r.PublishedAt, Slug: r.Slug}
}

// ContentFeed ranks the visible items for one reader entirely in SQL and returns one page: the
// score adds the weights of the matches (interests through content_item_tag's primary key, level,
// language); finished items come last; ties go to the newer item, then to the smaller slug, so the
// order is total and the same data always gives the same pages. Only the page's rows leave the
// database.
func (s *Store) ContentFeed(ctx context.Context, q FeedQuery) ([]FeedRow, error) {
	w := q.Weights
	var args []any
	tagExpr := "0"
	tagJoin := ""
	if len(q.Topics) > 0 {
		tagExpr = `coalesce(m."n", 0)`
		tagJoin = `left join (select t."slug", count(*) as "n" from "content_item_tag" t where t."tag" in ? group by t."slug") m on m."slug" = i."slug"`
		args = append(args, q.Topics)
	}
	// Weights are integers chosen by code, never by a request, so they are written into the
	// statement; PostgreSQL could not infer the type of a parameter in every CASE branch.
	levelExpr := fmt.Sprintf(`(case when i."level" = ? or i."level" = 'all' then %d else 0 end)`, w.Level)
	levelArgs := []any{q.Level}
	if len(q.NearLevels) > 0 {
		levelExpr = fmt.Sprintf(`(case when i."level" = ? or i."level" = 'all' then %d when i."level" in ? then %d else 0 end)`, w.Level, w.NearLevel)
		levelArgs = append(levelArgs, q.NearLevels)
	}
	langExpr := `(case when i."language" = ? then 1 else 0 end)`
	// The ranking reads only columns of content_item_published_idx, so it scans that index and not
	// the wide rows; the page's titles and summaries are joined in afterwards.
	inner := fmt.Sprintf(`select i."slug", i."level", i."language", i."publishedAt",
		%s as "tagMatches", %s as "levelScore", %s as "languageMatch",
		(%s * %d + %s + %s * %d) as "score",
		(case when p."completed" then 1 else 0 end) as "finished",
		p."percent" as "progressPercent", b."createdAt" as "bookmarkedAt"
		from "content_item" i
		%s
		left join "content_progress" p on p."userId" = ? and p."slug" = i."slug"
		left join "content_bookmark" b on b."userId" = ? and b."slug" = i."slug"
		where i."removed" = ?`,
		tagExpr, levelExpr, langExpr, tagExpr, w.Tag, levelExpr, langExpr, w.Language, tagJoin)
	// Placeholders in statement order: levelScore, languageMatch, score's level and language, the
	// tag join, the two user joins, removed.
	selectArgs := append(append([]any{}, levelArgs...), q.Language)
	selectArgs = append(selectArgs, levelArgs...)
	selectArgs = append(selectArgs, q.Language)
	args = append(selectArgs, args...)
	args = append(args, q.UserID, q.UserID, false)

	const order = ` order by r."finished", r."score" desc, r."publishedAt" desc, r."slug"`
	var sb strings.Builder
	sb.WriteString(`select r.*, i."title", i."summary", i."readingMinutes" from (select * from (`)
	sb.WriteString(inner)
	sb.WriteString(`) r`)
	if k := q.After; k != nil {
		f := 0
		if k.Finished {
			f = 1
		}
		sb.WriteString(` where (r."finished" > ? or (r."finished" = ? and (r."score" < ? or (r."score" = ? and (r."publishedAt" < ? or (r."publishedAt" = ? and r."slug" > ?))))))`)
		args = append(args, f, f, k.Score, k.Score, k.PublishedAt, k.PublishedAt, k.Slug)
	}
	sb.WriteString(order + ` limit ?) r join "content_item" i on i."slug" = r."slug"` + order)
	args = append(args, q.Limit)

	var out []FeedRow
	if err := s.conn(ctx).Raw(sb.String(), args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("store: content feed: %w", classify(err))
	}
	return out, nil
}

// ContentProfileByUser returns the user's profile, or ErrNotFound when they never saved one.
func (s *Store) ContentProfileByUser(ctx context.Context, userID string) (*ContentProfile, error) {
	var p ContentProfile
	if err := s.conn(ctx).Where(`"userId" = ?`, userID).Take(&p).Error; err != nil {
		return nil, fmt.Errorf("store: content profile: %w", classify(err))
	}
	return &p, nil
}

// SaveContentProfile inserts or replaces the user's profile (createdAt is kept on replace).
func (s *Store) SaveContentProfile(ctx context.Context, p *ContentProfile) error {
	upsert := clause.OnConflict{
		Columns:   []clause.Column{{Name: "userId"}},
		DoUpdates: clause.AssignmentColumns([]string{"level", "topics", "language", "background", "goals", "updatedAt"}),
	}
	if err := s.conn(ctx).Clauses(upsert).Create(p).Error; err != nil {
		return fmt.Errorf("store: save content profile: %w", classify(err))
	}
	return nil
}

// ContentProgressOf returns the user's progress on one item, or ErrNotFound.
func (s *Store) ContentProgressOf(ctx context.Context, userID, slug string) (*ContentProgress, error) {
	if !ValidText(slug) {
		return nil, notFound("content progress")
	}
	var p ContentProgress
	if err := s.conn(ctx).Where(`"userId" = ? and "slug" = ?`, userID, slug).Take(&p).Error; err != nil {
		return nil, fmt.Errorf("store: content progress: %w", classify(err))
	}
	return &p, nil
}

// SaveContentProgress inserts or replaces the user's progress on an item (createdAt is kept).
func (s *Store) SaveContentProgress(ctx context.Context, p *ContentProgress) error {
	upsert := clause.OnConflict{
		Columns:   []clause.Column{{Name: "userId"}, {Name: "slug"}},
		DoUpdates: clause.AssignmentColumns([]string{"percent", "completed", "completedAt", "updatedAt"}),
	}
	if err := s.conn(ctx).Clauses(upsert).Create(p).Error; err != nil {
		return fmt.Errorf("store: save content progress: %w", classify(err))
	}
	return nil
}

// SaveContentProgressBatch inserts progress rows in batches; seeding tools and benchmarks use it.
func (s *Store) SaveContentProgressBatch(ctx context.Context, rows []ContentProgress) error {
	if len(rows) == 0 {
		return nil
	}
	if err := s.conn(ctx).CreateInBatches(rows, contentBatch).Error; err != nil {
		return fmt.Errorf("store: save content progress batch: %w", classify(err))
	}
	return nil
}

// ContentProgressRow is a progress row with the title of its (visible) item.
type ContentProgressRow struct {
	ContentProgress `gorm:"embedded"`
	Title           string `gorm:"column:title"`
}

// ContentProgressList returns one page of the user's progress on visible items, most recently
// updated first (then by slug). Progress on hidden items is kept but not listed.
func (s *Store) ContentProgressList(ctx context.Context, userID string, after *TimeKey, limit int) ([]ContentProgressRow, error) {
	db := s.conn(ctx).Table(`"content_progress" p`).Select(`p.*, i."title"`).
		Joins(`join "content_item" i on i."slug" = p."slug" and i."removed" = ?`, false).
		Where(`p."userId" = ?`, userID)
	if after != nil {
		db = db.Where(`(p."updatedAt" < ? or (p."updatedAt" = ? and p."slug" > ?))`, after.At, after.At, after.Slug)
	}
	var out []ContentProgressRow
	if err := db.Order(`p."updatedAt" desc`).Order(`p."slug"`).Limit(limit).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("store: content progress list: %w", classify(err))
	}
	return out, nil
}

// AddContentBookmark saves a bookmark; saving it again changes nothing. It returns the row as
// stored (with the first save's time).
func (s *Store) AddContentBookmark(ctx context.Context, b *ContentBookmark) (*ContentBookmark, error) {
	db := s.conn(ctx)
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(b).Error; err != nil {
		return nil, fmt.Errorf("store: add content bookmark: %w", classify(err))
	}
	var got ContentBookmark
	if err := db.Where(`"userId" = ? and "slug" = ?`, b.UserID, b.Slug).Take(&got).Error; err != nil {
		return nil, fmt.Errorf("store: add content bookmark: %w", classify(err))
	}
	return &got, nil
}

// DeleteContentBookmark removes a bookmark and reports whether there was one.
func (s *Store) DeleteContentBookmark(ctx context.Context, userID, slug string) (bool, error) {
	if !ValidText(slug) {
		return false, nil
	}
	res := s.conn(ctx).Where(`"userId" = ? and "slug" = ?`, userID, slug).Delete(&ContentBookmark{})
	if res.Error != nil {
		return false, fmt.Errorf("store: delete content bookmark: %w", classify(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// ContentBookmarkRow is a bookmark with its (visible) item.
type ContentBookmarkRow struct {
	ContentSummary `gorm:"embedded"`
	BookmarkedAt   Time `gorm:"column:bookmarkedAt"`
}

// ContentBookmarks returns one page of the user's bookmarks on visible items, newest first (then
// by slug). Bookmarks on hidden items are kept but not listed.
func (s *Store) ContentBookmarks(ctx context.Context, userID string, after *TimeKey, limit int) ([]ContentBookmarkRow, error) {
	db := s.conn(ctx).Table(`"content_bookmark" b`).Select(summaryColumns+`, b."createdAt" as "bookmarkedAt"`).
		Joins(`join "content_item" i on i."slug" = b."slug" and i."removed" = ?`, false).
		Where(`b."userId" = ?`, userID)
	if after != nil {
		db = db.Where(`(b."createdAt" < ? or (b."createdAt" = ? and b."slug" > ?))`, after.At, after.At, after.Slug)
	}
	var out []ContentBookmarkRow
	if err := db.Order(`b."createdAt" desc`).Order(`b."slug"`).Limit(limit).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("store: content bookmarks: %w", classify(err))
	}
	return out, nil
}

// CountContentRows counts the rows a user has in the per-user content tables (profile, progress,
// bookmarks); tests use it to check that deleting the user removed them.
func (s *Store) CountContentRows(ctx context.Context, userID string) (int64, error) {
	var total int64
	for _, m := range []any{&ContentProfile{}, &ContentProgress{}, &ContentBookmark{}} {
		var n int64
		if err := s.conn(ctx).Model(m).Where(`"userId" = ?`, userID).Count(&n).Error; err != nil {
			return 0, fmt.Errorf("store: count content rows: %w", classify(err))
		}
		total += n
	}
	return total, nil
}

// SaveContentBookmarkBatch inserts bookmarks in batches; seeding tools and benchmarks use it.
func (s *Store) SaveContentBookmarkBatch(ctx context.Context, rows []ContentBookmark) error {
	if len(rows) == 0 {
		return nil
	}
	if err := s.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, contentBatch).Error; err != nil {
		return fmt.Errorf("store: save content bookmark batch: %w", classify(err))
	}
	return nil
}

// SaveContentProfileBatch inserts profiles in batches; seeding tools and benchmarks use it.
func (s *Store) SaveContentProfileBatch(ctx context.Context, rows []ContentProfile) error {
	if len(rows) == 0 {
		return nil
	}
	if err := s.conn(ctx).CreateInBatches(rows, contentBatch).Error; err != nil {
		return fmt.Errorf("store: save content profile batch: %w", classify(err))
	}
	return nil
}

// activeOrganizationColumn is the session column the organization plugin adds; the group queries
// below read it only when that plugin registered it, so the content API does not depend on the plugin.
const activeOrganizationColumn = "activeOrganizationId"

// ContentGroup is the organization a session has active, as the content API shows it.
type ContentGroup struct {
	ID   string `gorm:"column:id"`
	Name string `gorm:"column:name"`
}

// ContentActiveGroup returns the organization the session sessionID has active, read from the
// session row (not a cache), or nil when it has none, the organization plugin is off (the column
// does not exist), or the session's user is not a member of it (any more): the session can only
// point at an organization its user joined, but a member removed since must not keep reading.
func (s *Store) ContentActiveGroup(ctx context.Context, sessionID string) (*ContentGroup, error) {
	if fieldIndex(s.Columns().Session, activeOrganizationColumn) < 0 {
		return nil, nil
	}
	var out []ContentGroup
	err := s.conn(ctx).Table(`"session" s`).Select(`o."id", o."name"`).
		Joins(`join "member" m on m."organizationId" = s."activeOrganizationId" and m."userId" = s."userId"`).
		Joins(`join "organization" o on o."id" = m."organizationId"`).
		Where(`s."id" = ?`, sessionID).Limit(1).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: content active group: %w", classify(err))
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// ContentGroupBookmarkRow is a bookmark (on a visible item) of a member of an organization, with
// who made it.
type ContentGroupBookmarkRow struct {
	ContentSummary `gorm:"embedded"`
	BookmarkedAt   Time   `gorm:"column:bookmarkedAt"`
	UserID         string `gorm:"column:bookmarkedById"`
	UserName       string `gorm:"column:bookmarkedByName"`
}

// ContentGroupBookmarks returns the newest limit bookmarks on visible items of the members of
// organization orgID (newest first, then slug, then user id), provided viewerID is a member
// too; otherwise none. Only call it when ContentActiveGroup found the organization: the member
// table exists only with the organization plugin on.
func (s *Store) ContentGroupBookmarks(ctx context.Context, orgID, viewerID string, limit int) ([]ContentGroupBookmarkRow, error) {
	var out []ContentGroupBookmarkRow
	err := s.conn(ctx).Table(`"member" m`).
		Select(summaryColumns+`, b."createdAt" as "bookmarkedAt", u."id" as "bookmarkedById", u."name" as "bookmarkedByName"`).
		Joins(`join "content_bookmark" b on b."userId" = m."userId"`).
		Joins(`join "content_item" i on i."slug" = b."slug" and i."removed" = ?`, false).
		Joins(`join "user" u on u."id" = m."userId"`).
		Where(`m."organizationId" = ?`, orgID).
		Where(`exists (select 1 from "member" v where v."organizationId" = m."organizationId" and v."userId" = ?)`, viewerID).
		Order(`b."createdAt" desc`).Order(`b."slug"`).Order(`u."id"`).Limit(limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: content group bookmarks: %w", classify(err))
	}
	return out, nil
}
