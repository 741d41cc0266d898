package web

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"authserver/store"
)

// refUser, refSession and refSessionUser are the bodies as encoding/json wrote them from struct
// tags before the hand-written encoders: the reference they must equal.
type refUser struct {
	Name          string  `json:"name"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"emailVerified"`
	Image         *string `json:"image"`
	CreatedAt     jsTime  `json:"createdAt"`
	UpdatedAt     jsTime  `json:"updatedAt"`
	ID            string  `json:"id"`
}

func newRefUser(u *store.User) refUser {
	return refUser{Name: u.Name, Email: u.Email, EmailVerified: u.EmailVerified, Image: u.Image,
		CreatedAt: jsTime(u.CreatedAt), UpdatedAt: jsTime(u.UpdatedAt), ID: u.ID}
}

type refSession struct {
	ExpiresAt jsTime  `json:"expiresAt"`
	Token     string  `json:"token"`
	CreatedAt jsTime  `json:"createdAt"`
	UpdatedAt jsTime  `json:"updatedAt"`
	IPAddress *string `json:"ipAddress"`
	UserAgent *string `json:"userAgent"`
	UserID    string  `json:"userId"`
	ID        string  `json:"id"`
}

func newRefSession(s *store.Session) refSession {
	return refSession{ExpiresAt: jsTime(s.ExpiresAt), Token: s.Token, CreatedAt: jsTime(s.CreatedAt), UpdatedAt: jsTime(s.UpdatedAt),
		IPAddress: s.IPAddress, UserAgent: s.UserAgent, UserID: s.UserID, ID: s.ID}
}

type refSessionUser struct {
	Session refSession `json:"session"`
	User    refUser    `json:"user"`
}

// reflectJSON is what writeJSON produced for v before the hand-written encoders.
func reflectJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// tricky strings: every class of character encoding/json treats specially.
var trickyStrings = []string{"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\r",
	"\x00\x01\x1f\x7f", "é ü 日本 🙂", "\u2028\u2029", "bad \xff\xfe utf8", "\xed\xa0\x80 surrogate", "/slash/"}

func randomString(r *rand.Rand) string {
	var sb strings.Builder
	for range r.IntN(40) {
		switch r.IntN(5) {
		case 0:
			sb.WriteByte(byte(r.IntN(256)))
		case 1:
			sb.WriteRune(rune(r.IntN(0x10ffff)))
		default:
			sb.WriteByte(byte(0x20 + r.IntN(0x5f)))
		}
	}
	return sb.String()
}

// The get-session body written by hand equals encoding/json's byte for byte, whatever the
// strings hold, with optional fields set or not and any time.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(i int) string {
		if i < len(trickyStrings)*3 {
			return trickyStrings[(i+r.IntN(3))%len(trickyStrings)]
		}
		return randomString(r)
	}
	opt := func(i int) *string {
		if r.IntN(3) == 0 {
			return nil
		}
		s := pick(i)
		return &s
	}
	times := []time.Time{{}, time.Date(2026, 11, 26, 9, 30, 0, 123456789, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999000000, time.FixedZone("x", 3600)), time.Unix(1<<33, 0)}
	tm := func() store.Time { return store.Time{Time: times[r.IntN(len(times))]} }
	for i := range 2000 {
		s := store.Session{ID: pick(i), Token: pick(i), UserID: pick(i), ExpiresAt: tm(), CreatedAt: tm(), UpdatedAt: tm(),
			IPAddress: opt(i), UserAgent: opt(i)}
		u := store.User{ID: pick(i), Name: pick(i), Email: pick(i), EmailVerified: r.IntN(2) == 0, Image: opt(i),
			CreatedAt: tm(), UpdatedAt: tm()}
		v := sessionUserResponse{Session: sessionResponse{s: &s}, User: userResponse{u: &u}}
		want := reflectJSON(t, refSessionUser{Session: newRefSession(&s), User: newRefUser(&u)})
		if got := string(v.appendJSON(nil)); got != want {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
