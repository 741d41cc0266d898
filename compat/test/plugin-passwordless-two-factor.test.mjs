// Two-factor across the passwordless plugins (two-factor, phone-number, email-otp, magic-link on
// both servers): Better-Auth 1.7.25 challenges the password sign-ins only (/sign-in/email,
// /sign-in/username, /sign-in/phone-number), so a phone-number password sign-in of a user with
// two-factor on answers the challenge and is finished by the mailed second-factor code, while a
// sign-in by a code or a link (phone-number/verify, sign-in/email-otp, magic-link/verify) proves
// possession already and signs in at once. Codes and links are read from the reference's send hooks
// and from the Go server's outbox (.eml and .sms files).
import { compatSuite, cookieValue, SESSION_COOKIE } from '../lib/harness.mjs';

const ENV = { BETTER_AUTH_PLUGINS: 'two-factor,phone-number,email-otp,magic-link' };
const PASSWORD = 'password1234';
const TWO_FACTOR_COOKIE = 'better-auth.two_factor';
const err = (res, status, code) => res.status === status && res.json?.code === code;

/** A number unique to the scenario (same on both sides). */
const num = (s) => `+1555${String(parseInt(s.tag, 16) % 1e7).padStart(7, '0')}`;

/**
 * A user with a verified phone number and two-factor on (method otp: codes by mail), signed in
 * in the returned browser. Returns {email, number, userId}.
 */
async function twoFactorUserWithNumber(s) {
  const b = s.browser();
  const email = s.email('tf');
  const number = num(s);
  const up = await s.signUp(b, { email });
  const sent = await b.post('/phone-number/send-otp', { json: { phoneNumber: number } });
  s.expect('send-otp: 200', sent.status === 200, sent.json);
  const text = await s.mail(number, { kind: 'phone-otp' });
  const v = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: text.token, updatePhoneNumber: true } });
  s.expect('the number is attached', v.status === 200 && v.json?.user?.phoneNumber === number, v.json);
  const en = await b.post('/two-factor/enable', { json: { password: PASSWORD, method: 'otp' } });
  s.expect('two-factor on (otp): 200 {method:"otp"}', en.status === 200 && JSON.stringify(en.json) === '{"method":"otp"}', en.json);
  return { email, number, userId: up.json?.user?.id };
}

/** Checks that r signed the user in at once: a session cookie, no challenge, the right user. */
function signedInAtOnce(s, label, r, userId) {
  s.expect(`${label}: signed in without a challenge`, r.json?.twoFactorRedirect === undefined && Boolean(cookieValue(r, SESSION_COOKIE)) && !r.setCookies.some((l) => l.startsWith(`${TWO_FACTOR_COOKIE}=`)), { json: r.json, cookies: r.setCookies });
  s.expect(`${label}: the user`, r.json?.user?.id === userId, r.json);
}

compatSuite(
  'plugin two-factor after passwordless sign-ins',
  (scenario) => {
    scenario('phone-number password sign-in: the challenge, finished by the mailed code', async (s) => {
      const { email, number, userId } = await twoFactorUserWithNumber(s);
      const c = s.browser();
      const r = await c.post('/sign-in/phone-number', { json: { phoneNumber: number, password: PASSWORD } });
      s.expect('200 {twoFactorRedirect:true, twoFactorMethods:["otp"]}', r.status === 200 && r.json?.twoFactorRedirect === true && JSON.stringify(r.json?.twoFactorMethods) === '["otp"]', r.json);
      s.expect('the two_factor cookie, no session cookie kept', Boolean(c.jar.get(TWO_FACTOR_COOKIE)) && !c.jar.get(SESSION_COOKIE), r.setCookies);
      s.record('cookies set by the challenged sign-in', r.setCookies.map((l) => l.split(';')[0].split('=')[0] + (/max-age=0/i.test(l) ? ' (cleared)' : '')).sort());
      const g = await c.get('/get-session');
      s.expect('no session yet', g.status === 200 && g.json === null, g.json);
      const wrongPassword = await s.browser().post('/sign-in/phone-number', { json: { phoneNumber: number, password: 'wrong-password' } });
      s.expect('a wrong password is refused before any challenge: 401 INVALID_PHONE_NUMBER_OR_PASSWORD', err(wrongPassword, 401, 'INVALID_PHONE_NUMBER_OR_PASSWORD'), wrongPassword.json);
      const sent = await c.post('/two-factor/send-otp');
      s.expect('send-otp: 200 {status:true}', sent.status === 200 && JSON.stringify(sent.json) === '{"status":true}', sent.json);
      const m = await s.mail(email, { kind: 'two-factor-otp' });
      const bad = await c.post('/two-factor/verify-otp', { json: { code: m.token === '000000' ? '111111' : '000000' } });
      s.expect('a wrong code: 401 INVALID_CODE', err(bad, 401, 'INVALID_CODE'), bad.json);
      const ok = await c.post('/two-factor/verify-otp', { json: { code: m.token } });
      s.expect('the code finishes the sign-in: 200 {token, user} and the session cookie', ok.status === 200 && Boolean(ok.json?.token) && ok.json?.user?.id === userId && Boolean(cookieValue(ok, SESSION_COOKIE)), ok.json);
      s.record('verify-otp body keys', Object.keys(ok.json ?? {}).join(','));
      s.record('the user carries the number', { phoneNumber: ok.json?.user?.phoneNumber === number, phoneNumberVerified: ok.json?.user?.phoneNumberVerified, twoFactorEnabled: ok.json?.user?.twoFactorEnabled });
      const after = await c.get('/get-session');
      s.expect('the session is that user\'s', after.json?.user?.id === userId && after.json?.session?.token === ok.json?.token, after.json);
      const spent = await c.post('/two-factor/verify-otp', { json: { code: m.token } });
      s.record('the challenge is spent', { status: spent.status, code: spent.json?.code });
    });

    scenario('phone-number code sign-in (verify): no challenge', async (s) => {
      const { number, userId } = await twoFactorUserWithNumber(s);
      const c = s.browser();
      const sent = await c.post('/phone-number/send-otp', { json: { phoneNumber: number } });
      s.expect('send-otp: 200', sent.status === 200, sent.json);
      const text = await s.mail(number, { kind: 'phone-otp' });
      const v = await c.post('/phone-number/verify', { json: { phoneNumber: number, code: text.token } });
      s.expect('verify: 200 {status:true, token, user}', v.status === 200 && v.json?.status === true && Boolean(v.json?.token), v.json);
      signedInAtOnce(s, 'phone-number/verify', v, userId);
    });

    scenario('email-otp sign-in: no challenge', async (s) => {
      const { email, userId } = await twoFactorUserWithNumber(s);
      const c = s.browser();
      const sent = await c.post('/email-otp/send-verification-otp', { json: { email, type: 'sign-in' } });
      s.expect('send-verification-otp: 200', sent.status === 200, sent.json);
      const m = await s.mail(email, { kind: 'email-otp-sign-in' });
      const r = await c.post('/sign-in/email-otp', { json: { email, otp: m.token } });
      s.expect('sign-in/email-otp: 200 {token, user}', r.status === 200 && Boolean(r.json?.token), r.json);
      signedInAtOnce(s, 'sign-in/email-otp', r, userId);
    });

    scenario('magic-link sign-in: no challenge', async (s) => {
      const { email, userId } = await twoFactorUserWithNumber(s);
      const c = s.browser();
      const sent = await c.post('/sign-in/magic-link', { json: { email } });
      s.expect('sign-in/magic-link: 200', sent.status === 200, sent.json);
      const m = await s.mail(email, { kind: 'magic-link' });
      const r = await c.get(`/magic-link/verify?token=${m.token}`);
      s.expect('magic-link/verify without a callback: 200 {token, user, session}', r.status === 200 && Boolean(r.json?.token), r.json);
      signedInAtOnce(s, 'magic-link/verify', r, userId);
    });
  },
  { env: ENV },
);
