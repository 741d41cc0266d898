package content

import (
	"encoding/base64"
	"encoding/json"
	"math"

	"authserver/store"
)

// cursor is the keyset position a page ends at, sent to clients as opaque base64url JSON. List
// names the list it belongs to, so a cursor of one list is refused by another. It carries no
// secret: whatever a client puts in it only moves where its own list resumes.
type cursor struct {
	List     string `json:"l"`
	Finished bool   `json:"f,omitempty"`
	Score    int    `json:"s,omitempty"`
	At       string `json:"t"`
	Slug     string `json:"k"`
}

// The lists that hand out cursors.
const (
	listFeed      = "feed"
	listItems     = "items"
	listProgress  = "progress"
	listBookmarks = "bookmarks"
)

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor of the named list; "" gives nil (the first page).
func decodeCursor(raw, list string) (*cursor, error) {
	if raw == "" {
		return nil, nil
	}
	if len(raw) > 512 {
		return nil, ErrInvalidCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, ErrInvalidCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.List != list || c.Slug == "" || c.At == "" {
		return nil, ErrInvalidCursor
	}
	// The server never hands out a cursor the database cannot compare with: a slug no column can
	// hold, or a score no sum of weights reaches (negative, or past the 32-bit integer PostgreSQL
	// may compare it as).
	if !store.ValidText(c.Slug) || c.Score < 0 || c.Score > math.MaxInt32 {
		return nil, ErrInvalidCursor
	}
	var t store.Time
	if err := t.Scan(c.At); err != nil {
		return nil, ErrInvalidCursor
	}
	return &c, nil
}

// at returns the cursor's time (decodeCursor checked that it parses).
func (c *cursor) at() store.Time {
	var t store.Time
	_ = t.Scan(c.At)
	return store.NewTime(t.Time)
}

func (c *cursor) timeKey() *store.TimeKey {
	if c == nil {
		return nil
	}
	return &store.TimeKey{At: c.at(), Slug: c.Slug}
}
