// Package content is the personalized content API's domain: the catalog of Markdown articles
// (loaded from a folder, or from the small sample embedded in the binary), the readers'
// personalization profiles, the ranked feed with the reasons for each pick, reading progress and
// bookmarks.
//
// It takes a user id as a plain value and never sees sessions or HTTP: it imports store and no
// other package of this module, and must not import Echo or web (web → content → store).
package content

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"

	"authserver/store"
)

// Error kinds returned by Service methods; match them with errors.Is.
var (
	// ErrNotFound means the slug names no visible item of the catalog.
	ErrNotFound = errors.New("content: not found")
	// ErrInvalidCursor means a pagination cursor was not one this server issued for that list.
	ErrInvalidCursor = errors.New("content: invalid cursor")
	// ErrInvalid is the kind of every *ValidationError.
	ErrInvalid = errors.New("content: invalid input")
)

// Level is a reader's experience level, and the level an item or a section of it is written for.
type Level string

// The experience levels, from least to most experienced.
const (
	Beginner     Level = "beginner"
	Intermediate Level = "intermediate"
	Advanced     Level = "advanced"
)

// Levels lists the experience levels in order.
var Levels = []Level{Beginner, Intermediate, Advanced}

// AllLevels is the front-matter level of an item written for every reader (typically one whose
// body has sections per level).
const AllLevels = "all"

func (l Level) rank() int {
	for i, v := range Levels {
		if v == l {
			return i
		}
	}
	return -1
}

// near returns the levels one step from l.
func (l Level) near() []string {
	var out []string
	r := l.rank()
	for i, v := range Levels {
		if i == r-1 || i == r+1 {
			out = append(out, string(v))
		}
	}
	return out
}

// Config holds the content settings; zero values take the defaults.
type Config struct {
	// Dir is the folder of Markdown files (CONTENT_DIR). Empty serves the sample catalog embedded in
	// the binary.
	Dir string
	// PageSize is the page length when a request names none (default 20).
	PageSize int
	// MaxPageSize caps the page length a request may ask for; larger requests are clamped to it
	// (default 50).
	MaxPageSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service answers the content API for one catalog. It is safe for concurrent use.
type Service struct {
	cfg      Config
	st       *store.Store
	validate *validator.Validate
	render   *renderer

	syncMu sync.Mutex // serialises Sync calls of this process
}

// New returns a Service over st with cfg's defaults filled in. It does not load the catalog: call
// Sync before serving, and again whenever the folder changes.
func New(cfg Config, st *store.Store) *Service {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 20
	}
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = 50
	}
	if cfg.PageSize > cfg.MaxPageSize {
		cfg.PageSize = cfg.MaxPageSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, st: st, validate: newValidator(), render: newRenderer()}
}

// PageSize is the page length used when a request names none.
func (s *Service) PageSize() int { return s.cfg.PageSize }

// MaxPageSize is the largest page a request gets; asking for more is clamped to it.
func (s *Service) MaxPageSize() int { return s.cfg.MaxPageSize }

func (s *Service) now() store.Time { return store.NewTime(s.cfg.Now()) }

// limit turns a requested page length into the one served: 0 means the default, more than the
// maximum is clamped to it.
func (s *Service) limit(n int) int {
	switch {
	case n <= 0:
		return s.cfg.PageSize
	case n > s.cfg.MaxPageSize:
		return s.cfg.MaxPageSize
	}
	return n
}

// PageRequest asks for one page of a list.
type PageRequest struct {
	// Cursor is the NextCursor of the previous page; empty for the first page.
	Cursor string
	// Limit is the page length; 0 means the default and more than MaxPageSize is clamped.
	Limit int
}

// notFound turns the store's not-found into the content kind and passes other errors through.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// withTags loads the tags of the listed items in one query.
func (s *Service) withTags(ctx context.Context, slugs []string) (map[string][]string, error) {
	return s.st.ContentTags(ctx, slugs)
}
