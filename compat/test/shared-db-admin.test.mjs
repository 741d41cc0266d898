// Both servers on ONE database with admin, the candidate migrating first: its list-users indexes
// (authserver_*, with pg_trgm trigram indexes) must not stop Better-Auth's migrate, must survive
// it, and must not change an answer: list-users search, filter and sort give both servers the same
// users and totals from the same rows (PostgreSQL's LIKE is case-sensitive; the trigram index
// folds case).
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { Browser } from '../lib/http.mjs';
import { describeRecord } from '../lib/compare.mjs';
import { createDatabase, startReference, startCandidate, APP_ORIGIN, CANDIDATE_NAME } from '../lib/servers.mjs';

const PASSWORD = 'password1234';
const ENV = { BETTER_AUTH_PLUGINS: 'admin' };
const INDEXES = ['authserver_user_createdAt_idx', 'authserver_user_email_trgm_idx', 'authserver_user_name_trgm_idx', 'authserver_user_role_idx'];

describe('shared database with admin (candidate first)', () => {
  let db;
  let pool;
  let ref;
  let other;
  const cleanup = [];
  const browser = (srv) => new Browser({ baseURL: srv.url, appOrigin: APP_ORIGIN });
  const show = (r) => `\n${describeRecord(r)}`;
  const indexes = async () => (await pool.query(`select indexname from pg_indexes where tablename = 'user' and indexname like 'authserver_%' order by 1`)).rows.map((r) => r.indexname);

  before(async () => {
    db = await createDatabase();
    cleanup.push(() => db.drop());
    pool = db.pool();
    other = await startCandidate({ databaseUrl: db.url, env: ENV });
    cleanup.push(() => other.stop());
    assert.deepEqual(await indexes(), INDEXES, `${CANDIDATE_NAME} made its list-users indexes`);
    ref = await startReference({ databaseUrl: db.url, env: ENV }); // runs Better-Auth's migrate on the same database
    cleanup.push(() => ref.stop());
  }, { timeout: 360000 });

  after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  it("Better-Auth's migrate keeps the indexes", async () => {
    assert.deepEqual(await indexes(), INDEXES);
  });

  it('list-users answers the same on both servers', async () => {
    const tag = `sh${Date.now().toString(36)}`;
    const adminEmail = `admin-${tag}@example.com`;
    const up = await browser(other).post('/sign-up/email', { json: { name: 'Shared Admin', email: adminEmail, password: PASSWORD } });
    assert.equal(up.status, 200, show(up));
    await pool.query(`update "user" set "role" = 'admin' where "email" = $1`, [adminEmail]);
    const names = ['Ann Novak', 'Bob NOVAK', 'Cy Smith', 'Di novak-Smith'];
    for (const [i, n] of names.entries()) {
      const r = await browser(i % 2 ? ref : other).post('/sign-up/email', { json: { name: `${n} ${tag}`, email: `${n.toLowerCase().replace(/ /g, '.')}.${tag}@example.com`, password: PASSWORD } });
      assert.equal(r.status, 200, show(r));
    }
    const admins = {};
    for (const [label, srv] of [['ref', ref], [CANDIDATE_NAME, other]]) {
      const b = browser(srv);
      const inn = await b.post('/sign-in/email', { json: { email: adminEmail, password: PASSWORD } });
      assert.equal(inn.status, 200, show(inn));
      admins[label] = b;
    }
    for (const query of [
      { searchValue: 'Novak', searchField: 'name', sortBy: 'email' },
      { searchValue: 'NOVAK', searchField: 'name', sortBy: 'email' },
      { searchValue: 'di.novak', searchField: 'email', searchOperator: 'starts_with', sortBy: 'email' },
      { searchValue: `Smith ${tag}`, searchField: 'name', searchOperator: 'ends_with', sortBy: 'email' },
      { searchValue: tag, sortBy: 'createdAt', sortDirection: 'desc', limit: '2', offset: '1' },
      { searchValue: tag, filterField: 'role', filterValue: 'admin' },
    ]) {
      const answers = {};
      for (const [label, b] of Object.entries(admins)) {
        const r = await b.get('/admin/list-users', { query });
        assert.equal(r.status, 200, show(r));
        answers[label] = { emails: r.json.users.map((u) => u.email), total: r.json.total };
      }
      assert.deepEqual(answers[CANDIDATE_NAME], answers.ref, JSON.stringify(query));
    }
  });
});
