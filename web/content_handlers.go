package web

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"authserver/content"
	"authserver/session"
	"authserver/store"
)

// Paths of the content API. Everything but /content/public/* needs a session (cookie or Bearer).
const (
	pathPublicItems  = "/content/public/items"
	pathPublicItem   = "/content/public/items/:slug"
	pathProfile      = "/content/profile"
	pathFeed         = "/content/feed"
	pathItem         = "/content/items/:slug"
	pathItemProgress = "/content/items/:slug/progress"
	pathItemBookmark = "/content/items/:slug/bookmark"
	pathProgress     = "/content/progress"
	pathBookmarks    = "/content/bookmarks"
	// pathGroupBookmarks lists what the members of the session's active reading group (an
	// organization of the organization plugin) bookmarked lately.
	pathGroupBookmarks = "/content/group-bookmarks"
)

// contentHandler serves /content/*: it decodes, calls one content.Service method and writes the
// answer. The reader is always the session's user; no route takes a user id from the request, so
// one user can never name another's profile, progress or bookmarks.
type contentHandler struct {
	svc *content.Service
}

// contentRoute declares one route of the content API: registerContentRoutes mounts it and
// contentDocument describes it, so the two cannot disagree.
type contentRoute struct {
	method, path string
	// public routes need no session and may be cached by anyone for a minute; the others need a
	// session (RequireSession) and are never cached.
	public bool
	handle func(h *contentHandler, c echo.Context) error
	// body is the request type the handler decodes (nil: no body); answer the type it prints.
	body, answer any
	// query names the query parameters the handler reads.
	query   []string
	summary string
}

// contentRoutes is the content API.
var contentRoutes = []contentRoute{
	{method: "GET", path: pathPublicItems, public: true, handle: (*contentHandler).listPublicItems, answer: pageResponse[itemSummaryResponse]{},
		query: []string{"tag", "cursor", "limit"}, summary: "The newest published items, for visitors"},
	{method: "GET", path: pathPublicItem, public: true, handle: (*contentHandler).getPublicItem, answer: publicItemResponse{},
		summary: "One item with every level section, for visitors"},
	{method: "GET", path: pathProfile, handle: (*contentHandler).getProfile, answer: profileResponse{}, summary: "The reader's profile"},
	{method: "PUT", path: pathProfile, handle: (*contentHandler).putProfile, body: profileRequest{}, answer: profileResponse{},
		summary: "Change the reader's profile (fields left out or null stay as they are)"},
	{method: "GET", path: pathFeed, handle: (*contentHandler).getFeed, answer: pageResponse[feedEntryResponse]{}, query: []string{"cursor", "limit"},
		summary: "The feed ranked for the reader, with the reasons for each pick"},
	{method: "GET", path: pathItem, handle: (*contentHandler).getItem, answer: itemResponse{}, summary: "One item rendered for the reader's level"},
	{method: "PUT", path: pathItemProgress, handle: (*contentHandler).putProgress, body: progressRequest{}, answer: progressResponse{},
		summary: "Record the reader's progress on an item"},
	{method: "GET", path: pathProgress, handle: (*contentHandler).listProgress, answer: pageResponse[progressResponse]{}, query: []string{"cursor", "limit"},
		summary: "The reader's progress, most recent first"},
	{method: "PUT", path: pathItemBookmark, handle: (*contentHandler).putBookmark, answer: bookmarkStateResponse{}, summary: "Bookmark an item"},
	{method: "DELETE", path: pathItemBookmark, handle: (*contentHandler).deleteBookmark, answer: bookmarkStateResponse{}, summary: "Remove a bookmark"},
	{method: "GET", path: pathBookmarks, handle: (*contentHandler).listBookmarks, answer: pageResponse[bookmarkResponse]{}, query: []string{"cursor", "limit"},
		summary: "The reader's bookmarks, newest first"},
	{method: "GET", path: pathGroupBookmarks, handle: (*contentHandler).listGroupBookmarks, answer: groupBookmarksResponse{}, query: []string{"limit"},
		summary: "What the members of the session's active reading group bookmarked lately"},
}

// registerContentRoutes mounts the content API (contentRoutes). The session middleware is attached
// route by route (not to a /content group), so unknown /content paths stay plain 404s like every
// other unknown path.
func registerContentRoutes(e *echo.Echo, svc *content.Service, sessions *session.Manager) {
	h := &contentHandler{svc: svc}
	public := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("Cache-Control", "public, max-age=60")
			return next(c)
		}
	}
	// Personalized answers must never sit in a shared cache.
	private := []echo.MiddlewareFunc{RequireSession(sessions), func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("Cache-Control", "private, no-store")
			return next(c)
		}
	}}
	for _, r := range contentRoutes {
		mw := private
		if r.public {
			mw = []echo.MiddlewareFunc{public}
		}
		e.Add(r.method, r.path, func(c echo.Context) error { return r.handle(h, c) }, mw...)
	}
}

func (h *contentHandler) listPublicItems(c echo.Context) error {
	page, err := pageRequest(c)
	if err != nil {
		return err
	}
	res, err := h.svc.PublicItems(c.Request().Context(), c.QueryParam("tag"), page)
	if err != nil {
		return err
	}
	items := make([]itemSummaryResponse, len(res.Items))
	for i, it := range res.Items {
		items[i] = newItemSummaryResponse(it)
	}
	return ok(c, newPageResponse(items, res.NextCursor))
}

func (h *contentHandler) getPublicItem(c echo.Context) error {
	it, err := h.svc.PublicItem(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	return ok(c, publicItemResponse{itemSummaryResponse: newItemSummaryResponse(it.Summary), HTML: it.HTML, Levels: it.Levels})
}

func (h *contentHandler) getProfile(c echo.Context) error {
	p, err := h.svc.Profile(c.Request().Context(), AuthFrom(c).User.ID)
	if err != nil {
		return err
	}
	return ok(c, newProfileResponse(p))
}

func (h *contentHandler) putProfile(c echo.Context) error {
	var req profileRequest
	if err := bindContentJSON(c, &req); err != nil {
		return err
	}
	p, err := h.svc.UpdateProfile(c.Request().Context(), AuthFrom(c).User.ID, req.toUpdate())
	if err != nil {
		return err
	}
	return ok(c, newProfileResponse(p))
}

func (h *contentHandler) getFeed(c echo.Context) error {
	page, err := pageRequest(c)
	if err != nil {
		return err
	}
	res, err := h.svc.Feed(c.Request().Context(), AuthFrom(c).User.ID, page)
	if err != nil {
		return err
	}
	items := make([]feedEntryResponse, len(res.Items))
	for i, e := range res.Items {
		items[i] = newFeedEntryResponse(e)
	}
	return ok(c, newPageResponse(items, res.NextCursor))
}

func (h *contentHandler) getItem(c echo.Context) error {
	it, err := h.svc.Item(c.Request().Context(), AuthFrom(c).User.ID, c.Param("slug"))
	if err != nil {
		return err
	}
	return ok(c, newItemResponse(it))
}

func (h *contentHandler) putProgress(c echo.Context) error {
	var req progressRequest
	if err := bindContentJSON(c, &req); err != nil {
		return err
	}
	p, err := h.svc.SetProgress(c.Request().Context(), AuthFrom(c).User.ID, c.Param("slug"),
		content.ProgressUpdate{Percent: req.Percent, Completed: req.Completed})
	if err != nil {
		return err
	}
	return ok(c, newProgressResponse(p))
}

func (h *contentHandler) listProgress(c echo.Context) error {
	page, err := pageRequest(c)
	if err != nil {
		return err
	}
	res, err := h.svc.ProgressList(c.Request().Context(), AuthFrom(c).User.ID, page)
	if err != nil {
		return err
	}
	items := make([]progressResponse, len(res.Items))
	for i, p := range res.Items {
		items[i] = newProgressResponse(p)
	}
	return ok(c, newPageResponse(items, res.NextCursor))
}

func (h *contentHandler) putBookmark(c echo.Context) error {
	slug := c.Param("slug")
	at, err := h.svc.AddBookmark(c.Request().Context(), AuthFrom(c).User.ID, slug)
	if err != nil {
		return err
	}
	t := toJSTime(at)
	return ok(c, bookmarkStateResponse{Slug: slug, Bookmarked: true, BookmarkedAt: &t})
}

func (h *contentHandler) deleteBookmark(c echo.Context) error {
	slug := c.Param("slug")
	if err := h.svc.RemoveBookmark(c.Request().Context(), AuthFrom(c).User.ID, slug); err != nil {
		return err
	}
	return ok(c, bookmarkStateResponse{Slug: slug, Bookmarked: false})
}

func (h *contentHandler) listBookmarks(c echo.Context) error {
	page, err := pageRequest(c)
	if err != nil {
		return err
	}
	res, err := h.svc.Bookmarks(c.Request().Context(), AuthFrom(c).User.ID, page)
	if err != nil {
		return err
	}
	items := make([]bookmarkResponse, len(res.Items))
	for i, b := range res.Items {
		items[i] = bookmarkResponse{itemSummaryResponse: newItemSummaryResponse(b.Summary), BookmarkedAt: toJSTime(b.BookmarkedAt)}
	}
	return ok(c, newPageResponse(items, res.NextCursor))
}

// listGroupBookmarks answers the newest ?limit= bookmarks of the active group's members (one
// page, no cursor): 200 with "group": null and no items when the session has no active group.
func (h *contentHandler) listGroupBookmarks(c echo.Context) error {
	page, err := pageRequest(c)
	if err != nil {
		return err
	}
	a := AuthFrom(c)
	res, err := h.svc.GroupBookmarks(c.Request().Context(), a.User.ID, a.Session.ID, page.Limit)
	if err != nil {
		return err
	}
	out := groupBookmarksResponse{Items: make([]groupBookmarkResponse, len(res.Items))}
	if res.Group != nil {
		out.Group = &groupResponse{ID: res.Group.ID, Name: res.Group.Name}
	}
	for i, b := range res.Items {
		out.Items[i] = groupBookmarkResponse{
			bookmarkResponse: bookmarkResponse{itemSummaryResponse: newItemSummaryResponse(b.Summary), BookmarkedAt: toJSTime(b.BookmarkedAt)},
			BookmarkedBy:     groupMemberResponse{ID: b.ByID, Name: b.ByName},
		}
	}
	return ok(c, out)
}

// pageRequest reads ?cursor= and ?limit=. A limit above the maximum is clamped (by the service);
// one that is not a positive integer is a 400.
func pageRequest(c echo.Context) (content.PageRequest, error) {
	page := content.PageRequest{Cursor: c.QueryParam("cursor")}
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return page, validationError("[query.limit] must be a positive integer")
		}
		page.Limit = n
	}
	return page, nil
}

// bindContentJSON decodes a JSON object body into dst (a request DTO with pointer fields, where
// absent and null both mean "not sent"). It reuses the auth endpoints' body reader, so the
// content type (415), malformed JSON (400) and body size rules are the same. The field rules
// (lengths, allowed values, known tags) are not a web schema: they stay with the content service,
// which checks catalog files with the same rules, and its ValidationError reaches the wire through
// lookupError like every other error.
func bindContentJSON(c echo.Context, dst any) error {
	body, kind, err := readBody(c.Request(), false)
	if err != nil {
		return err
	}
	if kind != "object" {
		return validationError("[body] Invalid input: expected object, received " + string(kind))
	}
	return decodeObject(body, dst, "body")
}

// decodeObject fills dst from a decoded JSON object found at path (such as "body" or
// "body.contentProfile"), and reports a value of the wrong type as "[<path>.<field>] Invalid
// input: expected <type>, received <type>".
func decodeObject(obj map[string]any, dst any, path string) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return errBadJSON
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			want := te.Type.Kind().String()
			switch want {
			case "slice":
				want = "array"
			case "int":
				want = "integer"
			case "bool":
				want = "boolean"
			}
			got, _, _ := strings.Cut(te.Value, " ") // "number 12.5" names the value too
			if got == "bool" {
				got = "boolean"
			}
			return validationError("[" + path + "." + te.Field + "] Invalid input: expected " + want + ", received " + got)
		}
		return errBadJSON
	}
	return nil
}

// profileRequest is the body of PUT /content/profile. Absent (or null) fields keep their value.
type profileRequest struct {
	Level      *string  `json:"level"`
	Topics     []string `json:"topics"`
	Language   *string  `json:"language"`
	Background *string  `json:"background"`
	Goals      *string  `json:"goals"`
}

func (r profileRequest) toUpdate() content.ProfileUpdate {
	return content.ProfileUpdate{Level: r.Level, Topics: r.Topics, Language: r.Language, Background: r.Background, Goals: r.Goals}
}

// progressRequest is the body of PUT /content/items/:slug/progress.
type progressRequest struct {
	Percent   *int  `json:"percent"`
	Completed *bool `json:"completed"`
}

func toJSTime(t time.Time) jsTime { return jsTime(store.NewTime(t)) }

func toJSTimePtr(t *time.Time) *jsTime {
	if t == nil {
		return nil
	}
	v := toJSTime(*t)
	return &v
}

// profileResponse is a reader's profile; createdAt and updatedAt are null until it is first saved.
type profileResponse struct {
	Level      string   `json:"level"`
	Topics     []string `json:"topics"`
	Language   string   `json:"language"`
	Background string   `json:"background"`
	Goals      string   `json:"goals"`
	CreatedAt  *jsTime  `json:"createdAt"`
	UpdatedAt  *jsTime  `json:"updatedAt"`
}

func newProfileResponse(p content.Profile) profileResponse {
	return profileResponse{Level: string(p.Level), Topics: p.Topics, Language: p.Language, Background: p.Background,
		Goals: p.Goals, CreatedAt: toJSTimePtr(p.CreatedAt), UpdatedAt: toJSTimePtr(p.UpdatedAt)}
}

// itemSummaryResponse is what every list shows of an item.
type itemSummaryResponse struct {
	Slug           string   `json:"slug"`
	Title          string   `json:"title"`
	Summary        string   `json:"summary"`
	Tags           []string `json:"tags"`
	Level          string   `json:"level"`
	Language       string   `json:"language"`
	ReadingMinutes int      `json:"readingMinutes"`
	PublishedAt    jsTime   `json:"publishedAt"`
}

func newItemSummaryResponse(s content.Summary) itemSummaryResponse {
	return itemSummaryResponse{Slug: s.Slug, Title: s.Title, Summary: s.Summary, Tags: s.Tags, Level: s.Level,
		Language: s.Language, ReadingMinutes: s.ReadingMinutes, PublishedAt: toJSTime(s.PublishedAt)}
}

// publicItemResponse is an item as visitors see it: every level section, no reader state.
type publicItemResponse struct {
	itemSummaryResponse
	HTML   string   `json:"html"`
	Levels []string `json:"levels"`
}

// itemResponse is an item rendered for the signed-in reader.
type itemResponse struct {
	itemSummaryResponse
	HTML         string            `json:"html"`
	Levels       []string          `json:"levels"`
	ShownLevel   string            `json:"shownLevel"`
	Progress     *progressResponse `json:"progress"`
	Bookmarked   bool              `json:"bookmarked"`
	BookmarkedAt *jsTime           `json:"bookmarkedAt"`
}

func newItemResponse(it content.Item) itemResponse {
	out := itemResponse{itemSummaryResponse: newItemSummaryResponse(it.Summary), HTML: it.HTML, Levels: it.Levels,
		ShownLevel: string(it.ShownLevel), Bookmarked: it.BookmarkedAt != nil, BookmarkedAt: toJSTimePtr(it.BookmarkedAt)}
	if it.Progress != nil {
		p := newProgressResponse(*it.Progress)
		out.Progress = &p
	}
	return out
}

// progressResponse is a reader's progress on one item.
type progressResponse struct {
	Slug        string  `json:"slug"`
	Title       string  `json:"title"`
	Percent     int     `json:"percent"`
	Completed   bool    `json:"completed"`
	CompletedAt *jsTime `json:"completedAt"`
	UpdatedAt   jsTime  `json:"updatedAt"`
}

func newProgressResponse(p content.Progress) progressResponse {
	return progressResponse{Slug: p.Slug, Title: p.Title, Percent: p.Percent, Completed: p.Completed,
		CompletedAt: toJSTimePtr(p.CompletedAt), UpdatedAt: toJSTime(p.UpdatedAt)}
}

// feedEntryResponse is one ranked item of the feed.
type feedEntryResponse struct {
	itemSummaryResponse
	Score      int                `json:"score"`
	Reasons    []string           `json:"reasons"`
	Progress   *feedProgressState `json:"progress"`
	Bookmarked bool               `json:"bookmarked"`
}

// feedProgressState is the reader's progress as the feed shows it; null when never opened.
type feedProgressState struct {
	Percent   int  `json:"percent"`
	Completed bool `json:"completed"`
}

func newFeedEntryResponse(e content.FeedEntry) feedEntryResponse {
	out := feedEntryResponse{itemSummaryResponse: newItemSummaryResponse(e.Summary), Score: e.Score, Reasons: e.Reasons, Bookmarked: e.Bookmarked}
	if e.Percent != nil {
		out.Progress = &feedProgressState{Percent: *e.Percent, Completed: e.Completed}
	}
	return out
}

// bookmarkResponse is an entry of GET /content/bookmarks.
type bookmarkResponse struct {
	itemSummaryResponse
	BookmarkedAt jsTime `json:"bookmarkedAt"`
}

// groupBookmarksResponse is the body of GET /content/group-bookmarks.
type groupBookmarksResponse struct {
	Group *groupResponse          `json:"group"`
	Items []groupBookmarkResponse `json:"items"`
}

// groupResponse names the session's active group.
type groupResponse struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// groupBookmarkResponse is a bookmark of a group member, with who made it (by name: members see
// each other's names on the group page too, but not their email addresses here).
type groupBookmarkResponse struct {
	bookmarkResponse
	BookmarkedBy groupMemberResponse `json:"bookmarkedBy"`
}

// groupMemberResponse is the member who made a bookmark.
type groupMemberResponse struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// bookmarkStateResponse answers PUT and DELETE of a bookmark.
type bookmarkStateResponse struct {
	Slug         string  `json:"slug"`
	Bookmarked   bool    `json:"bookmarked"`
	BookmarkedAt *jsTime `json:"bookmarkedAt"`
}

// pageResponse is one page of a list: nextCursor is null on the last page.
type pageResponse[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

func newPageResponse[T any](items []T, next string) pageResponse[T] {
	out := pageResponse[T]{Items: items}
	if next != "" {
		out.NextCursor = &next
	}
	return out
}
