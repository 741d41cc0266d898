package content

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"authserver/store"
)

//go:embed sample/*.md
var sampleFS embed.FS

// A catalog file is Markdown with YAML front matter between two "---" lines:
//
//	---
//	title: Keyset pagination          # required
//	summary: Page through big tables. # required, one or two sentences
//	tags: [databases, sql]            # optional, at most 10; lower-case words and dashes
//	level: intermediate               # beginner, intermediate, advanced or all (default all)
//	language: en                      # a BCP 47 tag, kept as its base language (default en)
//	published: 2025-03-14             # required; a date or an RFC 3339 time
//	slug: keyset-pagination           # optional; defaults to the file name without .md
//	readingMinutes: 6                 # optional; defaults to the word count / 200, rounded up
//	draft: false                      # optional; drafts are not loaded
//	---
//	Markdown body, optionally with :::level sections (see render.go).
//
// Files and folders whose names start with "." or "_" are skipped, as are README.md files.
type frontMatter struct {
	Title          string   `yaml:"title" validate:"required,max=200"`
	Summary        string   `yaml:"summary" validate:"required,max=600"`
	Tags           []string `yaml:"tags" validate:"max=10,unique,dive,max=40"`
	Level          string   `yaml:"level" validate:"omitempty,oneof=beginner intermediate advanced all"`
	Language       string   `yaml:"language" validate:"omitempty,bcp47_language_tag"`
	Published      string   `yaml:"published" validate:"required"`
	Slug           string   `yaml:"slug" validate:"omitempty,max=100"`
	ReadingMinutes int      `yaml:"readingMinutes" validate:"min=0,max=600"`
	Draft          bool     `yaml:"draft"`
}

var (
	slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	tagPattern  = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
)

// wordsPerMinute estimates reading time when the front matter gives none.
const wordsPerMinute = 200

// SyncResult counts what a Sync changed.
type SyncResult struct {
	Source    string // the folder read, or "embedded sample"
	Items     int    // items in the source
	Added     int    // new items
	Updated   int    // changed items, and hidden items that came back
	Unchanged int
	Removed   int // items hidden because their file is gone
}

// Sync loads the catalog (the Dir folder, or the embedded sample when Dir is empty) and applies it
// in one transaction: new and changed items are written, unchanged ones are left alone, and items
// whose files are gone are hidden, not deleted, so readers' progress and bookmarks on them
// survive. A file that does not parse fails the whole Sync and changes nothing; the error names
// every bad file. An empty folder is refused rather than taken as "hide everything". Sync is safe
// to call while serving (on SIGHUP, or periodically).
func (s *Service) Sync(ctx context.Context) (SyncResult, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	fsys, source, err := s.source()
	if err != nil {
		return SyncResult{}, err
	}
	res := SyncResult{Source: source}
	// Read the stored hashes first, outside the write transaction, so that parsing the folder does
	// not hold the write lock and unchanged files are not rendered again.
	states, err := s.st.ContentItemStates(ctx)
	if err != nil {
		return res, fmt.Errorf("content: sync: %w", err)
	}
	known := make(map[string]string, len(states))
	for _, st := range states {
		if !st.Removed {
			known[st.Slug] = st.Hash
		}
	}
	items, tags, err := s.load(fsys, known)
	if err != nil {
		return res, err
	}
	if len(items) == 0 {
		return res, fmt.Errorf("content: %s holds no Markdown files; refusing to hide the whole catalog", source)
	}
	res.Items = len(items)
	now := s.now()
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		states, err := tx.ContentItemStates(ctx)
		if err != nil {
			return err
		}
		old := make(map[string]store.ContentItemState, len(states))
		for _, st := range states {
			old[st.Slug] = st
		}
		var changed []store.ContentItem
		var changedTags []store.ContentItemTag
		for i := range items {
			it := &items[i]
			prev, exists := old[it.Slug]
			delete(old, it.Slug)
			switch {
			case exists && prev.Hash == it.Hash && !prev.Removed:
				res.Unchanged++
				continue
			case exists:
				res.Updated++
			default:
				res.Added++
			}
			if it.Sections == "" {
				// Unchanged when we parsed, changed in the database since (another replica synced
				// another version of the folder): render it now after all.
				if err := s.renderItem(it); err != nil {
					return err
				}
			}
			it.CreatedAt, it.UpdatedAt = now, now
			changed = append(changed, *it)
			changedTags = append(changedTags, tags[it.Slug]...)
		}
		if err := tx.SaveContentItems(ctx, changed, changedTags); err != nil {
			return err
		}
		var gone []string
		for slug, st := range old {
			if !st.Removed {
				gone = append(gone, slug)
			}
		}
		sort.Strings(gone)
		res.Removed = len(gone)
		return tx.HideContentItems(ctx, gone, now)
	})
	if err != nil {
		return SyncResult{Source: source}, fmt.Errorf("content: sync: %w", err)
	}
	return res, nil
}

// source picks the folder to read.
func (s *Service) source() (fs.FS, string, error) {
	if s.cfg.Dir == "" {
		sub, err := fs.Sub(sampleFS, "sample")
		return sub, "embedded sample", err
	}
	info, err := os.Stat(s.cfg.Dir)
	if err != nil {
		return nil, s.cfg.Dir, fmt.Errorf("content: CONTENT_DIR: %w", err)
	}
	if !info.IsDir() {
		return nil, s.cfg.Dir, fmt.Errorf("content: CONTENT_DIR %s is not a folder", s.cfg.Dir)
	}
	return os.DirFS(s.cfg.Dir), s.cfg.Dir, nil
}

// load parses every Markdown file of fsys, sorted by path, into rows ready to store. Items whose
// hash equals known[slug] are not rendered (their Sections stay empty): they are unchanged.
func (s *Service) load(fsys fs.FS, known map[string]string) ([]store.ContentItem, map[string][]store.ContentItemTag, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && strings.HasSuffix(strings.ToLower(name), ".md") && !strings.EqualFold(name, "README.md") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("content: read catalog: %w", err)
	}
	sort.Strings(paths)
	var items []store.ContentItem
	tags := map[string][]store.ContentItemTag{}
	seen := map[string]string{}
	var errs []error
	for _, p := range paths {
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		it, itTags, skip, err := s.parseFile(p, raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		if skip {
			continue
		}
		if other, dup := seen[it.Slug]; dup {
			errs = append(errs, fmt.Errorf("%s: slug %q is already used by %s", p, it.Slug, other))
			continue
		}
		seen[it.Slug] = p
		if known[it.Slug] != it.Hash {
			if err := s.renderItem(&it); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p, err))
				continue
			}
		}
		items = append(items, it)
		for _, t := range itTags {
			tags[it.Slug] = append(tags[it.Slug], store.ContentItemTag{Tag: t, Slug: it.Slug})
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("content: %d catalog file(s) are invalid: %w", len(errs), errors.Join(errs...))
	}
	return items, tags, nil
}

// parseFile turns one file into an item row (not yet rendered: Sections is empty) and its tags;
// skip reports a draft. It checks everything that can be wrong with a file, the level-section
// syntax included, so a file that parses also renders.
func (s *Service) parseFile(p string, raw []byte) (store.ContentItem, []string, bool, error) {
	var it store.ContentItem
	fmText, body, err := splitFrontMatter(raw)
	if err != nil {
		return it, nil, false, err
	}
	var fm frontMatter
	dec := yaml.NewDecoder(bytes.NewReader(fmText))
	dec.KnownFields(true) // a misspelt key is an error, not a silently missing value
	if err := dec.Decode(&fm); err != nil && !errors.Is(err, io.EOF) {
		return it, nil, false, fmt.Errorf("front matter: %w", err)
	}
	if fm.Draft {
		return it, nil, true, nil
	}
	fm.Title = strings.TrimSpace(fm.Title)
	fm.Summary = strings.TrimSpace(fm.Summary)
	fm.Level = strings.ToLower(strings.TrimSpace(fm.Level))
	fm.Language = strings.TrimSpace(fm.Language)
	for i, t := range fm.Tags {
		fm.Tags[i] = strings.ToLower(strings.TrimSpace(t))
	}
	if err := s.validate.Struct(fm); err != nil {
		return it, nil, false, fmt.Errorf("front matter: %w", describeAll(err, ""))
	}
	slug := fm.Slug
	if slug == "" {
		slug = strings.ToLower(strings.TrimSuffix(path.Base(p), path.Ext(p)))
	}
	if !slugPattern.MatchString(slug) {
		return it, nil, false, fmt.Errorf("slug %q must be lower-case letters and digits joined by single dashes", slug)
	}
	for _, t := range fm.Tags {
		if !tagPattern.MatchString(t) {
			return it, nil, false, fmt.Errorf("tag %q must be lower-case letters and digits joined by single dashes", t)
		}
	}
	published, err := parseDate(fm.Published)
	if err != nil {
		return it, nil, false, err
	}
	level := fm.Level
	if level == "" {
		level = AllLevels
	}
	lang := "en"
	if fm.Language != "" {
		lang = baseLanguage(fm.Language)
	}
	if _, err := splitSections(string(body)); err != nil {
		return it, nil, false, err
	}
	minutes := fm.ReadingMinutes
	if minutes == 0 {
		minutes = max(1, (len(strings.Fields(string(body)))+wordsPerMinute-1)/wordsPerMinute)
	}
	sum := sha256.New()
	for _, part := range [][]byte{[]byte(renderVersion), []byte(slug), raw} {
		sum.Write(part)
		sum.Write([]byte{0})
	}
	tags := append([]string(nil), fm.Tags...)
	sort.Strings(tags)
	it = store.ContentItem{
		Slug:           slug,
		Title:          fm.Title,
		Summary:        fm.Summary,
		Body:           string(body),
		Level:          level,
		Language:       lang,
		ReadingMinutes: minutes,
		PublishedAt:    store.NewTime(published),
		Hash:           hex.EncodeToString(sum.Sum(nil)),
	}
	return it, tags, false, nil
}

// splitFrontMatter separates the YAML between the leading "---" lines from the body.
func splitFrontMatter(raw []byte) ([]byte, []byte, error) {
	text := bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark some editors add
	text = bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(text, []byte("---\n")) {
		return nil, nil, errors.New(`the file must start with front matter between "---" lines`)
	}
	rest := text[len("---\n"):]
	end := bytes.Index(rest, []byte("\n---\n"))
	if end < 0 {
		if bytes.HasSuffix(rest, []byte("\n---")) {
			return rest[:len(rest)-len("\n---")], nil, nil
		}
		return nil, nil, errors.New(`the front matter is not closed by a "---" line`)
	}
	return rest[:end], rest[end+len("\n---\n"):], nil
}

// parseDate reads a front-matter date: 2025-03-14 (midnight UTC) or an RFC 3339 time.
func parseDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("published %q is not a date (2025-03-14) or an RFC 3339 time", v)
}

// baseLanguage reduces a BCP 47 tag to its base language ("pt-BR" → "pt"), the unit the feed
// matches on. The caller has validated the tag.
func baseLanguage(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return strings.ToLower(tag)
	}
	b, _ := t.Base()
	return b.String()
}

// renderItem renders the item's body into its stored sections.
func (s *Service) renderItem(it *store.ContentItem) error {
	sections, _, err := s.render.renderSections(it.Body)
	if err != nil {
		return err
	}
	it.Sections = sections
	return nil
}
