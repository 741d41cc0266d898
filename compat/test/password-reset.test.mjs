// Password reset by email: request-password-reset, the GET reset-password/:token link,
// POST reset-password, revokeSessionsOnPasswordReset.
import { compatSuite } from '../lib/harness.mjs';

const PASSWORD = 'password1234';
const NEW_PASSWORD = 'new-password-5678';

/** Signs up `local`, asks for a reset (redirectTo given or not) and returns the mail. */
async function resetMail(s, local, redirectTo) {
  const email = s.email(local);
  const b = s.browser();
  await s.signUp(b, { email });
  await s.browser().post('/request-password-reset', { json: redirectTo === undefined ? { email } : { email, redirectTo } });
  const m = await s.mail(email, { kind: 'reset-password' });
  return { email, b, m };
}

compatSuite('password reset', (scenario) => {
  scenario('request-password-reset: same answer for known and unknown addresses, mail only to known', async (s) => {
    const email = s.email('known');
    await s.signUp(s.browser(), { email });
    const b = s.browser();
    const known = await b.post('/request-password-reset', { json: { email: email.toUpperCase() } });
    s.expect('200 {status:true,message}', known.status === 200 && known.json?.status === true && typeof known.json?.message === 'string', known.text);
    const m = await s.mail(email, { kind: 'reset-password' });
    s.expect('link /api/auth/reset-password/<token>?callbackURL= (empty)', /^http:\/\/localhost:8000\/api\/auth\/reset-password\/[A-Za-z0-9]+\?callbackURL=$/.test(m.url), m.url);
    const unknown = await b.post('/request-password-reset', { json: { email: s.email('unknown') } });
    s.expect('unknown: identical body', unknown.text === known.text, unknown.text);
    await s.noMail(s.email('unknown'));
    // redirectTo is carried (encoded) into the link's callbackURL
    await b.post('/request-password-reset', { json: { email, redirectTo: 'http://app.example.test/reset?from=mail' } });
    await s.mail(email, { kind: 'reset-password', label: 'mail with redirectTo' });
    await b.post('/request-password-reset', { json: { email, redirectTo: '/reset' } });
    await s.mail(email, { kind: 'reset-password', label: 'mail with a relative redirectTo' });
    // the legacy path of the same endpoint
    await b.post('/forget-password', { json: { email } });
    await s.noMail(email, { waitMs: 300 });
  });

  scenario('request-password-reset validation: untrusted redirectTo 403, bad email 400', async (s) => {
    const email = s.email('val');
    await s.signUp(s.browser(), { email });
    const b = s.browser();
    const r = await b.post('/request-password-reset', { json: { email, redirectTo: 'http://evil.example.com/reset' } });
    s.expect('403 INVALID_REDIRECT_URL', r.status === 403 && r.json?.code === 'INVALID_REDIRECT_URL', r.text);
    await b.post('/request-password-reset', { json: { email, redirectTo: '//evil.example.com/reset' } });
    await b.post('/request-password-reset', { json: { email: 'not-an-email' } });
    await b.post('/request-password-reset', { json: {} });
    await b.post('/request-password-reset', { json: { email, redirectTo: 5 } });
    await s.noMail(email);
  });

  scenario('GET reset-password/:token: live token, bad token, callbackURL missing, empty or untrusted', async (s) => {
    const { m } = await resetMail(s, 'link', 'http://app.example.test/reset');
    const b = s.browser();
    const live = await b.get(m.path, { label: 'GET the mailed link (callbackURL http://app.example.test/reset)' });
    s.expect('302 to the callbackURL with ?token=', live.status === 302 && live.header('location') === `http://app.example.test/reset?token=${m.token}`, live.header('location'));
    const tokenPath = `/reset-password/${m.token}`;
    await b.get(tokenPath, { query: { callbackURL: '/reset' }, label: 'live token, relative callbackURL' });
    await b.get(tokenPath, { query: { callbackURL: 'http://app.example.test/reset?step=2&token=old' }, label: 'live token, callbackURL with a query (token replaced)' });
    await b.get(tokenPath, { query: { callbackURL: '' }, label: 'live token, empty callbackURL' });
    await b.get(tokenPath, { label: 'live token, no callbackURL' });
    await b.get(tokenPath, { query: { callbackURL: 'http://evil.example.com/reset' }, label: 'live token, untrusted callbackURL' });
    await b.get('/reset-password/not-a-live-token', { query: { callbackURL: 'http://app.example.test/reset' }, label: 'bad token' });
    await b.get('/reset-password/not-a-live-token', { query: { callbackURL: '' }, label: 'bad token, empty callbackURL' });
    // the mail of a request without redirectTo carries an empty callbackURL: the link always fails
    const { m: bare } = await resetMail(s, 'bare');
    await b.get(bare.path, { label: 'GET the mailed link without redirectTo (callbackURL empty)' });
    // GET does not use the token up
    const r = await b.post('/reset-password', { json: { token: m.token, newPassword: NEW_PASSWORD } });
    s.expect('the token still works after the GETs', r.status === 200 && r.json?.status === true, r.text);
  });

  scenario('POST reset-password: validation, success, reuse, sign-in with the new password', async (s) => {
    const { email, b: owner, m } = await resetMail(s, 'post', 'http://app.example.test/reset');
    const b = s.browser();
    const short = await b.post('/reset-password', { json: { token: m.token, newPassword: 'short' } });
    s.expect('400 PASSWORD_TOO_SHORT', short.status === 400 && short.json?.code === 'PASSWORD_TOO_SHORT', short.text);
    await b.post('/reset-password', { json: { token: m.token, newPassword: 'x'.repeat(129) } });
    const missing = await b.post('/reset-password', { json: { newPassword: NEW_PASSWORD } });
    s.expect('no token: 400 INVALID_TOKEN', missing.status === 400 && missing.json?.code === 'INVALID_TOKEN', missing.text);
    await b.post('/reset-password', { json: { token: '', newPassword: NEW_PASSWORD } });
    await b.post('/reset-password', { json: { token: 'not-a-live-token', newPassword: NEW_PASSWORD } });
    await b.post('/reset-password', { json: { token: m.token } });
    await b.post('/reset-password', { json: { token: m.token, newPassword: 12345678 } });
    const ok = await b.post('/reset-password', { json: { token: m.token, newPassword: NEW_PASSWORD } });
    s.expect('200 {status:true}', ok.status === 200 && JSON.stringify(ok.json) === '{"status":true}', ok.text);
    const reuse = await b.post('/reset-password', { json: { token: m.token, newPassword: 'third-password-9' } });
    s.expect('reuse: 400 INVALID_TOKEN', reuse.status === 400 && reuse.json?.code === 'INVALID_TOKEN', reuse.text);
    await b.get(m.path, { label: 'GET the mailed link after use' });
    await s.signIn(s.browser(), { email, password: PASSWORD });
    const si = await s.signIn(s.browser(), { email, password: NEW_PASSWORD });
    s.expect('new password works', si.status === 200, si.text);
    // revokeSessionsOnPasswordReset is off: the sign-up session survives
    const g = await owner.get('/get-session');
    s.expect('old session alive', g.json?.user?.email === email, g.text);
    s.record('verification rows left for the user', (await s.sql('select count(*)::int as n from verification v join "user" u on u.id = v.value where u.email = $1', [email]))[0]);
  });

  scenario('POST reset-password with the token in the query; an expired token; a verification JWT is no reset token', async (s) => {
    const { email, m } = await resetMail(s, 'query');
    const b = s.browser();
    const q = await b.post('/reset-password', { json: { newPassword: NEW_PASSWORD }, query: { token: m.token }, label: 'POST reset-password?token=<live token>' });
    s.expect('token in the query works', q.status === 200, q.text);
    await s.signIn(s.browser(), { email, password: NEW_PASSWORD });
    // body token wins over the query token
    const { m: m2 } = await resetMail(s, 'query2');
    await b.post('/reset-password', { json: { newPassword: NEW_PASSWORD, token: 'not-a-live-token' }, query: { token: m2.token }, label: 'POST reset-password?token=<live token> with a bad body token' });
    // an expired token (moved back in the database)
    const { m: m3 } = await resetMail(s, 'expired', 'http://app.example.test/reset');
    await s.sql(`update verification set "expiresAt" = now() - interval '1 minute' where identifier = $1`, [`reset-password:${m3.token}`]);
    await b.get(m3.path, { label: 'GET the mailed link, token expired' });
    await b.post('/reset-password', { json: { token: m3.token, newPassword: NEW_PASSWORD }, label: 'POST reset-password, token expired' });
    // a verification JWT for the same user is not a reset token
    await b.post('/reset-password', { json: { token: s.verificationJWT({ email: s.email('query2') }), newPassword: NEW_PASSWORD }, label: 'POST reset-password with a verification JWT' });
    // and a reset token is not a verification token
    await b.get('/verify-email', { query: { token: m2.token }, label: 'GET verify-email with a reset token' });
  });
});

compatSuite('password reset with revokeSessionsOnPasswordReset', (scenario) => {
  scenario('a reset signs the user out everywhere', async (s) => {
    const email = s.email('revoke');
    const a = s.browser();
    await s.signUp(a, { email });
    const c = s.browser();
    await s.signIn(c, { email });
    const stranger = s.browser();
    await s.signUp(stranger, { email: s.email('stranger') });
    await s.browser().post('/request-password-reset', { json: { email, redirectTo: '/reset' } });
    const m = await s.mail(email, { kind: 'reset-password' });
    const r = await s.browser().post('/reset-password', { json: { token: m.token, newPassword: NEW_PASSWORD } });
    s.expect('200', r.status === 200, r.text);
    const ga = await a.get('/get-session');
    s.expect('first session gone', ga.text === 'null', ga.text);
    await c.get('/get-session');
    await stranger.get('/get-session');
    s.record('sessions left for the user', (await s.sql('select count(*)::int as n from session s join "user" u on u.id = s."userId" where u.email = $1', [email]))[0]);
    await s.signIn(s.browser(), { email, password: NEW_PASSWORD });
  });
}, { options: { emailAndPassword: { revokeSessionsOnPasswordReset: true } } });
