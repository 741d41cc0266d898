// Email verification: sign-up/sign-in with requireEmailVerification, the verify-email
// link (with and without callbackURL, bad/expired tokens, untrusted callbacks),
// send-verification-email signed out and signed in, autoSignInAfterVerification.
//
// Mail: lib/mail.mjs (reference: recorded callbacks; Go: $DATA_DIR/outbox/*.eml).
import { compatSuite, SESSION_COOKIE } from '../lib/harness.mjs';

const PASSWORD = 'password1234';
const OTHER_SECRET = 'another-secret-that-is-long-enough-0123456789';

/** A mail link without its callbackURL parameter (path + query for browser.get). */
function withoutCallback(path) {
  const u = new URL(path, 'http://x.invalid');
  u.searchParams.delete('callbackURL');
  return u.pathname + u.search;
}

/** A mail link with callbackURL replaced. */
function withCallback(path, callbackURL) {
  const u = new URL(path, 'http://x.invalid');
  u.searchParams.set('callbackURL', callbackURL);
  return u.pathname + u.search;
}

async function emailVerified(s, email) {
  return (await s.sql('select "emailVerified" as v from "user" where email = $1', [email]))[0]?.v ?? null;
}

compatSuite('email verification required (requireEmailVerification, sendOnSignIn)', (scenario) => {
  scenario('sign-up: token null, no cookie, a verification mail; duplicate sign-up sends none', async (s) => {
    const b = s.browser();
    const email = s.email('req');
    const r = await s.signUp(b, { email });
    s.expect('200 token null', r.status === 200 && r.json?.token === null, r.text);
    s.expect('no Set-Cookie', r.setCookies.length === 0, r.setCookies);
    const m = await s.mail(email, { kind: 'verify-email' });
    s.expect('link is /api/auth/verify-email?token=…&callbackURL=%2F', /^http:\/\/localhost:8000\/api\/auth\/verify-email\?token=[^&]+&callbackURL=%2F$/.test(m.url), m.url);
    await b.get('/get-session');
    // with a callbackURL in the sign-up body, the mail link carries it
    await s.signUp(s.browser(), { email: s.email('req2'), callbackURL: 'http://app.example.test/welcome?step=2' });
    await s.mail(s.email('req2'), { kind: 'verify-email' });
    // a duplicate sign-up answers like a success (no enumeration) and mails nothing
    const dup = await s.signUp(s.browser(), { email: email.toUpperCase() });
    s.expect('duplicate: 200 token null', dup.status === 200 && dup.json?.token === null, dup.text);
    await s.noMail(email);
    s.record('users with that email', (await s.sql('select count(*)::int as n from "user" where email = $1', [email]))[0]);
  });

  scenario('sign-in unverified: 403 EMAIL_NOT_VERIFIED plus a new mail (sendOnSignIn)', async (s) => {
    const email = s.email('unv');
    await s.signUp(s.browser(), { email });
    await s.mail(email, { kind: 'verify-email', label: 'sign-up mail' });
    const b = s.browser();
    const r = await s.signIn(b, { email });
    s.expect('403 EMAIL_NOT_VERIFIED', r.status === 403 && r.json?.code === 'EMAIL_NOT_VERIFIED', r.text);
    await s.mail(email, { kind: 'verify-email', label: 'sign-in mail' });
    // the sign-in callbackURL goes into the link
    await s.signIn(b, { email, callbackURL: '/after-verify' });
    await s.mail(email, { kind: 'verify-email', label: 'sign-in mail with callbackURL' });
    // a wrong password is refused before the verification check: no mail
    await s.signIn(b, { email, password: 'wrong-password' });
    await s.noMail(email);
    await b.get('/get-session');
  });

  scenario('the verify link: with callbackURL 302, without it JSON; then sign-in works', async (s) => {
    const one = s.email('link1');
    await s.signUp(s.browser(), { email: one });
    const m1 = await s.mail(one, { kind: 'verify-email' });
    const b = s.browser();
    // without callbackURL: JSON {status:true, user:null}, no cookie (no autoSignInAfterVerification)
    const j = await b.get(withoutCallback(m1.path), { label: 'GET verify-email (mail link without callbackURL)' });
    s.expect('200 {status:true,user:null}', j.status === 200 && j.json?.status === true && j.json?.user === null, j.text);
    s.record('emailVerified after the link', await emailVerified(s, one));
    // again, already verified: same answer
    await b.get(withoutCallback(m1.path), { label: 'GET verify-email again (already verified)' });
    // the link as mailed (callbackURL=/): 302 to /
    const again = await b.get(m1.path, { label: 'GET verify-email (mail link as is, already verified)' });
    s.expect('302 Location /', again.status === 302 && again.header('location') === '/', again.header('location'));
    const si = await s.signIn(s.browser(), { email: one });
    s.expect('sign-in after verification: 200', si.status === 200, si.text);

    const two = s.email('link2');
    await s.signUp(s.browser(), { email: two, callbackURL: 'http://app.example.test/verified' });
    const m2 = await s.mail(two, { kind: 'verify-email' });
    const r = await b.get(m2.path, { label: 'GET verify-email (mail link as is)' });
    s.expect('302 to the callbackURL, no cookie', r.status === 302 && r.header('location') === 'http://app.example.test/verified' && r.setCookies.length === 0, r);
    s.record('emailVerified after the link', await emailVerified(s, two));
    await s.signIn(s.browser(), { email: two });
  });

  scenario('bad, expired, foreign and mismatching tokens: JSON 401 or ?error= redirect', async (s) => {
    const email = s.email('badtok');
    const up = await s.signUp(s.browser(), { email });
    await s.mail(email, { kind: 'verify-email' });
    const userId = up.json?.user?.id;
    const b = s.browser();
    const v = (query, label) => b.get('/verify-email', { query, label });
    await v({ token: 'garbage' }, 'garbage token');
    await v({ token: 'garbage', callbackURL: '/verified' }, 'garbage token, relative callbackURL');
    await v({ token: 'garbage', callbackURL: 'http://app.example.test/v?x=1' }, 'garbage token, callbackURL with a query');
    const expired = s.verificationJWT({ email, userId }, { iat: Math.floor(Date.now() / 1000) - 7200, expiresIn: 3600 });
    await v({ token: expired }, 'expired token');
    await v({ token: expired, callbackURL: '/verified' }, 'expired token, callbackURL');
    const foreign = (await import('../lib/crypto.mjs')).signJWT({ email, userId }, OTHER_SECRET);
    await v({ token: foreign }, 'token signed with another secret');
    await v({ token: s.verificationJWT({ email: s.email('nobody'), userId }) }, 'valid token for an unknown email');
    await v({ token: s.verificationJWT({ email: s.email('nobody') }), callbackURL: '/verified' }, 'valid token for an unknown email, callbackURL');
    await v({ token: s.verificationJWT({ email, userId: 'someone-else' }) }, 'valid token, userId of someone else');
    await v({ token: s.verificationJWT({ email, updateTo: s.email('new') }) }, 'change-email token without userId');
    await v({}, 'no token');
    await v({ token: '' }, 'empty token');
    s.record('still unverified', await emailVerified(s, email));
    // a valid token minted by the test (same secret) without userId still verifies
    await v({ token: s.verificationJWT({ email }) }, 'valid token without userId');
    s.record('verified now', await emailVerified(s, email));
  });

  scenario('verify-email callbackURL must be trusted (403), checked before the token', async (s) => {
    const email = s.email('cburl');
    await s.signUp(s.browser(), { email });
    const m = await s.mail(email, { kind: 'verify-email' });
    const b = s.browser();
    await b.get(withCallback(m.path, 'http://evil.example.com/x'), { label: 'untrusted absolute callbackURL' });
    await b.get(withCallback(m.path, '//evil.example.com/x'), { label: 'protocol-relative callbackURL' });
    await b.get('/verify-email', { query: { token: 'garbage', callbackURL: 'http://evil.example.com/x' }, label: 'untrusted callbackURL with a garbage token' });
    s.record('not verified by the refused requests', await emailVerified(s, email));
    await b.get(withCallback(m.path, 'http://app.example.test/ok'), { label: 'trusted absolute callbackURL' });
    s.record('verified', await emailVerified(s, email));
  });

  scenario('send-verification-email signed out: same answer for every address, mail only to unverified users', async (s) => {
    const email = s.email('resend');
    await s.signUp(s.browser(), { email });
    await s.mail(email, { kind: 'verify-email', label: 'sign-up mail' });
    const b = s.browser();
    const known = await b.post('/send-verification-email', { json: { email, callbackURL: '/welcome' } });
    s.expect('200 {status:true}', known.status === 200 && known.json?.status === true, known.text);
    await s.mail(email, { kind: 'verify-email', label: 'resent mail (callbackURL /welcome)' });
    await b.post('/send-verification-email', { json: { email: s.email('nobody') } });
    await b.post('/send-verification-email', { json: { email: 'not-an-email' } });
    await b.post('/send-verification-email', { json: {} });
    await b.post('/send-verification-email', { json: { email, callbackURL: 'http://evil.example.com/' } });
    await s.noMail(s.email('nobody'));
    // a verified user gets nothing
    await s.sql('update "user" set "emailVerified" = true where email = $1', [email]);
    await b.post('/send-verification-email', { json: { email: email.toUpperCase() } });
    await s.noMail(email);
  });
}, { options: { emailAndPassword: { requireEmailVerification: true }, emailVerification: { sendOnSignIn: true } } });

compatSuite('email verification optional (autoSignInAfterVerification)', (scenario) => {
  scenario('send-verification-email signed in: EMAIL_MISMATCH, mail, verify, EMAIL_ALREADY_VERIFIED', async (s) => {
    const b = s.browser();
    const email = s.email('signedin');
    const up = await s.signUp(b, { email });
    s.expect('sign-up signs in', typeof up.json?.token === 'string', up.text);
    // sendOnSignUp defaults to requireEmailVerification (false): no sign-up mail
    await s.noMail(email);
    const mm = await b.post('/send-verification-email', { json: { email: s.email('someone-else') } });
    s.expect('400 EMAIL_MISMATCH', mm.status === 400 && mm.json?.code === 'EMAIL_MISMATCH', mm.text);
    const r = await b.post('/send-verification-email', { json: { email: email.toUpperCase(), callbackURL: 'http://app.example.test/done' } });
    s.expect('200 {status:true}', r.json?.status === true, r.text);
    const m = await s.mail(email, { kind: 'verify-email' });
    // followed in the same browser: the current session's cookie is re-issued
    const v = await b.get(m.path, { label: 'GET verify-email signed in as that user' });
    s.expect('302 to the callbackURL', v.status === 302 && v.header('location') === 'http://app.example.test/done', v);
    s.record('emailVerified in the database', await emailVerified(s, email));
    const g = await b.get('/get-session');
    s.expect('same session, emailVerified true', g.json?.session?.token === up.json?.token && g.json?.user?.emailVerified === true, g.text);
    const av = await b.post('/send-verification-email', { json: { email } });
    s.expect('400 EMAIL_ALREADY_VERIFIED', av.status === 400 && av.json?.code === 'EMAIL_ALREADY_VERIFIED', av.text);
    s.record('sessions of the user', (await s.sql('select count(*)::int as n from session s join "user" u on u.id = s."userId" where u.email = $1', [email]))[0]);
  });

  scenario('autoSignInAfterVerification: the link signs a signed-out browser in (302 and JSON)', async (s) => {
    const one = s.email('auto1');
    await s.signUp(s.browser(), { email: one });
    await s.browser().post('/send-verification-email', { json: { email: one } });
    const m1 = await s.mail(one, { kind: 'verify-email' });
    const b1 = s.browser();
    const r1 = await b1.get(m1.path, { label: 'GET verify-email signed out (callbackURL /)' });
    s.expect('302 with a session cookie', r1.status === 302 && r1.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`)), r1);
    const g1 = await b1.get('/get-session');
    s.expect('signed in as the verified user', g1.json?.user?.email === one && g1.json?.user?.emailVerified === true, g1.text);

    const two = s.email('auto2');
    await s.signUp(s.browser(), { email: two });
    await s.browser().post('/send-verification-email', { json: { email: two } });
    const m2 = await s.mail(two, { kind: 'verify-email' });
    const b2 = s.browser();
    const r2 = await b2.get(withoutCallback(m2.path), { label: 'GET verify-email signed out, no callbackURL' });
    s.expect('200 JSON with a session cookie', r2.status === 200 && r2.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`)), r2);
    await b2.get('/get-session');
    // the same link again: already verified, nothing new
    await s.browser().get(withoutCallback(m2.path), { label: 'GET verify-email again, already verified' });
  });

  scenario('autoSignInAfterVerification while signed in as another user: a session for the verified user', async (s) => {
    const target = s.email('target');
    await s.signUp(s.browser(), { email: target });
    await s.browser().post('/send-verification-email', { json: { email: target } });
    const m = await s.mail(target, { kind: 'verify-email' });
    const other = s.browser();
    await s.signUp(other, { email: s.email('other') });
    const r = await other.get(withoutCallback(m.path), { label: 'GET verify-email signed in as someone else' });
    s.expect('200 with a new session cookie', r.status === 200 && r.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`)), r);
    const g = await other.get('/get-session');
    s.expect('now signed in as the verified user', g.json?.user?.email === target, g.text);
  });

  scenario('change-email and delete-user are off by default', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('off') });
    const ce = await b.post('/change-email', { json: { newEmail: s.email('off-new') } });
    s.expect('400 CHANGE_EMAIL_DISABLED', ce.status === 400 && ce.json?.code === 'CHANGE_EMAIL_DISABLED', ce.text);
    const du = await b.post('/delete-user', { json: { password: PASSWORD } });
    s.expect('delete-user 404', du.status === 404, du.text);
    await b.post('/delete-user', { json: {} });
    await b.get('/delete-user/callback', { query: { token: 'x' } });
    await b.get('/delete-user/callback', { query: { token: 'x', callbackURL: '/bye' } });
    await s.browser().get('/delete-user/callback', { query: { token: 'x' } });
    await b.get('/get-session');
    await s.noMail(s.email('off-new'), { waitMs: 300 });
  });
}, { options: { emailVerification: { autoSignInAfterVerification: true } } });
