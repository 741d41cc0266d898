package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

func TestAccountsByKeyAndUpdate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := store.NewTime(time.Date(2026, 11, 26, 3, 25, 52, 410_000_000, time.UTC))
		if err := st.CreateUser(ctx, newUser("u1", "a@example.com", now)); err != nil {
			t.Fatal(err)
		}
		at := "access-1"
		acct := &store.Account{ID: "a1", AccountID: "sub-1", ProviderID: "google", UserID: "u1", AccessToken: &at, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		got, err := st.AccountsByKey(ctx, "google", "sub-1")
		if err != nil || len(got) != 1 || got[0].ID != "a1" {
			t.Fatalf("AccountsByKey = %+v, %v; want the one account", got, err)
		}
		if got, err := st.AccountsByKey(ctx, "github", "sub-1"); err != nil || len(got) != 0 {
			t.Fatalf("AccountsByKey(other provider) = %+v, %v; want none", got, err)
		}

		later := store.NewTime(now.Add(time.Minute))
		exp := store.NewTime(now.Add(time.Hour))
		upd, err := st.UpdateAccount(ctx, "a1", map[string]any{"accessToken": "access-2", "accessTokenExpiresAt": exp, "scope": "openid,email"}, later)
		if err != nil {
			t.Fatal(err)
		}
		if *upd.AccessToken != "access-2" || upd.AccessTokenExpiresAt == nil || !upd.AccessTokenExpiresAt.Equal(exp.Time) ||
			*upd.Scope != "openid,email" || !upd.UpdatedAt.Equal(later.Time) || !upd.CreatedAt.Equal(now.Time) {
			t.Fatalf("UpdateAccount = %+v", upd)
		}
		if _, err := st.UpdateAccount(ctx, "nope", map[string]any{"accessToken": "x"}, later); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UpdateAccount(missing) err = %v, want ErrNotFound", err)
		}
		if _, err := st.AccountByID(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("AccountByID(missing) err = %v, want ErrNotFound", err)
		}

		// Two rows with one key (the schema allows it) come back as two, so callers can refuse.
		dup := &store.Account{ID: "a2", AccountID: "sub-1", ProviderID: "google", UserID: "u1", CreatedAt: later, UpdatedAt: later}
		if err := st.CreateAccount(ctx, dup); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.AccountsByKey(ctx, "google", "sub-1"); len(got) != 2 || got[0].ID != "a1" {
			t.Fatalf("AccountsByKey with a duplicate = %+v, want both, oldest first", got)
		}
	})
}
