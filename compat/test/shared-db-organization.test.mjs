// Both servers on ONE database with admin,organization (teams and dynamic access control on): an
// organization, its team, a custom role and invitations made on one server are read and used on the
// other — metadata text, comma-joined role lists, the stored role permission, team rows, the
// session's active organization and team — in both directions.
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { Browser } from '../lib/http.mjs';
import { describeRecord } from '../lib/compare.mjs';
import { createDatabase, startReference, startCandidate, APP_ORIGIN, CANDIDATE_NAME } from '../lib/servers.mjs';

const PASSWORD = 'password1234';
const ENV = { BETTER_AUTH_PLUGINS: 'admin,organization', ORGANIZATION_TEAMS: 'true', ORGANIZATION_DYNAMIC_ACCESS_CONTROL: 'true' };

describe('shared database with the organization plugin', () => {
  let db;
  let ref;
  let other;
  const cleanup = [];
  const browser = (srv) => new Browser({ baseURL: srv.url, appOrigin: APP_ORIGIN });
  const show = (r) => `\n${describeRecord(r)}`;
  const logs = () => `\n--- ref log ---\n${ref?.logTail(30)}\n--- ${CANDIDATE_NAME} log ---\n${other?.logTail(30)}`;
  const servers = () => ({ ref, [CANDIDATE_NAME]: other });

  before(async () => {
    db = await createDatabase();
    cleanup.push(() => db.drop());
    ref = await startReference({ databaseUrl: db.url, env: ENV });
    cleanup.push(() => ref.stop());
    other = await startCandidate({ databaseUrl: db.url, env: ENV });
    cleanup.push(() => other.stop());
  }, { timeout: 360000 });

  after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  /** Signs up on srv; returns the signed-in browser. */
  async function signUp(srv, email) {
    const b = browser(srv);
    const r = await b.post('/sign-up/email', { json: { name: `Shared ${email}`, email, password: PASSWORD } });
    assert.equal(r.status, 200, show(r) + logs());
    return b;
  }

  /** Signs in on srv; returns the browser. */
  async function signIn(srv, email) {
    const b = browser(srv);
    const r = await b.post('/sign-in/email', { json: { email, password: PASSWORD } });
    assert.equal(r.status, 200, show(r) + logs());
    return b;
  }

  /** Asserts a 200 answer and returns its JSON. */
  function ok(r, what) {
    assert.equal(r.status, 200, `${what}:${show(r)}${logs()}`);
    return r.json;
  }

  for (const [from, to] of [['ref', CANDIDATE_NAME], [CANDIDATE_NAME, 'ref']]) {
    it(`an organization, team, role and invitations made on ${from} are used on ${to}`, async () => {
      const s = servers();
      const tag = `${from}-to-${to}`.replace(/[^a-z0-9-]/gi, '');
      const ownerEmail = `owner.${tag}@shared.example.com`;
      const guestEmail = `guest.${tag}@shared.example.com`;
      const pairEmail = `pair.${tag}@shared.example.com`;
      const ownerFrom = await signUp(s[from], ownerEmail);
      const guestTo = await signUp(s[to], guestEmail);
      const pairTo = await signUp(s[to], pairEmail);
      const metadata = { zeta: 1, alpha: { y: [1, 'two'], b: null } };

      // made on `from`
      const org = ok(await ownerFrom.post('/organization/create', { json: { name: `Shared ${tag}`, slug: `shared-${tag}`, metadata } }), 'create');
      const team = ok(await ownerFrom.post('/organization/create-team', { json: { name: `Team ${tag}` } }), 'create-team');
      ok(await ownerFrom.post('/organization/create-role', { json: { role: 'auditor', permission: { member: ['update'], invitation: ['create'] } } }), 'create-role');
      const gi = ok(await ownerFrom.post('/organization/invite-member', { json: { email: guestEmail, role: 'auditor', teamId: team.id } }), 'invite guest');
      const pi = ok(await ownerFrom.post('/organization/invite-member', { json: { email: pairEmail, role: ['admin', 'member'] } }), 'invite pair');

      // used on `to`
      const acc = ok(await guestTo.post('/organization/accept-invitation', { json: { invitationId: gi.id } }), 'accept (custom role, team)');
      assert.equal(acc.member?.role, 'auditor', JSON.stringify(acc));
      const gs = ok(await guestTo.get('/get-session'), 'get-session');
      assert.equal(gs.session?.activeOrganizationId, org.id);
      assert.equal(gs.session?.activeTeamId, team.id);
      const perm = ok(await guestTo.post('/organization/has-permission', { json: { permissions: { member: ['update'] } } }), 'has-permission (stored role)');
      assert.equal(perm.success, true, `${to} does not read the permission ${from} stored`);
      const denied = ok(await guestTo.post('/organization/has-permission', { json: { permissions: { member: ['delete'] } } }), 'has-permission (denied)');
      assert.equal(denied.success, false);
      const pacc = ok(await pairTo.post('/organization/accept-invitation', { json: { invitationId: pi.id } }), 'accept (role list)');
      assert.equal(pacc.member?.role, 'admin,member');
      const role = ok(await pairTo.get('/organization/get-active-member-role'), 'get-active-member-role');
      assert.equal(role.role, 'admin,member');
      const admHas = ok(await pairTo.post('/organization/has-permission', { json: { permissions: { invitation: ['cancel'] } } }), 'has-permission (role list)');
      assert.equal(admHas.success, true);

      const ownerTo = await signIn(s[to], ownerEmail);
      ok(await ownerTo.post('/organization/set-active', { json: { organizationId: org.id } }), 'set-active');
      const full = ok(await ownerTo.get('/organization/get-full-organization'), 'get-full-organization');
      assert.deepEqual(JSON.parse(full.metadata), metadata, `metadata stored by ${from}, read by ${to}: ${full.metadata}`);
      assert.deepEqual(full.members.map((m) => `${m.user.email} ${m.role}`).sort(), [`${guestEmail} auditor`, `${ownerEmail} owner`, `${pairEmail} admin,member`].sort());
      assert.deepEqual(full.teams.map((t) => t.name).sort(), [`Shared ${tag}`, `Team ${tag}`].sort());
      assert.deepEqual(full.invitations.map((i) => `${i.email} ${i.status}`).sort(), [`${guestEmail} accepted`, `${pairEmail} accepted`].sort());
      // (only a team's members may list it; its creator is not one)
      const tm = ok(await guestTo.get('/organization/list-team-members', { query: { teamId: team.id } }), 'list-team-members');
      assert.ok(tm.some((x) => x.userId === acc.member.userId), JSON.stringify(tm));
      const roles = ok(await ownerTo.get('/organization/list-roles'), 'list-roles');
      assert.deepEqual(roles.map((r) => [r.role, r.permission]), [['auditor', { member: ['update'], invitation: ['create'] }]]);

      // changed on `to`, read back on `from`
      ok(await ownerTo.post('/organization/update-role', { json: { roleName: 'auditor', data: { permission: { member: ['update', 'delete'] } } } }), 'update-role');
      ok(await ownerTo.post('/organization/add-team-member', { json: { teamId: team.id, userId: pacc.member.userId } }), 'add-team-member');
      ok(await ownerTo.post('/organization/update', { json: { data: { metadata: { plan: 'pro' } } } }), 'update');
      const role2 = ok(await ownerFrom.get('/organization/get-role', { query: { roleName: 'auditor' } }), 'get-role');
      assert.deepEqual(role2.permission, { member: ['update', 'delete'] });
      const guestFrom = await signIn(s[from], guestEmail);
      const perm2 = ok(await guestFrom.post('/organization/has-permission', { json: { organizationId: org.id, permissions: { member: ['delete'] } } }), 'has-permission after update-role');
      assert.equal(perm2.success, true, `${from} does not read the permission ${to} rewrote`);
      const tm2 = ok(await guestFrom.get('/organization/list-team-members', { query: { teamId: team.id } }), 'list-team-members back');
      assert.deepEqual(tm2.map((x) => x.userId).sort(), [acc.member.userId, pacc.member.userId].sort());
      const got = ok(await ownerFrom.get('/organization/get-organization', { query: { organizationId: org.id } }), 'get-organization');
      assert.deepEqual(JSON.parse(got.metadata), { plan: 'pro' });

      // the session cookie of one server, with the active organization the other set
      const moved = browser(s[from]);
      for (const [k, v] of ownerTo.jar.cookies) moved.jar.set(k, v);
      const ms = ok(await moved.get('/get-session'), 'get-session with the other server\'s cookie');
      assert.equal(ms.session?.activeOrganizationId, org.id);
      ok(await moved.post('/organization/set-active', { json: { organizationId: null } }), 'set-active null');
      const back = ok(await ownerTo.get('/get-session'), 'get-session back');
      assert.equal(back.session?.activeOrganizationId, null);

      // removed on `from`, gone on `to`
      ok(await ownerFrom.post('/organization/remove-member', { json: { organizationId: org.id, memberIdOrEmail: guestEmail } }), 'remove-member');
      const gm = await guestTo.get('/organization/get-full-organization', { query: { organizationId: org.id } });
      assert.equal(gm.status, 403, show(gm));
      ok(await ownerFrom.post('/organization/delete', { json: { organizationId: org.id } }), 'delete');
      const gone = await ownerTo.get('/organization/get-organization', { query: { organizationId: org.id } });
      assert.equal(gone.status, 400, show(gone));
    });
  }
});
