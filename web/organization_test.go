package web_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"authserver/auth/organization"
	"authserver/auth/plugin"
	"authserver/mail"
	"authserver/store"
	"authserver/store/storetest"
)

// memSender keeps every message in memory; fail makes Send refuse, as a dead SMTP server would.
type memSender struct {
	mu   sync.Mutex
	msgs []mail.Message
	fail bool
}

func (s *memSender) Send(_ context.Context, m mail.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("smtp refused")
	}
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *memSender) take() []mail.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.msgs
	s.msgs = nil
	return out
}

type orgSetup struct {
	e      *env
	st     *store.Store
	mail   *memSender
	ids    map[string]string  // user ids by name
	users  map[string]*client // signed-in clients by name
	emails map[string]string
}

// newOrgSetup serves the organization plugin (with env giving its options) and signs up the
// named users (<name>@example.com).
func newOrgSetup(t *testing.T, st *store.Store, env map[string]string, names ...string) *orgSetup {
	t.Helper()
	cfg, err := organization.LoadConfig(func(k string) string { return env[k] }, testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	p := organization.New(cfg)
	if err := plugin.Install(context.Background(), st, []plugin.Plugin{p}); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	tpl, err := mail.LoadTemplates("", "Test App")
	if err != nil {
		t.Fatal(err)
	}
	s := &orgSetup{st: st, mail: &memSender{}, ids: map[string]string{}, users: map[string]*client{}, emails: map[string]string{}}
	s.e = newEnv(t, st, func(o *envOptions) {
		o.auth.Plugins = []plugin.Plugin{p}
		o.auth.Email.Sender = s.mail
		o.auth.Email.Templates = tpl
		o.auth.Email.SendTimeout = time.Second
	})
	for _, n := range names {
		c := s.e.client()
		email := n + "@example.com"
		up := signUp(t, c, email, "password123")
		s.ids[n] = userMap(t, up.Raw)["id"].(string)
		s.users[n] = c
		s.emails[n] = email
	}
	return s
}

func (s *orgSetup) create(t *testing.T, who, slug string) string {
	t.Helper()
	r := s.users[who].do("POST", "/api/auth/organization/create", map[string]any{"name": strings.ToUpper(slug), "slug": slug})
	expect(t, r, 200, "")
	return r.JSON["id"].(string)
}

// join invites who into orgID as role (by the owner) and has them accept.
func (s *orgSetup) join(t *testing.T, owner, who, orgID, role string) string {
	t.Helper()
	s.e.clock.Advance(time.Second) // members are listed in the order they joined
	inv := s.users[owner].do("POST", "/api/auth/organization/invite-member", map[string]any{"email": s.emails[who], "role": role, "organizationId": orgID})
	expect(t, inv, 200, "")
	s.mail.take()
	acc := s.users[who].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": inv.JSON["id"]})
	expect(t, acc, 200, "")
	return acc.JSON["member"].(map[string]any)["id"].(string)
}

func (s *orgSetup) session(t *testing.T, who string) map[string]any {
	t.Helper()
	r := s.users[who].do("GET", "/api/auth/get-session", nil)
	expect(t, r, 200, "")
	return r.JSON["session"].(map[string]any)
}

// Organizations: create, check-slug, list, get, get-full, set-active, update, delete.
func TestOrganizationOrganizations(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, nil, "alice", "bob")
		a := s.users["alice"]
		if got := s.session(t, "alice")["activeOrganizationId"]; got != nil {
			t.Fatalf("activeOrganizationId before any organization = %v", got)
		}
		expect(t, s.e.client().do("POST", "/api/auth/organization/create", map[string]any{"name": "X", "slug": "x"}), 401, "")
		expect(t, a.do("POST", "/api/auth/organization/create", map[string]any{"name": "", "slug": "x"}), 400, "VALIDATION_ERROR")

		r := a.do("POST", "/api/auth/organization/create", map[string]any{"name": "Acme", "slug": "acme"})
		expect(t, r, 200, "")
		acme := r.JSON["id"].(string)
		if _, has := r.JSON["metadata"]; has || r.JSON["logo"] != nil || r.JSON["slug"] != "acme" {
			t.Errorf("create = %s", r.Raw)
		}
		ms := r.JSON["members"].([]any)
		if len(ms) != 1 || ms[0].(map[string]any)["role"] != "owner" || ms[0].(map[string]any)["userId"] != s.ids["alice"] {
			t.Errorf("create members = %s", r.Raw)
		}
		if len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("create set cookies %v (Better-Auth sets none)", r.Header.Values("Set-Cookie"))
		}
		if got := s.session(t, "alice")["activeOrganizationId"]; got != acme {
			t.Errorf("activeOrganizationId after create = %v, want %s", got, acme)
		}
		expect(t, a.do("POST", "/api/auth/organization/create", map[string]any{"name": "Acme", "slug": "acme"}), 400, "ORGANIZATION_ALREADY_EXISTS")

		s.e.clock.Advance(time.Second)
		b := a.do("POST", "/api/auth/organization/create", map[string]any{"name": "Beta", "slug": "beta", "logo": "l.png",
			"metadata": map[string]any{"a": 1}, "keepCurrentActiveOrganization": true})
		expect(t, b, 200, "")
		beta := b.JSON["id"].(string)
		if md, _ := b.JSON["metadata"].(map[string]any); md["a"] != float64(1) {
			t.Errorf("create metadata = %s", b.Raw)
		}
		if got := s.session(t, "alice")["activeOrganizationId"]; got != acme {
			t.Errorf("keepCurrentActiveOrganization moved the active organization to %v", got)
		}

		expect(t, a.do("POST", "/api/auth/organization/check-slug", map[string]any{"slug": "beta"}), 400, "ORGANIZATION_SLUG_ALREADY_TAKEN")
		if r := a.do("POST", "/api/auth/organization/check-slug", map[string]any{"slug": "free"}); r.Status != 200 || string(r.Raw) != `{"status":true}` {
			t.Errorf("check-slug free = %d %s", r.Status, r.Raw)
		}

		l := a.do("GET", "/api/auth/organization/list", nil)
		expect(t, l, 200, "")
		if len(l.Array) != 2 || l.Array[1].(map[string]any)["metadata"] != `{"a":1}` || l.Array[0].(map[string]any)["metadata"] != nil {
			t.Errorf("list = %s", l.Raw)
		}
		if l := s.users["bob"].do("GET", "/api/auth/organization/list", nil); string(l.Raw) != "[]" {
			t.Errorf("bob's list = %s", l.Raw)
		}

		full := a.do("GET", "/api/auth/organization/get-full-organization", nil)
		expect(t, full, 200, "")
		if full.JSON["id"] != acme || len(full.JSON["members"].([]any)) != 1 || len(full.JSON["invitations"].([]any)) != 0 {
			t.Errorf("get-full-organization = %s", full.Raw)
		}
		if u := full.JSON["members"].([]any)[0].(map[string]any)["user"].(map[string]any); u["email"] != "alice@example.com" || len(u) != 4 {
			t.Errorf("member user = %v", u)
		}
		if _, has := full.JSON["teams"]; has {
			t.Errorf("teams without teams on: %s", full.Raw)
		}
		if r := s.users["bob"].do("GET", "/api/auth/organization/get-full-organization", nil); r.Status != 200 || string(r.Raw) != "null" {
			t.Errorf("get-full-organization without active org = %d %s", r.Status, r.Raw)
		}
		if r := s.users["bob"].do("GET", "/api/auth/organization/get-organization", nil); r.Status != 200 || string(r.Raw) != "null" {
			t.Errorf("get-organization without active org = %d %s", r.Status, r.Raw)
		}
		g := a.do("GET", "/api/auth/organization/get-organization?organizationSlug=beta", nil)
		expect(t, g, 200, "")
		if g.JSON["id"] != beta || g.JSON["metadata"] != `{"a":1}` {
			t.Errorf("get-organization = %s", g.Raw)
		}
		expect(t, a.do("GET", "/api/auth/organization/get-organization?organizationSlug=nope", nil), 400, "ORGANIZATION_NOT_FOUND")

		sa := a.do("POST", "/api/auth/organization/set-active", map[string]any{"organizationSlug": "beta"})
		expect(t, sa, 200, "")
		if sa.JSON["id"] != beta || sa.JSON["metadata"] != `{"a":1}` {
			t.Errorf("set-active = %s", sa.Raw)
		}
		if _, ok := sa.setCookies()["better-auth.session_token"]; !ok || sa.Header.Get("set-auth-token") == "" {
			t.Errorf("set-active did not re-set the session cookie: %v", sa.Header)
		}
		if got := s.session(t, "alice")["activeOrganizationId"]; got != beta {
			t.Errorf("activeOrganizationId after set-active = %v", got)
		}
		// Not a member: 403 and the active organization is cleared.
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/set-active", map[string]any{"organizationId": beta}), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
		expect(t, s.users["bob"].do("GET", "/api/auth/organization/get-full-organization?organizationId="+beta, nil), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/set-active", map[string]any{"organizationSlug": "nope"}), 400, "ORGANIZATION_NOT_FOUND")
		un := a.do("POST", "/api/auth/organization/set-active", map[string]any{"organizationId": nil})
		if un.Status != 200 || string(un.Raw) != "null" {
			t.Errorf("set-active null = %d %s", un.Status, un.Raw)
		}
		if got := s.session(t, "alice")["activeOrganizationId"]; got != nil {
			t.Errorf("activeOrganizationId after set-active null = %v", got)
		}
		expect(t, a.do("POST", "/api/auth/organization/set-active", map[string]any{"organizationId": acme}), 200, "")

		u := a.do("POST", "/api/auth/organization/update", map[string]any{"data": map[string]any{"name": "Acme 2", "metadata": map[string]any{"b": 2}}})
		expect(t, u, 200, "")
		if u.JSON["name"] != "Acme 2" || u.JSON["metadata"].(map[string]any)["b"] != float64(2) {
			t.Errorf("update = %s", u.Raw)
		}
		expect(t, a.do("POST", "/api/auth/organization/update", map[string]any{"data": map[string]any{"slug": "beta"}}), 400, "ORGANIZATION_SLUG_ALREADY_TAKEN")
		// Metadata is kept as JSON.stringify prints what was sent: keys in the order sent (array
		// indexes first), a repeated key's last value, numbers in JavaScript's form, no HTML escapes.
		const sent = `{"data":{"logo":"","metadata":{"nested":{"a":[1,"two",null]},"flag":true,"b":1,"2":0,"1":1.50,"b":-0,"h":"<&>"}},"organizationId":"` + "%s" + `"}`
		const want = `{"1":1.5,"2":0,"nested":{"a":[1,"two",null]},"flag":true,"b":0,"h":"<&>"}`
		mu := a.do("POST", "/api/auth/organization/update", fmt.Sprintf(sent, beta))
		expect(t, mu, 200, "")
		if !strings.Contains(string(mu.Raw), `"metadata":{"1":1.5,"2":0,"nested":{"a":[1,"two",null]},"flag":true,"b":0,`) {
			t.Errorf("update metadata order = %s", mu.Raw)
		}
		if l := a.do("GET", "/api/auth/organization/list", nil); len(l.Array) != 2 || l.Array[1].(map[string]any)["metadata"] != want {
			t.Errorf("list after the metadata update = %s", l.Raw)
		}
		mc := a.do("POST", "/api/auth/organization/create", `{"name":"Gamma","slug":"gamma","metadata":{"z":1,"a":{"y":2,"x":3}},"keepCurrentActiveOrganization":true}`)
		expect(t, mc, 200, "")
		if !strings.Contains(string(mc.Raw), `"metadata":{"z":1,"a":{"y":2,"x":3}}`) {
			t.Errorf("create metadata order = %s", mc.Raw)
		}
		if g := a.do("GET", "/api/auth/organization/get-full-organization?organizationSlug=gamma", nil); g.JSON["metadata"] != `{"z":1,"a":{"y":2,"x":3}}` {
			t.Errorf("get-full-organization metadata = %s", g.Raw)
		}
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/update", map[string]any{"data": map[string]any{"name": "x"}, "organizationId": acme}), 400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/update", map[string]any{"data": map[string]any{"name": "x"}}), 400, "ORGANIZATION_NOT_FOUND")

		expect(t, s.users["bob"].do("POST", "/api/auth/organization/delete", map[string]any{"organizationId": acme}), 400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
		d := a.do("POST", "/api/auth/organization/delete", map[string]any{"organizationId": acme})
		expect(t, d, 200, "")
		if d.JSON["id"] != acme || d.JSON["metadata"] != `{"b":2}` {
			t.Errorf("delete = %s", d.Raw)
		}
		if got := s.session(t, "alice")["activeOrganizationId"]; got != nil {
			t.Errorf("activeOrganizationId after deleting it = %v", got)
		}
		if n, _ := store.OrgCount[store.Member](context.Background(), st, store.Query{Where: `"organizationId" = ?`, Args: []any{acme}}); n != 0 {
			t.Errorf("%d members left of a deleted organization", n)
		}
	})
}

// Limits: ORGANIZATION_LIMIT on create, ORGANIZATION_MEMBERSHIP_LIMIT on accept,
// ORGANIZATION_INVITATION_LIMIT on invite.
func TestOrganizationLimits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, map[string]string{"ORGANIZATION_LIMIT": "1", "ORGANIZATION_MEMBERSHIP_LIMIT": "2", "ORGANIZATION_INVITATION_LIMIT": "2"}, "alice", "bob", "carol", "dave")
		org := s.create(t, "alice", "one")
		expect(t, s.users["alice"].do("POST", "/api/auth/organization/create", map[string]any{"name": "Two", "slug": "two"}), 403, "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS")
		a := s.users["alice"]
		var ids []string
		for _, who := range []string{"bob", "carol"} {
			r := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": s.emails[who], "role": "member"})
			expect(t, r, 200, "")
			ids = append(ids, r.JSON["id"].(string))
		}
		expect(t, a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": s.emails["dave"], "role": "member"}), 403, "INVITATION_LIMIT_REACHED")
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": ids[0]}), 200, "")
		expect(t, s.users["carol"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": ids[1]}), 403, "ORGANIZATION_MEMBERSHIP_LIMIT_REACHED")
		if n, _ := store.OrgCount[store.Member](context.Background(), st, store.Query{Where: `"organizationId" = ?`, Args: []any{org}}); n != 2 {
			t.Errorf("%d members, want the limit 2", n)
		}
	})
}

// ORGANIZATION_ALLOW_USER_TO_CREATE=false refuses create.
func TestOrganizationCreateDisallowed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, map[string]string{"ORGANIZATION_ALLOW_USER_TO_CREATE": "false"}, "alice")
		expect(t, s.users["alice"].do("POST", "/api/auth/organization/create", map[string]any{"name": "A", "slug": "a"}), 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_ORGANIZATION")
	})
}

// Members: list-members, update-member-role, remove-member, leave, get-active-member(-role).
func TestOrganizationMembers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, nil, "alice", "bob", "carol", "dave")
		a := s.users["alice"]
		org := s.create(t, "alice", "acme")
		bobM := s.join(t, "alice", "bob", org, "admin")
		carolM := s.join(t, "alice", "carol", org, "member")

		l := a.do("GET", "/api/auth/organization/list-members", nil)
		expect(t, l, 200, "")
		if l.JSON["total"] != float64(3) || len(l.JSON["members"].([]any)) != 3 {
			t.Fatalf("list-members = %s", l.Raw)
		}
		l = a.do("GET", "/api/auth/organization/list-members?limit=1&offset=1", nil)
		if l.JSON["total"] != float64(3) || len(l.JSON["members"].([]any)) != 1 || l.JSON["members"].([]any)[0].(map[string]any)["id"] != bobM {
			t.Errorf("list-members page = %s", l.Raw)
		}
		l = a.do("GET", "/api/auth/organization/list-members?filterField=role&filterValue=member", nil)
		if l.JSON["total"] != float64(1) || l.JSON["members"].([]any)[0].(map[string]any)["id"] != carolM {
			t.Errorf("list-members filter = %s", l.Raw)
		}
		l = a.do("GET", "/api/auth/organization/list-members?sortBy=role&sortDirection=desc", nil)
		if roles := func() (out []string) {
			for _, m := range l.JSON["members"].([]any) {
				out = append(out, m.(map[string]any)["role"].(string))
			}
			return
		}(); strings.Join(roles, ",") != "owner,member,admin" {
			t.Errorf("sorted roles = %v", roles)
		}
		expect(t, s.users["dave"].do("GET", "/api/auth/organization/list-members?organizationId="+org, nil), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
		expect(t, s.users["dave"].do("GET", "/api/auth/organization/list-members", nil), 400, "NO_ACTIVE_ORGANIZATION")

		am := s.users["bob"].do("GET", "/api/auth/organization/get-active-member", nil)
		expect(t, am, 200, "")
		if am.JSON["id"] != bobM || am.JSON["role"] != "admin" || am.JSON["user"].(map[string]any)["email"] != "bob@example.com" {
			t.Errorf("get-active-member = %s", am.Raw)
		}
		expect(t, s.users["dave"].do("GET", "/api/auth/organization/get-active-member", nil), 400, "NO_ACTIVE_ORGANIZATION")
		if r := s.users["bob"].do("GET", "/api/auth/organization/get-active-member-role", nil); string(r.Raw) != `{"role":"admin"}` {
			t.Errorf("get-active-member-role = %s", r.Raw)
		}
		if r := s.users["bob"].do("GET", "/api/auth/organization/get-active-member-role?userId="+s.ids["alice"], nil); string(r.Raw) != `{"role":"owner"}` {
			t.Errorf("get-active-member-role of alice = %s", r.Raw)
		}

		// Roles: comma-joined lists, unknown names refused, only owners hand out owner.
		r := a.do("POST", "/api/auth/organization/update-member-role", map[string]any{"memberId": carolM, "role": []string{"admin", " member"}})
		expect(t, r, 200, "")
		if r.JSON["role"] != "admin,member" || r.JSON["id"] != carolM {
			t.Errorf("update-member-role = %s", r.Raw)
		}
		r = a.do("POST", "/api/auth/organization/update-member-role", map[string]any{"memberId": carolM, "role": "wizard"})
		expect(t, r, 400, "ROLE_NOT_FOUND")
		if r.JSON["message"] != "ROLE_NOT_FOUND: wizard" {
			t.Errorf("unknown role message = %s", r.Raw)
		}
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/update-member-role", map[string]any{"memberId": carolM, "role": "owner"}), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
		ownerM := s.session(t, "alice")
		_ = ownerM
		aliceM := a.do("GET", "/api/auth/organization/get-active-member", nil).JSON["id"].(string)
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/update-member-role", map[string]any{"memberId": aliceM, "role": "member"}), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
		// The last owner can neither step down nor leave.
		expect(t, a.do("POST", "/api/auth/organization/update-member-role", map[string]any{"memberId": aliceM, "role": "admin"}), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER")
		expect(t, a.do("POST", "/api/auth/organization/leave", map[string]any{"organizationId": org}), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
		expect(t, a.do("POST", "/api/auth/organization/remove-member", map[string]any{"memberIdOrEmail": aliceM}), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
		expect(t, s.users["carol"].do("POST", "/api/auth/organization/update-member-role", map[string]any{"memberId": aliceM, "role": "admin"}), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")

		// remove-member by e-mail answers the member with its user; by id without.
		rm := s.users["bob"].do("POST", "/api/auth/organization/remove-member", map[string]any{"memberIdOrEmail": "CAROL@example.com"})
		expect(t, rm, 200, "")
		if m := rm.JSON["member"].(map[string]any); m["id"] != carolM || m["user"].(map[string]any)["email"] != "carol@example.com" {
			t.Errorf("remove-member by e-mail = %s", rm.Raw)
		}
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/remove-member", map[string]any{"memberIdOrEmail": carolM}), 400, "MEMBER_NOT_FOUND")
		daveM := s.join(t, "alice", "dave", org, "member")
		expect(t, s.users["dave"].do("POST", "/api/auth/organization/remove-member", map[string]any{"memberIdOrEmail": bobM}), 401, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER")
		rm = a.do("POST", "/api/auth/organization/remove-member", map[string]any{"memberIdOrEmail": daveM})
		expect(t, rm, 200, "")
		if m := rm.JSON["member"].(map[string]any); m["id"] != daveM || m["user"] != nil {
			t.Errorf("remove-member by id = %s", rm.Raw)
		}

		lv := s.users["bob"].do("POST", "/api/auth/organization/leave", map[string]any{"organizationId": org})
		expect(t, lv, 200, "")
		if lv.JSON["id"] != bobM || lv.JSON["user"].(map[string]any)["id"] != s.ids["bob"] {
			t.Errorf("leave = %s", lv.Raw)
		}
		if got := s.session(t, "bob")["activeOrganizationId"]; got != nil {
			t.Errorf("activeOrganizationId after leave = %v", got)
		}
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/leave", map[string]any{"organizationId": org}), 400, "MEMBER_NOT_FOUND")
		// Over HTTP add-member does not exist (server-only in Better-Auth).
		if r := a.do("POST", "/api/auth/organization/add-member", map[string]any{"userId": s.ids["bob"], "role": "member"}); r.Status != 404 {
			t.Errorf("add-member over HTTP = %d %s", r.Status, r.Raw)
		}
	})
}

// Invitations: the mail, resend, accept, reject, cancel, get and the lists.
func TestOrganizationInvitations(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, map[string]string{"ORGANIZATION_INVITATION_EXPIRES_IN": "3600"}, "alice", "bob", "carol", "dave")
		a := s.users["alice"]
		org := s.create(t, "alice", "acme")
		inv := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "BOB@example.com", "role": "admin"})
		expect(t, inv, 200, "")
		id := inv.JSON["id"].(string)
		if inv.JSON["email"] != "bob@example.com" || inv.JSON["status"] != "pending" || inv.JSON["role"] != "admin" || inv.JSON["inviterId"] != s.ids["alice"] || inv.JSON["organizationId"] != org {
			t.Errorf("invite-member = %s", inv.Raw)
		}
		if _, has := inv.JSON["teamId"]; has {
			t.Errorf("teamId without teams: %s", inv.Raw)
		}
		exp, _ := time.Parse(time.RFC3339, inv.JSON["expiresAt"].(string))
		if d := exp.Sub(s.e.clock.Now()); d < 3599*time.Second || d > 3601*time.Second {
			t.Errorf("invitation expires in %v, want 1h", d)
		}
		msgs := s.mail.take()
		if len(msgs) != 1 || msgs[0].To != "bob@example.com" || !strings.Contains(msgs[0].Text, testBaseURL+"/accept-invitation/"+id) ||
			!strings.Contains(msgs[0].Subject, "ACME") || !strings.Contains(msgs[0].Text, "Test User") {
			t.Fatalf("invitation mail = %+v", msgs)
		}
		expect(t, a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "bob@example.com", "role": "member"}), 400, "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION")
		s.e.clock.Advance(10 * time.Minute)
		re := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "bob@example.com", "role": "member", "resend": true})
		expect(t, re, 200, "")
		if re.JSON["id"] != id || re.JSON["role"] != "admin" || re.JSON["expiresAt"] == inv.JSON["expiresAt"] {
			t.Errorf("resend = %s (first %s)", re.Raw, inv.Raw)
		}
		if len(s.mail.take()) != 1 {
			t.Error("resend sent no mail")
		}
		r := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "x@example.com", "role": "wizard"})
		expect(t, r, 400, "")
		if string(r.Raw) != `{"message":"ROLE_NOT_FOUND: wizard"}` {
			t.Errorf("unknown role = %s", r.Raw)
		}
		expect(t, a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "not-an-email", "role": "member"}), 400, "INVALID_EMAIL")
		expect(t, a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "alice@example.com", "role": "member"}), 400, "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION")

		// A send that fails leaves no invitation.
		s.mail.mu.Lock()
		s.mail.fail = true
		s.mail.mu.Unlock()
		if r := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "carol@example.com", "role": "member"}); r.Status < 400 {
			t.Errorf("invite with a failing mail = %d %s", r.Status, r.Raw)
		}
		if n, _ := store.OrgCount[store.Invitation](context.Background(), st, store.Query{Where: `"email" = ?`, Args: []any{"carol@example.com"}}); n != 0 {
			t.Errorf("a failed send left %d invitations", n)
		}
		s.mail.mu.Lock()
		s.mail.fail = false
		s.mail.mu.Unlock()

		// Only the invited address may see, accept or reject.
		expect(t, s.users["carol"].do("GET", "/api/auth/organization/get-invitation?id="+id, nil), 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION")
		expect(t, s.users["carol"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": id}), 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION")
		expect(t, s.users["carol"].do("POST", "/api/auth/organization/reject-invitation", map[string]any{"invitationId": id}), 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION")
		if r := s.e.client().do("GET", "/api/auth/organization/get-invitation?id="+id, nil); r.Status != 401 || string(r.Raw) != `{"message":"Not authenticated"}` {
			t.Errorf("get-invitation signed out = %d %s", r.Status, r.Raw)
		}
		g := s.users["bob"].do("GET", "/api/auth/organization/get-invitation?id="+id, nil)
		expect(t, g, 200, "")
		if g.JSON["organizationName"] != "ACME" || g.JSON["organizationSlug"] != "acme" || g.JSON["inviterEmail"] != "alice@example.com" {
			t.Errorf("get-invitation = %s", g.Raw)
		}
		// list-user-invitations needs a verified address.
		expect(t, s.users["bob"].do("GET", "/api/auth/organization/list-user-invitations", nil), 403, "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION")
		if _, err := st.UpdateUser(context.Background(), s.ids["bob"], map[string]any{"emailVerified": true}, store.NewTime(s.e.clock.Now())); err != nil {
			t.Fatal(err)
		}
		s.e.sessions.InvalidateUser(s.ids["bob"])
		lu := s.users["bob"].do("GET", "/api/auth/organization/list-user-invitations", nil)
		expect(t, lu, 200, "")
		if len(lu.Array) != 1 || lu.Array[0].(map[string]any)["organizationName"] != "ACME" {
			t.Errorf("list-user-invitations = %s", lu.Raw)
		}
		expect(t, s.users["bob"].do("GET", "/api/auth/organization/list-user-invitations?email=bob@example.com", nil), 400, "")

		li := a.do("GET", "/api/auth/organization/list-invitations", nil)
		expect(t, li, 200, "")
		if len(li.Array) != 1 {
			t.Errorf("list-invitations = %s", li.Raw)
		}

		acc := s.users["bob"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": id})
		expect(t, acc, 200, "")
		if acc.JSON["invitation"].(map[string]any)["status"] != "accepted" || acc.JSON["member"].(map[string]any)["role"] != "admin" {
			t.Errorf("accept-invitation = %s", acc.Raw)
		}
		if got := s.session(t, "bob")["activeOrganizationId"]; got != org {
			t.Errorf("accept did not make the organization active: %v", got)
		}
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": id}), 400, "INVITATION_NOT_FOUND")
		expect(t, s.users["bob"].do("GET", "/api/auth/organization/get-invitation?id="+id, nil), 400, "INVITATION_NOT_FOUND")

		// Reject and cancel.
		ci := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "carol@example.com", "role": "member"})
		expect(t, ci, 200, "")
		rj := s.users["carol"].do("POST", "/api/auth/organization/reject-invitation", map[string]any{"invitationId": ci.JSON["id"]})
		expect(t, rj, 200, "")
		if rj.JSON["invitation"].(map[string]any)["status"] != "rejected" || rj.JSON["member"] != nil {
			t.Errorf("reject-invitation = %s", rj.Raw)
		}
		rj = s.users["carol"].do("POST", "/api/auth/organization/reject-invitation", map[string]any{"invitationId": ci.JSON["id"]})
		expect(t, rj, 400, "INVITATION_NOT_FOUND")
		if rj.JSON["message"] != "Invitation not found!" {
			t.Errorf("second reject = %s", rj.Raw)
		}
		di := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "dave@example.com", "role": "member"})
		expect(t, di, 200, "")
		expect(t, s.users["dave"].do("POST", "/api/auth/organization/cancel-invitation", map[string]any{"invitationId": di.JSON["id"]}), 400, "MEMBER_NOT_FOUND")
		cn := s.users["bob"].do("POST", "/api/auth/organization/cancel-invitation", map[string]any{"invitationId": di.JSON["id"]})
		expect(t, cn, 200, "")
		if cn.JSON["status"] != "canceled" {
			t.Errorf("cancel-invitation = %s", cn.Raw)
		}
		expect(t, s.users["dave"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": di.JSON["id"]}), 400, "INVITATION_NOT_FOUND")

		// Admins may not hand out owner; owner invitations are hidden from non-owners.
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "x@example.com", "role": "owner"}), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
		expect(t, a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "boss@example.com", "role": "owner"}), 200, "")
		for who, want := range map[string]int{"alice": 4, "bob": 3} {
			if r := s.users[who].do("GET", "/api/auth/organization/list-invitations", nil); len(r.Array) != want {
				t.Errorf("%s sees %d invitations, want %d: %s", who, len(r.Array), want, r.Raw)
			}
		}

		// Expired invitations are gone.
		ei := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "dave@example.com", "role": "member"})
		expect(t, ei, 200, "")
		s.e.clock.Advance(2 * time.Hour)
		expect(t, s.users["dave"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": ei.JSON["id"]}), 400, "INVITATION_NOT_FOUND")
	})
}

// With ORGANIZATION_REQUIRE_EMAIL_VERIFICATION_ON_INVITATION an unverified invitee can neither
// accept nor see the invitation.
func TestOrganizationInvitationNeedsVerifiedEmail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, map[string]string{"ORGANIZATION_REQUIRE_EMAIL_VERIFICATION_ON_INVITATION": "true"}, "alice", "bob")
		s.create(t, "alice", "acme")
		inv := s.users["alice"].do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "bob@example.com", "role": "member"})
		expect(t, inv, 200, "")
		id := inv.JSON["id"]
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": id}), 403, "EMAIL_VERIFICATION_REQUIRED_BEFORE_ACCEPTING_OR_REJECTING_INVITATION")
		expect(t, s.users["bob"].do("GET", "/api/auth/organization/get-invitation?id="+id.(string), nil), 403, "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION")
	})
}

// has-permission goes through the default roles.
func TestOrganizationHasPermission(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, nil, "alice", "bob", "carol")
		org := s.create(t, "alice", "acme")
		s.join(t, "alice", "bob", org, "member")
		check := func(who string, perms map[string]any, want bool) {
			t.Helper()
			r := s.users[who].do("POST", "/api/auth/organization/has-permission", map[string]any{"permissions": perms})
			expect(t, r, 200, "")
			if r.JSON["success"] != want || r.JSON["error"] != nil {
				t.Errorf("%s has-permission %v = %s, want success %v", who, perms, r.Raw, want)
			}
		}
		check("alice", map[string]any{"organization": []string{"delete"}}, true)
		check("bob", map[string]any{"organization": []string{"delete"}}, false)
		check("bob", map[string]any{"ac": []string{"read"}}, true)
		check("alice", map[string]any{"member": []string{"create", "update"}, "invitation": []string{"cancel"}}, true)
		if r := s.users["alice"].do("POST", "/api/auth/organization/has-permission", map[string]any{"permission": map[string]any{"member": []string{"create"}}}); string(r.Raw) != `{"error":null,"success":false}` {
			t.Errorf("legacy permission = %s", r.Raw)
		}
		expect(t, s.users["alice"].do("POST", "/api/auth/organization/has-permission", map[string]any{"permission": map[string]any{}, "permissions": map[string]any{}}), 400, "VALIDATION_ERROR")
		expect(t, s.users["carol"].do("POST", "/api/auth/organization/has-permission", map[string]any{"permissions": map[string]any{"member": []string{"create"}}}), 400, "NO_ACTIVE_ORGANIZATION")
		expect(t, s.users["carol"].do("POST", "/api/auth/organization/has-permission", map[string]any{"permissions": map[string]any{"member": []string{"create"}}, "organizationId": org}), 401, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
		expect(t, s.e.client().do("POST", "/api/auth/organization/has-permission", map[string]any{"permissions": map[string]any{}}), 401, "")
	})
}

// Every permission-checked endpoint × role: the owner, an admin, a member and a user outside the
// organization each get what Better-Auth 1.7.25 answers them (status and code).
func TestOrganizationPermissionMatrix(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, map[string]string{"ORGANIZATION_TEAMS": "true"}, "owner", "admin", "member", "target", "outsider")
		type fixture struct {
			org, targetMember, invitation, defaultTeam, extraTeam string
		}
		n := 0
		setup := func(t *testing.T) fixture {
			t.Helper()
			n++
			var f fixture
			f.org = s.create(t, "owner", "org"+strings.Repeat("x", n))
			s.join(t, "owner", "admin", f.org, "admin")
			s.join(t, "owner", "member", f.org, "member")
			f.targetMember = s.join(t, "owner", "target", f.org, "member")
			inv := s.users["owner"].do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "pending@example.com", "role": "member", "organizationId": f.org})
			expect(t, inv, 200, "")
			f.invitation = inv.JSON["id"].(string)
			teams := s.users["owner"].do("GET", "/api/auth/organization/list-teams?organizationId="+f.org, nil)
			expect(t, teams, 200, "")
			f.defaultTeam = teams.Array[0].(map[string]any)["id"].(string)
			et := s.users["owner"].do("POST", "/api/auth/organization/create-team", map[string]any{"name": "Extra", "organizationId": f.org})
			expect(t, et, 200, "")
			f.extraTeam = et.JSON["id"].(string)
			s.mail.take()
			return f
		}
		type want struct {
			status int
			code   string
		}
		ok := want{200, ""}
		cases := []struct {
			name  string
			call  func(c *client, f fixture) *response
			wants map[string]want // by role: owner, admin, member, outsider
		}{
			{"update", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/update", map[string]any{"organizationId": f.org, "data": map[string]any{"name": "New"}})
			}, map[string]want{"owner": ok, "admin": ok, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION"}, "outsider": {400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"}}},
			{"delete", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/delete", map[string]any{"organizationId": f.org})
			}, map[string]want{"owner": ok, "admin": {403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION"}, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION"}, "outsider": {400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"}}},
			{"get-organization", func(c *client, f fixture) *response {
				return c.do("GET", "/api/auth/organization/get-organization?organizationId="+f.org, nil)
			}, map[string]want{"owner": ok, "admin": ok, "member": ok, "outsider": {403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"}}},
			{"get-full-organization", func(c *client, f fixture) *response {
				return c.do("GET", "/api/auth/organization/get-full-organization?organizationId="+f.org, nil)
			}, map[string]want{"owner": ok, "admin": ok, "member": ok, "outsider": {403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"}}},
			{"set-active", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/set-active", map[string]any{"organizationId": f.org})
			}, map[string]want{"owner": ok, "admin": ok, "member": ok, "outsider": {403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"}}},
			{"list-members", func(c *client, f fixture) *response {
				return c.do("GET", "/api/auth/organization/list-members?organizationId="+f.org, nil)
			}, map[string]want{"owner": ok, "admin": ok, "member": ok, "outsider": {403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION"}}},
			{"get-active-member-role", func(c *client, f fixture) *response {
				return c.do("GET", "/api/auth/organization/get-active-member-role?organizationId="+f.org, nil)
			}, map[string]want{"owner": ok, "admin": ok, "member": ok, "outsider": {403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION"}}},
			{"update-member-role", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/update-member-role", map[string]any{"organizationId": f.org, "memberId": f.targetMember, "role": "admin"})
			}, map[string]want{"owner": ok, "admin": ok, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER"}, "outsider": {400, "MEMBER_NOT_FOUND"}}},
			{"remove-member", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/remove-member", map[string]any{"organizationId": f.org, "memberIdOrEmail": f.targetMember})
			}, map[string]want{"owner": ok, "admin": ok, "member": {401, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER"}, "outsider": {400, "MEMBER_NOT_FOUND"}}},
			{"leave", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/leave", map[string]any{"organizationId": f.org})
			}, map[string]want{"owner": {400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER"}, "admin": ok, "member": ok, "outsider": {400, "MEMBER_NOT_FOUND"}}},
			{"invite-member", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/invite-member", map[string]any{"organizationId": f.org, "email": "new@example.com", "role": "member"})
			}, map[string]want{"owner": ok, "admin": ok, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION"}, "outsider": {400, "MEMBER_NOT_FOUND"}}},
			{"cancel-invitation", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/cancel-invitation", map[string]any{"invitationId": f.invitation})
			}, map[string]want{"owner": ok, "admin": ok, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION"}, "outsider": {400, "MEMBER_NOT_FOUND"}}},
			{"list-invitations", func(c *client, f fixture) *response {
				return c.do("GET", "/api/auth/organization/list-invitations?organizationId="+f.org, nil)
			}, map[string]want{"owner": ok, "admin": ok, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS"}, "outsider": {403, ""}}},
			{"has-permission", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/has-permission", map[string]any{"organizationId": f.org, "permissions": map[string]any{"member": []string{"create"}}})
			}, map[string]want{"owner": ok, "admin": ok, "member": ok, "outsider": {401, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"}}},
			{"create-team", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/create-team", map[string]any{"organizationId": f.org, "name": "T"})
			}, map[string]want{"owner": ok, "admin": ok, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_TEAMS_IN_THIS_ORGANIZATION"}, "outsider": {403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION"}}},
			{"update-team", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/update-team", map[string]any{"teamId": f.extraTeam, "data": map[string]any{"name": "U", "organizationId": f.org}})
			}, map[string]want{"owner": ok, "admin": ok, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM"}, "outsider": {403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM"}}},
			{"remove-team", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/remove-team", map[string]any{"teamId": f.extraTeam, "organizationId": f.org})
			}, map[string]want{"owner": ok, "admin": ok, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_TEAMS_IN_THIS_ORGANIZATION"}, "outsider": {403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM"}}},
			{"list-teams", func(c *client, f fixture) *response {
				return c.do("GET", "/api/auth/organization/list-teams?organizationId="+f.org, nil)
			}, map[string]want{"owner": ok, "admin": ok, "member": ok, "outsider": {403, "YOU_ARE_NOT_ALLOWED_TO_ACCESS_THIS_ORGANIZATION"}}},
			{"add-team-member", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/add-team-member", map[string]any{"organizationId": f.org, "teamId": f.extraTeam, "userId": s.ids["target"]})
			}, map[string]want{"owner": ok, "admin": ok, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER"}, "outsider": {400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"}}},
			{"remove-team-member", func(c *client, f fixture) *response {
				return c.do("POST", "/api/auth/organization/remove-team-member", map[string]any{"organizationId": f.org, "teamId": f.defaultTeam, "userId": s.ids["owner"]})
			}, map[string]want{"owner": ok, "admin": ok, "member": {403, "YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER"}, "outsider": {400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION"}}},
		}
		for _, tc := range cases {
			for _, role := range []string{"owner", "admin", "member", "outsider"} {
				w := tc.wants[role]
				f := setup(t)
				r := tc.call(s.users[role], f)
				if r.Status != w.status || r.code() != w.code {
					t.Errorf("%s as %s = %d %s, want %d %q", tc.name, role, r.Status, r.Raw, w.status, w.code)
				}
			}
		}
	})
}

// Teams: the default team, create, list, update, set-active-team, members, remove.
func TestOrganizationTeams(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, map[string]string{"ORGANIZATION_TEAMS": "true"}, "alice", "bob", "carol")
		a := s.users["alice"]
		org := s.create(t, "alice", "acme")
		sess := s.session(t, "alice")
		def := sess["activeTeamId"]
		if def == nil {
			t.Fatalf("no active team after create: %v", sess)
		}
		full := a.do("GET", "/api/auth/organization/get-full-organization", nil)
		teams := full.JSON["teams"].([]any)
		if len(teams) != 1 || teams[0].(map[string]any)["id"] != def || teams[0].(map[string]any)["memberCount"] != float64(1) ||
			teams[0].(map[string]any)["name"] != "ACME" || teams[0].(map[string]any)["updatedAt"] != nil {
			t.Errorf("get-full-organization teams = %s", full.Raw)
		}
		ct := a.do("POST", "/api/auth/organization/create-team", map[string]any{"name": "Two"})
		expect(t, ct, 200, "")
		two := ct.JSON["id"].(string)
		if _, has := ct.JSON["memberCount"]; has || ct.JSON["updatedAt"] != ct.JSON["createdAt"] || ct.JSON["organizationId"] != org {
			t.Errorf("create-team = %s", ct.Raw)
		}
		if lt := a.do("GET", "/api/auth/organization/list-teams", nil); len(lt.Array) != 2 {
			t.Errorf("list-teams = %s", lt.Raw)
		}
		s.e.clock.Advance(time.Second)
		ut := a.do("POST", "/api/auth/organization/update-team", map[string]any{"teamId": two, "data": map[string]any{"name": "Deux"}})
		expect(t, ut, 200, "")
		if ut.JSON["name"] != "Deux" || ut.JSON["updatedAt"] == ct.JSON["updatedAt"] {
			t.Errorf("update-team = %s", ut.Raw)
		}
		expect(t, a.do("POST", "/api/auth/organization/update-team", map[string]any{"teamId": "nope", "data": map[string]any{"name": "x"}}), 400, "TEAM_NOT_FOUND")

		// An invitation into a team puts the member in it and makes it active.
		inv := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "bob@example.com", "role": "member", "teamId": two})
		expect(t, inv, 200, "")
		if inv.JSON["teamId"] != two {
			t.Errorf("invite teamId = %s", inv.Raw)
		}
		expect(t, a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "x@example.com", "role": "member", "teamId": "a,b"}), 400, "INVALID_TEAM_ID")
		expect(t, a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "x@example.com", "role": "member", "teamId": "nope"}), 400, "TEAM_NOT_FOUND")
		acc := s.users["bob"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": inv.JSON["id"]})
		expect(t, acc, 200, "")
		if _, ok := acc.setCookies()["better-auth.session_token"]; !ok {
			t.Errorf("accept into one team did not re-set the session cookie")
		}
		if got := s.session(t, "bob")["activeTeamId"]; got != two {
			t.Errorf("bob's active team = %v, want %s", got, two)
		}
		tm := s.users["bob"].do("GET", "/api/auth/organization/list-team-members", nil)
		expect(t, tm, 200, "")
		if len(tm.Array) != 1 || tm.Array[0].(map[string]any)["userId"] != s.ids["bob"] {
			t.Errorf("list-team-members = %s", tm.Raw)
		}
		if _, has := tm.Array[0].(map[string]any)["membershipKey"]; has {
			t.Errorf("membershipKey printed: %s", tm.Raw)
		}
		expect(t, s.users["bob"].do("GET", "/api/auth/organization/list-team-members?teamId="+def.(string), nil), 400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
		if ut := s.users["bob"].do("GET", "/api/auth/organization/list-user-teams", nil); len(ut.Array) != 1 || ut.Array[0].(map[string]any)["id"] != two {
			t.Errorf("list-user-teams = %s", ut.Raw)
		}

		// add/remove team members keep memberCount.
		add := a.do("POST", "/api/auth/organization/add-team-member", map[string]any{"teamId": def, "userId": s.ids["bob"]})
		expect(t, add, 200, "")
		if add.JSON["teamId"] != def || add.JSON["userId"] != s.ids["bob"] {
			t.Errorf("add-team-member = %s", add.Raw)
		}
		again := a.do("POST", "/api/auth/organization/add-team-member", map[string]any{"teamId": def, "userId": s.ids["bob"]})
		if again.JSON["id"] != add.JSON["id"] {
			t.Errorf("adding twice made a second row: %s", again.Raw)
		}
		expect(t, a.do("POST", "/api/auth/organization/add-team-member", map[string]any{"teamId": def, "userId": s.ids["carol"]}), 400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
		count := func(team string) any {
			f := a.do("GET", "/api/auth/organization/get-full-organization", nil)
			for _, x := range f.JSON["teams"].([]any) {
				if x.(map[string]any)["id"] == team {
					return x.(map[string]any)["memberCount"]
				}
			}
			return nil
		}
		if got := count(def.(string)); got != float64(2) {
			t.Errorf("memberCount after add = %v", got)
		}
		rm := a.do("POST", "/api/auth/organization/remove-team-member", map[string]any{"teamId": def, "userId": s.ids["bob"]})
		if rm.Status != 200 || string(rm.Raw) != `{"message":"Team member removed successfully."}` {
			t.Errorf("remove-team-member = %d %s", rm.Status, rm.Raw)
		}
		if got := count(def.(string)); got != float64(1) {
			t.Errorf("memberCount after remove = %v", got)
		}
		expect(t, a.do("POST", "/api/auth/organization/remove-team-member", map[string]any{"teamId": def, "userId": s.ids["bob"]}), 400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")

		// set-active-team.
		st2 := a.do("POST", "/api/auth/organization/set-active-team", map[string]any{"teamId": two})
		expect(t, st2, 403, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
		sa := a.do("POST", "/api/auth/organization/set-active-team", map[string]any{"teamId": def})
		expect(t, sa, 200, "")
		if sa.JSON["id"] != def {
			t.Errorf("set-active-team = %s", sa.Raw)
		}
		if r := a.do("POST", "/api/auth/organization/set-active-team", map[string]any{"teamId": nil}); r.Status != 200 || string(r.Raw) != "null" {
			t.Errorf("set-active-team null = %d %s", r.Status, r.Raw)
		}
		if got := s.session(t, "alice")["activeTeamId"]; got != nil {
			t.Errorf("activeTeamId after null = %v", got)
		}

		// remove-team: not the last one; pending invitations forget it.
		pend := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "carol@example.com", "role": "member", "teamId": []string{two, def.(string)}})
		expect(t, pend, 200, "")
		rt := a.do("POST", "/api/auth/organization/remove-team", map[string]any{"teamId": two})
		if rt.Status != 200 || string(rt.Raw) != `{"message":"Team removed successfully."}` {
			t.Errorf("remove-team = %d %s", rt.Status, rt.Raw)
		}
		li := a.do("GET", "/api/auth/organization/list-invitations", nil)
		for _, x := range li.Array {
			if m := x.(map[string]any); m["id"] == pend.JSON["id"] && m["teamId"] != def {
				t.Errorf("pending invitation teamId after remove-team = %v", m["teamId"])
			}
		}
		expect(t, a.do("POST", "/api/auth/organization/remove-team", map[string]any{"teamId": def}), 400, "UNABLE_TO_REMOVE_LAST_TEAM")
		expect(t, s.e.client().do("POST", "/api/auth/organization/create-team", map[string]any{"name": "x", "organizationId": org}), 401, "")
	})
}

// Dynamic access control: an organization's own roles are created, read, renamed, used by every
// permission check and deleted once no member holds them.
func TestOrganizationDynamicRoles(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, map[string]string{"ORGANIZATION_DYNAMIC_ACCESS_CONTROL": "true"}, "alice", "bob", "carol", "dave")
		a := s.users["alice"]
		org := s.create(t, "alice", "acme")
		bobM := s.join(t, "alice", "bob", org, "member")

		cr := a.do("POST", "/api/auth/organization/create-role", map[string]any{"role": "Sales", "permission": map[string]any{"invitation": []string{"create"}, "ac": []string{"read"}}})
		expect(t, cr, 200, "")
		rd := cr.JSON["roleData"].(map[string]any)
		if cr.JSON["success"] != true || rd["role"] != "sales" || rd["organizationId"] != org || rd["updatedAt"] != nil ||
			rd["permission"].(map[string]any)["invitation"].([]any)[0] != "create" || cr.JSON["statements"] == nil {
			t.Errorf("create-role = %s", cr.Raw)
		}
		roleID := rd["id"].(string)
		expect(t, a.do("POST", "/api/auth/organization/create-role", map[string]any{"role": "sales", "permission": map[string]any{}}), 400, "ROLE_NAME_IS_ALREADY_TAKEN")
		expect(t, a.do("POST", "/api/auth/organization/create-role", map[string]any{"role": "Admin", "permission": map[string]any{}}), 400, "ROLE_NAME_IS_ALREADY_TAKEN")
		expect(t, a.do("POST", "/api/auth/organization/create-role", map[string]any{"role": "x", "permission": map[string]any{"bogus": []string{"a"}}}), 400, "INVALID_RESOURCE")
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/create-role", map[string]any{"role": "x", "permission": map[string]any{}}), 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE")
		// An admin may create roles, but only with permissions it holds itself.
		s.join(t, "alice", "carol", org, "admin")
		miss := s.users["carol"].do("POST", "/api/auth/organization/create-role", map[string]any{"role": "x", "permission": map[string]any{"organization": []string{"delete", "update"}, "member": []string{"create"}}})
		expect(t, miss, 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE")
		if string(miss.Raw) != `{"message":"You are not allowed to create a role","code":"YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE","missingPermissions":["organization:delete"]}` {
			t.Errorf("create-role beyond the admin's own permissions = %s", miss.Raw)
		}
		expect(t, s.users["dave"].do("POST", "/api/auth/organization/create-role", map[string]any{"role": "x", "permission": map[string]any{}}), 400, "YOU_MUST_BE_IN_AN_ORGANIZATION_TO_CREATE_A_ROLE")
		expect(t, s.users["dave"].do("POST", "/api/auth/organization/create-role", map[string]any{"role": "x", "permission": map[string]any{}, "organizationId": org}), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")

		if l := s.users["bob"].do("GET", "/api/auth/organization/list-roles", nil); len(l.Array) != 1 || l.Array[0].(map[string]any)["id"] != roleID {
			t.Errorf("list-roles = %s", l.Raw)
		}
		if g := a.do("GET", "/api/auth/organization/get-role?roleName=sales", nil); g.JSON["id"] != roleID {
			t.Errorf("get-role = %s", g.Raw)
		}
		expect(t, a.do("GET", "/api/auth/organization/get-role?roleId=nope", nil), 400, "ROLE_NOT_FOUND")
		expect(t, a.do("GET", "/api/auth/organization/get-role", nil), 400, "VALIDATION_ERROR")

		// The custom role is assignable and grants what it says.
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "x@example.com", "role": "member"}), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION")
		r := a.do("POST", "/api/auth/organization/update-member-role", map[string]any{"memberId": bobM, "role": "member,sales"})
		expect(t, r, 200, "")
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "x@example.com", "role": "member"}), 200, "")
		hp := s.users["bob"].do("POST", "/api/auth/organization/has-permission", map[string]any{"permissions": map[string]any{"invitation": []string{"create"}}})
		if hp.JSON["success"] != true {
			t.Errorf("has-permission with the custom role = %s", hp.Raw)
		}
		expect(t, a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "y@example.com", "role": "sales"}), 200, "")

		up := a.do("POST", "/api/auth/organization/update-role", map[string]any{"roleId": roleID, "data": map[string]any{"permission": map[string]any{"team": []string{"create"}}}})
		expect(t, up, 200, "")
		if p := up.JSON["roleData"].(map[string]any)["permission"].(map[string]any); p["team"] == nil || p["invitation"] != nil {
			t.Errorf("update-role = %s", up.Raw)
		}
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "z@example.com", "role": "member"}), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION")
		// Each update stamps the row; the answer shows the row as read before the write, so the
		// first update's updatedAt is null and the next one's is the first's stamp.
		if rd := up.JSON["roleData"].(map[string]any); rd["updatedAt"] != nil {
			t.Errorf("first update-role updatedAt = %s", up.Raw)
		}
		s.e.clock.Advance(time.Minute)
		rn := a.do("POST", "/api/auth/organization/update-role", map[string]any{"roleId": roleID, "data": map[string]any{"roleName": "Deals"}})
		expect(t, rn, 200, "")
		if rd := rn.JSON["roleData"].(map[string]any); rd["role"] != "deals" || rd["updatedAt"] == nil {
			t.Errorf("rename update-role = %s", rn.Raw)
		}
		if g := a.do("GET", "/api/auth/organization/get-role?roleName=deals", nil); g.JSON["updatedAt"] == nil || g.JSON["updatedAt"] == rn.JSON["roleData"].(map[string]any)["updatedAt"] {
			t.Errorf("get-role after two updates = %s (rename answered %s)", g.Raw, rn.Raw)
		}
		expect(t, a.do("POST", "/api/auth/organization/update-role", map[string]any{"roleId": roleID, "data": map[string]any{"roleName": "sales"}}), 200, "")

		expect(t, a.do("POST", "/api/auth/organization/delete-role", map[string]any{"roleName": "owner"}), 400, "CANNOT_DELETE_A_PRE_DEFINED_ROLE")
		expect(t, a.do("POST", "/api/auth/organization/delete-role", map[string]any{"roleName": "sales"}), 400, "ROLE_IS_ASSIGNED_TO_MEMBERS")
		expect(t, a.do("POST", "/api/auth/organization/delete-role", map[string]any{}), 400, "VALIDATION_ERROR")
		expect(t, a.do("POST", "/api/auth/organization/update-member-role", map[string]any{"memberId": bobM, "role": "member"}), 200, "")
		if d := a.do("POST", "/api/auth/organization/delete-role", map[string]any{"roleId": roleID}); d.Status != 200 || string(d.Raw) != `{"success":true}` {
			t.Errorf("delete-role = %d %s", d.Status, d.Raw)
		}
		r = a.do("POST", "/api/auth/organization/update-member-role", map[string]any{"memberId": bobM, "role": "sales"})
		expect(t, r, 400, "ROLE_NOT_FOUND")
	})
}

// Turning teams and dynamic access control on later adds their tables and columns to a database
// the plugin already migrated, and invitations written before keep working.
func TestOrganizationOptionsTurnedOnLater(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cfg, _ := organization.LoadConfig(func(string) string { return "" }, testBaseURL)
		first := organization.New(cfg)
		first.SessionFields = nil // only the migrations: a store registers its fields once
		if err := plugin.Install(ctx, st, []plugin.Plugin{first}); err != nil {
			t.Fatal(err)
		}
		org := store.Organization{ID: "o1", Name: "Old", Slug: "old", CreatedAt: store.NewTime(time.Now())}
		if err := store.OrgCreate(ctx, st, &org); err != nil {
			t.Fatal(err)
		}
		s := newOrgSetup(t, st, map[string]string{"ORGANIZATION_TEAMS": "true", "ORGANIZATION_DYNAMIC_ACCESS_CONTROL": "true"}, "alice")
		if n, err := store.OrgCount[store.Team](ctx, st, store.Query{Where: "1 = 1"}); err != nil || n != 0 {
			t.Fatalf("team table after turning teams on: %d, %v", n, err)
		}
		if n, err := store.OrgCount[store.OrganizationRole](ctx, st, store.Query{Where: "1 = 1"}); err != nil || n != 0 {
			t.Fatalf("organizationRole table after turning it on: %d, %v", n, err)
		}
		s.create(t, "alice", "acme")
		inv := s.users["alice"].do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "x@example.com", "role": "member"})
		expect(t, inv, 200, "")
		if v, has := inv.JSON["teamId"]; !has || v != nil {
			t.Errorf("invitation teamId with teams on = %s", inv.Raw)
		}
		if got := s.session(t, "alice")["activeTeamId"]; got == nil {
			t.Error("no activeTeamId in the session with teams on")
		}
	})
}

// Bodies Better-Auth's schemas refuse get zod's messages.
func TestOrganizationBadInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, map[string]string{"ORGANIZATION_DYNAMIC_ACCESS_CONTROL": "true"}, "alice")
		a := s.users["alice"]
		s.create(t, "alice", "acme")
		for _, tc := range []struct {
			path string
			body any
			msg  string
		}{
			{"invite-member", map[string]any{"email": "x@example.com"}, "[body.role] Invalid input"},
			{"invite-member", map[string]any{"email": "x@example.com", "role": 5}, "[body.role] Invalid input"},
			{"invite-member", map[string]any{"email": "x@example.com", "role": []any{"member", 5}}, "[body.role] Invalid input"},
			// Every issue is reported, not just the first.
			{"invite-member", map[string]any{"email": 5}, "[body.email] Invalid input: expected string, received number; [body.role] Invalid input"},
			{"update-member-role", map[string]any{"memberId": "x"}, "[body.role] Invalid input"},
			{"update", map[string]any{}, "[body.data] Invalid input: expected object, received undefined"},
			{"update", map[string]any{"data": map[string]any{"name": 5}}, "[body.data.name] Invalid input: expected string, received number"},
			{"create-role", map[string]any{"role": "x"}, "[body.permission] Invalid input: expected record, received undefined"},
			{"update-role", map[string]any{"roleName": "x"}, "[body.data] Invalid input: expected object, received undefined"},
			{"has-permission", map[string]any{}, "[body] Invalid input"},
			{"has-permission", map[string]any{"permission": map[string]any{}, "permissions": map[string]any{}}, "[body] Invalid input: more than one option matched"},
		} {
			r := a.do("POST", "/api/auth/organization/"+tc.path, tc.body)
			if r.Status != 400 || r.code() != "VALIDATION_ERROR" || r.JSON["message"] != tc.msg {
				t.Errorf("%s %v = %d %s, want 400 %q", tc.path, tc.body, r.Status, r.Raw, tc.msg)
			}
		}
		if r := a.do("GET", "/api/auth/organization/list-members?sortDirection=up", nil); r.Status != 400 || r.code() != "VALIDATION_ERROR" ||
			r.JSON["message"] != `[query.sortDirection] Invalid option: expected one of "asc"|"desc"` {
			t.Errorf("bad sortDirection = %d %s", r.Status, r.Raw)
		}
		// zod 4 names every allowed value of an enum.
		if r := a.do("GET", "/api/auth/organization/list-members?filterField=role&filterValue=x&filterOperator=bogus", nil); r.Status != 400 || r.code() != "VALIDATION_ERROR" ||
			r.JSON["message"] != `[query.filterOperator] Invalid option: expected one of "eq"|"ne"|"lt"|"lte"|"gt"|"gte"|"in"|"not_in"|"contains"|"starts_with"|"ends_with"` {
			t.Errorf("bad filterOperator = %d %s", r.Status, r.Raw)
		}
		if r := a.do("GET", "/api/auth/organization/list-members?filterField=nope&filterValue=1", nil); r.Status != 400 {
			t.Errorf("unknown filterField = %d %s", r.Status, r.Raw)
		}
		if r := a.do("POST", "/api/auth/organization/create", map[string]any{"name": "N\u0000", "slug": "n"}); r.Status != 400 {
			t.Errorf("NUL in a name = %d %s", r.Status, r.Raw)
		}
		if r := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "y@example.com", "role": []any{"member\u0000"}}); r.Status != 400 {
			t.Errorf("NUL in a role = %d %s", r.Status, r.Raw)
		}
	})
}

// ORGANIZATION_MAXIMUM_TEAMS, ORGANIZATION_MAXIMUM_MEMBERS_PER_TEAM and
// ORGANIZATION_CANCEL_PENDING_INVITATIONS_ON_REINVITE.
func TestOrganizationTeamLimitsAndReInvite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newOrgSetup(t, st, map[string]string{"ORGANIZATION_TEAMS": "true", "ORGANIZATION_MAXIMUM_TEAMS": "2",
			"ORGANIZATION_MAXIMUM_MEMBERS_PER_TEAM": "1", "ORGANIZATION_CANCEL_PENDING_INVITATIONS_ON_REINVITE": "true"}, "alice", "bob")
		a := s.users["alice"]
		s.create(t, "alice", "acme")
		def := s.session(t, "alice")["activeTeamId"]
		expect(t, a.do("POST", "/api/auth/organization/create-team", map[string]any{"name": "Two"}), 200, "")
		expect(t, a.do("POST", "/api/auth/organization/create-team", map[string]any{"name": "Three"}), 400, "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_TEAMS")
		expect(t, a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "bob@example.com", "role": "member", "teamId": def}), 403, "TEAM_MEMBER_LIMIT_REACHED")
		first := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "bob@example.com", "role": "member"})
		expect(t, first, 200, "")
		second := a.do("POST", "/api/auth/organization/invite-member", map[string]any{"email": "bob@example.com", "role": "admin"})
		expect(t, second, 200, "")
		if second.JSON["id"] == first.JSON["id"] || second.JSON["role"] != "admin" {
			t.Errorf("re-invite = %s", second.Raw)
		}
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": first.JSON["id"]}), 400, "INVITATION_NOT_FOUND")
		expect(t, s.users["bob"].do("POST", "/api/auth/organization/accept-invitation", map[string]any{"invitationId": second.JSON["id"]}), 200, "")
		expect(t, a.do("POST", "/api/auth/organization/add-team-member", map[string]any{"teamId": def, "userId": s.ids["bob"]}), 403, "TEAM_MEMBER_LIMIT_REACHED")
		expect(t, a.do("POST", "/api/auth/organization/add-team-member", map[string]any{"teamId": def, "userId": s.ids["alice"]}), 200, "")
	})
}
