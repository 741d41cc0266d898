// The Go server's own /content API (Better-Auth has none, so nothing is compared here): the real
// better-auth client signs up against the Go server, then the session it got opens /content/* both
// ways a frontend sends it — the cookie the browser keeps and `Authorization: Bearer` with the
// token from the `set-auth-token` header, as an axios interceptor does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthClient } from 'better-auth/client';
import { Browser } from '../lib/http.mjs';
import { APP_ORIGIN, createDatabase, SELF, startGo } from '../lib/servers.mjs';

let db;
let go;

before(async () => {
  if (SELF) return;
  db = await createDatabase();
  go = await startGo({ databaseUrl: db.url });
});

after(async () => {
  await go?.stop();
  await db?.drop();
});

test('real client session opens /content by cookie and by bearer', { skip: SELF ? 'Go-only API' : false }, async () => {
  const browser = new Browser({ baseURL: go.url, appOrigin: APP_ORIGIN });
  let bearer = null;
  const client = createAuthClient({
    baseURL: go.url,
    fetchOptions: {
      customFetchImpl: browser.fetchImpl(),
      onSuccess: (ctx) => {
        const t = ctx.response.headers.get('set-auth-token');
        if (t) bearer = t;
      },
    },
  });
  const email = `content.${Date.now()}@example.com`;
  const { data, error } = await client.signUp.email({ name: 'Reader', email, password: 'password123' });
  assert.equal(error, null);
  assert.ok(data.token, 'sign-up returned a session token');
  assert.ok(bearer, 'sign-up exposed set-auth-token');

  // Cookie: the browser's jar.
  const byCookie = await browser.get('/content/profile', { absolutePath: true });
  assert.equal(byCookie.status, 200, byCookie.text);
  assert.equal(JSON.parse(byCookie.text).level !== undefined, true);

  // Bearer, from a client without cookies (the axios interceptor case).
  const bare = new Browser({ baseURL: go.url, appOrigin: APP_ORIGIN });
  const put = await bare.request('PUT', '/content/profile', {
    absolutePath: true, cookies: false, json: { level: 'advanced', topics: ['security'] },
    headers: { authorization: `Bearer ${bearer}` },
  });
  assert.equal(put.status, 200, put.text);
  const feed = await bare.get('/content/feed', { absolutePath: true, cookies: false, headers: { authorization: `Bearer ${data.token}` } });
  assert.equal(feed.status, 200, feed.text);
  const body = JSON.parse(feed.text);
  assert.ok(Array.isArray(body.items) && body.items.length > 0, 'the feed has items');

  // Without a session: Better-Auth's 401 shape.
  const anon = await bare.get('/content/feed', { absolutePath: true, cookies: false });
  assert.equal(anon.status, 401);
  assert.deepEqual(JSON.parse(anon.text), { message: 'Unauthorized', code: 'UNAUTHORIZED' });

  // Signing out with the client revokes the session for both ways of presenting it.
  await client.signOut();
  const after1 = await bare.get('/content/feed', { absolutePath: true, cookies: false, headers: { authorization: `Bearer ${bearer}` } });
  assert.equal(after1.status, 401);
});
