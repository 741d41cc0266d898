package auth

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"authserver/store/storetest"
)

// The vector from the spec (§14), produced by better-auth and checked independently.
const vectorHash = "904b04485b466d094ea16755a4e85641:73d25a340f5baecbd1788e86fe5081193b2653c7f820ff83d6929234f7183b33f7595ea2cc4e71948af23f656c4671c270b71bf728f64c7fc5a134abcd9542f0"

func TestVerifyBetterAuthVector(t *testing.T) {
	h := NewHasher(HasherConfig{})
	ctx := context.Background()
	tests := []struct {
		password string
		want     bool
	}{
		{"pässword123", true},
		{"pa\u0308ssword123", true}, // the same text in NFD form: NFKC normalisation makes it match
		{"password123", false},
		{"", false},
	}
	for _, tt := range tests {
		got, err := h.Verify(ctx, vectorHash, tt.password)
		if err != nil || got != tt.want {
			t.Errorf("Verify(vector, %q) = %v, %v; want %v", tt.password, got, err, tt.want)
		}
	}
}

func TestHashRoundTripAndFormat(t *testing.T) {
	h := NewHasher(HasherConfig{})
	ctx := context.Background()
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	salt, key, ok := strings.Cut(hash, ":")
	if !ok || len(salt) != 32 || len(key) != 128 || strings.ToLower(hash) != hash {
		t.Fatalf("Hash() = %q, want 32 hex : 128 hex, lower case", hash)
	}
	if ok, _ := h.Verify(ctx, hash, "correct horse"); !ok {
		t.Error("Verify(own hash) = false")
	}
	for _, bad := range []string{"", "nocolon", "zz:zz", salt + ":" + key[:10]} {
		if ok, err := h.Verify(ctx, bad, "correct horse"); ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want false, nil", bad, ok, err)
		}
	}
}

func TestPasswordLengthCountsUTF16Units(t *testing.T) {
	if n := passwordLength("😀😀😀😀"); n != 8 {
		t.Errorf("passwordLength(4 emoji) = %d, want 8 (JS String.length)", n)
	}
}

// A hash asked for inside a transaction is computed, and reported: the transaction holds its
// locks for the whole hash (on SQLite the one write lock), so the caller should hash first.
func TestHashInsideTransactionIsReported(t *testing.T) {
	var logged strings.Builder
	h := NewHasher(HasherConfig{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	st := storetest.OpenSQLite(t)
	ctx := context.Background()
	if _, err := h.Hash(ctx, "outside any transaction"); err != nil {
		t.Fatal(err)
	}
	if logged.Len() != 0 {
		t.Fatalf("a hash outside a transaction was reported: %s", logged.String())
	}
	var hash string
	err := st.Atomic(ctx, func(ctx context.Context) error {
		var err error
		hash, err = h.Hash(ctx, "pw-in-tx-7f3a")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := h.Verify(ctx, hash, "pw-in-tx-7f3a"); !ok {
		t.Error("the hash made inside the transaction does not verify")
	}
	if n := strings.Count(logged.String(), LogHashInTransaction); n != 1 {
		t.Errorf("log has the warning %d times, want once: %s", n, logged.String())
	}
	if strings.Contains(logged.String(), "pw-in-tx-7f3a") {
		t.Errorf("the warning carries the password: %s", logged.String())
	}
}
