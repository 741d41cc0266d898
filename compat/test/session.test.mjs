// GET /get-session: cookies, signatures, bearer tokens, expiry and refresh.
import { compatSuite, SESSION_COOKIE, cookieValue } from '../lib/harness.mjs';
import { signCookieValue } from '../lib/crypto.mjs';

const OTHER_SECRET = 'another-secret-that-is-long-enough-0123456789';

async function signedUp(s, local) {
  const b = s.browser();
  const r = await s.signUp(b, { email: s.email(local) });
  return { b, token: r.json?.token, cookie: cookieValue(r, SESSION_COOKIE), authToken: r.header('set-auth-token'), userId: r.json?.user?.id };
}

compatSuite('get-session', (scenario) => {
  scenario('signed out: null with no-store headers', async (s) => {
    const b = s.browser();
    const r = await b.get('/get-session');
    s.expect('200 null', r.status === 200 && r.text === 'null', r.text);
    s.expect('cache-control no-store', r.header('cache-control') === 'no-store');
    await b.get('/get-session', { cookies: 'better-auth.session_token=' });
    await b.get('/get-session', { cookies: 'better-auth.session_token=garbage' });
    await b.get('/get-session', { cookies: 'unrelated=1; other=2' });
    await b.get('/get-session', { query: { disableCookieCache: 'true' } });
  });

  scenario('valid cookie, disableCookieCache and query variants', async (s) => {
    const { b } = await signedUp(s, 'valid');
    await b.get('/get-session');
    await b.get('/get-session', { query: { disableCookieCache: 'true' } });
    await b.get('/get-session', { query: { disableRefresh: 'false' } });
    await b.get('/get-session', { query: { unknown: 'x' } });
    // extra unrelated cookies do not matter
    await b.get('/get-session', { cookies: `foo=bar; ${SESSION_COOKIE}=${b.jar.get(SESSION_COOKIE)}; baz=1` });
  });

  scenario('tampered signature, unsigned raw token, cookie signed with another secret', async (s) => {
    const { b, token, cookie } = await signedUp(s, 'tamper');
    const decoded = decodeURIComponent(cookie);
    const sig = decoded.slice(decoded.indexOf('.') + 1);
    const flipped = `${token}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    const r = await b.get('/get-session', { cookies: `${SESSION_COOKIE}=${encodeURIComponent(flipped)}` });
    s.expect('tampered signature: null', r.text === 'null', r.text);
    await b.get('/get-session', { cookies: `${SESSION_COOKIE}=${token}` });
    await b.get('/get-session', { cookies: `${SESSION_COOKIE}=${signCookieValue(token, OTHER_SECRET)}` });
    // a different token signed with the right secret
    await b.get('/get-session', { cookies: `${SESSION_COOKIE}=${signCookieValue('x'.repeat(32), process.env.COMPAT_SECRET || 'compat-secret-0123456789abcdef0123456789abcdef')}` });
    // the signed value not URL-encoded (as set-auth-token shows it)
    await b.get('/get-session', { cookies: `${SESSION_COOKIE}=${decoded}` });
    // the genuine cookie still works
    await b.get('/get-session');
  });

  scenario('Authorization: Bearer with raw and signed tokens (bearer plugin)', async (s) => {
    const { token, authToken, cookie } = await signedUp(s, 'bearer');
    const b = s.browser();
    const r1 = await b.get('/get-session', { headers: { authorization: `Bearer ${token}` } });
    s.expect('raw token bearer accepted', r1.json?.session?.token === token, r1.text);
    const r2 = await b.get('/get-session', { headers: { authorization: `Bearer ${authToken}` } });
    s.expect('signed token bearer accepted', r2.json?.session?.token === token, r2.text);
    await b.get('/get-session', { headers: { authorization: `Bearer ${cookie}` } });
    await b.get('/get-session', { headers: { authorization: `bearer ${token}` } });
    await b.get('/get-session', { headers: { authorization: `Bearer ${token}x` } });
    await b.get('/get-session', { headers: { authorization: `Bearer ${signCookieValue(token, OTHER_SECRET)}` } });
    await b.get('/get-session', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    await b.get('/get-session', { headers: { authorization: 'Bearer ' } });
    // state-changing endpoint with a bearer token and no Origin (no cookie, so no origin check)
    await b.post('/update-user', { json: { name: 'Bearer Name' }, origin: null, headers: { authorization: `Bearer ${authToken}` } });
    await b.get('/list-sessions', { headers: { authorization: `Bearer ${token}` } });
    await b.get('/list-accounts', { headers: { authorization: `Bearer ${authToken}` } });
  });

  scenario('bearer token and a cookie for different sessions', async (s) => {
    const one = await signedUp(s, 'bc1');
    const two = await signedUp(s, 'bc2');
    const r = await one.b.get('/get-session', { headers: { authorization: `Bearer ${two.token}` } });
    s.record('bearer wins over cookie', r.json?.user?.id === two.userId);
    await one.b.get('/get-session', { headers: { authorization: 'Bearer not-a-valid-token' } });
  });

  scenario('expired session: null, cookies cleared, row deleted', async (s) => {
    const { b, token } = await signedUp(s, 'expired');
    await s.sql(`update "session" set "expiresAt" = now() - interval '1 minute' where token = $1`, [token]);
    const r = await b.get('/get-session', { store: false });
    s.expect('null', r.text === 'null', r.text);
    s.expect('session cookie cleared', r.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=;`)), r.setCookies);
    s.record('rows left for the token', (await s.sql('select count(*)::int as n from session where token = $1', [token]))[0]);
    // the same cookie again (the row is gone now)
    await b.get('/get-session');
    // bearer with the expired token
    await s.browser().get('/get-session', { headers: { authorization: `Bearer ${token}` } });
    await b.get('/list-sessions');
  });

  scenario('refresh after updateAge: cookie re-issued and expiry extended', async (s) => {
    const { b, token } = await signedUp(s, 'refresh');
    await s.sql(`update "session" set "expiresAt" = "expiresAt" - interval '2 days', "updatedAt" = "updatedAt" - interval '2 days' where token = $1`, [token]);
    // disableRefresh: served as is, nothing re-issued
    const d = await b.get('/get-session', { query: { disableRefresh: 'true' } });
    s.expect('disableRefresh: no cookie', d.setCookies.length === 0, d.setCookies);
    const r = await b.get('/get-session');
    s.expect('refresh re-issues the session cookie', r.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`) && /Max-Age=604800/.test(c)), r.setCookies);
    s.expect('same token', r.json?.session?.token === token);
    const rows = await s.sql(`select round(extract(epoch from ("expiresAt" - now())) / 3600.0)::int as hours_left, round(extract(epoch from (now() - "updatedAt")) / 60.0)::int as updated_minutes_ago from session where token = $1`, [token]);
    s.record('db after refresh', rows);
    // a second call right after: no refresh, no cookie
    await b.get('/get-session');
  });

  scenario('session close to the updateAge boundary is not refreshed', async (s) => {
    const { b, token } = await signedUp(s, 'norefresh');
    await s.sql(`update "session" set "expiresAt" = "expiresAt" - interval '20 hours' where token = $1`, [token]);
    await b.get('/get-session');
  });
});
