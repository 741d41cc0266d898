package session

import (
	"encoding/binary"
	"time"

	"authserver/store"
)

// A cached session is kept as one packed string instead of an Auth value. An Auth scanned from
// the database holds a dozen separately allocated strings and pointers; packed, it is one
// pointer-free allocation about half the size, which the garbage collector neither scans nor
// has to double in its heap goal as much. A full cache at the default size is then a few MB
// rather than the largest part of the server's heap.
//
// The token is not stored (the caller presents it, and the key is its hash), and the user id is
// stored once (a cached session always belongs to the cached user).
//
// Layout: the user id first (so dropUser can compare it without unpacking), then flags, the five
// times as seconds and nanoseconds (exact, zero included), then length-prefixed strings, then the
// fields plugins added (the user's, then the session's, as store.Columns lists them): each a byte
// saying whether it is set and, if set, its value (a length-prefixed string, 8 bytes of integer or
// boolean, or 12 bytes of time).

const (
	flagVerified = 1 << iota
	flagIP
	flagUA
	flagImage
)

// pack flattens a into a string, or reports false when a cannot be cached this way.
func pack(a *Auth, cols store.Columns) (string, bool) {
	s, u := &a.Session, &a.User
	if s.UserID != u.ID || len(u.ID) > 255 || len(u.Extra) > len(cols.User) || len(s.Extra) > len(cols.Session) {
		return "", false
	}
	var flags byte
	if u.EmailVerified {
		flags |= flagVerified
	}
	opt := func(p *string, f byte) string {
		if p == nil {
			return ""
		}
		flags |= f
		return *p
	}
	ip, ua, img := opt(s.IPAddress, flagIP), opt(s.UserAgent, flagUA), opt(u.Image, flagImage)
	strs := [...]string{s.ID, ip, ua, u.Name, u.Email, img}
	b := make([]byte, 0, packedSize(a, cols))
	b = append(b, byte(len(u.ID)))
	b = append(b, u.ID...)
	b = append(b, flags)
	for _, t := range [...]time.Time{s.ExpiresAt.Time, s.CreatedAt.Time, s.UpdatedAt.Time, u.CreatedAt.Time, u.UpdatedAt.Time} {
		b = packTime(b, t)
	}
	for _, v := range strs {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	b = packFields(b, cols.User, u.Extra)
	b = packFields(b, cols.Session, s.Extra)
	return string(b), true
}

func packTime(b []byte, t time.Time) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func packFields(b []byte, fields []store.Field, vals []store.Value) []byte {
	for i, f := range fields {
		var v store.Value
		if i < len(vals) {
			v = vals[i]
		}
		if !v.Valid {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		switch f.Type {
		case store.StringField:
			b = binary.AppendUvarint(b, uint64(len(v.Str)))
			b = append(b, v.Str...)
		case store.TimeField:
			b = packTime(b, v.Time)
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(v.Int))
		}
	}
	return b
}

// fieldsSize bounds what packFields adds.
func fieldsSize(fields []store.Field, vals []store.Value) int {
	n := 0
	for i, f := range fields {
		n += 1 + 12
		if f.Type == store.StringField && i < len(vals) {
			n += binary.MaxVarintLen32 + len(vals[i].Str)
		}
	}
	return n
}

// packedSize is an upper bound of len(pack(a)), found without building it: the header, the five
// times, and the six strings with the longest length prefix each may need.
func packedSize(a *Auth, cols store.Columns) int {
	s, u := &a.Session, &a.User
	n := 1 + len(u.ID) + 1 + 5*12 + 6*binary.MaxVarintLen32 + len(s.ID) + len(u.Name) + len(u.Email)
	for _, p := range [...]*string{s.IPAddress, s.UserAgent, u.Image} {
		if p != nil {
			n += len(*p)
		}
	}
	if len(cols.User)+len(cols.Session) > 0 {
		n += fieldsSize(cols.User, u.Extra) + fieldsSize(cols.Session, s.Extra)
	}
	return n
}

// packedUserID is the user id of a packed entry.
func packedUserID(p string) string { return p[1 : 1+int(p[0])] }

// unpacked is an Auth with room for the strings its optional fields point to, so that unpacking
// allocates once.
type unpacked struct {
	auth          Auth
	ip, ua, image string
}

// unpack rebuilds the Auth of token from a string made by pack. The strings it holds share p's
// memory, which is immutable.
func unpack(p, token string, cols store.Columns) *Auth {
	out := &unpacked{}
	s, u := &out.auth.Session, &out.auth.User
	u.ID = packedUserID(p)
	s.UserID, s.Token = u.ID, token
	i := 1 + len(u.ID)
	flags := p[i]
	i++
	for _, t := range [...]*time.Time{&s.ExpiresAt.Time, &s.CreatedAt.Time, &s.UpdatedAt.Time, &u.CreatedAt.Time, &u.UpdatedAt.Time} {
		*t = time.Unix(int64(le(p[i:i+8])), int64(le(p[i+8:i+12]))).UTC()
		i += 12
	}
	next := func() string {
		var n int
		for shift := 0; ; shift += 7 {
			c := p[i]
			i++
			n |= int(c&0x7f) << shift
			if c < 0x80 {
				break
			}
		}
		v := p[i : i+n]
		i += n
		return v
	}
	s.ID, out.ip, out.ua, u.Name, u.Email, out.image = next(), next(), next(), next(), next(), next()
	u.EmailVerified = flags&flagVerified != 0
	if flags&flagIP != 0 {
		s.IPAddress = &out.ip
	}
	if flags&flagUA != 0 {
		s.UserAgent = &out.ua
	}
	if flags&flagImage != 0 {
		u.Image = &out.image
	}
	if nu, ns := len(cols.User), len(cols.Session); nu+ns > 0 {
		vals := make([]store.Value, nu+ns)
		u.Extra, s.Extra = vals[:nu:nu], vals[nu:]
		k := 0
		for _, fields := range [...][]store.Field{cols.User, cols.Session} {
			for _, f := range fields {
				v := &vals[k]
				k++
				set := p[i] != 0
				i++
				if !set {
					continue
				}
				v.Valid = true
				switch f.Type {
				case store.StringField:
					v.Str = next()
				case store.TimeField:
					v.Time = time.Unix(int64(le(p[i:i+8])), int64(le(p[i+8:i+12]))).UTC()
					i += 12
				default:
					v.Int = int64(le(p[i : i+8]))
					i += 8
				}
			}
		}
	}
	return &out.auth
}

// le reads a little-endian unsigned integer of len(b) bytes, straight from the string.
func le(b string) uint64 {
	var v uint64
	for k := len(b) - 1; k >= 0; k-- {
		v = v<<8 | uint64(b[k])
	}
	return v
}
