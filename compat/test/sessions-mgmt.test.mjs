// list-sessions, revoke-session, revoke-sessions, revoke-other-sessions.
import { compatSuite, SESSION_COOKIE, cookieValue } from '../lib/harness.mjs';

async function twoDevices(s, local) {
  const a = s.browser({ userAgent: 'device-a' });
  const ra = await s.signUp(a, { email: s.email(local) });
  const b = s.browser({ userAgent: 'device-b' });
  const rb = await s.signIn(b, { email: s.email(local) });
  return { a, b, tokenA: ra.json?.token, tokenB: rb.json?.token };
}

compatSuite('session management', (scenario) => {
  scenario('list-sessions shows both devices', async (s) => {
    const { a, tokenA, tokenB } = await twoDevices(s, 'list');
    const r = await a.get('/list-sessions');
    const tokens = (Array.isArray(r.json) ? r.json : []).map((x) => x.token).sort();
    s.expect('both tokens listed', JSON.stringify(tokens) === JSON.stringify([tokenA, tokenB].sort()), r.text);
    // an expired session of the same user is not listed
    await s.sql(`update session set "expiresAt" = now() - interval '1 hour' where token = $1`, [tokenB]);
    await a.get('/list-sessions');
  });

  scenario('revoke-session: own other session, foreign token, unknown token, missing token', async (s) => {
    const { a, b, tokenB } = await twoDevices(s, 'revoke');
    const stranger = s.browser();
    const rs = await s.signUp(stranger, { email: s.email('stranger') });
    // revoking another user's token is a silent no-op
    await a.post('/revoke-session', { json: { token: rs.json?.token } });
    await stranger.get('/get-session');
    await a.post('/revoke-session', { json: { token: 'does-not-exist' } });
    await a.post('/revoke-session', { json: {} });
    await a.post('/revoke-session', { json: { token: 5 } });
    const r = await a.post('/revoke-session', { json: { token: tokenB } });
    s.expect('status true', r.json?.status === true, r.text);
    const gb = await b.get('/get-session');
    s.expect('revoked session reads as null', gb.text === 'null', gb.text);
    await b.post('/update-user', { json: { name: 'revoked' } });
    await a.get('/list-sessions');
  });

  scenario('revoke-session of the current session clears the cookies', async (s) => {
    const { a, tokenA } = await twoDevices(s, 'revokeself');
    const r = await a.post('/revoke-session', { json: { token: tokenA } });
    // the spec says the cookie is kept; 1.7.25 clears it
    s.expect('session cookie cleared', r.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=;`)), r.setCookies);
    await a.get('/get-session');
    await a.post('/revoke-session', { json: { token: tokenA } });
  });

  scenario('revoke-sessions revokes all, including the current one', async (s) => {
    const { a, b } = await twoDevices(s, 'revokeall');
    await a.post('/revoke-sessions', { json: {} });
    await a.get('/get-session');
    await b.get('/get-session');
    await a.post('/revoke-sessions', { json: {} });
  });

  scenario('revoke-other-sessions keeps only the current one', async (s) => {
    const { a, b, tokenA } = await twoDevices(s, 'revokeother');
    const c = s.browser({ userAgent: 'device-c' });
    await s.signIn(c, { email: s.email('revokeother') });
    await a.post('/revoke-other-sessions', { json: {} });
    await b.get('/get-session');
    await c.get('/get-session');
    const l = await a.get('/list-sessions');
    s.expect('only the current session left', Array.isArray(l.json) && l.json.length === 1 && l.json[0].token === tokenA, l.text);
    // without a body at all
    await a.post('/revoke-other-sessions');
    await a.get('/get-session');
  });

  scenario('a revoked session cannot be used anywhere', async (s) => {
    const { a, b, tokenB } = await twoDevices(s, 'dead');
    const signedB = b.jar.get(SESSION_COOKIE);
    await a.post('/revoke-other-sessions', { json: {} });
    await b.post('/update-user', { json: { name: 'x' } });
    await b.post('/change-password', { json: { currentPassword: 'password1234', newPassword: 'password5678' } });
    await b.get('/list-sessions');
    await b.get('/list-accounts');
    await b.post('/revoke-sessions', { json: {} });
    await b.get('/get-session', { cookies: `${SESSION_COOKIE}=${signedB}` });
    await s.browser().get('/get-session', { headers: { authorization: `Bearer ${tokenB}` } });
    await a.get('/get-session');
  });

  scenario('sign-out: cookies cleared, session deleted, get-session null', async (s) => {
    const { a, b, tokenA } = await twoDevices(s, 'signout');
    const old = a.jar.get(SESSION_COOKIE);
    const r = await a.post('/sign-out', { json: {} });
    s.expect('success true', r.json?.success === true, r.text);
    s.expect('session cookie cleared', r.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=;`)), r.setCookies);
    await a.get('/get-session');
    await a.get('/get-session', { cookies: `${SESSION_COOKIE}=${old}` });
    s.record('row for the signed-out token', (await s.sql('select count(*)::int as n from session where token = $1', [tokenA]))[0]);
    await b.get('/get-session');
    // sign-out without any session, with and without a body
    await s.browser().post('/sign-out', { json: {} });
    await s.browser().post('/sign-out');
    await s.browser().post('/sign-out', { json: {}, cookies: `${SESSION_COOKIE}=garbage` });
    // the client posts {} with the cookie; a callbackURL is accepted if trusted
    await b.post('/sign-out', { json: { callbackURL: 'http://evil.example.com/' } });
    await b.post('/sign-out', { json: { callbackURL: '/bye' } });
    await b.get('/get-session');
    const rememberless = s.browser();
    await s.signIn(rememberless, { email: s.email('signout'), rememberMe: false });
    const r2 = await rememberless.post('/sign-out', { json: {} });
    s.record('sign-out cookies after rememberMe:false', r2.setCookies.map((c) => c.split(';')[0].split('=')[0]).sort());
  });
});
