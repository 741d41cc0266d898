// Unit tests of the comparison machinery itself (no servers involved).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeResponseRecord, CookieJar } from '../lib/http.mjs';
import { compare, differences, normalizeJSON } from '../lib/compare.mjs';
import { signCookieValue } from '../lib/crypto.mjs';

const now = Date.now();
const iso = (offsetMs = 0) => new Date(now + offsetMs).toISOString();
const DAY = 86400000;

function rec({ status = 200, body, text, headers = {}, cookies = [] }) {
  const h = {};
  for (const [k, v] of Object.entries(headers)) h[k] = [v];
  if (cookies.length) h['set-cookie'] = cookies;
  if (body !== undefined && !h['content-type']) h['content-type'] = ['application/json'];
  const r = makeResponseRecord({ method: 'GET', path: '/x', requestHeaders: {}, status, statusText: '', headers: h, text: text ?? (body === undefined ? '' : JSON.stringify(body)) });
  r.label = 'GET /x';
  return r;
}

const user = (over = {}) => ({ name: 'A', email: 'a@example.com', emailVerified: false, image: null, createdAt: iso(), updatedAt: iso(), id: 'a'.repeat(32), ...over });
const cookie = (token, extra = '; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax') => `better-auth.session_token=${signCookieValue(token, 's')}${extra}`;

describe('compare()', () => {
  it('accepts responses that differ only in random ids, tokens and timestamps', () => {
    const a = rec({ body: { token: 'T'.repeat(32), user: user({ id: 'x1'.repeat(16) }) }, cookies: [cookie('T'.repeat(32))] });
    const b = rec({ body: { token: 'Q'.repeat(32), user: user({ id: 'y2'.repeat(16), createdAt: iso(1500) }) }, cookies: [cookie('Q'.repeat(32))] });
    compare(a, b);
  });

  it('detects a different status', () => {
    assert.throws(() => compare(rec({ status: 200, body: null }), rec({ status: 401, body: null })), /status/);
  });

  it('distinguishes null from an absent key', () => {
    const d = differences(rec({ body: { user: user() } }), rec({ body: { user: user({ image: undefined }) } }));
    assert.equal(d.length, 1);
    assert.equal(d[0].path, 'body.user.image');
  });

  it('detects extra keys and different JSON types', () => {
    assert.ok(differences(rec({ body: { a: 1 } }), rec({ body: { a: 1, b: 2 } })).length);
    assert.ok(differences(rec({ body: { a: 1 } }), rec({ body: { a: '1' } })).length);
    assert.ok(differences(rec({ body: [] }), rec({ body: {} })).length);
  });

  it('requires JS ISO dates with milliseconds on both sides', () => {
    const goDate = new Date(now).toISOString().replace(/\.\d{3}Z$/, '.123456789Z');
    assert.ok(differences(rec({ body: { d: iso() } }), rec({ body: { d: goDate } })).length);
    assert.ok(differences(rec({ body: { d: iso() } }), rec({ body: { d: iso().replace('Z', '+00:00') } })).length);
  });

  it('compares dates by their offset from now in whole hours', () => {
    assert.equal(differences(rec({ body: { d: iso(7 * DAY) } }), rec({ body: { d: iso(7 * DAY + 60000) } })).length, 0);
    assert.ok(differences(rec({ body: { d: iso(7 * DAY) } }), rec({ body: { d: iso(DAY) } })).length);
  });

  it('compares ids by length and alphabet, and keeps equal ids equal', () => {
    assert.ok(differences(rec({ body: { id: 'a'.repeat(32) } }), rec({ body: { id: 'a'.repeat(31) } })).length);
    assert.ok(differences(rec({ body: { id: 'Ab1'.repeat(10) + 'zz' } }), rec({ body: { id: '0123456789abcdef0123456789abcdef' } })).length);
    const same = { session: { userId: 'U'.repeat(32) }, user: { id: 'U'.repeat(32) } };
    const notSame = { session: { userId: 'U'.repeat(32) }, user: { id: 'V'.repeat(32) } };
    assert.ok(differences(rec({ body: same }), rec({ body: notSame })).length);
  });

  it('compares error code and message exactly', () => {
    const e = (code, message) => rec({ status: 400, body: { code, message } });
    assert.ok(differences(e('A', 'm'), e('B', 'm')).length);
    assert.ok(differences(e('A', 'm'), e('A', 'n')).length);
    assert.equal(differences(e('A', 'm'), e('A', 'm')).length, 0);
  });

  it('compares headers: media type, cache-control, pragma, location, set-auth-token', () => {
    const base = { body: null, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' } };
    assert.equal(differences(rec(base), rec({ ...base, headers: { ...base.headers, 'content-type': 'application/json; charset=utf-8' } })).length, 0);
    assert.ok(differences(rec(base), rec({ ...base, headers: { 'content-type': 'application/json' } })).length);
    assert.ok(differences(rec({ ...base, headers: { ...base.headers, location: '/a' } }), rec(base)).length);
    assert.ok(differences(rec({ ...base, headers: { ...base.headers, 'set-auth-token': `${'a'.repeat(32)}.${'b'.repeat(43)}=` } }), rec(base)).length);
  });

  it('compares Set-Cookie as a multiset of attributes', () => {
    const a = rec({ body: null, cookies: [cookie('T'.repeat(32)), 'better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax'] });
    const reordered = rec({ body: null, cookies: ['better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax', cookie('Q'.repeat(32), '; Path=/; Max-Age=604800; SameSite=Lax; HttpOnly')] });
    assert.equal(differences(a, reordered).length, 0);
    const variants = [
      [cookie('T'.repeat(32), '; Path=/; HttpOnly; SameSite=Lax')], // no Max-Age
      [cookie('T'.repeat(32), '; Max-Age=604800; Path=/; SameSite=Lax')], // no HttpOnly
      [cookie('T'.repeat(32), '; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax')],
      [cookie('T'.repeat(32), '; Max-Age=604800; Path=/api; HttpOnly; SameSite=Lax')],
      [cookie('T'.repeat(32), '; Max-Age=604800; Path=/; HttpOnly; SameSite=Strict')],
      [cookie('T'.repeat(32), '; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax; Expires=Thu, 01 Jan 2030 00:00:00 GMT')],
      [cookie('T'.repeat(32), '; Max-Age=604800; Domain=localhost; Path=/; HttpOnly; SameSite=Lax')],
      [`better-auth.session_token=${'T'.repeat(32)}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax`], // unsigned
      [cookie('T'.repeat(32)), cookie('T'.repeat(31))], // two different lines for one name
    ];
    const one = rec({ body: null, cookies: [cookie('T'.repeat(32))] });
    for (const v of variants) assert.ok(differences(one, rec({ body: null, cookies: v })).length, `not detected: ${v}`);
  });

  it('collapses identical duplicate Set-Cookie lines', () => {
    const one = rec({ body: null, cookies: [cookie('T'.repeat(32))] });
    const two = rec({ body: null, cookies: [cookie('Q'.repeat(32)), cookie('Q'.repeat(32))] });
    assert.equal(differences(one, two).length, 0);
  });

  it('distinguishes an empty body, a "null" body and a non-JSON body', () => {
    assert.ok(differences(rec({ text: '' }), rec({ body: null })).length);
    assert.ok(differences(rec({ text: 'Not Found' }), rec({ text: '' })).length);
  });

  it('normalises Date objects (client results) like ISO strings', () => {
    const n = normalizeJSON({ a: new Date(now + DAY), b: iso(DAY) }, { now });
    assert.equal(n.a, '<Date +24h>');
    assert.equal(n.b, '<date +24h>');
  });

  it('shows both sides in the failure message', () => {
    try {
      compare(rec({ status: 200, body: { ok: true } }), rec({ status: 404, text: '' }));
      assert.fail('no error');
    } catch (e) {
      assert.match(e.message, /--- ref ---/);
      assert.match(e.message, /--- go ---/);
      assert.match(e.message, /< 200/);
      assert.match(e.message, /< 404/);
    }
  });
});

describe('CookieJar', () => {
  it('stores, replaces and deletes cookies', () => {
    const j = new CookieJar();
    j.store(['a=1; Path=/', 'b=2; Max-Age=10']);
    assert.equal(j.header(), 'a=1; b=2');
    j.store(['a=; Max-Age=0; Path=/', 'b=3']);
    assert.equal(j.header(), 'b=3');
    j.store(['b=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    assert.equal(j.header(), undefined);
  });
});

describe('cookie signing helper', () => {
  it('matches the published test vectors', () => {
    const secret = 'test-secret-0123456789abcdef0123456789abcdef';
    assert.equal(signCookieValue('Oa4vWTxnHehZJQRwLtpsbOW8uJEctD9c', secret), 'Oa4vWTxnHehZJQRwLtpsbOW8uJEctD9c.PKhTseuRufmyLjDOgFJNRkNtDoEEJHaiGuhzzZZPVTw%3D');
    assert.equal(signCookieValue('true', secret), 'true.i8K8lWmm43%2FqItRtT9GUzE75WMaFyDz4cMBHK5qe4nM%3D');
  });
});

describe('OAuth values (social-dance)', () => {
  const authURL = (state, challenge, extra = '') => `http://127.0.0.1:9/authorize?response_type=code&client_id=app&state=${state}&scope=openid+email${extra}&code_challenge_method=S256&code_challenge=${challenge}`;
  it('compares the state, PKCE challenge and nonce of a provider URL by form, parameters in any order', () => {
    const a = rec({ body: { url: authURL('a'.repeat(32), 'b'.repeat(43)), redirect: true }, headers: { location: authURL('a'.repeat(32), 'b'.repeat(43)) } });
    const b = rec({ body: { url: `http://127.0.0.1:9/authorize?code_challenge=${'c-'.repeat(21)}c&client_id=app&response_type=code&scope=openid+email&state=${'d_'.repeat(16)}&code_challenge_method=S256`, redirect: true }, headers: { location: authURL('d_'.repeat(16), `${'c-'.repeat(21)}c`) } });
    compare(a, b);
  });
  it('still sees a missing or different parameter', () => {
    const a = rec({ body: { url: authURL('a'.repeat(32), 'b'.repeat(43)) } });
    assert.equal(differences(a, rec({ body: { url: authURL('a'.repeat(32), 'b'.repeat(43), '+profile') } })).length, 1);
    assert.equal(differences(a, rec({ body: { url: authURL('a'.repeat(31), 'b'.repeat(43)) } })).length, 1);
  });
  it('describes extra random keys of a step (randomKeys) loosely, numbers included', () => {
    const a = rec({ body: { accessToken: 'abcd', exp: 1 } });
    a.compareOpts = { randomKeys: ['accessToken', 'exp'] };
    const b = rec({ body: { accessToken: 'ab-d', exp: 2 } });
    b.compareOpts = { randomKeys: ['accessToken', 'exp'] };
    compare(a, b);
  });
});

describe('two-factor values', () => {
  const uri = (secret, issuer = 'Better+Auth') => `otpauth://totp/Better%20Auth:a%40example.com?secret=${secret}&issuer=${issuer}&digits=6&period=30`;
  it('compares a totpURI with its secret by form, everything else exactly', () => {
    compare(rec({ body: { totpURI: uri('A'.repeat(52)) } }), rec({ body: { totpURI: uri('B2'.repeat(26)) } }));
    assert.equal(differences(rec({ body: { totpURI: uri('A'.repeat(52)) } }), rec({ body: { totpURI: uri('A'.repeat(51)) } })).length, 1);
    assert.equal(differences(rec({ body: { totpURI: uri('A'.repeat(52)) } }), rec({ body: { totpURI: uri('A'.repeat(52), 'Other') } })).length, 1);
  });
  it('compares backup codes (an array under a random key) by form', () => {
    const a = rec({ body: { backupCodes: ['abcde-fghij', 'ABCDE-12345'] } });
    compare(a, rec({ body: { backupCodes: ['zzzzz-yyyyy', 'q1w2e-r3t4y'] } }));
    assert.equal(differences(a, rec({ body: { backupCodes: ['zzzzz-yyyyy'] } })).length, 1);
    assert.equal(differences(a, rec({ body: { backupCodes: ['zzzzz-yyyyy', 'q1w2e-r3t4'] } })).length, 1);
  });
});

describe('anonymous e-mail addresses', () => {
  it('compares the random local part by form, the domain exactly', () => {
    compare(rec({ body: { user: { email: `${'a1z'.repeat(10)}ab@anonymous.placeholder.invalid` } } }), rec({ body: { user: { email: `${'zq'.repeat(16)}@anonymous.placeholder.invalid` } } }));
    compare(rec({ body: { email: `temp-${'x'.repeat(32)}@anon.example` } }), rec({ body: { email: `temp-${'B'.repeat(32)}@anon.example` } }));
    assert.equal(differences(rec({ body: { email: `temp-${'x'.repeat(32)}@anon.example` } }), rec({ body: { email: `temp-${'B'.repeat(32)}@other.example` } })).length, 1);
    assert.equal(differences(rec({ body: { email: `${'a'.repeat(32)}@anonymous.placeholder.invalid` } }), rec({ body: { email: `temp-${'x'.repeat(32)}@anonymous.placeholder.invalid` } })).length, 1);
    assert.equal(differences(rec({ body: { email: 'alice.1234@example.com' } }), rec({ body: { email: 'bob.1234@example.com' } })).length, 1);
  });
});
