// The jwt plugin on both servers: GET /token, GET /jwks, the set-auth-jwt header on get-session
// (and its place in Access-Control-Expose-Headers), the claims and the protected header, the stored
// key row, each key algorithm, rotation with the grace period, and the options. Then both servers on
// ONE database: a key minted by either signs on the other (the private key's at-rest encryption
// matches), so a JWT minted by either verifies against the other's JWKS.
//
// Tokens are checked the way another backend checks them: the key by kid from the JWKS, the alg the
// JWK names, the signature with node:crypto, then iss, aud and exp.
import assert from 'node:assert/strict';
import { constants, createPublicKey, verify } from 'node:crypto';
import { describe, it, before, after } from 'node:test';
import { compatSuite, BASE_URL, APP_ORIGIN, CANDIDATE_NAME } from '../lib/harness.mjs';
import { Browser } from '../lib/http.mjs';
import { describeRecord } from '../lib/compare.mjs';
import { createDatabase, startReference, startCandidate } from '../lib/servers.mjs';

const PRESENCE = { compare: { body: 'presence' } };
const EXTRA_CLAIMS = ['iat', 'sub', 'exp', 'iss', 'aud'];

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Verifies a compact JWS against a JWKS document; returns {ok, why, header, payload}. */
export function verifyJWT(jwks, token) {
  const parts = String(token ?? '').split('.');
  if (parts.length !== 3) return { ok: false, why: 'not a compact JWS' };
  const header = b64json(parts[0]);
  const payload = b64json(parts[1]);
  const jwk = jwks?.keys?.find((k) => k.kid === header.kid);
  if (!jwk) return { ok: false, why: `kid ${header.kid} not in the JWKS`, header, payload };
  if (jwk.alg !== header.alg) return { ok: false, why: `alg ${header.alg} ≠ the JWK's ${jwk.alg}`, header, payload };
  const { alg, kid, ...material } = jwk;
  const key = createPublicKey({ key: material, format: 'jwk' });
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2], 'base64url');
  const algs = {
    EdDSA: () => verify(null, data, key, sig),
    ES256: () => verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig),
    ES512: () => verify('sha512', data, { key, dsaEncoding: 'ieee-p1363' }, sig),
    RS256: () => verify('sha256', data, key, sig),
    PS256: () => verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig),
  };
  if (!algs[alg]) return { ok: false, why: `unknown alg ${alg}`, header, payload };
  const ok = algs[alg]();
  return { ok, why: ok ? '' : 'bad signature', header, payload };
}

/** What must be equal on both servers about a token, given the get-session user it is for. */
function tokenShape(v, user, { iss = BASE_URL, aud = BASE_URL } = {}) {
  const p = v.payload ?? {};
  const userClaims = Object.fromEntries(Object.entries(p).filter(([k]) => !EXTRA_CLAIMS.includes(k)));
  return {
    verifies: v.ok,
    why: v.why,
    headerKeys: Object.keys(v.header ?? {}),
    alg: v.header?.alg,
    claimKeys: Object.keys(p),
    userClaimsAreTheUser: JSON.stringify(userClaims) === JSON.stringify(user),
    sub: p.sub === user?.id,
    life: p.exp - p.iat,
    iatIsNow: Math.abs(p.iat - Date.now() / 1000) < 30,
    iss: JSON.stringify(p.iss) === JSON.stringify(iss),
    aud: JSON.stringify(p.aud) === JSON.stringify(aud),
  };
}

/** The comparable form of a JWKS document: member names in order and the fixed values. */
function jwksShape(doc) {
  return (doc?.keys ?? []).map((k) => ({ members: Object.keys(k), alg: k.alg, crv: k.crv ?? null, kty: k.kty, kid: /^[A-Za-z0-9]{32}$/.test(k.kid) }));
}

const exposes = (res, name) => (res.header('access-control-expose-headers') ?? '').toLowerCase().split(',').map((x) => x.trim()).includes(name);

compatSuite(
  'plugin jwt',
  (scenario) => {
    scenario('token, jwks and set-auth-jwt: claims, header, key row', async (s) => {
      const anon = s.browser();
      const none = await anon.get('/token');
      s.expect('signed out: 401 UNAUTHORIZED', none.status === 401 && none.json?.code === 'UNAUTHORIZED', none.json);
      const out = await anon.get('/get-session');
      s.expect('signed-out get-session: null without set-auth-jwt', out.text === 'null' && out.header('set-auth-jwt') === undefined, out.text);

      const b = s.browser();
      await s.signUp(b, { email: s.email('jwt') });
      const post = await b.post('/token');
      s.expect('POST /token: 404', post.status === 404, post.status);
      const t = await b.get('/token', PRESENCE);
      s.record('token answer keys', Object.keys(t.json ?? {}));
      const j = await s.browser().get('/jwks', PRESENCE);
      s.record('jwks', jwksShape(j.json));
      const g = await b.get('/get-session');
      const user = g.json?.user;
      const v = verifyJWT(j.json, t.json?.token);
      s.record('/token JWT', tokenShape(v, user));

      const hj = g.header('set-auth-jwt');
      const hv = verifyJWT(j.json, hj);
      s.record('set-auth-jwt', { ...tokenShape(hv, user), sameKey: hv.header?.kid === v.header?.kid });
      s.record('expose list', g.header('access-control-expose-headers') ?? null);
      const cors = await b.get('/get-session', { origin: APP_ORIGIN });
      s.record('set-auth-jwt exposed to a CORS caller', { header: Boolean(cors.header('set-auth-jwt')), exposed: exposes(cors, 'set-auth-jwt') });

      const rows = await s.sql('select "id", "publicKey", "privateKey", "expiresAt", "alg", "crv" from "jwks"');
      s.record('jwks rows', rows.map((r) => ({
        kid: r.id === v.header?.kid,
        publicKeyMembers: Object.keys(JSON.parse(r.publicKey)),
        privateKeyIsQuotedHex: /^"[0-9a-f]+"$/.test(r.privateKey),
        expiresAt: r.expiresAt,
        alg: r.alg,
        crv: r.crv,
      })));

      const again = await b.get('/token', PRESENCE);
      s.expect('every /token signs anew with the same key', verifyJWT(j.json, again.json?.token).header?.kid === v.header?.kid, again.json);

      // A session that expired behind the browser's back: 401 and the session cookies cleared.
      await s.sql(`update "session" set "expiresAt" = now() - interval '1 second' where "userId" = $1`, [user?.id]);
      const expired = await b.get('/token');
      s.expect('expired session: 401 UNAUTHORIZED', expired.status === 401 && expired.json?.code === 'UNAUTHORIZED', expired.json);
      const gone = await b.get('/get-session');
      s.expect('get-session then: null, no set-auth-jwt', gone.text === 'null' && gone.header('set-auth-jwt') === undefined, gone.text);
    });

    scenario('rotation: an expired key stops signing, stays published for the grace period, then drops out', async (s) => {
      const b = s.browser();
      await s.signUp(b, { email: s.email('rot') });
      const first = (await b.get('/token', PRESENCE)).json?.token;
      const j1 = (await s.browser().get('/jwks', PRESENCE)).json;
      const k1 = verifyJWT(j1, first).header?.kid;
      await s.sql(`update "jwks" set "expiresAt" = now() - interval '1 minute'`);
      const second = (await b.get('/token', PRESENCE)).json?.token;
      const j2 = (await s.browser().get('/jwks', PRESENCE)).json;
      const v2 = verifyJWT(j2, second);
      s.record('after expiry', {
        newKey: v2.ok && v2.header?.kid !== k1,
        published: jwksShape(j2).length,
        oldTokenStillVerifies: verifyJWT(j2, first).ok,
      });
      await s.sql(`update "jwks" set "expiresAt" = now() - interval '31 days' where "id" = $1`, [k1]);
      const j3 = (await s.browser().get('/jwks', PRESENCE)).json;
      s.record('after the grace period', { published: jwksShape(j3).length, oldGone: !j3?.keys?.some((k) => k.kid === k1), rows: (await s.sql('select count(*)::int as n from "jwks"'))[0].n });
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'jwt' } },
);

for (const alg of ['ES256', 'ES512', 'RS256', 'PS256']) {
  compatSuite(
    `plugin jwt: ${alg}`,
    (scenario) => {
      scenario(`${alg} keys: jwks, token, row`, async (s) => {
        const b = s.browser();
        await s.signUp(b, { email: s.email(alg.toLowerCase()) });
        const t = await b.get('/token', PRESENCE);
        const j = await s.browser().get('/jwks', PRESENCE);
        const g = await b.get('/get-session');
        s.record('jwks', jwksShape(j.json));
        s.record('token', tokenShape(verifyJWT(j.json, t.json?.token), g.json?.user));
        s.record('set-auth-jwt verifies', verifyJWT(j.json, g.header('set-auth-jwt')).ok);
        const rows = await s.sql('select "publicKey", "privateKey", "alg", "crv" from "jwks"');
        s.record('row', rows.map((r) => ({ publicKeyMembers: Object.keys(JSON.parse(r.publicKey)), privateKeyIsQuotedHex: /^"[0-9a-f]+"$/.test(r.privateKey), alg: r.alg, crv: r.crv })));
      });
    },
    { env: { BETTER_AUTH_PLUGINS: 'jwt', JWT_KEY_PAIR_ALG: alg } },
  );
}

compatSuite(
  'plugin jwt: issuer, audience list, expiration time, jwks path, no header',
  (scenario) => {
    scenario('the options on the wire', async (s) => {
      const b = s.browser();
      await s.signUp(b, { email: s.email('opts') });
      const g = await b.get('/get-session');
      s.expect('no set-auth-jwt', g.header('set-auth-jwt') === undefined && !exposes(g, 'set-auth-jwt'), g.headers);
      const old = await s.browser().get('/jwks');
      s.expect('/jwks is not served', old.status === 404, old.status);
      const j = await s.browser().get('/.well-known/jwks.json', PRESENCE);
      const t = await b.get('/token', PRESENCE);
      s.record('token', tokenShape(verifyJWT(j.json, t.json?.token), g.json?.user, { iss: 'https://issuer.example.com', aud: ['https://api.example.com', 'https://other.example.com'] }));
    });
  },
  {
    env: {
      BETTER_AUTH_PLUGINS: 'jwt', JWT_ISSUER: 'https://issuer.example.com', JWT_AUDIENCE: 'https://api.example.com,https://other.example.com',
      JWT_EXPIRATION_TIME: '2 hours', JWT_JWKS_PATH: '/.well-known/jwks.json', JWT_DISABLE_SETTING_JWT_HEADER: 'true',
    },
  },
);

// Both servers on one database, for each algorithm family: whichever server mints a key, the other
// opens its private key and signs with it, and both publish the same key set.
for (const alg of ['EdDSA', 'ES256', 'PS256']) {
  describe(`jwt on a shared database (${alg})`, () => {
    const env = { BETTER_AUTH_PLUGINS: 'jwt', JWT_KEY_PAIR_ALG: alg };
    let db;
    let ref;
    let other;
    let pool;
    const cleanup = [];
    const show = (r) => `\n${describeRecord(r)}`;
    const logs = () => `\n--- ref log ---\n${ref?.logTail(30)}\n--- ${CANDIDATE_NAME} log ---\n${other?.logTail(30)}`;
    const browser = (srv) => new Browser({ baseURL: srv.url, appOrigin: APP_ORIGIN });

    before(async () => {
      db = await createDatabase();
      cleanup.push(() => db.drop());
      pool = db.pool();
      ref = await startReference({ databaseUrl: db.url, env });
      cleanup.push(() => ref.stop());
      other = await startCandidate({ databaseUrl: db.url, env });
      cleanup.push(() => other.stop());
    }, { timeout: 360000 });

    after(async () => {
      for (const fn of cleanup.reverse()) await fn().catch(() => {});
    });

    async function tokenFrom(srv, email) {
      const b = browser(srv);
      const up = await b.post('/sign-up/email', { json: { name: 'Shared JWT', email, password: 'password1234' } });
      assert.equal(up.status, 200, show(up) + logs());
      const t = await b.get('/token');
      assert.equal(t.status, 200, show(t) + logs());
      const g = await b.get('/get-session');
      return { token: t.json.token, header: g.header('set-auth-jwt'), user: g.json.user };
    }

    const jwksOf = async (srv) => {
      const r = await browser(srv).get('/jwks');
      assert.equal(r.status, 200, show(r) + logs());
      return r.json;
    };

    it('a key the reference minted signs on the candidate; each JWT verifies against the other server\'s JWKS', async () => {
      const fromRef = await tokenFrom(ref, `ref-${alg.toLowerCase()}@shared.example.com`);
      const fromGo = await tokenFrom(other, `go-${alg.toLowerCase()}@shared.example.com`);
      const refJwks = await jwksOf(ref);
      const goJwks = await jwksOf(other);
      assert.deepEqual(goJwks, refJwks, 'both servers publish the same key set');
      assert.equal(refJwks.keys.length, 1, JSON.stringify(refJwks));
      for (const [what, tok, jwks] of [
        ['reference /token vs candidate JWKS', fromRef.token, goJwks],
        ['candidate /token vs reference JWKS', fromGo.token, refJwks],
        ['candidate set-auth-jwt vs reference JWKS', fromGo.header, refJwks],
        ['reference set-auth-jwt vs candidate JWKS', fromRef.header, goJwks],
      ]) {
        const v = verifyJWT(jwks, tok);
        assert.ok(v.ok, `${what}: ${v.why}${logs()}`);
        assert.equal(v.header.alg, alg);
      }
      assert.equal(verifyJWT(refJwks, fromGo.token).header.kid, refJwks.keys[0].kid, 'the candidate signs with the key the reference minted');
    });

    it('after rotation the candidate mints the key; the reference opens it and signs with it', async () => {
      await pool.query(`update "jwks" set "expiresAt" = now() - interval '1 minute'`);
      const fromGo = await tokenFrom(other, `go2-${alg.toLowerCase()}@shared.example.com`);
      const goJwks = await jwksOf(other);
      const v = verifyJWT(goJwks, fromGo.token);
      assert.ok(v.ok, v.why + logs());
      const rows = (await pool.query('select "id", "alg" from "jwks" where "expiresAt" is null')).rows;
      assert.deepEqual(rows.map((r) => [r.id, r.alg]), [[v.header.kid, alg]], 'the candidate minted one new key');
      const fromRef = await tokenFrom(ref, `ref2-${alg.toLowerCase()}@shared.example.com`);
      const refJwks = await jwksOf(ref);
      assert.deepEqual(refJwks, goJwks, 'both servers publish the same key set');
      assert.equal(refJwks.keys.length, 2, 'the expired key stays published in its grace period');
      const rv = verifyJWT(goJwks, fromRef.token);
      assert.ok(rv.ok, `the reference's JWT does not verify against the candidate's JWKS: ${rv.why}${logs()}`);
      assert.equal(rv.header.kid, v.header.kid, 'the reference signs with the key the candidate minted');
    });
  });
}
