package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// dist is the built web app (frontend/, `make web`). It is committed, so `go run .` serves the app
// on a fresh clone without Node.
//
//go:embed all:dist
var dist embed.FS

// contentSecurityPolicy is sent with the app's HTML. The build has no inline script or style, so
// everything can be 'self'; React sets style properties through the CSSOM, which style-src does
// not govern. Item bodies are HTML the server rendered, so images may also be data: URLs.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// Cache policies: Vite names everything under assets/ by content hash, so those never change;
// index.html must be revalidated on every load so a deploy takes effect at once.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheShort     = "public, max-age=3600"
	cacheNoCache   = "no-cache"
)

// staticFile is one file of the app, held in memory with its validators.
type staticFile struct {
	name   string
	body   []byte
	etag   string
	gzip   []byte // nil when compressing does not pay
	gzEtag string
}

// spa serves the embedded single-page app.
type spa struct {
	files map[string]*staticFile
	index *staticFile
}

// loadSPA reads the embedded build once; every web.New shares it.
var loadSPA = sync.OnceValue(func() *spa {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid fixed path, so this cannot happen
	}
	return newSPA(sub)
})

// newSPA reads every file of fsys into memory (the build is a few hundred kilobytes), with a
// content-hash ETag and, for text types, a gzip copy.
func newSPA(fsys fs.FS) *spa {
	s := &spa{files: map[string]*staticFile{}}
	_ = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil
		}
		sum := sha256.Sum256(body)
		f := &staticFile{name: name, body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		if compressible(name) && len(body) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(body)
			_ = zw.Close()
			if buf.Len() < len(body)*9/10 {
				f.gzip = buf.Bytes()
				f.gzEtag = strings.TrimSuffix(f.etag, `"`) + `-gz"`
			}
		}
		s.files[name] = f
		return nil
	})
	s.index = s.files["index.html"]
	return s
}

func compressible(name string) bool {
	switch path.Ext(name) {
	case ".html", ".js", ".mjs", ".css", ".svg", ".json", ".txt", ".map", ".webmanifest":
		return true
	}
	return false
}

// registerStatic serves the web app for every GET and HEAD that no other route took: a file of the
// build when the path names one, otherwise index.html so client-side routes load. The API prefixes
// never fall back, so their unknown paths keep Better-Auth's empty 404.
func registerStatic(e *echo.Echo) {
	s := loadSPA()
	e.GET("/*", s.serve)
	e.HEAD("/*", s.serve)
}

func (s *spa) serve(c echo.Context) error {
	p := c.Request().URL.Path
	if isAPIPath(p) {
		return echo.ErrNotFound
	}
	name := strings.TrimPrefix(path.Clean("/"+p), "/")
	if f, ok := s.files[name]; ok && name != "index.html" {
		cache := cacheShort
		if strings.HasPrefix(name, "assets/") {
			cache = cacheImmutable
		}
		return s.write(c, f, cache)
	}
	if strings.HasPrefix(name, "assets/") || s.index == nil {
		// A missing hashed asset is a stale page asking for an old build: answering with HTML
		// would only produce a confusing script error.
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer") // the reset page carries its token in the query
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	return s.write(c, s.index, cacheNoCache)
}

// write sends f, gzipped when the client accepts it, with conditional-request support.
func (s *spa) write(c echo.Context, f *staticFile, cache string) error {
	w, r := c.Response(), c.Request()
	h := w.Header()
	h.Set("Cache-Control", cache)
	h.Set("X-Content-Type-Options", "nosniff")
	ctype := mime.TypeByExtension(path.Ext(f.name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	body, etag := f.body, f.etag
	if f.gzip != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = f.gzip, f.gzEtag
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
	return nil
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip (a q=0 entry refuses it).
func acceptsGzip(v string) bool {
	for _, part := range strings.Split(v, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		return params != "q=0" && params != "q=0.0" && params != "q=0.00" && params != "q=0.000"
	}
	return false
}

// isAPIPath reports whether p belongs to the JSON APIs, which answer their own 404s.
func isAPIPath(p string) bool {
	for _, prefix := range []string{"/api", "/content"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}
