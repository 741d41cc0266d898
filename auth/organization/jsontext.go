package organization

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// rawAt returns the JSON text at path inside a JSON object body, a repeated key's last value
// winning as in JSON.parse; false when a step is missing or not an object.
func rawAt(raw []byte, path ...string) (json.RawMessage, bool) {
	cur := json.RawMessage(raw)
	for _, key := range path {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(cur, &obj); err != nil || obj == nil {
			return nil, false
		}
		v, ok := obj[key]
		if !ok {
			return nil, false
		}
		cur = v
	}
	return cur, len(cur) > 0
}

// jsStringify prints JSON text as JSON.stringify(JSON.parse(text)) does: an object's keys in the
// order JavaScript keeps them (array-index keys ascending, then the rest as first sent, a repeated
// key's last value winning), numbers in JavaScript's shortest form, strings escaped only where
// JSON requires. Metadata is stored this way so it reads back as the reference prints it.
func jsStringify(text []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var b strings.Builder
	if err := jsValue(dec, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

func jsValue(dec *json.Decoder, b *strings.Builder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			b.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				if err := jsValue(dec, b); err != nil {
					return err
				}
			}
			_, err := dec.Token()
			b.WriteByte(']')
			return err
		}
		if t != '{' {
			return errors.New("organization: unexpected JSON delimiter")
		}
		var keys []string
		vals := map[string]string{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k, _ := kt.(string)
			var vb strings.Builder
			if err := jsValue(dec, &vb); err != nil {
				return err
			}
			if _, seen := vals[k]; !seen {
				keys = append(keys, k)
			}
			vals[k] = vb.String()
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		// JavaScript objects list array-index keys first, ascending; the others keep their order.
		sort.SliceStable(keys, func(i, j int) bool {
			ni, iok := arrayIndex(keys[i])
			nj, jok := arrayIndex(keys[j])
			if iok && jok {
				return ni < nj
			}
			return iok && !jok
		})
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			jsString(b, k)
			b.WriteByte(':')
			b.WriteString(vals[k])
		}
		b.WriteByte('}')
	case string:
		jsString(b, t)
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return err
		}
		if math.IsInf(f, 0) {
			b.WriteString("null")
			return nil
		}
		if f == 0 {
			f = 0 // JSON.stringify(-0) is "0"
		}
		out, err := json.Marshal(f) // encoding/json prints floats as ECMAScript does
		if err != nil {
			return err
		}
		b.Write(out)
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case nil:
		b.WriteString("null")
	}
	return nil
}

// arrayIndex reports whether k is a canonical array index ("0".."4294967294").
func arrayIndex(k string) (uint64, bool) {
	if k == "" || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	if err != nil || n >= math.MaxUint32 {
		return 0, false
	}
	return n, true
}

// jsString writes s quoted as JSON.stringify does: only quote, backslash and control characters
// are escaped (not <, >, & or U+2028 as encoding/json would).
func jsString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[r>>4])
				b.WriteByte("0123456789abcdef"[r&0xf])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// metadataText is the stored text of a metadata object the request sent at path: as the client
// wrote it when the raw body is at hand, else re-encoded from the decoded map.
func metadataText(rawBody []byte, md map[string]any, path ...string) (string, error) {
	if raw, ok := rawAt(rawBody, path...); ok {
		if s, err := jsStringify(raw); err == nil {
			return s, nil
		}
	}
	b, err := json.Marshal(md)
	return string(b), err
}
