// The reference server migrates database A, the candidate migrates database B;
// the resulting schemas of Better-Auth's four tables (and the tables plugins add) must be the same. The candidate
// may add one bookkeeping table (schema_migrations), the tables of its own content
// API (content_*, outside Better-Auth; README "Known, deliberate differences") and its
// own security bookkeeping (authserver_*, migration 4, and authserver_plugin_migrations).
// The comparison runs for the core alone and again with plugins that add columns.
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import pg from 'pg';
import { createDatabase, startReference, startCandidate, CANDIDATE_NAME } from '../lib/servers.mjs';

const CORE_TABLES = ['user', 'session', 'account', 'verification'];
/** Tables the Go server may add: migration bookkeeping, its own /content API, its own security records. */
const ALLOWED_EXTRA = (t) => t === 'schema_migrations' || t.startsWith('content_') || t.startsWith('authserver_');
/**
 * Indexes the Go server may add to Better-Auth's tables: only its own names (authserver_*, e.g. the
 * admin plugin's list-users indexes), which Better-Auth's migrate never declares, so never checks.
 */
const ALLOWED_EXTRA_INDEX = (i) => i.indexname.startsWith('authserver_');

async function snapshot(url, wanted) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const q = async (text) => (await c.query(text, [wanted])).rows;
    const tables = (await c.query("select table_name from information_schema.tables where table_schema = 'public' order by 1")).rows.map((r) => r.table_name);
    const columns = await q(`select table_name, column_name, data_type, is_nullable, column_default
      from information_schema.columns where table_schema = 'public' and table_name = any($1) order by table_name, column_name`);
    const columnOrder = await q(`select table_name, string_agg(column_name, ',' order by ordinal_position) as columns
      from information_schema.columns where table_schema = 'public' and table_name = any($1) group by table_name order by table_name`);
    const constraints = await q(`select tc.table_name, tc.constraint_type,
        string_agg(kcu.column_name, ',' order by kcu.ordinal_position) as columns,
        max(ccu.table_name) as ref_table, max(ccu.column_name) as ref_column,
        max(rc.delete_rule) as delete_rule, max(rc.update_rule) as update_rule
      from information_schema.table_constraints tc
      join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema and kcu.table_name = tc.table_name
      left join information_schema.referential_constraints rc on rc.constraint_name = tc.constraint_name and rc.constraint_schema = tc.table_schema
      left join information_schema.constraint_column_usage ccu on ccu.constraint_name = tc.constraint_name and ccu.constraint_schema = tc.table_schema and tc.constraint_type = 'FOREIGN KEY'
      where tc.table_schema = 'public' and tc.table_name = any($1) and tc.constraint_type in ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
      group by tc.table_name, tc.constraint_name, tc.constraint_type
      order by 1, 2, 3`);
    const constraintNames = await q(`select table_name, constraint_type, constraint_name from information_schema.table_constraints
      where table_schema = 'public' and table_name = any($1) and constraint_type in ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY') order by 1, 2, 3`);
    const indexes = await q(`select tablename as table_name, indexname, indexdef from pg_indexes
      where schemaname = 'public' and tablename = any($1) order by 1, 2`);
    const checks = await q(`select tc.table_name, cc.check_clause from information_schema.table_constraints tc
      join information_schema.check_constraints cc on cc.constraint_name = tc.constraint_name and cc.constraint_schema = tc.constraint_schema
      where tc.table_schema = 'public' and tc.table_name = any($1) and tc.constraint_type = 'CHECK' and cc.check_clause not like '%IS NOT NULL' order by 1, 2`);
    return { tables, columns, columnOrder, constraints, constraintNames, indexes, checks };
  } finally {
    await c.end();
  }
}

const fmtRows = (rows) => rows.map((r) => JSON.stringify(r)).join('\n');

function assertSameRows(name, refRows, otherRows) {
  const a = new Set(refRows.map((r) => JSON.stringify(r)));
  const b = new Set(otherRows.map((r) => JSON.stringify(r)));
  const missing = [...a].filter((x) => !b.has(x));
  const extra = [...b].filter((x) => !a.has(x));
  if (missing.length || extra.length) {
    assert.fail(`${name} differ.\n  only in ref:\n    ${missing.join('\n    ') || '-'}\n  only in ${CANDIDATE_NAME}:\n    ${extra.join('\n    ') || '-'}\n\n  ref (all):\n${fmtRows(refRows)}`);
  }
}

/**
 * Compares the schemas both servers migrate with the same env (BETTER_AUTH_PLUGINS and plugin
 * options); referenceGuard checks the reference side itself against what Better-Auth publishes.
 */
function compareSchemas(title, { env = {}, referenceGuard, candidateGuard, pluginTables = [] }) {
  const expected = [...CORE_TABLES, ...pluginTables];
  describe(title, () => {
    const cleanup = [];
    let refSchema;
    let otherSchema;
    let startError;

    before(async () => {
      try {
        const [dbA, dbB] = await Promise.all([createDatabase(), createDatabase()]);
        cleanup.push(() => dbA.drop(), () => dbB.drop());
        const [ref, other] = await Promise.allSettled([startReference({ databaseUrl: dbA.url, env }), startCandidate({ databaseUrl: dbB.url, env })]);
        for (const s of [ref, other]) if (s.status === 'fulfilled') cleanup.push(() => s.value.stop());
        if (ref.status === 'rejected') throw ref.reason;
        if (other.status === 'rejected') throw other.reason;
        [refSchema, otherSchema] = await Promise.all([snapshot(dbA.url, expected), snapshot(dbB.url, expected)]);
      } catch (e) {
        startError = e;
      }
    }, { timeout: 360000 });

    after(async () => {
      for (const fn of cleanup.reverse()) await fn().catch(() => {});
    });

    const check = (name, fn) => it(name, () => {
      if (startError) throw startError;
      fn();
    });

    check(`tables: the core four${pluginTables.length ? ` and ${pluginTables.join(', ')}` : ''}, plus schema_migrations, content_* and authserver_* tables of the candidate`, () => {
      assert.deepEqual(refSchema.tables, [...expected].sort());
      for (const t of expected) assert.ok(otherSchema.tables.includes(t), `${CANDIDATE_NAME} lacks table "${t}"`);
      const extra = otherSchema.tables.filter((t) => !expected.includes(t) && !ALLOWED_EXTRA(t));
      assert.deepEqual(extra, [], `${CANDIDATE_NAME} has unexpected extra tables: ${extra.join(', ')}`);
    });

    check('columns: name, data_type, is_nullable, column_default', () => {
      assertSameRows('columns', refSchema.columns, otherSchema.columns);
    });

    check('column order', () => {
      assertSameRows('column order', refSchema.columnOrder, otherSchema.columnOrder);
    });

    check('primary keys, unique constraints and foreign keys (with delete rules)', () => {
      assertSameRows('constraints', refSchema.constraints, otherSchema.constraints);
    });

    check('constraint names', () => {
      assertSameRows('constraint names', refSchema.constraintNames, otherSchema.constraintNames);
    });

    check('indexes (names and definitions), plus authserver_* indexes of the candidate', () => {
      assert.ok(!refSchema.indexes.some(ALLOWED_EXTRA_INDEX), 'the reference has an authserver_* index');
      assertSameRows('indexes', refSchema.indexes, otherSchema.indexes.filter((i) => !ALLOWED_EXTRA_INDEX(i)));
    });

    check('no extra check constraints', () => {
      assertSameRows('check constraints', refSchema.checks, otherSchema.checks);
    });

    check('reference schema matches what Better-Auth publishes', () => {
      // A guard on the reference side itself: if this fails, the spec file or the
      // reference setup changed, not the candidate.
      referenceGuard(Object.fromEntries(refSchema.columns.map((c) => [`${c.table_name}.${c.column_name}`, c])), refSchema);
    });

    if (candidateGuard) {
      check(`${CANDIDATE_NAME}'s own additions`, () => candidateGuard(otherSchema));
    }
  });
}

compareSchemas('schema created by migrations', {
  referenceGuard: (cols, refSchema) => {
    assert.equal(cols['user.emailVerified'].data_type, 'boolean');
    assert.equal(cols['session.expiresAt'].data_type, 'timestamp with time zone');
    assert.equal(cols['user.createdAt'].column_default, 'CURRENT_TIMESTAMP');
    assert.equal(cols['session.updatedAt'].column_default, null);
    assert.ok(!('account.issuer' in cols), '1.7.25 has no issuer column');
    assert.ok(!('user.lastLoginMethod' in cols), 'no plugin column without the plugin');
    assert.deepEqual(refSchema.indexes.filter((i) => i.indexname.endsWith('_idx')).map((i) => i.indexname).sort(), ['account_userId_idx', 'session_userId_idx', 'verification_identifier_idx']);
  },
});

compareSchemas('schema with last-login-method storeInDatabase', {
  env: { BETTER_AUTH_PLUGINS: 'last-login-method', LAST_LOGIN_METHOD_STORE_IN_DATABASE: 'true' },
  referenceGuard: (cols) => {
    const c = cols['user.lastLoginMethod'];
    assert.ok(c, 'the reference added user.lastLoginMethod');
    assert.deepEqual([c.data_type, c.is_nullable, c.column_default], ['text', 'YES', null]);
  },
});

compareSchemas('schema with username', {
  env: { BETTER_AUTH_PLUGINS: 'username' },
  referenceGuard: (cols, refSchema) => {
    for (const name of ['username', 'displayUsername']) {
      const c = cols[`user.${name}`];
      assert.ok(c, `the reference added user.${name}`);
      assert.deepEqual([c.data_type, c.is_nullable, c.column_default], ['text', 'YES', null]);
    }
    assert.ok(refSchema.constraintNames.some((c) => c.constraint_name === 'user_username_key' && c.constraint_type === 'UNIQUE'), 'user_username_key');
  },
});

compareSchemas('schema with username, anonymous, two-factor and last-login-method (issue 14)', {
  env: { BETTER_AUTH_PLUGINS: 'username,anonymous,two-factor,last-login-method' },
  pluginTables: ['twoFactor'],
  referenceGuard: (cols, refSchema) => {
    for (const [name, type] of [['isAnonymous', 'boolean'], ['twoFactorEnabled', 'boolean'], ['username', 'text']]) {
      const c = cols[`user.${name}`];
      assert.ok(c, `the reference added user.${name}`);
      assert.deepEqual([c.data_type, c.is_nullable, c.column_default], [type, 'YES', null], name);
    }
    const order = refSchema.columnOrder.find((r) => r.table_name === 'user').columns;
    assert.ok(order.endsWith('username,displayUsername,isAnonymous,twoFactorEnabled'), order);
    assert.equal(refSchema.columnOrder.find((r) => r.table_name === 'twoFactor').columns, 'id,secret,backupCodes,userId,verified,failedVerificationCount,lockedUntil');
    assert.deepEqual([cols['twoFactor.failedVerificationCount'].data_type, cols['twoFactor.lockedUntil'].data_type], ['integer', 'timestamp with time zone']);
    assert.ok(!('user.lastLoginMethod' in cols), 'no lastLoginMethod column without storeInDatabase');
    assert.deepEqual(refSchema.indexes.filter((i) => i.table_name === 'twoFactor').map((i) => i.indexname).sort(), ['twoFactor_pkey', 'twoFactor_secret_idx', 'twoFactor_userId_idx']);
    assert.ok(refSchema.constraints.some((c) => c.table_name === 'twoFactor' && c.constraint_type === 'FOREIGN KEY' && c.ref_table === 'user' && c.delete_rule === 'CASCADE'), 'twoFactor.userId references user on delete cascade');
  },
});

compareSchemas('schema with passkey and two-factor (issue 15)', {
  env: { BETTER_AUTH_PLUGINS: 'passkey,two-factor,last-login-method' },
  pluginTables: ['passkey', 'twoFactor'],
  referenceGuard: (cols, refSchema) => {
    assert.equal(refSchema.columnOrder.find((r) => r.table_name === 'passkey').columns, 'id,name,publicKey,userId,credentialID,counter,deviceType,backedUp,transports,createdAt,aaguid');
    const types = Object.fromEntries(['counter', 'backedUp', 'createdAt', 'name', 'aaguid'].map((c) => [c, [cols[`passkey.${c}`].data_type, cols[`passkey.${c}`].is_nullable]]));
    assert.deepEqual(types, { counter: ['integer', 'NO'], backedUp: ['boolean', 'NO'], createdAt: ['timestamp with time zone', 'YES'], name: ['text', 'YES'], aaguid: ['text', 'YES'] });
    assert.deepEqual(refSchema.indexes.filter((i) => i.table_name === 'passkey').map((i) => i.indexname).sort(), ['passkey_credentialID_idx', 'passkey_pkey', 'passkey_userId_idx']);
    assert.ok(refSchema.constraints.some((c) => c.table_name === 'passkey' && c.constraint_type === 'FOREIGN KEY' && c.ref_table === 'user' && c.delete_rule === 'CASCADE'), 'passkey.userId references user on delete cascade');
  },
});

compareSchemas('schema with admin (and username, two-factor, last-login-method)', {
  env: { BETTER_AUTH_PLUGINS: 'username,two-factor,last-login-method,admin' },
  pluginTables: ['twoFactor'],
  referenceGuard: (cols) => {
    for (const [name, type] of [['user.role', 'text'], ['user.banned', 'boolean'], ['user.banReason', 'text'], ['user.banExpires', 'timestamp with time zone'], ['session.impersonatedBy', 'text']]) {
      const c = cols[name];
      assert.ok(c, `the reference added ${name}`);
      assert.deepEqual([c.data_type, c.is_nullable, c.column_default], [type, 'YES', null], name);
    }
  },
  candidateGuard: (schema) => {
    // The admin plugin's list-users indexes (README, Measured): trigram indexes need pg_trgm, which this PostgreSQL has.
    const names = schema.indexes.filter((i) => i.table_name === 'user' && i.indexname.startsWith('authserver_')).map((i) => i.indexname).sort();
    assert.deepEqual(names, ['authserver_user_createdAt_idx', 'authserver_user_email_trgm_idx', 'authserver_user_name_trgm_idx', 'authserver_user_role_idx']);
  },
});

compareSchemas('schema with jwt (issue 18)', {
  env: { BETTER_AUTH_PLUGINS: 'jwt' },
  pluginTables: ['jwks'],
  referenceGuard: (cols, refSchema) => {
    assert.equal(refSchema.columnOrder.find((r) => r.table_name === 'jwks').columns, 'id,publicKey,privateKey,createdAt,expiresAt,alg,crv');
    const types = Object.fromEntries(['publicKey', 'privateKey', 'createdAt', 'expiresAt', 'alg', 'crv'].map((c) => [c, [cols[`jwks.${c}`].data_type, cols[`jwks.${c}`].is_nullable]]));
    assert.deepEqual(types, {
      publicKey: ['text', 'NO'], privateKey: ['text', 'NO'], createdAt: ['timestamp with time zone', 'NO'],
      expiresAt: ['timestamp with time zone', 'YES'], alg: ['text', 'YES'], crv: ['text', 'YES'],
    });
  },
});

compareSchemas('schema with organization (teams and dynamic access control on)', {
  env: { BETTER_AUTH_PLUGINS: 'organization', ORGANIZATION_TEAMS: 'true', ORGANIZATION_DYNAMIC_ACCESS_CONTROL: 'true' },
  pluginTables: ['organization', 'member', 'invitation', 'team', 'teamMember', 'organizationRole'],
  referenceGuard: (cols, refSchema) => {
    for (const name of ['session.activeOrganizationId', 'session.activeTeamId', 'invitation.teamId', 'teamMember.membershipKey']) {
      assert.ok(cols[name], `the reference added ${name}`);
    }
    assert.equal(refSchema.columnOrder.find((r) => r.table_name === 'invitation').columns, 'id,organizationId,email,role,teamId,status,expiresAt,createdAt,inviterId');
    assert.ok(refSchema.constraints.some((c) => c.table_name === 'member' && c.constraint_type === 'FOREIGN KEY' && c.ref_table === 'organization' && c.delete_rule === 'CASCADE'), 'member.organizationId references organization on delete cascade');
  },
});

compareSchemas('schema with device-authorization (issue 18)', {
  env: { BETTER_AUTH_PLUGINS: 'device-authorization' },
  pluginTables: ['deviceCode'],
  referenceGuard: (cols, refSchema) => {
    assert.equal(refSchema.columnOrder.find((r) => r.table_name === 'deviceCode').columns, 'id,deviceCode,userCode,userId,expiresAt,status,lastPolledAt,pollingInterval,clientId,scope');
    assert.deepEqual([cols['deviceCode.expiresAt'].data_type, cols['deviceCode.expiresAt'].is_nullable, cols['deviceCode.pollingInterval'].data_type], ['timestamp with time zone', 'NO', 'integer']);
    assert.deepEqual(refSchema.indexes.filter((i) => i.table_name === 'deviceCode').map((i) => i.indexname).sort(), ['deviceCode_deviceCode_uidx', 'deviceCode_pkey', 'deviceCode_userCode_uidx']);
  },
});

compareSchemas('schema with admin and organization (teams, dynamic access control)', {
  env: { BETTER_AUTH_PLUGINS: 'admin,organization', ORGANIZATION_TEAMS: 'true', ORGANIZATION_DYNAMIC_ACCESS_CONTROL: 'true' },
  pluginTables: ['invitation', 'member', 'organization', 'organizationRole', 'team', 'teamMember'],
  referenceGuard: (cols, refSchema) => {
    const order = (t) => refSchema.columnOrder.find((r) => r.table_name === t)?.columns;
    assert.equal(order('organization'), 'id,name,slug,logo,createdAt,metadata');
    assert.equal(order('member'), 'id,organizationId,userId,role,createdAt');
    assert.equal(order('invitation'), 'id,organizationId,email,role,teamId,status,expiresAt,createdAt,inviterId');
    assert.equal(order('team'), 'id,name,memberCount,organizationId,createdAt,updatedAt');
    assert.equal(order('teamMember'), 'id,teamId,userId,membershipKey,createdAt');
    assert.equal(order('organizationRole'), 'id,organizationId,role,permission,createdAt,updatedAt');
    assert.ok(order('session').endsWith('impersonatedBy,activeOrganizationId,activeTeamId'), order('session'));
    const col = (k) => [cols[k]?.data_type, cols[k]?.is_nullable, cols[k]?.column_default];
    assert.deepEqual(col('team.memberCount'), ['integer', 'NO', null]);
    assert.deepEqual(col('invitation.createdAt'), ['timestamp with time zone', 'NO', 'CURRENT_TIMESTAMP']);
    assert.deepEqual(col('invitation.role'), ['text', 'YES', null]);
    assert.deepEqual(col('teamMember.membershipKey'), ['text', 'YES', null]);
    assert.deepEqual(col('organizationRole.createdAt'), ['timestamp with time zone', 'NO', 'CURRENT_TIMESTAMP']);
    assert.deepEqual(col('session.activeOrganizationId'), ['text', 'YES', null]);
    const names = (t) => refSchema.indexes.filter((i) => i.table_name === t).map((i) => i.indexname).sort();
    assert.deepEqual(names('invitation'), ['invitation_email_idx', 'invitation_organizationId_idx', 'invitation_pkey']);
    assert.deepEqual(names('teamMember'), ['teamMember_membershipKey_key', 'teamMember_pkey', 'teamMember_teamId_idx', 'teamMember_userId_idx']);
    assert.deepEqual(names('organizationRole'), ['organizationRole_organizationId_idx', 'organizationRole_pkey', 'organizationRole_role_idx']);
    assert.ok(refSchema.constraints.some((c) => c.table_name === 'invitation' && c.columns === 'inviterId' && c.ref_table === 'user' && c.delete_rule === 'CASCADE'), 'invitation.inviterId references user on delete cascade');
    assert.ok(!refSchema.constraints.some((c) => c.table_name === 'invitation' && c.columns === 'teamId' && c.constraint_type === 'FOREIGN KEY'), 'invitation.teamId is no foreign key');
  },
});
