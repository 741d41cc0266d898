// Process and database management for the compat tests: throwaway Postgres
// databases, the reference Better-Auth server, and the Go server.

import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync, readdirSync, mkdirSync, renameSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { RefMailbox, OutboxMailbox } from './mail.mjs';

export const COMPAT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(COMPAT_DIR, '..');

export const ADMIN_DB_URL = process.env.COMPAT_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const SECRET = process.env.COMPAT_SECRET || 'compat-secret-0123456789abcdef0123456789abcdef';
export const BASE_URL = 'http://localhost:8000';
export const APP_ORIGIN = 'http://app.example.test';
export const VERBOSE = process.env.COMPAT_VERBOSE === '1';
export const SELF = process.env.COMPAT_SELF === '1';
const KEEP_DB = process.env.COMPAT_KEEP_DB === '1';

// ---------------------------------------------------------------------------
// Process bookkeeping: whatever happens, children are killed on exit.

const liveChildren = new Set();
process.on('exit', () => {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------
// Databases

function dbURL(name) {
  const u = new URL(ADMIN_DB_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Drops compat_<pid>_* databases left behind by processes that no longer exist. */
async function dropStaleDatabases(client) {
  const { rows } = await client.query("select datname from pg_database where datname like 'compat\\_%'");
  for (const { datname } of rows) {
    const m = /^compat_(\d+)_[0-9a-f]+$/.exec(datname);
    if (m && !pidAlive(Number(m[1]))) {
      await client.query(`drop database if exists "${datname}" with (force)`).catch(() => {});
    }
  }
}

let staleChecked = false;

/** Creates an empty database; returns {name, url, drop()}. */
export async function createDatabase() {
  const name = `compat_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_DB_URL });
  await admin.connect();
  try {
    if (!staleChecked) {
      staleChecked = true;
      await dropStaleDatabases(admin);
    }
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const pools = [];
  return {
    name,
    url: dbURL(name),
    /** A pg Pool for direct manipulation; closed by drop(). */
    pool() {
      const p = new pg.Pool({ connectionString: dbURL(name), max: 2 });
      p.on('error', () => {}); // idle connections terminated by a teardown's forced drop
      pools.push(p);
      return p;
    },
    async drop() {
      await Promise.all(pools.map((p) => p.end().catch(() => {})));
      if (KEEP_DB) return;
      const c = new pg.Client({ connectionString: ADMIN_DB_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

// ---------------------------------------------------------------------------
// Server processes

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function commonEnv(databaseUrl, port) {
  const env = { ...process.env };
  // Do not leak the test runner's own settings into the servers.
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  delete env.TEST;
  return Object.assign(env, {
    PORT: String(port),
    DATABASE_URL: databaseUrl ?? '',
    BETTER_AUTH_SECRET: SECRET,
    BETTER_AUTH_URL: BASE_URL,
    BETTER_AUTH_TRUSTED_ORIGINS: APP_ORIGIN,
  });
}

class ServerProcess {
  constructor(name, child) {
    this.name = name;
    this.child = child;
    this.log = [];
    this.exited = null;
    liveChildren.add(child);
    const onData = (stream) => (chunk) => {
      const s = chunk.toString();
      this.log.push(s);
      if (this.log.length > 2000) this.log.splice(0, 1000);
      if (VERBOSE) process.stderr.write(s.replace(/^/gm, `[${name}${stream}] `));
    };
    child.stdout.on('data', onData(''));
    child.stderr.on('data', onData('!'));
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        liveChildren.delete(child);
        resolve(this.exited);
      });
    });
  }

  logTail(n = 60) {
    return this.log.join('').split('\n').slice(-n).join('\n');
  }

  async stop() {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exitPromise;
    clearTimeout(t);
  }
}

async function waitFor(fn, { timeoutMs, server, what }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exited) {
      throw new Error(`${server.name} exited (${JSON.stringify(server.exited)}) before ${what}:\n${server.logTail()}`);
    }
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${server.name}: timed out waiting for ${what}:\n${server.logTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function httpOK(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/**
 * Starts the reference Better-Auth server; options are deep-merged into its
 * configuration (REF_OPTIONS_JSON); env adds variables read by both servers alike
 * (BETTER_AUTH_PLUGINS and the plugins' options). Returns {name, url, stop(), logTail()}.
 */
export async function startReference({ databaseUrl, options, genericOAuth, env: extraEnv = {}, name = 'ref' } = {}) {
  const env = commonEnv(databaseUrl, 0);
  Object.assign(env, extraEnv);
  env.NODE_ENV = 'development';
  if (options) env.REF_OPTIONS_JSON = JSON.stringify(options);
  if (genericOAuth?.length) env.REF_GENERIC_OAUTH_JSON = JSON.stringify(genericOAuth);
  const child = spawn(process.execPath, [path.join(COMPAT_DIR, 'lib', 'ref-server.mjs')], {
    cwd: COMPAT_DIR,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new ServerProcess(name, child);
  let port;
  await waitFor(
    async () => {
      const m = /ready (\d+)/.exec(proc.log.join(''));
      if (m) port = Number(m[1]);
      return Boolean(m);
    },
    { timeoutMs: 30000, server: proc, what: '"ready"' },
  );
  proc.url = `http://127.0.0.1:${port}`;
  proc.port = port;
  proc.options = options ?? {};
  proc.mailbox = new RefMailbox(proc.url);
  return proc;
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function deepMerge(base, extra) {
  const out = { ...base };
  for (const [k, v] of Object.entries(extra ?? {})) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k], v) : v;
  }
  return out;
}

/**
 * Better-Auth options (as given to the reference through REF_OPTIONS_JSON) and the Go
 * server's environment variables that mean the same. An option without an entry here
 * makes goEnvFor() throw, so a scenario cannot silently configure only one side.
 * `true` for the two optional mail callbacks is the marker lib/ref-server.mjs replaces
 * with its recorder.
 */
const GO_ENV_FOR_OPTION = {
  // the application's name (two-factor's default TOTP issuer, mail texts)
  appName: 'APP_NAME',
  'emailAndPassword.requireEmailVerification': 'REQUIRE_EMAIL_VERIFICATION',
  'emailAndPassword.revokeSessionsOnPasswordReset': 'REVOKE_SESSIONS_ON_PASSWORD_RESET',
  'emailAndPassword.resetPasswordTokenExpiresIn': 'RESET_PASSWORD_TOKEN_EXPIRES_IN',
  'emailAndPassword.minPasswordLength': 'MIN_PASSWORD_LENGTH',
  'emailAndPassword.maxPasswordLength': 'MAX_PASSWORD_LENGTH',
  'emailAndPassword.autoSignIn': (v) => ({ DISABLE_AUTO_SIGN_IN: String(v === false) }),
  'emailAndPassword.disableSignUp': 'DISABLE_SIGN_UP',
  'emailVerification.sendOnSignUp': 'SEND_VERIFICATION_ON_SIGN_UP',
  'emailVerification.sendOnSignIn': 'SEND_VERIFICATION_ON_SIGN_IN',
  'emailVerification.autoSignInAfterVerification': 'AUTO_SIGN_IN_AFTER_VERIFICATION',
  'emailVerification.expiresIn': 'VERIFICATION_TOKEN_EXPIRES_IN',
  'user.changeEmail.enabled': 'CHANGE_EMAIL_ENABLED',
  'user.changeEmail.updateEmailWithoutVerification': 'CHANGE_EMAIL_WITHOUT_VERIFICATION',
  'user.changeEmail.sendChangeEmailConfirmation': (v) => ({ CHANGE_EMAIL_CONFIRMATION: String(v === true) }),
  'user.deleteUser.enabled': 'DELETE_USER_ENABLED',
  'user.deleteUser.sendDeleteAccountVerification': (v) => ({ DELETE_USER_VERIFICATION: String(v === true) }),
  'user.deleteUser.deleteTokenExpiresIn': 'DELETE_USER_TOKEN_EXPIRES_IN',
  'session.expiresIn': 'SESSION_EXPIRES_IN',
  'session.updateAge': 'SESSION_UPDATE_AGE',
  'session.freshAge': 'SESSION_FRESH_AGE',
  // Better-Auth matches these against the X-Forwarded-For hops; the Go server also requires
  // the connection to come from one of them (it always does here: the client is local)
  'advanced.ipAddress.trustedProxies': (v) => ({ TRUSTED_PROXIES: v.join(',') }),
  // social sign-in (issue 8)
  'account.encryptOAuthTokens': 'ENCRYPT_OAUTH_TOKENS',
  'account.accountLinking.enabled': 'ACCOUNT_LINKING_ENABLED',
  'account.accountLinking.allowDifferentEmails': 'ACCOUNT_LINKING_ALLOW_DIFFERENT_EMAILS',
  'account.accountLinking.disableImplicitLinking': 'ACCOUNT_LINKING_DISABLE_IMPLICIT',
  'account.accountLinking.requireLocalEmailVerified': 'ACCOUNT_LINKING_REQUIRE_LOCAL_EMAIL_VERIFIED',
  'account.accountLinking.updateUserInfoOnLink': 'ACCOUNT_LINKING_UPDATE_USER_INFO',
  'account.accountLinking.trustedProviders': (v) => ({ TRUSTED_PROVIDERS: v.join(',') }),
};

/**
 * genericOAuth plugin config keys (one entry of its `config` array, as given to the
 * reference through REF_GENERIC_OAUTH_JSON) and the Go server's OIDC_<ID>_* variables.
 */
const GO_ENV_FOR_GENERIC_OAUTH = {
  discoveryUrl: 'DISCOVERY_URL',
  clientId: 'CLIENT_ID',
  clientSecret: 'CLIENT_SECRET',
  scopes: (v) => ({ SCOPES: v.join(' ') }),
  pkce: 'PKCE',
  prompt: 'PROMPT',
  redirectURI: 'REDIRECT_URI',
  disableSignUp: 'DISABLE_SIGN_UP',
  disableImplicitSignUp: 'DISABLE_IMPLICIT_SIGN_UP',
  requireEmailVerification: 'REQUIRE_EMAIL_VERIFICATION',
  overrideUserInfo: 'OVERRIDE_USER_INFO',
  authentication: (v) => ({ TOKEN_AUTH: v }),
};

/** The Go server's environment for a genericOAuth `config` array (OIDC_PROVIDERS, OIDC_<ID>_*). */
export function goEnvForGenericOAuth(configs = []) {
  const env = {};
  if (!configs.length) return env;
  env.OIDC_PROVIDERS = configs.map((c) => c.providerId).join(',');
  for (const c of configs) {
    const prefix = `OIDC_${c.providerId.toUpperCase().replace(/[-.]/g, '_')}_`;
    for (const [k, v] of Object.entries(c)) {
      if (k === 'providerId') continue;
      const m = GO_ENV_FOR_GENERIC_OAUTH[k];
      if (m === undefined) throw new Error(`compat: no Go server setting known for the genericOAuth option ${k}; add it to GO_ENV_FOR_GENERIC_OAUTH in lib/servers.mjs`);
      if (typeof m === 'function') for (const [ek, ev] of Object.entries(m(v))) env[prefix + ek] = String(ev);
      else env[prefix + m] = String(v);
    }
  }
  return env;
}

/** The Go server's environment for Better-Auth options (see GO_ENV_FOR_OPTION). */
export function goEnvFor(options = {}) {
  // The reference only has a change-email confirmation step when the callback is
  // installed; the Go default is "on", so it is always set explicitly.
  const env = { CHANGE_EMAIL_CONFIRMATION: 'false' };
  const walk = (obj, prefix) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      const m = GO_ENV_FOR_OPTION[key];
      if (m === undefined && isPlainObject(v)) {
        walk(v, key);
        continue;
      }
      if (m === undefined) throw new Error(`compat: no Go server setting known for the Better-Auth option ${key}; add it to GO_ENV_FOR_OPTION in lib/servers.mjs`);
      if (typeof m === 'function') Object.assign(env, m(v));
      else env[m] = String(v);
    }
  };
  walk(options, '');
  return env;
}

let goBinary;

function runGoBuild(out, pkg = '.') {
  return new Promise((resolve, reject) => {
    execFile('go', ['build', '-o', out, pkg], { cwd: REPO_ROOT, timeout: 300000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`go build failed in ${REPO_ROOT}:\n${stdout}${stderr}${err.message}`));
      else resolve();
    });
  });
}

/** Removes shared build directories of test runs whose runner process is gone. */
function dropStaleBuilds() {
  for (const name of readdirSync(os.tmpdir())) {
    const m = /^compat-go-run-(\d+)-\d+(\.[a-z]+\.lock|\.lock)?$/.exec(name);
    if (m && !pidAlive(Number(m[1]))) rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

/**
 * Builds the Go server. Under `node --test` all test files of one run share one
 * binary (built by the first file that needs it, keyed by the runner's pid), so
 * that every file tests the same code even if the tree changes during the run.
 * Outside the runner each process builds its own binary.
 */
export async function buildGo() {
  if (process.env.COMPAT_GO_BIN) return process.env.COMPAT_GO_BIN;
  if (goBinary && existsSync(goBinary)) return goBinary;
  goBinary = await buildShared('server', '.');
  return goBinary;
}

let idpBinary;

/** Builds the test OpenID provider (compat/testidp), shared by a run like the server. */
export async function buildIdp() {
  if (process.env.COMPAT_IDP_BIN) return process.env.COMPAT_IDP_BIN;
  if (idpBinary && existsSync(idpBinary)) return idpBinary;
  idpBinary = await buildShared('testidp', './compat/testidp');
  return idpBinary;
}

async function buildShared(file, pkg) {
  if (!process.env.NODE_TEST_CONTEXT) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compat-go-build-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    await runGoBuild(path.join(dir, file), pkg);
    return path.join(dir, file);
  }
  dropStaleBuilds();
  // the runner's pid plus its start time (guards against pid reuse)
  let started = '0';
  try {
    started = readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
  } catch {
    /* not Linux */
  }
  const dir = path.join(os.tmpdir(), `compat-go-run-${process.ppid}-${started}`);
  const out = path.join(dir, file);
  const failed = path.join(dir, `${file}-build-error.txt`);
  const lock = `${dir}.${file}.lock`;
  for (;;) {
    if (existsSync(out)) break;
    if (existsSync(failed)) throw new Error(readFileSync(failed, 'utf8'));
    let haveLock = false;
    try {
      mkdirSync(lock);
      haveLock = true;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    if (!haveLock) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      mkdirSync(dir, { recursive: true });
      try {
        await runGoBuild(`${out}.tmp`, pkg);
        renameSync(`${out}.tmp`, out);
      } catch (e) {
        writeFileSync(failed, e.message);
        throw e;
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return out;
}

/**
 * Builds (if needed) and starts the Go server. Without a databaseUrl the server
 * is started without DATABASE_URL (it then uses SQLite in DATA_DIR).
 */
export async function startGo({ databaseUrl, name = 'go', env: extraEnv = {} } = {}) {
  const bin = await buildGo();
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'compat-go-data-'));
  const env = commonEnv(databaseUrl, port);
  if (!databaseUrl) delete env.DATABASE_URL;
  env.DATA_DIR = dataDir;
  // Better-Auth believes X-Forwarded-For from anyone by default; the test client is local.
  env.TRUSTED_PROXIES = '127.0.0.1,::1';
  // no SMTP_URL: mail goes to $DATA_DIR/outbox as .eml files
  delete env.SMTP_URL;
  Object.assign(env, extraEnv);
  const child = spawn(bin, [], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new ServerProcess(name, child);
  const url = `http://127.0.0.1:${port}`;
  const origStop = proc.stop.bind(proc);
  proc.stop = async () => {
    await origStop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await httpOK(`${url}/healthz`)) || (await httpOK(`${url}/api/auth/ok`)), {
      timeoutMs: 30000,
      server: proc,
      what: 'GET /healthz or /api/auth/ok = 200',
    });
  } catch (e) {
    await proc.stop();
    throw e;
  }
  proc.url = url;
  proc.port = port;
  proc.dataDir = dataDir;
  proc.env = extraEnv;
  proc.mailbox = new OutboxMailbox(path.join(dataDir, 'outbox'));
  return proc;
}

/**
 * Starts the candidate server: the Go server, or (COMPAT_SELF=1) a second
 * reference server so the comparison machinery can be exercised on its own.
 */
export async function startCandidate({ databaseUrl, options = {}, genericOAuth, env = {} }) {
  if (SELF) {
    const extra = process.env.COMPAT_SELF_OPTIONS ? JSON.parse(process.env.COMPAT_SELF_OPTIONS) : {};
    return startReference({ databaseUrl, name: 'self', options: deepMerge(options, extra), genericOAuth, env });
  }
  return startGo({ databaseUrl, env: { ...goEnvFor(options), ...goEnvForGenericOAuth(genericOAuth), ...env } });
}

/** The redirect URI both servers send to the test provider (BETTER_AUTH_URL + /api/auth/callback/<id>). */
export const IDP_PROVIDER_ID = 'idp';
export const IDP_REDIRECT_URI = `${BASE_URL}/api/auth/callback/${IDP_PROVIDER_ID}`;
export const IDP_CLIENT = { clientId: 'app', clientSecret: 'app-secret' };

/**
 * Builds (once per run) and starts the test OpenID provider (compat/testidp) on a random
 * port. Returns {issuer, discoveryUrl, stop(), logTail()}.
 */
export async function startIdp({ redirectURIs = [IDP_REDIRECT_URI], name = 'idp' } = {}) {
  const bin = await buildIdp();
  const child = spawn(bin, redirectURIs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new ServerProcess(name, child);
  let issuer;
  await waitFor(
    async () => {
      const m = /ready (\S+)/.exec(proc.log.join(''));
      if (m) issuer = m[1];
      return Boolean(m);
    },
    { timeoutMs: 30000, server: proc, what: '"ready"' },
  );
  proc.issuer = issuer;
  proc.discoveryUrl = `${issuer}/.well-known/openid-configuration`;
  proc.url = issuer;
  return proc;
}

export const CANDIDATE_NAME = SELF ? 'self' : 'go';

/**
 * Starts a pair: the reference on database A, the candidate on database B, both
 * configured with the same Better-Auth options (mapped to env vars for Go).
 * Returns {ref: {server, db}, other: {server, db}, stop()}; stop() is safe to
 * call more than once and after a partial start.
 */
export async function startPair({ options = {}, genericOAuth, env = {} } = {}) {
  const resources = [];
  const pair = {
    async stop() {
      const list = resources.splice(0).reverse();
      const errors = [];
      for (const fn of list) {
        try {
          await fn();
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length) throw errors[0];
    },
  };
  try {
    const [dbA, dbB] = await Promise.all([createDatabase(), createDatabase()]);
    resources.push(() => dbA.drop(), () => dbB.drop());
    const [refSrv, otherSrv] = await Promise.allSettled([
      startReference({ databaseUrl: dbA.url, options, genericOAuth, env }),
      startCandidate({ databaseUrl: dbB.url, options, genericOAuth, env }),
    ]);
    for (const s of [refSrv, otherSrv]) if (s.status === 'fulfilled') resources.push(() => s.value.stop());
    if (refSrv.status === 'rejected') throw refSrv.reason;
    if (otherSrv.status === 'rejected') throw otherSrv.reason;
    pair.ref = { name: 'ref', server: refSrv.value, db: dbA };
    pair.other = { name: CANDIDATE_NAME, server: otherSrv.value, db: dbB };
    return pair;
  } catch (e) {
    await pair.stop().catch(() => {});
    throw e;
  }
}
