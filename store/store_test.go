package store_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

func newUser(id, email string, now store.Time) *store.User {
	return &store.User{ID: id, Name: "N " + id, Email: email, CreatedAt: now, UpdatedAt: now}
}

func TestUserSessionRoundTrip(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := store.NewTime(time.Date(2026, 11, 26, 3, 25, 52, 410_123_456, time.UTC))
		if err := st.CreateUser(ctx, newUser("u1", "a@example.com", now)); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		err := st.CreateUser(ctx, newUser("u2", "a@example.com", now))
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate email: err = %v, want ErrConflict", err)
		}
		ip := ""
		sess := &store.Session{ID: "s1", Token: "tok1", UserID: "u1", CreatedAt: now, UpdatedAt: now,
			ExpiresAt: store.NewTime(now.Add(7 * 24 * time.Hour)), IPAddress: &ip, UserAgent: &ip}
		if err := st.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, u, err := st.SessionByToken(ctx, "tok1")
		if err != nil {
			t.Fatalf("SessionByToken: %v", err)
		}
		if got.CreatedAt.String() != "2026-11-26T03:25:52.410Z" {
			t.Errorf("createdAt = %s, want 2026-11-26T03:25:52.410Z", got.CreatedAt)
		}
		if u.Email != "a@example.com" || u.EmailVerified {
			t.Errorf("user = %+v", u)
		}
		if _, _, err := st.SessionByToken(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing session: err = %v, want ErrNotFound", err)
		}
		// Only the first of two refreshes that read the same expiry writes.
		newExp := store.NewTime(now.Add(8 * 24 * time.Hour))
		ok1, err1 := st.ExtendSession(ctx, "tok1", got.ExpiresAt, newExp, now)
		ok2, err2 := st.ExtendSession(ctx, "tok1", got.ExpiresAt, newExp, now)
		if err1 != nil || err2 != nil || !ok1 || ok2 {
			t.Errorf("ExtendSession twice = (%v,%v) (%v,%v), want (true,nil) (false,nil)", ok1, err1, ok2, err2)
		}
		// The sliding-window filter compares stored dates correctly on both dialects.
		list, err := st.SessionsByUser(ctx, "u1", store.NewTime(now.Add(7*24*time.Hour+time.Hour)))
		if err != nil || len(list) != 1 {
			t.Fatalf("SessionsByUser = %d, %v; want 1 session", len(list), err)
		}
		list, _ = st.SessionsByUser(ctx, "u1", store.NewTime(now.Add(9*24*time.Hour)))
		if len(list) != 0 {
			t.Errorf("SessionsByUser after expiry = %d, want 0", len(list))
		}
	})
}

// A row whose expiry another tool wrote with microseconds (SQL's now() + interval on PostgreSQL)
// must still be refreshed: the read value keeps the microseconds the write compares against.
func TestExtendSessionWrittenWithMicroseconds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := store.NewTime(time.Date(2026, 11, 26, 3, 25, 52, 410_000_000, time.UTC))
		if err := st.CreateUser(ctx, newUser("u1", "a@example.com", now)); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		ip := ""
		sess := &store.Session{ID: "s1", Token: "tok1", UserID: "u1", CreatedAt: now, UpdatedAt: now,
			ExpiresAt: store.NewTime(now.Add(time.Hour)), IPAddress: &ip, UserAgent: &ip}
		if err := st.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		micro := now.Add(time.Hour + 123_456*time.Microsecond).UTC().Format("2006-01-02T15:04:05.000000Z")
		if err := st.ExecAdmin(ctx, `update "session" set "expiresAt" = '`+micro+`' where "token" = 'tok1'`); err != nil {
			t.Fatalf("write microsecond expiry: %v", err)
		}
		got, _, err := st.SessionByToken(ctx, "tok1")
		if err != nil {
			t.Fatalf("SessionByToken: %v", err)
		}
		newExp := store.NewTime(now.Add(7 * 24 * time.Hour))
		if ok, err := st.ExtendSession(ctx, "tok1", got.ExpiresAt, newExp, now); !ok || err != nil {
			t.Fatalf("ExtendSession of a microsecond expiry = %v, %v; want true, nil", ok, err)
		}
		again, _, _ := st.SessionByToken(ctx, "tok1")
		if !again.ExpiresAt.Equal(newExp.Time) {
			t.Errorf("expiresAt after refresh = %s, want %s", again.ExpiresAt, newExp)
		}
		if ok, _ := st.ExtendSession(ctx, "tok1", got.ExpiresAt, newExp, now); ok {
			t.Error("a second refresh from the same read wrote too")
		}
	})
}

func TestSQLiteStoresDatesAsBetterAuthDoes(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := context.Background()
	now := store.NewTime(time.Date(2026, 12, 3, 3, 25, 52, 410_000_000, time.UTC))
	if err := st.CreateUser(ctx, newUser("u1", "b@example.com", now)); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		CreatedAt    string
		VerifiedType string
		Verified     int
	}
	if err := st.RawRow(ctx, &raw, `select cast("createdAt" as text) as created_at, typeof("emailVerified") as verified_type, "emailVerified" as verified from "user"`); err != nil {
		t.Fatal(err)
	}
	if raw.CreatedAt != "2026-12-03T03:25:52.410Z" {
		t.Errorf("stored createdAt = %q, want the 24-character JS ISO form", raw.CreatedAt)
	}
	if raw.VerifiedType != "integer" || raw.Verified != 0 {
		t.Errorf("stored emailVerified = %s %d, want integer 0", raw.VerifiedType, raw.Verified)
	}
}

func TestMigrateIsIdempotentAndAdoptsBetterAuthSchema(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if st.LatestVersion() < 1 {
			t.Fatal("no migrations embedded")
		}
	})
	t.Run("adopt", func(t *testing.T) {
		// A database whose tables Better-Auth created (same DDL, no bookkeeping table) is adopted
		// without changing a table.
		dir := t.TempDir()
		ctx := context.Background()
		st, err := store.Open(ctx, store.Config{URL: "sqlite:" + dir + "/ba.db"})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ddl, err := os.ReadFile("migrations/sqlite/0001_better_auth_core.sql")
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range strings.Split(string(ddl), ";") {
			if strings.Contains(stmt, "create") {
				if err := st.ExecAdmin(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("Migrate on a Better-Auth database: %v", err)
		}
	})
	t.Run("partial schema refused", func(t *testing.T) {
		dir := t.TempDir()
		ctx := context.Background()
		st, err := store.Open(ctx, store.Config{URL: "sqlite:" + dir + "/p.db"})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.ExecAdmin(ctx, `create table "user" ("id" text primary key)`); err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(ctx); err == nil {
			t.Fatal("Migrate accepted a foreign user table")
		}
	})
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	_, err := store.Open(context.Background(), store.Config{URL: "mysql://x"})
	if err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Fatalf("Open(mysql://) err = %v, want unsupported scheme", err)
	}
}

// DB_SIMPLE_PROTOCOL (no prepared statements, for PgBouncer/Neon's pooled endpoint) must work for
// everything the server does; this runs the session round trip over it against a plain Postgres.
func TestSimpleProtocolForPoolers(t *testing.T) {
	u := storetest.PostgresURL(t)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URL: u, SimpleProtocol: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate over the simple protocol: %v", err)
	}
	now := store.NewTime(time.Now())
	if err := st.CreateUser(ctx, newUser("p1", "pool@example.com", now)); err != nil {
		t.Fatal(err)
	}
	s := &store.Session{ID: "ps", Token: "pooltoken", UserID: "p1", CreatedAt: now, UpdatedAt: now, ExpiresAt: store.NewTime(now.Add(time.Hour))}
	if err := st.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, _, err := st.SessionByToken(ctx, "pooltoken")
	if err != nil || got.ExpiresAt.String() != s.ExpiresAt.String() {
		t.Fatalf("round trip over the simple protocol = %v, %v", got, err)
	}
	if ok, err := st.ExtendSession(ctx, "pooltoken", got.ExpiresAt, store.NewTime(now.Add(2*time.Hour)), now); !ok || err != nil {
		t.Errorf("ExtendSession = %v, %v", ok, err)
	}
}

// One batched read answers each token with its own session and user; unknown, duplicate and
// unreadable tokens cost nothing, and an oversized batch is refused rather than sent.
func TestSessionsByTokens(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := store.NewTime(time.Now())
		for _, id := range []string{"b1", "b2"} {
			if err := st.CreateUser(ctx, newUser(id, id+"@example.com", now)); err != nil {
				t.Fatal(err)
			}
			sess := &store.Session{ID: "s-" + id, Token: "tok-" + id, UserID: id, CreatedAt: now, UpdatedAt: now,
				ExpiresAt: store.NewTime(now.Add(time.Hour))}
			if err := st.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.SessionsByTokens(ctx, []string{"tok-b2", "unknown", "tok-b1", "tok-b2", "bad\x00token", "\xff"})
		if err != nil {
			t.Fatalf("SessionsByTokens: %v", err)
		}
		if len(got) != 2 {
			t.Fatalf("got %d sessions, want 2: %v", len(got), got)
		}
		for _, id := range []string{"b1", "b2"} {
			r := got["tok-"+id]
			if r.Session.ID != "s-"+id || r.User.ID != id || r.User.Email != id+"@example.com" {
				t.Errorf("tok-%s: %+v", id, r)
			}
		}
		if got, err := st.SessionsByTokens(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("no tokens: %v, %v", got, err)
		}
		if _, err := st.SessionsByTokens(ctx, make([]string, 101)); err == nil {
			t.Error("101 tokens: accepted")
		}
	})
}

// TestInvalidText: a lookup by a key no column can hold (NUL, invalid UTF-8) is not
// found on both databases, and a write of such text that got past the callers' ValidText checks
// is ErrInvalidText on PostgreSQL (which refuses it), never an unclassified driver error.
func TestInvalidText(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := store.NewTime(time.Now())
		if err := st.CreateUser(ctx, newUser("u1", "text@example.com", now)); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"a\x00b", "a\xffb"} {
			if store.ValidText(bad) {
				t.Errorf("ValidText(%q) = true", bad)
			}
			if _, err := st.UserByEmail(ctx, bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UserByEmail(%q) = %v, want ErrNotFound", bad, err)
			}
			if _, err := st.ContentItemBySlug(ctx, bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ContentItemBySlug(%q) = %v, want ErrNotFound", bad, err)
			}
			if _, err := st.ContentProgressOf(ctx, "u1", bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ContentProgressOf(%q) = %v, want ErrNotFound", bad, err)
			}
			_, err := st.UpdateUser(ctx, "u1", map[string]any{"name": bad}, now)
			if st.Dialect() == store.Postgres && !errors.Is(err, store.ErrInvalidText) {
				t.Errorf("UpdateUser name %q on PostgreSQL = %v, want ErrInvalidText", bad, err)
			}
		}
		if !store.ValidText("ünïcödé ✓") {
			t.Error("ValidText refuses ordinary Unicode")
		}
	})
}

// WithdrawVerification deletes only the rows of the identifier its matcher accepts, so a newer
// code issued under the same identifier survives the withdrawal of an undelivered one.
func TestWithdrawVerification(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := store.NewTime(time.Now())
		for i, v := range []struct{ id, ident, value string }{{"v1", "sign-in-otp-a@x.test", "111111:0"},
			{"v2", "sign-in-otp-a@x.test", "222222:1"}, {"v3", "sign-in-otp-b@x.test", "111111:0"}} {
			row := &store.Verification{ID: v.id, Identifier: v.ident, Value: v.value, ExpiresAt: store.NewTime(now.Add(time.Hour)),
				CreatedAt: store.NewTime(now.Add(time.Duration(i) * time.Second)), UpdatedAt: now}
			if err := st.CreateVerification(ctx, row); err != nil {
				t.Fatal(err)
			}
		}
		old := func(v string) bool { return strings.HasPrefix(v, "111111:") }
		if ok, err := st.WithdrawVerification(ctx, "sign-in-otp-a@x.test", old); err != nil || !ok {
			t.Fatalf("withdraw: %v %v", ok, err)
		}
		if ok, err := st.WithdrawVerification(ctx, "sign-in-otp-a@x.test", old); err != nil || ok {
			t.Fatalf("second withdraw: %v %v", ok, err)
		}
		left, err := st.LatestVerification(ctx, "sign-in-otp-a@x.test")
		if err != nil || left.ID != "v2" {
			t.Fatalf("left %+v %v", left, err)
		}
		if _, err := st.LatestVerification(ctx, "sign-in-otp-b@x.test"); err != nil {
			t.Fatalf("other identifier's row: %v", err)
		}
	})
}
