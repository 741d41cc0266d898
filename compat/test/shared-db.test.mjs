// Both servers on ONE database: password hashes, sessions and cookies must be
// interchangeable (same secret, same schema).
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { Browser } from '../lib/http.mjs';
import { compare, describeRecord } from '../lib/compare.mjs';
import { createDatabase, startReference, startCandidate, APP_ORIGIN, CANDIDATE_NAME } from '../lib/servers.mjs';

const PASSWORD = 'password1234';
const SESSION_COOKIE = 'better-auth.session_token';

describe('shared database', () => {
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
    ref = await startReference({ databaseUrl: db.url });
    cleanup.push(() => ref.stop());
  }, { timeout: 360000 });

  after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  const state = {};

  it('the reference server creates the schema and signs up a user', async () => {
    const b = browser(ref);
    const r = await b.post('/sign-up/email', { json: { name: 'Shared One', email: 'one@shared.example.com', password: PASSWORD } });
    assert.equal(r.status, 200, show(r));
    state.user1 = r.json.user;
    state.refCookie = b.jar.get(SESSION_COOKIE);
    state.refToken = r.json.token;
  });

  it(`the ${CANDIDATE_NAME} server starts on the same database afterwards`, { timeout: 360000 }, async () => {
    other = await startCandidate({ databaseUrl: db.url });
    cleanup.push(() => other.stop());
  });

  it(`the ${CANDIDATE_NAME} server signs that user in, reads the session and renames the user`, async () => {
    assert.ok(other, 'candidate server not started');
    const b = browser(other);
    const r = await b.post('/sign-in/email', { json: { email: 'ONE@shared.example.com', password: PASSWORD } });
    assert.equal(r.status, 200, show(r) + logs());
    assert.equal(r.json.user.id, state.user1.id, 'same user id');
    const g = await b.get('/get-session');
    assert.equal(g.status, 200, show(g));
    assert.equal(g.json?.user?.id, state.user1.id, show(g));
    const u = await b.post('/update-user', { json: { name: 'Renamed By Candidate' } });
    assert.equal(u.status, 200, show(u));
    assert.deepEqual(u.json, { status: true });
    state.otherCookie = b.jar.get(SESSION_COOKIE);
    state.otherToken = r.json.token;
  });

  it('the reference server sees the new name, on its own session and on the candidate-minted one', async () => {
    const g1 = await browser(ref).get('/get-session', { cookies: `${SESSION_COOKIE}=${state.refCookie}` });
    assert.equal(g1.json?.user?.name, 'Renamed By Candidate', show(g1));
    const g2 = await browser(ref).get('/get-session', { cookies: `${SESSION_COOKIE}=${state.otherCookie}` });
    assert.equal(g2.status, 200, show(g2));
    assert.equal(g2.json?.session?.token, state.otherToken, `reference does not accept the ${CANDIDATE_NAME} cookie:${show(g2)}`);
    assert.equal(g2.json?.user?.name, 'Renamed By Candidate');
  });

  it('a cookie minted by the reference is accepted by the candidate, with an identical answer', async () => {
    const path = '/get-session';
    const opts = { cookies: `${SESSION_COOKIE}=${state.refCookie}` };
    const a = await browser(ref).get(path, opts);
    const b = await browser(other).get(path, opts);
    assert.equal(b.json?.session?.token, state.refToken, `${CANDIDATE_NAME} does not accept the reference cookie:${show(b)}`);
    // same row on both sides: the JSON must be identical, not only the same shape
    assert.deepEqual(b.json, a.json);
    compare(a, b, { otherName: CANDIDATE_NAME });
  });

  it('list-sessions and list-accounts give identical answers for the same session', async () => {
    for (const path of ['/list-sessions', '/list-accounts']) {
      const opts = { cookies: `${SESSION_COOKIE}=${state.refCookie}` };
      const a = await browser(ref).get(path, opts);
      const b = await browser(other).get(path, opts);
      compare(a, b, { otherName: CANDIDATE_NAME });
      const sortById = (x) => (Array.isArray(x) ? [...x].sort((p, q) => (p.id < q.id ? -1 : 1)) : x);
      assert.deepEqual(sortById(b.json), sortById(a.json), `${path} differs`);
    }
  });

  it('a bearer token issued by one server works on the other', async () => {
    const a = await browser(ref).get('/get-session', { headers: { authorization: `Bearer ${state.otherToken}` } });
    assert.equal(a.json?.session?.token, state.otherToken, show(a));
    const b = await browser(other).get('/get-session', { headers: { authorization: `Bearer ${decodeURIComponent(state.refCookie)}` } });
    assert.equal(b.json?.session?.token, state.refToken, show(b));
  });

  it('a user created by the candidate signs in on the reference', async () => {
    const b = browser(other);
    const r = await b.post('/sign-up/email', { json: { name: 'Shared Two', email: 'Two@Shared.example.com', password: 'pässword-🔑-123' } });
    assert.equal(r.status, 200, show(r) + logs());
    const s = await browser(ref).post('/sign-in/email', { json: { email: 'two@shared.example.com', password: 'pässword-🔑-123' } });
    assert.equal(s.status, 200, `reference cannot verify the ${CANDIDATE_NAME} password hash:${show(s)}`);
    assert.equal(s.json.user.id, r.json.user.id);
    const rows = await db.pool().query('select "providerId", "accountId" = "userId" as same, password ~ \'^[0-9a-f]{32}:[0-9a-f]{128}$\' as scrypt from account where "userId" = $1', [r.json.user.id]);
    assert.deepEqual(rows.rows, [{ providerId: 'credential', same: true, scrypt: true }]);
    state.user2Cookie = b.jar.get(SESSION_COOKIE);
  });

  it('a password changed on the candidate works on the reference, and the old one does not', async () => {
    const b = browser(other);
    b.jar.set(SESSION_COOKIE, state.user2Cookie);
    const c = await b.post('/change-password', { json: { currentPassword: 'pässword-🔑-123', newPassword: 'new-password-456', revokeOtherSessions: true } });
    assert.equal(c.status, 200, show(c));
    const ok = await browser(ref).post('/sign-in/email', { json: { email: 'two@shared.example.com', password: 'new-password-456' } });
    assert.equal(ok.status, 200, show(ok));
    const bad = await browser(ref).post('/sign-in/email', { json: { email: 'two@shared.example.com', password: 'pässword-🔑-123' } });
    assert.equal(bad.status, 401, show(bad));
    // and the other way round
    const rb = browser(ref);
    rb.jar.set(SESSION_COOKIE, ok.setCookies.map((l) => l.split(';')[0]).find((p) => p.startsWith(`${SESSION_COOKIE}=`)).slice(SESSION_COOKIE.length + 1));
    const c2 = await rb.post('/change-password', { json: { currentPassword: 'new-password-456', newPassword: 'third-password-789' } });
    assert.equal(c2.status, 200, show(c2));
    const ok2 = await browser(other).post('/sign-in/email', { json: { email: 'two@shared.example.com', password: 'third-password-789' } });
    assert.equal(ok2.status, 200, show(ok2));
  });

  it('sessions revoked or expired through one server are dead on the other', async () => {
    // sign out on the reference kills the candidate's view of that session
    const rb = browser(ref);
    const si = await rb.post('/sign-in/email', { json: { email: 'one@shared.example.com', password: PASSWORD } });
    assert.equal(si.status, 200);
    const cookie = rb.jar.get(SESSION_COOKIE);
    const before = await browser(other).get('/get-session', { cookies: `${SESSION_COOKIE}=${cookie}` });
    assert.equal(before.json?.session?.token, si.json.token, show(before));
    await rb.post('/sign-out', { json: {} });
    const afterSignOut = await browser(other).get('/get-session', { cookies: `${SESSION_COOKIE}=${cookie}` });
    assert.equal(afterSignOut.text, 'null', show(afterSignOut));
    // an expiry set in the database is honoured by both
    const ob = browser(other);
    const s2 = await ob.post('/sign-in/email', { json: { email: 'one@shared.example.com', password: PASSWORD } });
    const c2 = ob.jar.get(SESSION_COOKIE);
    await db.pool().query(`update session set "expiresAt" = now() - interval '1 second' where token = $1`, [s2.json.token]);
    const a = await browser(ref).get('/get-session', { cookies: `${SESSION_COOKIE}=${c2}` });
    assert.equal(a.text, 'null', show(a));
  });

  it('a session refreshed by one server is seen extended by the other', async () => {
    const rb = browser(ref);
    const si = await rb.post('/sign-in/email', { json: { email: 'one@shared.example.com', password: PASSWORD } });
    const cookie = rb.jar.get(SESSION_COOKIE);
    await db.pool().query(`update session set "expiresAt" = "expiresAt" - interval '3 days' where token = $1`, [si.json.token]);
    const g = await browser(other).get('/get-session', { cookies: `${SESSION_COOKIE}=${cookie}` });
    assert.ok(g.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`)), `candidate did not refresh:${show(g)}`);
    const a = await browser(ref).get('/get-session', { cookies: `${SESSION_COOKIE}=${cookie}`, query: { disableRefresh: 'true' } });
    const hoursLeft = (Date.parse(a.json.session.expiresAt) - Date.now()) / 3600000;
    assert.ok(hoursLeft > 167, `expected ~168 h left after refresh, got ${hoursLeft.toFixed(1)}${show(a)}`);
  });

  // Verification links are stateless HS256 JWTs over the shared secret; reset tokens are
  // rows in the shared verification table: either server's mail works on the other.
  const verifiedOf = async (email) => (await db.pool().query('select "emailVerified" as v from "user" where email = $1', [email])).rows[0]?.v;
  const withoutCallback = (link) => {
    const u = new URL(link);
    u.searchParams.delete('callbackURL');
    return u.pathname + u.search;
  };

  it(`a verification link mailed by the reference is accepted by the ${CANDIDATE_NAME} server`, async () => {
    const email = 'one@shared.example.com';
    assert.equal(await verifiedOf(email), false, 'user one starts unverified');
    const r = await browser(ref).post('/send-verification-email', { json: { email } });
    assert.equal(r.status, 200, show(r));
    const m = await ref.mailbox.take(email, { kind: 'verify-email' });
    assert.ok(m, 'the reference mailed no verification link');
    const v = await browser(other).get(withoutCallback(m.url));
    assert.equal(v.status, 200, show(v) + logs());
    assert.deepEqual(v.json, { status: true, user: null });
    assert.equal(await verifiedOf(email), true, `the ${CANDIDATE_NAME} server did not mark the email verified`);
  });

  it(`a verification link mailed by the ${CANDIDATE_NAME} server is accepted by the reference`, async () => {
    const email = 'two@shared.example.com';
    assert.equal(await verifiedOf(email), false, 'user two starts unverified');
    const r = await browser(other).post('/send-verification-email', { json: { email, callbackURL: 'http://app.example.test/verified' } });
    assert.equal(r.status, 200, show(r));
    const m = await other.mailbox.take(email, { kind: 'verify-email' });
    assert.ok(m, `the ${CANDIDATE_NAME} server mailed no verification link`);
    const u = new URL(m.url);
    const v = await browser(ref).get(u.pathname + u.search);
    assert.equal(v.status, 302, show(v));
    assert.equal(v.header('location'), 'http://app.example.test/verified');
    assert.equal(await verifiedOf(email), true, 'the reference did not mark the email verified');
  });

  it('a reset token mailed by either server resets the password on the other', async () => {
    const email = 'two@shared.example.com';
    await browser(ref).post('/request-password-reset', { json: { email } });
    const m1 = await ref.mailbox.take(email, { kind: 'reset-password' });
    assert.ok(m1, 'the reference mailed no reset link');
    const r1 = await browser(other).post('/reset-password', { json: { token: m1.token, newPassword: 'reset-by-candidate-1' } });
    assert.equal(r1.status, 200, show(r1) + logs());
    const s1 = await browser(ref).post('/sign-in/email', { json: { email, password: 'reset-by-candidate-1' } });
    assert.equal(s1.status, 200, show(s1));
    const again = await browser(ref).post('/reset-password', { json: { token: m1.token, newPassword: 'reset-again-123' } });
    assert.equal(again.json?.code, 'INVALID_TOKEN', `a token used on the ${CANDIDATE_NAME} server still works on the reference:${show(again)}`);

    await browser(other).post('/request-password-reset', { json: { email } });
    const m2 = await other.mailbox.take(email, { kind: 'reset-password' });
    assert.ok(m2, `the ${CANDIDATE_NAME} server mailed no reset link`);
    const r2 = await browser(ref).post('/reset-password', { json: { token: m2.token, newPassword: 'reset-by-reference-2' } });
    assert.equal(r2.status, 200, show(r2));
    const s2 = await browser(other).post('/sign-in/email', { json: { email, password: 'reset-by-reference-2' } });
    assert.equal(s2.status, 200, show(s2));
  });
});
