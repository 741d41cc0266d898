// The email-otp plugin (with last-login-method) on both servers: sending codes of each type (and
// what an unknown address gets), check-verification-otp (it does not spend the code), sign-in by
// code (a new user, an existing one, an unverified one losing its password), verify-email, the
// password reset by code through both request endpoints, and the refusals: a wrong code, the
// attempt limit, an expired code, a reused one; then the real client (emailOTPClient). The
// reference records each code as mail kind email-otp-<type>; the Go server mails it to its outbox
// (lib/mail.mjs maps its subjects to the same kinds).
import { createAuthClient } from 'better-auth/client';
import { emailOTPClient } from 'better-auth/client/plugins';
import { symmetricDecrypt, symmetricEncrypt } from 'better-auth/crypto';
import { compatSuite, cookieValue, SESSION_COOKIE } from '../lib/harness.mjs';
import { SECRET } from '../lib/servers.mjs';

const PLUGINS = { BETTER_AUTH_PLUGINS: 'email-otp,last-login-method' };
const PASSWORD = 'password1234';
const LAST_LOGIN_COOKIE = 'better-auth.last_used_login_method';
const err = (res, status, code) => res.status === status && res.json?.code === code;
/** A six-digit code that is not `code`. */
const wrong = (code) => (code === '000000' ? '111111' : '000000');

/** Asks for a code of `type` for email and returns the captured mail (its code in .token). */
async function codeFor(s, b, email, type) {
  const r = await b.post('/email-otp/send-verification-otp', { json: { email, type } });
  s.expect(`send-verification-otp (${type}): 200 {success:true}`, r.status === 200 && r.json?.success === true, r.json);
  return s.mail(email, { kind: `email-otp-${type}` });
}

compatSuite(
  'plugin email-otp',
  (scenario) => {
    scenario('sign-in by code: a new user, the stored row, the session; the code works once', async (s) => {
      const b = s.browser();
      const email = s.email('new');
      const m = await codeFor(s, b, email, 'sign-in');
      s.expect('a six-digit code', /^\d{6}$/.test(m.token ?? ''), m.token);
      const rows = await s.sql(`select "value", extract(epoch from ("expiresAt" - "createdAt"))::int as life from "verification" where "identifier" = $1`, [`sign-in-otp-${email}`]);
      s.record('row: sign-in-otp-<email>, value <code>:0, 300 s', rows.map((r) => ({ value: r.value === `${m.token}:0`, life: r.life })));
      const check = await b.post('/email-otp/check-verification-otp', { json: { email, type: 'sign-in', otp: m.token } });
      s.record('check-verification-otp of an unknown address', { status: check.status, body: check.json });
      const c = s.browser();
      const r = await c.post('/sign-in/email-otp', { json: { email, otp: m.token, name: 'Otp Person' } });
      s.expect('sign-in: 200 {token,user} with the session cookie', r.status === 200 && Boolean(r.json?.token) && Boolean(cookieValue(r, SESSION_COOKIE)), r.json);
      s.record('sign-in body keys', Object.keys(r.json ?? {}).join(','));
      s.record('the user: name, verified', { name: r.json?.user?.name, emailVerified: r.json?.user?.emailVerified, email: r.json?.user?.email });
      s.expect('last-login cookie email-otp', r.setCookies.some((l) => l.startsWith(`${LAST_LOGIN_COOKIE}=email-otp;`)), r.setCookies);
      const g = await c.get('/get-session');
      s.expect('the cookie is that session', g.json?.session?.token === r.json?.token, g.json);
      const again = await s.browser().post('/sign-in/email-otp', { json: { email, otp: m.token } });
      s.expect('the code works once: 400 INVALID_OTP', err(again, 400, 'INVALID_OTP'), again.json);
      const left = await s.sql('select count(*)::int as n from "verification" where "identifier" = $1', [`sign-in-otp-${email}`]);
      s.record('the row is gone', left[0]);
    });

    scenario('an existing user: sign-in by code keeps the name; an unverified one loses password and sessions', async (s) => {
      const b = s.browser();
      const email = s.email('old');
      const up = await s.signUp(b, { email });
      const m = await codeFor(s, s.browser(), email.toUpperCase(), 'sign-in');
      const c = s.browser();
      const r = await c.post('/sign-in/email-otp', { json: { email, otp: m.token, name: 'Ignored' } });
      s.expect('same user, name kept, now verified', r.status === 200 && r.json?.user?.id === up.json?.user?.id && r.json?.user?.name === 'Test User' && r.json?.user?.emailVerified === true, r.json);
      const old = await b.get('/get-session');
      s.expect('the sign-up session is revoked', old.json === null, old.json);
      const acc = await s.sql('select count(*)::int as n from "account" where "userId" = $1', [up.json.user.id]);
      s.record('the credential account is gone', acc[0]);
      const pw = await s.signIn(s.browser(), { email });
      s.expect('the password no longer works: 401', pw.status === 401, pw.json);
    });

    scenario('wrong codes, the attempt limit, an expired code, check does not spend the code', async (s) => {
      const b = s.browser();
      const email = s.email('lim');
      await s.signUp(b, { email });
      const m = await codeFor(s, b, email, 'email-verification');
      const missing = await b.post('/email-otp/check-verification-otp', { json: { email, type: 'email-verification' } });
      s.expect('check without otp: 400 VALIDATION_ERROR', err(missing, 400, 'VALIDATION_ERROR'), missing.json);
      const badType = await b.post('/email-otp/check-verification-otp', { json: { email, type: 'nope', otp: m.token } });
      s.expect('check with an unknown type: 400 VALIDATION_ERROR', err(badType, 400, 'VALIDATION_ERROR'), badType.json);
      const ok = await b.post('/email-otp/check-verification-otp', { json: { email, type: 'email-verification', otp: m.token } });
      s.expect('check with the right code: 200 {success:true}', ok.status === 200 && ok.json?.success === true, ok.json);
      const w1 = await b.post('/email-otp/check-verification-otp', { json: { email, type: 'email-verification', otp: wrong(m.token) } });
      s.expect('check with a wrong code: 400 INVALID_OTP', err(w1, 400, 'INVALID_OTP'), w1.json);
      const rows = await s.sql('select "value" from "verification" where "identifier" = $1', [`email-verification-otp-${email}`]);
      s.record('the wrong try is counted', rows.map((r) => r.value === `${m.token}:1`));
      const w2 = await b.post('/email-otp/verify-email', { json: { email, otp: wrong(m.token) } });
      s.expect('verify-email with a wrong code: 400 INVALID_OTP', err(w2, 400, 'INVALID_OTP'), w2.json);
      const w3 = await b.post('/email-otp/verify-email', { json: { email, otp: wrong(m.token) } });
      s.expect('third wrong code: 400 INVALID_OTP', err(w3, 400, 'INVALID_OTP'), w3.json);
      const lim = await b.post('/email-otp/verify-email', { json: { email, otp: m.token } });
      s.expect('after three wrong codes even the right one: 403 TOO_MANY_ATTEMPTS', err(lim, 403, 'TOO_MANY_ATTEMPTS'), lim.json);
      const gone = await b.post('/email-otp/verify-email', { json: { email, otp: m.token } });
      s.record('then the code is gone', { status: gone.status, code: gone.json?.code });

      const m2 = await codeFor(s, b, email, 'email-verification');
      await s.sql(`update "verification" set "expiresAt" = now() - interval '1 second' where "identifier" = $1`, [`email-verification-otp-${email}`]);
      const exp = await b.post('/email-otp/verify-email', { json: { email, otp: m2.token } });
      s.expect('an expired code: 400 OTP_EXPIRED', err(exp, 400, 'OTP_EXPIRED'), exp.json);
      const expLeft = await s.sql('select count(*)::int as n from "verification" where "identifier" = $1', [`email-verification-otp-${email}`]);
      s.record('the expired row', expLeft[0]);
    });

    scenario('verify-email: the address is verified, the answer, reuse', async (s) => {
      const b = s.browser();
      const email = s.email('ver');
      const up = await s.signUp(b, { email });
      const m = await codeFor(s, b, email, 'email-verification');
      const v = await b.post('/email-otp/verify-email', { json: { email, otp: m.token } });
      s.expect('verify-email: 200 {status:true, token:null, user}', v.status === 200 && v.json?.status === true && v.json?.token === null && v.json?.user?.emailVerified === true, v.json);
      s.record('verify-email sets cookies', v.setCookies.map((l) => l.split('=')[0]));
      const u = await s.sql('select "emailVerified" from "user" where "id" = $1', [up.json.user.id]);
      s.record('verified in the database', u[0]);
      const again = await b.post('/email-otp/verify-email', { json: { email, otp: m.token } });
      s.expect('reuse: 400 INVALID_OTP', err(again, 400, 'INVALID_OTP'), again.json);
      const bad = await b.post('/email-otp/verify-email', { json: { email: 'not-an-email', otp: '123456' } });
      s.record('verify-email with a malformed address', { status: bad.status, code: bad.json?.code });
    });

    scenario('unknown addresses and bad requests: no mail, the same answers', async (s) => {
      const b = s.browser();
      const email = s.email('ghost');
      for (const type of ['email-verification', 'forget-password']) {
        const r = await b.post('/email-otp/send-verification-otp', { json: { email, type } });
        s.expect(`${type} for an unknown address: 200 {success:true}`, r.status === 200 && r.json?.success === true, r.json);
      }
      const fp = await b.post('/forget-password/email-otp', { json: { email } });
      s.expect('forget-password/email-otp for an unknown address: 200 {success:true}', fp.status === 200 && fp.json?.success === true, fp.json);
      const rp = await b.post('/email-otp/request-password-reset', { json: { email } });
      s.expect('request-password-reset for an unknown address: 200 {success:true}', rp.status === 200 && rp.json?.success === true, rp.json);
      await s.noMail(email);
      const ce = await b.post('/email-otp/send-verification-otp', { json: { email, type: 'change-email' } });
      s.record('type change-email', { status: ce.status, body: ce.json });
      const bt = await b.post('/email-otp/send-verification-otp', { json: { email, type: 'nope' } });
      s.expect('an unknown type: 400 VALIDATION_ERROR', err(bt, 400, 'VALIDATION_ERROR'), bt.json);
      const be = await b.post('/email-otp/send-verification-otp', { json: { email: 'not-an-email', type: 'sign-in' } });
      s.expect('a malformed address: 400 INVALID_EMAIL', err(be, 400, 'INVALID_EMAIL'), be.json);
      const si = await b.post('/sign-in/email-otp', { json: { email, otp: '123456' } });
      s.expect('sign-in with no code sent: 400 INVALID_OTP', err(si, 400, 'INVALID_OTP'), si.json);
      const ve = await b.post('/email-otp/verify-email', { json: { email, otp: '123456' } });
      s.expect('verify-email with no code sent: 400 INVALID_OTP', err(ve, 400, 'INVALID_OTP'), ve.json);
      const rs = await b.post('/email-otp/reset-password', { json: { email, otp: '123456', password: 'new-password-1' } });
      s.expect('reset-password with no code sent: 400 INVALID_OTP', err(rs, 400, 'INVALID_OTP'), rs.json);
    });

    scenario('password reset by code: both request endpoints, length rules, the new password, reuse', async (s) => {
      const b = s.browser();
      const email = s.email('rst');
      const up = await s.signUp(b, { email });
      const r1 = await b.post('/forget-password/email-otp', { json: { email } });
      s.expect('forget-password/email-otp: 200 {success:true}', r1.status === 200 && r1.json?.success === true, r1.json);
      const m1 = await s.mail(email, { kind: 'email-otp-forget-password' });
      const r2 = await b.post('/email-otp/request-password-reset', { json: { email } });
      s.expect('request-password-reset: 200 {success:true}', r2.status === 200 && r2.json?.success === true, r2.json);
      const m2 = await s.mail(email, { kind: 'email-otp-forget-password' });
      const old = await b.post('/email-otp/reset-password', { json: { email, otp: m1.token, password: 'new-password-1' } });
      s.record('the first code after a second was sent', { status: old.status, code: old.json?.code, same: m1.token === m2.token });
      const short = await b.post('/email-otp/reset-password', { json: { email, otp: m2.token, password: 'short' } });
      s.expect('too short: 400 PASSWORD_TOO_SHORT', err(short, 400, 'PASSWORD_TOO_SHORT'), short.json);
      const w = await b.post('/email-otp/reset-password', { json: { email, otp: wrong(m2.token), password: 'new-password-1' } });
      s.expect('a wrong code: 400 INVALID_OTP', err(w, 400, 'INVALID_OTP'), w.json);
      const ok = await b.post('/email-otp/reset-password', { json: { email, otp: m2.token, password: 'new-password-1' } });
      s.expect('reset-password: 200 {success:true}', ok.status === 200 && ok.json?.success === true, ok.json);
      const u = await s.sql('select "emailVerified" from "user" where "id" = $1', [up.json.user.id]);
      s.record('the address is verified', u[0]);
      const pwOld = await s.signIn(s.browser(), { email });
      s.expect('the old password: 401', pwOld.status === 401, pwOld.json);
      const pwNew = await s.signIn(s.browser(), { email, password: 'new-password-1' });
      s.expect('the new password signs in', pwNew.status === 200, pwNew.json);
      const again = await b.post('/email-otp/reset-password', { json: { email, otp: m2.token, password: 'new-password-2' } });
      s.expect('reuse: 400 INVALID_OTP', err(again, 400, 'INVALID_OTP'), again.json);
    });

    scenario('the real client: emailOTPClient sends, checks, signs in, verifies and resets', async (s) => {
      const client = (browser) => createAuthClient({ baseURL: s.server.url, fetchOptions: { customFetchImpl: browser.fetchImpl() }, plugins: [emailOTPClient()] });
      const email = s.email('cli');
      const c = client(s.browser());
      await s.clientCall('emailOtp.sendVerificationOtp sign-in', c.emailOtp.sendVerificationOtp({ email, type: 'sign-in' }));
      const m = await s.mail(email, { kind: 'email-otp-sign-in' });
      await s.clientCall('emailOtp.checkVerificationOtp wrong', c.emailOtp.checkVerificationOtp({ email, type: 'sign-in', otp: wrong(m.token) }));
      await s.clientCall('signIn.emailOtp wrong', c.signIn.emailOtp({ email, otp: wrong(m.token) }));
      const r = await c.signIn.emailOtp({ email, otp: m.token });
      s.expect('signIn.emailOtp: data.user', r.data?.user?.email === email && r.error === null, r.error);
      const g = await c.getSession();
      s.expect('getSession after signIn.emailOtp', g.data?.user?.email === email, g.data);
      await s.clientCall('forgetPassword.emailOtp', c.forgetPassword.emailOtp({ email }));
      const m2 = await s.mail(email, { kind: 'email-otp-forget-password' });
      await s.clientCall('emailOtp.resetPassword', c.emailOtp.resetPassword({ email, otp: m2.token, password: 'client-password-1' }));
      const pw = await s.signIn(s.browser(), { email, password: 'client-password-1' });
      s.expect('the password set by code signs in', pw.status === 200, pw.json);
    });
  },
  { env: PLUGINS },
);

compatSuite(
  'plugin email-otp: sign-up disabled, four digits, attempt limit 1',
  (scenario) => {
    scenario('no code for an unknown address, sign-in refused; one wrong try ends a code', async (s) => {
      const b = s.browser();
      const ghost = s.email('none');
      const r = await b.post('/email-otp/send-verification-otp', { json: { email: ghost, type: 'sign-in' } });
      s.expect('200 {success:true}', r.status === 200 && r.json?.success === true, r.json);
      await s.noMail(ghost);
      const si = await b.post('/sign-in/email-otp', { json: { email: ghost, otp: '1234' } });
      s.expect('sign-in of an unknown address: 400 INVALID_OTP', err(si, 400, 'INVALID_OTP'), si.json);
      const email = s.email('known');
      await s.signUp(s.browser(), { email });
      const m = await codeFor(s, b, email, 'sign-in');
      s.expect('a four-digit code', /^\d{4}$/.test(m.token ?? ''), m.token);
      const w = await b.post('/sign-in/email-otp', { json: { email, otp: m.token === '0000' ? '1111' : '0000' } });
      s.expect('a wrong code: 400 INVALID_OTP', err(w, 400, 'INVALID_OTP'), w.json);
      const lim = await b.post('/sign-in/email-otp', { json: { email, otp: m.token } });
      s.expect('then the right one: 403 TOO_MANY_ATTEMPTS', err(lim, 403, 'TOO_MANY_ATTEMPTS'), lim.json);
      const m2 = await codeFor(s, b, email, 'sign-in');
      const ok = await b.post('/sign-in/email-otp', { json: { email, otp: m2.token } });
      s.expect('a new code signs in', ok.status === 200 && Boolean(ok.json?.token), ok.json);
    });
  },
  { env: { ...PLUGINS, EMAIL_OTP_DISABLE_SIGN_UP: 'true', EMAIL_OTP_LENGTH: '4', EMAIL_OTP_ALLOWED_ATTEMPTS: '1' } },
);

compatSuite(
  'plugin email-otp: change of address by code (current address verified too), hashed codes',
  (scenario) => {
    scenario('request-email-change needs a code of the current address, then change-email with the new one', async (s) => {
      const b = s.browser();
      const email = s.email('cur');
      const up = await s.signUp(b, { email });
      await s.noMail(email, { label: 'sign-up mail (none without sendOnSignUp)' });
      const newEmail = s.email('next');
      const noSession = await s.browser().post('/email-otp/request-email-change', { json: { newEmail } });
      s.expect('no session: 401', noSession.status === 401, noSession.json);
      const noOtp = await b.post('/email-otp/request-email-change', { json: { newEmail } });
      s.record('no code of the current address', { status: noOtp.status, body: noOtp.json });
      const same = await b.post('/email-otp/request-email-change', { json: { newEmail: email.toUpperCase(), otp: '123456' } });
      s.record('the same address', { status: same.status, body: same.json });
      const cur = await codeFor(s, b, email, 'email-verification');
      const rows = await s.sql('select "value" from "verification" where "identifier" = $1', [`email-verification-otp-${email}`]);
      s.record('hashed: the row holds no plain code', rows.map((r) => ({ plain: r.value.startsWith(`${cur.token}:`), shape: /^[A-Za-z0-9_-]{43}:0$/.test(r.value) })));
      const bad = await b.post('/email-otp/request-email-change', { json: { newEmail, otp: wrong(cur.token) } });
      s.expect('a wrong current-address code: 400 INVALID_OTP', err(bad, 400, 'INVALID_OTP'), bad.json);
      const req = await b.post('/email-otp/request-email-change', { json: { newEmail, otp: cur.token } });
      s.expect('request-email-change: 200 {success:true}', req.status === 200 && req.json?.success === true, req.json);
      const m = await s.mail(newEmail, { kind: 'email-otp-change-email' });
      const w = await b.post('/email-otp/change-email', { json: { newEmail, otp: wrong(m.token) } });
      s.expect('change-email with a wrong code: 400 INVALID_OTP', err(w, 400, 'INVALID_OTP'), w.json);
      const ok = await b.post('/email-otp/change-email', { json: { newEmail, otp: m.token } });
      s.expect('change-email: 200 {success:true}', ok.status === 200 && ok.json?.success === true, ok.json);
      const g = await b.get('/get-session');
      s.expect('the session shows the new address, verified', g.json?.user?.email === newEmail && g.json?.user?.emailVerified === true, g.json);
      const u = await s.sql('select "email", "emailVerified" from "user" where "id" = $1', [up.json.user.id]);
      s.record('the user row', u[0]);
      const again = await b.post('/email-otp/change-email', { json: { newEmail, otp: m.token } });
      s.record('the code again (the address is now the same)', { status: again.status, body: again.json });
    });

    scenario('an address someone has: success, no mail', async (s) => {
      const b = s.browser();
      const email = s.email('own');
      await s.signUp(b, { email });
      const taken = s.email('taken');
      await s.signUp(s.browser(), { email: taken });
      const cur = await codeFor(s, b, email, 'email-verification');
      const req = await b.post('/email-otp/request-email-change', { json: { newEmail: taken, otp: cur.token } });
      s.expect('a taken address: 200 {success:true}', req.status === 200 && req.json?.success === true, req.json);
      await s.noMail(taken);
    });
  },
  { env: { ...PLUGINS, EMAIL_OTP_CHANGE_EMAIL: 'true', EMAIL_OTP_CHANGE_EMAIL_VERIFY_CURRENT: 'true', EMAIL_OTP_STORE: 'hashed' } },
);

compatSuite(
  'plugin email-otp: encrypted codes, resent as they are, a code on sign-up',
  (scenario) => {
    scenario('each side stores what the other decrypts: the row opens with Better-Auth\'s symmetricDecrypt, a code sealed by it signs in', async (s) => {
      const b = s.browser();
      const email = s.email('enc');
      const m = await codeFor(s, b, email, 'sign-in');
      const [row] = await s.sql('select "value" from "verification" where "identifier" = $1', [`sign-in-otp-${email}`]);
      const [sealed, tries] = [row.value.slice(0, row.value.lastIndexOf(':')), row.value.slice(row.value.lastIndexOf(':') + 1)];
      s.record('the row: hex ciphertext, no plain code, no tries', { hex: /^[0-9a-f]+$/.test(sealed), plain: sealed.includes(m.token), tries });
      const opened = await symmetricDecrypt({ key: SECRET, data: sealed }).catch((e) => `error: ${e.message}`);
      s.expect('Better-Auth\'s symmetricDecrypt opens it to the mailed code', opened === m.token, { opened });
      // A code sealed by Better-Auth's symmetricEncrypt put in place of the stored one.
      const mine = m.token === '424242' ? '434343' : '424242';
      await s.sql('update "verification" set "value" = $1 where "identifier" = $2', [`${await symmetricEncrypt({ key: SECRET, data: mine })}:0`, `sign-in-otp-${email}`]);
      const stale = await s.browser().post('/sign-in/email-otp', { json: { email, otp: m.token } });
      s.expect('the mailed code no longer matches: 400 INVALID_OTP', err(stale, 400, 'INVALID_OTP'), stale.json);
      const r = await s.browser().post('/sign-in/email-otp', { json: { email, otp: mine } });
      s.expect('the code Better-Auth sealed signs in', r.status === 200 && Boolean(r.json?.token), r.json);
    });

    scenario('resendStrategy reuse: the same code again, its life renewed, its tries kept; replaced once out of tries', async (s) => {
      const b = s.browser();
      const email = s.email('again');
      const first = await codeFor(s, b, email, 'sign-in');
      const ident = `sign-in-otp-${email}`;
      const [before] = await s.sql('select "expiresAt", "createdAt" from "verification" where "identifier" = $1', [ident]);
      await new Promise((r) => setTimeout(r, 1100));
      const wrongTry = await b.post('/sign-in/email-otp', { json: { email, otp: wrong(first.token) } });
      s.expect('a wrong try: 400 INVALID_OTP', err(wrongTry, 400, 'INVALID_OTP'), wrongTry.json);
      const second = await codeFor(s, b, email, 'sign-in');
      s.expect('the same code is mailed again', second.token === first.token, { first: first.token, second: second.token });
      const rows = await s.sql('select "value", "expiresAt", "createdAt" from "verification" where "identifier" = $1', [ident]);
      s.record('one row, the try kept, the expiry pushed on, createdAt kept', rows.map((r) => ({
        tries: r.value.slice(r.value.lastIndexOf(':') + 1),
        renewed: new Date(r.expiresAt) > new Date(before.expiresAt),
        created: new Date(r.createdAt).getTime() === new Date(before.createdAt).getTime(),
      })));
      for (let i = 0; i < 2; i++) await b.post('/sign-in/email-otp', { json: { email, otp: wrong(first.token) } });
      const third = await codeFor(s, b, email, 'sign-in');
      s.expect('out of tries: a new code', third.token !== first.token, { first: first.token, third: third.token });
      const r = await s.browser().post('/sign-in/email-otp', { json: { email, otp: third.token } });
      s.expect('the new code signs in', r.status === 200 && Boolean(r.json?.token), r.json);
    });

    scenario('sendVerificationOnSignUp: a sign-up mails an email-verification code that verifies the address', async (s) => {
      const b = s.browser();
      const email = s.email('fresh');
      const up = await s.signUp(b, { email: email.toUpperCase() });
      s.expect('sign-up: 200 with a session', up.status === 200 && Boolean(up.json?.token), up.json);
      const m = await s.mail(email, { kind: 'email-otp-email-verification' });
      s.expect('a six-digit code', /^\d{6}$/.test(m.token ?? ''), m.token);
      const v = await s.browser().post('/email-otp/verify-email', { json: { email, otp: m.token } });
      s.expect('verify-email: 200, verified', v.status === 200 && v.json?.user?.emailVerified === true, v.json);
      const dup = await s.browser().post('/sign-up/email', { json: { email, password: 'password1234', name: 'Again' } });
      s.record('a duplicate sign-up (auto sign-in on: refused)', { status: dup.status, code: dup.json?.code });
      await s.noMail(email, { label: 'no code for a refused sign-up' });
    });
  },
  { env: { ...PLUGINS, EMAIL_OTP_STORE: 'encrypted', EMAIL_OTP_RESEND_STRATEGY: 'reuse', EMAIL_OTP_SEND_VERIFICATION_ON_SIGN_UP: 'true' } },
);
