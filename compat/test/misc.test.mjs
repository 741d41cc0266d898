// Freshness, refresh on other endpoints, IP / user-agent capture, NFKC
// passwords, unlink-account and the /error page.
import { compatSuite, SESSION_COOKIE } from '../lib/harness.mjs';

const PASSWORD = 'password1234';

compatSuite('misc behaviour', (scenario) => {
  scenario('freshness: list-sessions on a session created more than a day ago', async (s) => {
    const b = s.browser();
    const r = await s.signUp(b, { email: s.email('fresh') });
    await s.sql(`update session set "createdAt" = "createdAt" - interval '25 hours' where token = $1`, [r.json?.token]);
    const l = await b.get('/list-sessions');
    s.expect('403 SESSION_NOT_FRESH', l.status === 403 && l.json?.code === 'SESSION_NOT_FRESH', l.text);
    // other endpoints do not care about freshness
    await b.get('/list-accounts');
    await b.post('/update-user', { json: { name: 'Stale' } });
    await b.post('/change-password', { json: { currentPassword: PASSWORD, newPassword: 'password5678' } });
    await b.post('/revoke-other-sessions', { json: {} });
    const acc = await b.get('/list-accounts');
    await b.post('/unlink-account', { json: { accountId: acc.json?.[0]?.id ?? 'x' } });
  });

  scenario('unlink-account: last account and unknown account', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('unlink') });
    const acc = await b.get('/list-accounts');
    await b.post('/unlink-account', { json: { accountId: acc.json?.[0]?.id ?? 'x' } });
    await b.post('/unlink-account', { json: { accountId: 'does-not-exist' } });
    await b.get('/list-accounts');
  });

  scenario('sliding refresh also happens on other session endpoints', async (s) => {
    const b = s.browser();
    const r = await s.signUp(b, { email: s.email('slide') });
    const move = () => s.sql(`update session set "expiresAt" = "expiresAt" - interval '2 days' where token = $1`, [r.json?.token]);
    await move();
    await b.get('/list-accounts');
    await move();
    await b.post('/update-user', { json: { name: 'Slide' } });
    await move();
    await b.get('/list-sessions');
    await move();
    await b.get('/get-session', { query: { disableRefresh: '' } });
  });

  // The Go server runs with TRUSTED_PROXIES=127.0.0.1,::1 (lib/servers.mjs), so it believes
  // the test client's X-Forwarded-For as Better-Auth believes anyone's by default.
  scenario('ipAddress from a single-hop X-Forwarded-For and an empty user agent', async (s) => {
    const b = s.browser({ userAgent: null });
    await s.signUp(b, { email: s.email('ip') }, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    await b.get('/get-session');
    const d = s.browser();
    await s.signIn(d, { email: s.email('ip') }, { headers: { 'x-forwarded-for': '::ffff:198.51.100.4' } });
    await d.get('/get-session');
    const e = s.browser();
    await s.signIn(e, { email: s.email('ip') }, { headers: { 'x-forwarded-for': 'not-an-ip' } });
    await e.get('/get-session');
    const f = s.browser();
    await s.signIn(f, { email: s.email('ip') }, { headers: { 'x-forwarded-for': ' 2001:db8::1 ' } });
    s.record('db rows', await s.sql('select "ipAddress", "userAgent" from session s join "user" u on u.id = s."userId" where u.email = $1 order by s."createdAt"', [s.email('ip')]));
  });

  // Deliberate difference. Better-Auth without advanced.ipAddress.trustedProxies believes a
  // single-hop X-Forwarded-For from anyone and ignores a multi-hop chain (falling back to
  // 127.0.0.1 in development). The Go server believes X-Forwarded-For only from TRUSTED_PROXIES
  // (here the test client's 127.0.0.1, to match Better-Auth's single-hop default) and then takes
  // the right-most hop that is not a trusted proxy, which is the client the proxy saw.
  scenario('ipAddress from a multi-hop X-Forwarded-For chain (deliberate difference)', async (s) => {
    await s.signUp(s.browser(), { email: s.email('chain') });
    const c = s.browser({ userAgent: 'ua-with-xff-chain' });
    await s.signIn(c, { email: s.email('chain') }, { headers: { 'x-forwarded-for': '203.0.113.8, 10.0.0.1' } });
    const rows = await s.sql('select "ipAddress" from session s join "user" u on u.id = s."userId" where u.email = $1 order by s."createdAt"', [s.email('chain')]);
    const last = rows[rows.length - 1]?.ipAddress;
    s.deliberate('multi-hop X-Forwarded-For: Better-Auth ignores the chain, Go takes the right-most untrusted hop',
      last === '127.0.0.1', last === '10.0.0.1', { ipAddress: last });
  });

  scenario('passwords are NFKC-normalised and length is counted in UTF-16 units', async (s) => {
    // "ﬁ" (U+FB01) normalises to "fi" under NFKC
    await s.signUp(s.browser(), { email: s.email('nfkc'), password: 'ﬁﬁﬁﬁﬁﬁﬁﬁ' });
    await s.signIn(s.browser(), { email: s.email('nfkc'), password: 'fifififififififi' });
    await s.signIn(s.browser(), { email: s.email('nfkc'), password: 'ﬁﬁﬁﬁﬁﬁﬁﬁ' });
    // 7 code points but 8 UTF-16 units after the astral character
    await s.signUp(s.browser(), { email: s.email('utf16'), password: '𝒜bcdefg' });
    await s.signUp(s.browser(), { email: s.email('utf16b'), password: 'ä'.repeat(7) });
  });

  scenario('e-mail normalisation: plus addressing, upper-case domain, unicode name', async (s) => {
    const email = `Mixed+Tag.${s.tag}@Example.COM`;
    await s.signUp(s.browser(), { name: 'Zoë 名前', email });
    await s.signIn(s.browser(), { email: email.toLowerCase() });
    await s.signUp(s.browser(), { name: 'dup', email: email.toLowerCase() });
  });

  scenario('a second sign-in keeps the first session', async (s) => {
    const b = s.browser();
    const first = await s.signUp(b, { email: s.email('twice') });
    const second = await s.signIn(b, { email: s.email('twice') });
    s.expect('new token', second.json?.token !== first.json?.token);
    await b.get('/get-session');
    await b.get('/get-session', { cookies: `${SESSION_COOKIE}=${encodeURIComponent(first.header('set-auth-token') ?? '')}` });
    s.record('sessions', (await s.sql('select count(*)::int as n from session s join "user" u on u.id = s."userId" where u.email = $1', [s.email('twice')]))[0]);
  });

  scenario('GET /error page', async (s) => {
    const b = s.browser();
    // the HTML itself is not compared, only that it is a non-empty page naming the code
    await b.get('/error', { query: { error: 'INVALID_TOKEN' }, compare: { body: 'presence', bodyContains: ['INVALID_TOKEN'] } });
    await b.get('/error', { query: { error: '<script>', error_description: 'x' }, compare: { body: 'presence', bodyContains: ['<script>', 'UNKNOWN'] } });
  });

  scenario('media type matching: case, parameters, suffixes, whitespace', async (s) => {
    const b = s.browser();
    const body = JSON.stringify({ email: s.email('nobody'), password: PASSWORD });
    await b.post('/sign-in/email', { body, contentType: 'Application/JSON' });
    await b.post('/sign-in/email', { body, contentType: 'application/json;charset=UTF-8' });
    await b.post('/sign-in/email', { body, contentType: 'application/vnd.api+json' });
    await b.post('/sign-in/email', { body, contentType: 'application/jsonx' });
    await b.post('/sign-in/email', { body, contentType: ' application/json' });
  });
});

// With Better-Auth's advanced.ipAddress.trustedProxies (mapped to the Go server's
// TRUSTED_PROXIES) both take the right-most hop that is not a trusted proxy.
compatSuite('client IP with trusted proxies configured on both', (scenario) => {
  scenario('X-Forwarded-For chains: right-most untrusted hop', async (s) => {
    const email = s.email('proxied');
    await s.signUp(s.browser(), { email }, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    for (const xff of ['203.0.113.8, 10.0.0.1', '203.0.113.9, 127.0.0.1', '198.51.100.1, 203.0.113.10, 127.0.0.1', '127.0.0.1', 'not-an-ip, 203.0.113.11', '203.0.113.12, garbage']) {
      const b = s.browser({ userAgent: `xff ${xff}` });
      await s.signIn(b, { email }, { headers: { 'x-forwarded-for': xff } });
    }
    s.record('db rows', await s.sql('select "userAgent", "ipAddress" from session s join "user" u on u.id = s."userId" where u.email = $1 order by s."createdAt"', [email]));
  });
}, { options: { advanced: { ipAddress: { trustedProxies: ['127.0.0.1', '::1'] } } } });
