// Both servers on ONE database, both in the middle of a secret rotation (Better-Auth 1.7's
// BETTER_AUTH_SECRETS="2:<new>,1:<old>", with the old BETTER_AUTH_SECRET still set): values each
// seals at rest are in the "$ba$2$" envelope and open on the other, and session cookies each
// signs (with version 2) are accepted by the other.
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { Browser } from '../lib/http.mjs';
import { describeRecord } from '../lib/compare.mjs';
import { createDatabase, startReference, startCandidate, APP_ORIGIN, CANDIDATE_NAME } from '../lib/servers.mjs';
import { totpFromURI } from '../lib/totp.mjs';

const PASSWORD = 'password1234';
const ENV = {
  BETTER_AUTH_PLUGINS: 'two-factor',
  BETTER_AUTH_SECRETS: '2:rotation-new-secret-0123456789abcdef0123, 1:rotation-old-secret-0123456789abcdef0123',
};
const SESSION_COOKIE = 'better-auth.session_token';

describe('shared database during a secret rotation', () => {
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
    ref = await startReference({ databaseUrl: db.url, env: ENV });
    cleanup.push(() => ref.stop());
  }, { timeout: 360000 });

  after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  async function enableOn(srv, email) {
    const b = browser(srv);
    const up = await b.post('/sign-up/email', { json: { name: 'Rotation', email, password: PASSWORD } });
    assert.equal(up.status, 200, show(up) + logs());
    const en = await b.post('/two-factor/enable', { json: { password: PASSWORD } });
    assert.equal(en.status, 200, show(en) + logs());
    const v = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
    assert.equal(v.status, 200, show(v) + logs());
    return { email, uri: en.json.totpURI, userId: up.json.user.id, cookie: b.jar.get(SESSION_COOKIE), token: v.json.token };
  }

  async function storedSecret(userId) {
    const { rows } = await db.pool().query('select "secret", "backupCodes" from "twoFactor" where "userId" = $1', [userId]);
    return rows[0];
  }

  async function signInWithCode(srv, user) {
    const b = browser(srv);
    const r = await b.post('/sign-in/email', { json: { email: user.email, password: PASSWORD } });
    assert.equal(r.json?.twoFactorRedirect, true, `${srv.name} did not challenge:${show(r)}${logs()}`);
    const v = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(user.uri) } });
    assert.equal(v.status, 200, `${srv.name} cannot open the TOTP secret:${show(v)}${logs()}`);
    return v;
  }

  const state = {};

  it('the reference seals a TOTP secret in the version-2 envelope', async () => {
    state.refUser = await enableOn(ref, 'rot-ref@shared.example.com');
    const row = await storedSecret(state.refUser.userId);
    assert.match(row.secret, /^\$ba\$2\$[0-9a-f]+$/);
    assert.match(row.backupCodes, /^\$ba\$2\$[0-9a-f]+$/);
  });

  it(`the ${CANDIDATE_NAME} server starts on the same database with the same secrets`, { timeout: 360000 }, async () => {
    other = await startCandidate({ databaseUrl: db.url, env: ENV });
    cleanup.push(() => other.stop());
  });

  it(`the ${CANDIDATE_NAME} server opens it and accepts the reference's session cookie`, async () => {
    assert.ok(other, 'candidate server not started');
    await signInWithCode(other, state.refUser);
    const g = await browser(other).get('/get-session', { cookies: `${SESSION_COOKIE}=${state.refUser.cookie}` });
    assert.equal(g.json?.user?.id, state.refUser.userId, `${CANDIDATE_NAME} refuses the reference cookie:${show(g)}`);
  });

  it(`a TOTP secret the ${CANDIDATE_NAME} server seals is in the same envelope and opens on the reference`, async () => {
    state.goUser = await enableOn(other, 'rot-go@shared.example.com');
    const row = await storedSecret(state.goUser.userId);
    assert.match(row.secret, /^\$ba\$2\$[0-9a-f]+$/);
    assert.match(row.backupCodes, /^\$ba\$2\$[0-9a-f]+$/);
    await signInWithCode(ref, state.goUser);
  });

  it(`the reference accepts the session cookie the ${CANDIDATE_NAME} server signed`, async () => {
    const g = await browser(ref).get('/get-session', { cookies: `${SESSION_COOKIE}=${state.goUser.cookie}` });
    assert.equal(g.json?.user?.id, state.goUser.userId, `the reference refuses the ${CANDIDATE_NAME} cookie:${show(g)}`);
  });
});
