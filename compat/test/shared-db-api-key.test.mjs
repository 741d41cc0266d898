// Both servers on ONE database with api-key (keys as sessions, no rate limit): a key created on one
// server authenticates on the other (the same SHA-256 hash in the same table), both list the same
// keys, and a key the other server deletes or disables stops working at once on the Go server even
// after it cached the key (Better-Auth's writes fire the Go server's triggers).
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { Browser } from '../lib/http.mjs';
import { describeRecord } from '../lib/compare.mjs';
import { createDatabase, startReference, startCandidate, APP_ORIGIN, CANDIDATE_NAME } from '../lib/servers.mjs';

const PASSWORD = 'password1234';
const ENV = { BETTER_AUTH_PLUGINS: 'api-key', API_KEY_ENABLE_SESSION: 'true', API_KEY_RATE_LIMIT_ENABLED: 'false' };
const EMAIL = 'keys@shared.example.com';

describe('shared database with api keys', () => {
  let db;
  let ref;
  let other;
  const cleanup = [];
  const browser = (srv) => new Browser({ baseURL: srv.url, appOrigin: APP_ORIGIN });
  const show = (r) => `\n${describeRecord(r)}`;
  const logs = () => `\n--- ref log ---\n${ref?.logTail(30)}\n--- ${CANDIDATE_NAME} log ---\n${other?.logTail(30)}`;
  const byKey = (srv, key) => browser(srv).get('/get-session', { headers: { 'x-api-key': key } });
  const state = {};

  before(async () => {
    db = await createDatabase();
    cleanup.push(() => db.drop());
    ref = await startReference({ databaseUrl: db.url, env: ENV });
    cleanup.push(() => ref.stop());
  }, { timeout: 360000 });

  after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  it('the reference creates the schema; a user makes keys there', async () => {
    const b = browser(ref);
    const up = await b.post('/sign-up/email', { json: { name: 'Shared Keys', email: EMAIL, password: PASSWORD } });
    assert.equal(up.status, 200, show(up));
    state.userId = up.json.user.id;
    for (const name of ['ref-a', 'ref-b']) {
      const k = await b.post('/api-key/create', { json: { name } });
      assert.equal(k.status, 200, show(k));
      state[name] = k.json;
    }
    state.refBrowser = b;
  });

  it(`the ${CANDIDATE_NAME} server starts on the same database and accepts the reference's keys`, { timeout: 360000 }, async () => {
    other = await startCandidate({ databaseUrl: db.url, env: ENV });
    cleanup.push(() => other.stop());
    const g = await byKey(other, state['ref-a'].key);
    assert.equal(g.status, 200, show(g) + logs());
    assert.equal(g.json?.user?.id, state.userId, show(g));
    assert.equal(g.json?.session?.id, state['ref-a'].id, show(g));
  });

  it(`a key made on the ${CANDIDATE_NAME} server works on the reference; both list the same keys`, async () => {
    const b = browser(other);
    const inn = await b.post('/sign-in/email', { json: { email: EMAIL, password: PASSWORD } });
    assert.equal(inn.status, 200, show(inn));
    const k = await b.post('/api-key/create', { json: { name: 'go' } });
    assert.equal(k.status, 200, show(k) + logs());
    const g = await byKey(ref, k.json.key);
    assert.equal(g.status, 200, show(g));
    assert.equal(g.json?.user?.id, state.userId, show(g));
    const names = async (srv, br) => {
      const l = await br.get('/api-key/list?sortBy=name');
      assert.equal(l.status, 200, show(l));
      return l.json.apiKeys.map((x) => x.name);
    };
    assert.deepEqual(await names(other, b), await names(ref, state.refBrowser));
    state.goBrowser = b;
  });

  it(`a key the reference disables or deletes stops at once on the ${CANDIDATE_NAME} server, cached or not`, async () => {
    for (let i = 0; i < 3; i++) {
      for (const name of ['ref-a', 'ref-b']) {
        const g = await byKey(other, state[name].key);
        assert.equal(g.status, 200, show(g) + logs());
      }
    }
    const steps = [
      ['ref-a', () => state.refBrowser.post('/api-key/update', { json: { keyId: state['ref-a'].id, enabled: false } }), 'KEY_DISABLED'],
      ['ref-b', () => state.refBrowser.post('/api-key/delete', { json: { keyId: state['ref-b'].id } }), 'INVALID_API_KEY'],
    ];
    for (const [name, revoke, code] of steps) {
      const r = await revoke();
      assert.equal(r.status, 200, show(r));
      const deadline = Date.now() + 2000;
      for (;;) {
        const g = await byKey(other, state[name].key);
        if (g.status === 401 && g.json?.code === code) break;
        assert.ok(Date.now() < deadline, `${name} still accepted after the reference revoked it:${show(g)}${logs()}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    }
  });
});
