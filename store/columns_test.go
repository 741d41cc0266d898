package store_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

// RegisterFields refuses what would break a query or a body, and refuses everything once the
// list has been handed out.
func TestRegisterFieldsRules(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ok := store.Field{Name: "nick", Type: store.StringField, Nullable: true}
	tests := []struct {
		name  string
		user  []store.Field
		wantE string
	}{
		{"not an identifier", []store.Field{{Name: `a"b`, Type: store.StringField, Nullable: true}}, "not a plain column name"},
		{"empty name", []store.Field{{Type: store.StringField, Nullable: true}}, "not a plain column name"},
		{"core column", []store.Field{{Name: "email", Type: store.StringField, Nullable: true}}, "registered twice"},
		{"twice", []store.Field{ok, ok}, "registered twice"},
		{"no type", []store.Field{{Name: "x", Nullable: true}}, "unknown type"},
		{"required without default", []store.Field{{Name: "x", Type: store.BoolField}}, "needs a default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.RegisterFields(tt.user, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantE) {
				t.Errorf("RegisterFields = %v, want %q", err, tt.wantE)
			}
		})
	}
	if got := st.Columns(); len(got.User)+len(got.Session) != 0 {
		t.Errorf("a refused registration left fields behind: %+v", got)
	}
	if err := st.RegisterFields([]store.Field{ok}, nil); err == nil {
		t.Error("RegisterFields after Columns succeeded")
	}
}

// With fields, the user and session objects equal encoding/json's output of the same keys in the
// same order: the core fields, the printed added fields, then id.
func TestAppendJSONWithFields(t *testing.T) {
	fields := []store.Field{
		{Name: "s", Type: store.StringField, Nullable: true},
		{Name: "b", Type: store.BoolField, Default: store.BoolValue(false)},
		{Name: "n", Type: store.IntField, Nullable: true},
		{Name: "t", Type: store.TimeField, Nullable: true},
		{Name: "h", Type: store.StringField, Nullable: true, Hidden: true},
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	vals := []store.Value{store.StringValue("<é\"\n>"), store.BoolValue(true), store.IntValue(-42), store.TimeValue(when), store.StringValue("secret")}
	u := store.User{ID: "u1", Name: "N", Email: "e@x", CreatedAt: store.NewTime(when), UpdatedAt: store.NewTime(when), Extra: vals}
	ref := func(extra string) string {
		return `{"name":"N","email":"e@x","emailVerified":false,"image":null,"createdAt":"2026-01-02T03:04:05.006Z","updatedAt":"2026-01-02T03:04:05.006Z"` + extra + `,"id":"u1"}`
	}
	str, _ := json.Marshal("<é\"\n>")
	str = []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(string(str)))
	want := ref(`,"s":` + string(str) + `,"b":true,"n":-42,"t":"2026-01-02T03:04:05.006Z"`)
	if got := string(store.AppendUserJSON(nil, &u, fields)); got != want {
		t.Errorf("set:\n got %s\nwant %s", got, want)
	}
	u.Extra = nil // a row without values prints every field as null
	if got, want := string(store.AppendUserJSON(nil, &u, fields)), ref(`,"s":null,"b":null,"n":null,"t":null`); got != want {
		t.Errorf("unset:\n got %s\nwant %s", got, want)
	}
	u.Extra = vals
	back, err := store.DecodeFields(store.AppendUserJSON(nil, &u, fields), fields)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fields {
		w := vals[i]
		if f.Hidden {
			w = store.Value{}
		}
		if back[i] != w {
			t.Errorf("DecodeFields %s = %+v, want %+v", f.Name, back[i], w)
		}
	}
	if _, err := store.DecodeFields([]byte(`{"n":"x"}`), fields); err == nil {
		t.Error("DecodeFields took a string for a number")
	}
}
