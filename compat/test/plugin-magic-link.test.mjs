// The magic-link plugin (with anonymous and last-login-method) on both servers: sending a link
// (body checks, callback checks, first-login CSRF), the mailed link (its shape, the stored row),
// following it as a new user (newUserCallbackURL) and as an existing one, the JSON branch without a
// callbackURL, reuse / unknown / expired tokens and their error redirects, untrusted callbacks
// refused before the token is used, an unverified account stripped of its password and sessions,
// and an anonymous browser linked away. The reference records the link from sendMagicLink; the Go
// server mails it to its outbox.
import { compatSuite, cookieValue, SESSION_COOKIE, APP_ORIGIN } from '../lib/harness.mjs';

const PLUGINS = { BETTER_AUTH_PLUGINS: 'anonymous,magic-link,last-login-method' };
const LAST_LOGIN_COOKIE = 'better-auth.last_used_login_method';
const err = (res, status, code) => res.status === status && res.json?.code === code;
const location = (res) => res.headers?.location?.[0] ?? res.header?.('location');

/** Asks for a link for email (extra body fields allowed) and returns the captured mail. */
async function linkFor(s, b, email, extra = {}) {
  const r = await b.post('/sign-in/magic-link', { json: { email, ...extra } });
  s.expect('sign-in/magic-link: 200 {status:true}', r.status === 200 && r.json?.status === true && r.setCookies.length === 0, r.json);
  return s.mail(email, { kind: 'magic-link' });
}

compatSuite(
  'plugin magic-link',
  (scenario) => {
    scenario('a new user: the link, the stored row, newUserCallbackURL, session and last-login cookie', async (s) => {
      const b = s.browser();
      const email = s.email('new');
      const m = await linkFor(s, b, email, { name: 'New Person', callbackURL: '/dash', newUserCallbackURL: '/welcome', errorCallbackURL: `${APP_ORIGIN}/oops` });
      const rows = await s.sql('select "identifier", "value", extract(epoch from ("expiresAt" - "createdAt"))::int as life from "verification" where "identifier" like $1', [`magic-link:%`]);
      const mine = rows.filter((r) => r.value.includes(email));
      s.record('row: identifier magic-link:<token>, value, 300 s', mine.map((r) => ({ identifier: r.identifier === `magic-link:${m.token}`, value: JSON.parse(r.value), life: r.life })));
      const v = await s.browser().get(m.path);
      s.expect('302 to the newUserCallbackURL on the base URL', v.status === 302 && location(v) === 'http://localhost:8000/welcome', location(v));
      s.expect('session and last-login (magic-link) cookies', Boolean(cookieValue(v, SESSION_COOKIE)) && v.setCookies.some((l) => l.startsWith(`${LAST_LOGIN_COOKIE}=magic-link;`)), v.setCookies);
      const u = await s.sql('select "name", "emailVerified", "isAnonymous" from "user" where "email" = $1', [email]);
      s.record('the new user', u[0]);
      const again = await s.browser().get(m.path);
      s.expect('the link works once: 302 callbackURL?error=INVALID_TOKEN', again.status === 302 && location(again) === `${APP_ORIGIN}/oops?error=INVALID_TOKEN`, location(again));
    });

    scenario('an existing user: callbackURL, the JSON branch without one, mixed-case address', async (s) => {
      const b = s.browser();
      const email = s.email('old');
      const up = await s.signUp(b, { email });
      const m = await linkFor(s, s.browser(), email.toUpperCase(), { name: 'Ignored', callbackURL: '/dash?tab=1', newUserCallbackURL: '/welcome' });
      const v = await s.browser().get(m.path);
      s.expect('302 to the callbackURL (not the new-user one)', v.status === 302 && location(v) === 'http://localhost:8000/dash?tab=1', location(v));
      const m2 = await linkFor(s, s.browser(), email);
      const c = s.browser();
      const j = await c.get(`/magic-link/verify?token=${m2.token}`);
      s.expect('no callbackURL: 200 {token,user,session}', j.status === 200 && JSON.stringify(Object.keys(j.json ?? {})) === '["token","user","session"]', j.json);
      s.expect('the user as before (name kept), a session of theirs', j.json?.user?.id === up.json?.user?.id && j.json?.user?.name === 'Test User' && j.json?.session?.userId === up.json?.user?.id, j.json);
      const g = await c.get('/get-session');
      s.expect('the cookie is that session', g.json?.session?.token === j.json?.token, g.json);
      const ss = await s.sql('select count(*)::int as n from "session" where "userId" = $1', [up.json.user.id]);
      s.record('a verified user keeps the other sessions', ss[0]);
    });

    scenario('bad, expired and reused tokens; error redirects; untrusted callbacks before the token is used', async (s) => {
      const b = s.browser();
      const bad = await b.get('/magic-link/verify?token=nope');
      s.expect('unknown, no callback: 302 <base>/?error=INVALID_TOKEN', bad.status === 302 && location(bad) === 'http://localhost:8000/?error=INVALID_TOKEN', location(bad));
      const badQ = await b.get(`/magic-link/verify?token=nope&callbackURL=${encodeURIComponent('/dash?x=a b&error=old')}`);
      s.record('error replaces an error parameter in the callback', location(badQ));
      const missing = await b.get('/magic-link/verify');
      s.expect('no token: 400 VALIDATION_ERROR', err(missing, 400, 'VALIDATION_ERROR'), missing.json);
      const email = s.email('exp');
      const m = await linkFor(s, b, email);
      for (const [name, q] of [['callbackURL', 'http://evil.test/'], ['newUserCallbackURL', 'http://evil.test/n'], ['errorCallbackURL', '//evil.test/e']]) {
        const r = await b.get(`/magic-link/verify?token=${m.token}&${name}=${encodeURIComponent(q)}`);
        s.expect(`untrusted ${name}: 403 INVALID_CALLBACK_URL`, err(r, 403, 'INVALID_CALLBACK_URL'), r.json);
      }
      const trusted = await b.get(`/magic-link/verify?token=${m.token}&callbackURL=${encodeURIComponent(`${APP_ORIGIN}/in`)}`);
      s.expect('the token survived the refusals: 302 to the trusted origin', trusted.status === 302 && location(trusted) === `${APP_ORIGIN}/in`, location(trusted));
      const m2 = await linkFor(s, b, email);
      await s.sql(`update "verification" set "expiresAt" = now() - interval '1 second' where "identifier" = $1`, [`magic-link:${m2.token}`]);
      const exp = await b.get(`${m2.path}`);
      s.expect('expired: 302 /?error=INVALID_TOKEN', exp.status === 302 && location(exp) === 'http://localhost:8000/?error=INVALID_TOKEN', location(exp));
      const left = await s.sql('select count(*)::int as n from "verification" where "identifier" = $1', [`magic-link:${m2.token}`]);
      s.record('the expired row is gone', left[0]);
    });

    scenario('sending: validation, callback checks, first-login CSRF', async (s) => {
      const b = s.browser();
      const bad = await b.post('/sign-in/magic-link', { json: { email: 'not-an-email' } });
      s.expect('bad e-mail: 400 VALIDATION_ERROR', err(bad, 400, 'VALIDATION_ERROR'), bad.json);
      const name = await b.post('/sign-in/magic-link', { json: { email: s.email('v'), name: 5 } });
      s.expect('name not a string: 400 VALIDATION_ERROR', err(name, 400, 'VALIDATION_ERROR'), name.json);
      const meta = await b.post('/sign-in/magic-link', { json: { email: s.email('v'), metadata: 'x' } });
      s.expect('metadata not an object: 400 VALIDATION_ERROR', err(meta, 400, 'VALIDATION_ERROR'), meta.json);
      const form = await b.post('/sign-in/magic-link', { form: { email: s.email('v') } });
      s.expect('a form body: 415', form.status === 415, form.json);
      for (const [field, code] of [['callbackURL', 'INVALID_CALLBACK_URL'], ['newUserCallbackURL', 'INVALID_NEW_USER_CALLBACK_URL'], ['errorCallbackURL', 'INVALID_ERROR_CALLBACK_URL']]) {
        const r = await b.post('/sign-in/magic-link', { json: { email: s.email('v'), [field]: 'http://evil.test/' } });
        s.expect(`untrusted ${field}: 403 ${code}`, err(r, 403, code), r.json);
      }
      const nav = await b.post('/sign-in/magic-link', { json: { email: s.email('v') }, origin: null, headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' } });
      s.expect('cross-site navigation: 403 CROSS_SITE_NAVIGATION_LOGIN_BLOCKED', err(nav, 403, 'CROSS_SITE_NAVIGATION_LOGIN_BLOCKED'), nav.json);
      const noOrigin = await b.post('/sign-in/magic-link', { json: { email: s.email('v') }, origin: null, headers: { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' } });
      s.expect('fetch metadata without Origin: 403 MISSING_OR_NULL_ORIGIN', err(noOrigin, 403, 'MISSING_OR_NULL_ORIGIN'), noOrigin.json);
      const evil = await b.post('/sign-in/magic-link', { json: { email: s.email('v') }, origin: 'http://evil.test' });
      s.expect('an untrusted Origin: 403 INVALID_ORIGIN', err(evil, 403, 'INVALID_ORIGIN'), evil.json);
      await s.noMail(s.email('v'));
      const server = await b.post('/sign-in/magic-link', { json: { email: s.email('srv') }, origin: null });
      s.expect('no Origin and no fetch metadata (a server): 200', server.status === 200, server.json);
      await s.mail(s.email('srv'), { kind: 'magic-link' });
    });

    scenario('an unverified account: its password and sessions are gone, the address is verified', async (s) => {
      const b = s.browser();
      const email = s.email('unv');
      const up = await s.signUp(b, { email });
      const m = await linkFor(s, s.browser(), email, { callbackURL: '/d' });
      const v = await s.browser().get(m.path);
      s.expect('302 to the callbackURL', v.status === 302 && location(v) === 'http://localhost:8000/d', location(v));
      const old = await b.get('/get-session');
      s.expect('the earlier session is revoked', old.json === null, old.json);
      const acc = await s.sql('select count(*)::int as n from "account" where "userId" = $1', [up.json.user.id]);
      s.record('no account left', acc[0]);
      const u = await s.sql('select "emailVerified", "name" from "user" where "id" = $1', [up.json.user.id]);
      s.record('verified, name kept', u[0]);
      const pw = await s.signIn(s.browser(), { email });
      s.expect('the password no longer works: 401', pw.status === 401, pw.json);
    });

    scenario('an anonymous browser that follows a link is rid of its anonymous user', async (s) => {
      const b = s.browser();
      const anon = await b.post('/sign-in/anonymous');
      const m = await linkFor(s, b, s.email('anon'), { callbackURL: '/d' });
      const v = await b.get(m.path);
      s.expect('302 with a new session', v.status === 302 && Boolean(cookieValue(v, SESSION_COOKIE)), v.setCookies);
      const gone = await s.sql('select count(*)::int as n from "user" where "id" = $1', [anon.json.user.id]);
      s.record('the anonymous user is deleted', gone[0]);
    });
  },
  { env: PLUGINS },
);

compatSuite(
  'plugin magic-link: sign-up disabled, hashed tokens, ten-minute links',
  (scenario) => {
    scenario('no user is created; links of existing users still work; the row holds the hash', async (s) => {
      const b = s.browser();
      const m = await linkFor(s, b, s.email('none'), { callbackURL: '/d', errorCallbackURL: '/err' });
      const v = await s.browser().get(m.path);
      s.expect('302 errorCallbackURL?error=new_user_signup_disabled', v.status === 302 && location(v) === 'http://localhost:8000/err?error=new_user_signup_disabled', location(v));
      const u = await s.sql('select count(*)::int as n from "user" where "email" = $1', [s.email('none')]);
      s.record('no user', u[0]);
      const email = s.email('known');
      await s.signUp(s.browser(), { email });
      const m2 = await linkFor(s, b, email);
      const rows = await s.sql(`select "identifier", extract(epoch from ("expiresAt" - "createdAt"))::int as life from "verification" where "value" like $1`, [`%${email}%`]);
      s.record('the row: magic-link:<sha256 base64url>, 600 s', rows.map((r) => ({ hashed: /^magic-link:[A-Za-z0-9_-]{43}$/.test(r.identifier) && !r.identifier.includes(m2.token), life: r.life })));
      const ok = await s.browser().get(`${m2.path}`);
      s.expect('302 to / for the existing user', ok.status === 302 && location(ok) === 'http://localhost:8000/', location(ok));
    });
  },
  { env: { ...PLUGINS, MAGIC_LINK_DISABLE_SIGN_UP: 'true', MAGIC_LINK_STORE_TOKEN: 'hashed', MAGIC_LINK_EXPIRES_IN: '600' } },
);
