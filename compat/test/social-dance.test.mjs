// Social sign-in against a real OpenID Connect provider, step by step on both servers.
//
// The suite starts compat/testidp (a small OIDC provider built on zitadel's op library,
// see lib/servers.mjs startIdp) and configures it on both servers as the provider "idp":
// the reference through Better-Auth's genericOAuth plugin (discovery URL, client id and
// secret, scopes), the Go server through OIDC_PROVIDERS=idp / OIDC_IDP_*. Both servers
// send the browser to the provider with the redirect URI
// http://localhost:8000/api/auth/callback/idp (their shared BETTER_AUTH_URL); `s.dance()`
// follows the provider's redirects and sends the last hop to the side's own server.
//
// Random values are compared by form: the state, code_challenge and nonce of the
// authorization URL (lib/compare.mjs normalizeURL), the provider's access/refresh/ID tokens
// (`randomKeys`).
import { compatSuite, APP_ORIGIN, SESSION_COOKIE, cookieValue } from '../lib/harness.mjs';
import { alphabetOf, looseForm } from '../lib/compare.mjs';

const TOKENS = { randomKeys: ['accessToken', 'refreshToken', 'idToken'] };
// account-info's `data` is the provider's ID token claims (random nonce, hashes, times)
const INFO = (what) => ({ label: `GET /account-info?accountId=${what}`, compare: { randomKeys: ['nonce', 'at_hash', 'c_hash', 'iat', 'exp', 'auth_time'] } });
const cb = (p) => `${APP_ORIGIN}${p}`;

/** The comparable shape of a provider authorization URL. */
function urlShape(url) {
  const u = new URL(url);
  return {
    path: u.pathname,
    keys: [...new Set(u.searchParams.keys())].sort(),
    pkce: u.searchParams.get('code_challenge_method'),
    challengeForm: u.searchParams.has('code_challenge') ? looseForm(u.searchParams.get('code_challenge')) : null,
    scope: (u.searchParams.get('scope') ?? '').split(' ').sort(),
    redirectURI: u.searchParams.get('redirect_uri'),
  };
}

/** The query keys (and non-random values) of a redirect Location. */
function locationShape(res) {
  const loc = res?.header('location');
  if (!loc) return null;
  const u = new URL(loc);
  return { to: `${u.origin}${u.pathname}`, query: Object.fromEntries([...u.searchParams].sort()) };
}

compatSuite(
  'social sign-in through a real OpenID provider (genericOAuth "idp")',
  (scenario) => {
    scenario('sign-in/social: the authorization URL', async (s) => {
      const b = s.browser();
      const r = await b.post('/sign-in/social', { json: { provider: 'idp', callbackURL: cb('/dash') } });
      s.record('authorization URL shape', urlShape(r.json.url));
      s.expect('PKCE S256', new URL(r.json.url).searchParams.get('code_challenge_method') === 'S256');
      const r2 = await b.post('/sign-in/social', { json: { provider: 'idp', disableRedirect: true, scopes: ['phone'], loginHint: 'ada@example.com' } });
      if (r2.json?.url) s.record('authorization URL shape (scopes, loginHint)', urlShape(r2.json.url));
      await b.post('/sign-in/social', { json: { provider: 'idp2' } });
      await b.post('/sign-in/social', { json: { provider: 'idp', callbackURL: 'http://evil.example.com/' } });
      await b.post('/sign-in/social', { json: { provider: 'idp', newUserCallbackURL: 'http://evil.example.com/' } });
      await b.post('/sign-in/social', { json: { provider: 'idp', errorCallbackURL: 'http://evil.example.com/' } });
    });

    scenario('new user: the dance ends at newUserCallbackURL signed in; then an existing user', async (s) => {
      const b = s.browser();
      const email = s.email('newbie');
      const user = { email, name: 'New Person' };
      const res = await s.socialSignIn(b, { callbackURL: cb('/dash'), newUserCallbackURL: cb('/welcome'), errorCallbackURL: cb('/oops') }, user);
      s.expect('302 to newUserCallbackURL', res?.status === 302 && res.header('location') === cb('/welcome'), res?.header('location'));
      s.expect('session cookie set', Boolean(cookieValue(res, SESSION_COOKIE)));
      const sess = await b.get('/get-session');
      s.record('session user', sess.json?.user && { name: sess.json.user.name, email: sess.json.user.email, image: sess.json.user.image, emailVerified: sess.json.user.emailVerified });
      await b.get('/list-accounts');
      // the second time the user exists: callbackURL (in a new browser)
      const b1 = s.browser();
      const again = await s.socialSignIn(b1, { callbackURL: cb('/dash'), newUserCallbackURL: cb('/welcome') }, user);
      s.expect('302 to callbackURL', again?.status === 302 && again.header('location') === cb('/dash'), again?.header('location'));
      await b1.get('/get-session');
      // without any callbackURL: "/" relative to the base URL
      const b2 = s.browser();
      await s.socialSignIn(b2, {}, user);
    });

    // 1.7.25 answers sign-out of a session from an OIDC provider with end_session_endpoint
    // with {success, redirect: true, url: <end_session_endpoint>?id_token_hint=<ID token>} and a
    // Location header (RP-initiated logout).
    scenario('sign-out after a provider sign-in (RP-initiated logout at the provider)', async (s) => {
      const b = s.browser();
      await s.socialSignIn(b, { callbackURL: cb('/dash') }, { email: s.email('leaver'), name: 'Leaver' });
      await b.post('/sign-out', { json: {} });
      await b.get('/get-session');
    });

    scenario('provider data: unverified e-mail, changed name on a later sign-in', async (s) => {
      const b = s.browser();
      const email = s.email('unverified');
      await s.socialSignIn(b, { callbackURL: cb('/dash') }, { email, name: 'Una Verified', verified: false, picture: 'https://img.example.test/u.png' });
      await b.get('/get-session');
      const b2 = s.browser();
      await s.socialSignIn(b2, { callbackURL: cb('/dash') }, { email, name: 'Renamed Person', verified: true });
      await b2.get('/get-session');
    });

    scenario('tokens: list-accounts, get-access-token, account-info, refresh-token', async (s) => {
      const b = s.browser();
      const email = s.email('tokens');
      await s.socialSignIn(b, { callbackURL: cb('/dash') }, { email, name: 'Token Holder' });
      const la = await b.get('/list-accounts');
      const acct = la.json?.find?.((a) => a.providerId === 'idp');
      s.expect('idp account listed', Boolean(acct), la.json);
      // 1.7.25 takes the account row's id (list-accounts `id`), not providerId
      await b.post('/get-access-token', { json: { providerId: 'idp' }, compare: TOKENS });
      const t1 = await b.post('/get-access-token', { json: { accountId: acct?.id }, compare: TOKENS });
      await b.post('/get-access-token', { json: { accountId: acct?.accountId }, compare: TOKENS });
      await b.get('/account-info', { query: { accountId: acct?.id }, ...INFO('(account id)') });
      await b.get('/account-info', { query: { accountId: acct?.accountId }, ...INFO("(the provider's account id)") });
      const rt = await b.post('/refresh-token', { json: { accountId: acct?.id }, compare: TOKENS });
      s.expect('refresh gives a new access token', rt.json?.accessToken && rt.json.accessToken !== t1.json?.accessToken);
      const t2 = await b.post('/get-access-token', { json: { accountId: acct?.id }, compare: TOKENS });
      s.expect('get-access-token returns the refreshed token', t2.json?.accessToken === rt.json?.accessToken);
      // another user's account id
      const other = s.browser();
      await s.signUp(other, { email: s.email('other'), name: 'Other' });
      await other.post('/get-access-token', { json: { accountId: acct?.id }, compare: TOKENS });
      await other.get('/account-info', { query: { accountId: acct?.id }, ...INFO("(someone else's account id)") });
      await other.post('/refresh-token', { json: { accountId: acct?.id }, compare: TOKENS });
      // the stored tokens (account.encryptOAuthTokens: true)
      const [row] = await s.sql(`select "accessToken", "refreshToken", "idToken", "scope" from "account" where "providerId" = 'idp'`);
      s.record('stored tokens', row && {
        accessTokenIsPlain: row.accessToken === t2.json?.accessToken,
        accessTokenAlphabet: row.accessToken ? alphabetOf(row.accessToken) : null,
        refreshTokenStored: Boolean(row.refreshToken),
        idTokenStored: Boolean(row.idToken),
        scope: row.scope,
      });
    });

    scenario('link-social: an e-mail+password user links the provider, then unlinks it', async (s) => {
      const b = s.browser();
      const email = s.email('linker');
      await s.signUp(b, { email, name: 'Linker' });
      const r = await b.post('/link-social', { json: { provider: 'idp', callbackURL: cb('/linked'), errorCallbackURL: cb('/link-failed') } });
      if (r.json?.url) s.record('link authorization URL shape', urlShape(r.json.url));
      const res = r.json?.url ? await s.dance(b, r.json.url, { email, name: 'Linker At Idp' }) : null;
      s.expect('302 to the link callbackURL', res?.status === 302 && res.header('location') === cb('/linked'), res?.header('location'));
      const la = await b.get('/list-accounts');
      const acct = la.json?.find?.((a) => a.providerId === 'idp');
      await b.get('/get-session');
      // 1.7.25: {accountId} is the account row's id (the provider's account id is not found)
      await b.post('/unlink-account', { json: { providerId: 'idp' } });
      await b.post('/unlink-account', { json: { accountId: acct?.accountId ?? 'x' } });
      await b.post('/unlink-account', { json: { accountId: acct?.id ?? 'x' } });
      await b.get('/list-accounts');
      await b.post('/unlink-account', { json: { accountId: acct?.id ?? 'x' } });
      const [cred] = (await b.get('/list-accounts')).json ?? [];
      await b.post('/unlink-account', { json: { accountId: cred?.id ?? 'x' } });
      await b.get('/list-accounts');
    });

    scenario('link-social: the provider answers with another e-mail', async (s) => {
      const b = s.browser();
      await s.signUp(b, { email: s.email('mine'), name: 'Mine' });
      const r = await b.post('/link-social', { json: { provider: 'idp', callbackURL: cb('/linked'), errorCallbackURL: cb('/link-failed') } });
      const res = r.json?.url ? await s.dance(b, r.json.url, { email: s.email('theirs'), name: 'Theirs' }) : null;
      s.record('error redirect', locationShape(res));
      await b.get('/list-accounts');
    });

    scenario('implicit linking: provider sign-in on an existing e-mail+password account', async (s) => {
      const b = s.browser();
      const email = s.email('existing');
      await s.signUp(b, { email, name: 'Existing' });
      const b2 = s.browser();
      const res = await s.socialSignIn(b2, { callbackURL: cb('/dash'), errorCallbackURL: cb('/oops') }, { email, name: 'Existing At Idp' });
      s.record('redirect', locationShape(res));
      await b2.get('/get-session');
      await b.get('/list-accounts');
      // once the local address is verified the provider's verified address links implicitly
      await s.sql('update "user" set "emailVerified" = true where email = $1', [email]);
      const b3 = s.browser();
      const res2 = await s.socialSignIn(b3, { callbackURL: cb('/dash'), newUserCallbackURL: cb('/welcome'), errorCallbackURL: cb('/oops') }, { email, name: 'Existing At Idp' });
      s.record('redirect (local address verified)', locationShape(res2));
      await b3.get('/get-session');
      await b.get('/list-accounts');
    });

    scenario('state: tampered, replayed, without the state cookie, on another browser', async (s) => {
      const email = s.email('state');
      const user = { email, name: 'State Person' };
      // tampered state
      const b = s.browser();
      const start = await b.post('/sign-in/social', { json: { provider: 'idp', callbackURL: cb('/dash'), errorCallbackURL: cb('/oops') } });
      const tampered = await s.dance(b, start.json.url, { ...user, tamperState: true });
      s.record('tampered', locationShape(tampered));
      // a full dance, then the same callback again (replay)
      const b2 = s.browser();
      const ok = await s.socialSignIn(b2, { callbackURL: cb('/dash'), errorCallbackURL: cb('/oops') }, user);
      await b2.get(ok.request.path, { label: 'GET /api/auth/callback/idp (replayed)' });
      // the callback in a browser without the state cookie
      const b3 = s.browser();
      const start3 = await b3.post('/sign-in/social', { json: { provider: 'idp', callbackURL: cb('/dash'), errorCallbackURL: cb('/oops') } });
      const b4 = s.browser();
      await s.dance(b4, start3.json.url, { ...user, label: 'GET /api/auth/callback/idp (other browser)' });
      await b4.get('/get-session');
      // a callback with a code but no state
      await b.get('/callback/idp', { query: { code: 'abc' } });
    });

    scenario('provider error: the user denies (errorCallbackURL and the default error page)', async (s) => {
      const b = s.browser();
      const res = await s.socialSignIn(b, { callbackURL: cb('/dash'), errorCallbackURL: cb('/oops?from=app') }, { deny: true });
      s.record('error redirect', locationShape(res));
      const res2 = await s.socialSignIn(b, { callbackURL: cb('/dash') }, { deny: true });
      s.record('default error redirect', locationShape(res2));
      const loc = res2?.header('location');
      if (loc) await b.get(new URL(loc).pathname + new URL(loc).search, { compare: { body: 'presence' } });
      await b.get('/get-session');
    });
  },
  { idp: { scopes: ['openid', 'email', 'profile', 'offline_access'] }, options: { account: { encryptOAuthTokens: true } } },
);
