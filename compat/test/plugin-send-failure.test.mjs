// Codes and links that cannot be delivered, on both servers: the reference's send callbacks throw
// (REF_MAIL_SEND_FAIL=true, lib/ref-plugins.mjs), and the Go server mails through an SMTP server
// that refuses every recipient (550 5.7.1, started below). Compared: what each endpoint answers
// (magic-link: 500 with no body, as Better-Auth's router answers a thrown callback; email-otp and
// two-factor's send-otp: their usual success, as Better-Auth logs the failure and goes on), the
// same answer for known and unknown addresses, and that the failure is logged. Deliberate
// difference: the Go server withdraws the magic link or e-mail code nobody received (no answer
// differs for it), Better-Auth leaves its row; two-factor's code stays on both, as its absence
// would change verify-otp's answer.
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

const smtp = await refusingSMTP();
smtp.unref();

const ENV = {
  BETTER_AUTH_PLUGINS: 'magic-link,email-otp,two-factor',
  REF_MAIL_SEND_FAIL: 'true',
  SMTP_URL: `smtp+insecure://127.0.0.1:${smtp.address().port}`,
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
function failureLogged(s, { kind, secretPattern }) {
  const lines = s.newLog().split('\n');
  if (betterAuth(s)) return lines.some((l) => l.includes('smtp server refused'));
  const failed = lines.filter((l) => l.includes('mail delivery failed'));
  return failed.some((l) => l.includes(kind) && l.includes('550')) && !failed.some((l) => secretPattern.test(l));
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
  },
  { env: ENV },
);
