package auth

import (
	"bytes"
	"context"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/scrypt"
)

// The pooled implementation must agree with RFC 7914's test vector and with x/crypto/scrypt.
func TestScryptMatchesReference(t *testing.T) {
	// RFC 7914 §12, second vector: P="password", S="NaCl", N=1024, r=8, p=16 is p>1; the first
	// vector with p=1 is N=16, r=1.
	got, err := scryptKey("", []byte(""), 16, 1, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")
	if !bytes.Equal(got, want) {
		t.Errorf("RFC 7914 vector: got %x", got)
	}
	for _, tc := range []struct{ pw, salt string }{{"pässword123", "904b04485b466d094ea16755a4e85641"}, {"", "00"}, {"x", ""}} {
		ours, _ := scryptKey(tc.pw, []byte(tc.salt), scryptN, scryptR, 64, nil)
		ref, _ := scrypt.Key([]byte(tc.pw), []byte(tc.salt), scryptN, scryptR, 1, 64)
		if !bytes.Equal(ours, ref) {
			t.Errorf("scryptKey(%q, %q) differs from x/crypto/scrypt", tc.pw, tc.salt)
		}
	}
}

func BenchmarkDerive(b *testing.B) {
	h := NewHasher(HasherConfig{})
	for i := 0; i < b.N; i++ {
		_, _ = h.derive(context.Background(), "password123", "904b04485b466d094ea16755a4e85641")
	}
}

// Parallel throughput is what a stream of sign-ins sees: more requests than cores, so workers
// take waiting hashes along where the CPU can pair them.
func BenchmarkDeriveParallel(b *testing.B) {
	h := NewHasher(HasherConfig{})
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = h.derive(context.Background(), "password123", "904b04485b466d094ea16755a4e85641")
		}
	})
}

func BenchmarkXCryptoParallel(b *testing.B) {
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = scrypt.Key([]byte("password123"), []byte("904b04485b466d094ea16755a4e85641"), scryptN, scryptR, 1, 64)
		}
	})
}

// The scrypt tables are kept while sign-ins come in, and handed back once hashing goes quiet.
func TestHasherReleasesTablesWhenIdle(t *testing.T) {
	h := NewHasher(HasherConfig{IdleRelease: 50 * time.Millisecond})
	if _, err := h.Hash(context.Background(), "password123"); err != nil {
		t.Fatal(err)
	}
	if len(h.tables) != 1 {
		t.Fatalf("kept %d tables after a hash, want 1", len(h.tables))
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(h.tables) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("tables still kept after the idle period")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Hashes computed in pairs come out exactly as computed alone: under a concurrent mix of right
// and wrong passwords every answer is right, and the pairing really happened.
func TestHasherPairsWaitingHashesCorrectly(t *testing.T) {
	h := NewHasher(HasherConfig{Concurrency: 1, MaxWait: time.Minute})
	ctx := context.Background()
	passwords := []string{"alpha-password", "bravo-password", "charlie-pässword", "delta-password"}
	hashes := make([]string, len(passwords))
	for i, pw := range passwords {
		var err error
		if hashes[i], err = h.Hash(ctx, pw); err != nil {
			t.Fatal(err)
		}
		ref, _ := scrypt.Key([]byte(pw), []byte(hashes[i][:32]), scryptN, scryptR, 1, 64)
		if hashes[i][33:] != hex.EncodeToString(ref) {
			t.Fatalf("Hash(%q) does not match x/crypto/scrypt", pw)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hash, pw := hashes[i%4], passwords[(i/4+i)%4]
			ok, err := h.Verify(ctx, hash, pw)
			if err != nil {
				t.Errorf("Verify: %v", err)
			}
			if want := pw == passwords[i%4]; ok != want {
				t.Errorf("Verify(hash of %q, %q) = %v, want %v", passwords[i%4], pw, ok, want)
			}
		}()
	}
	wg.Wait()
	if canPair() && h.paired.Load() == 0 {
		t.Error("12 concurrent verifications with one worker: none was computed in a pair")
	}
	t.Logf("paired: %d of 12", h.paired.Load())
}
