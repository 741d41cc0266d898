// update-user, change-password, list-accounts and unauthenticated access.
import { compatSuite, SESSION_COOKIE, cookieValue } from '../lib/harness.mjs';

const PASSWORD = 'password1234';

compatSuite('user and account endpoints', (scenario) => {
  scenario('update-user: name, image, image null', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('upd'), image: 'https://img.example.test/1.png' });
    const r = await b.post('/update-user', { json: { name: 'New Name' } });
    s.expect('{"status":true}', r.json?.status === true && Object.keys(r.json).length === 1, r.text);
    await b.get('/get-session');
    await b.post('/update-user', { json: { image: 'https://img.example.test/2.png' } });
    await b.post('/update-user', { json: { image: null } });
    await b.get('/get-session');
    await b.post('/update-user', { json: { name: 'Both', image: 'https://img.example.test/3.png', unknownField: 1 } });
    s.record('user row', await s.sql('select name, image, "updatedAt" > "createdAt" as touched from "user" where email = $1', [s.email('upd')]));
  });

  scenario('update-user errors: email, empty body, unknown fields only, wrong types', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('upderr') });
    const r = await b.post('/update-user', { json: { email: s.email('other') } });
    s.expect('400 EMAIL_CAN_NOT_BE_UPDATED', r.status === 400 && r.json?.code === 'EMAIL_CAN_NOT_BE_UPDATED', r.text);
    const e = await b.post('/update-user', { json: {} });
    s.expect('400 No fields to update', e.status === 400 && e.json?.message === 'No fields to update', e.text);
    await b.post('/update-user', { json: { email: s.email('upderr'), name: 'Same Email' } });
    await b.post('/update-user', { json: { email: '' } });
    await b.post('/update-user', { json: { foo: 'bar' } });
    await b.post('/update-user', { json: { name: 42 } });
    await b.post('/update-user', { json: { image: 42 } });
    await b.post('/update-user', { json: { emailVerified: true } });
    await b.post('/update-user');
    await b.post('/update-user', { json: [] });
    await b.get('/get-session');
  });

  scenario('change-password: wrong current, short/long new, missing fields', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('cpw') });
    const w = await b.post('/change-password', { json: { currentPassword: 'wrong-password', newPassword: 'password5678' } });
    s.expect('400 INVALID_PASSWORD', w.status === 400 && w.json?.code === 'INVALID_PASSWORD', w.text);
    await b.post('/change-password', { json: { currentPassword: PASSWORD, newPassword: 'short' } });
    await b.post('/change-password', { json: { currentPassword: PASSWORD, newPassword: 'z'.repeat(129) } });
    await b.post('/change-password', { json: { currentPassword: 'wrong-password', newPassword: 'short' } });
    await b.post('/change-password', { json: { newPassword: 'password5678' } });
    await b.post('/change-password', { json: { currentPassword: PASSWORD } });
    await b.post('/change-password', { json: { currentPassword: PASSWORD, newPassword: 'password5678', revokeOtherSessions: 'yes' } });
    // nothing changed: the old password still works
    await s.signIn(s.browser(), { email: s.email('cpw') });
  });

  scenario('change-password success without revoking other sessions', async (s) => {
    const b = s.browser();
    const other = s.browser();
    await s.signUp(b, { email: s.email('cpok') });
    await s.signIn(other, { email: s.email('cpok') });
    const before = (await s.sql('select password from account a join "user" u on u.id = a."userId" where u.email = $1', [s.email('cpok')]))[0]?.password;
    const r = await b.post('/change-password', { json: { currentPassword: PASSWORD, newPassword: 'password5678' } });
    s.expect('token null', r.status === 200 && r.json?.token === null, r.text);
    const after = (await s.sql('select password from account a join "user" u on u.id = a."userId" where u.email = $1', [s.email('cpok')]))[0]?.password;
    s.record('hash changed and is scrypt-formatted', before !== after && /^[0-9a-f]{32}:[0-9a-f]{128}$/.test(after ?? ''));
    await other.get('/get-session');
    await b.get('/get-session');
    await s.signIn(s.browser(), { email: s.email('cpok') });
    await s.signIn(s.browser(), { email: s.email('cpok'), password: 'password5678' });
  });

  scenario('change-password with revokeOtherSessions: new token, old session dead', async (s) => {
    const b = s.browser();
    const other = s.browser();
    const su = await s.signUp(b, { email: s.email('cprev') });
    await s.signIn(other, { email: s.email('cprev') });
    const oldCookie = b.jar.get(SESSION_COOKIE);
    const r = await b.post('/change-password', { json: { currentPassword: PASSWORD, newPassword: 'password5678', revokeOtherSessions: true } });
    s.expect('new token returned', typeof r.json?.token === 'string' && r.json.token !== su.json?.token, r.text);
    s.expect('new cookie carries the new token', decodeURIComponent(cookieValue(r, SESSION_COOKIE) ?? '').startsWith(`${r.json?.token}.`), r.setCookies);
    await b.get('/get-session');
    await other.get('/get-session');
    await s.browser().get('/get-session', { cookies: `${SESSION_COOKIE}=${oldCookie}` });
    await b.get('/list-sessions');
  });

  scenario('change-password with revokeOtherSessions keeps a dont-remember session dont-remember', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('cpdr'), rememberMe: false });
    await b.post('/change-password', { json: { currentPassword: PASSWORD, newPassword: 'password5678', revokeOtherSessions: true } });
    await b.get('/get-session');
  });

  scenario('list-accounts', async (s) => {
    const b = s.browser();
    const r = await s.signUp(b, { email: s.email('acc') });
    const l = await b.get('/list-accounts');
    s.expect('one credential account', Array.isArray(l.json) && l.json.length === 1 && l.json[0].providerId === 'credential', l.text);
    s.expect('accountId is the user id', l.json?.[0]?.accountId === r.json?.user?.id);
    s.expect('no password in the listing', !('password' in (l.json?.[0] ?? {})));
  });

  // (the social-sign-in endpoints are in social.test.mjs)
  scenario('unauthenticated calls to every session-requiring endpoint: 401', async (s) => {
    const b = s.browser();
    await b.get('/list-sessions');
    await b.get('/list-accounts');
    await b.post('/update-user', { json: { name: 'x' } });
    await b.post('/change-password', { json: { currentPassword: PASSWORD, newPassword: 'password5678' } });
    await b.post('/revoke-session', { json: { token: 'x' } });
    await b.post('/revoke-sessions', { json: {} });
    await b.post('/revoke-other-sessions', { json: {} });
    await b.post('/update-session', { json: {} });
    await b.post('/verify-password', { json: { password: PASSWORD } });
    await b.post('/unlink-account', { json: { providerId: 'credential' } });
    await b.post('/unlink-account', { json: { accountId: 'x' } });
    await b.post('/change-email', { json: { newEmail: s.email('new') } });
    await b.post('/delete-user', { json: {} });
    // validation runs before the session check
    await b.post('/update-user', { json: { name: 5 } });
    await b.post('/change-password', { json: {} });
    // a bad cookie is the same as no cookie
    await b.post('/update-user', { json: { name: 'x' }, cookies: `${SESSION_COOKIE}=garbage` });
    await b.get('/list-sessions', { cookies: `${SESSION_COOKIE}=garbage` });
  });

  scenario('other core endpoints with a session', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('misc') });
    await b.post('/verify-password', { json: { password: PASSWORD } });
    await b.post('/verify-password', { json: { password: 'wrong-password' } });
    await b.post('/update-session', { json: {} });
    await b.post('/update-session', { json: { ipAddress: '1.2.3.4' } });
    await b.post('/change-email', { json: { newEmail: s.email('new') } });
    await b.post('/delete-user', { json: {} });
    await b.post('/request-password-reset', { json: { email: s.email('misc') } });
    await b.post('/forget-password', { json: { email: s.email('misc') } });
    await b.post('/set-password', { json: { newPassword: 'password5678' } });
    await b.post('/send-verification-email', { json: { email: s.email('misc') } });
    await b.get('/verify-email', { query: { token: 'bad' } });
    await b.post('/unlink-account', { json: { providerId: 'credential' } });
    await b.get('/get-session');
  });
});
