// The two-factor plugin with the plugin list of issue 14 (username,anonymous,two-factor,
// last-login-method) on both servers: enabling TOTP (the session rotation and its token quirk),
// the sign-in challenge (two_factor cookie, twoFactorRedirect), verify-totp / send-otp + verify-otp /
// verify-backup-code, trust_device, rememberMe:false, the per-challenge attempt limit and the
// account lock, tampered and replayed cookies and codes, disable, the `otp` method, and the real
// client (twoFactorClient's onTwoFactorRedirect). TOTP codes are computed from the secret in the
// totpURI (lib/totp.mjs); OTP codes come from the reference's sendOTP recorder and the Go outbox.
// What the reference answers is written down in /work/wt/2fa-observed.md (and pinned below).
import { createAuthClient } from 'better-auth/client';
import { twoFactorClient, usernameClient, anonymousClient } from 'better-auth/client/plugins';
import { compatSuite, cookieValue, SESSION_COOKIE, DONT_REMEMBER_COOKIE } from '../lib/harness.mjs';
import { totpFromURI, parseTotpURI } from '../lib/totp.mjs';

export const PLUGINS = { BETTER_AUTH_PLUGINS: 'username,anonymous,two-factor,last-login-method' };
const PASSWORD = 'password1234';
const TWO_FACTOR_COOKIE = 'better-auth.two_factor';
const TRUST_COOKIE = 'better-auth.trust_device';

const err = (res, status, code) => res.status === status && res.json?.code === code;
const cookieLine = (res, name) => res?.setCookies.find((l) => l.startsWith(`${name}=`));
/** A signed cookie value with one character of its signed part changed (the signature no longer fits). */
const tamper = (v) => `${v[0] === 'A' ? 'B' : 'A'}${v.slice(1)}`;

/** Signs up a user in browser b and enables TOTP (enable + verify-totp with the session). */
async function enableTotp(s, b, local) {
  const email = s.email(local);
  await s.signUp(b, { email });
  const en = await b.post('/two-factor/enable', { json: { password: PASSWORD } });
  const uri = en.json?.totpURI;
  if (!uri) throw new Error(`enable gave no totpURI: ${en.status} ${en.text}`);
  const v = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(uri) } });
  s.expect('verify-totp with the session enables 2FA', v.status === 200, v.json);
  return { email, uri, backupCodes: en.json.backupCodes };
}

/** A fresh browser that has passed the password step of a 2FA user: it holds the two_factor cookie. */
async function challenged(s, email, extra = {}) {
  const b = s.browser();
  const r = await s.signIn(b, { email, ...extra });
  s.expect('password sign-in answers the challenge', r.status === 200 && r.json?.twoFactorRedirect === true && Boolean(b.jar.get(TWO_FACTOR_COOKIE)), r.json);
  return b;
}

compatSuite(
  'plugin two-factor',
  (scenario) => {
    scenario('enable, get-totp-uri, verify-totp with a session: the session rotates, the token quirk', async (s) => {
      const b = s.browser();
      const up = await s.signUp(b, { email: s.email('ena') });
      s.record('user keys with the four plugins', Object.keys(up.json?.user ?? {}).join(','));
      s.expect('twoFactorEnabled false and isAnonymous false for an ordinary user', up.json?.user?.twoFactorEnabled === false && up.json?.user?.isAnonymous === false, up.json);
      const wrong = await b.post('/two-factor/enable', { json: { password: 'wrong-password' } });
      s.expect('wrong password: 400 INVALID_PASSWORD', err(wrong, 400, 'INVALID_PASSWORD'), wrong.json);
      const none = await b.post('/two-factor/enable', { json: {} });
      s.expect('no password: 400 VALIDATION_ERROR', err(none, 400, 'VALIDATION_ERROR'), none.json);
      const en = await b.post('/two-factor/enable', { json: { password: PASSWORD } });
      const p = parseTotpURI(en.json.totpURI);
      s.expect('totpURI: issuer = appName, the e-mail, 6 digits, 30 s, a 52-character base32 secret', p.label === `Compat App:${s.email('ena')}` && p.issuer === 'Compat App' && p.digits === 6 && p.period === 30 && /^[A-Z2-7]{52}$/.test(p.secret), p);
      s.expect('ten backup codes xxxxx-xxxxx', en.json.backupCodes?.length === 10 && en.json.backupCodes.every((c) => /^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$/.test(c)), en.json.backupCodes);
      s.expect('enable sets no cookie', en.setCookies.length === 0, en.setCookies);
      let g = await b.get('/get-session');
      s.expect('not enabled before the first code', g.json?.user?.twoFactorEnabled === false, g.json);
      const [row] = await s.sql('select "verified", "failedVerificationCount", "lockedUntil", length("secret") as secret_len from "twoFactor"');
      s.record('twoFactor row after enable', row);
      const uri = await b.post('/two-factor/get-totp-uri', { json: { password: PASSWORD } });
      s.expect('get-totp-uri gives the same URI', uri.json?.totpURI === en.json.totpURI, uri.json);
      const badUri = await b.post('/two-factor/get-totp-uri', { json: { password: 'wrong-password' } });
      s.expect('get-totp-uri, wrong password: 400 INVALID_PASSWORD', err(badUri, 400, 'INVALID_PASSWORD'), badUri.json);
      const bad = await b.post('/two-factor/verify-totp', { json: { code: '000000' === totpFromURI(en.json.totpURI) ? '111111' : '000000' } });
      s.expect('wrong code: 401 INVALID_CODE', err(bad, 401, 'INVALID_CODE'), bad.json);
      const missing = await b.post('/two-factor/verify-totp', { json: {} });
      s.expect('no code: 400 VALIDATION_ERROR', err(missing, 400, 'VALIDATION_ERROR'), missing.json);
      const ok = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
      s.expect('first code: 200 with a new session cookie', ok.status === 200 && Boolean(cookieValue(ok, SESSION_COOKIE)) && cookieValue(ok, SESSION_COOKIE) !== encodeURIComponent(''), ok.setCookies);
      s.expect('quirk: the body carries the OLD token and the user as before (twoFactorEnabled false)', ok.json?.token === up.json?.token && ok.json?.user?.twoFactorEnabled === false, ok.json);
      g = await b.get('/get-session');
      s.expect('now enabled, on a new session', g.json?.user?.twoFactorEnabled === true && g.json?.session?.token !== up.json?.token, g.json);
      const old = await s.browser().get('/get-session', { cookies: `${SESSION_COOKIE}=${encodeURIComponent(up.headers['set-auth-token']?.[0] ?? '')}` });
      s.expect('the old session is gone', old.json === null, old.json);
      s.record('twoFactor row after verify', (await s.sql('select "verified", "failedVerificationCount" from "twoFactor"'))[0]);
      const again = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
      s.expect('with the session again: 200, current token, no cookie', again.status === 200 && again.json?.token === g.json?.session?.token && again.setCookies.length === 0, again.json);
      const twice = await b.post('/two-factor/enable', { json: { password: PASSWORD } });
      s.expect('enable once verified: 400 TOTP_ALREADY_ENABLED', err(twice, 400, 'TOTP_ALREADY_ENABLED'), twice.json);
    });

    scenario('enable twice before verifying replaces the secret; issuer from the body; unverified means no challenge', async (s) => {
      const b = s.browser();
      await s.signUp(b, { email: s.email('twice') });
      const first = await b.post('/two-factor/enable', { json: { password: PASSWORD, issuer: 'My App' } });
      s.expect('issuer from the body', first.json?.totpURI?.startsWith(`otpauth://totp/My%20App:${encodeURIComponent(s.email('twice'))}?`) && first.json.totpURI.includes('&issuer=My+App&'), first.json);
      const second = await b.post('/two-factor/enable', { json: { password: PASSWORD } });
      s.expect('a new secret', second.status === 200 && parseTotpURI(second.json.totpURI).secret !== parseTotpURI(first.json.totpURI).secret, second.json);
      s.record('one twoFactor row', (await s.sql('select count(*)::int as n from "twoFactor"'))[0]);
      const plain = await s.signIn(s.browser(), { email: s.email('twice') });
      s.expect('enabled but never verified: an ordinary sign-in', plain.status === 200 && plain.json?.redirect === false && plain.json?.user?.twoFactorEnabled === false, plain.json);
      const stale = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(first.json.totpURI) } });
      s.expect("the first secret's code fails", err(stale, 401, 'INVALID_CODE'), stale.json);
      const ok = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(second.json.totpURI) } });
      s.expect("the second secret's code enables", ok.status === 200, ok.json);
    });

    scenario('sign-in challenge: e-mail and username, verify-totp, the challenge cookie is single-use', async (s) => {
      const a = s.browser();
      const email = s.email('chal');
      await s.signUp(a, { email, username: `chal_${s.tag.slice(0, 6)}` });
      const en = await a.post('/two-factor/enable', { json: { password: PASSWORD } });
      await a.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
      const b = s.browser();
      const r = await s.signIn(b, { email });
      s.expect('200 {twoFactorRedirect:true, twoFactorMethods:["totp","otp"]}', r.status === 200 && r.json?.twoFactorRedirect === true && JSON.stringify(r.json?.twoFactorMethods) === '["totp","otp"]' && Object.keys(r.json).length === 2, r.json);
      s.expect('two_factor cookie: Max-Age=600, HttpOnly, SameSite=Lax', /^better-auth\.two_factor=2fa-[A-Za-z0-9_-]{20}\.[^;]+; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/.test(cookieLine(r, TWO_FACTOR_COOKIE) ?? ''), r.setCookies);
      s.expect('session cookies cleared', cookieLine(r, SESSION_COOKIE)?.startsWith(`${SESSION_COOKIE}=; Max-Age=0`), r.setCookies);
      const g = await b.get('/get-session');
      s.expect('no session yet', g.status === 200 && g.json === null, g.json);
      const challengeCookie = b.jar.get(TWO_FACTOR_COOKIE);
      const wrong = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI, { offset: 5 }) } });
      s.expect('wrong code: 401 INVALID_CODE', err(wrong, 401, 'INVALID_CODE'), wrong.json);
      const ok = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) } });
      s.expect('right code: 200 {token,user}, session cookie, two_factor cleared', ok.status === 200 && ok.json?.user?.twoFactorEnabled === true && Boolean(ok.json?.token) && cookieLine(ok, TWO_FACTOR_COOKIE)?.startsWith(`${TWO_FACTOR_COOKIE}=; Max-Age=0`), ok.setCookies);
      const g2 = await b.get('/get-session');
      s.expect('signed in as the user, with the token of the body', g2.json?.session?.token === ok.json?.token, g2.json);
      const replay = await s.browser().post('/two-factor/verify-totp', { json: { code: totpFromURI(en.json.totpURI) }, cookies: `${TWO_FACTOR_COOKIE}=${challengeCookie}` });
      s.expect('the spent challenge cookie: 401 INVALID_TWO_FACTOR_COOKIE', err(replay, 401, 'INVALID_TWO_FACTOR_COOKIE'), replay.json);
      const byName = await s.browser().post('/sign-in/username', { json: { username: `chal_${s.tag.slice(0, 6)}`, password: PASSWORD } });
      s.expect('sign-in/username is challenged too', byName.status === 200 && byName.json?.twoFactorRedirect === true, byName.json);
      const wrongPassword = await s.signIn(s.browser(), { email, password: 'wrong-password' });
      s.expect('wrong password: the ordinary 401, no challenge', err(wrongPassword, 401, 'INVALID_EMAIL_OR_PASSWORD') && !cookieLine(wrongPassword, TWO_FACTOR_COOKIE), wrongPassword.json);
      const bearer = await s.browser().get('/get-session', { cookies: false, headers: { authorization: `Bearer ${r.headers['set-auth-token']?.[0] ?? 'none'}` } });
      s.expect('the set-auth-token of the challenged sign-in is no session', bearer.json === null, bearer.json);
    });

    scenario('rememberMe:false, trustDevice and the trusted sign-in (rotated trust cookie)', async (s) => {
      const { email, uri } = await enableTotp(s, s.browser(), 'trust');
      const b = await challenged(s, email, { rememberMe: false });
      const ok = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(uri), trustDevice: true } });
      s.expect('session cookie without Max-Age, trust_device for 30 days, dont_remember cleared', ok.status === 200 && !/Max-Age/.test(cookieLine(ok, SESSION_COOKIE) ?? 'Max-Age') && /; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/.test(cookieLine(ok, TRUST_COOKIE) ?? '') && cookieLine(ok, DONT_REMEMBER_COOKIE)?.startsWith(`${DONT_REMEMBER_COOKIE}=; Max-Age=0`), ok.setCookies);
      const trust = b.jar.get(TRUST_COOKIE);
      const rows = await s.sql(`select count(*)::int as n from "verification" where "identifier" like 'trust-device-%'`);
      s.record('one trust-device row', rows[0]);
      const t = s.browser();
      t.jar.set(TRUST_COOKIE, trust);
      const direct = await s.signIn(t, { email });
      s.expect('with the trust cookie: signed in at once, the trust cookie rotated', direct.status === 200 && direct.json?.redirect === false && Boolean(direct.json?.token) && Boolean(cookieLine(direct, TRUST_COOKIE)) && t.jar.get(TRUST_COOKIE) !== trust, direct.setCookies);
      const stale = s.browser();
      stale.jar.set(TRUST_COOKIE, trust);
      const again = await s.signIn(stale, { email });
      s.expect('the rotated-away trust cookie no longer skips the challenge', again.status === 200 && again.json?.twoFactorRedirect === true, again.json);
      const forged = s.browser();
      forged.jar.set(TRUST_COOKIE, tamper(t.jar.get(TRUST_COOKIE)));
      const f = await s.signIn(forged, { email });
      s.expect('a tampered trust cookie: challenge', f.status === 200 && f.json?.twoFactorRedirect === true, f.json);
      const stillGood = s.browser();
      stillGood.jar.set(TRUST_COOKIE, t.jar.get(TRUST_COOKIE));
      const good = await s.signIn(stillGood, { email, rememberMe: false });
      s.expect('the current trust cookie with rememberMe:false: signed in', good.status === 200 && good.json?.redirect === false, good.setCookies);
    });

    scenario('OTP: send-otp without a body, verify-otp, the replayed code', async (s) => {
      const { email } = await enableTotp(s, s.browser(), 'otp');
      const b = await challenged(s, email);
      const early = await b.post('/two-factor/verify-otp', { json: { code: '123456' } });
      s.expect('verify-otp before send-otp: 400 OTP_HAS_EXPIRED', err(early, 400, 'OTP_HAS_EXPIRED'), early.json);
      const sent = await b.post('/two-factor/send-otp');
      s.expect('send-otp without a body: 200 {status:true}', sent.status === 200 && JSON.stringify(sent.json) === '{"status":true}', sent.json);
      const m = await s.mail(email, { kind: 'two-factor-otp' });
      s.expect('a 6-digit code', /^\d{6}$/.test(m.token ?? ''), m.token);
      const wrong = await b.post('/two-factor/verify-otp', { json: { code: m.token === '000000' ? '111111' : '000000' } });
      s.expect('wrong code: 401 INVALID_CODE', err(wrong, 401, 'INVALID_CODE'), wrong.json);
      const noCode = await b.post('/two-factor/verify-otp', { json: {} });
      s.expect('no code: 400 VALIDATION_ERROR', err(noCode, 400, 'VALIDATION_ERROR'), noCode.json);
      const ok = await b.post('/two-factor/verify-otp', { json: { code: m.token } });
      s.expect('right code: 200, session cookie, two_factor cleared', ok.status === 200 && Boolean(ok.json?.token) && cookieLine(ok, TWO_FACTOR_COOKIE)?.startsWith(`${TWO_FACTOR_COOKIE}=; Max-Age=0`), ok.setCookies);
      const replay = await b.post('/two-factor/verify-otp', { json: { code: m.token } });
      s.expect('the same code again: 400 OTP_HAS_EXPIRED', err(replay, 400, 'OTP_HAS_EXPIRED'), replay.json);
      const c = await challenged(s, email);
      await c.post('/two-factor/send-otp', { json: {} });
      const first = await s.mail(email, { kind: 'two-factor-otp', label: 'first code' });
      await c.post('/two-factor/send-otp', { json: {} });
      const second = await s.mail(email, { kind: 'two-factor-otp', label: 'second code' });
      const latest = await c.post('/two-factor/verify-otp', { json: { code: second.token } });
      s.expect('the latest code counts', latest.status === 200, latest.json);
      s.record('the first code differs from the second', first.token !== second.token);
    });

    scenario('OTP: five wrong codes, then the code is spent', async (s) => {
      const { email } = await enableTotp(s, s.browser(), 'otpmany');
      const b = await challenged(s, email);
      await b.post('/two-factor/send-otp');
      const m = await s.mail(email, { kind: 'two-factor-otp' });
      const wrongCode = m.token === '000000' ? '111111' : '000000';
      for (let i = 1; i <= 5; i++) {
        const r = await b.post('/two-factor/verify-otp', { json: { code: wrongCode } });
        s.expect(`wrong code ${i}: 401 INVALID_CODE`, err(r, 401, 'INVALID_CODE'), r.json);
      }
      const sixth = await b.post('/two-factor/verify-otp', { json: { code: m.token } });
      s.expect('sixth try, even the right code: 400 TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE', err(sixth, 400, 'TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE'), sixth.json);
      const seventh = await b.post('/two-factor/verify-otp', { json: { code: m.token } });
      s.expect('then the code is gone: 400 OTP_HAS_EXPIRED', err(seventh, 400, 'OTP_HAS_EXPIRED'), seventh.json);
      await b.post('/two-factor/send-otp');
      const fresh = await s.mail(email, { kind: 'two-factor-otp' });
      const ok = await b.post('/two-factor/verify-otp', { json: { code: fresh.token } });
      s.expect('a new code on the same challenge works', ok.status === 200, ok.json);
    });

    scenario('TOTP: six wrong codes end the challenge; ten failures lock the account', async (s) => {
      const { email, uri, backupCodes } = await enableTotp(s, s.browser(), 'lock');
      const wrongCode = () => totpFromURI(uri, { offset: 7 });
      const b = await challenged(s, email);
      for (let i = 1; i <= 5; i++) {
        const r = await b.post('/two-factor/verify-totp', { json: { code: wrongCode() } });
        s.expect(`wrong code ${i}: 401 INVALID_CODE`, err(r, 401, 'INVALID_CODE'), r.json);
      }
      const sixth = await b.post('/two-factor/verify-totp', { json: { code: wrongCode() } });
      s.expect('sixth: 400 TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE and the two_factor cookie cleared', err(sixth, 400, 'TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE') && cookieLine(sixth, TWO_FACTOR_COOKIE)?.startsWith(`${TWO_FACTOR_COOKIE}=; Max-Age=0`), sixth.setCookies);
      const after = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(uri) }, cookies: `${TWO_FACTOR_COOKIE}=${encodeURIComponent('x')}` });
      s.expect('no challenge any more: 401 INVALID_TWO_FACTOR_COOKIE', err(after, 401, 'INVALID_TWO_FACTOR_COOKIE'), after.json);
      s.record('account failures after one cancelled challenge', (await s.sql('select "failedVerificationCount", "lockedUntil" is not null as locked from "twoFactor"'))[0]);
      const c = await challenged(s, email);
      for (let i = 6; i <= 10; i++) {
        const r = await c.post('/two-factor/verify-totp', { json: { code: wrongCode() } });
        s.expect(`account failure ${i}: 401 INVALID_CODE`, err(r, 401, 'INVALID_CODE'), r.json);
      }
      s.record('account failures after ten', (await s.sql(`select "failedVerificationCount", "lockedUntil" > now() + interval '14 minutes' as locked_15min from "twoFactor"`))[0]);
      const locked = await c.post('/two-factor/verify-totp', { json: { code: totpFromURI(uri) } });
      s.expect('locked: 429 ACCOUNT_TEMPORARILY_LOCKED, even with the right code', err(locked, 429, 'ACCOUNT_TEMPORARILY_LOCKED'), locked.json);
      const d = await challenged(s, email);
      const backup = await d.post('/two-factor/verify-backup-code', { json: { code: backupCodes[0] } });
      s.expect('a backup code too: 429', err(backup, 429, 'ACCOUNT_TEMPORARILY_LOCKED'), backup.json);
      await d.post('/two-factor/send-otp');
      const m = await s.mail(email, { kind: 'two-factor-otp' });
      const otp = await d.post('/two-factor/verify-otp', { json: { code: m.token } });
      s.expect('an OTP too: 429', err(otp, 429, 'ACCOUNT_TEMPORARILY_LOCKED'), otp.json);
      await s.sql(`update "twoFactor" set "lockedUntil" = now() - interval '1 second'`);
      const e = await challenged(s, email);
      const unlocked = await e.post('/two-factor/verify-totp', { json: { code: totpFromURI(uri) } });
      s.expect('after the lock: the right code signs in', unlocked.status === 200, unlocked.json);
      s.record('counter reset by the success', (await s.sql('select "failedVerificationCount", "lockedUntil" from "twoFactor"'))[0]);
    });

    scenario('missing, tampered and expired two_factor cookies', async (s) => {
      const { email, uri } = await enableTotp(s, s.browser(), 'tamper');
      for (const path of ['/two-factor/verify-totp', '/two-factor/verify-otp', '/two-factor/verify-backup-code']) {
        const r = await s.browser().post(path, { json: { code: '123456' } });
        s.expect(`${path} without cookie or session: 401 INVALID_TWO_FACTOR_COOKIE`, err(r, 401, 'INVALID_TWO_FACTOR_COOKIE'), r.json);
      }
      const send = await s.browser().post('/two-factor/send-otp');
      s.expect('send-otp without cookie or session: 401 INVALID_TWO_FACTOR_COOKIE', err(send, 401, 'INVALID_TWO_FACTOR_COOKIE'), send.json);
      const b = await challenged(s, email);
      const good = b.jar.get(TWO_FACTOR_COOKIE);
      b.jar.set(TWO_FACTOR_COOKIE, tamper(good));
      const t = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(uri) } });
      s.expect('tampered value: 401 INVALID_TWO_FACTOR_COOKIE', err(t, 401, 'INVALID_TWO_FACTOR_COOKIE'), t.json);
      b.jar.set(TWO_FACTOR_COOKIE, decodeURIComponent(good).split('.')[0]);
      const unsigned = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(uri) } });
      s.expect('the identifier without signature: 401 INVALID_TWO_FACTOR_COOKIE', err(unsigned, 401, 'INVALID_TWO_FACTOR_COOKIE'), unsigned.json);
      b.jar.set(TWO_FACTOR_COOKIE, good);
      await s.sql(`update "verification" set "expiresAt" = now() - interval '1 minute' where "identifier" like '2fa-%'`);
      const expired = await b.post('/two-factor/verify-totp', { json: { code: totpFromURI(uri) } });
      s.expect('an expired challenge: 401 INVALID_TWO_FACTOR_COOKIE', err(expired, 401, 'INVALID_TWO_FACTOR_COOKIE'), expired.json);
      for (const path of ['/two-factor/send-otp', '/two-factor/verify-totp', '/sign-in/anonymous', '/delete-anonymous-user']) {
        const r = await s.browser().get(path);
        s.expect(`GET ${path}: 404`, r.status === 404, r.status);
      }
    });

    scenario('backup codes: disableSession, spent codes, regeneration', async (s) => {
      const { email, backupCodes } = await enableTotp(s, s.browser(), 'backup');
      const b = await challenged(s, email);
      const wrong = await b.post('/two-factor/verify-backup-code', { json: { code: 'wrong-code1' } });
      s.expect('wrong code: 401 INVALID_BACKUP_CODE', err(wrong, 401, 'INVALID_BACKUP_CODE'), wrong.json);
      const quiet = await b.post('/two-factor/verify-backup-code', { json: { code: backupCodes[0], disableSession: true } });
      s.expect('disableSession: 200 {user} only, no cookie at all', quiet.status === 200 && JSON.stringify(Object.keys(quiet.json ?? {})) === '["user"]' && quiet.setCookies.length === 0, quiet);
      const g = await b.get('/get-session');
      s.expect('no session', g.json === null, g.json);
      const done = await b.post('/two-factor/verify-backup-code', { json: { code: backupCodes[1] } });
      s.expect('quirk: after disableSession the challenge is used up: 401 INVALID_TWO_FACTOR_COOKIE', err(done, 401, 'INVALID_TWO_FACTOR_COOKIE'), done.json);
      const b2 = await challenged(s, email);
      const spent = await b2.post('/two-factor/verify-backup-code', { json: { code: backupCodes[0] } });
      s.expect('the spent code: 401 INVALID_BACKUP_CODE', err(spent, 401, 'INVALID_BACKUP_CODE'), spent.json);
      const ok = await b2.post('/two-factor/verify-backup-code', { json: { code: backupCodes[1] } });
      s.expect('another code: 200 {token,user}, session cookie, two_factor cleared', ok.status === 200 && Boolean(ok.json?.token) && cookieLine(ok, TWO_FACTOR_COOKIE)?.startsWith(`${TWO_FACTOR_COOKIE}=; Max-Age=0`), ok.setCookies);
      const withSession = await b2.post('/two-factor/verify-backup-code', { json: { code: backupCodes[2] } });
      s.expect('with a session: 200, the current token, no cookie', withSession.status === 200 && withSession.json?.token === ok.json?.token && withSession.setCookies.length === 0, withSession.json);
      const badPw = await b2.post('/two-factor/generate-backup-codes', { json: { password: 'wrong-password' } });
      s.expect('generate with a wrong password: 400 INVALID_PASSWORD', err(badPw, 400, 'INVALID_PASSWORD'), badPw.json);
      const gen = await b2.post('/two-factor/generate-backup-codes', { json: { password: PASSWORD } });
      s.expect('generate: 200 {status:true, backupCodes:[10]}', gen.status === 200 && gen.json?.status === true && gen.json?.backupCodes?.length === 10, gen.json);
      const old = await b2.post('/two-factor/verify-backup-code', { json: { code: backupCodes[3] } });
      s.expect('an old, unused code is void after regeneration', err(old, 401, 'INVALID_BACKUP_CODE'), old.json);
      const c = await challenged(s, email);
      const fresh = await c.post('/two-factor/verify-backup-code', { json: { code: gen.json.backupCodes[0], trustDevice: true } });
      s.expect('a new code with trustDevice: signed in with a trust cookie', fresh.status === 200 && Boolean(cookieLine(fresh, TRUST_COOKIE)), fresh.setCookies);
    });

    scenario('disable: password, session rotation, everything off afterwards', async (s) => {
      const a = s.browser();
      const { email, uri } = await enableTotp(s, a, 'off');
      const t = await challenged(s, email);
      await t.post('/two-factor/verify-totp', { json: { code: totpFromURI(uri), trustDevice: true } });
      const wrong = await t.post('/two-factor/disable', { json: { password: 'wrong-password' } });
      s.expect('wrong password: 400 INVALID_PASSWORD', err(wrong, 400, 'INVALID_PASSWORD'), wrong.json);
      const before = t.jar.get(SESSION_COOKIE);
      const off = await t.post('/two-factor/disable', { json: { password: PASSWORD } });
      s.expect('200 {status:true} with a new session cookie', off.status === 200 && JSON.stringify(off.json) === '{"status":true}' && Boolean(cookieValue(off, SESSION_COOKIE)) && t.jar.get(SESSION_COOKIE) !== before, off.setCookies);
      const g = await t.get('/get-session');
      s.expect('twoFactorEnabled false', g.json?.user?.twoFactorEnabled === false, g.json);
      s.record('twoFactor rows', (await s.sql('select count(*)::int as n from "twoFactor"'))[0]);
      const uriOff = await t.post('/two-factor/get-totp-uri', { json: { password: PASSWORD } });
      s.expect('get-totp-uri: 400 TOTP_NOT_ENABLED', err(uriOff, 400, 'TOTP_NOT_ENABLED'), uriOff.json);
      const gen = await t.post('/two-factor/generate-backup-codes', { json: { password: PASSWORD } });
      s.expect('generate-backup-codes: 400 TWO_FACTOR_NOT_ENABLED', err(gen, 400, 'TWO_FACTOR_NOT_ENABLED'), gen.json);
      const v = await t.post('/two-factor/verify-totp', { json: { code: totpFromURI(uri) } });
      s.expect('verify-totp: 400 TOTP_NOT_ENABLED', err(v, 400, 'TOTP_NOT_ENABLED'), v.json);
      const inn = await s.signIn(s.browser(), { email });
      s.expect('an ordinary sign-in again', inn.status === 200 && inn.json?.redirect === false, inn.json);
      const again = await t.post('/two-factor/disable', { json: { password: PASSWORD } });
      s.expect('disable when off: 200 {status:true} all the same', again.status === 200 && again.json?.status === true, again.json);
      for (const path of ['/two-factor/enable', '/two-factor/disable', '/two-factor/get-totp-uri', '/two-factor/generate-backup-codes']) {
        const r = await s.browser().post(path, { json: { password: PASSWORD } });
        s.expect(`${path} signed out: 401 UNAUTHORIZED`, err(r, 401, 'UNAUTHORIZED'), r.json);
      }
    });

    scenario('enable with method "otp": enabled at once, no TOTP, no backup codes', async (s) => {
      const b = s.browser();
      const email = s.email('otponly');
      const up = await s.signUp(b, { email });
      const en = await b.post('/two-factor/enable', { json: { password: PASSWORD, method: 'otp' } });
      s.expect('200 {method:"otp"} and a new session cookie', en.status === 200 && JSON.stringify(en.json) === '{"method":"otp"}' && Boolean(cookieValue(en, SESSION_COOKIE)) && b.jar.get(SESSION_COOKIE) !== encodeURIComponent(up.headers['set-auth-token']?.[0] ?? ''), en.setCookies);
      const g = await b.get('/get-session');
      s.expect('enabled', g.json?.user?.twoFactorEnabled === true, g.json);
      const c = await challenged(s, email);
      const totp = await c.post('/two-factor/verify-totp', { json: { code: '123456' } });
      s.expect('verify-totp: 400 TOTP_NOT_ENABLED', err(totp, 400, 'TOTP_NOT_ENABLED'), totp.json);
      const backup = await c.post('/two-factor/verify-backup-code', { json: { code: 'abcde-fghij' } });
      s.expect('verify-backup-code: 400 BACKUP_CODES_NOT_ENABLED', err(backup, 400, 'BACKUP_CODES_NOT_ENABLED'), backup.json);
      await c.post('/two-factor/send-otp');
      const m = await s.mail(email, { kind: 'two-factor-otp' });
      const ok = await c.post('/two-factor/verify-otp', { json: { code: m.token } });
      s.expect('the OTP signs in', ok.status === 200 && ok.json?.user?.twoFactorEnabled === true, ok.json);
    });

    scenario('the real client: twoFactorClient calls onTwoFactorRedirect, then verifyTotp, OTP and backup codes', async (s) => {
      const redirects = [];
      const client = (browser) =>
        createAuthClient({
          baseURL: s.server.url,
          fetchOptions: { customFetchImpl: browser.fetchImpl() },
          plugins: [usernameClient(), anonymousClient(), twoFactorClient({ onTwoFactorRedirect: (ctx) => { redirects.push(ctx); } })],
        });
      const owner = client(s.browser());
      const username = `cli_${s.tag.slice(0, 6)}`;
      await s.clientCall('signUp.email with a username', owner.signUp.email({ name: 'Client 2FA', email: s.email('cli'), password: PASSWORD, username }));
      const en = await owner.twoFactor.enable({ password: PASSWORD });
      s.record('twoFactor.enable result', { error: en.error, keys: Object.keys(en.data ?? {}).sort(), codes: en.data?.backupCodes?.length });
      await s.clientCall('twoFactor.verifyTotp (enabling)', owner.twoFactor.verifyTotp({ code: totpFromURI(en.data.totpURI) }));
      await s.clientCall('twoFactor.getTotpUri wrong password', owner.twoFactor.getTotpUri({ password: 'wrong-password' }));
      const session = await owner.getSession();
      s.expect('client session: twoFactorEnabled', session.data?.user?.twoFactorEnabled === true, session.data);

      const device = client(s.browser());
      const r = await s.clientCall('signIn.username of a 2FA user', device.signIn.username({ username, password: PASSWORD }));
      s.expect('onTwoFactorRedirect fired once with the methods', redirects.length === 1 && JSON.stringify(redirects[0]) === '{"twoFactorMethods":["totp","otp"]}', redirects);
      s.expect('data.twoFactorRedirect', r.data?.twoFactorRedirect === true, r.data);
      await s.clientCall('twoFactor.verifyTotp wrong', device.twoFactor.verifyTotp({ code: totpFromURI(en.data.totpURI, { offset: 9 }) }));
      await s.clientCall('twoFactor.verifyTotp', device.twoFactor.verifyTotp({ code: totpFromURI(en.data.totpURI), trustDevice: true }));
      await s.clientCall('getSession after the challenge', device.getSession());

      const other = client(s.browser());
      await s.clientCall('signIn.email of a 2FA user', other.signIn.email({ email: s.email('cli'), password: PASSWORD }));
      s.expect('onTwoFactorRedirect fired again', redirects.length === 2, redirects);
      await s.clientCall('twoFactor.sendOtp', other.twoFactor.sendOtp());
      const m = await s.mail(s.email('cli'), { kind: 'two-factor-otp' });
      await s.clientCall('twoFactor.verifyOtp', other.twoFactor.verifyOtp({ code: m.token }));

      const third = client(s.browser());
      await third.signIn.email({ email: s.email('cli'), password: PASSWORD });
      s.expect('onTwoFactorRedirect fired a third time', redirects.length === 3, redirects);
      await s.clientCall('twoFactor.verifyBackupCode', third.twoFactor.verifyBackupCode({ code: en.data.backupCodes[0] }));
      const gen = await owner.twoFactor.generateBackupCodes({ password: PASSWORD });
      s.record('twoFactor.generateBackupCodes result', { error: gen.error, status: gen.data?.status, codes: gen.data?.backupCodes?.length });
      await s.clientCall('twoFactor.disable', owner.twoFactor.disable({ password: PASSWORD }));
      await s.clientCall('signIn.email after disable', client(s.browser()).signIn.email({ email: s.email('cli'), password: PASSWORD }));
      s.expect('no redirect after disable', redirects.length === 3, redirects);
    });
  },
  // Better-Auth's appName defaults to "Better Auth", the Go server's APP_NAME to its web app's name: both get one.
  { env: PLUGINS, options: { appName: 'Compat App' } },
);
