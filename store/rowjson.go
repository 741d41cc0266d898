package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// The user and session rows as Better-Auth prints them (its adapter's output): the get-session,
// sign-in and list-sessions bodies and the cookie cache all carry these objects. They are written
// by hand rather than through encoding/json because get-session is most of an auth server's
// traffic and reflection was about a tenth of its CPU; the output equals encoding/json's (with
// HTML escaping off) byte for byte, which web's TestAppendJSONMatchesEncodingJSON checks.

// AppendUserJSON appends u as a JSON object: the core fields in Better-Auth's order, then each
// field in fields that is not Hidden (unset values as null), then "id".
func AppendUserJSON(b []byte, u *User, fields []Field) []byte {
	b = append(b, `{"name":`...)
	b = AppendJSONString(b, u.Name)
	b = append(b, `,"email":`...)
	b = AppendJSONString(b, u.Email)
	if u.EmailVerified {
		b = append(b, `,"emailVerified":true,"image":`...)
	} else {
		b = append(b, `,"emailVerified":false,"image":`...)
	}
	b = appendOptString(b, u.Image)
	b = append(b, `,"createdAt":`...)
	b = AppendJSTime(b, u.CreatedAt.Time)
	b = append(b, `,"updatedAt":`...)
	b = AppendJSTime(b, u.UpdatedAt.Time)
	b = appendFields(b, fields, u.Extra)
	b = append(b, `,"id":`...)
	b = AppendJSONString(b, u.ID)
	return append(b, '}')
}

// AppendSessionJSON appends s as a JSON object, raw token included as Better-Auth sends it: the
// core fields in Better-Auth's order, then each field in fields that is not Hidden, then "id".
func AppendSessionJSON(b []byte, s *Session, fields []Field) []byte {
	b = append(b, `{"expiresAt":`...)
	b = AppendJSTime(b, s.ExpiresAt.Time)
	b = append(b, `,"token":`...)
	b = AppendJSONString(b, s.Token)
	b = append(b, `,"createdAt":`...)
	b = AppendJSTime(b, s.CreatedAt.Time)
	b = append(b, `,"updatedAt":`...)
	b = AppendJSTime(b, s.UpdatedAt.Time)
	b = append(b, `,"ipAddress":`...)
	b = appendOptString(b, s.IPAddress)
	b = append(b, `,"userAgent":`...)
	b = appendOptString(b, s.UserAgent)
	b = append(b, `,"userId":`...)
	b = AppendJSONString(b, s.UserID)
	b = appendFields(b, fields, s.Extra)
	b = append(b, `,"id":`...)
	b = AppendJSONString(b, s.ID)
	return append(b, '}')
}

// appendFields appends ,"name":value for every field that is printed.
func appendFields(b []byte, fields []Field, vals []Value) []byte {
	for i, f := range fields {
		if f.Hidden {
			continue
		}
		b = append(b, ',', '"')
		b = append(b, f.Name...) // a plain identifier (RegisterFields), so nothing to escape
		b = append(b, '"', ':')
		b = f.appendValue(b, at(vals, i))
	}
	return b
}

func (f Field) appendValue(b []byte, v Value) []byte {
	if !v.Valid {
		return append(b, "null"...)
	}
	switch f.Type {
	case StringField:
		return AppendJSONString(b, v.Str)
	case BoolField:
		return strconv.AppendBool(b, v.Int != 0)
	case IntField:
		return strconv.AppendInt(b, v.Int, 10)
	}
	return AppendJSTime(b, v.Time)
}

// DecodeFields reads the values of fields from a JSON object as AppendUserJSON or
// AppendSessionJSON wrote it. A missing key, a null and a Hidden field give an unset Value; a value
// of the wrong type is an error.
func DecodeFields(obj []byte, fields []Field) ([]Value, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	out := make([]Value, len(fields))
	for i, f := range fields {
		raw, ok := m[f.Name]
		if !ok || f.Hidden || string(raw) == "null" {
			continue
		}
		var err error
		switch f.Type {
		case StringField:
			err = json.Unmarshal(raw, &out[i].Str)
		case BoolField:
			var v bool
			err = json.Unmarshal(raw, &v)
			out[i] = BoolValue(v)
		case IntField:
			err = json.Unmarshal(raw, &out[i].Int)
		case TimeField:
			var s string
			var t Time
			if err = json.Unmarshal(raw, &s); err == nil {
				err = t.parse(s)
			}
			out[i].Time = t.Time
		}
		if err != nil {
			return nil, fmt.Errorf("store: field %q: %w", f.Name, err)
		}
		out[i].Valid = true
	}
	return out, nil
}

// AppendJSTime appends t as a JSON string in JavaScript's toISOString form, the only form the
// Better-Auth client turns back into a Date.
func AppendJSTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, JSTime)
	return append(b, '"')
}

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return AppendJSONString(b, *s)
}

// AppendJSONString appends s quoted as encoding/json quotes it with HTML escaping off. Printable
// ASCII other than '"' and '\' is copied as it is; anything else (control characters, non-ASCII,
// invalid UTF-8) goes through encoding/json, so the rare string that needs escaping is escaped
// exactly as everywhere else.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
