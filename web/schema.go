package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"authserver/auth"
	"authserver/auth/plugin"
	"authserver/store"
)

// fieldKind is the type a body field must have; plugins declare theirs with the same kinds.
type fieldKind = plugin.Kind

const (
	kString         = plugin.String
	kNonEmptyString = plugin.NonEmptyString
	kEmail          = plugin.Email
	kBool           = plugin.Bool
	kNullableString = plugin.NullableString
	kRecord         = plugin.Record
	kAny            = plugin.Any
	kStringOrList   = plugin.StringOrStrings
)

type field struct {
	name     string
	kind     fieldKind
	optional bool
	// stored marks text that is written to the database as is (names, emails, passwords):
	// PostgreSQL cannot store NUL characters, so they are refused on both databases alike.
	stored bool
	// max, when positive, bounds a string's length in UTF-16 code units (zod's .max()).
	max int
	// literal, when set, is the one value the field may have (zod's z.literal of a string).
	literal string
}

// schema checks a request body the way Better-Auth's zod schemas do and reports failures with the
// same "[body.<field>] <zod message>" text, joined with "; ", under code VALIDATION_ERROR.
type schema struct {
	fields []field
	// optionalBody lets the whole body be absent (z.object(...).optional()).
	optionalBody bool
	// record marks z.record bodies (any object), and andRecord z.object(...).and(z.record(...)):
	// zod names the expected type "record" for those, and the intersection reports both.
	record, andRecord bool
	// tree, used instead of fields, describes a body with nested objects, arrays and records.
	// fields stays flat because plugins declare theirs in that form (plugin.Kind).
	tree []zfield
	// onError, when set, turns a failure's message into the error answered instead of
	// VALIDATION_ERROR (a plugin's OnValidationError).
	onError func(message string, body map[string]any) error
}

func (s *schema) validate(body map[string]any, kind bodyKind) error {
	if kind == bodyAbsent && s.optionalBody {
		return nil
	}
	if kind != "object" {
		switch {
		case s.record:
			return validationError("[body] Invalid input: expected record, received " + string(kind))
		case s.andRecord:
			return validationError("[body] Invalid input: expected object, received " + string(kind) + "; [body] Invalid input: expected record, received " + string(kind))
		}
		return validationError("[body] Invalid input: expected object, received " + string(kind))
	}
	var issues []string
	zobject("body", body, s.tree, &issues)
	for _, f := range s.fields {
		v, present := body[f.name]
		if f.literal != "" {
			// z.literal: zod names only the expected value, whatever was sent (or not).
			if v != f.literal {
				issues = append(issues, issue(f, "Invalid input: expected "+strconv.Quote(f.literal)))
			}
			continue
		}
		if !present {
			if f.optional {
				continue
			}
			if f.kind == kStringOrList {
				issues = append(issues, issue(f, "Invalid input"))
				continue
			}
			issues = append(issues, issue(f, "Invalid input: expected "+expected(f.kind)+", received undefined"))
			continue
		}
		if msg := checkKind(f.kind, v); msg != "" {
			issues = append(issues, issue(f, msg))
		} else if str, isStr := v.(string); isStr && f.stored && !store.ValidText(str) {
			issues = append(issues, issue(f, nulMessage))
		} else if msg := lengthIssue(str, f.max); isStr && msg != "" {
			issues = append(issues, issue(f, msg))
		}
	}
	if len(issues) > 0 {
		return validationError(strings.Join(issues, "; "))
	}
	return nil
}

func issue(f field, msg string) string { return "[body." + f.name + "] " + msg }

func validationError(msg string) *apiError {
	return newAPIError(http.StatusBadRequest, "VALIDATION_ERROR", msg)
}

func expected(k fieldKind) string {
	switch k {
	case kBool:
		return "boolean"
	case kRecord:
		return "record"
	case kAny:
		return "nonoptional" // z.any() that must be present: zod's wording for undefined
	}
	return "string"
}

func checkKind(k fieldKind, v any) string {
	got := jsKind(v)
	switch k {
	case kAny:
	case kStringOrList:
		list, isList := v.([]any)
		if got == "string" {
			return ""
		}
		if !isList {
			return "Invalid input"
		}
		for _, e := range list {
			if _, ok := e.(string); !ok {
				return "Invalid input"
			}
		}
	case kBool:
		if got != "boolean" {
			return "Invalid input: expected boolean, received " + string(got)
		}
	case kRecord:
		if got != "object" {
			return "Invalid input: expected record, received " + string(got)
		}
	case kNullableString:
		if got != "string" && got != "null" {
			return "Invalid input: expected string, received " + string(got)
		}
	default:
		if got != "string" {
			return "Invalid input: expected string, received " + string(got)
		}
		s := v.(string)
		if k == kNonEmptyString && s == "" {
			return "Too small: expected string to have >=1 characters"
		}
		if k == kEmail && !auth.ValidEmail(s) {
			return "Invalid email address"
		}
	}
	return ""
}

// nulMessage is the validation issue for a NUL character in stored text. JSON and form bodies
// arrive as valid UTF-8 (invalid bytes become U+FFFD), so NUL is the only character they can
// carry that a text column refuses.
const nulMessage = "Invalid input: text must not contain NUL characters"

// textMessage describes text no column can hold, wherever it comes from.
const textMessage = "text must not contain NUL characters or invalid UTF-8"

// lengthIssue is zod's message for a string longer than max UTF-16 code units, or "" when it is
// not (or max is 0).
func lengthIssue(s string, max int) string {
	if max <= 0 || len(s) <= max || auth.TextLength(s) <= max { // never more units than bytes
		return ""
	}
	return "Too big: expected string to have <=" + strconv.Itoa(max) + " characters"
}

// zkind and zfield describe bodies that nest objects, arrays and records (the social endpoints'),
// as a schema's tree. They are checked in zod's order and with zod's messages, full paths
// included ("[body.scopes.0] Invalid input: expected string, received number").

type zkind int

const (
	zString    zkind = iota
	zBool            // z.boolean()
	zNumber          // z.number()
	zStrings         // z.array(z.string())
	zStringMap       // z.record(z.string(), z.string())
	zAnyMap          // z.record(z.string(), z.any())
	zObject          // z.object({...})
	zUnion           // z.enum(...).or(z.string()): a string; zod reports failures as "Invalid input"
)

type zfield struct {
	name     string
	kind     zkind
	optional bool
	fields   []zfield // zObject
	// reserved refuses these keys in a zStringMap with refineMsg (additionalParams).
	reserved  func(string) bool
	refineMsg string
}

func zobject(path string, obj map[string]any, fields []zfield, issues *[]string) {
	for _, f := range fields {
		v, present := obj[f.name]
		p := path + "." + f.name
		if !present {
			if !f.optional {
				*issues = append(*issues, "["+p+"] "+zmissing(f.kind))
			}
			continue
		}
		zvalue(p, v, f, issues)
	}
}

func zmissing(k zkind) string {
	if k == zUnion {
		return "Invalid input"
	}
	return "Invalid input: expected " + zexpected(k) + ", received undefined"
}

func zexpected(k zkind) string {
	switch k {
	case zBool:
		return "boolean"
	case zNumber:
		return "number"
	case zStrings:
		return "array"
	case zStringMap, zAnyMap:
		return "record"
	case zObject:
		return "object"
	}
	return "string"
}

func zvalue(path string, v any, f zfield, issues *[]string) {
	got := jsKind(v)
	mismatch := func() {
		if f.kind == zUnion {
			*issues = append(*issues, "["+path+"] Invalid input")
			return
		}
		*issues = append(*issues, "["+path+"] Invalid input: expected "+zexpected(f.kind)+", received "+string(got))
	}
	switch f.kind {
	case zString, zUnion:
		if got != "string" {
			mismatch()
		}
	case zBool:
		if got != "boolean" {
			mismatch()
		}
	case zNumber:
		if got != "number" {
			mismatch()
		}
	case zStrings:
		arr, ok := v.([]any)
		if !ok {
			mismatch()
			return
		}
		for i, e := range arr {
			if k := jsKind(e); k != "string" {
				*issues = append(*issues, "["+path+"."+strconv.Itoa(i)+"] Invalid input: expected string, received "+string(k))
			}
		}
	case zStringMap, zAnyMap:
		m, ok := v.(map[string]any)
		if !ok {
			mismatch()
			return
		}
		before := len(*issues)
		if f.kind == zStringMap {
			for _, k := range sortedMapKeys(m) {
				if kind := jsKind(m[k]); kind != "string" {
					*issues = append(*issues, "["+path+"."+k+"] Invalid input: expected string, received "+string(kind))
				}
			}
		}
		if f.reserved != nil && len(*issues) == before {
			for k := range m {
				if f.reserved(k) {
					*issues = append(*issues, "["+path+"] "+f.refineMsg)
					break
				}
			}
		}
	case zObject:
		m, ok := v.(map[string]any)
		if !ok {
			mismatch()
			return
		}
		zobject(path, m, f.fields, issues)
	}
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
