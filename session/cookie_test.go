package session

import (
	"net/http"
	"testing"
)

const vectorSecret = "test-secret-0123456789abcdef0123456789abcdef"

func TestSignMatchesBetterAuthVectors(t *testing.T) {
	tests := []struct{ value, want string }{
		{"Oa4vWTxnHehZJQRwLtpsbOW8uJEctD9c", "Oa4vWTxnHehZJQRwLtpsbOW8uJEctD9c.PKhTseuRufmyLjDOgFJNRkNtDoEEJHaiGuhzzZZPVTw%3D"},
		{"true", "true.i8K8lWmm43%2FqItRtT9GUzE75WMaFyDz4cMBHK5qe4nM%3D"},
	}
	for _, tt := range tests {
		if got := EncodeURIComponent(Sign([]byte(vectorSecret), tt.value)); got != tt.want {
			t.Errorf("cookie value for %q = %q, want %q", tt.value, got, tt.want)
		}
	}
}

func TestUnsign(t *testing.T) {
	secret := []byte(vectorSecret)
	good := Sign(secret, "tok")
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"valid", good, true},
		{"tampered value", "tol" + good[3:], false},
		{"other secret", Sign([]byte("another-secret-0123456789abcdef0123"), "tok"), false},
		{"unsigned", "tok", false},
		{"truncated signature", good[:len(good)-2] + "=", false},
		{"signature not ending in =", good[:len(good)-1] + "A", false},
		{"first signature character flipped", good[:4] + flip(good[4]) + good[5:], false},
		{"last data character flipped", good[:len(good)-2] + flip(good[len(good)-2]) + "=", false},
		{"empty value", Sign(secret, ""), false},
	}
	for _, tt := range tests {
		v, ok := Unsign(secret, tt.in)
		if ok != tt.ok || (ok && v != "tok") {
			t.Errorf("%s: Unsign(%q) = %q, %v; want ok=%v", tt.name, tt.in, v, ok, tt.ok)
		}
	}
}

func TestReadCookieDecodesLikeBetterCall(t *testing.T) {
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", `a=1; better-auth.session_token=abc.x%3D; better-auth.session_token=second; q="quoted"`)
	if v, _ := ReadCookie(r, "better-auth.session_token"); v != "abc.x=" {
		t.Errorf("ReadCookie = %q, want the first, percent-decoded value", v)
	}
	if v, _ := ReadCookie(r, "q"); v != "quoted" {
		t.Errorf("ReadCookie(quoted) = %q", v)
	}
	if _, ok := ReadCookie(r, "missing"); ok {
		t.Error("ReadCookie(missing) found a cookie")
	}
}

func TestRandomStringAlphabet(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		s := NewToken()
		if len(s) != 32 || seen[s] {
			t.Fatalf("NewToken() = %q (len %d, repeated %v)", s, len(s), seen[s])
		}
		seen[s] = true
		for _, c := range s {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Fatalf("NewToken() = %q has %q", s, c)
			}
		}
	}
}

// flip changes one base64 character into a different one.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
