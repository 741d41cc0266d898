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

  scenario('ipAddress from X-Forwarded-For and an empty user agent', async (s) => {
    const b = s.browser({ userAgent: null });
    await s.signUp(b, { email: s.email('ip') }, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    await b.get('/get-session');
    const c = s.browser({ userAgent: 'ua-with-xff-chain' });
    await s.signIn(c, { email: s.email('ip') }, { headers: { 'x-forwarded-for': '203.0.113.8, 10.0.0.1' } });
    await c.get('/get-session');
    const d = s.browser();
    await s.signIn(d, { email: s.email('ip') }, { headers: { 'x-forwarded-for': '::ffff:198.51.100.4' } });
    await d.get('/get-session');
    const e = s.browser();
    await s.signIn(e, { email: s.email('ip') }, { headers: { 'x-forwarded-for': 'not-an-ip' } });
    await e.get('/get-session');
    s.record('db rows', await s.sql('select "ipAddress", "userAgent" from session s join "user" u on u.id = s."userId" where u.email = $1 order by s."createdAt"', [s.email('ip')]));
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
