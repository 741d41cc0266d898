// The device-authorization plugin (RFC 8628) on both servers: a device asks for a code, polls,
// the person claims the code with GET /device while signed in and approves or denies, and the
// device's access token is a session token for Authorization: Bearer. Each polling error, expiry,
// the client id check, form bodies, validation answers, and the real deviceAuthorizationClient().
import { createAuthClient } from 'better-auth/client';
import { deviceAuthorizationClient } from 'better-auth/client/plugins';
import { compatSuite } from '../lib/harness.mjs';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
// The codes and the token are random; they are compared by their form.
const RANDOM = { compare: { randomKeys: ['device_code', 'user_code', 'verification_uri_complete', 'access_token', 'expires_in'] } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// One polling interval (DEVICE_AUTHORIZATION_INTERVAL below) and a little more.
const INTERVAL_MS = 1100;

/**
 * A browser whose every exchange is compared with the codes and tokens by form, and whose step
 * labels name no user code.
 */
function browser(s) {
  const b = s.browser();
  b.onResponse = (res, ro = {}) => {
    res.compareOpts = { ...RANDOM.compare, ...res.compareOpts };
    res.label = res.label.replace(/user_code=[^&]*/, 'user_code=<code>');
    if (ro.record !== false) s.steps.push(res);
  };
  return b;
}

async function newCode(s, body = { client_id: 'cli' }) {
  const r = await browser(s).post('/device/code', { json: body, ...RANDOM });
  return r.json ?? {};
}

function poll(s, code, clientId = 'cli') {
  return browser(s).post('/device/token', { json: { grant_type: GRANT, device_code: code.device_code, client_id: clientId }, ...RANDOM });
}

/** A browser of a new signed-up person. */
async function person(s, local) {
  const b = browser(s);
  const up = await s.signUp(b, { email: s.email(local) });
  return { b, id: up.json?.user?.id };
}

compatSuite(
  'plugin device-authorization',
  (scenario) => {
    scenario('the whole flow: pending, slow_down, claim, approve, token as bearer, single use', async (s) => {
      const code = await newCode(s, { client_id: 'cli', scope: 'openid profile' });
      s.expect('device_code 40 alphanumerics, user_code 8 of the code alphabet', /^[A-Za-z0-9]{40}$/.test(code.device_code ?? '') && /^[A-HJ-NP-Z2-9]{8}$/.test(code.user_code ?? ''), code);
      s.expect('verification_uri_complete carries the user code', code.verification_uri_complete === `${code.verification_uri}?user_code=${code.user_code}`, code);
      await poll(s, code);
      await poll(s, code); // within the interval: slow_down
      const anon = await browser(s).get('/device', { query: { user_code: code.user_code }, ...RANDOM });
      s.expect('signed out: user_code and status only', anon.status === 200 && Object.keys(anon.json ?? {}).join() === 'user_code,status', anon.json);
      const p = await person(s, 'flow');
      await p.b.post('/device/approve', { json: { userCode: code.user_code }, ...RANDOM }); // not claimed yet
      const typed = `${code.user_code.slice(0, 4).toLowerCase()}-${code.user_code.slice(4).toLowerCase()}`;
      const view = await p.b.get('/device', { query: { user_code: typed }, ...RANDOM });
      s.expect('signed in: claims it and sees client_id and scope', view.json?.client_id === 'cli' && view.json?.scope === 'openid profile' && view.json?.user_code === typed, view.json);
      const other = await person(s, 'other');
      await other.b.get('/device', { query: { user_code: code.user_code }, ...RANDOM });
      await other.b.post('/device/approve', { json: { userCode: code.user_code }, ...RANDOM });
      await other.b.post('/device/deny', { json: { userCode: code.user_code }, ...RANDOM });
      await browser(s).post('/device/approve', { json: { userCode: code.user_code }, ...RANDOM });
      await p.b.post('/device/approve', { json: { userCode: typed }, ...RANDOM });
      await p.b.post('/device/deny', { json: { userCode: code.user_code }, ...RANDOM });
      await p.b.get('/device', { query: { user_code: code.user_code }, ...RANDOM });
      await sleep(INTERVAL_MS);
      await poll(s, code, 'other-cli');
      const tok = await poll(s, code);
      s.expect('token: Bearer, the scope, no cookie', tok.json?.token_type === 'Bearer' && tok.json?.scope === 'openid profile' && tok.setCookies.length === 0, tok.json);
      const exp = tok.json?.expires_in;
      s.expect('expires_in: the session life', exp >= 604790 && exp <= 604800, exp);
      const gs = await browser(s).get('/get-session', { headers: { authorization: `Bearer ${tok.json?.access_token}` } });
      s.expect('get-session with the access token as bearer: the person', gs.json?.user?.id === p.id, gs.json);
      await sleep(INTERVAL_MS);
      await poll(s, code);
      await browser(s).get('/device', { query: { user_code: code.user_code }, ...RANDOM });
      const rows = await s.sql('select count(*)::int as n from "deviceCode"');
      s.record('no row left', rows[0].n);
    });

    scenario('deny, expiry, unknown codes', async (s) => {
      const p = await person(s, 'deny');
      const code = await newCode(s, { client_id: 'tv' });
      await p.b.get('/device', { query: { user_code: code.user_code }, ...RANDOM });
      await p.b.post('/device/deny', { json: { userCode: code.user_code }, ...RANDOM });
      await poll(s, code, 'tv');
      await sleep(INTERVAL_MS);
      await poll(s, code, 'tv');
      const late = await newCode(s, { client_id: 'tv' });
      await s.sql(`update "deviceCode" set "expiresAt" = now() - interval '1 second' where "deviceCode" = $1`, [late.device_code]);
      await p.b.get('/device', { query: { user_code: late.user_code }, ...RANDOM });
      await p.b.post('/device/approve', { json: { userCode: late.user_code }, ...RANDOM });
      await poll(s, late, 'tv');
      await sleep(INTERVAL_MS);
      await poll(s, late, 'tv');
      await p.b.get('/device', { query: { user_code: 'NOPE2345' } });
      await poll(s, { device_code: 'nope' }, 'tv');
    });

    scenario('requests: form bodies, missing and empty fields, grant type, JSON-only token', async (s) => {
      const b = browser(s);
      await b.post('/device/code', { form: { client_id: 'cli', scope: 'a b' }, ...RANDOM });
      await b.post('/device/code', { body: 'client_id=tv&client_id=cli', contentType: 'application/x-www-form-urlencoded' });
      await b.post('/device/code', { body: 'client_id=tv&scope=a&scope=b', contentType: 'application/x-www-form-urlencoded' });
      await b.post('/device/code', { body: 'client_id=&client_id=tv&scope=', contentType: 'application/x-www-form-urlencoded', ...RANDOM });
      await b.post('/device/code', { json: { client_id: 'cli' }, origin: null, ...RANDOM }); // a CLI sends no Origin
      await b.post('/device/code', { json: {} });
      await b.post('/device/code', { json: { client_id: '' } });
      await b.post('/device/code', { json: { client_id: 5 } });
      const code = await newCode(s);
      await b.post('/device/token', { form: { grant_type: GRANT, device_code: code.device_code, client_id: 'cli' } });
      await b.post('/device/token', { json: { grant_type: 'password', device_code: code.device_code, client_id: 'cli' } });
      await b.post('/device/token', { json: { client_id: 'cli' } });
      await b.post('/device/token', { json: { grant_type: GRANT, client_id: 'cli' } });
      await b.get('/device');
      await b.post('/device/approve', { json: {} });
      await s.signUp(b, { email: s.email('req') });
      await b.post('/device/approve', { json: { userCode: 'NOPE2345' } });
    });

    scenario('the real client: deviceAuthorizationClient()', async (s) => {
      const device = browser(s);
      const cli = createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: device.fetchImpl() }, plugins: [deviceAuthorizationClient()] });
      const c = await cli.device.code({ client_id: 'cli', scope: 'read' });
      s.expect('device.code gives the codes', typeof c.data?.device_code === 'string' && typeof c.data?.user_code === 'string', c);
      const pending = await cli.device.token({ grant_type: GRANT, device_code: c.data?.device_code, client_id: 'cli' });
      s.record('device.token pending: error', { status: pending.error?.status, error: pending.error?.error, description: pending.error?.error_description });
      const p = await person(s, 'client');
      const web = createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: p.b.fetchImpl() }, plugins: [deviceAuthorizationClient()] });
      const v = await web.device({ query: { user_code: c.data?.user_code } });
      s.record('device(): status, client_id, scope', { status: v.data?.status, client_id: v.data?.client_id, scope: v.data?.scope, error: v.error });
      await s.clientCall('device.approve', web.device.approve({ userCode: c.data?.user_code }));
      await sleep(INTERVAL_MS);
      const t = await cli.device.token({ grant_type: GRANT, device_code: c.data?.device_code, client_id: 'cli' });
      s.expect('device.token approved: an access token', typeof t.data?.access_token === 'string' && t.data?.token_type === 'Bearer', t);
      const bearer = createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: browser(s).fetchImpl(), auth: { type: 'Bearer', token: t.data?.access_token } } });
      const gs = await bearer.getSession();
      s.expect('getSession with the device token', gs.data?.user?.id === p.id, gs);
      const d = await cli.device.code({ client_id: 'cli' });
      await web.device({ query: { user_code: d.data?.user_code } });
      await s.clientCall('device.deny', web.device.deny({ userCode: d.data?.user_code }));
      const denied = await cli.device.token({ grant_type: GRANT, device_code: d.data?.device_code, client_id: 'cli' });
      s.record('device.token denied: error', { status: denied.error?.status, error: denied.error?.error });
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'device-authorization', DEVICE_AUTHORIZATION_INTERVAL: '1s' } },
);

compatSuite(
  'plugin device-authorization with options',
  (scenario) => {
    scenario('client ids, lengths, lifetime, interval, verification URI', async (s) => {
      const b = browser(s);
      await b.post('/device/code', { json: { client_id: 'unknown' } });
      const code = await newCode(s, { client_id: 'tv' });
      s.expect('a 6-character user code, a 20-character device code', code.user_code?.length === 6 && code.device_code?.length === 20, code);
      await poll(s, code, 'unknown');
      await poll(s, code, 'tv');
      await poll(s, code, 'tv');
    });
  },
  {
    env: {
      BETTER_AUTH_PLUGINS: 'device-authorization', DEVICE_AUTHORIZATION_CLIENT_IDS: 'cli,tv', DEVICE_AUTHORIZATION_EXPIRES_IN: '10m',
      DEVICE_AUTHORIZATION_INTERVAL: '2s', DEVICE_AUTHORIZATION_USER_CODE_LENGTH: '6', DEVICE_AUTHORIZATION_DEVICE_CODE_LENGTH: '20',
      DEVICE_AUTHORIZATION_VERIFICATION_URI: 'https://tv.example.com/link',
    },
  },
);
