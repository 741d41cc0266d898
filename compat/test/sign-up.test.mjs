// POST /sign-up/email
import { compatSuite, SESSION_COOKIE, DONT_REMEMBER_COOKIE, cookieValue } from '../lib/harness.mjs';
import { unsignedPart } from '../lib/crypto.mjs';

compatSuite('sign-up', (scenario) => {
  scenario('sign-up success (JSON), then get-session with the new cookie', async (s) => {
    const b = s.browser();
    const r = await s.signUp(b, { name: 'Alice', email: s.email('Alice') });
    s.expect('200 with token and user', r.status === 200 && typeof r.json?.token === 'string', r.text);
    const cookie = cookieValue(r, SESSION_COOKIE);
    s.expect('cookie carries the body token', cookie && unsignedPart(cookie) === r.json?.token);
    s.expect('email lower-cased', r.json?.user?.email === s.email('alice'));
    s.expect('set-auth-token is the signed cookie value', r.header('set-auth-token') === decodeURIComponent(cookie ?? ''));
    const g = await b.get('/get-session');
    s.expect('session user is the new user', g.json?.user?.id === r.json?.user?.id && g.json?.session?.userId === r.json?.user?.id);
    s.expect('session token is the body token', g.json?.session?.token === r.json?.token);
    const rows = await s.sql('select "providerId", "accountId" = "userId" as same, length(password) as len, password ~ \'^[0-9a-f]{32}:[0-9a-f]{128}$\' as scrypt_format, scope, "accessToken" from account where "userId" = $1', [r.json?.user?.id]);
    s.record('credential account row', rows);
  });

  scenario('sign-up with an x-www-form-urlencoded body', async (s) => {
    const b = s.browser();
    const r = await b.post('/sign-up/email', { form: { name: 'Form User', email: s.email('form'), password: 'password1234' } });
    s.expect('form sign-up works', r.status === 200, r.text);
    await b.get('/get-session');
  });

  scenario('sign-up with image and extra unknown / protected fields', async (s) => {
    const b = s.browser();
    await s.signUp(b, { name: '', email: s.email('img'), image: 'https://img.example.test/a.png', emailVerified: true, id: 'chosen-id', role: 'admin' });
    await b.get('/get-session');
    s.record('user row', await s.sql('select name, "emailVerified", image, id = \'chosen-id\' as chosen from "user" where email = $1', [s.email('img')]));
  });

  scenario('duplicate email in other letter case: 422', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('dup') });
    const r = await s.signUp(s.browser(), { email: s.email('DUP').toUpperCase() });
    s.expect('422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL', r.status === 422 && r.json?.code === 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL', r.text);
    await s.signUp(s.browser(), { email: s.email('dup') });
  });

  scenario('password length limits: 7 and 129 rejected, 8 and 128 accepted', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('p7'), password: '1234567' });
    await s.signUp(b, { email: s.email('p129'), password: 'x'.repeat(129) });
    await s.signUp(s.browser(), { email: s.email('p8'), password: '12345678' });
    await s.signUp(s.browser(), { email: s.email('p128'), password: 'y'.repeat(128) });
    await s.signUp(s.browser(), { email: s.email('pempty'), password: '' });
    // 8 UTF-16 code units but 4 code points (emoji are surrogate pairs)
    await s.signUp(s.browser(), { email: s.email('pemoji'), password: '😀😀😀😀' });
    await s.signIn(s.browser(), { email: s.email('pemoji'), password: '😀😀😀😀' });
  });

  scenario('bad emails', async (s) => {
    const b = s.browser();
    for (const email of ['not-an-email', 'a@localhost', ' spaced@example.com', 'spaced@example.com ', 'a@b.c', 'ü@example.com', '', 'a..b@example.com']) {
      await s.signUp(b, { email });
    }
  });

  scenario('missing name / email / password and wrong JSON types', async (s) => {
    const b = s.browser();
    const full = { name: 'N', email: s.email('m'), password: 'password1234' };
    for (const k of ['name', 'email', 'password']) {
      const body = { ...full };
      delete body[k];
      await b.post('/sign-up/email', { json: body });
    }
    await b.post('/sign-up/email', { json: {} });
    await b.post('/sign-up/email', { json: { name: 5, email: true, password: 12345678 } });
    await b.post('/sign-up/email', { json: { ...full, name: null } });
    await b.post('/sign-up/email', { json: { ...full, rememberMe: 'no' } });
    await b.post('/sign-up/email', { json: { ...full, image: 7 } });
    await b.post('/sign-up/email', { json: { ...full, callbackURL: 7 } });
  });

  scenario('sign-up with rememberMe false: session cookie without Max-Age + dont_remember', async (s) => {
    const b = s.browser();
    const r = await s.signUp(b, { email: s.email('nr'), rememberMe: false });
    s.expect('dont_remember cookie set', cookieValue(r, DONT_REMEMBER_COOKIE)?.startsWith('true.'));
    s.expect('session cookie without Max-Age', !/Max-Age/i.test(r.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? 'Max-Age'));
    await b.get('/get-session');
    // after a day the session would need a refresh, but don't-remember sessions are never refreshed
    await s.sql(`update "session" set "expiresAt" = "expiresAt" - interval '2 hours', "updatedAt" = "updatedAt" - interval '2 days' where token = $1`, [r.json?.token]);
    await b.get('/get-session');
  });

  scenario('sign-up callbackURL validation', async (s) => {
    await s.signUp(s.browser(), { email: s.email('cb1'), callbackURL: 'http://evil.example.com/welcome' });
    await s.signUp(s.browser(), { email: s.email('cb2'), callbackURL: 'http://app.example.test/welcome' });
    await s.signUp(s.browser(), { email: s.email('cb3'), callbackURL: '/welcome' });
  });
});
