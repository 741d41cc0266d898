package web

import (
	"net/http"
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
	for _, f := range s.fields {
		v, present := body[f.name]
		if !present {
			if f.optional {
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
	if k == kBool {
		return "boolean"
	}
	return "string"
}

func checkKind(k fieldKind, v any) string {
	got := jsKind(v)
	switch k {
	case kBool:
		if got != "boolean" {
			return "Invalid input: expected boolean, received " + string(got)
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
