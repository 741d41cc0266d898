// The last-login-method plugin (BETTER_AUTH_PLUGINS=last-login-method on both servers): the
// better-auth.last_used_login_method cookie on e-mail sign-up and sign-in and on the OAuth
// callback, its options, and its absence when the plugin is off. Every Set-Cookie line is
// compared between the servers; the expectations below pin the exact line as well.
import { compatSuite } from '../lib/harness.mjs';

const NAME = 'better-auth.last_used_login_method';

/** The Set-Cookie line for name in a recorded response, or undefined. */
function cookieLine(res, name) {
  return res?.setCookies.find((l) => l.startsWith(`${name}=`));
}

compatSuite(
  'plugin last-login-method',
  (scenario) => {
    scenario('e-mail sign-up and sign-in set the cookie; sign-out keeps it', async (s) => {
      const b = s.browser();
      const up = await s.signUp(b, { email: s.email('ada') });
      s.expect('sign-up sets the cookie, not HttpOnly, no prefix', cookieLine(up, NAME) === `${NAME}=email; Max-Age=2592000; Path=/; SameSite=Lax`, up.setCookies);
      const b2 = s.browser();
      const inn = await s.signIn(b2, { email: s.email('ada'), rememberMe: false });
      s.expect('sign-in with rememberMe:false sets it with its own Max-Age', cookieLine(inn, NAME) === `${NAME}=email; Max-Age=2592000; Path=/; SameSite=Lax`, inn.setCookies);
      const out = await b2.post('/sign-out');
      s.expect('sign-out does not touch it', out.status === 200 && cookieLine(out, NAME) === undefined, out.setCookies);
      await b2.get('/get-session');
    });

    scenario('no session, no cookie', async (s) => {
      await s.signUp(s.browser(), { email: s.email('bob') });
      const bad = await s.signIn(s.browser(), { email: s.email('bob'), password: 'wrong-password' });
      s.expect('failed sign-in sets no cookie', bad.status === 401 && cookieLine(bad, NAME) === undefined, bad.setCookies);
      const dup = await s.signUp(s.browser(), { email: s.email('bob') });
      s.expect('refused sign-up sets no cookie', dup.status === 422 && cookieLine(dup, NAME) === undefined, dup.setCookies);
    });

    scenario('the OAuth callback sets the provider id', async (s) => {
      const b = s.browser();
      const cb = await s.socialSignIn(b, { callbackURL: 'http://app.example.test/home' }, { email: s.email('cy'), name: 'Cy' });
      s.expect('callback sets the cookie to the provider id', cookieLine(cb, NAME) === `${NAME}=idp; Max-Age=2592000; Path=/; SameSite=Lax`, cb?.setCookies);
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'bearer,last-login-method' }, idp: { scopes: ['openid', 'email', 'profile'] } },
);

compatSuite(
  'plugin last-login-method with options',
  (scenario) => {
    scenario('cookie name and Max-Age from the options', async (s) => {
      const up = await s.signUp(s.browser(), { email: s.email('dee') });
      s.expect('custom name and Max-Age', cookieLine(up, 'llm') === 'llm=email; Max-Age=600; Path=/; SameSite=Lax', up.setCookies);
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'last-login-method', LAST_LOGIN_METHOD_COOKIE_NAME: 'llm', LAST_LOGIN_METHOD_MAX_AGE: '600' } },
);

compatSuite('plugin last-login-method off', (scenario) => {
  scenario('neither server sets the cookie', async (s) => {
    const up = await s.signUp(s.browser(), { email: s.email('eve') });
    const inn = await s.signIn(s.browser(), { email: s.email('eve') });
    s.expect('no cookie on sign-up or sign-in', up.status === 200 && inn.status === 200 && !cookieLine(up, NAME) && !cookieLine(inn, NAME), [up.setCookies, inn.setCookies]);
  });
});

/** The keys of a body's user object, in the order the server wrote them. */
const userKeys = (res) => Object.keys(res?.json?.user ?? {}).join(',');

compatSuite(
  'plugin last-login-method storeInDatabase',
  (scenario) => {
    scenario('every user body carries lastLoginMethod; each sign-in sets it and updatedAt', async (s) => {
      const b = s.browser();
      const up = await s.signUp(b, { email: s.email('fay') });
      s.expect('sign-up answer has it, after updatedAt and before id', up.json?.user?.lastLoginMethod === 'email', up.json);
      s.record('sign-up user keys', userKeys(up));
      const g = await b.get('/get-session');
      s.expect('get-session has it', g.json?.user?.lastLoginMethod === 'email', g.json);
      s.record('get-session user keys', userKeys(g));
      const [row] = await s.sql(`select "lastLoginMethod" from "user" where "email" = $1`, [s.email('fay')]);
      s.expect('stored in user.lastLoginMethod', row?.lastLoginMethod === 'email', row);
    });

    scenario('the sign-in answer shows the user as read before the sign-in', async (s) => {
      await s.signUp(s.browser(), { email: s.email('gus') });
      await s.sql(`update "user" set "lastLoginMethod" = null where "email" = $1`, [s.email('gus')]);
      const b = s.browser();
      const inn = await s.signIn(b, { email: s.email('gus') });
      s.expect('sign-in answer: the old value', inn.status === 200 && inn.json?.user?.lastLoginMethod === null, inn.json);
      s.record('sign-in user keys', userKeys(inn));
      const g = await b.get('/get-session?disableCookieCache=true');
      s.expect('get-session: the new value', g.json?.user?.lastLoginMethod === 'email', g.json);
      s.expect('the sign-in bumped updatedAt', g.json?.user?.updatedAt !== inn.json?.user?.updatedAt, [g.json?.user, inn.json?.user]);
    });

    scenario('the OAuth callback stores the provider id', async (s) => {
      const b = s.browser();
      await s.socialSignIn(b, { callbackURL: 'http://app.example.test/home' }, { email: s.email('hal'), name: 'Hal' });
      const g = await b.get('/get-session');
      s.expect('get-session has the provider id', g.json?.user?.lastLoginMethod === 'idp', g.json);
    });

    scenario('bodies may not set it', async (s) => {
      const b = s.browser();
      const bad = await s.signUp(b, { email: s.email('ivy'), lastLoginMethod: 'google' });
      s.expect('sign-up refused with FIELD_NOT_ALLOWED', bad.status === 400 && bad.json?.code === 'FIELD_NOT_ALLOWED', bad.json);
      const empty = await s.signUp(b, { email: s.email('ivy'), lastLoginMethod: '' });
      s.expect('an empty value is ignored', empty.status === 200 && empty.json?.user?.lastLoginMethod === 'email', empty.json);
      const upd = await b.post('/update-user', { json: { name: 'Ivy', lastLoginMethod: 'github' } });
      s.expect('update-user refused with FIELD_NOT_ALLOWED', upd.status === 400 && upd.json?.code === 'FIELD_NOT_ALLOWED', upd.json);
      const only = await b.post('/update-user', { json: { lastLoginMethod: null } });
      s.expect('null alone is no field to update', only.status === 400, only.json);
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'last-login-method', LAST_LOGIN_METHOD_STORE_IN_DATABASE: 'true' }, idp: { scopes: ['openid', 'email', 'profile'] } },
);
