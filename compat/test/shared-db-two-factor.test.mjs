// Both servers on ONE database with username,anonymous,two-factor,last-login-method: a TOTP secret
// and backup codes enabled on one server work on the other (the at-rest encryption of
// twoFactor.secret / backupCodes matches), a sign-in challenge (two_factor cookie + verification
// rows) or an OTP started on one server is finished on the other, trust_device cookies carry over,
// and an anonymous session from one server is linked away by a sign-up on the other.
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { Browser } from '../lib/http.mjs';
import { describeRecord } from '../lib/compare.mjs';
import { createDatabase, startReference, startCandidate, APP_ORIGIN, CANDIDATE_NAME } from '../lib/servers.mjs';
import { totpFromURI } from '../lib/totp.mjs';

const PASSWORD = 'password1234';
const PLUGINS = { BETTER_AUTH_PLUGINS: 'username,anonymous,two-factor,last-login-method' };
const TWO_FACTOR_COOKIE = 'better-auth.two_factor';
const TRUST_COOKIE = 'better-auth.trust_device';

describe('shared database with two-factor and anonymous', () => {
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
    ref = await startReference({ databaseUrl: db.url, env: PLUGINS });
    cleanup.push(() => ref.stop());
  }, { timeout: 360000 });

  after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  /** Signs up on srv and enables TOTP there (enable + verify-totp); returns {email, uri, backupCodes}. */
  async function enableOn(srv, email) {
    const b = browser(srv);
    const up = await b.post('/sign-up/email', { json: { name: 'Shared 2FA', email, password: PASSWORD } });
    assert.equal(up.status, 200, show(up));
    const en = await b.post('/two-factor/enable', { json: { password: PASSWORD } });
    assert.equal(en.status, 200, show(en) + logs());
    const v = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
    assert.equal(v.status, 200, show(v) + logs());
    return { email, uri: en.json.totpURI, backupCodes: en.json.backupCodes };
  }

  /** Password step on srv; returns the browser holding the two_factor cookie. */
  async function challengeOn(srv, email) {
    const b = browser(srv);
    const r = await b.post('/sign-in/email', { json: { email, password: PASSWORD } });
    assert.equal(r.status, 200, show(r) + logs());
    assert.equal(r.json?.twoFactorRedirect, true, `${srv.name} did not challenge:${show(r)}`);
    assert.ok(b.jar.get(TWO_FACTOR_COOKIE), show(r));
    return b;
  }

  /** The same cookie jar content, now talking to srv. */
  function moveTo(b, srv) {
    const moved = browser(srv);
    for (const [k, v] of b.jar.cookies) moved.jar.set(k, v);
    return moved;
  }

  const state = {};

  it('the reference creates the schema; a user enables TOTP there', async () => {
    state.refUser = await enableOn(ref, 'tfa-ref@shared.example.com');
  });

  it(`the ${CANDIDATE_NAME} server starts on the same database afterwards`, { timeout: 360000 }, async () => {
    other = await startCandidate({ databaseUrl: db.url, env: PLUGINS });
    cleanup.push(() => other.stop());
  });

  it(`the ${CANDIDATE_NAME} server challenges that user and accepts a code from the reference-made secret`, async () => {
    assert.ok(other, 'candidate server not started');
    const b = await challengeOn(other, state.refUser.email);
    const v = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(state.refUser.uri) } });
    assert.equal(v.status, 200, show(v) + logs());
    assert.equal(v.json?.user?.email, state.refUser.email);
    const g = await b.get('/get-session');
    assert.equal(g.json?.user?.twoFactorEnabled, true, show(g));
  });

  it(`a backup code made by the reference works once on the ${CANDIDATE_NAME} server, and is spent for the reference too`, async () => {
    const b = await challengeOn(other, state.refUser.email);
    const v = await b.post('/two-factor/verify-backup-code', { json: { code: state.refUser.backupCodes[0] } });
    assert.equal(v.status, 200, show(v) + logs());
    const r = await challengeOn(ref, state.refUser.email);
    const spent = await r.post('/two-factor/verify-backup-code', { json: { code: state.refUser.backupCodes[0] } });
    assert.equal(spent.status, 401, `the reference still accepts a code spent on ${CANDIDATE_NAME}:${show(spent)}`);
    const next = await r.post('/two-factor/verify-backup-code', { json: { code: state.refUser.backupCodes[1] } });
    assert.equal(next.status, 200, `the reference cannot read the backup codes rewritten by ${CANDIDATE_NAME}:${show(next)}${logs()}`);
  });

  it('a user enables TOTP on the candidate; the reference challenges them and accepts the code and a backup code', async () => {
    state.goUser = await enableOn(other, 'tfa-go@shared.example.com');
    const b = await challengeOn(ref, state.goUser.email);
    const v = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(state.goUser.uri) } });
    assert.equal(v.status, 200, `the reference cannot use the secret stored by ${CANDIDATE_NAME}:${show(v)}${logs()}`);
    const c = await challengeOn(ref, state.goUser.email);
    const bc = await c.post('/two-factor/verify-backup-code', { json: { code: state.goUser.backupCodes[0] } });
    assert.equal(bc.status, 200, `the reference cannot read the backup codes stored by ${CANDIDATE_NAME}:${show(bc)}${logs()}`);
    const d = await challengeOn(other, state.goUser.email);
    const spent = await d.post('/two-factor/verify-backup-code', { json: { code: state.goUser.backupCodes[0] } });
    assert.equal(spent.status, 401, show(spent));
  });

  for (const [from, to] of [['ref', CANDIDATE_NAME], [CANDIDATE_NAME, 'ref']]) {
    it(`a challenge started on ${from} (two_factor cookie and verification rows) is finished on ${to}, with trustDevice`, async () => {
      const s = servers();
      const b = await challengeOn(s[from], state.refUser.email);
      const moved = moveTo(b, s[to]);
      const v = await moved.post('/two-factor/verify-totp', { json: { code: totpFromURI(state.refUser.uri), trustDevice: true } });
      assert.equal(v.status, 200, show(v) + logs());
      assert.ok(moved.jar.get(TRUST_COOKIE), `no trust cookie:${show(v)}`);
      // the trust cookie made by `to` lets the user skip the challenge on `from`
      const t = browser(s[from]);
      t.jar.set(TRUST_COOKIE, moved.jar.get(TRUST_COOKIE));
      const direct = await t.post('/sign-in/email', { json: { email: state.refUser.email, password: PASSWORD } });
      assert.equal(direct.status, 200, show(direct));
      assert.equal(direct.json?.redirect, false, `${from} does not honour the trust cookie made by ${to}:${show(direct)}${logs()}`);
    });

    it(`an OTP sent by ${from} is accepted by ${to}; wrong attempts counted by one server count on the other`, async () => {
      const s = servers();
      const b = await challengeOn(s[from], state.goUser.email);
      const sent = await b.post('/two-factor/send-otp');
      assert.equal(sent.status, 200, show(sent) + logs());
      const m = await s[from].mailbox.take(state.goUser.email, { kind: 'two-factor-otp' });
      assert.ok(m?.token, `no OTP from ${from}`);
      const wrong = m.token === '000000' ? '111111' : '000000';
      for (let i = 0; i < 3; i++) assert.equal((await b.post('/two-factor/verify-otp', { json: { code: wrong } })).status, 401);
      const moved = moveTo(b, s[to]);
      for (let i = 0; i < 2; i++) assert.equal((await moved.post('/two-factor/verify-otp', { json: { code: wrong } })).status, 401);
      const six = await moved.post('/two-factor/verify-otp', { json: { code: m.token } });
      assert.equal(six.json?.code, 'TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE', `${to} does not see the attempts counted by ${from}:${show(six)}${logs()}`);
      await b.post('/two-factor/send-otp');
      const fresh = await s[from].mailbox.take(state.goUser.email, { kind: 'two-factor-otp' });
      const ok = await moveTo(b, s[to]).post('/two-factor/verify-otp', { json: { code: fresh.token } });
      assert.equal(ok.status, 200, show(ok) + logs());
    });
  }

  it('disable on one server: the other no longer challenges', async () => {
    const u = await enableOn(ref, 'tfa-off@shared.example.com');
    const b = browser(other);
    await challengeOn(other, u.email);
    const signed = await challengeOn(ref, u.email);
    await signed.post('/two-factor/verify-totp', { json: { code: totpFromURI(u.uri) } });
    const off = await moveTo(signed, other).post('/two-factor/disable', { json: { password: PASSWORD } });
    assert.equal(off.status, 200, show(off) + logs());
    const r = await b.post('/sign-in/email', { json: { email: u.email, password: PASSWORD } });
    assert.equal(r.json?.redirect, false, show(r));
    const r2 = await browser(ref).post('/sign-in/email', { json: { email: u.email, password: PASSWORD } });
    assert.equal(r2.json?.redirect, false, `the reference still challenges after ${CANDIDATE_NAME} disabled 2FA:${show(r2)}`);
  });

  for (const [from, to] of [['ref', CANDIDATE_NAME], [CANDIDATE_NAME, 'ref']]) {
    it(`an anonymous user made by ${from} is linked away by a sign-up on ${to}`, async () => {
      const s = servers();
      const b = browser(s[from]);
      const a = await b.post('/sign-in/anonymous');
      assert.equal(a.status, 200, show(a) + logs());
      const g = await moveTo(b, s[to]).get('/get-session');
      assert.equal(g.json?.user?.isAnonymous, true, `${to} does not read the anonymous user of ${from}:${show(g)}`);
      const up = await moveTo(b, s[to]).post('/sign-up/email', { json: { name: 'Linked', email: `linked-${from}@shared.example.com`, password: PASSWORD } });
      assert.equal(up.status, 200, show(up));
      const pool = db.pool();
      const { rows } = await pool.query('select count(*)::int as n from "user" where "id" = $1', [a.json.user.id]);
      assert.equal(rows[0].n, 0, `${to} did not delete the anonymous user made by ${from}`);
    });
  }
});
