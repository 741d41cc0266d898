package web

import (
	"html/template"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"authserver/auth/openapi"
	"authserver/store"
)

// The open-api plugin's documents are generated from the declarations the router mounts: every
// endpoint passed to authHandler.route is recorded (authHandler.documented) in mounting order, and
// the content API is mounted from the contentRoutes table. What is mounted is thus what is
// described, and a route cannot be added without appearing (TestOpenAPICoversEveryRoute).

// contentDocumentPath is the content API's own OpenAPI document, served with the open-api plugin.
const contentDocumentPath = "/content/openapi.json"

// coreTag is Better-Auth's tag for the endpoints of no plugin.
const coreTag = "Default"

// pluginTag is Better-Auth's tag for a plugin's endpoints: its id with the first letter upper-cased.
func pluginTag(id string) string {
	if id == "" {
		return coreTag
	}
	return strings.ToUpper(id[:1]) + id[1:]
}

// registerOpenAPIRoutes mounts the document and the reference page when the plugin is on. They are
// mounted outside authHandler.route, so they stay out of the document, as in Better-Auth, whose
// generator skips the open-api plugin.
func (h *authHandler) registerOpenAPIRoutes(g *echo.Group) {
	cfg := h.cfg.OpenAPI
	if cfg == nil {
		return
	}
	noStore := func(c echo.Context) { c.Response().Header().Set("Cache-Control", "no-store") }
	g.GET(openapi.SchemaPath, func(c echo.Context) error {
		noStore(c)
		return ok(c, h.authDocument())
	})
	for _, ep := range h.documented {
		if ep.method == http.MethodGet && ep.path == cfg.Path {
			// Mounting the page there would silently replace an endpoint clients rely on.
			h.log.Error("OPEN_API_PATH names an existing endpoint; the reference page is not served", slog.String("path", cfg.Path))
			return
		}
	}
	g.GET(cfg.Path, func(c echo.Context) error {
		noStore(c)
		if cfg.DisableDefaultReference {
			// Better-Auth throws APIError("NOT_FOUND"): a 404 with a JSON content type and no body.
			return &apiError{Status: http.StatusNotFound, Empty: true}
		}
		return referencePage(c, h.authDocument(), strings.TrimRight(h.cfg.BasePath, "/")+openapi.SchemaPath)
	})
}

// doc is a JSON object of the document.
type doc = map[string]any

// authDocument is the OpenAPI 3.1 document of /api/auth as Better-Auth's generator shapes it:
// its info, servers, security schemes and model schemas, one "Default" tag for the core, and
// every mounted endpoint with its body schema, its session need and the errors its stages give.
func (h *authHandler) authDocument() doc {
	paths := doc{}
	for _, ep := range h.documented {
		p := openAPIPath(ep.path)
		item, _ := paths[p].(doc)
		if item == nil {
			item = doc{}
			paths[p] = item
		}
		item[strings.ToLower(ep.method)] = h.operation(ep)
	}
	tags := []doc{{"name": coreTag, "description": "Default endpoints that are included with Better Auth by default. These endpoints are not part of any plugin."}}
	if h.auth != nil {
		for _, p := range h.auth.Plugins() {
			if len(p.Endpoints) > 0 {
				tags = append(tags, doc{"name": pluginTag(p.ID), "description": "Endpoints of the " + p.ID + " plugin."})
			}
		}
	}
	return doc{
		"openapi": "3.1.1",
		"info":    doc{"title": "Better Auth", "description": "API Reference for your Better Auth Instance", "version": "1.1.0"},
		"servers": []doc{{"url": strings.TrimRight(h.cfg.BaseURL, "/") + strings.TrimRight(h.cfg.BasePath, "/")}},
		"components": doc{
			"schemas": h.modelSchemas(),
			"securitySchemes": doc{
				"apiKeyCookie": doc{"type": "apiKey", "in": "cookie", "name": "apiKeyCookie", "description": "API Key authentication via cookie"},
				"bearerAuth":   doc{"type": "http", "scheme": "bearer", "description": "Bearer token authentication"},
			},
		},
		"security": []doc{{"apiKeyCookie": []string{}, "bearerAuth": []string{}}},
		"tags":     tags,
		"paths":    paths,
	}
}

// operation describes one endpoint from its declaration.
func (h *authHandler) operation(ep endpoint) doc {
	tag := ep.tag
	if tag == "" {
		tag = coreTag
	}
	op := doc{
		"tags":        []string{tag},
		"operationId": operationID(ep.method, ep.path),
		"security":    []doc{{"bearerAuth": []string{}}, {"apiKeyCookie": []string{}}},
		"responses":   authResponses(ep),
	}
	switch ep.session {
	case noSession:
		op["security"] = []doc{}
	case optionalSession:
		op["security"] = []doc{{}, {"bearerAuth": []string{}}, {"apiKeyCookie": []string{}}}
	}
	if params := pathParams(ep.path); len(params) > 0 {
		op["parameters"] = params
	}
	if ep.method == http.MethodPost || ep.method == http.MethodPut || ep.method == http.MethodPatch {
		op["requestBody"] = h.requestBody(ep)
	}
	return op
}

// requestBody is the body an endpoint's schema accepts; an endpoint without a schema takes any
// object, as Better-Auth writes it.
func (h *authHandler) requestBody(ep endpoint) doc {
	s := doc{"type": "object", "properties": doc{}}
	required := ep.noBody
	if ep.schema != nil {
		s = ep.schema.openAPI()
		required = !ep.schema.optionalBody
		if ep.path == "/sign-up/email" || ep.path == "/update-user" {
			h.addUserInputFields(s)
		}
	}
	content := doc{"application/json": doc{"schema": s}}
	if ep.form {
		content["application/x-www-form-urlencoded"] = doc{"schema": s}
	}
	return doc{"required": required && !ep.noBody, "content": content}
}

// addUserInputFields adds the plugins' writable user fields to a sign-up or update-user body, as
// Better-Auth's generator does for the fields its parseUserInput takes.
func (h *authHandler) addUserInputFields(s doc) {
	props, _ := s["properties"].(doc)
	if props == nil {
		props = doc{}
		s["properties"] = props
	}
	for _, f := range h.cols.User {
		if f.ReadOnly || f.Hidden {
			continue
		}
		if _, taken := props[f.Name]; !taken {
			props[f.Name] = fieldSchema(f)
		}
	}
}

// openAPI is the JSON schema of the bodies s accepts.
func (s *schema) openAPI() doc {
	out := doc{"type": "object"}
	props := doc{}
	var required []string
	for _, f := range s.fields {
		props[f.name] = kindSchema(f.kind, f.max)
		if !f.optional {
			required = append(required, f.name)
		}
	}
	treeProps, treeRequired := zfieldsSchema(s.tree)
	for k, v := range treeProps {
		props[k] = v
	}
	required = append(required, treeRequired...)
	if s.record || s.andRecord {
		out["additionalProperties"] = doc{}
	}
	if len(props) > 0 || !s.record {
		out["properties"] = props
	}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

func kindSchema(k fieldKind, max int) doc {
	var out doc
	switch k {
	case kBool:
		out = doc{"type": "boolean"}
	case kRecord:
		out = doc{"type": "object", "additionalProperties": doc{}}
	case kAny:
		out = doc{}
	case kNullableString:
		out = doc{"type": []string{"string", "null"}}
	case kNonEmptyString:
		out = doc{"type": "string", "minLength": 1}
	case kEmail:
		out = doc{"type": "string", "format": "email"}
	default:
		out = doc{"type": "string"}
	}
	if max > 0 {
		out["maxLength"] = max
	}
	return out
}

func zfieldsSchema(fields []zfield) (doc, []string) {
	props := doc{}
	var required []string
	for _, f := range fields {
		props[f.name] = zfieldSchema(f)
		if !f.optional {
			required = append(required, f.name)
		}
	}
	return props, required
}

func zfieldSchema(f zfield) doc {
	switch f.kind {
	case zBool:
		return doc{"type": "boolean"}
	case zNumber:
		return doc{"type": "number"}
	case zStrings:
		return doc{"type": "array", "items": doc{"type": "string"}}
	case zStringMap:
		return doc{"type": "object", "additionalProperties": doc{"type": "string"}}
	case zAnyMap:
		return doc{"type": "object", "additionalProperties": doc{}}
	case zObject:
		props, required := zfieldsSchema(f.fields)
		out := doc{"type": "object", "properties": props}
		if len(required) > 0 {
			out["required"] = required
		}
		return out
	}
	return doc{"type": "string"}
}

// fieldSchema is the schema of a column a plugin adds.
func fieldSchema(f store.Field) doc {
	var out doc
	switch f.Type {
	case store.BoolField:
		out = doc{"type": "boolean"}
	case store.IntField:
		out = doc{"type": "number"}
	case store.TimeField:
		out = doc{"type": "string", "format": "date-time"}
	default:
		out = doc{"type": "string"}
	}
	if f.Nullable {
		out["type"] = []string{out["type"].(string), "null"}
	}
	if f.ReadOnly {
		out["readOnly"] = true
	}
	return out
}

// modelSchemas are the core models with the enabled plugins' user and session fields, named as
// Better-Auth names them.
func (h *authHandler) modelSchemas() doc {
	str := doc{"type": "string"}
	date := doc{"type": "string", "format": "date-time"}
	nullable := doc{"type": []string{"string", "null"}}
	id := doc{"type": "string", "readOnly": true}
	model := func(props doc, required []string, extra []store.Field) doc {
		for _, f := range extra {
			if f.Hidden {
				continue
			}
			props[f.Name] = fieldSchema(f)
			if !f.Nullable {
				required = append(required, f.Name)
			}
		}
		return doc{"type": "object", "properties": props, "required": required}
	}
	return doc{
		"User": model(doc{"id": id, "name": str, "email": str, "emailVerified": doc{"type": "boolean", "default": false}, "image": nullable,
			"createdAt": date, "updatedAt": date}, []string{"id", "name", "email", "emailVerified", "createdAt", "updatedAt"}, h.cols.User),
		"Session": model(doc{"id": id, "expiresAt": date, "token": str, "createdAt": date, "updatedAt": date, "ipAddress": nullable,
			"userAgent": nullable, "userId": str}, []string{"id", "expiresAt", "token", "createdAt", "updatedAt", "userId"}, h.cols.Session),
		"Account": model(doc{"id": id, "accountId": str, "providerId": str, "userId": str, "accessToken": nullable, "refreshToken": nullable,
			"idToken": nullable, "accessTokenExpiresAt": nullable, "refreshTokenExpiresAt": nullable, "scope": nullable, "password": nullable,
			"createdAt": date, "updatedAt": date}, []string{"id", "accountId", "providerId", "userId", "createdAt", "updatedAt"}, nil),
		"Verification": model(doc{"id": id, "identifier": str, "value": str, "expiresAt": date, "createdAt": date, "updatedAt": date},
			[]string{"id", "identifier", "value", "expiresAt", "createdAt", "updatedAt"}, nil),
		"Error": doc{"type": "object", "properties": doc{"message": str, "code": str}, "required": []string{"message"}},
	}
}

// authResponses are an endpoint's answers: success, and the errors its declared stages give (body
// parsing, origin check, schema, sign-in CSRF check, session need), plus those of every endpoint
// (rate limit, server error). Errors of the handler itself keep Better-Auth's generic wording.
func authResponses(ep endpoint) doc {
	codes := map[int][]string{}
	add := func(status int, code ...string) { codes[status] = append(codes[status], code...) }
	write := ep.method != http.MethodGet && ep.method != http.MethodHead
	if !ep.noBody && write {
		add(http.StatusBadRequest, "BAD_REQUEST")
		add(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
		add(http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	}
	if write {
		add(http.StatusForbidden, "MISSING_OR_NULL_ORIGIN", "INVALID_ORIGIN", "INVALID_CALLBACK_URL")
	}
	if ep.schema != nil {
		add(http.StatusBadRequest, "VALIDATION_ERROR")
	}
	if ep.formCSRF {
		add(http.StatusForbidden, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
	}
	switch ep.session {
	case needSession:
		add(http.StatusUnauthorized, "UNAUTHORIZED")
	case needFreshSession:
		add(http.StatusUnauthorized, "UNAUTHORIZED")
		add(http.StatusForbidden, "SESSION_NOT_FRESH")
	}
	out := doc{"200": doc{"description": "Success", "content": doc{"application/json": doc{"schema": doc{}}}}}
	for status, list := range codes {
		out[statusKey(status)] = errorResponse(status, list)
	}
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests, http.StatusInternalServerError} {
		if _, set := out[statusKey(status)]; !set {
			out[statusKey(status)] = errorResponse(status, nil)
		}
	}
	return out
}

var statusDescriptions = map[int]string{
	http.StatusBadRequest:            "Bad Request. Usually due to missing parameters, or invalid parameters.",
	http.StatusUnauthorized:          "Unauthorized. Due to missing or invalid authentication.",
	http.StatusForbidden:             "Forbidden. You do not have permission to access this resource or to perform this action.",
	http.StatusNotFound:              "Not Found. The requested resource was not found.",
	http.StatusTooManyRequests:       "Too Many Requests. You have exceeded the rate limit. Try again later.",
	http.StatusInternalServerError:   "Internal Server Error. This is a problem with the server that you cannot fix.",
	http.StatusUnsupportedMediaType:  "Unsupported Media Type. The body must be JSON (or a form where the endpoint takes one).",
	http.StatusRequestEntityTooLarge: "Payload Too Large. The body is over the server's limit.",
}

func statusKey(status int) string { return strconv.Itoa(status) }

// errorResponse is an error answer in Better-Auth's {message, code} shape; codes, when known,
// are listed in the description and as the code's enum.
func errorResponse(status int, codes []string) doc {
	desc := statusDescriptions[status]
	s := doc{"$ref": "#/components/schemas/Error"}
	if len(codes) > 0 {
		slices.Sort(codes)
		codes = slices.Compact(codes)
		desc += " Codes: " + strings.Join(codes, ", ") + "."
	}
	return doc{"description": desc, "content": doc{"application/json": doc{"schema": s}}}
}

// openAPIPath writes Echo's ":param" segments as OpenAPI's "{param}".
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func pathParams(p string) []doc {
	var out []doc
	for _, s := range strings.Split(p, "/") {
		if strings.HasPrefix(s, ":") {
			out = append(out, doc{"name": s[1:], "in": "path", "required": true, "schema": doc{"type": "string"}})
		}
	}
	return out
}

// operationID is unique per method and path: the path's segments in camelCase after the method
// ("postSignInEmail"), as the JS client names its actions.
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	up := true
	for _, r := range path {
		switch {
		case r == '/' || r == '-' || r == ':' || r == '.' || r == '_':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// contentDocument is the OpenAPI 3.1 document of /content/*, from the contentRoutes table: the
// bodies and answers are the JSON schemas of the Go types the handlers decode and print.
func contentDocument(baseURL string) doc {
	paths := doc{}
	for _, r := range append(slices.Clone(contentRoutes), settingsRoute) {
		p := openAPIPath(r.path)
		item, _ := paths[p].(doc)
		if item == nil {
			item = doc{}
			paths[p] = item
		}
		op := doc{
			"tags":        []string{"Content"},
			"summary":     r.summary,
			"operationId": operationID(r.method, r.path),
			"security":    []doc{{"bearerAuth": []string{}}, {"sessionCookie": []string{}}},
		}
		if r.public {
			op["security"] = []doc{}
		}
		params := pathParams(r.path)
		for _, q := range r.query {
			params = append(params, doc{"name": q, "in": "query", "required": false, "schema": doc{"type": "string"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if r.body != nil {
			op["requestBody"] = doc{"required": true, "content": doc{"application/json": doc{"schema": goSchema(reflect.TypeOf(r.body), false)}}}
		}
		responses := doc{
			"200": doc{"description": "Success", "content": doc{"application/json": doc{"schema": goSchema(reflect.TypeOf(r.answer), true)}}},
			"404": errorResponse(http.StatusNotFound, nil),
			"500": errorResponse(http.StatusInternalServerError, nil),
		}
		if r.body != nil || len(r.query) > 0 {
			responses["400"] = errorResponse(http.StatusBadRequest, []string{"VALIDATION_ERROR"})
		}
		if !r.public {
			responses["401"] = errorResponse(http.StatusUnauthorized, []string{"UNAUTHORIZED"})
		}
		op["responses"] = responses
		item[strings.ToLower(r.method)] = op
	}
	return doc{
		"openapi": "3.1.1",
		"info":    doc{"title": "Content API", "description": "Personalized reading content; everything but /content/public/* needs a session.", "version": "1.0.0"},
		"servers": []doc{{"url": strings.TrimRight(baseURL, "/")}},
		"components": doc{
			"schemas": doc{"Error": doc{"type": "object", "properties": doc{"message": doc{"type": "string"}, "code": doc{"type": "string"}}, "required": []string{"message"}}},
			"securitySchemes": doc{
				"bearerAuth":    doc{"type": "http", "scheme": "bearer", "description": "The session token (set-auth-token) as a bearer token"},
				"sessionCookie": doc{"type": "apiKey", "in": "cookie", "name": "better-auth.session_token", "description": "The signed session cookie (__Secure- prefixed under https)"},
			},
		},
		"tags":  []doc{{"name": "Content", "description": "The content API."}},
		"paths": paths,
	}
}

var jsTimeType = reflect.TypeOf(jsTime{})

// goSchema is the JSON schema of what encoding/json reads into or writes from t. answer says
// whether t is printed (every field present, pointers may be null) or decoded (every field
// optional; null means not sent).
func goSchema(t reflect.Type, answer bool) doc {
	switch {
	case t == jsTimeType:
		return doc{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		inner := goSchema(t.Elem(), answer)
		if typ, ok := inner["type"].(string); ok {
			inner["type"] = []string{typ, "null"}
			return inner
		}
		return doc{"anyOf": []doc{inner, {"type": "null"}}}
	}
	switch t.Kind() {
	case reflect.String:
		return doc{"type": "string"}
	case reflect.Bool:
		return doc{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return doc{"type": "integer"}
	case reflect.Float64, reflect.Float32:
		return doc{"type": "number"}
	case reflect.Slice:
		return doc{"type": "array", "items": goSchema(t.Elem(), answer)}
	case reflect.Map:
		return doc{"type": "object", "additionalProperties": goSchema(t.Elem(), answer)}
	case reflect.Struct:
		props := doc{}
		var required []string
		goFields(t, answer, props, &required)
		out := doc{"type": "object", "properties": props}
		if len(required) > 0 {
			sort.Strings(required)
			out["required"] = required
		}
		return out
	}
	return doc{}
}

func goFields(t reflect.Type, answer bool, props doc, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			goFields(f.Type, answer, props, required)
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = goSchema(f.Type, answer)
		if answer {
			*required = append(*required, name)
		}
	}
}

// referencePage answers the reference page: the document rendered as HTML on the server, with no
// script and nothing loaded from elsewhere (Better-Auth's page loads Scalar from a CDN).
func referencePage(c echo.Context, d doc, schemaURL string) error {
	type op struct {
		Method, Path, Tag, Security string
		Body                        []string
		Errors                      []string
	}
	var ops []op
	paths := d["paths"].(doc)
	for _, p := range sortedKeys(paths) {
		item := paths[p].(doc)
		for _, m := range sortedKeys(item) {
			o := item[m].(doc)
			x := op{Method: strings.ToUpper(m), Path: p, Tag: o["tags"].([]string)[0]}
			if sec, _ := o["security"].([]doc); len(sec) > 0 {
				x.Security = "session"
				if len(sec[0]) == 0 {
					x.Security = "optional session"
				}
			}
			if rb, _ := o["requestBody"].(doc); rb != nil {
				s := rb["content"].(doc)["application/json"].(doc)["schema"].(doc)
				props, _ := s["properties"].(doc)
				req, _ := s["required"].([]string)
				for _, k := range sortedKeys(props) {
					label := k
					if !slices.Contains(req, k) {
						label += "?"
					}
					x.Body = append(x.Body, label)
				}
			}
			resp := o["responses"].(doc)
			for _, k := range sortedKeys(resp) {
				if k != "200" {
					x.Errors = append(x.Errors, k)
				}
			}
			ops = append(ops, x)
		}
	}
	// The core first, then each plugin's endpoints; paths and methods stay sorted within a tag.
	sort.SliceStable(ops, func(i, j int) bool {
		ci, cj := ops[i].Tag == coreTag, ops[j].Tag == coreTag
		if ci != cj {
			return ci
		}
		return ops[i].Tag < ops[j].Tag
	})
	var b strings.Builder
	err := referenceTemplate.Execute(&b, map[string]any{"Server": d["servers"].([]doc)[0]["url"], "SchemaURL": schemaURL, "Ops": ops})
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, b.String())
}

func sortedKeys(m doc) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var referenceTemplate = template.Must(template.New("reference").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Better Auth API</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
code{font-size:.9em}.m{font-weight:600;font-family:monospace}</style></head>
<body><h1>Better Auth API</h1>
<p>API Reference for your Better Auth Instance. Server: <code>{{.Server}}</code>. The OpenAPI 3.1 document: <a href="{{.SchemaURL}}">{{.SchemaURL}}</a>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>Tag</th><th>Needs</th><th>Body</th><th>Errors</th></tr></thead><tbody>
{{range .Ops}}<tr><td class="m">{{.Method}}</td><td><code>{{.Path}}</code></td><td>{{.Tag}}</td><td>{{.Security}}</td><td>{{range $i, $f := .Body}}{{if $i}}, {{end}}<code>{{$f}}</code>{{end}}</td><td>{{range $i, $e := .Errors}}{{if $i}} {{end}}{{$e}}{{end}}</td></tr>
{{end}}</tbody></table></body></html>`))
