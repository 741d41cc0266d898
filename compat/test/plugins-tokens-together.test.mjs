// The token plugins all at once: BETTER_AUTH_PLUGINS=jwt,api-key,multi-session,device-authorization,
// one-time-token,last-login-method (API_KEY_ENABLE_SESSION=true) on both servers, started once. Each
// plugin's endpoints get a compact happy path and a refusal (the per-plugin files go deep), and the
// crossings that only show when the plugins run together are compared: one sign-in setting the
// session, multi and last-login cookies with set-auth-jwt on get-session; a session handed over by a
// one-time token carrying a JWT; a device access token as Bearer on /token; an x-api-key session on
// /token and get-session; set-active switching whose JWT /token mints; sign-out clearing the multi
// cookies. Then both servers on ONE database: a JWT either mints verifies against the other's JWKS.
//
// JWTs are checked the way another backend checks them, with jose against the server's JWKS.
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { createAuthClient } from 'better-auth/client';
import { jwtClient, multiSessionClient, deviceAuthorizationClient, oneTimeTokenClient, lastLoginMethodClient } from 'better-auth/client/plugins';
import { apiKeyClient } from '@better-auth/api-key/client';
import { compatSuite, cookieValue, SESSION_COOKIE, BASE_URL, APP_ORIGIN, CANDIDATE_NAME } from '../lib/harness.mjs';
import { Browser } from '../lib/http.mjs';
import { describeRecord } from '../lib/compare.mjs';
import { createDatabase, startReference, startCandidate } from '../lib/servers.mjs';

const PLUGINS = 'jwt,api-key,multi-session,device-authorization,one-time-token,last-login-method';
// A 1 s polling interval keeps the device flow short; everything else is the plugins' defaults.
const ENV = { BETTER_AUTH_PLUGINS: PLUGINS, API_KEY_ENABLE_SESSION: 'true', DEVICE_AUTHORIZATION_INTERVAL: '1s' };
const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const LAST = 'better-auth.last_used_login_method';
const PRESENCE = { compare: { body: 'presence' } };
// Random values beyond the harness's own (ids, tokens): the api key, its start and owner, the
// device codes and the access token, a JWK's key id and public key.
const RANDOM_KEYS = ['key', 'start', 'referenceId', 'device_code', 'user_code', 'verification_uri_complete', 'access_token', 'expires_in', 'tryAgainIn', 'kid', 'x'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const err = (res, status, code) => res.status === status && res.json?.code === code;
const multi = (token) => `${SESSION_COOKIE}_multi-${String(token).toLowerCase()}`;
const line = (res, name) => res?.setCookies.find((l) => l.startsWith(`${name}=`));
const expired = (res, name) => /^[^=]+=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/.test(line(res, name) ?? '');

/**
 * A recorded browser whose answers compare the random fields by form and whose step labels
 * (client calls put ids and codes in the query) name no random value.
 */
function browser(s, opts) {
  const b = s.browser(opts);
  b.onResponse = (res, ro = {}) => {
    res.compareOpts = { randomKeys: RANDOM_KEYS, ...(res.compareOpts ?? {}) };
    // A one-time token holds - or _ by chance: its body is compared by presence (form checked below).
    if (res.label.includes('/one-time-token/generate') && res.status === 200) res.compareOpts.body = 'presence';
    res.label = res.label.replace(/([?&](?:id|user_code)=)[^&]*/g, '$1<random>');
    if (ro.record !== false) s.steps.push(res);
  };
  return b;
}

/** A real client on b with every plugin's client side. */
function client(s, b, fetchOptions = {}) {
  return createAuthClient({
    baseURL: s.server.url,
    fetchOptions: { customFetchImpl: b.fetchImpl(), ...fetchOptions },
    plugins: [jwtClient(), multiSessionClient(), deviceAuthorizationClient(), oneTimeTokenClient(), lastLoginMethodClient(), apiKeyClient()],
  });
}

/** Signs a new person up in b; returns {token, id, email, res}. */
async function up(s, b, local) {
  const r = await s.signUp(b, { email: s.email(local), name: `${local} ${s.tag}` });
  if (r.status !== 200) throw new Error(`sign-up of ${local}: ${r.status} ${r.text}`);
  return { token: r.json.token, id: r.json.user.id, email: r.json.user.email, res: r };
}

/** This side's JWKS document (fetched unrecorded: its key material is random). */
async function jwksOf(s) {
  const r = await browser(s).get('/jwks', { record: false });
  return r.json;
}

/**
 * What another backend learns from a JWT: whether it verifies against the JWKS (iss and aud the
 * base URL), its alg, claim names, whose it is and its life. Compared across the servers.
 */
async function jwtFacts(jwks, token, user) {
  if (typeof token !== 'string') return { verifies: false, why: `no token (${typeof token})` };
  try {
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: BASE_URL, audience: BASE_URL });
    return {
      verifies: true,
      alg: protectedHeader.alg,
      headerKeys: Object.keys(protectedHeader).sort(),
      claimKeys: Object.keys(payload).sort(),
      sub: payload.sub === user?.id ? 'the user' : payload.sub,
      email: payload.email === user?.email ? 'the user' : payload.email,
      life: payload.exp - payload.iat,
    };
  } catch (e) {
    return { verifies: false, why: e.code ?? e.message };
  }
}

/**
 * Records what another backend learns from token (compared across the servers) and expects it to
 * verify as user's, so that both servers failing alike cannot pass.
 */
async function jwtStep(s, label, jwks, token, user) {
  const f = s.record(label, await jwtFacts(jwks, token, user));
  s.expect(`${label}: verifies, for the user`, f.verifies && f.sub === 'the user' && f.email === 'the user', f);
  return f;
}

/** The names in Access-Control-Expose-Headers, sorted. */
const exposed = (res) => (res.header('access-control-expose-headers') ?? '').split(',').map((x) => x.trim()).filter(Boolean).sort();

/**
 * Reads the last-login cookie the way a browser app does, with lastLoginMethodClient: the client
 * reads document.cookie, so a document holding b's script-visible cookies stands in for one while
 * the (synchronous) calls run.
 */
function lastLoginFromClient(s, b) {
  const c = client(s, b);
  const saved = globalThis.document;
  globalThis.document = { cookie: b.jar.header() ?? '' };
  try {
    return { last: c.getLastUsedLoginMethod(), isEmail: c.isLastUsedLoginMethod('email') };
  } finally {
    if (saved === undefined) delete globalThis.document;
    else globalThis.document = saved;
  }
}

compatSuite(
  'the token plugins together',
  (scenario) => {
    scenario('one sign-in: session, multi and last-login cookies; set-auth-jwt on get-session; /token and /jwks', async (s) => {
      const anon = browser(s);
      const none = await anon.get('/token');
      s.expect('/token signed out: 401 UNAUTHORIZED', err(none, 401, 'UNAUTHORIZED'), none.json);
      const nothing = await anon.get('/get-session');
      s.expect('signed-out get-session: null, no set-auth-jwt', nothing.text === 'null' && nothing.header('set-auth-jwt') === undefined, nothing.text);

      const b = browser(s);
      const a = await up(s, b, 'ada');
      s.expect('sign-up sets the session cookie, its multi cookie and the last-login cookie',
        Boolean(cookieValue(a.res, SESSION_COOKIE)) && Boolean(line(a.res, multi(a.token))) && line(a.res, LAST) === `${LAST}=email; Max-Age=2592000; Path=/; SameSite=Lax`, a.res.setCookies);
      const c = browser(s);
      const inn = await s.signIn(c, { email: a.email });
      s.expect('sign-in in another browser: the same three cookies', inn.status === 200 && Boolean(cookieValue(inn, SESSION_COOKIE)) && Boolean(line(inn, multi(inn.json?.token))) && Boolean(line(inn, LAST)), inn.setCookies);
      s.record('lastLoginMethodClient', lastLoginFromClient(s, c));

      const jwks = await browser(s).get('/jwks', PRESENCE);
      s.record('jwks: one key, its members', (jwks.json?.keys ?? []).map((k) => ({ members: Object.keys(k), alg: k.alg, crv: k.crv })));
      const g = await c.get('/get-session');
      await jwtStep(s, 'set-auth-jwt on get-session', jwks.json, g.header('set-auth-jwt'), g.json?.user);
      s.record('get-session exposes', exposed(g));
      const t = await c.get('/token');
      await jwtStep(s, '/token', jwks.json, t.json?.token, g.json?.user);
      s.expect('both JWTs are signed with the one published key', decodeProtectedHeader(t.json.token).kid === jwks.json?.keys?.[0]?.kid, t.json);

      const cl = client(s, c);
      const viaClient = await cl.jwks();
      s.record('jwtClient jwks()', { error: viaClient.error, sameKeys: JSON.stringify(viaClient.data) === JSON.stringify(jwks.json) });
      const tokViaClient = await cl.token();
      s.record('client token()', { error: tokViaClient.error, jwt: await jwtFacts(jwks.json, tokViaClient.data?.token, g.json?.user) });
      const post = await c.post('/token');
      s.expect('POST /token: 404', post.status === 404, post.status);
    });

    scenario('api keys: create, get, list, update, delete; x-api-key on get-session and /token', async (s) => {
      const b = browser(s);
      const a = await up(s, b, 'keys');
      const cl = client(s, b);
      const created = await cl.apiKey.create({ name: 'svc' });
      s.expect('apiKeyClient create: a 64-letter key owned by the caller', /^[A-Za-z]{64}$/.test(created.data?.key ?? '') && created.data?.referenceId === a.id, created);
      const key = created.data?.key;
      const id = created.data?.id;
      await b.get(`/api-key/get?id=${id}`);
      await b.get('/api-key/list');
      await b.post('/api-key/update', { json: { keyId: id, name: 'renamed' } });
      const refused = await b.post('/api-key/create', { json: { remaining: 5 } });
      s.expect('server-only field from a client: 400 SERVER_ONLY_PROPERTY', err(refused, 400, 'SERVER_ONLY_PROPERTY'), refused.json);
      const verify = await b.post('/api-key/verify', { json: { key } });
      s.expect('verify is server-only: 404', verify.status === 404, verify.status);

      const jwks = await jwksOf(s);
      const bot = browser(s);
      const g = await bot.get('/get-session', { headers: { 'x-api-key': key } });
      s.expect('x-api-key get-session: the key owner, the key as the session', g.status === 200 && g.json?.user?.id === a.id && g.json?.session?.id === id, g.json);
      s.record('x-api-key get-session: set-auth-jwt', g.header('set-auth-jwt') === undefined ? 'absent' : await jwtFacts(jwks, g.header('set-auth-jwt'), g.json?.user));
      s.record('x-api-key get-session: exposes', exposed(g));
      const t = await bot.get('/token', { headers: { 'x-api-key': key } });
      await jwtStep(s, 'x-api-key /token: a JWT of the key owner', jwks, t.json?.token, g.json?.user);
      const lds = await bot.get('/multi-session/list-device-sessions', { headers: { 'x-api-key': key } });
      s.expect('x-api-key list-device-sessions: 200', lds.status === 200, lds.json);
      // A one-time token for the key's session: its token is the key, which names no session row.
      const ott = await bot.get('/one-time-token/generate', { headers: { 'x-api-key': key } });
      s.expect('generate with x-api-key: 200', ott.status === 200, ott.json);
      await browser(s).post('/one-time-token/verify', { json: { token: ott.json?.token } });
      await bot.get('/token', { headers: { 'x-api-key': 'Z'.repeat(64) } });
      await bot.get('/token', { headers: { 'x-api-key': 'short' } });

      const other = browser(s);
      await up(s, other, 'other');
      await other.post('/api-key/delete', { json: { keyId: id } });
      await s.clientCall('apiKey.delete', cl.apiKey.delete({ keyId: id }));
      await s.clientCall('apiKey.get after delete', cl.apiKey.get({ query: { id } }));
      await bot.get('/token', { headers: { 'x-api-key': key } });
    });

    // Better-Auth's device pages (GET /device, approve, deny) and its sensitive endpoints read the
    // session authoritatively (getAuthoritativeSessionFromCtx, sensitiveSessionMiddleware): they
    // drop the session api-key's before-hook set and read cookies and bearer only, so an x-api-key
    // alone is no session there (the Go server's Endpoint.Authoritative). (update-user is
    // not among them: Better-Auth accepts the key there, and its answer also sets a multi-session
    // cookie named after the API key, which the Go server does not.)
    scenario('an x-api-key alone is no session on the device pages and the sensitive endpoints', async (s) => {
      const b = browser(s);
      await up(s, b, 'authkey');
      const key = (await b.post('/api-key/create', { json: { name: 'k' } })).json?.key;
      const bot = browser(s);
      const hk = { 'x-api-key': key };
      const dc = await browser(s).post('/device/code', { json: { client_id: 'cli' } });
      await bot.get('/device', { query: { user_code: dc.json?.user_code }, headers: hk });
      await bot.post('/device/approve', { json: { userCode: dc.json?.user_code }, headers: hk });
      await bot.post('/device/deny', { json: { userCode: dc.json?.user_code }, headers: hk });
      await bot.post('/revoke-sessions', { json: {}, headers: hk });
      await bot.post('/revoke-other-sessions', { json: {}, headers: hk });
      await bot.post('/revoke-session', { json: { token: 'x' }, headers: hk });
      await bot.post('/verify-password', { json: { password: 'password1234' }, headers: hk });
      await bot.post('/change-password', { json: { currentPassword: 'password1234', newPassword: 'another-password-1' }, headers: hk });
      await bot.post('/change-email', { json: { newEmail: 'moved@example.com' }, headers: hk });
      await bot.post('/delete-user', { json: { password: 'password1234' }, headers: hk });
      // Endpoints that take the hook's session keep accepting the key.
      await bot.get('/list-sessions', { headers: hk });
      // A cookie beside the key is the session the device pages use.
      await b.get('/device', { query: { user_code: dc.json?.user_code }, headers: hk });
      await b.post('/device/approve', { json: { userCode: dc.json?.user_code }, headers: hk });
    });

    scenario('multi-session: set-active decides whose JWT /token mints; revoke; sign-out clears the multi cookies', async (s) => {
      const b = browser(s);
      const a = await up(s, b, 'alice');
      const c = await up(s, b, 'bob');
      const jwks = await jwksOf(s);
      const cl = client(s, b);
      const list = await s.clientCall('listDeviceSessions', cl.multiSession.listDeviceSessions());
      s.expect('both people listed, in cookie order', list.data?.map((x) => x.user.email).join() === [a.email, c.email].join(), list.data);
      const t1 = await b.get('/token');
      await jwtStep(s, '/token before set-active: bob (the last sign-up)', jwks, t1.json?.token, { id: c.id, email: c.email });
      const set = await s.clientCall('setActive alice', cl.multiSession.setActive({ sessionToken: a.token }));
      s.expect('setActive: alice', set.data?.user?.email === a.email, set.data);
      const t2 = await b.get('/token');
      await jwtStep(s, '/token after set-active: alice', jwks, t2.json?.token, { id: a.id, email: a.email });
      const g = await b.get('/get-session');
      await jwtStep(s, 'set-auth-jwt after set-active: alice', jwks, g.header('set-auth-jwt'), { id: a.id, email: a.email });
      const bad = await b.post('/multi-session/set-active', { json: { sessionToken: 'nope' } });
      s.expect('set-active unknown: 401 INVALID_SESSION_TOKEN', err(bad, 401, 'INVALID_SESSION_TOKEN'), bad.json);
      const badRevoke = await b.post('/multi-session/revoke', { json: { sessionToken: 'nope' } });
      s.expect('revoke unknown: 401 INVALID_SESSION_TOKEN', err(badRevoke, 401, 'INVALID_SESSION_TOKEN'), badRevoke.json);
      const d = await up(s, b, 'cy');
      const rv = await s.clientCall('revoke cy', cl.multiSession.revoke({ sessionToken: d.token }));
      s.expect('revoke cy: {status:true}', rv.data?.status === true, rv);
      const out = await b.post('/sign-out', { json: {} });
      s.expect('sign-out: both multi cookies expired, the session cookie cleared, the last-login cookie kept',
        out.status === 200 && expired(out, multi(a.token)) && expired(out, multi(c.token)) && expired(out, SESSION_COOKIE) && !line(out, LAST), out.setCookies);
      const rows = await s.sql('select count(*)::int as n from "session" where "userId" = any($1)', [[a.id, c.id]]);
      s.expect('no session left', rows[0].n === 0, rows);
      const after = await b.get('/token');
      s.expect('/token after sign-out: 401', err(after, 401, 'UNAUTHORIZED'), after.json);
      await b.get('/multi-session/list-device-sessions');
    });

    scenario('one-time token: the handed-over session gets its cookies and a JWT', async (s) => {
      const b = browser(s);
      const a = await up(s, b, 'ott');
      const cl = client(s, b);
      const gen = await cl.oneTimeToken.generate();
      s.expect('oneTimeTokenClient generate: a 32-character token', /^[A-Za-z0-9_-]{32}$/.test(gen.data?.token ?? ''), gen);
      const other = browser(s);
      const v = await s.clientCall('oneTimeToken.verify', client(s, other).oneTimeToken.verify({ token: gen.data?.token }));
      s.expect('verify: the same session', v.data?.session?.token === a.token, v.data);
      const verifyRes = s.steps.filter((x) => x.label?.startsWith('client POST /api/auth/one-time-token/verify')).at(-1);
      s.record('verify sets', { session: Boolean(cookieValue(verifyRes, SESSION_COOKIE)), multi: Boolean(line(verifyRes, multi(a.token))), lastLogin: line(verifyRes, LAST) ?? null });
      const jwks = await jwksOf(s);
      const g = await other.get('/get-session');
      await jwtStep(s, 'set-auth-jwt in the other browser', jwks, g.header('set-auth-jwt'), { id: a.id, email: a.email });
      const t = await other.get('/token');
      await jwtStep(s, '/token in the other browser', jwks, t.json?.token, { id: a.id, email: a.email });
      const list = await other.get('/multi-session/list-device-sessions');
      s.expect('the other browser lists the handed-over session', list.json?.length === 1 && list.json[0]?.session?.token === a.token, list.json);
      const again = await browser(s).post('/one-time-token/verify', { json: { token: gen.data?.token } });
      s.expect('reuse: 400 Invalid token', again.status === 400 && again.json?.message === 'Invalid token', again.json);
      const unauth = await browser(s).get('/one-time-token/generate');
      s.expect('generate signed out: 401', err(unauth, 401, 'UNAUTHORIZED'), unauth.json);
    });

    scenario('device authorization: the access token as Bearer on /token and get-session; deny', async (s) => {
      const device = browser(s, { userAgent: 'tv-app' });
      const dev = client(s, device);
      const code = await dev.device.code({ client_id: 'cli', scope: 'openid' });
      s.expect('device.code: the codes', typeof code.data?.device_code === 'string' && typeof code.data?.user_code === 'string', code);
      const pending = await dev.device.token({ grant_type: GRANT, device_code: code.data?.device_code, client_id: 'cli' });
      s.record('device.token pending', { status: pending.error?.status, error: pending.error?.error });
      const p = browser(s);
      const who = await up(s, p, 'dev');
      const web = client(s, p);
      const view = await web.device({ query: { user_code: code.data?.user_code } });
      s.record('device(): the claimed code', { status: view.data?.status, client_id: view.data?.client_id, scope: view.data?.scope, error: view.error });
      await s.clientCall('device.approve', web.device.approve({ userCode: code.data?.user_code }));
      await sleep(1100);
      const tok = await device.post('/device/token', { json: { grant_type: GRANT, device_code: code.data?.device_code, client_id: 'cli' } });
      s.expect('token: Bearer, no cookie', tok.json?.token_type === 'Bearer' && tok.setCookies.length === 0, tok.json);
      const bearer = { authorization: `Bearer ${tok.json?.access_token}` };
      const jwks = await jwksOf(s);
      const api = browser(s);
      const t = await api.get('/token', { headers: bearer });
      await jwtStep(s, 'Bearer /token: a JWT of the person', jwks, t.json?.token, { id: who.id, email: who.email });
      const g = await api.get('/get-session', { headers: bearer });
      s.expect('Bearer get-session: the person', g.json?.user?.id === who.id, g.json);
      await jwtStep(s, 'Bearer get-session: set-auth-jwt', jwks, g.header('set-auth-jwt'), { id: who.id, email: who.email });
      s.record('Bearer get-session: exposes', exposed(g));
      const rows = await s.sql('select "userAgent" from "session" where "token" = $1', [tok.json?.access_token]);
      s.record('the device session row', rows.map((r) => ({ userAgent: r.userAgent })));

      const d = await dev.device.code({ client_id: 'cli' });
      await p.get('/device', { query: { user_code: d.data?.user_code } });
      await s.clientCall('device.deny', web.device.deny({ userCode: d.data?.user_code }));
      const denied = await device.post('/device/token', { json: { grant_type: GRANT, device_code: d.data?.device_code, client_id: 'cli' } });
      s.expect('denied: 400 access_denied', denied.status === 400 && denied.json?.error === 'access_denied', denied.json);
      const badGrant = await device.post('/device/token', { json: { grant_type: 'password', device_code: 'x', client_id: 'cli' } });
      s.expect('a wrong grant type: 400', badGrant.status === 400, badGrant.json);
      await browser(s).post('/device/approve', { json: { userCode: 'NOPE2345' } });
      await p.post('/device/approve', { json: { userCode: 'NOPE2345' } });
    });
  },
  { env: ENV },
);

// Both servers on one database with the same plugins: one key set, and whichever server mints a
// JWT, the other's JWKS verifies it, for cookie sessions, x-api-key sessions and device tokens.
describe('the token plugins together on a shared database', () => {
  let db;
  let ref;
  let other;
  const cleanup = [];
  const show = (r) => `\n${describeRecord(r)}`;
  const logs = () => `\n--- ref log ---\n${ref?.logTail(30)}\n--- ${CANDIDATE_NAME} log ---\n${other?.logTail(30)}`;
  const plain = (srv) => new Browser({ baseURL: srv.url, appOrigin: APP_ORIGIN });
  const jwksFrom = async (srv) => {
    const r = await plain(srv).get('/jwks');
    assert.equal(r.status, 200, show(r) + logs());
    return r.json;
  };
  /** Verifies with jose; throws with the reason and both logs when it does not verify. */
  const verifies = async (what, jwks, token, sub) => {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: BASE_URL, audience: BASE_URL });
      assert.equal(payload.sub, sub, `${what}: sub`);
    } catch (e) {
      assert.fail(`${what}: ${e.code ?? ''} ${e.message}${logs()}`);
    }
  };

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

  it('a JWT minted by either server verifies against the other\'s JWKS (cookie, x-api-key and device sessions)', async () => {
    const tokens = {};
    for (const [name, srv] of [['ref', ref], [CANDIDATE_NAME, other]]) {
      const b = plain(srv);
      const u = await b.post('/sign-up/email', { json: { name: `Shared ${name}`, email: `${name}@tokens.shared.example.com`, password: 'password1234' } });
      assert.equal(u.status, 200, show(u) + logs());
      const t = await b.get('/token');
      assert.equal(t.status, 200, show(t) + logs());
      const g = await b.get('/get-session');
      assert.ok(g.header('set-auth-jwt'), `no set-auth-jwt from ${name}${show(g)}`);
      const k = await b.post('/api-key/create', { json: { name } });
      assert.equal(k.status, 200, show(k) + logs());
      tokens[name] = { uid: u.json.user.id, token: t.json.token, header: g.header('set-auth-jwt'), key: k.json.key, b };
    }
    const refJwks = await jwksFrom(ref);
    const goJwks = await jwksFrom(other);
    assert.deepEqual(goJwks, refJwks, 'both servers publish the same key set');
    assert.equal(refJwks.keys.length, 1, JSON.stringify(refJwks));
    const r = tokens.ref;
    const o = tokens[CANDIDATE_NAME];
    await verifies(`ref /token vs ${CANDIDATE_NAME} JWKS`, goJwks, r.token, r.uid);
    await verifies(`ref set-auth-jwt vs ${CANDIDATE_NAME} JWKS`, goJwks, r.header, r.uid);
    await verifies(`${CANDIDATE_NAME} /token vs ref JWKS`, refJwks, o.token, o.uid);
    await verifies(`${CANDIDATE_NAME} set-auth-jwt vs ref JWKS`, refJwks, o.header, o.uid);

    // A key made on one server, used on the other: the JWT that server mints verifies on the first.
    for (const [owner, minter, verifierJwks] of [[r, other, refJwks], [o, ref, goJwks]]) {
      const t = await plain(minter).get('/token', { headers: { 'x-api-key': owner.key } });
      assert.equal(t.status, 200, show(t) + logs());
      await verifies(`x-api-key /token on ${minter.name}, against the other JWKS`, verifierJwks, t.json.token, owner.uid);
    }

    // A device token approved on the reference, used as Bearer on the candidate and the other way.
    for (const [approver, user, tokenServer] of [[ref, r, other], [other, o, ref]]) {
      const dev = plain(approver);
      const c = await dev.post('/device/code', { json: { client_id: 'cli' } });
      assert.equal(c.status, 200, show(c) + logs());
      const claim = await user.b.get('/device', { query: { user_code: c.json.user_code } });
      assert.equal(claim.status, 200, show(claim) + logs());
      const ok = await user.b.post('/device/approve', { json: { userCode: c.json.user_code } });
      assert.equal(ok.status, 200, show(ok) + logs());
      const tk = await dev.post('/device/token', { json: { grant_type: GRANT, device_code: c.json.device_code, client_id: 'cli' } });
      assert.equal(tk.status, 200, show(tk) + logs());
      const t = await plain(tokenServer).get('/token', { headers: { authorization: `Bearer ${tk.json.access_token}` } });
      assert.equal(t.status, 200, show(t) + logs());
      await verifies(`device token from ${approver.name} as Bearer on ${tokenServer.name}`, approver === ref ? refJwks : goJwks, t.json.token, user.uid);
    }
  });
});
