// The api-key plugin (@better-auth/api-key 1.7.5, BETTER_AUTH_PLUGINS=api-key on both servers):
// create (the key shown once; the row holds base64url(SHA-256(key)) and the first characters),
// get, list (paging, sorting), update, delete, the refusals (signed out, server-only fields,
// lengths, expiry bounds, another user's key), verify not being on the wire, and, with
// API_KEY_ENABLE_SESSION, a request carrying x-api-key acting as the key's owner with the per-key
// rate limit; plus the real client's apiKeyClient().
import { createHash } from 'node:crypto';
import { createAuthClient } from 'better-auth/client';
import { apiKeyClient } from '@better-auth/api-key/client';
import { compatSuite } from '../lib/harness.mjs';

// The key, its start and its owner's id are random on each side: compared by form.
const KEY = { compare: { randomKeys: ['key', 'start', 'referenceId'] } };
const err = (res, status, code) => res.status === status && res.json?.code === code;

/**
 * A browser whose every answer compares the key's random fields (and the rate limit's
 * milliseconds) by form, with key ids in labels replaced, so client calls compare too.
 */
function keyBrowser(s) {
  const b = s.browser();
  const record = b.onResponse;
  b.onResponse = async (res, opts) => {
    res.label = res.label.replace(/id=[A-Za-z0-9]+/, 'id=<id>');
    res.compareOpts = { randomKeys: ['key', 'start', 'referenceId', 'tryAgainIn'], ...(res.compareOpts ?? {}) };
    await record(res, opts);
  };
  return b;
}

async function owner(s, local) {
  const b = keyBrowser(s);
  const up = await s.signUp(b, { email: s.email(local) });
  if (up.status !== 200) throw new Error(`sign-up: ${up.status} ${up.text}`);
  return { b, id: up.json.user.id };
}

compatSuite(
  'plugin api-key',
  (scenario) => {
    scenario('create, get, list, update, delete; the stored hash', async (s) => {
      const { b, id: uid } = await owner(s, 'keys');
      const c = await b.post('/api-key/create', { json: { name: 'ci', expiresIn: 2 * 86400 }, ...KEY });
      const plain = c.json?.key ?? '';
      s.expect('200, a 64-letter key, start = its first 6, owned by the caller', c.status === 200 && /^[A-Za-z]{64}$/.test(plain) && c.json.start === plain.slice(0, 6) && c.json.referenceId === uid, c.json);
      const rows = await s.sql('select "key", "start", "configId", "enabled", "requestCount" from "apikey" where "id" = $1', [c.json.id]);
      const hash = createHash('sha256').update(plain).digest('base64url');
      s.record('the row: hashed key, start, defaults', rows.map((r) => ({ hashed: r.key === hash, start: r.start === plain.slice(0, 6), configId: r.configId, enabled: r.enabled, requestCount: r.requestCount })));
      const p = await b.post('/api-key/create', { json: { prefix: 'ak_' }, ...KEY });
      s.expect('a prefixed key', p.json?.key?.startsWith('ak_') && p.json.key.length === 67, p.json);
      await b.get(`/api-key/get?id=${c.json.id}`, KEY);
      await b.get('/api-key/get?id=nope');
      await b.get('/api-key/get');
      await b.get('/api-key/list', KEY);
      await b.get('/api-key/list?limit=1&offset=1&sortBy=createdAt&sortDirection=desc', KEY);
      await b.get('/api-key/list?limit=-1');
      await b.post('/api-key/update', { json: { keyId: c.json.id, name: 'renamed', enabled: false, expiresIn: null }, ...KEY });
      await b.post('/api-key/update', { json: { keyId: c.json.id } });
      await b.post('/api-key/update', { json: { keyId: c.json.id, name: '' } });
      await b.post('/api-key/delete', { json: { keyId: c.json.id } });
      await b.get(`/api-key/get?id=${c.json.id}`);
      await b.post('/api-key/delete', { json: { keyId: c.json.id } });
      const v = await b.post('/api-key/verify', { json: { key: plain } });
      s.expect('verify is server-only: 404', v.status === 404, v.text);
    });

    scenario('refusals: signed out, server-only fields, bounds, another user', async (s) => {
      const anon = keyBrowser(s);
      await anon.post('/api-key/create', { json: {} });
      await anon.get('/api-key/list');
      await anon.post('/api-key/update', { json: { keyId: 'x', name: 'n' } });
      const { b, id } = await owner(s, 'refuse');
      for (const body of [{ remaining: 5 }, { refillAmount: 5, refillInterval: 1000 }, { rateLimitMax: 5 }, { rateLimitEnabled: false }, { permissions: { files: ['read'] } }]) {
        const r = await b.post('/api-key/create', { json: body });
        s.expect(`server-only ${Object.keys(body)[0]}: 400 SERVER_ONLY_PROPERTY`, err(r, 400, 'SERVER_ONLY_PROPERTY'), r.json);
      }
      await b.post('/api-key/create', { json: { userId: id } });
      await b.post('/api-key/create', { json: { metadata: { a: 1 } } });
      await b.post('/api-key/create', { json: { expiresIn: 3600 } });
      await b.post('/api-key/create', { json: { expiresIn: 400 * 86400 } });
      await b.post('/api-key/create', { json: { prefix: 'p'.repeat(33) } });
      await b.post('/api-key/create', { json: { name: 'n'.repeat(33) } });
      const k = await b.post('/api-key/create', { json: { name: 'mine' }, ...KEY });
      const other = (await owner(s, 'other')).b;
      await other.get(`/api-key/get?id=${k.json.id}`);
      await other.post('/api-key/update', { json: { keyId: k.json.id, name: 'theirs' } });
      await other.post('/api-key/delete', { json: { keyId: k.json.id } });
      await other.get('/api-key/list');
      await b.post('/api-key/update', { json: { keyId: k.json.id, remaining: 3 } });
      await b.post('/api-key/update', { json: { keyId: k.json.id, userId: 'someone' } });
    });

    scenario('the real client: apiKeyClient create, list, get, update, delete', async (s) => {
      const { b } = await owner(s, 'client');
      const client = createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: b.fetchImpl() }, plugins: [apiKeyClient()] });
      const created = await client.apiKey.create({ name: 'from-client' });
      s.expect('apiKey.create gives a key', typeof created.data?.key === 'string' && created.data.key.length === 64, created);
      const id = created.data?.id;
      const l = await client.apiKey.list();
      s.record('apiKey.list', { error: l.error, total: l.data?.total, names: l.data?.apiKeys?.map((x) => x.name) });
      const g = await client.apiKey.get({ query: { id } });
      s.record('apiKey.get', { error: g.error, name: g.data?.name, hasKey: 'key' in (g.data ?? {}) });
      const u = await client.apiKey.update({ keyId: id, name: 'renamed' });
      s.record('apiKey.update', { error: u.error, name: u.data?.name });
      await s.clientCall('apiKey.delete', client.apiKey.delete({ keyId: id }));
      await s.clientCall('apiKey.get after delete', client.apiKey.get({ query: { id } }));
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'api-key' } },
);

compatSuite(
  'plugin api-key: keys as sessions, rate limit',
  (scenario) => {
    scenario('x-api-key on get-session and a session endpoint; the window; disabled; unknown', async (s) => {
      const { b, id: uid } = await owner(s, 'bot');
      const k = await b.post('/api-key/create', { json: { name: 'bot' }, ...KEY });
      const plain = k.json.key;
      const anon = keyBrowser(s);
      const g = await anon.get('/get-session', { headers: { 'x-api-key': plain }, compare: { randomKeys: ['key', 'start', 'referenceId'] } });
      s.expect('get-session answers the key owner', g.status === 200 && g.json?.user?.id === uid && g.json?.session?.id === k.json.id && g.json?.session?.token === plain, g.json);
      s.record('session keys', Object.keys(g.json?.session ?? {}).sort());
      await anon.get('/api-key/list', { headers: { 'x-api-key': plain }, ...KEY });
      await anon.get('/list-sessions', { headers: { 'x-api-key': plain }, compare: { body: 'presence' } });
      const limited = await anon.get('/api-key/list', { headers: { 'x-api-key': plain } });
      s.expect('the fourth use in the window: 429 RATE_LIMITED with tryAgainIn', err(limited, 429, 'RATE_LIMITED') && limited.json?.details?.tryAgainIn > 0, limited.json);
      await anon.get('/get-session', { headers: { 'x-api-key': 'short' } });
      await anon.get('/get-session', { headers: { 'x-api-key': 'Z'.repeat(64) } });
      const k2 = await b.post('/api-key/create', { json: { name: 'off' }, ...KEY });
      await b.post('/api-key/update', { json: { keyId: k2.json.id, enabled: false }, ...KEY });
      await anon.get('/get-session', { headers: { 'x-api-key': k2.json.key } });
      const k3 = await b.post('/api-key/create', { json: { name: 'gone' }, ...KEY });
      await b.post('/api-key/delete', { json: { keyId: k3.json.id } });
      await anon.get('/get-session', { headers: { 'x-api-key': k3.json.key } });
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'api-key', API_KEY_ENABLE_SESSION: 'true', API_KEY_RATE_LIMIT_MAX_REQUESTS: '3', API_KEY_RATE_LIMIT_TIME_WINDOW: '60000' } },
);
