// The admin plugin (BETTER_AUTH_PLUGINS=admin on both servers): every /admin/* endpoint compared
// between the servers — create-user, list-users (search, filter, sort, paging, total), get-user,
// update-user, set-role, set-user-password, ban-user / unban-user (reason, expiry, sessions ended,
// BANNED_USER at sign-in, the lazily lifted expired ban), list-user-sessions, revoke-user-session(s),
// impersonate-user / stop-impersonating (admin_session, impersonatedBy, the impersonation session's
// life), remove-user, has-permission, and the refusals (signed out, a plain user, bad bodies), plus
// the real client's adminClient(). The first admin of a scenario gets its role by SQL on each side's
// own database before it signs in, which works for both servers alike (ADMIN_USER_IDS would need the
// random ids before the servers start). The database is shared by the scenarios, so lists are
// scoped by the scenario's tag (every address and name made here contains it).
import { createAuthClient } from 'better-auth/client';
import { adminClient } from 'better-auth/client/plugins';
import { compatSuite, SESSION_COOKIE, DONT_REMEMBER_COOKIE } from '../lib/harness.mjs';

const PASSWORD = 'password1234';
const ADMIN_COOKIE = 'better-auth.admin_session';
const err = (res, status, code) => res.status === status && res.json?.code === code;

/** Signs up a plain user in a fresh browser; returns {b, id, email}. */
async function user(s, local, name = `User ${local} ${s.tag}`) {
  const b = s.browser();
  const email = s.email(local);
  const up = await s.signUp(b, { email, name });
  if (up.status !== 200) throw new Error(`sign-up of ${email}: ${up.status} ${up.text}`);
  return { b, id: up.json.user.id, email };
}

/**
 * The scenario's administrator: signed up, given the admin role by SQL on this side's database,
 * then signed in afresh in the returned browser (so the session is read with the role).
 */
async function admin(s, local = 'admin') {
  const email = s.email(local);
  const up = await s.signUp(s.browser(), { email, name: `Admin ${s.tag}` });
  await s.sql(`update "user" set "role" = 'admin' where "email" = $1`, [email]);
  const b = s.browser();
  const inn = await s.signIn(b, { email });
  s.expect('the admin signs in with role admin', inn.status === 200 && inn.json?.user?.role === 'admin', inn.json);
  return { b, id: up.json.user.id, email };
}

/** POST /admin/<path> in browser b. */
const post = (b, path, json, opts = {}) => b.post(`/admin/${path}`, { json, ...opts });

/** GET /admin/get-user?id=… labelled without the (random) id. */
const getUser = (b, id, label = 'the user') => b.get('/admin/get-user', { query: { id }, label: `GET /admin/get-user?id=<${label}>` });

/** The last Set-Cookie line for name (Better-Auth deletes a cookie, then sets it, in one answer). */
const lastCookieLine = (res, name) => res?.setCookies.filter((l) => l.startsWith(`${name}=`)).at(-1);

compatSuite(
  'plugin admin',
  (scenario) => {
    scenario('new users: role user, banned false; sign-up cannot set them', async (s) => {
      const b = s.browser();
      const up = await s.signUp(b, { email: s.email('plain'), role: 'admin', banned: true });
      s.record('sign-up with role/banned in the body', { status: up.status, code: up.json?.code ?? null });
      const banned = await s.signUp(s.browser(), { email: s.email('plain3'), banned: true, banReason: '' });
      s.expect('banned (a schema default) in a sign-up body is ignored', banned.status === 200 && banned.json?.user?.banned === false, banned.json);
      const falsy = await s.signUp(s.browser(), { email: s.email('plain4'), role: '' });
      s.expect('a falsy role is ignored', falsy.status === 200 && falsy.json?.user?.role === 'user', falsy.json);
      const ok = await s.signUp(s.browser(), { email: s.email('plain2') });
      s.expect('role "user", banned false, banReason and banExpires null', ok.json?.user?.role === 'user' && ok.json?.user?.banned === false && ok.json?.user?.banReason === null && ok.json?.user?.banExpires === null, ok.json);
      s.record('user keys', Object.keys(ok.json?.user ?? {}).sort());
      const g = await s.browser().get('/get-session');
      s.record('signed-out get-session', g.json);
    });

    scenario('create-user, get-user, update-user, set-role', async (s) => {
      const a = await admin(s);
      const c = await post(a.b, 'create-user', { email: s.email('Made'), password: PASSWORD, name: `Made ${s.tag}`, data: { image: 'https://img.example/x.png', emailVerified: true } });
      s.expect('create-user: 200 {user}, role user, e-mail lower-cased', c.status === 200 && c.json?.user?.role === 'user' && c.json?.user?.email === s.email('made') && c.json?.user?.emailVerified === true, c.json);
      const id = c.json?.user?.id;
      const signIn = await s.signIn(s.browser(), { email: s.email('made') });
      s.expect('the created user signs in with the password', signIn.status === 200, signIn.json);
      const roles = await post(a.b, 'create-user', { email: s.email('roles'), password: PASSWORD, name: 'Roles', role: ['user', 'admin'] });
      s.expect('a role list is stored comma-joined', roles.json?.user?.role === 'user,admin', roles.json);
      const dataRole = await post(a.b, 'create-user', { email: s.email('datarole'), name: 'Data role', data: { role: 'admin' } });
      s.record('role inside data', { status: dataRole.status, role: dataRole.json?.user?.role ?? null });
      const nopw = await post(a.b, 'create-user', { email: s.email('nopw'), name: 'No password' });
      s.expect('without a password: 200', nopw.status === 200, nopw.json);
      const nopwIn = await s.signIn(s.browser(), { email: s.email('nopw') });
      s.expect('and no password sign-in', nopwIn.status === 401, nopwIn.json);
      const dup = await post(a.b, 'create-user', { email: s.email('MADE'), password: PASSWORD, name: 'Dup' });
      s.expect('taken address: 400 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL', err(dup, 400, 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL'), dup.json);
      await post(a.b, 'create-user', { email: 'not-an-email', password: PASSWORD, name: 'Bad' });
      await post(a.b, 'create-user', { email: s.email('short'), password: 'short', name: 'Short' });
      await post(a.b, 'create-user', { email: s.email('long'), password: 'x'.repeat(200), name: 'Long' });
      await post(a.b, 'create-user', { email: s.email('norole'), password: PASSWORD, name: 'Bad role', role: 5 });
      await post(a.b, 'create-user', { email: s.email('norole'), password: PASSWORD, name: 'Bad role', role: ['user', 5] });
      await post(a.b, 'create-user', { password: PASSWORD, name: 'No email' });

      const g = await getUser(a.b, id);
      s.expect('get-user: the bare user', g.status === 200 && g.json?.id === id && g.json?.email === s.email('made'), g.json);
      const unknown = await a.b.get('/admin/get-user', { query: { id: 'no-such-user' } });
      s.expect('get-user unknown: 404 USER_NOT_FOUND', err(unknown, 404, 'USER_NOT_FOUND'), unknown.json);
      await a.b.get('/admin/get-user');

      const u = await post(a.b, 'update-user', { userId: id, data: { name: `Renamed ${s.tag}`, image: null } });
      s.expect('update-user: the bare user, renamed', u.status === 200 && u.json?.name === `Renamed ${s.tag}` && u.json?.image === null, u.json);
      const em = await post(a.b, 'update-user', { userId: id, data: { email: s.email('Moved') } });
      s.record('update-user email', { status: em.status, email: em.json?.email ?? null, code: em.json?.code ?? null });
      const urole = await post(a.b, 'update-user', { userId: id, data: { role: ['admin', 'user'] } });
      s.record('update-user role list', { status: urole.status, role: urole.json?.role ?? null, code: urole.json?.code ?? null });
      await post(a.b, 'update-user', { userId: id, data: {} });
      await post(a.b, 'update-user', { userId: id, data: { password: 'password5678' } });
      await post(a.b, 'update-user', { userId: id, data: { id: 'other' } });
      await post(a.b, 'update-user', { userId: id, data: { email: s.email('roles') } });
      await post(a.b, 'update-user', { userId: id, data: { email: 'not-an-email' } });
      await post(a.b, 'update-user', { userId: 'no-such-user', data: { name: 'x' } });
      await post(a.b, 'update-user', { userId: id });
      await post(a.b, 'update-user', { data: { name: 'x' } });
      await post(a.b, 'update-user', { userId: null, data: { name: 'x' } });
      await post(a.b, 'update-user', { userId: id, data: 'x' });
      await post(a.b, 'update-user', { userId: a.id, data: { banned: true } });

      const r = await post(a.b, 'set-role', { userId: id, role: 'admin' });
      s.expect('set-role: {user} with the role', r.status === 200 && r.json?.user?.role === 'admin', r.json);
      const rl = await post(a.b, 'set-role', { userId: id, role: ['user', 'support'] });
      s.expect('set-role list: any role names, comma-joined', rl.status === 200 && rl.json?.user?.role === 'user,support', rl.json);
      await post(a.b, 'set-role', { userId: id, role: 5 });
      await post(a.b, 'set-role', { userId: id, role: [true] });
      await post(a.b, 'set-role', { userId: id });
      await post(a.b, 'set-role', { userId: 'no-such-user', role: 'user' });
      await post(a.b, 'set-role', { role: 'user' });
      const after = await getUser(a.b, id);
      s.record('get-user after the changes', after.json);
    });

    scenario('list-users: search, filter, sort, paging, total', async (s) => {
      const a = await admin(s);
      const names = ['Delta', 'alpha', 'Charlie', 'bravo', 'Echo'];
      for (const [i, n] of names.entries()) {
        const r = await post(a.b, 'create-user', { email: s.email(`list${i}-${n.toLowerCase()}`), password: PASSWORD, name: `${n} ${s.tag}`, ...(i % 2 === 0 && { role: 'support' }) });
        if (r.status !== 200) throw new Error(`create-user: ${r.status} ${r.text}`);
      }
      const tag = s.tag;
      const list = (query, opts = {}) => a.b.get('/admin/list-users', { query, ...opts });
      // without sortBy the order is the database's: compared as a set
      const unsorted = await list({ searchValue: tag }, { record: false });
      s.record('search by e-mail (default field, contains): the set and total', { status: unsorted.status, emails: (unsorted.json?.users ?? []).map((u) => u.email).sort(), total: unsorted.json?.total, keys: Object.keys(unsorted.json ?? {}).sort() });
      await list({ searchValue: tag, sortBy: 'email' });
      await list({ searchValue: tag, sortBy: 'name', sortDirection: 'desc' });
      await list({ searchValue: tag, sortBy: 'createdAt', sortDirection: 'asc', limit: '2' });
      await list({ searchValue: tag, sortBy: 'email', limit: '2', offset: '2' });
      await list({ searchValue: tag, sortBy: 'email', offset: '4' });
      await list({ searchValue: tag, sortBy: 'email', limit: '0', offset: '0' });
      await list({ searchValue: tag, sortBy: 'email', limit: '-1' });
      await list({ searchValue: tag, sortBy: 'email', limit: 'abc' });
      await list({ searchValue: 'list1', searchField: 'email', searchOperator: 'starts_with', sortBy: 'email' });
      await list({ searchValue: `o ${tag}`, searchField: 'name', searchOperator: 'ends_with', sortBy: 'name' });
      await list({ searchValue: 'Charlie', searchField: 'name', searchOperator: 'starts_with' });
      await list({ searchValue: `delta ${tag}`, searchField: 'name', sortBy: 'name' });
      await list({ searchValue: tag.toUpperCase(), sortBy: 'email' });
      await list({ searchValue: tag, filterField: 'role', filterValue: 'support', sortBy: 'email' });
      await list({ searchValue: tag, filterField: 'role', filterValue: 'support', filterOperator: 'ne', sortBy: 'email' });
      await list({ searchValue: tag, filterField: 'name', filterValue: `Echo ${tag}`, sortBy: 'email' });
      await list({ searchValue: tag, filterField: 'name', filterValue: 'Echo', filterOperator: 'starts_with', sortBy: 'email' });
      await list({ filterField: 'email', filterValue: s.email('list0-delta') });
      await list({ searchValue: tag, filterField: 'email', filterValue: [s.email('list0-delta'), s.email('list3-bravo')], filterOperator: 'in', sortBy: 'email' });
      await list({ searchValue: tag, filterField: 'nosuchfield', filterValue: 'x' });
      await list({ searchValue: tag, sortBy: 'nosuchfield' });
      await list({ searchValue: 'nothing-matches-this' });
      await list({ searchValue: tag, searchOperator: 'bogus' });
      await list({ searchValue: tag, searchField: 'id' });
      await list({ searchValue: tag, sortDirection: 'up' });
      await list({ searchValue: tag, filterField: 'role', filterValue: 'x', filterOperator: 'like' });
    });

    scenario('set-user-password', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'pw');
      const r = await post(a.b, 'set-user-password', { userId: u.id, newPassword: 'password5678' });
      s.expect('200 {status:true}', r.status === 200 && r.json?.status === true, r.json);
      const old = await s.signIn(s.browser(), { email: u.email });
      s.expect('the old password is refused', old.status === 401, old.json);
      const neu = await s.signIn(s.browser(), { email: u.email, password: 'password5678' });
      s.expect('the new one signs in', neu.status === 200, neu.json);
      const g = await u.b.get('/get-session');
      s.expect('the user keeps their session', g.json?.user?.id === u.id, g.json);
      await post(a.b, 'set-user-password', { userId: u.id, newPassword: 'short' });
      await post(a.b, 'set-user-password', { userId: u.id, newPassword: 'x'.repeat(200) });
      await post(a.b, 'set-user-password', { userId: u.id, newPassword: '' });
      await post(a.b, 'set-user-password', { userId: u.id });
      await post(a.b, 'set-user-password', { userId: '', newPassword: 'password5678' });
      await post(a.b, 'set-user-password', { newPassword: 'password5678' });
      await post(a.b, 'set-user-password', { userId: 'no-such-user', newPassword: 'password5678' });
      // a user without a credential account gets one
      const c = await post(a.b, 'create-user', { email: s.email('nopw'), name: 'No password' });
      await post(a.b, 'set-user-password', { userId: c.json?.user?.id, newPassword: 'password5678' });
      const inn = await s.signIn(s.browser(), { email: s.email('nopw'), password: 'password5678' });
      s.record('a user created without a password signs in after set-user-password', inn.status);
    });

    scenario('ban-user and unban-user', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'banme');
      const second = s.browser();
      await s.signIn(second, { email: u.email });
      const ban = await post(a.b, 'ban-user', { userId: u.id, banReason: 'spam', banExpiresIn: 86400 });
      s.expect('200 {user} banned with the reason and expiry', ban.status === 200 && ban.json?.user?.banned === true && ban.json?.user?.banReason === 'spam' && typeof ban.json?.user?.banExpires === 'string', ban.json);
      for (const b of [u.b, second]) {
        const g = await b.get('/get-session');
        s.expect('the banned user\'s sessions ended', g.status === 200 && g.json === null, g.json);
      }
      const sessions = await post(a.b, 'list-user-sessions', { userId: u.id });
      s.expect('no sessions left', sessions.json?.sessions?.length === 0, sessions.json);
      const inn = await s.signIn(s.browser(), { email: u.email });
      s.expect('sign-in: 403 BANNED_USER', err(inn, 403, 'BANNED_USER'), inn.json);
      const wrong = await s.signIn(s.browser(), { email: u.email, password: 'wrong-password' });
      s.record('a wrong password of a banned user', { status: wrong.status, code: wrong.json?.code });
      const imp = await post(a.b, 'impersonate-user', { userId: u.id });
      s.record('impersonating a banned user', { status: imp.status, code: imp.json?.code ?? null });
      const got = await getUser(a.b, u.id);
      s.expect('get-user shows the ban', got.json?.banned === true && got.json?.banReason === 'spam', got.json);
      const again = await post(a.b, 'ban-user', { userId: u.id });
      s.expect('banning again without reason: the default reason, no end', again.json?.user?.banReason === 'No reason' && again.json?.user?.banExpires === null, again.json);
      await post(a.b, 'ban-user', { userId: a.id });
      await post(a.b, 'ban-user', { userId: 'no-such-user' });
      await post(a.b, 'ban-user', {});
      await post(a.b, 'ban-user', { userId: u.id, banExpiresIn: 'soon' });
      await post(a.b, 'ban-user', { userId: u.id, banReason: 5 });
      const un = await post(a.b, 'unban-user', { userId: u.id });
      s.expect('unban: banned false, reason and end cleared', un.status === 200 && un.json?.user?.banned === false && un.json?.user?.banReason === null && un.json?.user?.banExpires === null, un.json);
      await post(a.b, 'unban-user', { userId: 'no-such-user' });
      await post(a.b, 'unban-user', {});
      const back = await s.signIn(s.browser(), { email: u.email });
      s.expect('signs in again', back.status === 200, back.json);
      // data.banned through update-user also ends the sessions
      const viaUpdate = await post(a.b, 'update-user', { userId: u.id, data: { banned: true, banReason: 'by update' } });
      s.record('update-user banned:true', { status: viaUpdate.status, banned: viaUpdate.json?.banned, banReason: viaUpdate.json?.banReason });
      const g = await u.b.get('/get-session');
      s.record('the first browser after the update-user ban', g.json);
    });

    scenario('an expired ban is lifted at the next sign-in, not before', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'brief');
      const ban = await post(a.b, 'ban-user', { userId: u.id, banExpiresIn: 1 });
      s.expect('banned for a second', ban.json?.user?.banned === true, ban.json);
      await new Promise((r) => setTimeout(r, 1500));
      const before = await getUser(a.b, u.id);
      s.expect('after expiry get-user still says banned', before.json?.banned === true, before.json);
      const inn = await s.signIn(s.browser(), { email: u.email });
      s.expect('the sign-in succeeds', inn.status === 200, inn.json);
      const after = await getUser(a.b, u.id);
      s.expect('and lifted the ban', after.json?.banned === false && after.json?.banReason === null && after.json?.banExpires === null, after.json);
    });

    scenario('list-user-sessions, revoke-user-session, revoke-user-sessions', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'sess');
      const b2 = s.browser();
      await s.signIn(b2, { email: u.email });
      const b3 = s.browser();
      await s.signIn(b3, { email: u.email });
      const l = await post(a.b, 'list-user-sessions', { userId: u.id }, { record: false });
      const sorted = [...(l.json?.sessions ?? [])].sort((x, y) => x.createdAt.localeCompare(y.createdAt) || x.token.localeCompare(y.token));
      s.record('list-user-sessions (sorted by creation)', { status: l.status, keys: Object.keys(l.json ?? {}), sessions: sorted });
      const mine = decodeURIComponent(b2.jar.get(SESSION_COOKIE)).split('.')[0];
      const one = await post(a.b, 'revoke-user-session', { sessionToken: mine });
      s.expect('revoke-user-session: {success:true}', one.status === 200 && one.json?.success === true, one.json);
      const g2 = await b2.get('/get-session');
      s.expect('that browser is signed out', g2.json === null, g2.json);
      const g3 = await b3.get('/get-session');
      s.expect('the others are not', g3.json?.user?.id === u.id, g3.json);
      await post(a.b, 'revoke-user-session', { sessionToken: 'no-such-token' });
      await post(a.b, 'revoke-user-session', {});
      await post(a.b, 'list-user-sessions', { userId: 'no-such-user' });
      await post(a.b, 'list-user-sessions', {});
      const all = await post(a.b, 'revoke-user-sessions', { userId: u.id });
      s.expect('revoke-user-sessions: {success:true}', all.status === 200 && all.json?.success === true, all.json);
      for (const b of [u.b, b3]) {
        const g = await b.get('/get-session');
        s.expect('every session ended', g.json === null, g.json);
      }
      await post(a.b, 'revoke-user-sessions', { userId: 'no-such-user' });
      await post(a.b, 'revoke-user-sessions', {});
      const left = await post(a.b, 'list-user-sessions', { userId: u.id });
      s.expect('none left', left.json?.sessions?.length === 0, left.json);
      const self = await a.b.get('/get-session');
      s.expect('the admin is still signed in', self.json?.user?.id === a.id, self.json);
    });

    scenario('impersonate-user and stop-impersonating', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'target');
      const adminToken = a.b.jar.get(SESSION_COOKIE);
      const imp = await post(a.b, 'impersonate-user', { userId: u.id });
      s.expect('200 {session, user}: a session of the user, impersonatedBy the admin', imp.status === 200 && imp.json?.user?.id === u.id && imp.json?.session?.userId === u.id && imp.json?.session?.impersonatedBy === a.id, imp.json);
      s.record('the impersonation session lives (seconds, rounded to minutes)', Math.round((Date.parse(imp.json?.session?.expiresAt) - Date.parse(imp.json?.session?.createdAt)) / 60000) * 60);
      s.expect('session_token without Max-Age, dont_remember, admin_session',
        Boolean(lastCookieLine(imp, SESSION_COOKIE)) && !/max-age/i.test(lastCookieLine(imp, SESSION_COOKIE)) && /^[^;]*=true\./.test(decodeURIComponent(lastCookieLine(imp, DONT_REMEMBER_COOKIE) ?? '')) && /Max-Age=604800/.test(lastCookieLine(imp, ADMIN_COOKIE) ?? ''), imp.setCookies);
      const kept = decodeURIComponent(a.b.jar.get(ADMIN_COOKIE) ?? '');
      s.expect('admin_session holds the admin\'s session token and an empty dont_remember', kept.startsWith(`${decodeURIComponent(adminToken).split('.')[0]}:.`), kept);
      const g = await a.b.get('/get-session');
      s.expect('get-session: the user, impersonatedBy the admin', g.json?.user?.id === u.id && g.json?.session?.impersonatedBy === a.id, g.json);
      const ls = await a.b.get('/list-sessions');
      s.record('list-sessions while impersonating', { status: ls.status, count: ls.json?.length, impersonated: (ls.json ?? []).filter((x) => x.impersonatedBy).length });
      const own = await u.b.get('/list-sessions');
      s.expect('the user\'s own list-sessions hides the impersonation', own.json?.length === 1 && !own.json[0].impersonatedBy, own.json);
      const aus = await post(a.b, 'list-user-sessions', { userId: u.id }, { record: false });
      s.record('list-user-sessions shows it (impersonatedBy of each, sorted)', { status: aus.status, by: (aus.json?.sessions ?? []).map((x) => (x.impersonatedBy ? 'admin' : null)).sort() });
      const denied = await a.b.get('/admin/list-users', { query: { searchValue: s.tag } });
      s.expect('as the user, admin endpoints are refused', err(denied, 403, 'YOU_ARE_NOT_ALLOWED_TO_LIST_USERS'), denied.json);
      const stop = await post(a.b, 'stop-impersonating');
      s.expect('stop: 200 {session, user} of the admin', stop.status === 200 && stop.json?.user?.id === a.id && stop.json?.session?.userId === a.id, stop.json);
      s.expect('the admin\'s own session cookie is back', a.b.jar.get(SESSION_COOKIE) === adminToken && !a.b.jar.get(ADMIN_COOKIE), a.b.jar.names());
      const back = await a.b.get('/get-session');
      s.expect('get-session: the admin again', back.json?.user?.id === a.id && back.json?.session?.impersonatedBy === null, back.json);
      const after = await post(a.b, 'list-user-sessions', { userId: u.id });
      s.expect('the impersonation session is gone', after.json?.sessions?.length === 1, after.json);
      await post(a.b, 'stop-impersonating');

      // without admin_session there is nothing to go back to
      await post(a.b, 'impersonate-user', { userId: u.id });
      const lost = s.browser();
      lost.jar.set(SESSION_COOKIE, a.b.jar.get(SESSION_COOKIE));
      await post(lost, 'stop-impersonating');
      // a forged admin_session
      const forged = s.browser();
      forged.jar.set(SESSION_COOKIE, a.b.jar.get(SESSION_COOKIE));
      forged.jar.set(ADMIN_COOKIE, 'x');
      await post(forged, 'stop-impersonating');
      await post(a.b, 'stop-impersonating');

      // admins are not impersonated without impersonate-admins
      const other = await user(s, 'otheradmin');
      await s.sql(`update "user" set "role" = 'user,admin' where "id" = $1`, [other.id]);
      await post(a.b, 'impersonate-user', { userId: other.id });
      await post(a.b, 'impersonate-user', { userId: 'no-such-user' });
      await post(a.b, 'impersonate-user', {});
      await post(a.b, 'impersonate-user', { userId: a.id });
      await a.b.get('/get-session');
      await post(a.b, 'stop-impersonating');
    });

    scenario('the impersonation of a remember-me:false admin keeps dont_remember', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'target2');
      const b = s.browser();
      await s.signIn(b, { email: a.email, rememberMe: false });
      await post(b, 'impersonate-user', { userId: u.id });
      const kept = decodeURIComponent(b.jar.get(ADMIN_COOKIE) ?? '');
      s.record('admin_session keeps a dont_remember value', /^[A-Za-z0-9]+:.+\./.test(kept));
      await post(b, 'stop-impersonating');
      s.record('cookies after stop', b.jar.names());
    });

    scenario('stop-impersonating after the admin\'s own session ended, or the admin was removed', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'target3');
      await post(a.b, 'impersonate-user', { userId: u.id });
      const kept = decodeURIComponent(a.b.jar.get(ADMIN_COOKIE) ?? '').split(':')[0];
      await s.sql(`delete from "session" where "token" = $1`, [kept]);
      const stop = await post(a.b, 'stop-impersonating');
      s.expect('500 "Failed to find admin session"', stop.status === 500 && stop.json?.message === 'Failed to find admin session', stop.json);
      const g = await a.b.get('/get-session');
      s.record('still the impersonated user', g.json?.user?.email ?? null);
      const a2 = await admin(s, 'admin2');
      await post(a2.b, 'impersonate-user', { userId: u.id });
      await s.sql(`delete from "user" where "id" = $1`, [a2.id]);
      const gone = await post(a2.b, 'stop-impersonating');
      s.record('stop after the admin was deleted', { status: gone.status, body: gone.json ?? gone.text });
    });

    scenario('remove-user', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'gone');
      const r = await post(a.b, 'remove-user', { userId: u.id });
      s.expect('{success:true}', r.status === 200 && r.json?.success === true, r.json);
      const g = await getUser(a.b, u.id);
      s.expect('get-user: 404', g.status === 404, g.json);
      const sess = await u.b.get('/get-session');
      s.expect('their session is gone', sess.json === null, sess.json);
      const inn = await s.signIn(s.browser(), { email: u.email });
      s.expect('no sign-in', inn.status === 401, inn.json);
      const [{ n }] = await s.sql(`select count(*)::int as n from "account" where "userId" = $1`, [u.id]);
      s.expect('no account rows left', n === 0, n);
      await post(a.b, 'remove-user', { userId: u.id });
      await post(a.b, 'remove-user', { userId: a.id });
      await post(a.b, 'remove-user', {});
      const self = await a.b.get('/get-session');
      s.expect('the admin is still there', self.json?.user?.id === a.id, self.json);
    });

    scenario('has-permission', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'perm');
      const hp = (b, json) => post(b, 'has-permission', json);
      await hp(a.b, { permissions: { user: ['list', 'ban'], session: ['revoke'] } });
      await hp(a.b, { permissions: { user: ['impersonate-admins'] } });
      await hp(a.b, { permissions: { user: ['fly'] } });
      await hp(a.b, { permissions: { nothing: ['list'] } });
      await hp(a.b, { permissions: {} });
      await hp(a.b, { permissions: { user: ['list'] }, role: 'user' });
      await hp(a.b, { permissions: { user: ['list'] }, userId: u.id });
      await hp(u.b, { permissions: { user: ['list'] } });
      await hp(u.b, { permissions: { user: ['list'] }, role: 'admin' });
      await hp(u.b, { permissions: { user: [] } });
      await hp(a.b, { permission: { user: ['list'] } });
      await hp(a.b, { permission: { user: ['list'] }, permissions: { user: ['list'] } });
      await hp(a.b, {});
      await hp(a.b, { permissions: { user: 'list' } });
      await hp(a.b, { permissions: ['user'] });
      await hp(a.b, { permissions: { user: ['list'] }, role: 5 });
      await hp(s.browser(), { permissions: { user: ['list'] } });
      await hp(s.browser(), { permissions: { user: ['list'] }, role: 'admin' });
      await hp(s.browser(), { permissions: { user: ['list'] }, userId: u.id });
      await hp(s.browser(), {});
    });

    scenario('refusals: signed out, a plain user, bad bodies', async (s) => {
      const u = await user(s, 'plain');
      const victim = await user(s, 'victim');
      const calls = [
        ['GET', 'list-users', null],
        ['GET', 'get-user', { id: victim.id }],
        ['POST', 'create-user', { email: s.email('new'), password: PASSWORD, name: 'New' }],
        ['POST', 'update-user', { userId: victim.id, data: { name: 'x' } }],
        ['POST', 'set-role', { userId: victim.id, role: 'admin' }],
        ['POST', 'set-user-password', { userId: victim.id, newPassword: 'password5678' }],
        ['POST', 'ban-user', { userId: victim.id }],
        ['POST', 'unban-user', { userId: victim.id }],
        ['POST', 'list-user-sessions', { userId: victim.id }],
        ['POST', 'revoke-user-session', { sessionToken: 'x' }],
        ['POST', 'revoke-user-sessions', { userId: victim.id }],
        ['POST', 'remove-user', { userId: victim.id }],
        ['POST', 'impersonate-user', { userId: victim.id }],
        ['POST', 'stop-impersonating', undefined],
      ];
      for (const who of [s.browser(), u.b]) {
        for (const [method, path, body] of calls) {
          if (method === 'GET') await who.get(`/admin/${path}`, { query: body ?? {}, label: `GET /admin/${path}${body ? '?id=<victim>' : ''}` });
          else await post(who, path, body);
        }
      }
      // a plain user may not give a role or ban fields through create-user / update-user
      const roled = await user(s, 'creator');
      await s.sql(`update "user" set "role" = 'creator' where "id" = $1`, [roled.id]);
      await post(roled.b, 'create-user', { email: s.email('x1'), password: PASSWORD, name: 'X', role: 'admin' });
      // bad bodies signed out: validation first, or the session first?
      const out = s.browser();
      await out.get('/admin/list-users', { query: { searchOperator: 'bogus' } });
      await out.get('/admin/get-user');
      await post(out, 'set-role', { userId: victim.id, role: 5 });
      await post(out, 'ban-user', { userId: victim.id, banExpiresIn: 'x' });
      await post(out, 'create-user', { name: 'no email' });
      await post(out, 'set-user-password', { userId: victim.id });
      await post(out, 'revoke-user-session', {});
      await post(out, 'update-user', { userId: victim.id });
      await out.post('/admin/create-user', { body: 'not json', contentType: 'application/json' });
      const still = await u.b.get('/get-session');
      s.expect('the victim was not touched', still.json?.user?.id === u.id, still.json);
      const v = await victim.b.get('/get-session');
      s.record('victim after the refusals', { name: v.json?.user?.name, role: v.json?.user?.role, banned: v.json?.user?.banned });
    });

    scenario('the real client: adminClient listUsers, banUser, impersonateUser, stopImpersonating', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'client');
      const client = createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: a.b.fetchImpl() }, plugins: [adminClient()] });
      const l = await client.admin.listUsers({ query: { searchValue: s.tag, sortBy: 'email' } });
      s.record('admin.listUsers', { error: l.error, total: l.data?.total, emails: l.data?.users?.map((x) => x.email) });
      await s.clientCall('admin.setRole', client.admin.setRole({ userId: u.id, role: 'support' }));
      await s.clientCall('admin.banUser', client.admin.banUser({ userId: u.id, banReason: 'client' }));
      await s.clientCall('admin.unbanUser', client.admin.unbanUser({ userId: u.id }));
      await s.clientCall('admin.impersonateUser', client.admin.impersonateUser({ userId: u.id }));
      await s.clientCall('getSession while impersonating', client.getSession());
      await s.clientCall('admin.stopImpersonating', client.admin.stopImpersonating());
      await s.clientCall('admin.hasPermission', client.admin.hasPermission({ permissions: { user: ['ban'] } }));
      await s.clientCall('admin.listUserSessions', client.admin.listUserSessions({ userId: u.id }));
      await s.clientCall('admin.removeUser', client.admin.removeUser({ userId: u.id }));
      const plain = createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: s.browser().fetchImpl() }, plugins: [adminClient()] });
      await s.clientCall('admin.listUsers signed out', plain.admin.listUsers({ query: {} }));
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'admin' } },
);

compatSuite(
  'plugin admin with options, beside last-login-method',
  (scenario) => {
    scenario('defaultRole, defaultBanReason, defaultBanExpiresIn, bannedUserMessage, impersonationSessionDuration', async (s) => {
      const a = await admin(s);
      const u = await user(s, 'opt');
      const g = await u.b.get('/get-session');
      s.expect('new users get ADMIN_DEFAULT_ROLE', g.json?.user?.role === 'member', g.json);
      const ban = await post(a.b, 'ban-user', { userId: u.id });
      s.expect('the default reason and end', ban.json?.user?.banReason === 'Rules broken' && typeof ban.json?.user?.banExpires === 'string', ban.json);
      s.record('the ban lasts (seconds, rounded to minutes)', Math.round((Date.parse(ban.json?.user?.banExpires) - Date.parse(ban.json?.user?.updatedAt)) / 60000) * 60);
      const inn = await s.signIn(s.browser(), { email: u.email });
      s.expect('BANNED_USER with the configured message', err(inn, 403, 'BANNED_USER') && inn.json?.message === 'Go away', inn.json);
      await post(a.b, 'unban-user', { userId: u.id });
      const imp = await post(a.b, 'impersonate-user', { userId: u.id });
      s.record('the impersonation session lives (seconds, rounded to minutes)', Math.round((Date.parse(imp.json?.session?.expiresAt) - Date.parse(imp.json?.session?.createdAt)) / 60000) * 60);
      s.record('no last-login-method cookie on impersonation', lastCookieLine(imp, 'better-auth.last_used_login_method') ?? null);
      const stop = await post(a.b, 'stop-impersonating');
      s.record('nor on stop-impersonating', lastCookieLine(stop, 'better-auth.last_used_login_method') ?? null);
      const c = await post(a.b, 'create-user', { email: s.email('created'), password: PASSWORD, name: 'Created' });
      s.expect('create-user without a role: the default role', c.json?.user?.role === 'member', c.json);
      // (the ban ended the user's sessions)
      const mb = s.browser();
      await s.signIn(mb, { email: u.email });
      const member = await post(mb, 'has-permission', { permissions: { user: ['list'] } });
      s.expect('a member (a role without statements) may not list', member.status === 200 && member.json?.success === false, member.json);
      const list = await mb.get('/admin/list-users');
      s.record('a member listing users', { status: list.status, code: list.json?.code ?? null });
    });
  },
  {
    env: {
      BETTER_AUTH_PLUGINS: 'admin,last-login-method',
      ADMIN_DEFAULT_ROLE: 'member',
      ADMIN_DEFAULT_BAN_REASON: 'Rules broken',
      ADMIN_DEFAULT_BAN_EXPIRES_IN: '7200',
      ADMIN_BANNED_USER_MESSAGE: 'Go away',
      ADMIN_IMPERSONATION_SESSION_DURATION: '600',
    },
  },
);
