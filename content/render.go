package content

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	goldhtml "github.com/yuin/goldmark/renderer/html"
)

// renderVersion is part of every item's hash: bump it when the Markdown options or the sanitizer
// policy change, so the next Sync renders every item again.
const renderVersion = "1"

// Level sections. A body may mark parts for some levels only:
//
//	:::level beginner
//	Shown to beginners (and to visitors).
//	:::
//
//	:::level intermediate advanced
//	Shown to intermediate and advanced readers (and to visitors).
//	:::
//
// The marker lines stand alone (surrounding spaces are ignored) and sections do not nest. Lines
// inside fenced code blocks are never markers, so articles can show the syntax. Everything outside
// a section is for every reader. Each section is rendered on its own, so a Markdown reference
// link must be defined in the section that uses it.
var (
	sectionOpen  = regexp.MustCompile(`^:::level(\s+.*)?$`)
	sectionClose = ":::"
)

// section is a rendered, sanitized part of a body. Levels is empty for the parts every reader sees.
type section struct {
	Levels []string `json:"levels,omitempty"`
	HTML   string   `json:"html"`
}

// rawSection is a part of a body before rendering.
type rawSection struct {
	levels []string
	text   string
}

// splitSections cuts a Markdown body into its shared parts and level sections, in order.
func splitSections(body string) ([]rawSection, error) {
	var out []rawSection
	var cur strings.Builder
	var curLevels []string
	inSection := false
	fence := "" // the opening fence of the code block we are in, if any
	flush := func() {
		if strings.TrimSpace(cur.String()) != "" {
			out = append(out, rawSection{levels: curLevels, text: cur.String()})
		}
		cur.Reset()
	}
	for n, line := range strings.SplitAfter(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if f := fenceOf(trimmed); f != "" {
			switch {
			case fence == "":
				fence = f
			case f[0] == fence[0] && len(f) >= len(fence) && strings.Trim(trimmed, f[:1]) == "":
				fence = "" // a closing fence: the same character, at least as long, nothing after it
			}
		} else if fence == "" && sectionOpen.MatchString(trimmed) {
			if inSection {
				return nil, fmt.Errorf("line %d: level sections do not nest (close the previous one with %q)", n+1, sectionClose)
			}
			levels := strings.Fields(strings.TrimPrefix(trimmed, ":::level"))
			if len(levels) == 0 {
				return nil, fmt.Errorf("line %d: %q names no level", n+1, trimmed)
			}
			for _, l := range levels {
				if Level(l).rank() < 0 {
					return nil, fmt.Errorf("line %d: unknown level %q (want beginner, intermediate or advanced)", n+1, l)
				}
			}
			flush()
			curLevels, inSection = levels, true
			continue
		} else if fence == "" && trimmed == sectionClose {
			if !inSection {
				return nil, fmt.Errorf("line %d: %q closes no level section", n+1, sectionClose)
			}
			flush()
			curLevels, inSection = nil, false
			continue
		}
		cur.WriteString(line)
	}
	if inSection {
		return nil, fmt.Errorf("a level section is not closed with %q", sectionClose)
	}
	flush()
	return out, nil
}

// fenceOf returns the code-fence run (``` or ~~~, three or more) that starts the line, or "".
func fenceOf(trimmed string) string {
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(trimmed) && trimmed[n] == c {
			n++
		}
		if n >= 3 {
			return trimmed[:n]
		}
	}
	return ""
}

// renderer turns Markdown into HTML that is safe to insert into a page: goldmark (CommonMark with
// GitHub tables, strikethrough and autolinks) renders it, raw HTML included, and bluemonday's
// policy for user-generated content then removes everything that could run script or load
// active content (script and style elements, event-handler attributes such as onerror,
// javascript: and data: URLs, iframes, forms). The sanitizer, not the Markdown options, is the
// security boundary.
type renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

func newRenderer() *renderer {
	md := goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify),
		// Raw HTML passes through goldmark so authors can use harmless tags (<kbd>, <details>);
		// bluemonday decides what survives.
		goldmark.WithRendererOptions(goldhtml.WithUnsafe()),
	)
	p := bluemonday.UGCPolicy()
	// Keep the language hint of fenced code blocks for client-side highlighting.
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[a-zA-Z0-9_+#.-]+$`)).OnElements("code")
	return &renderer{md: md, policy: p}
}

// html renders one Markdown fragment and sanitizes the result.
func (r *renderer) html(src string) (string, error) {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return r.policy.Sanitize(buf.String()), nil
}

// renderSections renders every part of a body, returning them as stored in the sections column
// and the levels that have sections of their own.
func (r *renderer) renderSections(body string) (string, []string, error) {
	raw, err := splitSections(body)
	if err != nil {
		return "", nil, err
	}
	out := make([]section, 0, len(raw))
	var levels []string
	for _, rs := range raw {
		h, err := r.html(rs.text)
		if err != nil {
			return "", nil, err
		}
		out = append(out, section{Levels: rs.levels, HTML: h})
		for _, l := range rs.levels {
			if !slices.Contains(levels, l) {
				levels = append(levels, l)
			}
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", nil, err
	}
	return string(b), sortLevels(levels), nil
}

// sortLevels orders level names from beginner to advanced.
func sortLevels(ls []string) []string {
	slices.SortFunc(ls, func(a, b string) int { return Level(a).rank() - Level(b).rank() })
	return ls
}

// assemble joins the stored sections into the HTML one reader sees. With a level, only the
// sections for that level are kept; with "" (a visitor) every section is kept. Level sections are
// wrapped in <section class="level-section" data-level="..."> so pages can label or style them;
// the wrapper is written here, after sanitizing, from level names checked at load time.
func assemble(stored string, level Level) (string, []string, error) {
	var secs []section
	if err := json.Unmarshal([]byte(stored), &secs); err != nil {
		return "", nil, fmt.Errorf("content: stored sections: %w", err)
	}
	var b strings.Builder
	var levels []string
	for _, sec := range secs {
		for _, l := range sec.Levels {
			if !slices.Contains(levels, l) {
				levels = append(levels, l)
			}
		}
		if len(sec.Levels) == 0 {
			b.WriteString(sec.HTML)
			continue
		}
		if level != "" && !slices.Contains(sec.Levels, string(level)) {
			continue
		}
		b.WriteString(`<section class="level-section" data-level="`)
		b.WriteString(html.EscapeString(strings.Join(sec.Levels, " ")))
		b.WriteString(`">`)
		b.WriteString("\n")
		b.WriteString(sec.HTML)
		b.WriteString("</section>\n")
	}
	if levels == nil {
		levels = []string{}
	}
	return b.String(), sortLevels(levels), nil
}
