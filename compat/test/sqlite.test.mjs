// Optional: the Go server on SQLite (no DATABASE_URL; the file lives in DATA_DIR).
// Its schema is compared with the SQLite DDL that better-auth 1.7.25's own
// getMigrations() produces (from shared/spec/better-auth-1.7.25-core-schema.sql),
// and a short flow is compared with the reference server (on Postgres).
// Needs the sqlite3 command-line tool; skipped without it or with COMPAT_SELF=1.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, before, after } from 'node:test';
import { Browser } from '../lib/http.mjs';
import { differences, formatMismatch } from '../lib/compare.mjs';
import { createDatabase, startReference, startGo, APP_ORIGIN, SELF } from '../lib/servers.mjs';

const REFERENCE_SQLITE_DDL = `
create table "user" ("id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" integer not null, "image" text, "createdAt" date not null, "updatedAt" date not null);
create table "session" ("id" text not null primary key, "expiresAt" date not null, "token" text not null unique, "createdAt" date not null, "updatedAt" date not null, "ipAddress" text, "userAgent" text, "userId" text not null references "user" ("id") on delete cascade);
create table "account" ("id" text not null primary key, "accountId" text not null, "providerId" text not null, "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text, "idToken" text, "accessTokenExpiresAt" date, "refreshTokenExpiresAt" date, "scope" text, "password" text, "createdAt" date not null, "updatedAt" date not null);
create table "verification" ("id" text not null primary key, "identifier" text not null, "value" text not null, "expiresAt" date not null, "createdAt" date not null, "updatedAt" date not null);
create index "session_userId_idx" on "session" ("userId");
create index "account_userId_idx" on "account" ("userId");
create index "verification_identifier_idx" on "verification" ("identifier");
`;

const TABLES = ['user', 'session', 'account', 'verification'];

function hasSqlite3() {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function sqliteJSON(file, sql) {
  const out = execFileSync('sqlite3', ['-json', '-readonly', file, sql], { encoding: 'utf8' }).trim();
  return out ? JSON.parse(out) : [];
}

function sqliteSchema(file) {
  const tables = sqliteJSON(file, "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name").map((r) => r.name);
  const out = { tables, columns: [], indexes: [], foreignKeys: [] };
  for (const t of TABLES.filter((x) => tables.includes(x))) {
    for (const c of sqliteJSON(file, `pragma table_info("${t}")`)) {
      out.columns.push({ table: t, name: c.name, type: c.type.toLowerCase(), notnull: c.notnull, dflt: c.dflt_value, pk: c.pk });
    }
    for (const i of sqliteJSON(file, `pragma index_list("${t}")`)) {
      const cols = sqliteJSON(file, `pragma index_info("${i.name}")`).map((x) => x.name).join(',');
      // auto-index names (sqlite_autoindex_*) depend on creation details; compare by origin
      out.indexes.push({ table: t, name: i.origin === 'c' ? i.name : `(${i.origin})`, unique: i.unique, columns: cols });
    }
    for (const f of sqliteJSON(file, `pragma foreign_key_list("${t}")`)) {
      out.foreignKeys.push({ table: t, from: f.from, to: `${f.table}.${f.to}`, on_delete: f.on_delete });
    }
  }
  for (const k of ['columns', 'indexes', 'foreignKeys']) out[k].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return out;
}

const skip = SELF ? 'COMPAT_SELF=1 (no Go server)' : !hasSqlite3() ? 'sqlite3 CLI not installed' : false;

describe('Go server on SQLite', { skip }, () => {
  const cleanup = [];
  let ref;
  let go;
  let goDB;
  let startError;

  before(async () => {
    try {
      const db = await createDatabase();
      cleanup.push(() => db.drop());
      const [r, g] = await Promise.allSettled([startReference({ databaseUrl: db.url }), startGo({ databaseUrl: null })]);
      for (const s of [r, g]) if (s.status === 'fulfilled') cleanup.push(() => s.value.stop());
      if (r.status === 'rejected') throw r.reason;
      if (g.status === 'rejected') throw g.reason;
      ref = r.value;
      go = g.value;
      const files = readdirSync(go.dataDir, { recursive: true }).map(String).filter((f) => /\.(db|sqlite3?)$/.test(f));
      goDB = files.length ? path.join(go.dataDir, files[0]) : null;
    } catch (e) {
      startError = e;
    }
  }, { timeout: 360000 });

  after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  it('creates its SQLite database in DATA_DIR', () => {
    if (startError) throw startError;
    assert.ok(goDB && existsSync(goDB), `no *.db file in DATA_DIR (${go.dataDir}): ${readdirSync(go.dataDir).join(', ')}`);
  });

  it('the SQLite schema matches better-auth 1.7.25 (plus schema_migrations, content_* and authserver_* tables)', () => {
    if (startError) throw startError;
    assert.ok(goDB, 'no database file');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compat-sqlite-ref-'));
    try {
      const refFile = path.join(dir, 'ref.db');
      execFileSync('sqlite3', [refFile], { input: REFERENCE_SQLITE_DDL });
      const want = sqliteSchema(refFile);
      const got = sqliteSchema(goDB);
      for (const t of TABLES) assert.ok(got.tables.includes(t), `missing table ${t}`);
      // allowed: migration bookkeeping, the Go server's own content API (content_*) and its
      // security bookkeeping (authserver_*)
      const extra = got.tables.filter((t) => !TABLES.includes(t) && t !== 'schema_migrations' && !t.startsWith('content_') && !t.startsWith('authserver_'));
      assert.deepEqual(extra, [], `unexpected extra tables: ${extra.join(', ')}`);
      const problems = [];
      for (const k of ['columns', 'indexes', 'foreignKeys']) {
        const a = new Set(want[k].map((x) => JSON.stringify(x)));
        const b = new Set(got[k].map((x) => JSON.stringify(x)));
        const missing = [...a].filter((x) => !b.has(x));
        const added = [...b].filter((x) => !a.has(x));
        if (missing.length || added.length) problems.push(`${k}:\n  only in better-auth DDL:\n    ${missing.join('\n    ') || '-'}\n  only in go:\n    ${added.join('\n    ') || '-'}`);
      }
      assert.equal(problems.length, 0, problems.join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a sign-up / session / sign-out flow like the reference', async () => {
    if (startError) throw startError;
    const run = async (srv) => {
      const b = new Browser({ baseURL: srv.url, appOrigin: APP_ORIGIN });
      const steps = [];
      const email = 'sqlite.flow@example.com';
      steps.push(await b.post('/sign-up/email', { json: { name: 'Lite', email, password: 'password1234' } }));
      steps.push(await b.get('/get-session'));
      steps.push(await b.post('/sign-up/email', { json: { name: 'Lite', email: email.toUpperCase(), password: 'password1234' } }));
      steps.push(await b.post('/update-user', { json: { name: 'Lite 2', image: null } }));
      steps.push(await b.post('/sign-in/email', { json: { email, password: 'password1234', rememberMe: false } }));
      steps.push(await b.get('/list-sessions'));
      steps.push(await b.get('/list-accounts'));
      steps.push(await b.post('/change-password', { json: { currentPassword: 'password1234', newPassword: 'password5678', revokeOtherSessions: true } }));
      steps.push(await b.post('/sign-out', { json: {} }));
      steps.push(await b.get('/get-session'));
      steps.push(await b.post('/sign-in/email', { json: { email, password: 'password5678' } }));
      return steps;
    };
    const [a, g] = await Promise.all([run(ref), run(go)]);
    const failures = [];
    a.forEach((r, i) => {
      const d = differences(r, g[i], {});
      if (d.length) failures.push(formatMismatch(`#${i + 1} ${r.label}`, d, r, g[i]));
    });
    assert.equal(failures.length, 0, failures.join('\n\n'));
  });
});
