// The username plugin (BETTER_AUTH_PLUGINS=username on both servers): sign-up with username and
// displayUsername, POST /sign-in/username right and wrong, POST /is-username-available, the
// duplicate and malformed-name refusals on every path, update-user, and the length options.
// Every exchange is compared between the servers; the expectations pin what Better-Auth answers.
import { compatSuite } from '../lib/harness.mjs';

/** A username unique to the scenario (the same on both sides), built on base. */
const uname = (s, base) => `${base}_${s.tag.slice(0, 6)}`;

/** The keys of a body's user object, in the order the server wrote them. */
const userKeys = (res) => Object.keys(res?.json?.user ?? {}).join(',');

const signInUsername = (b, body) => b.post('/sign-in/username', { json: { password: 'password1234', ...body } });

compatSuite(
  'plugin username',
  (scenario) => {
    scenario('sign-up with a username, then sign in by it in any case', async (s) => {
      const name = uname(s, 'Alice');
      const up = await s.signUp(s.browser(), { email: s.email('alice'), username: name });
      s.expect('username stored lower-cased, displayUsername as typed', up.status === 200 && up.json?.user?.username === name.toLowerCase() && up.json?.user?.displayUsername === name, up.json);
      s.record('sign-up user keys', userKeys(up));
      const b = s.browser();
      const inn = await signInUsername(b, { username: name.toUpperCase() });
      s.expect('sign-in by username, case-insensitive', inn.status === 200 && inn.json?.redirect === false && inn.json?.user?.email === s.email('alice'), inn.json);
      s.record('sign-in user keys', userKeys(inn));
      const g = await b.get('/get-session');
      s.expect('the session is the user', g.json?.user?.username === name.toLowerCase(), g.json);
      const cb = await signInUsername(s.browser(), { username: name, callbackURL: '/dashboard', rememberMe: false });
      s.expect('callbackURL: redirect, url and Location', cb.status === 200 && cb.json?.redirect === true && cb.json?.url === '/dashboard', cb.json);
    });

    scenario('wrong sign-ins', async (s) => {
      const name = uname(s, 'bob');
      await s.signUp(s.browser(), { email: s.email('bob'), username: name });
      const wrong = await signInUsername(s.browser(), { username: name, password: 'wrong-password' });
      s.expect('wrong password: 401 INVALID_USERNAME_OR_PASSWORD', wrong.status === 401 && wrong.json?.code === 'INVALID_USERNAME_OR_PASSWORD', wrong.json);
      const unknown = await signInUsername(s.browser(), { username: uname(s, 'nobody') });
      s.expect('unknown user: the same 401', unknown.status === 401 && unknown.json?.code === 'INVALID_USERNAME_OR_PASSWORD', unknown.json);
      const empty = await signInUsername(s.browser(), { username: '' });
      s.expect('empty username: 401', empty.status === 401, empty.json);
      const short = await signInUsername(s.browser(), { username: 'a!' });
      s.expect('too short (before the pattern): 422', short.status === 422 && short.json?.code === 'USERNAME_TOO_SHORT', short.json);
      const long = await signInUsername(s.browser(), { username: 'x'.repeat(31) });
      s.expect('too long: 422', long.status === 422 && long.json?.code === 'USERNAME_TOO_LONG', long.json);
      const invalid = await signInUsername(s.browser(), { username: 'not valid' });
      s.expect('invalid: 422', invalid.status === 422 && invalid.json?.code === 'INVALID_USERNAME', invalid.json);
      const noPassword = await s.browser().post('/sign-in/username', { json: { username: name } });
      s.expect('password missing: 400 VALIDATION_ERROR', noPassword.status === 400 && noPassword.json?.code === 'VALIDATION_ERROR', noPassword.json);
    });

    scenario('is-username-available', async (s) => {
      const name = uname(s, 'Carol');
      await s.signUp(s.browser(), { email: s.email('carol'), username: name });
      const b = s.browser();
      const taken = await b.post('/is-username-available', { json: { username: name.toUpperCase() } });
      s.expect('taken, whatever the case', taken.status === 200 && taken.json?.available === false, taken.json);
      const free = await b.post('/is-username-available', { json: { username: uname(s, 'free') } });
      s.expect('free', free.status === 200 && free.json?.available === true, free.json);
      for (const [label, username, code] of [['empty', '', 'INVALID_USERNAME'], ['too short', 'a!', 'USERNAME_TOO_SHORT'], ['too long', 'y'.repeat(31), 'USERNAME_TOO_LONG'], ['invalid', 'no spaces', 'INVALID_USERNAME']]) {
        const r = await b.post('/is-username-available', { json: { username } });
        s.expect(`${label}: 422 ${code}`, r.status === 422 && r.json?.code === code, r.json);
      }
    });

    scenario('sign-up refusals and displayUsername', async (s) => {
      const name = uname(s, 'Dave');
      await s.signUp(s.browser(), { email: s.email('dave'), username: name });
      const dup = await s.signUp(s.browser(), { email: s.email('dave2'), username: name.toUpperCase() });
      s.expect('duplicate: 400 USERNAME_IS_ALREADY_TAKEN', dup.status === 400 && dup.json?.code === 'USERNAME_IS_ALREADY_TAKEN', dup.json);
      for (const [label, username, code] of [['too short', 'ab', 'USERNAME_TOO_SHORT'], ['too long', 'z'.repeat(31), 'USERNAME_TOO_LONG'], ['invalid', 'bad name', 'INVALID_USERNAME']]) {
        const r = await s.signUp(s.browser(), { email: s.email(`bad${code.length}`), username });
        s.expect(`${label}: 400 ${code}`, r.status === 400 && r.json?.code === code, r.json);
      }
      const [{ n }] = await s.sql(`select count(*)::int as n from "user" where "email" like 'bad%'`);
      s.expect('no refused sign-up created a user', n === 0, n);
      const display = uname(s, 'Erin.E');
      const only = await s.signUp(s.browser(), { email: s.email('erin'), displayUsername: display });
      s.expect('a valid displayUsername alone becomes the username', only.json?.user?.username === display.toLowerCase() && only.json?.user?.displayUsername === display, only.json);
      const pretty = await s.signUp(s.browser(), { email: s.email('fay'), displayUsername: 'Fay the Great' });
      s.expect('an invalid one stays a display name only', pretty.json?.user?.username === null && pretty.json?.user?.displayUsername === 'Fay the Great', pretty.json);
      const none = await s.signUp(s.browser(), { email: s.email('gus') });
      s.expect('neither: both null', none.json?.user?.username === null && none.json?.user?.displayUsername === null, none.json);
    });

    scenario('update-user', async (s) => {
      const other = uname(s, 'hal');
      await s.signUp(s.browser(), { email: s.email('hal'), username: other });
      const b = s.browser();
      await s.signUp(b, { email: s.email('ivy'), username: uname(s, 'Ivy') });
      const next = uname(s, 'NewIvy');
      const ok = await b.post('/update-user', { json: { username: next } });
      s.expect('change: 200', ok.status === 200, ok.json);
      let g = await b.get('/get-session?disableCookieCache=true');
      s.expect('stored lower-cased, displayUsername unchanged', g.json?.user?.username === next.toLowerCase() && g.json?.user?.displayUsername === uname(s, 'Ivy'), g.json);
      const own = await b.post('/update-user', { json: { username: next.toUpperCase(), displayUsername: 'Ivy Anew' } });
      s.expect('own username again, with a display name: 200', own.status === 200, own.json);
      for (const [label, username, code] of [['taken', other.toUpperCase(), 'USERNAME_IS_ALREADY_TAKEN'], ['too short', 'ab', 'USERNAME_TOO_SHORT'], ['too long', 'q'.repeat(31), 'USERNAME_TOO_LONG'], ['invalid', 'not valid', 'INVALID_USERNAME']]) {
        const r = await b.post('/update-user', { json: { username } });
        s.expect(`${label}: 400 ${code}`, r.status === 400 && r.json?.code === code, r.json);
      }
      g = await b.get('/get-session?disableCookieCache=true');
      s.expect('unchanged by the refusals', g.json?.user?.username === next.toLowerCase() && g.json?.user?.displayUsername === 'Ivy Anew', g.json);
      const inn = await signInUsername(s.browser(), { username: next });
      s.expect('signs in by the new name', inn.status === 200, inn.json);
      const cleared = await b.post('/update-user', { json: { username: null } });
      g = await b.get('/get-session?disableCookieCache=true');
      s.expect('null clears it', cleared.status === 200 && g.json?.user?.username === null, g.json);
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'username' } },
);

compatSuite(
  'plugin username with length options',
  (scenario) => {
    scenario('USERNAME_MIN_LENGTH and USERNAME_MAX_LENGTH', async (s) => {
      const short = await s.browser().post('/is-username-available', { json: { username: 'abcd' } });
      s.expect('4 is too short with min 5', short.status === 422 && short.json?.code === 'USERNAME_TOO_SHORT', short.json);
      const long = await s.signUp(s.browser(), { email: s.email('jo'), username: 'abcdefghijk' });
      s.expect('11 is too long with max 10', long.status === 400 && long.json?.code === 'USERNAME_TOO_LONG', long.json);
      const ok = await s.browser().post('/is-username-available', { json: { username: 'abcdefghij' } });
      s.expect('10 is fine', ok.status === 200 && ok.json?.available === true, ok.json);
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'username', USERNAME_MIN_LENGTH: '5', USERNAME_MAX_LENGTH: '10' } },
);
