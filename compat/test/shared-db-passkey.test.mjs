// Both servers on ONE database with passkey,last-login-method: a passkey registered on one server
// signs in on the other with the same software authenticator (both ways), the signature counter one
// server stores is enforced by the other, both list the same rows identically, a ceremony started on
// one server (challenge cookie + verification row) is finished on the other, and one server renames
// or deletes what the other registered.
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { Browser } from '../lib/http.mjs';
import { describeRecord } from '../lib/compare.mjs';
import { createDatabase, startReference, startCandidate, APP_ORIGIN, CANDIDATE_NAME } from '../lib/servers.mjs';
import { SoftAuthenticator } from '../lib/softauthn.mjs';

const PASSWORD = 'password1234';
const ENV = { BETTER_AUTH_PLUGINS: 'passkey,last-login-method' };
const OPTIONS = { appName: 'Compat App' };
const SESSION_COOKIE = 'better-auth.session_token';

describe('shared database with passkeys', () => {
  let db;
  let ref;
  let other;
  const cleanup = [];
  const browser = (srv) => new Browser({ baseURL: srv.url, appOrigin: APP_ORIGIN });
  const show = (r) => `\n${describeRecord(r)}`;
  const logs = () => `\n--- ref log ---\n${ref?.logTail(30)}\n--- ${CANDIDATE_NAME} log ---\n${other?.logTail(30)}`;

  before(async () => {
    db = await createDatabase();
    cleanup.push(() => db.drop());
    ref = await startReference({ databaseUrl: db.url, env: ENV, options: OPTIONS });
    cleanup.push(() => ref.stop());
  }, { timeout: 360000 });

  after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  /** Signs up on srv and registers a passkey there with auth; returns {browser, row}. */
  async function registerOn(srv, email, auth) {
    const b = browser(srv);
    const up = await b.post('/sign-up/email', { json: { name: 'Shared Passkey', email, password: PASSWORD } });
    assert.equal(up.status, 200, show(up));
    const o = await b.get('/passkey/generate-register-options');
    assert.equal(o.status, 200, show(o) + logs());
    const v = await b.post('/passkey/verify-registration', { json: { response: auth.register(o.json), name: `made on ${srv === ref ? 'ref' : CANDIDATE_NAME}` } });
    assert.equal(v.status, 200, show(v) + logs());
    return { browser: b, row: v.json, userId: up.json.user.id };
  }

  /** Authentication options and verification on srv (knobs break the response); returns the answer. */
  async function signInOn(srv, auth, knobs = {}, { optionsFrom = srv } = {}) {
    const b = browser(optionsFrom);
    const o = await b.get('/passkey/generate-authenticate-options');
    assert.equal(o.status, 200, show(o) + logs());
    const moved = browser(srv);
    for (const [k, v] of b.jar.cookies) moved.jar.set(k, v);
    return moved.post('/passkey/verify-authentication', { json: { response: auth.authenticate(o.json, knobs) } });
  }

  let pool;
  const counterOf = async (credentialID) => {
    pool ??= db.pool();
    const { rows } = await pool.query('select "counter" from "passkey" where "credentialID" = $1', [credentialID]);
    return rows[0]?.counter;
  };

  const state = {};
  const refAuth = new SoftAuthenticator({ seed: 'shared ref' });
  const goAuth = new SoftAuthenticator({ seed: 'shared go' });

  it('the reference creates the schema; a user registers a passkey there', async () => {
    state.a = await registerOn(ref, 'pk-ref@shared.example.com', refAuth);
  });

  it(`the ${CANDIDATE_NAME} server starts on the same database afterwards`, { timeout: 360000 }, async () => {
    other = await startCandidate({ databaseUrl: db.url, env: ENV, options: OPTIONS });
    cleanup.push(() => other.stop());
  });

  it(`the reference-made passkey signs in on the ${CANDIDATE_NAME} server, which stores the counter`, async () => {
    assert.ok(other, 'candidate server not started');
    const r = await signInOn(other, refAuth, { counter: 1 });
    assert.equal(r.status, 200, show(r) + logs());
    assert.equal(r.json?.user?.id, state.a.userId, show(r));
    assert.ok(r.setCookies.some((l) => l.startsWith(`${SESSION_COOKIE}=`)), show(r));
    assert.equal(await counterOf(state.a.row.credentialID), 1);
    const g = await browser(ref).get('/get-session', { cookies: `${SESSION_COOKIE}=${r.setCookies.find((l) => l.startsWith(`${SESSION_COOKIE}=`)).split(';')[0].split('=').slice(1).join('=')}` });
    assert.equal(g.json?.user?.id, state.a.userId, `the reference does not accept the ${CANDIDATE_NAME}'s passkey session:${show(g)}`);
  });

  it(`the reference enforces the counter the ${CANDIDATE_NAME} server stored, and the reverse`, async () => {
    const back = await signInOn(ref, refAuth, { counter: 1 });
    assert.equal(back.status, 400, show(back));
    assert.equal(back.json?.code, 'AUTHENTICATION_FAILED', show(back));
    const ok = await signInOn(ref, refAuth, { counter: 5 });
    assert.equal(ok.status, 200, show(ok));
    const stale = await signInOn(other, refAuth, { counter: 4 });
    assert.equal(stale.status, 400, show(stale) + logs());
    assert.equal(stale.json?.code, 'AUTHENTICATION_FAILED', show(stale));
    assert.equal(await counterOf(state.a.row.credentialID), 5);
  });

  it(`a passkey registered on the ${CANDIDATE_NAME} server signs in on the reference`, async () => {
    state.b = await registerOn(other, 'pk-go@shared.example.com', goAuth);
    const r = await signInOn(ref, goAuth, { counter: 1 });
    assert.equal(r.status, 200, show(r) + logs());
    assert.equal(r.json?.user?.id, state.b.userId, show(r));
    const again = await signInOn(other, goAuth, { counter: 2 });
    assert.equal(again.status, 200, show(again) + logs());
  });

  it('both servers list the same rows identically', async () => {
    for (const who of ['a', 'b']) {
      const cookie = { cookies: `${SESSION_COOKIE}=${state[who].browser.jar.get(SESSION_COOKIE)}` };
      const x = await browser(ref).get('/passkey/list-user-passkeys', cookie);
      const y = await browser(other).get('/passkey/list-user-passkeys', cookie);
      assert.equal(x.status, 200, show(x));
      assert.equal(y.status, 200, show(y) + logs());
      assert.deepEqual(y.json, x.json, `lists differ for the ${who === 'a' ? 'reference' : CANDIDATE_NAME}-made passkey`);
      assert.deepEqual({ ...x.json[0], counter: 0 }, state[who].row, 'the listed row is the one verify-registration answered');
    }
  });

  it('a ceremony started on one server is finished on the other', async () => {
    const r1 = await signInOn(other, refAuth, { counter: 6 }, { optionsFrom: ref });
    assert.equal(r1.status, 200, `reference challenge, ${CANDIDATE_NAME} verification:${show(r1)}${logs()}`);
    const r2 = await signInOn(ref, refAuth, { counter: 7 }, { optionsFrom: other });
    assert.equal(r2.status, 200, `${CANDIDATE_NAME} challenge, reference verification:${show(r2)}${logs()}`);
    // registration: options on one server, verification on the other, with the same session
    const b = state.b.browser; // a session made by the candidate
    const o = await browser(ref).get('/passkey/generate-register-options', { cookies: `${SESSION_COOKIE}=${b.jar.get(SESSION_COOKIE)}` });
    assert.equal(o.status, 200, show(o));
    const challenge = o.setCookies.find((l) => l.startsWith('better-auth.better-auth-passkey=')).split(';')[0];
    const second = new SoftAuthenticator({ seed: 'shared second' });
    const v = await browser(other).post('/passkey/verify-registration', { json: { response: second.register(o.json) }, cookies: `${SESSION_COOKIE}=${b.jar.get(SESSION_COOKIE)}; ${challenge}` });
    assert.equal(v.status, 200, `reference registration options, ${CANDIDATE_NAME} verification:${show(v)}${logs()}`);
    const s = await signInOn(ref, second, { counter: 1 });
    assert.equal(s.status, 200, show(s));
    state.second = v.json;
    state.secondAuth = second;
  });

  it('one server renames and deletes what the other registered', async () => {
    const aCookie = { cookies: `${SESSION_COOKIE}=${state.a.browser.jar.get(SESSION_COOKIE)}` };
    const bCookie = { cookies: `${SESSION_COOKIE}=${state.b.browser.jar.get(SESSION_COOKIE)}` };
    const renamed = await browser(other).post('/passkey/update-passkey', { json: { id: state.a.row.id, name: 'renamed elsewhere' }, ...aCookie });
    assert.equal(renamed.status, 200, show(renamed) + logs());
    assert.equal(renamed.json?.passkey?.name, 'renamed elsewhere');
    const seen = await browser(ref).get('/passkey/list-user-passkeys', aCookie);
    assert.equal(seen.json?.[0]?.name, 'renamed elsewhere', show(seen));
    const foreign = await browser(ref).post('/passkey/delete-passkey', { json: { id: state.a.row.id }, ...bCookie });
    assert.equal(foreign.status, 401, show(foreign));
    const del = await browser(ref).post('/passkey/delete-passkey', { json: { id: state.second.id }, ...bCookie });
    assert.equal(del.status, 200, show(del));
    const gone = await signInOn(other, state.secondAuth, { counter: 9 });
    assert.equal(gone.status, 401, show(gone) + logs());
    assert.equal(gone.json?.code, 'PASSKEY_NOT_FOUND', show(gone));
  });
});
