// The one-time-token plugin on both servers: generate (session needed, GET only, the stored row),
// verify (the same session handed over with its cookie, single use, expiry of the token, a
// vanished session), errors that carry only a message, and the option that keeps the cookie off.
import { compatSuite, cookieValue, SESSION_COOKIE } from '../lib/harness.mjs';

const PLUGINS = { BETTER_AUTH_PLUGINS: 'one-time-token' };
// A token is 32 characters of [A-Za-z0-9_-]: whether one holds - or _ is chance, so generate's body
// is compared by presence and its form checked by an expectation.
const GEN = { compare: { body: 'presence' } };

compatSuite(
  'plugin one-time-token',
  (scenario) => {
    scenario('generate and verify: the same session, single use, its row', async (s) => {
      const b = s.browser();
      const up = await s.signUp(b, { email: s.email('ott') });
      const g = await b.get('/one-time-token/generate', GEN);
      s.expect('200 {token} of 32 characters', g.status === 200 && /^[A-Za-z0-9_-]{32}$/.test(g.json?.token ?? ''), g.json);
      const rows = await s.sql(`select "identifier", "value", extract(epoch from ("expiresAt" - "createdAt"))::int as life from "verification" where "identifier" like 'one-time-token:%'`);
      s.record('row: one-time-token:<token>, the session token, 180 s', rows.map((r) => ({ identifier: r.identifier === `one-time-token:${g.json.token}`, value: r.value === up.json.token, life: r.life })));
      const other = s.browser();
      const v = await other.post('/one-time-token/verify', { json: { token: g.json.token } });
      s.expect('200 {session,user} of the same session', v.status === 200 && v.json?.session?.token === up.json.token && v.json?.user?.id === up.json.user.id, v.json);
      s.record('answer keys', { top: Object.keys(v.json ?? {}), session: Object.keys(v.json?.session ?? {}).sort(), user: Object.keys(v.json?.user ?? {}).sort() });
      s.expect('the session cookie of that session', cookieValue(v, SESSION_COOKIE)?.startsWith(up.json.token), v.setCookies);
      const gs = await other.get('/get-session');
      s.expect('the other browser is signed in on it', gs.json?.session?.token === up.json.token, gs.json);
      const again = await s.browser().post('/one-time-token/verify', { json: { token: g.json.token } });
      s.expect('reuse: 400 {message:"Invalid token"} without a code', again.status === 400 && again.json?.message === 'Invalid token' && !('code' in (again.json ?? {})), again.json);
    });

    scenario('errors: no session, wrong method, bad body, expired token, vanished session', async (s) => {
      const b = s.browser();
      const none = await s.browser().get('/one-time-token/generate');
      s.expect('generate signed out: 401 UNAUTHORIZED', none.status === 401 && none.json?.code === 'UNAUTHORIZED', none.json);
      const up = await s.signUp(b, { email: s.email('err') });
      const post = await b.post('/one-time-token/generate');
      s.expect('generate by POST: 404', post.status === 404, post.text);
      const getVerify = await b.get('/one-time-token/verify?token=x');
      s.expect('verify by GET: 404', getVerify.status === 404, getVerify.text);
      const noBody = await b.post('/one-time-token/verify', { json: {} });
      s.expect('no token: 400 VALIDATION_ERROR', noBody.status === 400 && noBody.json?.code === 'VALIDATION_ERROR', noBody.json);
      const unknown = await b.post('/one-time-token/verify', { json: { token: 'nope' } });
      s.expect('unknown: 400 Invalid token', unknown.status === 400 && unknown.json?.message === 'Invalid token', unknown.json);
      const t1 = (await b.get('/one-time-token/generate', GEN)).json.token;
      await s.sql(`update "verification" set "expiresAt" = now() - interval '1 second' where "identifier" = $1`, [`one-time-token:${t1}`]);
      const exp = await s.browser().post('/one-time-token/verify', { json: { token: t1 } });
      s.expect('expired token: 400 Invalid token', exp.status === 400 && exp.json?.message === 'Invalid token' && exp.setCookies.length === 0, exp.json);
      const t2 = (await b.get('/one-time-token/generate', GEN)).json.token;
      const t3 = (await b.get('/one-time-token/generate', GEN)).json.token;
      await s.sql(`update "session" set "expiresAt" = now() - interval '1 second' where "token" = $1`, [up.json.token]);
      const sexp = await s.browser().post('/one-time-token/verify', { json: { token: t2 }, record: false });
      s.expect('expired session: 400 Session expired', sexp.status === 400 && sexp.json?.message === 'Session expired', sexp.json);
      s.deliberate('Better-Auth sets the cookie of the expired session it refuses; the Go server sets none', Boolean(cookieValue(sexp, SESSION_COOKIE)), sexp.setCookies.length === 0, sexp.setCookies);
      await s.sql('delete from "session" where "token" = $1', [up.json.token]);
      const gone = await s.browser().post('/one-time-token/verify', { json: { token: t3 } });
      s.expect('session gone: 400 Session not found', gone.status === 400 && gone.json?.message === 'Session not found', gone.json);
    });
  },
  { env: PLUGINS },
);

compatSuite(
  'plugin one-time-token: no cookie, hashed tokens, ten minutes',
  (scenario) => {
    scenario('verify answers the session without a cookie; the row holds the hash', async (s) => {
      const b = s.browser();
      const up = await s.signUp(b, { email: s.email('nc') });
      const g = await b.get('/one-time-token/generate', GEN);
      const rows = await s.sql(`select "identifier", extract(epoch from ("expiresAt" - "createdAt"))::int as life from "verification" where "value" = $1`, [up.json.token]);
      s.record('the row: hashed, 600 s', rows.map((r) => ({ hashed: /^one-time-token:[A-Za-z0-9_-]{43}$/.test(r.identifier) && !r.identifier.includes(g.json.token), life: r.life })));
      const v = await s.browser().post('/one-time-token/verify', { json: { token: g.json.token } });
      s.expect('200, the session, no cookie', v.status === 200 && v.json?.session?.token === up.json.token && v.setCookies.length === 0, { json: v.json, cookies: v.setCookies });
    });
  },
  { env: { ...PLUGINS, OTT_DISABLE_SET_SESSION_COOKIE: 'true', OTT_STORE_TOKEN: 'hashed', OTT_EXPIRES_IN: '10' } },
);

compatSuite(
  'plugin one-time-token: set-ott on new sessions, client requests disabled',
  (scenario) => {
    scenario('set-ott on sign-up, sign-in and a handed-over session; generate refused', async (s) => {
      const ottOf = (r) => ({
        form: /^[A-Za-z0-9_-]{32}$/.test(r.header('set-ott') ?? ''),
        exposed: (r.header('access-control-expose-headers') ?? '').split(',').map((x) => x.trim()).join(', '),
      });
      const b = s.browser();
      const email = s.email('hdr');
      const up = await s.signUp(b, { email });
      s.record('sign-up: set-ott', ottOf(up));
      const g = await b.get('/one-time-token/generate');
      s.expect('generate: 400 {message:"Client requests are disabled"}', g.status === 400 && JSON.stringify(g.json) === '{"message":"Client requests are disabled"}', g.json);
      const anon = await s.browser().get('/one-time-token/generate');
      s.expect('generate signed out: 401 first', anon.status === 401, anon.json);
      const c = s.browser();
      const inn = await s.signIn(c, { email });
      s.record('sign-in: set-ott', ottOf(inn));
      const plain = await c.get('/get-session');
      s.record('get-session (no refresh): no set-ott', plain.header('set-ott') ?? null);
      const bad = await s.browser().post('/sign-in/email', { json: { email, password: 'wrong-password' } });
      s.record('a refused sign-in: no set-ott', { status: bad.status, ott: bad.header('set-ott') ?? null });
      const d = s.browser();
      const v = await d.post('/one-time-token/verify', { json: { token: up.header('set-ott') } });
      s.expect('the sign-up\'s token hands its session over', v.status === 200 && v.json?.session?.token === up.json?.token, v.json);
      s.record('verify: set-ott', ottOf(v));
      const v2 = await s.browser().post('/one-time-token/verify', { json: { token: v.header('set-ott') } });
      s.expect('verify\'s own token works too', v2.status === 200 && v2.json?.session?.token === up.json?.token, v2.json);
      const rows = await s.sql(`select count(*)::int as n from "verification" where "identifier" like 'one-time-token:%'`);
      s.record('tokens left (sign-in\'s and the last verify\'s)', rows[0]);
    });
  },
  { env: { ...PLUGINS, OTT_DISABLE_CLIENT_REQUEST: 'true', OTT_SET_OTT_HEADER_ON_NEW_SESSION: 'true' } },
);
