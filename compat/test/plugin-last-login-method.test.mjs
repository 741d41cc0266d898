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
