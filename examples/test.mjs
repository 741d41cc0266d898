// The example services against the real binary: for the FastAPI and the Node service, a valid
// JWT gives the user; an expired, tampered, wrong-audience or wrong-issuer one is 401; after a
// key rotation the new key verifies through a JWKS refetch and the old one while in its grace
// period, and not after. Run by examples/test.sh (make examples), which sets AUTHSERVER_BIN
// and PYTHON and installs the Node service's packages.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

const here = path.dirname(new URL(import.meta.url).pathname);
const BIN = process.env.AUTHSERVER_BIN;
const PYTHON = process.env.PYTHON || 'python3';
if (!BIN) throw new Error('AUTHSERVER_BIN must name the built server binary (run examples/test.sh)');

const children = [];
const dirs = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// run starts a process with exactly env (plus PATH and HOME, so nothing from the caller's
// environment such as DATABASE_URL leaks in) and keeps its output for a failure report.
function run(name, cmd, args, env, cwd) {
  const child = spawn(cmd, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  child.name = name;
  child.output = () => out;
  children.push(child);
  return child;
}

// waitHTTP polls url until it answers at all (any status), failing with the process's output.
async function waitHTTP(child, url, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${child.name} exited ${child.exitCode}:\n${child.output()}`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > end) throw new Error(`${child.name} did not answer ${url}:\n${child.output()}`);
      await sleep(100);
    }
  }
}

// startServer runs the binary with the jwt plugin on a fresh SQLite data folder.
async function startServer(name, extra = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'authserver-examples-'));
  dirs.push(dataDir);
  const child = run(name, BIN, [], {
    PORT: String(port),
    DATA_DIR: dataDir,
    BETTER_AUTH_URL: base,
    BETTER_AUTH_SECRET: randomBytes(24).toString('hex'),
    BETTER_AUTH_PLUGINS: 'jwt',
    ...extra,
  });
  await waitHTTP(child, `${base}/api/auth/ok`);
  return base;
}

const services = {
  fastapi: (env) => [PYTHON, ['app.py'], env, path.join(here, 'fastapi')],
  node: (env) => [process.execPath, ['server.mjs'], env, path.join(here, 'node')],
};

// startService runs one example service trusting the server at authURL; it answers at /me.
async function startService(kind, name, authURL, env = {}) {
  const port = await freePort();
  const [cmd, args, e, cwd] = services[kind]({ AUTH_URL: authURL, PORT: String(port), ...env });
  const child = run(`${kind} ${name}`, cmd, args, e, cwd);
  const url = `http://127.0.0.1:${port}/me`;
  await waitHTTP(child, url);
  return url;
}

// startBoth starts the FastAPI and the Node service with the same settings.
async function startBoth(name, authURL, env) {
  const [fastapi, node] = await Promise.all(Object.keys(services).map((k) => startService(k, name, authURL, env)));
  return { fastapi, node };
}

async function signUp(base, email) {
  const res = await fetch(`${base}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email, password: 'correct horse battery', name: 'Ada Example' }),
  });
  assert.equal(res.status, 200, `sign-up: ${await res.clone().text()}`);
  const body = await res.json();
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { cookie, user: body.user };
}

async function getToken(base, cookie) {
  const res = await fetch(`${base}/api/auth/token`, { headers: { cookie } });
  assert.equal(res.status, 200, `/token: ${await res.clone().text()}`);
  return (await res.json()).token;
}

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const part = (jwt, i) => JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url').toString());

// me asks a service for the user with the JWT as bearer token (none when jwt is undefined).
async function me(url, jwt, scheme = 'Bearer') {
  const res = await fetch(url, { headers: jwt === undefined ? {} : { authorization: `${scheme} ${jwt}` } });
  const body = await res.json();
  return { status: res.status, body };
}

// expectBoth checks the same request against both services, in parallel.
async function expectBoth(svc, jwt, status, check = () => {}, what = '') {
  await Promise.all(Object.entries(svc).map(async ([kind, url]) => {
    const r = await me(url, jwt);
    assert.equal(r.status, status, `${kind} ${what}: ${JSON.stringify(r.body)}`);
    if (status === 401) assert.ok(r.body.code && r.body.message, `${kind} ${what}: 401 without {code,message}`);
    check(r.body, kind);
  }));
}

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

process.on('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

test('other backends verify the JWT', { concurrency: true }, async (t) => {
  await Promise.all([
    t.test('valid, tampered, wrong audience and issuer', async () => {
      // The server names its own audience and issuer; the services are told the same.
      const aud = 'https://api.example.com';
      const iss = 'https://auth.example.com';
      const base = await startServer('main', { JWT_AUDIENCE: aud, JWT_ISSUER: iss });
      const [ok, wrongAud, wrongIss] = await Promise.all([
        startBoth('main', base, { AUDIENCE: aud, ISSUER: iss }),
        startBoth('wrong audience', base, { ISSUER: iss }), // AUDIENCE defaults to AUTH_URL
        startBoth('wrong issuer', base, { AUDIENCE: aud }),
      ]);
      const { cookie, user } = await signUp(base, 'ada@example.com');
      const jwt = await getToken(base, cookie);

      const isUser = (body) => {
        assert.equal(body.user.id, user.id);
        assert.equal(body.user.email, 'ada@example.com');
        assert.equal(body.user.name, 'Ada Example');
        assert.equal(body.user.exp, undefined, 'registered claims are not part of the user');
      };
      await expectBoth(ok, jwt, 200, isUser, 'valid /token JWT');

      // The JWT get-session hands out in set-auth-jwt works the same.
      const gs = await fetch(`${base}/api/auth/get-session`, { headers: { cookie } });
      const headerJWT = gs.headers.get('set-auth-jwt');
      assert.ok(headerJWT, 'get-session sets set-auth-jwt');
      await expectBoth(ok, headerJWT, 200, isUser, 'valid set-auth-jwt JWT');

      const [h, p, s] = jwt.split('.');
      const payload = part(jwt, 1);
      await expectBoth(ok, [h, b64({ ...payload, email: 'mallory@example.com' }), s].join('.'), 401, undefined, 'tampered payload');
      await expectBoth(ok, [h, b64({ ...payload, exp: payload.exp + 86400 }), s].join('.'), 401, undefined, 'extended exp');
      const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
      await expectBoth(ok, [h, p, flipped].join('.'), 401, undefined, 'tampered signature');
      await expectBoth(ok, [b64({ alg: 'none', kid: part(jwt, 0).kid }), p, ''].join('.'), 401, undefined, 'alg none');
      await expectBoth(ok, 'not-a-jwt', 401, undefined, 'garbage');
      await expectBoth(ok, undefined, 401, undefined, 'no Authorization');
      await Promise.all(Object.entries(ok).map(async ([kind, url]) => {
        assert.equal((await me(url, jwt, 'Basic')).status, 401, `${kind}: Basic scheme`);
      }));

      await expectBoth(wrongAud, jwt, 401, undefined, 'wrong audience');
      await expectBoth(wrongIss, jwt, 401, undefined, 'wrong issuer');
    }),

    t.test('expired', async () => {
      const base = await startServer('expiry', { JWT_EXPIRATION_TIME: '6s' });
      const svc = await startBoth('expiry', base, {});
      const { cookie } = await signUp(base, 'eve@example.com');
      const jwt = await getToken(base, cookie);
      const { iat, exp } = part(jwt, 1);
      assert.equal(exp - iat, 6, 'JWT_EXPIRATION_TIME=6s');
      // Still valid: it has 5 to 6 seconds left (room for a slow machine).
      await expectBoth(svc, jwt, 200, (b) => assert.equal(b.user.email, 'eve@example.com'), 'fresh short-lived JWT');
      await sleep(exp * 1000 - Date.now() + 1100);
      await expectBoth(svc, jwt, 401, (b, kind) => assert.equal(b.code, 'TOKEN_EXPIRED', kind), 'expired');
    }),

    t.test('key rotation and grace period', async () => {
      // Every key expires 4 s after it was made and stays published 4 s more.
      const base = await startServer('rotation', { JWT_ROTATION_INTERVAL: '4', JWT_GRACE_PERIOD: '4' });
      // warm keeps the key set for 5 minutes, so only an unknown kid makes it refetch; short
      // keeps it 1 s, so a key the server stopped publishing is soon refused.
      const [warm, short] = await Promise.all([
        startBoth('rotation warm', base, { JWKS_CACHE_SECONDS: '300', JWKS_COOLDOWN_SECONDS: '0' }),
        startBoth('rotation short', base, { JWKS_CACHE_SECONDS: '1', JWKS_COOLDOWN_SECONDS: '0' }),
      ]);
      const { cookie } = await signUp(base, 'rot@example.com');
      const old = await getToken(base, cookie); // mints the first key
      const minted = Date.now(); // the first key was made before this
      await expectBoth(warm, old, 200, undefined, 'first key');
      await expectBoth(short, old, 200, undefined, 'first key');

      await sleep(minted + 4500 - Date.now()); // the first key has expired: the next JWT gets a new one
      const next = await getToken(base, cookie);
      assert.notEqual(part(next, 0).kid, part(old, 0).kid, 'a new key after the rotation interval');
      await expectBoth(warm, next, 200, undefined, 'new key through a refetch on an unknown kid');
      await expectBoth(warm, old, 200, undefined, 'old key within its grace period');
      await expectBoth(short, old, 200, undefined, 'old key within its grace period');

      await sleep(minted + 9200 - Date.now()); // the first key is past its grace period
      const { keys } = await (await fetch(`${base}/api/auth/jwks`)).json();
      assert.ok(!keys.some((k) => k.kid === part(old, 0).kid), 'the old key is no longer published');
      assert.ok(part(old, 1).exp * 1000 > Date.now(), 'the old JWT itself has not expired');
      await expectBoth(short, old, 401, undefined, 'old key past its grace period');
      await expectBoth(short, next, 200, undefined, 'the newer key still verifies');
    }),
  ]);
});
