package session

import "testing"

func TestParseSecrets(t *testing.T) {
	k, err := ParseSecrets(" 3:three , 1:one:with:colons", []byte("legacy"))
	if err != nil {
		t.Fatal(err)
	}
	if k.Version != 3 || string(k.Current) != "three" || string(k.Versions[1]) != "one:with:colons" || string(k.Legacy) != "legacy" {
		t.Errorf("ParseSecrets = %+v", k)
	}
	var got []string
	for _, s := range k.Verifiers() {
		got = append(got, string(s))
	}
	if len(got) != 3 || got[0] != "three" || got[1] != "one:with:colons" || got[2] != "legacy" {
		t.Errorf("Verifiers = %q, want current, older, legacy", got)
	}
	for _, bad := range []string{"nocolon", "x:abc", "-1:abc", "1:", "1:a,1:b"} {
		if _, err := ParseSecrets(bad, nil); err == nil {
			t.Errorf("ParseSecrets(%q) accepted", bad)
		}
	}
	if k, _ := ParseSecrets("", []byte("s")); k.Versioned() || string(k.Current) != "s" {
		t.Errorf("unset BETTER_AUTH_SECRETS = %+v, want the single secret", k)
	}
}

func TestUnsignAnyAcceptsOlderSecrets(t *testing.T) {
	k, _ := ParseSecrets("2:new-secret,1:old-secret", []byte("legacy-secret"))
	for _, s := range []string{"new-secret", "old-secret", "legacy-secret"} {
		if v, ok := k.UnsignAny(Sign([]byte(s), "tok")); !ok || v != "tok" {
			t.Errorf("cookie signed with %s refused", s)
		}
	}
	if _, ok := k.UnsignAny(Sign([]byte("other"), "tok")); ok {
		t.Error("cookie signed with an unknown secret accepted")
	}
}
