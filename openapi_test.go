package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/schema_validation"

	"authserver/auth"
	"authserver/content"
	"authserver/session"
	"authserver/web"
)

// allPluginsServer builds the whole HTTP handler as run does, with every plugin this server
// implements switched on (pluginBuilders, so a plugin added later is covered without editing
// this test), and returns it with its base URL.
func allPluginsServer(t *testing.T, extra map[string]string) (*echo.Echo, string) {
	t.Helper()
	var names []string
	for n := range pluginBuilders {
		names = append(names, n)
	}
	slices.Sort(names)
	dir := t.TempDir()
	env := map[string]string{
		"BETTER_AUTH_PLUGINS": strings.Join(names, ","), "DATA_DIR": dir, "DATABASE_URL": "sqlite:" + filepath.Join(dir, "app.db"),
		"BETTER_AUTH_SECRET": strings.Repeat("s", 40), "BETTER_AUTH_URL": "http://localhost:8000",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := loadConfig(envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Web.OpenAPI == nil {
		t.Fatal("open-api is on but web has no OpenAPI config")
	}
	ctx := context.Background()
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Session.Secret = []byte(env["BETTER_AUTH_SECRET"])
	sessions := session.New(cfg.Session, st)
	svc := auth.New(cfg.Auth, st, sessions)
	e := web.New(cfg.Web, web.Deps{Store: st, Sessions: sessions, Auth: svc, Content: content.New(cfg.Content, st)})
	return e, cfg.Web.BaseURL
}

func getJSON(t *testing.T, h http.Handler, path string) (map[string]any, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s = %d %s: %s", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	var d map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	return d, rec.Body.Bytes()
}

// openAPIPath writes an Echo route path as OpenAPI does (":token" as "{token}").
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// checkCoverage compares the routes Echo mounted under prefix with the document's operations,
// both ways: every mounted route is described (own lists the routes that serve the documents
// themselves, left out as Better-Auth leaves out its open-api plugin), and nothing is described
// that is not mounted.
func checkCoverage(t *testing.T, e *echo.Echo, d map[string]any, prefix, server string, own []string) {
	t.Helper()
	serverPath := strings.TrimPrefix(server, "http://localhost:8000")
	mounted := map[string]bool{}
	for _, r := range e.Routes() {
		if !strings.HasPrefix(r.Path, prefix+"/") || slices.Contains(own, r.Path) || r.Method == echo.RouteNotFound {
			continue
		}
		mounted[strings.ToLower(r.Method)+" "+openAPIPath(strings.TrimPrefix(r.Path, serverPath))] = true
	}
	described := map[string]bool{}
	for p, item := range d["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			described[m+" "+p] = true
		}
	}
	if len(mounted) < 10 {
		t.Fatalf("only %d routes mounted under %s", len(mounted), prefix)
	}
	for k := range mounted {
		if !described[k] {
			t.Errorf("mounted route %s is not in the document", k)
		}
	}
	for k := range described {
		if !mounted[k] {
			t.Errorf("the document describes %s, which is not mounted", k)
		}
	}
}

// validate checks the document against the OpenAPI 3.1 schema and that it builds into a model.
func validate(t *testing.T, raw []byte) *validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi version %q, want 3.1.x", v)
	}
	if ok, errs := schema_validation.ValidateOpenAPIDocument(doc); !ok {
		for _, e := range errs {
			t.Errorf("schema: %s: %s (%s)", e.Message, e.Reason, e.Context)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  at %s: %s", se.FieldPath, se.Reason)
			}
		}
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	return &v
}

// The open-api plugin describes every route mounted under /api/auth and /content, with all
// implemented plugins on, in a document that is valid OpenAPI 3.1 and whose request schemas
// accept a real request and refuse a bad one.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	e, base := allPluginsServer(t, nil)

	d, raw := getJSON(t, e, "/api/auth/open-api/generate-schema")
	server := d["servers"].([]any)[0].(map[string]any)["url"].(string)
	if server != base+"/api/auth" {
		t.Errorf("servers[0].url = %q", server)
	}
	checkCoverage(t, e, d, "/api/auth", server, []string{"/api/auth/open-api/generate-schema", "/api/auth/reference"})
	tags := map[string]bool{}
	for _, tg := range d["tags"].([]any) {
		tags[tg.(map[string]any)["name"].(string)] = true
	}
	for _, want := range []string{"Default", "Two-factor", "Admin", "Organization"} {
		if !tags[want] {
			t.Errorf("tag %q missing from %v", want, tags)
		}
	}
	if op := d["paths"].(map[string]any)["/two-factor/enable"].(map[string]any)["post"].(map[string]any); op["tags"].([]any)[0] != "Two-factor" {
		t.Errorf("two-factor/enable tags = %v", op["tags"])
	}
	user := d["components"].(map[string]any)["schemas"].(map[string]any)["User"].(map[string]any)["properties"].(map[string]any)
	for _, f := range []string{"email", "twoFactorEnabled", "role", "username"} {
		if user[f] == nil {
			t.Errorf("components.schemas.User has no %s", f)
		}
	}
	v := validate(t, raw)

	// The sign-up body schema is the router's: a good body passes, one without a password fails.
	check := func(body string) bool {
		r := httptest.NewRequest("POST", base+"/api/auth/sign-up/email", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		ok, _ := (*v).ValidateHttpRequest(r)
		return ok
	}
	if !check(`{"name":"A","email":"a@example.com","password":"password123","username":"alice"}`) {
		t.Error("a good sign-up body does not validate against the document")
	}
	if check(`{"name":"A","email":"a@example.com"}`) {
		t.Error("a sign-up body without a password validates against the document")
	}

	cd, craw := getJSON(t, e, "/content/openapi.json")
	checkCoverage(t, e, cd, "/content", base, []string{"/content/openapi.json"})
	validate(t, craw)
}

// The reference page is a self-contained HTML page listing the endpoints; it loads nothing from
// elsewhere. OPEN_API_DISABLE_DEFAULT_REFERENCE makes it 404 and OPEN_API_PATH moves it.
func TestOpenAPIReferencePage(t *testing.T) {
	e, _ := allPluginsServer(t, nil)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/api/auth/reference", nil))
	page := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("reference = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{"<code>/sign-in/email</code>", "<code>/two-factor/enable</code>", `href="/api/auth/open-api/generate-schema"`} {
		if !strings.Contains(page, want) {
			t.Errorf("reference page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "https://"} {
		if strings.Contains(page, bad) {
			t.Errorf("reference page contains %q: it must load nothing from elsewhere", bad)
		}
	}

	// A page path that names an endpoint leaves the endpoint alone.
	e, _ = allPluginsServer(t, map[string]string{"OPEN_API_PATH": "/get-session"})
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/api/auth/get-session", nil))
	if rec.Code != 200 || rec.Body.String() != "null" {
		t.Errorf("get-session with OPEN_API_PATH=/get-session = %d %q, want the endpoint's null", rec.Code, rec.Body.String())
	}

	e, _ = allPluginsServer(t, map[string]string{"OPEN_API_PATH": "/docs", "OPEN_API_DISABLE_DEFAULT_REFERENCE": "true"})
	for path, want := range map[string]int{"/api/auth/docs": 404, "/api/auth/reference": 404, "/api/auth/open-api/generate-schema": 200} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
		}
		if path == "/api/auth/docs" && (rec.Body.Len() != 0 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json")) {
			t.Errorf("disabled reference: %s %q, want Better-Auth's empty JSON 404", rec.Header().Get("Content-Type"), rec.Body.String())
		}
	}
}

// Without the plugin neither document nor page exists.
func TestOpenAPIOff(t *testing.T) {
	cfg, err := loadConfig(envMap(map[string]string{"BETTER_AUTH_PLUGINS": "two-factor"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Web.OpenAPI != nil {
		t.Error("open-api is off but web serves its document")
	}
}
