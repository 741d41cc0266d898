// The anonymous plugin with the plugin list of issue 14 (username,anonymous,two-factor,
// last-login-method) on both servers: POST /sign-in/anonymous (body, cookies, the placeholder
// e-mail, no last-login cookie), signing in anonymously again, /delete-anonymous-user (anonymous,
// signed out, ordinary user), and linking: an anonymous browser that signs up or signs in is rid of
// its anonymous user, except when the sign-in fails, is refused or stops at a two-factor challenge.
// The real client (anonymousClient) runs the same flows. Observed answers: /work/wt/2fa-observed.md.
import { createAuthClient } from 'better-auth/client';
import { anonymousClient, twoFactorClient, usernameClient } from 'better-auth/client/plugins';
import { compatSuite, cookieValue, SESSION_COOKIE } from '../lib/harness.mjs';
import { totpFromURI } from '../lib/totp.mjs';

const PLUGINS = { BETTER_AUTH_PLUGINS: 'username,anonymous,two-factor,last-login-method' };
const PASSWORD = 'password1234';
const LAST_LOGIN_COOKIE = 'better-auth.last_used_login_method';

const err = (res, status, code) => res.status === status && res.json?.code === code;

/** Whether the user row with this id still exists (ids differ per side, so only the answer is compared). */
async function exists(s, id) {
  const rows = await s.sql('select count(*)::int as n from "user" where "id" = $1', [id]);
  return rows[0].n === 1;
}

/** A browser holding a fresh anonymous session; returns {b, user}. */
async function anonymousBrowser(s) {
  const b = s.browser();
  const r = await b.post('/sign-in/anonymous');
  if (r.status !== 200) throw new Error(`sign-in/anonymous: ${r.status} ${r.text}`);
  return { b, user: r.json.user };
}

compatSuite(
  'plugin anonymous',
  (scenario) => {
    scenario('sign-in/anonymous: body, cookie, placeholder e-mail; not twice', async (s) => {
      const b = s.browser();
      const r = await b.post('/sign-in/anonymous');
      const u = r.json?.user ?? {};
      s.expect('200 {token, user}', r.status === 200 && JSON.stringify(Object.keys(r.json ?? {})) === '["token","user"]', r.json);
      s.record('user keys', Object.keys(u).join(','));
      s.expect('name "Anonymous", isAnonymous true, twoFactorEnabled false, unverified, no username', u.name === 'Anonymous' && u.isAnonymous === true && u.twoFactorEnabled === false && u.emailVerified === false && u.username === null && u.displayUsername === null && u.image === null, u);
      s.expect('e-mail <32 [a-z0-9]>@anonymous.placeholder.invalid', /^[a-z0-9]{32}@anonymous\.placeholder\.invalid$/.test(u.email ?? ''), u.email);
      s.expect('only the session cookie (no last-login cookie)', r.setCookies.length === 1 && Boolean(cookieValue(r, SESSION_COOKIE)) && !r.setCookies.some((l) => l.startsWith(`${LAST_LOGIN_COOKIE}=`)), r.setCookies);
      const g = await b.get('/get-session');
      s.expect('the session is the anonymous user', g.json?.user?.id === u.id && g.json?.user?.isAnonymous === true, g.json);
      const again = await b.post('/sign-in/anonymous');
      s.expect('again: 400 ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY', err(again, 400, 'ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY'), again.json);
      const withBody = await s.browser().post('/sign-in/anonymous', { json: {} });
      s.expect('an empty JSON body is fine', withBody.status === 200 && withBody.json?.user?.isAnonymous === true, withBody.json);
      const stored = await s.sql('select "isAnonymous", "twoFactorEnabled", "emailVerified", "name" from "user" where "id" = $1', [u.id]);
      s.record('stored row', stored[0]);
      const two = await s.sql(`select count(*)::int as n from "user" where "isAnonymous"`);
      s.record('two anonymous users', two[0]);
    });

    scenario('an ordinary user may sign in anonymously: a new anonymous session replaces theirs', async (s) => {
      const b = s.browser();
      const up = await s.signUp(b, { email: s.email('plain') });
      const r = await b.post('/sign-in/anonymous');
      s.expect('200, a new anonymous user', r.status === 200 && r.json?.user?.isAnonymous === true && r.json?.user?.id !== up.json?.user?.id, r.json);
      const g = await b.get('/get-session');
      s.expect('the browser is now anonymous', g.json?.user?.isAnonymous === true, g.json);
      s.record('the ordinary user is still there', await exists(s, up.json.user.id));
    });

    scenario('delete-anonymous-user: anonymous, signed out, ordinary user', async (s) => {
      const { b, user } = await anonymousBrowser(s);
      const del = await b.post('/delete-anonymous-user');
      s.expect('200 {success:true}, session cookies cleared', del.status === 200 && JSON.stringify(del.json) === '{"success":true}' && cookieValue(del, SESSION_COOKIE) === '', del.setCookies);
      s.record('the anonymous user is gone', !(await exists(s, user.id)));
      s.record('its sessions are gone', (await s.sql('select count(*)::int as n from "session" where "userId" = $1', [user.id]))[0]);
      const g = await b.get('/get-session');
      s.expect('signed out', g.json === null, g.json);
      const again = await b.post('/delete-anonymous-user');
      s.expect('signed out: 401 UNAUTHORIZED', err(again, 401, 'UNAUTHORIZED'), again.json);
      const o = s.browser();
      const up = await s.signUp(o, { email: s.email('keep') });
      const refused = await o.post('/delete-anonymous-user');
      s.expect('an ordinary user: 403 USER_IS_NOT_ANONYMOUS', err(refused, 403, 'USER_IS_NOT_ANONYMOUS'), refused.json);
      s.record('the ordinary user is kept', await exists(s, up.json.user.id));
      const withBody = await (await anonymousBrowser(s)).b.post('/delete-anonymous-user', { json: {} });
      s.expect('with an empty JSON body: 200', withBody.status === 200, withBody.json);
    });

    scenario('linking: sign-up and sign-in from an anonymous session delete the anonymous user', async (s) => {
      const one = await anonymousBrowser(s);
      const up = await s.signUp(one.b, { email: s.email('linked'), username: `lnk_${s.tag.slice(0, 6)}` });
      s.expect('sign-up: the ordinary answer for the new user', up.status === 200 && up.json?.user?.isAnonymous === false && up.json?.user?.email === s.email('linked'), up.json);
      s.record('sign-up response keys', Object.keys(up.json ?? {}).join(','));
      s.record('the anonymous user is deleted after sign-up', !(await exists(s, one.user.id)));
      const g = await one.b.get('/get-session');
      s.expect('the browser holds the new user', g.json?.user?.email === s.email('linked'), g.json);
      const two = await anonymousBrowser(s);
      const inn = await s.signIn(two.b, { email: s.email('linked') });
      s.expect('sign-in/email: the ordinary answer', inn.status === 200 && inn.json?.redirect === false, inn.json);
      s.record('the anonymous user is deleted after sign-in/email', !(await exists(s, two.user.id)));
      const three = await anonymousBrowser(s);
      const byName = await three.b.post('/sign-in/username', { json: { username: `lnk_${s.tag.slice(0, 6)}`, password: PASSWORD } });
      s.expect('sign-in/username: 200', byName.status === 200, byName.json);
      s.record('the anonymous user is deleted after sign-in/username', !(await exists(s, three.user.id)));
    });

    scenario('linking does not happen on a failed or refused sign-in', async (s) => {
      await s.signUp(s.browser(), { email: s.email('taken') });
      const { b, user } = await anonymousBrowser(s);
      const dup = await s.signUp(b, { email: s.email('taken') });
      s.expect('refused sign-up: 422', err(dup, 422, 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL'), dup.json);
      const wrong = await s.signIn(b, { email: s.email('taken'), password: 'wrong-password' });
      s.expect('wrong password: 401', err(wrong, 401, 'INVALID_EMAIL_OR_PASSWORD'), wrong.json);
      const bad = await b.post('/sign-in/username', { json: { username: 'nobody_here', password: PASSWORD } });
      s.expect('unknown username: 401', err(bad, 401, 'INVALID_USERNAME_OR_PASSWORD'), bad.json);
      s.record('the anonymous user is kept', await exists(s, user.id));
      const g = await b.get('/get-session');
      s.expect('still anonymous', g.json?.user?.id === user.id, g.json);
    });

    scenario('linking stops at a two-factor challenge: the anonymous user survives it', async (s) => {
      const owner = s.browser();
      const email = s.email('tfa');
      await s.signUp(owner, { email });
      const en = await owner.post('/two-factor/enable', { json: { password: PASSWORD } });
      await owner.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
      const { b, user } = await anonymousBrowser(s);
      const r = await s.signIn(b, { email });
      s.expect('the challenge', r.status === 200 && r.json?.twoFactorRedirect === true, r.json);
      s.record('the anonymous user survives the challenge', await exists(s, user.id));
      const v = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
      s.expect('verify-totp signs in', v.status === 200 && v.json?.user?.email === email, v.json);
      s.record('and the verification', await exists(s, user.id));
    });

    scenario('an anonymous user: update-user, no password for two-factor, sign-out', async (s) => {
      const { b, user } = await anonymousBrowser(s);
      const upd = await b.post('/update-user', { json: { name: 'Renamed Anon' } });
      s.expect('update-user: 200', upd.status === 200, upd.json);
      const en = await b.post('/two-factor/enable', { json: { password: PASSWORD } });
      s.expect('two-factor enable: 400 INVALID_PASSWORD (no password account)', err(en, 400, 'INVALID_PASSWORD'), en.json);
      const g = await b.get('/get-session');
      s.expect('renamed, still anonymous', g.json?.user?.name === 'Renamed Anon' && g.json?.user?.isAnonymous === true, g.json);
      const out = await b.post('/sign-out');
      s.expect('sign-out: 200', out.status === 200, out.json);
      s.record('sign-out keeps the anonymous user', await exists(s, user.id));
      const again = await b.post('/sign-in/anonymous');
      s.expect('signed out, a new anonymous sign-in works', again.status === 200 && again.json?.user?.id !== user.id, again.json);
    });

    scenario('the real client: signIn.anonymous, deleteAnonymousUser, then sign-up linking', async (s) => {
      const client = (browser) =>
        createAuthClient({
          baseURL: s.server.url,
          fetchOptions: { customFetchImpl: browser.fetchImpl() },
          plugins: [usernameClient(), anonymousClient(), twoFactorClient()],
        });
      const c = client(s.browser());
      const a = await s.clientCall('signIn.anonymous', c.signIn.anonymous());
      s.expect('data.user.isAnonymous', a.data?.user?.isAnonymous === true, a);
      await s.clientCall('signIn.anonymous again', c.signIn.anonymous());
      await s.clientCall('getSession', c.getSession());
      await s.clientCall('deleteAnonymousUser', c.deleteAnonymousUser());
      await s.clientCall('getSession after delete', c.getSession());
      await s.clientCall('deleteAnonymousUser signed out', c.deleteAnonymousUser());
      const d = client(s.browser());
      const anon = await d.signIn.anonymous();
      await s.clientCall('signUp.email from an anonymous session', d.signUp.email({ name: 'From Anon', email: s.email('fromanon'), password: PASSWORD, username: `fa_${s.tag.slice(0, 6)}` }));
      s.record('the anonymous user is gone', !(await exists(s, anon.data.user.id)));
      await s.clientCall('deleteAnonymousUser as an ordinary user', d.deleteAnonymousUser());
    });
  },
  { env: PLUGINS, options: { appName: 'Compat App' } },
);
