// The phone-number plugin (sign-up on verification on, with last-login-method) on both servers:
// send-otp and verify (a new number signs up, an existing one is verified, updatePhoneNumber
// attaches a number to the caller, disableSession), password sign-in by number, the password reset
// by code, and the refusals: a wrong code, the attempt limit, an expired code, a reused one,
// unknown numbers, numbers set by sign-up or update-user; then the real client
// (phoneNumberClient). The reference records each text in its mailbox (kinds phone-otp /
// phone-reset, `to` the number); the Go server writes .sms files to its outbox (lib/sms.mjs).
import { createAuthClient } from 'better-auth/client';
import { phoneNumberClient } from 'better-auth/client/plugins';
import { compatSuite, cookieValue, SESSION_COOKIE } from '../lib/harness.mjs';

const PLUGINS = { BETTER_AUTH_PLUGINS: 'phone-number,last-login-method' };
const SIGN_UP = { ...PLUGINS, PHONE_NUMBER_SIGN_UP_ON_VERIFICATION: 'true' };
const PASSWORD = 'password1234';
const LAST_LOGIN_COOKIE = 'better-auth.last_used_login_method';
const err = (res, status, code) => res.status === status && res.json?.code === code;
const wrong = (code) => (code === '000000' ? '111111' : '000000');

/** A number unique to the scenario (same on both sides); k (0-9) tells a scenario's numbers apart. */
const num = (s, k = 0) => `+1555${k}${String(parseInt(s.tag, 16) % 1e6).padStart(6, '0')}`;

/** Sends a sign-in code to number and returns the captured text (its code in .token). */
async function codeFor(s, b, number) {
  const r = await b.post('/phone-number/send-otp', { json: { phoneNumber: number } });
  s.expect('send-otp: 200 {message:"code sent"}', r.status === 200 && r.json?.message === 'code sent', r.json);
  return s.mail(number, { kind: 'phone-otp' });
}

/** Signs up by e-mail in b and attaches number to that user with a verified code. */
async function userWithNumber(s, b, local, number) {
  const up = await s.signUp(b, { email: s.email(local) });
  const m = await codeFor(s, b, number);
  const v = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: m.token, updatePhoneNumber: true } });
  s.expect('verify with updatePhoneNumber attaches the number', v.status === 200 && v.json?.user?.phoneNumber === number && v.json?.user?.phoneNumberVerified === true, v.json);
  return { up, verify: v };
}

compatSuite(
  'plugin phone-number',
  (scenario) => {
    scenario('a new number: the text, the stored row, sign-up on verification, the session; the code works once', async (s) => {
      const b = s.browser();
      const number = num(s);
      const m = await codeFor(s, b, number);
      s.expect('a six-digit code', /^\d{6}$/.test(m.token ?? ''), m.token);
      const rows = await s.sql(`select "value", extract(epoch from ("expiresAt" - "createdAt"))::int as life from "verification" where "identifier" = $1`, [`phone-number-otp-${number}`]);
      s.record('row: phone-number-otp-<number>, value <code>:0, 300 s', rows.map((r) => ({ value: r.value === `${m.token}:0`, life: r.life })));
      const v = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: m.token } });
      s.expect('verify: 200 {status:true, token, user} with the session cookie', v.status === 200 && v.json?.status === true && Boolean(v.json?.token) && Boolean(cookieValue(v, SESSION_COOKIE)), v.json);
      s.record('verify body keys', Object.keys(v.json ?? {}).join(','));
      const u = v.json?.user ?? {};
      s.record('the new user', { name: u.name, email: u.email, emailVerified: u.emailVerified, phoneNumber: u.phoneNumber, phoneNumberVerified: u.phoneNumberVerified });
      s.record('cookies set by verify', v.setCookies.map((l) => l.split('=')[0]));
      const g = await b.get('/get-session');
      s.expect('the cookie is that session, with the number', g.json?.session?.token === v.json?.token && g.json?.user?.phoneNumber === number, g.json);
      const again = await s.browser().post('/phone-number/verify', { json: { phoneNumber: number, code: m.token } });
      s.expect('the code works once: 400 OTP_NOT_FOUND', err(again, 400, 'OTP_NOT_FOUND'), again.json);
      const m2 = await codeFor(s, b, number);
      const v2 = await s.browser().post('/phone-number/verify', { json: { phoneNumber: number, code: m2.token } });
      s.expect('a second code signs the same user in', v2.status === 200 && v2.json?.user?.id === u.id, v2.json);
    });

    scenario('an existing user: updatePhoneNumber, password sign-in by number, the number taken, disableSession', async (s) => {
      const b = s.browser();
      const number = num(s);
      const { up, verify } = await userWithNumber(s, b, 'own', number);
      s.expect('updatePhoneNumber answers the caller\'s session token', verify.json?.token === up.json?.token, verify.json);
      s.record('updatePhoneNumber sets cookies', verify.setCookies.map((l) => l.split('=')[0]));
      const si = await s.browser().post('/sign-in/phone-number', { json: { phoneNumber: number, password: PASSWORD } });
      s.expect('sign-in/phone-number: 200 {token,user} with the session cookie', si.status === 200 && Boolean(si.json?.token) && si.json?.user?.id === up.json?.user?.id && Boolean(cookieValue(si, SESSION_COOKIE)), si.json);
      s.record('sign-in body keys', Object.keys(si.json ?? {}).join(','));
      s.record('last-login cookie', si.setCookies.find((l) => l.startsWith(`${LAST_LOGIN_COOKIE}=`))?.split(';')[0] ?? null);
      const bad = await s.browser().post('/sign-in/phone-number', { json: { phoneNumber: number, password: 'wrong-password' } });
      s.expect('a wrong password: 401 INVALID_PHONE_NUMBER_OR_PASSWORD', err(bad, 401, 'INVALID_PHONE_NUMBER_OR_PASSWORD'), bad.json);
      const unknown = await s.browser().post('/sign-in/phone-number', { json: { phoneNumber: num(s, 9), password: PASSWORD } });
      s.expect('an unknown number: 401 INVALID_PHONE_NUMBER_OR_PASSWORD', err(unknown, 401, 'INVALID_PHONE_NUMBER_OR_PASSWORD'), unknown.json);

      const other = s.browser();
      await s.signUp(other, { email: s.email('other') });
      const m = await codeFor(s, other, number);
      const taken = await other.post('/phone-number/verify', { json: { phoneNumber: number, code: m.token, updatePhoneNumber: true } });
      s.expect('a number someone has: 400 PHONE_NUMBER_EXIST', err(taken, 400, 'PHONE_NUMBER_EXIST'), taken.json);
      const m2 = await codeFor(s, other, num(s, 1));
      const anon = await s.browser().post('/phone-number/verify', { json: { phoneNumber: num(s, 1), code: m2.token, updatePhoneNumber: true } });
      s.expect('updatePhoneNumber without a session: 401 USER_NOT_FOUND', err(anon, 401, 'USER_NOT_FOUND'), anon.json);

      const m3 = await codeFor(s, b, number);
      const quiet = s.browser();
      const ns = await quiet.post('/phone-number/verify', { json: { phoneNumber: number, code: m3.token, disableSession: true } });
      s.expect('disableSession: 200 {status:true, token:null} and no cookie', ns.status === 200 && ns.json?.status === true && ns.json?.token === null && !cookieValue(ns, SESSION_COOKIE), ns.json);
    });

    scenario('a number is set only by a code: sign-up and update-user refuse it, null clears it', async (s) => {
      const b = s.browser();
      const set = await s.signUp(b, { email: s.email('set'), phoneNumber: num(s) });
      s.expect('sign-up with a phoneNumber: 400 PHONE_NUMBER_CANNOT_BE_SET', err(set, 400, 'PHONE_NUMBER_CANNOT_BE_SET'), set.json);
      const number = num(s, 1);
      const { up } = await userWithNumber(s, b, 'upd', number);
      const upd = await b.post('/update-user', { json: { phoneNumber: num(s, 2) } });
      s.expect('update-user with a number: 400 PHONE_NUMBER_CANNOT_BE_UPDATED', err(upd, 400, 'PHONE_NUMBER_CANNOT_BE_UPDATED'), upd.json);
      const clear = await b.post('/update-user', { json: { phoneNumber: null } });
      s.expect('update-user with null: 200', clear.status === 200, clear.json);
      const u = await s.sql('select "phoneNumber", "phoneNumberVerified" from "user" where "id" = $1', [up.json.user.id]);
      s.record('the number after null', u[0]);
    });

    scenario('wrong codes, the attempt limit, an expired code, unknown numbers', async (s) => {
      const b = s.browser();
      const number = num(s);
      const none = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: '123456' } });
      s.expect('no code sent: 400 OTP_NOT_FOUND', err(none, 400, 'OTP_NOT_FOUND'), none.json);
      const missing = await b.post('/phone-number/verify', { json: { phoneNumber: number } });
      s.expect('no code in the body: 400 VALIDATION_ERROR', err(missing, 400, 'VALIDATION_ERROR'), missing.json);
      const noNumber = await b.post('/phone-number/send-otp', { json: {} });
      s.expect('send-otp without a number: 400 VALIDATION_ERROR', err(noNumber, 400, 'VALIDATION_ERROR'), noNumber.json);
      const m = await codeFor(s, b, number);
      for (let i = 1; i <= 3; i++) {
        const w = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: wrong(m.token) } });
        s.expect(`wrong code ${i}: 400 INVALID_OTP`, err(w, 400, 'INVALID_OTP'), w.json);
      }
      const rows = await s.sql('select "value" from "verification" where "identifier" = $1', [`phone-number-otp-${number}`]);
      s.record('three wrong tries counted', rows.map((r) => r.value === `${m.token}:3`));
      const lim = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: m.token } });
      s.expect('then the right one: 403 TOO_MANY_ATTEMPTS', err(lim, 403, 'TOO_MANY_ATTEMPTS'), lim.json);
      const gone = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: m.token } });
      s.expect('then the code is gone: 400 OTP_NOT_FOUND', err(gone, 400, 'OTP_NOT_FOUND'), gone.json);

      const m2 = await codeFor(s, b, number);
      await s.sql(`update "verification" set "expiresAt" = now() - interval '1 second' where "identifier" = $1`, [`phone-number-otp-${number}`]);
      const exp = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: m2.token } });
      s.expect('an expired code: 400 OTP_EXPIRED', err(exp, 400, 'OTP_EXPIRED'), exp.json);
      const left = await s.sql('select count(*)::int as n from "verification" where "identifier" = $1', [`phone-number-otp-${number}`]);
      s.record('the expired row is gone', left[0]);
      const u = await s.sql('select count(*)::int as n from "user" where "phoneNumber" = $1', [number]);
      s.record('no user for the number', u[0]);
    });

    scenario('password reset by code: unknown numbers, wrong codes, length rules, the new password, reuse', async (s) => {
      const ghost = num(s, 9);
      const b = s.browser();
      const g = await b.post('/phone-number/request-password-reset', { json: { phoneNumber: ghost } });
      s.expect('an unknown number: 200 {status:true}', g.status === 200 && g.json?.status === true, g.json);
      await s.noMail(ghost);
      const gr = await b.post('/phone-number/reset-password', { json: { phoneNumber: ghost, otp: '123456', newPassword: 'new-password-1' } });
      s.expect('a guess for an unknown number after the request: 400 INVALID_OTP (a code is stored all the same)', err(gr, 400, 'INVALID_OTP'), gr.json);
      const gn = await b.post('/phone-number/reset-password', { json: { phoneNumber: num(s, 8), otp: '123456', newPassword: 'new-password-1' } });
      s.expect('a number never asked for: 400 OTP_NOT_FOUND', err(gn, 400, 'OTP_NOT_FOUND'), gn.json);
      const number = num(s);
      const { up } = await userWithNumber(s, b, 'rst', number);
      const r = await s.browser().post('/phone-number/request-password-reset', { json: { phoneNumber: number } });
      s.expect('request-password-reset: 200 {status:true}', r.status === 200 && r.json?.status === true, r.json);
      const m = await s.mail(number, { kind: 'phone-reset' });
      const rows = await s.sql('select "value" from "verification" where "identifier" = $1', [`phone-number-reset-${number}`]);
      s.record('row: phone-number-reset-<number>', rows.map((x) => x.value === `${m.token}:0`));
      const c = s.browser();
      const w = await c.post('/phone-number/reset-password', { json: { phoneNumber: number, otp: wrong(m.token), newPassword: 'new-password-1' } });
      s.expect('a wrong code: 400 INVALID_OTP', err(w, 400, 'INVALID_OTP'), w.json);
      const short = await c.post('/phone-number/reset-password', { json: { phoneNumber: number, otp: m.token, newPassword: 'short' } });
      s.expect('too short: 400 PASSWORD_TOO_SHORT', err(short, 400, 'PASSWORD_TOO_SHORT'), short.json);
      const ok = await c.post('/phone-number/reset-password', { json: { phoneNumber: number, otp: m.token, newPassword: 'new-password-1' } });
      s.expect('reset-password: 200 {status:true}', ok.status === 200 && ok.json?.status === true, ok.json);
      const old = await s.browser().post('/sign-in/phone-number', { json: { phoneNumber: number, password: PASSWORD } });
      s.expect('the old password: 401', old.status === 401, old.json);
      const neu = await s.browser().post('/sign-in/phone-number', { json: { phoneNumber: number, password: 'new-password-1' } });
      s.expect('the new password signs in', neu.status === 200 && neu.json?.user?.id === up.json?.user?.id, neu.json);
      const kept = await b.get('/get-session');
      s.record('the earlier session after the reset', kept.json === null ? null : 'kept');
      const again = await c.post('/phone-number/reset-password', { json: { phoneNumber: number, otp: m.token, newPassword: 'new-password-2' } });
      s.expect('reuse: 400 OTP_NOT_FOUND', err(again, 400, 'OTP_NOT_FOUND'), again.json);
      const m2 = await codeFor(s, b, number);
      const cross = await c.post('/phone-number/reset-password', { json: { phoneNumber: number, otp: m2.token, newPassword: 'new-password-3' } });
      s.expect('a sign-in code does not reset: 400 OTP_NOT_FOUND', err(cross, 400, 'OTP_NOT_FOUND'), cross.json);
    });

    scenario('the real client: phoneNumberClient sends, verifies, signs in and resets', async (s) => {
      const client = (browser) => createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: browser.fetchImpl() }, plugins: [phoneNumberClient()] });
      const number = num(s);
      const c = client(s.browser());
      await s.clientCall('phoneNumber.sendOtp', c.phoneNumber.sendOtp({ phoneNumber: number }));
      const m = await s.mail(number, { kind: 'phone-otp' });
      await s.clientCall('phoneNumber.verify wrong', c.phoneNumber.verify({ phoneNumber: number, code: wrong(m.token) }));
      const v = await c.phoneNumber.verify({ phoneNumber: number, code: m.token });
      s.expect('phoneNumber.verify: data.user with the number', v.data?.user?.phoneNumber === number && v.error === null, v.error);
      const g = await c.getSession();
      s.expect('getSession after verify', g.data?.user?.phoneNumber === number, g.data);
      await s.clientCall('phoneNumber.requestPasswordReset', c.phoneNumber.requestPasswordReset({ phoneNumber: number }));
      const m2 = await s.mail(number, { kind: 'phone-reset' });
      await s.clientCall('phoneNumber.resetPassword', c.phoneNumber.resetPassword({ phoneNumber: number, otp: m2.token, newPassword: 'client-password-1' }));
      const d = client(s.browser());
      await s.clientCall('signIn.phoneNumber wrong password', d.signIn.phoneNumber({ phoneNumber: number, password: 'wrong-password' }));
      const si = await d.signIn.phoneNumber({ phoneNumber: number, password: 'client-password-1' });
      s.expect('signIn.phoneNumber with the password set by code', si.data?.user?.phoneNumber === number && si.error === null, si.error);
    });
  },
  { env: SIGN_UP },
);

compatSuite(
  'plugin phone-number: no sign-up on verification, four digits, one attempt',
  (scenario) => {
    scenario('an unknown number verified: FAILED_TO_UPDATE_USER, no user; one wrong try ends a code', async (s) => {
      const b = s.browser();
      const number = num(s);
      const m = await codeFor(s, b, number);
      s.expect('a four-digit code', /^\d{4}$/.test(m.token ?? ''), m.token);
      const v = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: m.token } });
      s.record('verify of a number nobody has', { status: v.status, code: v.json?.code });
      const u = await s.sql('select count(*)::int as n from "user" where "phoneNumber" = $1', [number]);
      s.record('no user', u[0]);
      const m2 = await codeFor(s, b, number);
      const w = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: m2.token === '0000' ? '1111' : '0000' } });
      s.expect('a wrong code: 400 INVALID_OTP', err(w, 400, 'INVALID_OTP'), w.json);
      const lim = await b.post('/phone-number/verify', { json: { phoneNumber: number, code: m2.token } });
      s.expect('then the right one: 403 TOO_MANY_ATTEMPTS', err(lim, 403, 'TOO_MANY_ATTEMPTS'), lim.json);
    });
  },
  { env: { ...PLUGINS, PHONE_NUMBER_OTP_LENGTH: '4', PHONE_NUMBER_ALLOWED_ATTEMPTS: '1' } },
);
