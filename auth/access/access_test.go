package access

import "testing"

// Authorize follows Better-Auth's access module: AND needs every resource, OR one; a resource's
// own connector applies to its actions; unknown resources and empty lists are never granted.
func TestAuthorize(t *testing.T) {
	r := NewRole(Statements{"user": {"list", "get"}, "session": {"list"}})
	for _, tc := range []struct {
		name string
		req  Request
		conn Connector
		ok   bool
		err  string
	}{
		{"granted", Request{"user": {List: []string{"list", "get"}}}, And, true, ""},
		{"one action missing", Request{"user": {List: []string{"list", "ban"}}}, And, false, `unauthorized to access resource "user"`},
		{"action OR", Request{"user": {List: []string{"ban", "get"}, Connector: Or}}, And, true, ""},
		{"unknown resource AND", Request{"org": {List: []string{"x"}}, "user": {List: []string{"list"}}}, And, false, "You are not allowed to access resource: org"},
		{"unknown resource OR", Request{"org": {List: []string{"x"}}, "user": {List: []string{"list"}}}, Or, true, ""},
		{"OR none granted", Request{"user": {List: []string{"ban"}}, "session": {List: []string{"revoke"}}}, Or, false, "Not authorized"},
		{"empty list", Request{"user": {}}, And, false, `unauthorized to access resource "user"`},
		{"empty request", Request{}, And, false, "Not authorized"},
		{"other connector is AND", Request{"user": {List: []string{"list"}}, "org": {List: []string{"x"}}}, "xor", false, "You are not allowed to access resource: org"},
	} {
		got := r.Authorize(tc.req, tc.conn)
		if got.Success != tc.ok || got.Error != tc.err {
			t.Errorf("%s: %+v, want %v %q", tc.name, got, tc.ok, tc.err)
		}
	}
}

// The admin defaults: admin may do all but impersonate admins, user nothing; several roles in one
// field are each tried.
func TestAdminRoles(t *testing.T) {
	list := Request{"user": {List: []string{"list"}}}
	for roles, want := range map[string]bool{"admin": true, "user": false, "user,admin": true, "auditor": false, " admin": false, "": false} {
		if got := AdminRoles.Allows(roles, list); got != want {
			t.Errorf("Allows(%q) = %v, want %v", roles, got, want)
		}
	}
	if AdminRoles.Allows("admin", Request{"user": {List: []string{"impersonate-admins"}}}) {
		t.Error("admin may impersonate admins")
	}
	for res, actions := range AdminRoles["admin"].Statements() {
		for _, a := range actions {
			if !contains(AdminStatements[res], a) {
				t.Errorf("admin grants %s:%s, which is no statement", res, a)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ParseRequest takes both of Better-Auth's forms and refuses other shapes.
func TestParseRequest(t *testing.T) {
	req, err := ParseRequest(map[string]any{"user": []any{"list"}, "session": map[string]any{"actions": []any{"list", "x"}, "connector": "OR"}})
	if err != nil || req["session"].Connector != Or || len(req["user"].List) != 1 {
		t.Fatalf("ParseRequest = %+v, %v", req, err)
	}
	if !AdminRoles.Allows("admin", req) {
		t.Error("admin refused")
	}
	if _, err := ParseRequest(map[string]any{"user": "list"}); err == nil {
		t.Error("a string request accepted")
	}
}

// The organization plugin's default roles grant what Better-Auth's do, role lists are trimmed.
func TestOrganizationRoles(t *testing.T) {
	for _, tc := range []struct {
		roles string
		res   string
		act   string
		want  bool
	}{
		{"owner", "organization", "delete", true},
		{"admin", "organization", "delete", false},
		{"admin", "organization", "update", true},
		{"admin", "ac", "delete", true},
		{"member", "ac", "read", true},
		{"member", "member", "create", false},
		{"member, admin", "invitation", "cancel", true},
		{" ,member", "invitation", "create", false},
		{"auditor", "ac", "read", false},
	} {
		got := OrganizationRoles.AllowsAny(RoleList(tc.roles), Request{tc.res: {List: []string{tc.act}}})
		if got != tc.want {
			t.Errorf("%q %s:%s = %v, want %v", tc.roles, tc.res, tc.act, got, tc.want)
		}
	}
	if got := RoleList(" admin, ,owner "); len(got) != 2 || got[0] != "admin" || got[1] != "owner" {
		t.Errorf("RoleList = %q", got)
	}
}
