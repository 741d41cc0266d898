// The organization plugin (BETTER_AUTH_PLUGINS=admin,organization with ORGANIZATION_TEAMS=true on both
// servers): every /organization/* endpoint compared between the servers — create, check-slug, update,
// delete, get-organization, get-full-organization, set-active (the session cookie it re-sets), list;
// the members (list-members, update-member-role, remove-member, leave, get-active-member(-role), the
// server-only add-member), the last-owner rules; invitations (invite-member incl. resend and unknown
// roles, the mailed invitation read from both outboxes, get-invitation, list-invitations,
// list-user-invitations, accept by the wrong user and the right one, reject, cancel); teams;
// has-permission; the refusals as owner, admin, member, non-member and signed out; and the real
// client's organizationClient(). A second suite switches on dynamic access control
// (ORGANIZATION_DYNAMIC_ACCESS_CONTROL=true) for create-role, list-roles, get-role, update-role and
// delete-role. Users are scenario-unique (their addresses carry the scenario's tag), so per-user lists
// need no scoping; lists whose order Better-Auth leaves to the database are compared sorted.
import { createAuthClient } from 'better-auth/client';
import { organizationClient } from 'better-auth/client/plugins';
import { compatSuite } from '../lib/harness.mjs';

const ENV = { BETTER_AUTH_PLUGINS: 'admin,organization', ORGANIZATION_TEAMS: 'true' };
const err = (res, status, code) => res.status === status && res.json?.code === code;

/** Signs up a user in a fresh browser; returns {b, id, email}. */
async function user(s, local, name = `User ${local} ${s.tag}`) {
  const b = s.browser();
  const email = s.email(local);
  const up = await s.signUp(b, { email, name });
  if (up.status !== 200) throw new Error(`sign-up of ${email}: ${up.status} ${up.text}`);
  return { b, id: up.json.user.id, email };
}

/** A random-looking id (32 characters on both servers) in a label becomes <id>. */
const labelValue = (v) => (typeof v === 'string' && /^[A-Za-z0-9_-]{20,}$/.test(v) ? '<id>' : v);

/** POST /organization/<path>. */
const post = (b, path, json, opts = {}) => b.post(`/organization/${path}`, { json, ...opts });

/** GET /organization/<path>?query, labelled with ids replaced by <id>. */
const get = (b, path, query = {}, opts = {}) => {
  const q = Object.entries(query).filter(([, v]) => v !== undefined);
  const label = `GET /organization/${path}${q.length ? `?${q.map(([k, v]) => `${k}=${labelValue(v)}`).join('&')}` : ''}`;
  return b.get(`/organization/${path}`, { query: Object.fromEntries(q), label, ...opts });
};

/** Records a list answer sorted by `by` (the order is the database's): {status, body}. */
function sortedList(s, label, res, by) {
  const key = (x) => String(typeof by === 'function' ? by(x) : x?.[by]);
  const sort = (list) => [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  let body = res.json ?? res.text;
  if (Array.isArray(body)) body = sort(body);
  else if (body && typeof body === 'object') {
    body = { ...body };
    for (const k of ['members', 'invitations', 'teams']) if (Array.isArray(body[k])) body[k] = sort(body[k]);
  }
  return s.record(label, { status: res.status, setCookies: res.setCookies.length, body });
}

/** GET a list without recording the raw answer; records it sorted instead. */
async function getSorted(s, b, path, query, by) {
  const res = await get(b, path, query, { record: false });
  const q = Object.entries(query ?? {}).map(([k, v]) => `${k}=${labelValue(v)}`).join('&');
  sortedList(s, `GET /organization/${path}${q ? `?${q}` : ''} (sorted by ${typeof by === 'string' ? by : 'key'})`, res, by);
  return res;
}

/** The sort key of a member: its user's e-mail. */
const memberKey = (m) => m?.user?.email ?? m?.userId;

/** Creates an organization named after `local` in browser b. */
async function createOrg(s, b, local, extra = {}) {
  const r = await post(b, 'create', { name: `Org ${local} ${s.tag}`, slug: `${local}-${s.tag}`, ...extra });
  if (r.status !== 200) throw new Error(`create ${local}: ${r.status} ${r.text}`);
  return r.json;
}

/** Invites `who` (a user) as `role` and has them accept; returns {invitation, member}. */
async function join(s, owner, orgId, who, role) {
  const inv = await post(owner.b, 'invite-member', { email: who.email, role, organizationId: orgId });
  if (inv.status !== 200) throw new Error(`invite ${who.email}: ${inv.status} ${inv.text}`);
  const m = await s.mail(who.email, { kind: 'invitation' });
  const acc = await post(who.b, 'accept-invitation', { invitationId: m.token });
  if (acc.status !== 200) throw new Error(`accept ${who.email}: ${acc.status} ${acc.text}`);
  return acc.json;
}

/** An organization with an owner, an admin and a member (all joined by invitation). */
async function team(s, local = 'team') {
  const owner = await user(s, `${local}-owner`);
  const org = await createOrg(s, owner.b, local);
  const admin = await user(s, `${local}-admin`);
  const member = await user(s, `${local}-member`);
  const outsider = await user(s, `${local}-outsider`);
  admin.member = (await join(s, owner, org.id, admin, 'admin')).member;
  member.member = (await join(s, owner, org.id, member, 'member')).member;
  owner.member = org.members[0];
  return { org, owner, admin, member, outsider };
}

compatSuite(
  'plugin organization (with teams)',
  (scenario) => {
    scenario('create, check-slug, get-organization, list, update, delete; metadata as text', async (s) => {
      const u = await user(s, 'creator');
      const c = await post(u.b, 'create', { name: `Acme ${s.tag}`, slug: `acme-${s.tag}`, logo: 'https://img.example/logo.png', metadata: { plan: 'pro', seats: 3 } });
      s.expect('create: 200, the organization with members [owner], metadata an object', c.status === 200 && c.json?.members?.[0]?.role === 'owner' && c.json?.metadata?.plan === 'pro', c.json);
      const orgId = c.json?.id;
      const g = await u.b.get('/get-session');
      s.expect('the new organization is active, the default team too', g.json?.session?.activeOrganizationId === orgId, g.json?.session);
      s.record('session keys', Object.keys(g.json?.session ?? {}).sort());
      const second = await post(u.b, 'create', { name: `Second ${s.tag}`, slug: `second-${s.tag}`, keepCurrentActiveOrganization: true });
      const secondId = second.json?.id;
      const g2 = await u.b.get('/get-session', { record: false });
      s.expect('keepCurrentActiveOrganization keeps the first active', g2.json?.session?.activeOrganizationId === orgId, g2.json?.session);
      await post(u.b, 'create', { name: 'Again', slug: `acme-${s.tag}` });
      await post(u.b, 'create', { name: 'No slug' });
      await post(u.b, 'create', { slug: `noname-${s.tag}` });
      await post(u.b, 'create', { name: 5, slug: `num-${s.tag}` });
      await post(u.b, 'create', { name: 'Meta', slug: `meta-${s.tag}`, metadata: 'text' });
      await post(u.b, 'create', { name: '', slug: `empty-${s.tag}` });
      await post(u.b, 'create', { name: 'Empty slug', slug: '' });
      await post(u.b, 'create', { name: 'Spaces', slug: `With Spaces ${s.tag}` });
      await post(u.b, 'create', { name: 'For someone', slug: `other-${s.tag}`, userId: u.id });
      const someone = await user(s, 'someone');
      const forOther = await post(u.b, 'create', { name: 'For someone else', slug: `someone-${s.tag}`, userId: someone.id, keepCurrentActiveOrganization: true }, { record: false });
      s.record('create with another user\'s userId from a client', { status: forOther.status, owner: forOther.json?.members?.[0]?.userId === u.id ? 'the caller' : forOther.json?.members?.[0]?.userId === someone.id ? 'the other user' : forOther.json?.code ?? null });
      const g2b = await u.b.get('/get-session', { record: false });
      s.record('which organization is active after the refused and odd creates', g2b.json?.session?.activeOrganizationId === orgId ? 'the first' : g2b.json?.session?.activeOrganizationId === secondId ? 'the second' : 'another');
      await post(u.b, 'set-active', { organizationId: orgId });

      await post(u.b, 'check-slug', { slug: `acme-${s.tag}` });
      await post(u.b, 'check-slug', { slug: `free-${s.tag}` });
      await post(u.b, 'check-slug', {});
      await post(u.b, 'check-slug', { slug: '' });
      await post(s.browser(), 'check-slug', { slug: `free-${s.tag}` });

      await get(u.b, 'get-organization');
      await get(u.b, 'get-organization', { organizationId: secondId });
      await get(u.b, 'get-organization', { organizationSlug: `second-${s.tag}` });
      await get(u.b, 'get-organization', { organizationSlug: `nothing-${s.tag}` });
      await get(u.b, 'get-organization', { organizationId: 'no-such-organization-id-0000000' });
      await getSorted(s, u.b, 'list', {}, 'slug');

      const up = await post(u.b, 'update', { data: { name: `Acme Renamed ${s.tag}`, metadata: { plan: 'team' } } });
      s.expect('update (active organization): renamed, metadata an object', up.status === 200 && up.json?.name === `Acme Renamed ${s.tag}`, up.json);
      await post(u.b, 'update', { organizationId: secondId, data: { slug: `second2-${s.tag}`, logo: null } });
      await post(u.b, 'update', { organizationId: secondId, data: { slug: `acme-${s.tag}` } });
      // a deliberate difference (README): Better-Auth fails an empty update with a 500 and no body; the Go
      // server never answers 500 for bad input and returns the organization unchanged
      const empty = await post(u.b, 'update', { data: {} }, { record: false });
      s.deliberate('update with data {}: Better-Auth 500 with no body, the Go server 200 with the organization unchanged',
        empty.status === 500 && empty.text === '',
        empty.status === 200 && empty.json?.id === orgId && empty.json?.name === `Acme Renamed ${s.tag}`,
        { status: empty.status, body: empty.text });
      await post(u.b, 'update', { data: { slug: `acme-${s.tag}` } });
      await post(u.b, 'update', { data: { metadata: null } });
      await post(u.b, 'update', { data: { logo: '', metadata: { nested: { a: [1, 'two', null] }, flag: true } } });
      await post(u.b, 'update', { data: { name: `Ünïcødé ✓ ${s.tag}` } });
      await post(u.b, 'update', { data: { name: '' } });
      await post(u.b, 'update', { data: { slug: '' } });
      const unknownOnly = await post(u.b, 'update', { data: { unknownField: 'x' } }, { record: false });
      s.deliberate('update with only an unknown field: Better-Auth 500 with no body, the Go server 200 with the organization unchanged',
        unknownOnly.status === 500 && unknownOnly.text === '',
        unknownOnly.status === 200 && unknownOnly.json?.id === orgId && !('unknownField' in (unknownOnly.json ?? {})),
        { status: unknownOnly.status, body: unknownOnly.text });
      await post(u.b, 'update', { organizationSlug: `acme-${s.tag}`, data: { name: `Acme Renamed ${s.tag}` } });
      await get(u.b, 'get-organization', { organizationId: orgId, organizationSlug: `second-${s.tag}` });
      await post(u.b, 'update', { organizationId: 'no-such-organization-id-0000000', data: { name: 'x' } });
      await post(u.b, 'update', {});
      await post(u.b, 'update', { data: { name: 5 } });
      await get(u.b, 'get-organization', { organizationId: secondId });
      await post(u.b, 'check-slug', { slug: `second-${s.tag}` });

      const del = await post(u.b, 'delete', { organizationId: secondId });
      s.expect('delete: the deleted organization', del.status === 200 && del.json?.id === secondId, del.json);
      await get(u.b, 'get-organization', { organizationId: secondId });
      await post(u.b, 'delete', { organizationId: secondId });
      await post(u.b, 'delete', {});
      await post(u.b, 'delete', { organizationId: 'no-such-organization-id-0000000' });
      await getSorted(s, u.b, 'list', {}, 'slug');
      // deleting the active organization clears it from the session
      await post(u.b, 'delete', { organizationId: orgId });
      const g3 = await u.b.get('/get-session', { record: false });
      s.record('after deleting the active organization', { activeOrganizationId: g3.json?.session?.activeOrganizationId ?? null, activeTeamId: g3.json?.session?.activeTeamId ?? null });
      await getSorted(s, u.b, 'list', {}, 'slug');
      await get(u.b, 'get-full-organization');
    });

    scenario('set-active and get-full-organization: the session cookie, null, slug, not a member', async (s) => {
      const u = await user(s, 'active');
      const other = await user(s, 'stranger');
      const a = await createOrg(s, u.b, 'first', { metadata: { k: 1 } });
      const b = await createOrg(s, u.b, 'second');
      const foreign = await createOrg(s, other.b, 'foreign');
      const full = await get(u.b, 'get-full-organization', {}, { record: false });
      sortedList(s, 'get-full-organization (active: the second)', full, memberKey);
      await get(u.b, 'get-full-organization', { organizationSlug: `first-${s.tag}` }, { record: false }).then((r) => sortedList(s, 'get-full-organization by slug', r, memberKey));
      await get(u.b, 'get-full-organization', { organizationId: a.id, membersLimit: '1' }, { record: false }).then((r) => sortedList(s, 'get-full-organization membersLimit 1', r, memberKey));
      await get(u.b, 'get-full-organization', { membersLimit: 'x' });
      await get(u.b, 'get-full-organization', { organizationSlug: `nothing-${s.tag}` });
      await post(u.b, 'set-active', { organizationId: a.id });
      const g = await u.b.get('/get-session', { record: false });
      s.expect('set-active: the session names the first', g.json?.session?.activeOrganizationId === a.id, g.json?.session);
      // which team is active: the creator's default team of the organization created last, whatever set-active did
      const teamsOf = async (orgId) => (await get(u.b, 'list-teams', { organizationId: orgId }, { record: false })).json ?? [];
      const [ta, tb] = [await teamsOf(a.id), await teamsOf(b.id)];
      const whichTeam = async (label) => {
        const g = await u.b.get('/get-session', { record: false });
        const t = g.json?.session?.activeTeamId ?? null;
        s.record(label, t === null ? null : ta.some((x) => x.id === t) ? 'a team of the first' : tb.some((x) => x.id === t) ? 'a team of the second' : 'another');
      };
      await whichTeam('active team after set-active to the first');
      await post(u.b, 'set-active', { organizationSlug: `second-${s.tag}` });
      await whichTeam('active team after set-active to the second');
      await post(u.b, 'set-active', {});
      await post(u.b, 'set-active', { organizationId: null });
      await whichTeam('active team after set-active null');
      await post(u.b, 'set-active', { organizationId: null });
      await post(u.b, 'set-active', {});
      await get(u.b, 'get-full-organization');
      await get(u.b, 'get-organization');
      await post(u.b, 'set-active', { organizationSlug: `nothing-${s.tag}` });
      await post(u.b, 'set-active', { organizationId: b.id });
      await post(u.b, 'set-active', { organizationId: 'no-such-organization-id-0000000' });
      const g2 = await u.b.get('/get-session', { record: false });
      s.record('an unknown id cleared the active organization', { activeOrganizationId: g2.json?.session?.activeOrganizationId ?? null });
      await post(u.b, 'set-active', { organizationId: b.id });
      await post(u.b, 'set-active', { organizationId: foreign.id });
      const g3 = await u.b.get('/get-session', { record: false });
      s.record('a foreign organization cleared the active organization', { activeOrganizationId: g3.json?.session?.activeOrganizationId ?? null });
      await post(u.b, 'set-active', { organizationId: b.id });
      await get(u.b, 'get-full-organization', { organizationId: foreign.id });
      const g4 = await u.b.get('/get-session', { record: false });
      s.record('get-full-organization of a foreign one cleared it too', { activeOrganizationId: g4.json?.session?.activeOrganizationId ?? null });
      await post(u.b, 'set-active', { organizationId: b.id });
      await get(u.b, 'get-organization', { organizationId: foreign.id });
      await post(u.b, 'set-active', { organizationId: 5 });
      await post(u.b, 'set-active', { organizationSlug: null });
      // remember-me false: the re-set cookie keeps the session-only form
      const short = s.browser();
      await s.signIn(short, { email: u.email, rememberMe: false });
      await post(short, 'set-active', { organizationId: a.id });
      // the bearer token works as well, and no cookie is needed to send one
      const bearer = s.browser();
      const inn = await s.signIn(bearer, { email: u.email }, { record: false });
      const tok = inn.json?.token;
      const nb = s.browser();
      await nb.post('/organization/set-active', { json: { organizationId: a.id }, headers: { authorization: `Bearer ${tok}` }, label: 'POST /organization/set-active (bearer)' });
    });

    scenario('members: list-members, get-active-member(-role), update-member-role, remove-member, leave; add-member is server-only', async (s) => {
      const { org, owner, admin, member, outsider } = await team(s);
      await post(owner.b, 'add-member', { userId: outsider.id, role: 'member', organizationId: org.id });
      await getSorted(s, owner.b, 'list-members', {}, memberKey);
      await get(owner.b, 'list-members', { sortBy: 'createdAt', sortDirection: 'asc' });
      await get(owner.b, 'list-members', { sortBy: 'createdAt', sortDirection: 'desc', limit: '2' });
      await get(owner.b, 'list-members', { sortBy: 'createdAt', limit: '1', offset: '1' });
      await get(owner.b, 'list-members', { filterField: 'role', filterValue: 'admin' });
      await get(owner.b, 'list-members', { filterField: 'role', filterValue: 'owner', filterOperator: 'ne', sortBy: 'createdAt' });
      await get(owner.b, 'list-members', { organizationSlug: `team-${s.tag}`, sortBy: 'createdAt' });
      await get(owner.b, 'list-members', { organizationId: org.id, sortBy: 'createdAt' });
      await getSorted(s, owner.b, 'list-members', { limit: 'x' }, memberKey);
      await get(member.b, 'list-members', { sortBy: 'createdAt' });
      await get(outsider.b, 'list-members', { organizationId: org.id });
      await get(outsider.b, 'list-members');
      await get(s.browser(), 'list-members');

      for (const who of [owner, admin, member]) {
        await get(who.b, 'get-active-member');
        await get(who.b, 'get-active-member-role');
      }
      await get(outsider.b, 'get-active-member');
      await get(outsider.b, 'get-active-member-role');
      await get(owner.b, 'get-active-member-role', { userId: member.id });
      await get(member.b, 'get-active-member-role', { userId: owner.id });
      await get(owner.b, 'get-active-member-role', { userId: outsider.id });
      await get(outsider.b, 'get-active-member-role', { organizationId: org.id });
      await get(owner.b, 'get-active-member-role', { organizationSlug: `team-${s.tag}` });

      // update-member-role
      const up = await post(owner.b, 'update-member-role', { memberId: member.member.id, role: 'admin' });
      s.expect('owner makes the member an admin', up.status === 200 && up.json?.role === 'admin', up.json);
      await post(owner.b, 'update-member-role', { memberId: member.member.id, role: ['admin', 'member'] });
      await post(owner.b, 'update-member-role', { memberId: member.member.id, role: 'member' });
      await post(owner.b, 'update-member-role', { memberId: member.member.id, role: 'superhero' });
      await post(owner.b, 'update-member-role', { memberId: member.member.id, role: '' });
      await post(owner.b, 'update-member-role', { memberId: member.member.id, role: [] });
      await post(owner.b, 'update-member-role', { memberId: 'no-such-member-id-00000000000000', role: 'member' });
      await post(owner.b, 'update-member-role', { memberId: member.member.id });
      await post(owner.b, 'update-member-role', { role: 'member' });
      await post(admin.b, 'update-member-role', { memberId: owner.member.id, role: 'member' });
      await post(admin.b, 'update-member-role', { memberId: member.member.id, role: 'owner' });
      await post(admin.b, 'update-member-role', { memberId: member.member.id, role: 'admin' });
      await post(admin.b, 'update-member-role', { memberId: member.member.id, role: 'member' });
      await post(member.b, 'update-member-role', { memberId: admin.member.id, role: 'member' });
      await post(member.b, 'update-member-role', { memberId: member.member.id, role: 'owner' });
      await post(outsider.b, 'update-member-role', { memberId: member.member.id, role: 'member', organizationId: org.id });
      // the last owner cannot demote themself
      await post(owner.b, 'update-member-role', { memberId: owner.member.id, role: 'admin' });
      await getSorted(s, owner.b, 'list-members', {}, memberKey);

      // remove-member
      await post(member.b, 'remove-member', { memberIdOrEmail: admin.member.id });
      await post(member.b, 'remove-member', { memberIdOrEmail: owner.email });
      await post(admin.b, 'remove-member', { memberIdOrEmail: owner.member.id });
      await post(outsider.b, 'remove-member', { memberIdOrEmail: member.email, organizationId: org.id });
      await post(owner.b, 'remove-member', { memberIdOrEmail: owner.member.id });
      await post(owner.b, 'remove-member', { memberIdOrEmail: outsider.email });
      await post(owner.b, 'remove-member', { memberIdOrEmail: 'no-such-member-id-00000000000000' });
      await post(owner.b, 'remove-member', {});
      const rm = await post(admin.b, 'remove-member', { memberIdOrEmail: member.email.toUpperCase() });
      s.expect('an admin removes a member by e-mail: {member}', rm.status === 200 && rm.json?.member?.userId === member.id, rm.json);
      const g = await member.b.get('/get-session', { record: false });
      s.record('the removed member\'s active organization', { activeOrganizationId: g.json?.session?.activeOrganizationId ?? null });
      await get(member.b, 'get-active-member');
      await get(member.b, 'get-full-organization');

      // leave
      await post(owner.b, 'leave', { organizationId: org.id });
      await post(outsider.b, 'leave', { organizationId: org.id });
      await post(admin.b, 'leave', {});
      await post(admin.b, 'leave', { organizationId: 'no-such-organization-id-0000000' });
      const left = await post(admin.b, 'leave', { organizationId: org.id });
      s.expect('the admin leaves: the member row', left.status === 200 && left.json?.userId === admin.id, left.json);
      const ga = await admin.b.get('/get-session', { record: false });
      s.record('after leaving: active organization', { activeOrganizationId: ga.json?.session?.activeOrganizationId ?? null });
      await getSorted(s, owner.b, 'list-members', {}, memberKey);
    });

    scenario('last-owner rules with two owners', async (s) => {
      const { org, owner, admin } = await team(s, 'owners');
      const second = await user(s, 'owners-second');
      second.member = (await join(s, owner, org.id, second, 'owner')).member;
      await post(admin.b, 'update-member-role', { memberId: second.member.id, role: 'member' });
      await post(admin.b, 'remove-member', { memberIdOrEmail: second.email });
      const left = await post(second.b, 'leave', { organizationId: org.id });
      s.record('an owner leaves while another owner stays', { status: left.status, code: left.json?.code ?? null });
      // back as an owner
      const again = await post(owner.b, 'invite-member', { email: second.email, role: 'owner' });
      await s.mail(second.email, { kind: 'invitation' });
      const acc = await post(second.b, 'accept-invitation', { invitationId: again.json?.id });
      second.member = acc.json?.member;
      const demote = await post(owner.b, 'update-member-role', { memberId: owner.member.id, role: 'admin' });
      s.record('one of two owners demotes themself', { status: demote.status, role: demote.json?.role ?? null, code: demote.json?.code ?? null });
      await post(second.b, 'update-member-role', { memberId: second.member?.id, role: 'member' });
      await post(second.b, 'leave', { organizationId: org.id });
      await post(owner.b, 'update-member-role', { memberId: owner.member.id, role: 'owner' });
      await post(owner.b, 'remove-member', { memberIdOrEmail: second.email });
      const removed = await post(second.b, 'remove-member', { memberIdOrEmail: owner.email });
      s.record('the remaining owner removes the demoted one', { status: removed.status, code: removed.json?.code ?? null });
      await post(second.b, 'remove-member', { memberIdOrEmail: second.email });
      await getSorted(s, second.b, 'list-members', { organizationId: org.id }, memberKey);
    });

    scenario('invitations: invite, resend, the mail, get/list, accept by the wrong user and the right one, reject, cancel', async (s) => {
      const { org, owner, admin, member, outsider } = await team(s, 'inv');
      const guest = await user(s, 'inv-guest');
      const inv = await post(owner.b, 'invite-member', { email: guest.email.toUpperCase(), role: 'member' });
      s.expect('invite-member: the pending invitation', inv.status === 200 && inv.json?.status === 'pending' && inv.json?.email === guest.email, inv.json);
      s.record('the invitation lives (hours)', Math.round((Date.parse(inv.json?.expiresAt) - Date.parse(inv.json?.createdAt)) / 3600000));
      const m = await s.mail(guest.email, { kind: 'invitation' });
      s.expect('the mail carries the invitation id', m.token === inv.json?.id, { token: m.token, id: inv.json?.id });
      await post(owner.b, 'invite-member', { email: guest.email, role: 'member' });
      await s.noMail(guest.email);
      const re = await post(owner.b, 'invite-member', { email: guest.email, role: 'admin', resend: true });
      s.expect('resend: the same invitation, the original role kept', re.status === 200 && re.json?.id === inv.json?.id && re.json?.role === 'member', re.json);
      const m2 = await s.mail(guest.email, { kind: 'invitation' });
      s.expect('resent mail: the same id', m2.token === inv.json?.id, m2.token);
      await post(owner.b, 'invite-member', { email: ` ${s.email('inv-spaced')} `, role: 'member' });
      await s.noMail(s.email('inv-spaced'));
      await post(owner.b, 'invite-member', { email: s.email('inv-dup'), role: ['member', 'member'] });
      await s.mail(s.email('inv-dup'), { kind: 'invitation' });
      await post(owner.b, 'invite-member', { email: s.email('inv-str'), role: 'admin,member' });
      await s.mail(s.email('inv-str'), { kind: 'invitation' }).catch(() => null);
      await post(owner.b, 'invite-member', { email: s.email('inv-new'), role: 'superhero' });
      await post(owner.b, 'invite-member', { email: s.email('inv-new'), role: ['member', 'superhero'] });
      await post(owner.b, 'invite-member', { email: 'not-an-email', role: 'member' });
      await post(owner.b, 'invite-member', { email: s.email('inv-new') });
      await post(owner.b, 'invite-member', { role: 'member' });
      await post(owner.b, 'invite-member', { email: member.email, role: 'member' });
      await post(owner.b, 'invite-member', { email: s.email('inv-new'), role: 'member', organizationId: 'no-such-organization-id-0000000' });
      await post(owner.b, 'invite-member', { email: s.email('inv-team'), role: 'member', teamId: 'no-such-team-id-00000000000000' });
      await post(member.b, 'invite-member', { email: s.email('inv-new'), role: 'member' });
      await post(outsider.b, 'invite-member', { email: s.email('inv-new'), role: 'member', organizationId: org.id });
      await post(outsider.b, 'invite-member', { email: s.email('inv-new'), role: 'member' });
      await post(admin.b, 'invite-member', { email: s.email('inv-own'), role: 'owner' });
      await s.noMail(s.email('inv-own'));
      const byAdmin = await post(admin.b, 'invite-member', { email: s.email('inv-byadmin'), role: ['admin', 'member'] });
      s.record('admin invites with a role list', { status: byAdmin.status, role: byAdmin.json?.role ?? null });
      await s.mail(s.email('inv-byadmin'), { kind: 'invitation' });
      const own = await post(owner.b, 'invite-member', { email: s.email('inv-boss'), role: 'owner' });
      await s.mail(s.email('inv-boss'), { kind: 'invitation' });

      // reading invitations
      await get(guest.b, 'get-invitation', { id: inv.json?.id });
      await get(outsider.b, 'get-invitation', { id: inv.json?.id });
      await get(owner.b, 'get-invitation', { id: inv.json?.id });
      await get(guest.b, 'get-invitation', { id: 'no-such-invitation-id-000000000' });
      await get(guest.b, 'get-invitation');
      await get(s.browser(), 'get-invitation', { id: inv.json?.id });
      await getSorted(s, owner.b, 'list-invitations', {}, 'email');
      await getSorted(s, admin.b, 'list-invitations', {}, 'email');
      await getSorted(s, member.b, 'list-invitations', {}, 'email');
      await getSorted(s, owner.b, 'list-invitations', { organizationId: org.id }, 'email');
      await get(outsider.b, 'list-invitations', { organizationId: org.id });
      await get(outsider.b, 'list-invitations');
      await getSorted(s, owner.b, 'get-full-organization', {}, memberKey);
      await getSorted(s, admin.b, 'get-full-organization', {}, memberKey);
      await get(guest.b, 'list-user-invitations');
      await s.sql(`update "user" set "emailVerified" = true where "id" = $1`, [guest.id]);
      await getSorted(s, guest.b, 'list-user-invitations', {}, 'email');
      await get(guest.b, 'list-user-invitations', { email: outsider.email });
      await get(s.browser(), 'list-user-invitations');

      // accepting
      const wrong = await post(outsider.b, 'accept-invitation', { invitationId: inv.json?.id });
      s.expect('the wrong user: 403 YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION', err(wrong, 403, 'YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION'), wrong.json);
      await post(outsider.b, 'reject-invitation', { invitationId: inv.json?.id });
      await post(guest.b, 'accept-invitation', { invitationId: 'no-such-invitation-id-000000000' });
      await post(guest.b, 'accept-invitation', {});
      await post(s.browser(), 'accept-invitation', { invitationId: inv.json?.id });
      const acc = await post(guest.b, 'accept-invitation', { invitationId: inv.json?.id });
      s.expect('accept: {invitation accepted, member}', acc.status === 200 && acc.json?.invitation?.status === 'accepted' && acc.json?.member?.userId === guest.id && acc.json?.member?.role === 'member', acc.json);
      const g = await guest.b.get('/get-session', { record: false });
      s.expect('the organization is now active for the guest', g.json?.session?.activeOrganizationId === org.id, g.json?.session);
      await post(guest.b, 'accept-invitation', { invitationId: inv.json?.id });
      await post(guest.b, 'reject-invitation', { invitationId: inv.json?.id });
      await get(guest.b, 'get-invitation', { id: inv.json?.id });
      await get(guest.b, 'get-active-member');

      // rejecting
      const rej = await user(s, 'inv-reject');
      const ri = await post(owner.b, 'invite-member', { email: rej.email, role: 'member' });
      await s.mail(rej.email, { kind: 'invitation' });
      await post(outsider.b, 'reject-invitation', { invitationId: ri.json?.id });
      const rr = await post(rej.b, 'reject-invitation', { invitationId: ri.json?.id });
      s.expect('reject: {invitation rejected, member null}', rr.status === 200 && rr.json?.invitation?.status === 'rejected' && rr.json?.member === null, rr.json);
      await post(rej.b, 'accept-invitation', { invitationId: ri.json?.id });
      await post(rej.b, 'reject-invitation', { invitationId: ri.json?.id });
      await post(rej.b, 'reject-invitation', {});
      // re-inviting after a rejection
      await post(owner.b, 'invite-member', { email: rej.email, role: 'member' });
      await s.mail(rej.email, { kind: 'invitation' });

      // cancelling
      await post(member.b, 'cancel-invitation', { invitationId: own.json?.id });
      await post(outsider.b, 'cancel-invitation', { invitationId: own.json?.id });
      await post(s.browser(), 'cancel-invitation', { invitationId: own.json?.id });
      await post(admin.b, 'cancel-invitation', { invitationId: own.json?.id });
      const cancel = await post(owner.b, 'cancel-invitation', { invitationId: own.json?.id });
      s.expect('cancel: the invitation, canceled', cancel.status === 200 && cancel.json?.status === 'canceled', cancel.json);
      await post(owner.b, 'cancel-invitation', { invitationId: own.json?.id });
      await post(owner.b, 'cancel-invitation', { invitationId: inv.json?.id });
      await post(owner.b, 'cancel-invitation', { invitationId: 'no-such-invitation-id-000000000' });
      await post(owner.b, 'cancel-invitation', {});
      const invitee = await user(s, 'inv-boss');
      await post(invitee.b, 'accept-invitation', { invitationId: own.json?.id });
      await getSorted(s, owner.b, 'list-invitations', {}, (x) => `${x.email} ${x.status}`);
    });

    scenario('an expired invitation; an invitation to a team; accepting after the organization is gone', async (s) => {
      const owner = await user(s, 'exp-owner');
      const org = await createOrg(s, owner.b, 'exp');
      const late = await user(s, 'exp-late');
      const i = await post(owner.b, 'invite-member', { email: late.email, role: 'member' });
      await s.mail(late.email, { kind: 'invitation' });
      await s.sql(`update "invitation" set "expiresAt" = now() - interval '1 minute' where "id" = $1`, [i.json?.id]);
      await get(late.b, 'get-invitation', { id: i.json?.id });
      await post(late.b, 'accept-invitation', { invitationId: i.json?.id });
      await post(late.b, 'reject-invitation', { invitationId: i.json?.id });
      await get(late.b, 'list-user-invitations');
      const again = await post(owner.b, 'invite-member', { email: late.email, role: 'member' });
      s.record('inviting again after expiry: a new invitation', { status: again.status, same: again.json?.id === i.json?.id });
      await s.mail(late.email, { kind: 'invitation' });

      const teams = await get(owner.b, 'list-teams', {}, { record: false });
      const teamId = teams.json?.[0]?.id;
      const tm = await user(s, 'exp-teamed');
      const ti = await post(owner.b, 'invite-member', { email: tm.email, role: 'member', teamId });
      s.expect('the invitation names the team', ti.json?.teamId === teamId, ti.json);
      await s.mail(tm.email, { kind: 'invitation' });
      const acc = await post(tm.b, 'accept-invitation', { invitationId: ti.json?.id });
      s.expect('accepted into the team: the session names it', acc.status === 200, acc.json);
      const g = await tm.b.get('/get-session', { record: false });
      s.expect('active team and organization', g.json?.session?.activeTeamId === teamId && g.json?.session?.activeOrganizationId === org.id, g.json?.session);
      await get(tm.b, 'list-user-teams');

      // two teams in one invitation (comma-joined teamId)
      const t2 = await post(owner.b, 'create-team', { name: `Second ${s.tag}` });
      const two = await user(s, 'exp-two');
      const i2 = await post(owner.b, 'invite-member', { email: two.email, role: 'member', teamId: `${teamId},${t2.json?.id}` });
      s.record('an invitation to two teams', { status: i2.status, teamIdIsBoth: i2.json?.teamId === `${teamId},${t2.json?.id}`, code: i2.json?.code ?? null });
      if (i2.status === 200) {
        await s.mail(two.email, { kind: 'invitation' });
        const a2 = await post(two.b, 'accept-invitation', { invitationId: i2.json?.id });
        const g2 = await two.b.get('/get-session', { record: false });
        s.record('accepting it: active team', { status: a2.status, activeTeamId: g2.json?.session?.activeTeamId ?? null });
        await getSorted(s, two.b, 'list-user-teams', {}, 'name');
      } else {
        await s.noMail(two.email);
      }

      const gone = await user(s, 'exp-gone');
      const gi = await post(owner.b, 'invite-member', { email: gone.email, role: 'member' });
      await s.mail(gone.email, { kind: 'invitation' });
      await post(owner.b, 'delete', { organizationId: org.id });
      await get(gone.b, 'get-invitation', { id: gi.json?.id });
      await post(gone.b, 'accept-invitation', { invitationId: gi.json?.id });
    });

    scenario('teams: create, list, update, set-active-team, members, remove; refusals', async (s) => {
      const { org, owner, admin, member, outsider } = await team(s, 'teams');
      const def = await get(owner.b, 'list-teams');
      s.expect('the default team, named after the organization', def.json?.length === 1 && def.json[0].name === org.name, def.json);
      const t = await post(owner.b, 'create-team', { name: `Blue ${s.tag}` });
      s.expect('create-team: the team', t.status === 200 && t.json?.name === `Blue ${s.tag}` && t.json?.organizationId === org.id, t.json);
      await post(owner.b, 'create-team', { name: `Blue ${s.tag}` });
      await post(owner.b, 'create-team', {});
      await post(owner.b, 'create-team', { name: `Red ${s.tag}`, organizationId: 'no-such-organization-id-0000000' });
      await post(admin.b, 'create-team', { name: `Green ${s.tag}` });
      await post(member.b, 'create-team', { name: `Yellow ${s.tag}` });
      await post(outsider.b, 'create-team', { name: `Black ${s.tag}`, organizationId: org.id });
      await getSorted(s, owner.b, 'list-teams', {}, 'name');
      await getSorted(s, member.b, 'list-teams', {}, 'name');
      await get(outsider.b, 'list-teams', { organizationId: org.id });
      await get(outsider.b, 'list-teams');

      await post(owner.b, 'update-team', { teamId: t.json?.id, data: { name: `Navy ${s.tag}` } });
      await post(member.b, 'update-team', { teamId: t.json?.id, data: { name: `Sky ${s.tag}` } });
      await post(owner.b, 'update-team', { teamId: 'no-such-team-id-00000000000000', data: { name: 'x' } });
      await post(owner.b, 'update-team', { teamId: t.json?.id });
      await post(owner.b, 'update-team', { data: { name: 'x' } });

      await post(owner.b, 'add-team-member', { teamId: t.json?.id, userId: member.id });
      await post(owner.b, 'add-team-member', { teamId: t.json?.id, userId: member.id });
      await post(owner.b, 'add-team-member', { teamId: t.json?.id, userId: outsider.id });
      await post(owner.b, 'add-team-member', { teamId: 'no-such-team-id-00000000000000', userId: admin.id });
      await post(member.b, 'add-team-member', { teamId: t.json?.id, userId: admin.id });
      await post(owner.b, 'add-team-member', { teamId: t.json?.id });
      await get(member.b, 'list-user-teams');
      await get(owner.b, 'list-user-teams');
      await get(outsider.b, 'list-user-teams');
      await get(owner.b, 'list-team-members', { teamId: t.json?.id });
      await get(member.b, 'list-team-members', { teamId: t.json?.id });
      await get(admin.b, 'list-team-members', { teamId: t.json?.id });
      await get(owner.b, 'list-team-members');
      await get(owner.b, 'list-team-members', { teamId: 'no-such-team-id-00000000000000' });

      await post(member.b, 'set-active-team', { teamId: t.json?.id });
      const g = await member.b.get('/get-session', { record: false });
      s.expect('set-active-team: the session names the team', g.json?.session?.activeTeamId === t.json?.id, g.json?.session);
      await get(member.b, 'list-team-members');
      await post(admin.b, 'set-active-team', { teamId: t.json?.id });
      await post(member.b, 'set-active-team', { teamId: 'no-such-team-id-00000000000000' });
      await post(member.b, 'set-active-team', { teamId: null });
      await post(member.b, 'set-active-team', {});
      await post(outsider.b, 'set-active-team', { teamId: t.json?.id });

      await post(member.b, 'remove-team-member', { teamId: t.json?.id, userId: member.id });
      await post(owner.b, 'remove-team-member', { teamId: t.json?.id, userId: admin.id });
      const rtm = await post(owner.b, 'remove-team-member', { teamId: t.json?.id, userId: member.id });
      s.expect('remove-team-member: the message', rtm.status === 200, rtm.json);
      await post(owner.b, 'remove-team-member', { teamId: t.json?.id });
      await get(owner.b, 'list-team-members', { teamId: t.json?.id });

      await post(member.b, 'remove-team', { teamId: t.json?.id });
      await post(outsider.b, 'remove-team', { teamId: t.json?.id, organizationId: org.id });
      const rt = await post(owner.b, 'remove-team', { teamId: t.json?.id });
      s.expect('remove-team: the message', rt.status === 200, rt.json);
      await post(owner.b, 'remove-team', { teamId: t.json?.id });
      await post(owner.b, 'remove-team', {});
      // the last team stays
      await post(owner.b, 'remove-team', { teamId: def.json?.[0]?.id });
      await getSorted(s, owner.b, 'list-teams', {}, 'name');
    });

    scenario('edge cases: escalation, filters, a deleted organization seen by its members, team rows of removed members, a removed user', async (s) => {
      const { org, owner, admin, member, outsider } = await team(s, 'edge');
      // an admin may not make themself owner; the owner may make the admin an owner
      await post(admin.b, 'update-member-role', { memberId: admin.member.id, role: 'owner' });
      await post(admin.b, 'update-member-role', { memberId: admin.member.id, role: ['owner', 'admin'] });
      await post(member.b, 'update-member-role', { memberId: member.member.id, role: 'admin' });
      await get(owner.b, 'list-members', { filterField: 'role', filterValue: 'member', filterOperator: 'contains', sortBy: 'createdAt' });
      await get(owner.b, 'list-members', { filterField: 'role', filterValue: 'adm', filterOperator: 'starts_with' });
      await get(owner.b, 'list-members', { filterField: 'role', filterValue: 'x', filterOperator: 'bogus' });
      await get(owner.b, 'list-members', { sortBy: 'role', sortDirection: 'asc' });
      await get(owner.b, 'list-members', { sortBy: 'createdAt', sortDirection: 'sideways' });
      await get(owner.b, 'list-members', { sortBy: 'createdAt', limit: '0' });
      await get(owner.b, 'list-members', { sortBy: 'createdAt', offset: '10' });
      await get(owner.b, 'list-members', { organizationId: org.id, organizationSlug: `edge-${s.tag}`, sortBy: 'createdAt' });
      // invitations as seen by a member in get-full-organization, and the owner's with membersLimit
      await post(owner.b, 'invite-member', { email: s.email('edge-guest'), role: 'member' });
      await s.mail(s.email('edge-guest'), { kind: 'invitation' });
      await getSorted(s, member.b, 'get-full-organization', {}, memberKey);
      await get(owner.b, 'get-full-organization', { membersLimit: '1' }, { record: false }).then((r) => s.record('owner: get-full-organization membersLimit 1 (counts)', { status: r.status, members: r.json?.members?.length, invitations: r.json?.invitations?.length, teams: r.json?.teams?.length }));
      // a team member removed from the organization leaves the team too
      const t = await post(owner.b, 'create-team', { name: `Edge team ${s.tag}` });
      await post(owner.b, 'add-team-member', { teamId: t.json?.id, userId: member.id });
      await post(member.b, 'set-active-team', { teamId: t.json?.id });
      await post(owner.b, 'remove-member', { memberIdOrEmail: member.member.id });
      await get(member.b, 'list-user-teams');
      await get(owner.b, 'list-team-members', { teamId: t.json?.id }, { record: false }).then((r) => s.record('team members after the removal (user ids as owner/member)', { status: r.status, users: Array.isArray(r.json) ? r.json.map((x) => (x.userId === owner.id ? 'owner' : x.userId === member.id ? 'member' : 'other')).sort() : r.json }));
      const gm = await member.b.get('/get-session', { record: false });
      s.record('the removed member\'s session', { activeOrganizationId: gm.json?.session?.activeOrganizationId ?? null, activeTeamId: gm.json?.session?.activeTeamId ?? null });
      // set-active-team of another organization's team
      const other = await createOrg(s, outsider.b, 'edge-other');
      const otherTeams = await get(outsider.b, 'list-teams', {}, { record: false });
      await post(owner.b, 'set-active-team', { teamId: otherTeams.json?.[0]?.id });
      await post(owner.b, 'add-team-member', { teamId: otherTeams.json?.[0]?.id, userId: owner.id });
      await get(owner.b, 'list-teams', { organizationId: other.id });
      // update-team: an empty name, another organization
      await post(owner.b, 'update-team', { teamId: t.json?.id, data: { name: '' } });
      await post(owner.b, 'update-team', { teamId: t.json?.id, data: { organizationId: other.id } });
      await post(owner.b, 'update-team', { teamId: otherTeams.json?.[0]?.id, data: { name: 'Stolen' } });
      // the admin plugin removes the admin user: the member row goes with it
      await s.sql(`update "user" set "role" = 'admin' where "id" = $1`, [outsider.id]);
      const sa = s.browser();
      await s.signIn(sa, { email: outsider.email }, { record: false });
      const rm = await sa.post('/admin/remove-user', { json: { userId: admin.id } });
      s.expect('remove-user: success', rm.status === 200, rm.json);
      await getSorted(s, owner.b, 'list-members', {}, memberKey);
      // deleting the organization: the members' sessions and lists
      await post(owner.b, 'set-active', { organizationId: org.id });
      const gone = await post(owner.b, 'delete', { organizationId: org.id });
      s.expect('deleted', gone.status === 200, gone.json);
      await get(owner.b, 'list');
      await get(owner.b, 'list-teams');
      await get(owner.b, 'get-active-member');
      await get(owner.b, 'list-invitations');
      const [{ n }] = await s.sql('select count(*)::int as n from "invitation" where "organizationId" = $1', [org.id]);
      const [{ m }] = await s.sql('select count(*)::int as m from "member" where "organizationId" = $1', [org.id]);
      const [{ k }] = await s.sql('select count(*)::int as k from "team" where "organizationId" = $1', [org.id]);
      s.record('rows left of the deleted organization', { invitations: n, members: m, teams: k });
    });

    scenario('an inviter who left, slug case, a canceled invitation re-sent', async (s) => {
      const { org, owner, admin } = await team(s, 'left');
      const x = await user(s, 'left-x');
      const inv = await post(admin.b, 'invite-member', { email: x.email, role: 'member' });
      await s.mail(x.email, { kind: 'invitation' });
      await post(admin.b, 'leave', { organizationId: org.id });
      await get(x.b, 'get-invitation', { id: inv.json?.id });
      await post(owner.b, 'invite-member', { email: x.email, role: 'member', resend: true });
      await s.mail(x.email, { kind: 'invitation' }).catch(() => null);
      await post(x.b, 'accept-invitation', { invitationId: inv.json?.id });
      await get(x.b, 'get-active-member-role');
      // slugs are compared as they are
      await post(owner.b, 'check-slug', { slug: `LEFT-${s.tag}` });
      await post(owner.b, 'create', { name: 'Upper', slug: `LEFT-${s.tag}`, keepCurrentActiveOrganization: true });
      await get(owner.b, 'get-organization', { organizationSlug: `Left-${s.tag}` });
      // a canceled invitation: resend makes a new one
      const y = await user(s, 'left-y');
      const yi = await post(owner.b, 'invite-member', { email: y.email, role: 'member' });
      await s.mail(y.email, { kind: 'invitation' });
      await post(owner.b, 'cancel-invitation', { invitationId: yi.json?.id });
      const again = await post(owner.b, 'invite-member', { email: y.email, role: 'admin', resend: true });
      s.record('resend after a cancel', { status: again.status, same: again.json?.id === yi.json?.id, role: again.json?.role ?? null, status2: again.json?.status ?? null });
      await s.mail(y.email, { kind: 'invitation' }).catch(() => null);
      await post(y.b, 'accept-invitation', { invitationId: yi.json?.id });
      await post(y.b, 'accept-invitation', { invitationId: again.json?.id });
    });

    scenario('has-permission as owner, admin, member, non-member and signed out', async (s) => {
      const { org, owner, admin, member, outsider } = await team(s, 'perm');
      const hp = (b, json) => post(b, 'has-permission', json);
      for (const who of [owner, admin, member]) {
        await hp(who.b, { permissions: { organization: ['update'] } });
        await hp(who.b, { permissions: { organization: ['delete'] } });
        await hp(who.b, { permissions: { member: ['create', 'update', 'delete'] } });
        await hp(who.b, { permissions: { invitation: ['create', 'cancel'] } });
        await hp(who.b, { permissions: { team: ['create'] } });
        await hp(who.b, { permissions: { ac: ['read'] } });
      }
      await hp(owner.b, { permissions: { organization: ['fly'] } });
      await hp(owner.b, { permissions: { nothing: ['read'] } });
      await hp(owner.b, { permissions: {} });
      await hp(owner.b, { permission: { organization: ['update'] } });
      await hp(owner.b, { permission: { organization: ['update'] }, permissions: { organization: ['update'] } });
      await hp(owner.b, {});
      await hp(owner.b, { permissions: { organization: 'update' } });
      await hp(owner.b, { permissions: { organization: ['update'] }, organizationId: org.id });
      await hp(owner.b, { permissions: { organization: ['update'] }, organizationId: 'no-such-organization-id-0000000' });
      await hp(outsider.b, { permissions: { organization: ['update'] } });
      await hp(outsider.b, { permissions: { organization: ['update'] }, organizationId: org.id });
      await hp(s.browser(), { permissions: { organization: ['update'] } });
      await post(owner.b, 'set-active', { organizationId: null });
      await hp(owner.b, { permissions: { organization: ['update'] } });
    });

    scenario('refusals: every endpoint signed out, as a non-member, as a member and as an admin', async (s) => {
      const { org, owner, admin, member, outsider } = await team(s, 'ref');
      const inv = await post(owner.b, 'invite-member', { email: s.email('ref-guest'), role: 'member' });
      await s.mail(s.email('ref-guest'), { kind: 'invitation' });
      const teams = await get(owner.b, 'list-teams', {}, { record: false });
      const teamId = teams.json?.[0]?.id;
      const posts = [
        ['create', { name: 'x', slug: `x-${s.tag}` }],
        ['check-slug', { slug: `x-${s.tag}` }],
        ['update', { organizationId: org.id, data: { name: 'Hacked' } }],
        ['delete', { organizationId: org.id }],
        ['set-active', { organizationId: org.id }],
        ['update-member-role', { organizationId: org.id, memberId: owner.member.id, role: 'member' }],
        ['remove-member', { organizationId: org.id, memberIdOrEmail: owner.email }],
        ['leave', { organizationId: org.id }],
        ['invite-member', { organizationId: org.id, email: s.email('ref-new'), role: 'member' }],
        ['accept-invitation', { invitationId: inv.json?.id }],
        ['reject-invitation', { invitationId: inv.json?.id }],
        ['cancel-invitation', { invitationId: inv.json?.id }],
        ['create-team', { organizationId: org.id, name: 'Team x' }],
        ['update-team', { teamId, data: { name: 'Team y' } }],
        ['remove-team', { organizationId: org.id, teamId }],
        ['add-team-member', { organizationId: org.id, teamId, userId: owner.id }],
        ['remove-team-member', { organizationId: org.id, teamId, userId: owner.id }],
        ['set-active-team', { teamId }],
        ['has-permission', { organizationId: org.id, permissions: { organization: ['update'] } }],
        ['create-role', { organizationId: org.id, role: 'x', permission: { organization: ['update'] } }],
      ];
      const gets = [
        ['get-organization', { organizationId: org.id }],
        ['get-full-organization', { organizationId: org.id }],
        ['list', {}],
        ['list-members', { organizationId: org.id }],
        ['get-active-member', {}],
        ['get-active-member-role', { organizationId: org.id }],
        ['get-invitation', { id: inv.json?.id }],
        ['list-invitations', { organizationId: org.id }],
        ['list-user-invitations', {}],
        ['list-teams', { organizationId: org.id }],
        ['list-user-teams', {}],
        ['list-team-members', { teamId }],
        ['list-roles', { organizationId: org.id }],
      ];
      for (const who of [s.browser(), outsider.b]) {
        for (const [path, body] of posts) await post(who, path, body);
        for (const [path, query] of gets) await get(who, path, query);
      }
      // as a member, then as an admin (the owner's member row and the organization itself are out of an admin's reach)
      const asMember = posts.filter(([p]) => !['create', 'check-slug', 'set-active', 'leave', 'accept-invitation', 'reject-invitation', 'has-permission'].includes(p));
      for (const [path, body] of asMember) await post(member.b, path, body);
      for (const [path, body] of asMember.filter(([p]) => ['delete', 'update-member-role', 'remove-member', 'create-role'].includes(p))) await post(admin.b, path, body);
      // a body that is no JSON, validation ahead of the session
      await s.browser().post('/organization/create', { body: 'not json', contentType: 'application/json' });
      await post(s.browser(), 'update', { data: 'x' });
      await post(s.browser(), 'invite-member', { email: 5 });
      await getSorted(s, owner.b, 'get-full-organization', {}, memberKey);
    });

    scenario('the real client: organizationClient create, setActive, inviteMember, acceptInvitation, getFullOrganization', async (s) => {
      const owner = await user(s, 'cl-owner');
      const guest = await user(s, 'cl-guest');
      const client = createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: owner.b.fetchImpl() }, plugins: [organizationClient({ teams: { enabled: true } })] });
      const c = await s.clientCall('organization.create', client.organization.create({ name: `Client ${s.tag}`, slug: `client-${s.tag}`, metadata: { a: 1 } }));
      await s.clientCall('organization.create (second, kept inactive)', client.organization.create({ name: `Client2 ${s.tag}`, slug: `client2-${s.tag}`, keepCurrentActiveOrganization: true }));
      await s.clientCall('organization.checkSlug', client.organization.checkSlug({ slug: `client-${s.tag}` }));
      await s.clientCall('organization.setActive null', client.organization.setActive({ organizationId: null }));
      await s.clientCall('organization.setActive by slug', client.organization.setActive({ organizationSlug: `client-${s.tag}` }));
      await s.clientCall('organization.getFullOrganization', client.organization.getFullOrganization());
      const inv = await s.clientCall('organization.inviteMember', client.organization.inviteMember({ email: guest.email, role: 'admin' }));
      const m = await s.mail(guest.email, { kind: 'invitation' });
      s.expect('the mailed id is the invitation', m.token === inv.data?.id, { token: m.token, id: inv.data?.id });
      const gc = createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: guest.b.fetchImpl() }, plugins: [organizationClient({ teams: { enabled: true } })] });
      await s.clientCall('guest organization.acceptInvitation', gc.organization.acceptInvitation({ invitationId: m.token }));
      const full = await gc.organization.getFullOrganization();
      s.record('client result: guest organization.getFullOrganization (members sorted)', { error: full.error, data: full.data && { ...full.data, members: [...(full.data.members ?? [])].sort((a, b) => memberKey(a).localeCompare(memberKey(b))) } });
      await s.clientCall('guest organization.getActiveMember', gc.organization.getActiveMember());
      await s.clientCall('guest organization.hasPermission', gc.organization.hasPermission({ permissions: { invitation: ['create'] } }));
      await s.clientCall('guest organization.leave', gc.organization.leave({ organizationId: c.data?.id }));
      const list = await client.organization.list();
      s.record('organization.list (sorted by slug)', { error: list.error, slugs: (list.data ?? []).map((o) => o.slug).sort() });
      await s.clientCall('organization.listTeams', client.organization.listTeams());
      await s.clientCall('organization.delete', client.organization.delete({ organizationId: c.data?.id }));
      const plain = createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: s.browser().fetchImpl() }, plugins: [organizationClient()] });
      await s.clientCall('signed out organization.create', plain.organization.create({ name: 'x', slug: `x-${s.tag}` }));
    });

    scenario('the real client: members, invitations and teams through organizationClient', async (s) => {
      const owner = await user(s, 'cl2-owner');
      const a = await user(s, 'cl2-a');
      const b = await user(s, 'cl2-b');
      const mk = (who) => createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: who.b.fetchImpl() }, plugins: [organizationClient({ teams: { enabled: true } })] });
      const oc = mk(owner);
      const ac = mk(a);
      const bc = mk(b);
      const org = await s.clientCall('organization.create', oc.organization.create({ name: `Client two ${s.tag}`, slug: `client-two-${s.tag}` }));
      await s.clientCall('organization.update', oc.organization.update({ data: { name: `Client two renamed ${s.tag}` } }));
      const ia = await oc.organization.inviteMember({ email: a.email, role: 'member' });
      const ib = await oc.organization.inviteMember({ email: b.email, role: 'admin' });
      await s.mail(a.email, { kind: 'invitation' });
      await s.mail(b.email, { kind: 'invitation' });
      const li = await oc.organization.listInvitations();
      s.record('organization.listInvitations (emails, sorted)', { error: li.error, emails: (li.data ?? []).map((x) => `${x.email} ${x.role} ${x.status}`).sort() });
      await s.sql(`update "user" set "emailVerified" = true where "id" = $1`, [a.id]);
      const lu = await ac.organization.listUserInvitations();
      s.record('organization.listUserInvitations', { error: lu.error, n: lu.data?.length, names: (lu.data ?? []).map((x) => x.organizationName ?? null) });
      await s.clientCall('a organization.acceptInvitation', ac.organization.acceptInvitation({ invitationId: ia.data?.id }));
      await s.clientCall('b organization.rejectInvitation', bc.organization.rejectInvitation({ invitationId: ib.data?.id }));
      await s.clientCall('organization.cancelInvitation (rejected)', oc.organization.cancelInvitation({ invitationId: ib.data?.id }));
      const lm = await oc.organization.listMembers({ query: { sortBy: 'createdAt', sortDirection: 'asc' } });
      s.record('organization.listMembers', { error: lm.error, total: lm.data?.total, roles: (lm.data?.members ?? []).map((m) => m.role) });
      const aMember = (lm.data?.members ?? []).find((m) => m.userId === a.id);
      await s.clientCall('organization.updateMemberRole', oc.organization.updateMemberRole({ memberId: aMember?.id, role: 'admin' }));
      await s.clientCall('a organization.getActiveMemberRole', ac.organization.getActiveMemberRole());
      const team = await s.clientCall('organization.createTeam', oc.organization.createTeam({ name: `Client team ${s.tag}` }));
      await s.clientCall('organization.addTeamMember', oc.organization.addTeamMember({ teamId: team.data?.id, userId: a.id }));
      await s.clientCall('a organization.setActiveTeam', ac.organization.setActiveTeam({ teamId: team.data?.id }));
      await s.clientCall('a organization.listUserTeams', ac.organization.listUserTeams());
      await s.clientCall('a organization.listTeamMembers (active team)', ac.organization.listTeamMembers());
      await s.clientCall('organization.updateTeam', oc.organization.updateTeam({ teamId: team.data?.id, data: { name: `Client team 2 ${s.tag}` } }));
      await s.clientCall('organization.removeTeamMember', oc.organization.removeTeamMember({ teamId: team.data?.id, userId: a.id }));
      await s.clientCall('organization.removeTeam', oc.organization.removeTeam({ teamId: team.data?.id }));
      await s.clientCall('organization.removeMember', oc.organization.removeMember({ memberIdOrEmail: a.email }));
      await s.clientCall('a organization.getActiveMember after removal', ac.organization.getActiveMember());
      s.record('checkRolePermission (computed in the client)', oc.organization.checkRolePermission({ permissions: { member: ['delete'] }, role: 'admin' }));
      await s.clientCall('organization.delete', oc.organization.delete({ organizationId: org.data?.id }));
    });
  },
  { env: ENV },
);

compatSuite(
  'plugin organization with dynamic access control',
  (scenario) => {
    scenario('create-role, list-roles, get-role, update-role, delete-role; a member with a custom role', async (s) => {
      const { org, owner, admin, member, outsider } = await team(s, 'dac');
      const cr = await post(owner.b, 'create-role', { role: 'Support', permission: { member: ['update'], invitation: ['create'] } });
      s.expect('create-role: success, the role data', cr.status === 200 && cr.json?.success === true, cr.json);
      s.record('create-role keys', Object.keys(cr.json ?? {}).sort());
      await post(owner.b, 'create-role', { role: 'support', permission: { member: ['update'] } });
      await post(owner.b, 'create-role', { role: 'owner', permission: { member: ['update'] } });
      await post(owner.b, 'create-role', { role: 'bad', permission: { nothing: ['x'] } });
      await post(owner.b, 'create-role', { role: 'bad2', permission: { member: ['fly'] } });
      await post(owner.b, 'create-role', { role: 'empty', permission: {} });
      await post(owner.b, 'create-role', { permission: { member: ['update'] } });
      await post(owner.b, 'create-role', { role: 'nop' });
      await post(admin.b, 'create-role', { role: 'byadmin', permission: { team: ['create'] } });
      await post(member.b, 'create-role', { role: 'bymember', permission: { team: ['create'] } });
      await post(outsider.b, 'create-role', { role: 'byoutsider', permission: { team: ['create'] }, organizationId: org.id });
      await post(outsider.b, 'create-role', { role: 'byoutsider', permission: { team: ['create'] } });

      await getSorted(s, owner.b, 'list-roles', {}, 'role');
      await getSorted(s, member.b, 'list-roles', {}, 'role');
      await getSorted(s, owner.b, 'list-roles', { organizationId: org.id }, 'role');
      await get(outsider.b, 'list-roles', { organizationId: org.id });
      await get(owner.b, 'get-role', { roleName: 'support' });
      await get(owner.b, 'get-role', { roleId: cr.json?.roleData?.id });
      await get(member.b, 'get-role', { roleName: 'support' });
      await get(owner.b, 'get-role', { roleName: 'nothing' });
      await get(owner.b, 'get-role', { roleName: 'owner' });
      await get(owner.b, 'get-role');
      await get(outsider.b, 'get-role', { roleName: 'support', organizationId: org.id });

      const up = await post(owner.b, 'update-role', { roleName: 'support', data: { permission: { member: ['update', 'delete'], invitation: ['create', 'cancel'] } } });
      s.expect('update-role: success', up.status === 200 && up.json?.success === true, up.json);
      await post(owner.b, 'update-role', { roleName: 'support', data: { roleName: 'helpdesk' } });
      await post(owner.b, 'update-role', { roleName: 'helpdesk', data: { roleName: 'admin' } });
      await post(owner.b, 'update-role', { roleName: 'helpdesk', data: { permission: { nothing: ['x'] } } });
      await post(owner.b, 'update-role', { roleName: 'nothing', data: { roleName: 'x' } });
      await post(owner.b, 'update-role', { roleName: 'helpdesk' });
      await post(member.b, 'update-role', { roleName: 'helpdesk', data: { roleName: 'mine' } });

      // the custom role in use
      const helper = await user(s, 'dac-helper');
      await join(s, owner, org.id, helper, 'helpdesk');
      await post(helper.b, 'has-permission', { permissions: { member: ['delete'] } });
      await post(helper.b, 'has-permission', { permissions: { organization: ['update'] } });
      await get(helper.b, 'get-active-member-role');
      const hi = await post(helper.b, 'invite-member', { email: s.email('dac-by-helper'), role: 'member' });
      s.record('a helpdesk member invites', { status: hi.status, code: hi.json?.code ?? null });
      await s.mail(s.email('dac-by-helper'), { kind: 'invitation' }).catch(() => null);
      await post(owner.b, 'update-member-role', { memberId: member.member.id, role: 'helpdesk' });
      await post(owner.b, 'invite-member', { email: s.email('dac-new'), role: 'nosuchrole' });

      await post(owner.b, 'delete-role', { roleName: 'helpdesk' });
      await post(owner.b, 'delete-role', { roleName: 'owner' });
      await post(member.b, 'delete-role', { roleName: 'helpdesk' });
      await post(owner.b, 'delete-role', { roleName: 'nothing' });
      await post(owner.b, 'delete-role', {});
      const tmp = await post(owner.b, 'create-role', { role: 'temp', permission: { team: ['create'] } });
      const del = await post(owner.b, 'delete-role', { roleId: tmp.json?.roleData?.id });
      s.expect('delete-role by id: success', del.status === 200 && del.json?.success === true, del.json);
      await getSorted(s, owner.b, 'list-roles', {}, 'role');
      await post(s.browser(), 'create-role', { role: 'x', permission: { team: ['create'] } });
      await get(s.browser(), 'list-roles');
      await get(s.browser(), 'get-role', { roleName: 'helpdesk' });
      await post(s.browser(), 'update-role', { roleName: 'helpdesk', data: { roleName: 'y' } });
      await post(s.browser(), 'delete-role', { roleName: 'helpdesk' });
    });
  },
  { env: { ...ENV, ORGANIZATION_DYNAMIC_ACCESS_CONTROL: 'true' } },
);

compatSuite(
  'plugin organization with limits, invitation lifetime and verified invitees',
  (scenario) => {
    scenario('ORGANIZATION_LIMIT, _MEMBERSHIP_LIMIT, _INVITATION_LIMIT, _INVITATION_EXPIRES_IN, _REQUIRE_EMAIL_VERIFICATION_ON_INVITATION', async (s) => {
      const owner = await user(s, 'lim-owner');
      const org = await createOrg(s, owner.b, 'lim');
      await createOrg(s, owner.b, 'lim2', { keepCurrentActiveOrganization: true });
      await post(owner.b, 'create', { name: 'Third', slug: `lim3-${s.tag}` });
      await post(owner.b, 'check-slug', { slug: `lim3-${s.tag}` });

      const a = await user(s, 'lim-a');
      const b = await user(s, 'lim-b');
      const c = await user(s, 'lim-c');
      const ia = await post(owner.b, 'invite-member', { email: a.email, role: 'member', organizationId: org.id });
      s.record('the invitation lives (minutes)', Math.round((Date.parse(ia.json?.expiresAt) - Date.parse(ia.json?.createdAt)) / 60000));
      await s.mail(a.email, { kind: 'invitation' });
      const ib = await post(owner.b, 'invite-member', { email: b.email, role: 'member', organizationId: org.id });
      await s.mail(b.email, { kind: 'invitation' });
      await post(owner.b, 'invite-member', { email: c.email, role: 'member', organizationId: org.id });
      await s.noMail(c.email);
      const resend = await post(owner.b, 'invite-member', { email: b.email, role: 'member', organizationId: org.id, resend: true });
      s.record('resending at the invitation limit', { status: resend.status, code: resend.json?.code ?? null });
      await s.mail(b.email, { kind: 'invitation' }).catch(() => null);

      // an unverified invitee may not accept or reject, nor read the invitation
      await post(a.b, 'accept-invitation', { invitationId: ia.json?.id });
      await post(a.b, 'reject-invitation', { invitationId: ia.json?.id });
      await get(a.b, 'get-invitation', { id: ia.json?.id });
      await get(a.b, 'list-user-invitations');
      for (const u of [a, b]) await s.sql(`update "user" set "emailVerified" = true where "id" = $1`, [u.id]);
      await get(a.b, 'get-invitation', { id: ia.json?.id });
      const acc = await post(a.b, 'accept-invitation', { invitationId: ia.json?.id });
      s.expect('verified: accepted', acc.status === 200 && acc.json?.member?.role === 'member', acc.json);
      // two members now: the organization is full
      const full = await post(b.b, 'accept-invitation', { invitationId: ib.json?.id });
      s.expect('full: 403 ORGANIZATION_MEMBERSHIP_LIMIT_REACHED', err(full, 403, 'ORGANIZATION_MEMBERSHIP_LIMIT_REACHED'), full.json);
      await get(b.b, 'get-invitation', { id: ib.json?.id });
      // a full organization still invites (one invitation is pending, under the limit of 2)
      await post(owner.b, 'invite-member', { email: c.email, role: 'member', organizationId: org.id });
      await s.mail(c.email, { kind: 'invitation' });
      await post(b.b, 'reject-invitation', { invitationId: ib.json?.id });
      await post(owner.b, 'invite-member', { email: c.email, role: 'member', organizationId: org.id });
      await s.noMail(c.email);
      await getSorted(s, owner.b, 'get-full-organization', { organizationId: org.id }, memberKey);
    });
  },
  {
    env: {
      ...ENV,
      ORGANIZATION_LIMIT: '2',
      ORGANIZATION_MEMBERSHIP_LIMIT: '2',
      ORGANIZATION_INVITATION_LIMIT: '2',
      ORGANIZATION_INVITATION_EXPIRES_IN: '3600',
      ORGANIZATION_REQUIRE_EMAIL_VERIFICATION_ON_INVITATION: 'true',
    },
  },
);

compatSuite(
  'plugin organization with team limits and cancel-on-reinvite',
  (scenario) => {
    scenario('ORGANIZATION_MAXIMUM_TEAMS, _MAXIMUM_MEMBERS_PER_TEAM, _CANCEL_PENDING_INVITATIONS_ON_REINVITE', async (s) => {
      const { owner, admin, member } = await team(s, 'tl');
      // the default team counts: one more team fits
      const t = await post(owner.b, 'create-team', { name: `Second ${s.tag}` });
      await post(owner.b, 'create-team', { name: `Third ${s.tag}` });
      await post(owner.b, 'add-team-member', { teamId: t.json?.id, userId: admin.id });
      await post(owner.b, 'add-team-member', { teamId: t.json?.id, userId: member.id });
      await get(owner.b, 'list-team-members', { teamId: t.json?.id }, { record: false }).then((r) => s.record('team members (count)', { status: r.status, n: Array.isArray(r.json) ? r.json.length : r.json }));
      await post(owner.b, 'remove-team', { teamId: t.json?.id });
      await post(owner.b, 'create-team', { name: `Fourth ${s.tag}` });
      // re-inviting cancels the pending invitation and mails a new one
      const guest = await user(s, 'tl-guest');
      const first = await post(owner.b, 'invite-member', { email: guest.email, role: 'member' });
      await s.mail(guest.email, { kind: 'invitation' });
      const second = await post(owner.b, 'invite-member', { email: guest.email, role: 'admin' });
      s.expect('a new invitation', second.status === 200 && second.json?.id !== first.json?.id && second.json?.role === 'admin', second.json);
      const m = await s.mail(guest.email, { kind: 'invitation' });
      s.expect('the mail names the new invitation', m.token === second.json?.id, m.token);
      await getSorted(s, owner.b, 'list-invitations', {}, (x) => `${x.email} ${x.status}`);
      await post(guest.b, 'accept-invitation', { invitationId: first.json?.id });
      const acc = await post(guest.b, 'accept-invitation', { invitationId: second.json?.id });
      s.expect('the new one is accepted, as admin', acc.status === 200 && acc.json?.member?.role === 'admin', acc.json);
      // a team invitation into a full team
      const teams = await get(owner.b, 'list-teams', {}, { record: false });
      const full = teams.json?.find((x) => x.name === `Fourth ${s.tag}`);
      await post(owner.b, 'add-team-member', { teamId: full?.id, userId: member.id });
      const late = await user(s, 'tl-late');
      await post(owner.b, 'invite-member', { email: late.email, role: 'member', teamId: full?.id });
      await s.noMail(late.email);
      await post(owner.b, 'remove-team-member', { teamId: full?.id, userId: member.id });
      const ti = await post(owner.b, 'invite-member', { email: late.email, role: 'member', teamId: full?.id });
      await s.mail(late.email, { kind: 'invitation' });
      // the place is taken before the invitee accepts
      await post(owner.b, 'add-team-member', { teamId: full?.id, userId: member.id });
      await post(late.b, 'accept-invitation', { invitationId: ti.json?.id });
      await get(late.b, 'get-invitation', { id: ti.json?.id });
      await get(late.b, 'list-user-teams');
    });
  },
  {
    env: {
      ...ENV,
      ORGANIZATION_MAXIMUM_TEAMS: '2',
      ORGANIZATION_MAXIMUM_MEMBERS_PER_TEAM: '1',
      ORGANIZATION_CANCEL_PENDING_INVITATIONS_ON_REINVITE: 'true',
    },
  },
);

compatSuite(
  'plugin organization with organization creation switched off',
  (scenario) => {
    scenario('ORGANIZATION_ALLOW_USER_TO_CREATE=false', async (s) => {
      const u = await user(s, 'nocreate');
      await post(u.b, 'create', { name: 'Refused', slug: `refused-${s.tag}` });
      await post(u.b, 'check-slug', { slug: `refused-${s.tag}` });
      await get(u.b, 'list');
      await get(u.b, 'get-full-organization');
      await post(s.browser(), 'create', { name: 'Refused', slug: `refused2-${s.tag}` });
    });
  },
  { env: { ...ENV, ORGANIZATION_ALLOW_USER_TO_CREATE: 'false' } },
);
