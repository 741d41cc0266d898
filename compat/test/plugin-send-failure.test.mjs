// Codes and links that cannot be delivered, on both servers: the reference's send callbacks throw
// (REF_MAIL_SEND_FAIL=true, lib/ref-plugins.mjs), and the Go server mails through an SMTP server
// that refuses every recipient (550 5.7.1, started below). Compared: what each endpoint answers
// (magic-link: 500 with no body, as Better-Auth's router answers a thrown callback; email-otp and
// two-factor's send-otp: their usual success, as Better-Auth logs the failure and goes on), the
// same answer for known and unknown addresses, and that the failure is logged. Deliberate
// difference: the Go server withdraws the magic link, e-mail code or send-otp text code nobody
// received (no answer differs for it), Better-Auth leaves its row; two-factor's code, and the
// phone-number reset and unverified sign-in codes, stay on both, as their absence would change
// what a guessed code gets (and, for the reset, tell which numbers have accounts).
import http from 'node:http';
import net from 'node:net';
import { compatSuite } from '../lib/harness.mjs';
import { SELF } from '../lib/servers.mjs';

const PASSWORD = 'password1234';

/** A minimal SMTP server that greets, then refuses every RCPT as a server that will not relay. */
function refusingSMTP() {
  return new Promise((resolve) => {
    const srv = net.createServer((sock) => {
      sock.on('error', () => {});
      sock.write('220 refuse.test ESMTP\r\n');
      let buf = '';
      sock.on('data', (d) => {
        buf += d;
        for (let i; (i = buf.indexOf('\r\n')) >= 0; ) {
          const cmd = buf.slice(0, 4).toUpperCase();
          buf = buf.slice(i + 2);
          if (cmd === 'EHLO' || cmd === 'HELO') sock.write('250 refuse.test\r\n');
          else if (cmd === 'MAIL' || cmd === 'RSET' || cmd === 'NOOP') sock.write('250 2.0.0 ok\r\n');
          else if (cmd === 'RCPT') sock.write('550 5.7.1 relaying denied\r\n');
          else if (cmd === 'QUIT') {
            sock.end('221 2.0.0 bye\r\n');
          } else sock.write('502 5.5.1 not implemented\r\n');
        }
      });
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

/** An SMS webhook receiver that is down: every text gets 503. */
function failingWebhook() {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(503).end('down for maintenance'));
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

const smtp = await refusingSMTP();
smtp.unref();
const webhook = await failingWebhook();
webhook.unref();

const ENV = {
  BETTER_AUTH_PLUGINS: 'magic-link,email-otp,two-factor,phone-number',
  REF_MAIL_SEND_FAIL: 'true',
  SMTP_URL: `smtp+insecure://127.0.0.1:${smtp.address().port}`,
  REF_PHONE_SEND_FAIL: 'true',
  SMS_WEBHOOK_URL: `http://127.0.0.1:${webhook.address().port}/sms`,
  SMS_WEBHOOK_SECRET: 'compat-webhook-secret',
  PHONE_NUMBER_REQUIRE_VERIFICATION: 'true',
};

/** Rows of the verification table under identifier. */
async function rows(s, identifier) {
  return (await s.sql('select count(*)::int as n from "verification" where "identifier" = $1', [identifier]))[0].n;
}

/** Whether this side is Better-Auth (the reference, or the second reference under COMPAT_SELF=1). */
const betterAuth = (s) => s.isRef || SELF;

/** Waits up to 3 s for the Go server's background delivery to fail and its code to be withdrawn. */
async function settle(s, identifiers) {
  if (betterAuth(s)) return;
  for (let deadline = Date.now() + 3000; Date.now() < deadline; ) {
    let left = 0;
    for (const id of identifiers) left += await rows(s, id);
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The log lines that report a failed send, each without the secret it carried. */
function failureLogged(s, { kind, secretPattern, sms = false }) {
  const lines = s.newLog().split('\n');
  if (betterAuth(s)) return lines.some((l) => l.includes(sms ? 'sms provider refused' : 'smtp server refused'));
  const failed = lines.filter((l) => l.includes(sms ? 'text message not sent' : 'mail delivery failed'));
  return failed.some((l) => l.includes(kind) && l.includes(sms ? '503' : '550')) && !failed.some((l) => secretPattern.test(l));
}

compatSuite(
  'plugin send failure',
  (scenario) => {
    scenario('magic-link: 500 with no body for a known and an unknown address; the link is withdrawn', async (s) => {
      const known = s.email('known');
      await s.signUp(s.browser(), { email: known });
      for (const email of [known, s.email('unknown')]) {
        const r = await s.browser().post('/sign-in/magic-link', { json: { email, callbackURL: '/dash' } });
        s.expect('500, no body, no cookie', r.status === 500 && (r.text ?? '') === '' && r.setCookies.length === 0, { status: r.status, text: r.text });
      }
      const left = (await s.sql(`select count(*)::int as n from "verification" where "identifier" like 'magic-link:%'`))[0].n;
      s.deliberate('the undelivered links: Better-Auth keeps their rows, the Go server withdraws them', left === 2, left === 0, { left });
      s.expect('the failure is logged, without the link', failureLogged(s, { kind: 'kind=magic-link', secretPattern: /token|magic-link\/verify/ }), s.newLog().slice(-2000));
      await s.noMail(known);
    });

    scenario('email-otp: success all the same, for known and unknown addresses; the code is withdrawn', async (s) => {
      const known = s.email('known');
      await s.signUp(s.browser(), { email: known });
      const fresh = s.email('fresh');
      const sends = [
        [fresh, 'sign-in'],
        [known, 'sign-in'],
        [known, 'forget-password'],
        [s.email('nobody'), 'forget-password'],
        [known, 'email-verification'],
      ];
      for (const [email, type] of sends) {
        const r = await s.browser().post('/email-otp/send-verification-otp', { json: { email, type } });
        s.expect(`${type}: 200 {success:true}`, r.status === 200 && JSON.stringify(r.json) === '{"success":true}', r.json);
      }
      const reset = await s.browser().post('/forget-password/email-otp', { json: { email: known } });
      s.expect('forget-password/email-otp: 200 {success:true}', reset.status === 200 && JSON.stringify(reset.json) === '{"success":true}', reset.json);
      const sent = [`sign-in-otp-${fresh}`, `sign-in-otp-${known}`, `forget-password-otp-${known}`, `email-verification-otp-${known}`];
      await settle(s, sent);
      let left = 0;
      for (const id of sent) left += await rows(s, id);
      s.deliberate('the undelivered codes: Better-Auth keeps their rows, the Go server withdraws them', left >= 4, left === 0, { left });
      s.expect('the failure is logged, without the code', failureLogged(s, { kind: 'kind=email-otp-', secretPattern: /(^|[^0-9])[0-9]{6}([^0-9]|$)/ }), s.newLog().slice(-2000));
      await s.noMail(known, { waitMs: 100 });
    });

    scenario('two-factor send-otp: {status:true} all the same; the code stays; the challenge goes on', async (s) => {
      const b = s.browser();
      const email = s.email('tf');
      await s.signUp(b, { email });
      const en = await b.post('/two-factor/enable', { json: { password: PASSWORD, method: 'otp' } });
      s.expect('enable otp: 200', en.status === 200, en.json);
      const c = s.browser();
      const r = await s.signIn(c, { email });
      s.expect('challenged', r.json?.twoFactorRedirect === true, r.json);
      const sent = await c.post('/two-factor/send-otp');
      s.expect('send-otp: 200 {status:true}', sent.status === 200 && JSON.stringify(sent.json) === '{"status":true}', sent.json);
      const row = async () => (await s.sql(`select "value" from "verification" where "identifier" like '2fa-otp-%'`)).map((x) => x.value);
      if (!betterAuth(s)) {
        for (let deadline = Date.now() + 3000; Date.now() < deadline && !failureLogged(s, { kind: 'kind=two-factor-otp', secretPattern: /(^|[^0-9])[0-9]{6}([^0-9]|$)/ }); ) {
          await new Promise((res) => setTimeout(res, 50));
        }
      }
      s.expect('the failure is logged, without the code', failureLogged(s, { kind: 'kind=two-factor-otp', secretPattern: /(^|[^0-9])[0-9]{6}([^0-9]|$)/ }), s.newLog().slice(-2000));
      const values = await row();
      s.record('the undelivered code stays (one row, no attempt yet)', values.map((v) => v.endsWith(':0')));
      const code = (values[0] ?? '000000:0').split(':')[0];
      const v = await c.post('/two-factor/verify-otp', { json: { code: code === '000000' ? '111111' : '000000' } });
      s.expect('a code nobody received: 401 INVALID_CODE', v.status === 401 && v.json?.code === 'INVALID_CODE', v.json);
      const right = await c.post('/two-factor/verify-otp', { json: { code } });
      s.expect('the stored code still finishes the sign-in', right.status === 200 && Boolean(right.json?.token), right.json);
    });

    scenario('phone-number: send-otp 500 with no body and no code kept; reset and unverified sign-in answer as usual', async (s) => {
      const number = `+1555${parseInt(s.tag, 16) % 10000000}`.padEnd(12, '0');
      const b = s.browser();
      const r = await b.post('/phone-number/send-otp', { json: { phoneNumber: number } });
      s.expect('send-otp: 500, no body', r.status === 500 && (r.text ?? '') === '', { status: r.status, text: r.text });
      const otpRows = await rows(s, `phone-number-otp-${number}`);
      s.deliberate('the undelivered send-otp code: Better-Auth keeps its row, the Go server never stores it', otpRows === 1, otpRows === 0, { otpRows });
      const reset = await b.post('/phone-number/request-password-reset', { json: { phoneNumber: number } });
      s.expect('request-password-reset (nobody has the number): 200 {status:true}', reset.status === 200 && JSON.stringify(reset.json) === '{"status":true}', reset.json);
      // A user with the number, unverified, through the database (a number is only ever set by a code).
      const email = s.email('phone');
      const up = await s.signUp(s.browser(), { email });
      await s.sql('update "user" set "phoneNumber" = $1, "phoneNumberVerified" = false where "id" = $2', [number, up.json?.user?.id]);
      const reset2 = await b.post('/phone-number/request-password-reset', { json: { phoneNumber: number } });
      s.expect('request-password-reset (an unverified user): 200 {status:true}', reset2.status === 200 && JSON.stringify(reset2.json) === '{"status":true}', reset2.json);
      await s.sql('update "user" set "phoneNumberVerified" = true where "id" = $1', [up.json?.user?.id]);
      const reset3 = await b.post('/phone-number/request-password-reset', { json: { phoneNumber: number } });
      s.expect('request-password-reset (a verified user, the text fails): 200 {status:true}', reset3.status === 200 && JSON.stringify(reset3.json) === '{"status":true}', reset3.json);
      s.record('a reset code is stored for each request', await rows(s, `phone-number-reset-${number}`));
      const guess = await b.post('/phone-number/reset-password', { json: { phoneNumber: number, otp: '000000', newPassword: 'password5678' } });
      s.record('a guessed reset code', { status: guess.status, code: guess.json?.code });
      await s.sql('update "user" set "phoneNumberVerified" = false where "id" = $1', [up.json?.user?.id]);
      const signIn = await s.browser().post('/sign-in/phone-number', { json: { phoneNumber: number, password: PASSWORD } });
      s.expect('unverified sign-in, the text fails: 401 PHONE_NUMBER_NOT_VERIFIED', signIn.status === 401 && signIn.json?.code === 'PHONE_NUMBER_NOT_VERIFIED', signIn.json);
      const signInRows = await rows(s, `phone-number-otp-${number}`);
      s.deliberate('the sign-in code is stored (beside Better-Auth\'s leftover send-otp row)', signInRows === 2, signInRows === 1, { signInRows });
      s.expect('the failures are logged, without the code', failureLogged(s, { kind: betterAuth(s) ? '' : 'kind=', secretPattern: /(^|[^0-9+])[0-9]{6}([^0-9]|$)/, sms: true }), s.newLog().slice(-2000));
    });
  },
  { env: ENV },
);
