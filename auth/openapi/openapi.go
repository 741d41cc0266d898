// Package openapi is Better-Auth's open-api plugin: an OpenAPI 3.1 document of every enabled
// endpoint at GET /open-api/generate-schema and a reference page at GET /reference. The plugin
// itself adds no route of its own through the plugin contract: the document describes the whole
// route table, which only package web holds, so web mounts both routes when the plugin is on
// (web.Config.OpenAPI) and builds the document from the same declarations it mounts.
package openapi

import (
	"errors"
	"fmt"
	"strings"

	"authserver/auth/plugin"
)

// ID is Better-Auth's name for the plugin.
const ID = "open-api"

// DefaultPath is where the reference page is served below the auth base path, as Better-Auth's
// openAPI({path}) default.
const DefaultPath = "/reference"

// SchemaPath is the document's path below the auth base path (fixed in Better-Auth).
const SchemaPath = "/open-api/generate-schema"

// Config is the plugin's options.
type Config struct {
	// Path is the reference page's path below the auth base path (OPEN_API_PATH).
	Path string
	// DisableDefaultReference answers the reference page 404 NOT_FOUND, as Better-Auth's
	// disableDefaultReference (OPEN_API_DISABLE_DEFAULT_REFERENCE); the document stays.
	DisableDefaultReference bool
}

// LoadConfig reads OPEN_API_PATH (default /reference; a path of letters, digits, "-", "_", "."
// and "/" that is not the document's own) and OPEN_API_DISABLE_DEFAULT_REFERENCE (a boolean).
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{Path: DefaultPath}
	var errs []error
	if v := strings.TrimSpace(getenv("OPEN_API_PATH")); v != "" {
		if !validPath(v) || v == SchemaPath {
			errs = append(errs, fmt.Errorf("OPEN_API_PATH: %q is not a path below the auth base path such as /reference (starting with /, letters, digits, -, _, . and / only, not %s)", v, SchemaPath))
		}
		c.Path = v
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("OPEN_API_DISABLE_DEFAULT_REFERENCE"))); v {
	case "", "0", "false", "no", "off":
	case "1", "true", "yes", "on":
		c.DisableDefaultReference = true
	default:
		errs = append(errs, fmt.Errorf("OPEN_API_DISABLE_DEFAULT_REFERENCE: %q is not true or false", v))
	}
	return c, errors.Join(errs...)
}

func validPath(p string) bool {
	if len(p) < 2 || p[0] != '/' || strings.Contains(p, "//") || strings.HasSuffix(p, "/") {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r)) {
			return false
		}
	}
	return true
}

// New returns the plugin. It carries no endpoints: web mounts the document and the page (see the
// package comment), and leaves the plugin's own routes out of the document as Better-Auth does.
func New(Config) plugin.Plugin { return plugin.Plugin{ID: ID} }
