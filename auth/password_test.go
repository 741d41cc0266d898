package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
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

// A burst far above the bound is partly refused with ErrBusy rather than queued without limit, and
// never runs more hashes at once than the bound.
func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 2, Queue: 4, MaxWait: 5 * time.Second})
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	busy, okCount := 0, 0
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.Hash(ctx, "burst-password")
			mu.Lock()
			defer mu.Unlock()
			if err == ErrBusy {
				busy++
			} else if err == nil {
				okCount++
			} else {
				t.Errorf("Hash: %v", err)
			}
		}()
	}
	wg.Wait()
	if busy == 0 || okCount < 2 || okCount > 6+2 {
		t.Errorf("burst of 40 with 2 slots and 4 waiting: %d hashed, %d refused; want 2..8 hashed, rest refused", okCount, busy)
	}
}

// Saturated is true exactly while a new hash would be refused: every worker busy and the queue
// full.
func TestHasherSaturated(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 1, Queue: 1, MaxWait: time.Minute})
	ctx := context.Background()
	if h.Saturated() {
		t.Fatal("an idle hasher reports saturated")
	}
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = h.Hash(ctx, "saturating-password") }()
	}
	deadline := time.Now().Add(2 * time.Second)
	for !h.Saturated() {
		if time.Now().After(deadline) {
			t.Fatal("one hash running and one waiting, but not saturated")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := h.Hash(ctx, "third"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash while saturated: %v, want ErrBusy", err)
	}
	wg.Wait()
	if h.Saturated() {
		t.Error("saturated after every hash finished")
	}
}
