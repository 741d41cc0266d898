// The multi-session plugin (BETTER_AUTH_PLUGINS=multi-session on both servers): the signed
// better-auth.session_token_multi-<token> cookie every sign-in sets, list-device-sessions,
// set-active, revoke (another session, the active one with and without a next one), the same
// person signing in again, the maximum of 5 cookies, sign-out ending every session of the browser,
// the refusals (unknown, another browser's, forged, vanished, signed out, bad bodies) and the real
// client's multiSessionClient(); and with two-factor and one-time-token, which sessions get a
// cookie: none for a challenged sign-in, one after verify-totp, one for the session a one-time
// token hands another browser, one for the session change-password rotates to. Cookie names carry the random token; the comparison shows them as
// _multi-<token>, so the expectations check which token each one names.
import { createAuthClient } from 'better-auth/client';
import { multiSessionClient } from 'better-auth/client/plugins';
import { compatSuite, cookieValue, SESSION_COOKIE } from '../lib/harness.mjs';
import { totpFromURI } from '../lib/totp.mjs';

const multi = (token) => `${SESSION_COOKIE}_multi-${token.toLowerCase()}`;
/** The Set-Cookie line of the named cookie, or undefined. */
const line = (res, name) => res?.setCookies.find((l) => l.startsWith(`${name}=`));
const expired = (res, name) => /^[^=]+=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/.test(line(res, name) ?? '');
const err = (res, status, code) => res.status === status && res.json?.code === code;

/** Signs b up as local; returns {token, id, email}. */
async function up(s, b, local) {
  const r = await s.signUp(b, { email: s.email(local), name: `${local} ${s.tag}` });
  if (r.status !== 200) throw new Error(`sign-up of ${local}: ${r.status} ${r.text}`);
  return { token: r.json.token, id: r.json.user.id, email: r.json.user.email, res: r };
}

/** The listed e-mail addresses, in the answer's order. */
const listed = (res) => (Array.isArray(res.json) ? res.json.map((x) => x.user?.email) : res.json);

compatSuite(
  'plugin multi-session',
  (scenario) => {
    scenario('two people in one browser: cookies, list, set-active, revoke', async (s) => {
      const b = s.browser();
      const a = await up(s, b, 'alice');
      s.expect('sign-up sets the signed multi cookie of the new session, 7 days, the session cookie attributes',
        (line(a.res, multi(a.token)) ?? '').endsWith('; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax') && cookieValue(a.res, multi(a.token))?.startsWith(a.token), a.res.setCookies);
      const c = await up(s, b, 'bob');
      s.expect('a second sign-up adds its own multi cookie and keeps the first', Boolean(line(c.res, multi(c.token))) && !line(c.res, multi(a.token)), c.res.setCookies);
      const list = await b.get('/multi-session/list-device-sessions');
      s.expect('list: both people, in cookie order', JSON.stringify(listed(list)) === JSON.stringify([a.email, c.email]), list.json);
      s.expect('list: each item is {session,user} with the session token', list.json?.[0]?.session?.token === a.token && list.json?.[1]?.session?.token === c.token, list.json);
      s.record('list item keys', { top: Object.keys(list.json?.[0] ?? {}).sort(), session: Object.keys(list.json?.[0]?.session ?? {}).sort(), user: Object.keys(list.json?.[0]?.user ?? {}).sort() });
      const set = await b.post('/multi-session/set-active', { json: { sessionToken: a.token } });
      s.expect('set-active: 200 {session,user} of alice and her session cookie', set.status === 200 && set.json?.session?.token === a.token && set.json?.user?.email === a.email && cookieValue(set, SESSION_COOKIE)?.startsWith(a.token), set.json);
      const gs = await b.get('/get-session');
      s.expect('get-session: alice', gs.json?.user?.email === a.email, gs.json);
      const rb = await b.post('/multi-session/revoke', { json: { sessionToken: c.token } });
      s.expect('revoke bob (not active): {status:true}, his cookie expired, the session cookie untouched', rb.status === 200 && rb.json?.status === true && expired(rb, multi(c.token)) && !line(rb, SESSION_COOKIE), rb.setCookies);
      const bobRows = await s.sql('select count(*)::int as n from "session" where "token" = $1', [c.token]);
      s.expect("bob's session is deleted", bobRows[0].n === 0, bobRows);
      const list2 = await b.get('/multi-session/list-device-sessions');
      s.expect('list: alice only', JSON.stringify(listed(list2)) === JSON.stringify([a.email]), list2.json);
      const ra = await b.post('/multi-session/revoke', { json: { sessionToken: a.token } });
      s.expect('revoke the active one with no other: the session cookie cleared', ra.status === 200 && expired(ra, SESSION_COOKIE) && expired(ra, multi(a.token)), ra.setCookies);
      const gs2 = await b.get('/get-session');
      s.expect('signed out', gs2.status === 200 && gs2.json === null, gs2.text);
      const empty = await b.get('/multi-session/list-device-sessions');
      s.expect('list: []', Array.isArray(empty.json) && empty.json.length === 0, empty.json);
      const none = await s.browser().get('/multi-session/list-device-sessions');
      s.expect('a browser without cookies lists []', Array.isArray(none.json) && none.json.length === 0, none.json);
    });

    scenario('revoking the active session switches to the next one', async (s) => {
      const b = s.browser();
      const a = await up(s, b, 'alice');
      const c = await up(s, b, 'bob');
      const r = await b.post('/multi-session/revoke', { json: { sessionToken: c.token } });
      s.expect('the session cookie is now alice\'s', r.status === 200 && cookieValue(r, SESSION_COOKIE)?.startsWith(a.token), r.setCookies);
      const gs = await b.get('/get-session');
      s.expect('get-session: alice', gs.json?.user?.email === a.email, gs.json);
    });

    scenario('the same person again replaces the older session; at most 5 cookies', async (s) => {
      const b = s.browser();
      const a = await up(s, b, 'alice');
      const again = await s.signIn(b, { email: a.email });
      s.expect('sign-in again: the older multi cookie expired, a new one set', again.status === 200 && expired(again, multi(a.token)) && Boolean(line(again, multi(again.json?.token ?? ''))), again.setCookies);
      const rows = await s.sql('select count(*)::int as n from "session" where "userId" = $1', [a.id]);
      s.expect('alice keeps one session', rows[0].n === 1, rows);
      const more = [];
      for (const who of ['p2', 'p3', 'p4', 'p5', 'p6']) more.push(await up(s, b, who));
      s.expect('the 5th person still gets a cookie', Boolean(line(more[3].res, multi(more[3].token))), more[3].res.setCookies);
      s.expect('the 6th gets none (5 held + the new session would exceed 5)', !line(more[4].res, multi(more[4].token)) && Boolean(line(more[4].res, SESSION_COOKIE)), more[4].res.setCookies);
      const list = await b.get('/multi-session/list-device-sessions');
      s.expect('list: five people, the 6th not among them', Array.isArray(list.json) && list.json.length === 5 && !listed(list).includes(more[4].email), list.json);
      const set = await b.post('/multi-session/set-active', { json: { sessionToken: more[4].token } });
      s.expect('the 6th cannot be switched to: 401 INVALID_SESSION_TOKEN', err(set, 401, 'INVALID_SESSION_TOKEN'), set.json);
    });

    scenario('sign-out ends every session of the browser', async (s) => {
      const b = s.browser();
      const a = await up(s, b, 'alice');
      const c = await up(s, b, 'bob');
      const out = await b.post('/sign-out', { json: {} });
      s.expect('sign-out: both multi cookies expired', out.status === 200 && expired(out, multi(a.token)) && expired(out, multi(c.token)), out.setCookies);
      const rows = await s.sql('select count(*)::int as n from "session" where "userId" = any($1)', [[a.id, c.id]]);
      s.expect('no session left', rows[0].n === 0, rows);
      const list = await b.get('/multi-session/list-device-sessions');
      s.expect('list: []', Array.isArray(list.json) && list.json.length === 0, list.json);
    });

    scenario('refusals: unknown, another browser\'s, forged, vanished, signed out, bad bodies', async (s) => {
      const b = s.browser();
      const a = await up(s, b, 'alice');
      const m = await up(s, s.browser(), 'mallory');
      for (const [label, tok] of [['unknown', 'nope'], ["another browser's", m.token]]) {
        const set = await b.post('/multi-session/set-active', { json: { sessionToken: tok } });
        s.expect(`set-active ${label}: 401 INVALID_SESSION_TOKEN`, err(set, 401, 'INVALID_SESSION_TOKEN') && set.json?.message === 'Invalid session token', set.json);
        const rv = await b.post('/multi-session/revoke', { json: { sessionToken: tok } });
        s.expect(`revoke ${label}: 401 INVALID_SESSION_TOKEN`, err(rv, 401, 'INVALID_SESSION_TOKEN'), rv.json);
      }
      const rows = await s.sql('select count(*)::int as n from "session" where "token" = $1', [m.token]);
      s.expect("mallory's session survives", rows[0].n === 1, rows);
      const forged = await s.browser().post('/multi-session/set-active', { json: { sessionToken: m.token }, cookies: `${multi(m.token)}=${m.token}.${'A'.repeat(43)}=` });
      s.expect('a forged multi cookie: 401 INVALID_SESSION_TOKEN', err(forged, 401, 'INVALID_SESSION_TOKEN'), forged.json);
      const noBody = await b.post('/multi-session/set-active', { json: {} });
      s.expect('set-active without sessionToken: 400 VALIDATION_ERROR', err(noBody, 400, 'VALIDATION_ERROR'), noBody.json);
      s.record('set-active without sessionToken: message', noBody.json?.message);
      const num = await b.post('/multi-session/revoke', { json: { sessionToken: 5 } });
      s.expect('revoke with a number: 400 VALIDATION_ERROR', err(num, 400, 'VALIDATION_ERROR'), num.json);
      const signedOut = await s.browser().post('/multi-session/revoke', { json: { sessionToken: a.token } });
      s.expect('revoke signed out: 401 UNAUTHORIZED', err(signedOut, 401, 'UNAUTHORIZED'), signedOut.json);
      const get = await b.get('/multi-session/set-active');
      s.expect('set-active by GET: 404', get.status === 404, get.text);
      await s.sql('delete from "session" where "token" = $1', [a.token]);
      const gone = await b.post('/multi-session/set-active', { json: { sessionToken: a.token } });
      s.expect('set-active of a vanished session: 401, its multi cookie expired', err(gone, 401, 'INVALID_SESSION_TOKEN') && expired(gone, multi(a.token)), gone.setCookies);
      const list = await b.get('/multi-session/list-device-sessions');
      s.expect('list: []', Array.isArray(list.json) && list.json.length === 0, list.json);
    });

    scenario('a refreshed session the browser holds no multi cookie for gets one', async (s) => {
      const b = s.browser();
      const people = [];
      for (const who of ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']) people.push(await up(s, b, who));
      const sixth = people[5];
      s.expect('the 6th has no multi cookie', !line(sixth.res, multi(sixth.token)), sixth.res.setCookies);
      const rv = await b.post('/multi-session/revoke', { json: { sessionToken: people[0].token } });
      s.expect('revoke p1: 200', rv.status === 200, rv.json);
      const plain = await b.get('/get-session');
      s.expect('get-session without a refresh sets no multi cookie', !plain.setCookies.some((l) => l.includes('_multi-')), plain.setCookies);
      // Due for a refresh; milliseconds as Better-Auth writes them (the Go server's conditional
      // refresh compares the stored expiry, which it reads truncated to milliseconds).
      await s.sql(`update "session" set "expiresAt" = date_trunc('milliseconds', now() + interval '5 days') where "token" = $1`, [sixth.token]);
      const g = await b.get('/get-session');
      s.expect('the refresh re-issues the session cookie and adds the multi cookie (4 held + 1)', Boolean(cookieValue(g, SESSION_COOKIE)) && Boolean(line(g, multi(sixth.token))), g.setCookies);
      const list = await b.get('/multi-session/list-device-sessions');
      s.expect('list: p2…p6', JSON.stringify(listed(list)) === JSON.stringify(people.slice(1).map((p) => p.email)), listed(list));
      await s.sql(`update "session" set "expiresAt" = date_trunc('milliseconds', now() + interval '5 days') where "token" = $1`, [sixth.token]);
      const again = await b.get('/list-sessions');
      s.expect('a refresh by another endpoint of a held session adds nothing', !again.setCookies.some((l) => l.includes('_multi-')), again.setCookies);
    });

    scenario("the real client's multiSessionClient()", async (s) => {
      const b = s.browser();
      const a = await up(s, b, 'alice');
      const c = await up(s, b, 'bob');
      const client = createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: b.fetchImpl() }, plugins: [multiSessionClient()] });
      const list = await s.clientCall('listDeviceSessions', client.multiSession.listDeviceSessions());
      s.expect('listDeviceSessions: both', list.data?.length === 2 && list.data[0]?.user?.email === a.email, list.data);
      const set = await s.clientCall('setActive alice', client.multiSession.setActive({ sessionToken: a.token }));
      s.expect('setActive: alice', set.data?.user?.email === a.email, set);
      const session = await s.clientCall('getSession', client.getSession());
      s.expect('getSession: alice', session.data?.user?.email === a.email, session.data);
      const bad = await s.clientCall('setActive unknown', client.multiSession.setActive({ sessionToken: 'nope' }));
      s.expect('setActive unknown: error 401 INVALID_SESSION_TOKEN', bad.error?.status === 401 && bad.error?.code === 'INVALID_SESSION_TOKEN', bad.error);
      const rv = await s.clientCall('revoke bob', client.multiSession.revoke({ sessionToken: c.token }));
      s.expect('revoke: {status:true}', rv.data?.status === true, rv);
      const list2 = await s.clientCall('listDeviceSessions after revoke', client.multiSession.listDeviceSessions());
      s.expect('listDeviceSessions: alice only', list2.data?.length === 1 && list2.data[0]?.user?.email === a.email, list2.data);
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'multi-session' } },
);

/** Which multi cookies an answer sets or expires, named by whose token they carry. */
function multiCookies(res, tokens) {
  const out = [];
  for (const l of res?.setCookies ?? []) {
    const m = /^better-auth\.session_token_multi-([^=]+)=([^;]*)/.exec(l);
    if (!m) continue;
    const who = Object.entries(tokens).find(([, t]) => t && t.toLowerCase() === m[1])?.[0] ?? 'other';
    out.push(`${who}:${m[2] === '' ? 'expired' : 'set'}`);
  }
  return out.sort();
}

compatSuite(
  'plugin multi-session with two-factor and one-time-token',
  (scenario) => {
    scenario('a challenged sign-in gets no multi cookie, verify-totp does', async (s) => {
      const b = s.browser();
      const a = await up(s, b, 'alice');
      const en = await b.post('/two-factor/enable', { json: { password: 'password1234' } });
      const v = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
      const rotated = (await b.get('/get-session')).json?.session?.token;
      const got = multiCookies(v, { old: a.token, rotated });
      s.expect('enabling verify-totp rotates the session: a cookie for the new one', JSON.stringify(got) === '["rotated:set"]', got);
      const c = s.browser();
      const ch = await s.signIn(c, { email: a.email });
      s.expect('the challenge answer sets no multi cookie', ch.json?.twoFactorRedirect === true && !ch.setCookies.some((l) => l.includes('_multi-')), ch.setCookies);
      const ok = await c.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
      s.expect('verify-totp sets the multi cookie of the new session', ok.status === 200 && Boolean(line(ok, multi(ok.json?.token ?? ''))), ok.setCookies);
      const list = await c.get('/multi-session/list-device-sessions');
      s.expect('list: alice', JSON.stringify(listed(list)) === JSON.stringify([a.email]), list.json);
    });

    scenario('a one-time token hands another browser the session and its multi cookie', async (s) => {
      const b = s.browser();
      const a = await up(s, b, 'alice');
      const g = await b.get('/one-time-token/generate', { compare: { body: 'presence' } });
      const other = s.browser();
      const v = await other.post('/one-time-token/verify', { json: { token: g.json.token } });
      const got = multiCookies(v, { alice: a.token });
      s.expect("verify sets the multi cookie of alice's session", JSON.stringify(got) === '["alice:set"]', got);
      const list = await other.get('/multi-session/list-device-sessions');
      s.expect('the other browser lists alice', JSON.stringify(listed(list)) === JSON.stringify([a.email]), list.json);
    });

    scenario('change-password with revokeOtherSessions: the new session gets a cookie', async (s) => {
      const b = s.browser();
      const a = await up(s, b, 'alice');
      const c = await up(s, b, 'bob');
      await b.post('/multi-session/set-active', { json: { sessionToken: a.token } });
      const r = await b.post('/change-password', { json: { currentPassword: 'password1234', newPassword: 'password5678', revokeOtherSessions: true } });
      s.expect('change-password: 200 with a new token', r.status === 200 && typeof r.json?.token === 'string' && r.json.token !== a.token, r.json);
      const got = multiCookies(r, { old: a.token, bob: c.token, fresh: r.json?.token });
      s.expect('a cookie for the new session; the old one (already deleted) is left alone', JSON.stringify(got) === '["fresh:set"]', got);
      const list = await b.get('/multi-session/list-device-sessions');
      s.expect('list: alice (new session) and bob', JSON.stringify(listed(list)) === JSON.stringify([c.email, a.email]) && list.json?.[1]?.session?.token === r.json?.token, listed(list));
    });
  },
  // Both servers get one appName (the totpURI's issuer).
  { env: { BETTER_AUTH_PLUGINS: 'two-factor,multi-session,one-time-token' }, options: { appName: 'Compat App' } },
);

compatSuite(
  'plugin multi-session listed before two-factor',
  (scenario) => {
    scenario('the challenged sign-in: Better-Auth sets a multi cookie for the session it deletes', async (s) => {
      const b = s.browser();
      const a = await up(s, b, 'alice');
      const en = await b.post('/two-factor/enable', { json: { password: 'password1234' }, record: false });
      await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
      const c = s.browser();
      const ch = await s.signIn(c, { email: a.email }, { record: false });
      s.expect('the challenge', ch.json?.twoFactorRedirect === true, ch.json);
      const multiSet = ch.setCookies.some((l) => /_multi-[^=]+=[^;]/.test(l));
      s.deliberate('Better-Auth runs the plugins\' after-hooks in list order, so multi-session cookies the sign-in session before two-factor deletes it; the Go server creates no session for a challenge and sets no multi cookie', multiSet, !multiSet, ch.setCookies);
      const list = await c.get('/multi-session/list-device-sessions');
      s.expect('either way the browser lists nothing', Array.isArray(list.json) && list.json.length === 0, list.json);
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'multi-session,two-factor' }, options: { appName: 'Compat App' } },
);
