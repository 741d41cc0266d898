// POST /sign-in/email, the router origin check and the form CSRF check.
import { compatSuite, SESSION_COOKIE, DONT_REMEMBER_COOKIE, cookieValue } from '../lib/harness.mjs';
import { unsignedPart } from '../lib/crypto.mjs';

const PASSWORD = 'password1234';

compatSuite('sign-in', (scenario) => {
  scenario('sign-in success, wrong password, unknown email', async (s) => {
    await s.signUp(s.browser(), { name: 'Bob', email: s.email('bob') });
    const b = s.browser();
    const r = await s.signIn(b, { email: s.email('bob') });
    s.expect('200 redirect:false with token', r.status === 200 && r.json?.redirect === false && typeof r.json?.token === 'string', r.text);
    s.expect('cookie carries the token', unsignedPart(cookieValue(r, SESSION_COOKIE) ?? 'x.y') === r.json?.token);
    await b.get('/get-session');
    const w = await s.signIn(s.browser(), { email: s.email('bob'), password: 'wrong-password' });
    s.expect('wrong password: 401 INVALID_EMAIL_OR_PASSWORD', w.status === 401 && w.json?.code === 'INVALID_EMAIL_OR_PASSWORD', w.text);
    await s.signIn(s.browser(), { email: s.email('nobody') });
    await s.signIn(s.browser(), { email: s.email('bob'), password: 'short' });
    await s.signIn(s.browser(), { email: s.email('bob'), password: '' });
    s.record('sessions in DB for bob', (await s.sql('select count(*)::int as n from session s join "user" u on u.id = s."userId" where u.email = $1', [s.email('bob')]))[0]);
  });

  scenario('sign-in with the e-mail in upper case and a form body', async (s) => {
    await s.signUp(s.browser(), { email: s.email('carol') });
    await s.signIn(s.browser(), { email: s.email('carol').toUpperCase() });
    const b = s.browser();
    const r = await b.post('/sign-in/email', { form: { email: s.email('carol'), password: PASSWORD } });
    s.expect('form sign-in works', r.status === 200, r.text);
    await b.get('/get-session');
    // form with rememberMe given as a string
    await s.browser().post('/sign-in/email', { form: { email: s.email('carol'), password: PASSWORD, rememberMe: 'false' } });
  });

  scenario('sign-in validation: missing fields, wrong types, malformed e-mail', async (s) => {
    const b = s.browser();
    await b.post('/sign-in/email', { json: {} });
    await b.post('/sign-in/email', { json: { email: s.email('x') } });
    await b.post('/sign-in/email', { json: { password: PASSWORD } });
    await b.post('/sign-in/email', { json: { email: 5, password: null } });
    await b.post('/sign-in/email', { json: { email: 'not-an-email', password: PASSWORD } });
    await b.post('/sign-in/email', { json: { email: s.email('x'), password: PASSWORD, rememberMe: 'yes' } });
    await b.post('/sign-in/email', { json: { email: s.email('x'), password: PASSWORD, callbackURL: 12 } });
  });

  scenario('sign-in with rememberMe false', async (s) => {
    await s.signUp(s.browser(), { email: s.email('dora') });
    const b = s.browser();
    const r = await s.signIn(b, { email: s.email('dora'), rememberMe: false });
    s.expect('dont_remember set', Boolean(cookieValue(r, DONT_REMEMBER_COOKIE)));
    await b.get('/get-session');
    // update-user re-issues the cookie without Max-Age plus dont_remember
    await b.post('/update-user', { json: { name: 'Dora' } });
  });

  scenario('sign-in with a trusted callbackURL: redirect, url and Location', async (s) => {
    await s.signUp(s.browser(), { email: s.email('eve') });
    const r = await s.signIn(s.browser(), { email: s.email('eve'), callbackURL: 'http://app.example.test/dashboard?x=1' });
    s.expect('redirect true + Location', r.json?.redirect === true && r.header('location') === 'http://app.example.test/dashboard?x=1', r.text);
    await s.signIn(s.browser(), { email: s.email('eve'), callbackURL: '/dashboard' });
    await s.signIn(s.browser(), { email: s.email('eve'), callbackURL: 'http://localhost:8000/after' });
    // a wrong password with a callbackURL still gives the JSON error
    await s.signIn(s.browser(), { email: s.email('eve'), password: 'nope-nope', callbackURL: '/dashboard' });
  });

  scenario('sign-in with untrusted callbackURLs: 403 INVALID_CALLBACK_URL', async (s) => {
    await s.signUp(s.browser(), { email: s.email('fay') });
    for (const callbackURL of ['http://evil.example.com/x', '//evil.com', '//evil.com/path', 'https://app.example.test/x', 'javascript:alert(1)', 'http://app.example.test.evil.com/']) {
      await s.signIn(s.browser(), { email: s.email('fay'), callbackURL });
    }
    // the query string is checked too
    await s.browser().post('/sign-in/email', { json: { email: s.email('fay'), password: PASSWORD }, query: { callbackURL: 'http://evil.example.com/' } });
  });

  scenario('router origin check with a cookie: untrusted, null and missing Origin', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('gus') });
    const body = { email: s.email('gus'), password: PASSWORD };
    const r1 = await b.post('/sign-in/email', { json: body, origin: 'http://evil.example.com' });
    s.expect('untrusted origin: 403 INVALID_ORIGIN', r1.status === 403 && r1.json?.code === 'INVALID_ORIGIN', r1.text);
    const r2 = await b.post('/sign-in/email', { json: body, origin: 'null' });
    s.expect('Origin null: 403 MISSING_OR_NULL_ORIGIN', r2.json?.code === 'MISSING_OR_NULL_ORIGIN', r2.text);
    const r3 = await b.post('/sign-in/email', { json: body, origin: null });
    s.expect('no Origin: 403 MISSING_OR_NULL_ORIGIN', r3.json?.code === 'MISSING_OR_NULL_ORIGIN', r3.text);
    // Referer is used when Origin is absent
    await b.post('/sign-in/email', { json: body, origin: null, headers: { referer: 'http://app.example.test/login' } });
    await b.post('/sign-in/email', { json: body, origin: null, headers: { referer: 'http://evil.example.com/login' } });
    // the base URL origin is trusted; other ports/schemes are not
    await b.post('/sign-in/email', { json: body, origin: 'http://localhost:8000' });
    await b.post('/sign-in/email', { json: body, origin: 'http://localhost:8001' });
    await b.post('/sign-in/email', { json: body, origin: 'https://app.example.test' });
    // other state-changing endpoints are guarded the same way
    await b.post('/sign-out', { json: {}, origin: 'http://evil.example.com' });
    await b.post('/update-user', { json: { name: 'x' }, origin: null });
    await b.get('/get-session');
  });

  scenario('fetch-metadata CSRF on first login (no cookie)', async (s) => {
    await s.signUp(s.browser(), { email: s.email('hal') });
    const body = { email: s.email('hal'), password: PASSWORD };
    const nav = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' };
    const r = await s.browser().post('/sign-in/email', { json: body, origin: null, headers: nav });
    s.expect('403 CROSS_SITE_NAVIGATION_LOGIN_BLOCKED', r.status === 403 && r.json?.code === 'CROSS_SITE_NAVIGATION_LOGIN_BLOCKED', r.text);
    await s.browser().post('/sign-in/email', { form: body, origin: 'http://evil.example.com', headers: { ...nav, 'sec-fetch-dest': 'document' } });
    await s.browser().post('/sign-up/email', { json: { ...body, name: 'x', email: s.email('hal2') }, origin: null, headers: nav });
    // fetch metadata present but not a navigation: the Origin is then required and checked
    await s.browser().post('/sign-in/email', { json: body, origin: null, headers: { 'sec-fetch-mode': 'cors' } });
    await s.browser().post('/sign-in/email', { json: body, origin: 'http://evil.example.com', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' } });
    await s.browser().post('/sign-in/email', { json: body, headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' } });
    // no fetch metadata and no cookie: an untrusted Origin is still checked
    await s.browser().post('/sign-in/email', { json: body, origin: 'http://evil.example.com' });
    // no fetch metadata, no Origin, no cookie (a server-to-server call): allowed
    await s.browser().post('/sign-in/email', { json: body, origin: null });
  });
});
