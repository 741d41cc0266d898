// Starts the real Better-Auth 1.7.25 as a plain node:http server.
//
// Env: PORT, DATABASE_URL, BETTER_AUTH_SECRET, BETTER_AUTH_URL,
//      BETTER_AUTH_TRUSTED_ORIGINS (read by better-auth itself, comma separated),
//      REF_OPTIONS_JSON (optional, deep-merged into the options),
//      REF_GENERIC_OAUTH_JSON (optional: the `config` array of the genericOAuth plugin,
//      e.g. [{"providerId":"idp","discoveryUrl":"…","clientId":"app",…}]; the plugin is
//      added next to bearer() only when this is set),
//      BETTER_AUTH_PLUGINS (optional: Better-Auth plugin names, comma separated, the same
//      list the Go server reads; bearer is always on). Codes the plugins send (two-factor
//      OTP) are recorded in the mailbox like mail, with kind `<plugin>-otp` and the code in `token`.
// Prints "ready <port>" on stdout once listening.
//
// Mail: the four mail callbacks record {kind, to, url, token, newEmail} in memory;
// GET /__compat/mail (outside /api/auth) returns the recorded list and clears it.
// sendResetPassword and sendVerificationEmail are always installed (Better-Auth only
// calls them when the options switch a flow on); sendChangeEmailConfirmation and
// sendDeleteAccountVerification change behaviour by merely being present, so they are
// installed only when REF_OPTIONS_JSON sets them to `true` (a marker replaced by the
// recorder here). `false` removes any of the four.

// NODE_ENV is read by better-auth at module load time, so it must be fixed
// before better-auth is imported. "test" would disable the origin check.
if (!process.env.NODE_ENV || process.env.NODE_ENV === 'test') process.env.NODE_ENV = 'development';
delete process.env.TEST;

const http = await import('node:http');
const { default: pg } = await import('pg');
const { betterAuth } = await import('better-auth');
const { bearer } = await import('better-auth/plugins');
const { genericOAuth } = await import('better-auth/plugins/generic-oauth');
const { toNodeHandler } = await import('better-auth/node');
const { pluginsFromList } = await import('./ref-plugins.mjs');
const { getMigrations } = await import('better-auth/db/migration');

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function deepMerge(base, extra) {
  const out = { ...base };
  for (const [k, v] of Object.entries(extra ?? {})) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k], v) : v;
  }
  return out;
}

const port = Number(process.env.PORT || 0);
const databaseURL = process.env.DATABASE_URL;
if (!databaseURL) {
  console.error('DATABASE_URL is required');
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: databaseURL, max: 5 });
// The suite drops each database (with force) at teardown, possibly while this process still holds
// idle connections: their termination must not crash the server mid-teardown.
pool.on('error', (err) => console.error('[ref] idle pg connection error:', err.message));

let options = {
  database: pool,
  secret: process.env.BETTER_AUTH_SECRET,
  baseURL: process.env.BETTER_AUTH_URL,
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  plugins: [bearer()],
};
if (process.env.REF_OPTIONS_JSON) {
  options = deepMerge(options, JSON.parse(process.env.REF_OPTIONS_JSON));
}
if (process.env.REF_GENERIC_OAUTH_JSON) {
  options.plugins = [...options.plugins, genericOAuth({ config: JSON.parse(process.env.REF_GENERIC_OAUTH_JSON) })];
}

const mailbox = [];
if (process.env.BETTER_AUTH_PLUGINS) {
  options.plugins = [...options.plugins, ...(await pluginsFromList(process.env.BETTER_AUTH_PLUGINS, mailbox))];
}
function recorder(kind) {
  return async (data) => {
    mailbox.push({ kind, to: data.user?.email, url: data.url, token: data.token, newEmail: data.newEmail ?? null, at: Date.now() });
  };
}
// [option path, callback name, kind, installed unless asked otherwise]
const MAIL_CALLBACKS = [
  [['emailAndPassword'], 'sendResetPassword', 'reset-password', true],
  [['emailVerification'], 'sendVerificationEmail', 'verify-email', true],
  [['user', 'changeEmail'], 'sendChangeEmailConfirmation', 'change-email', false],
  [['user', 'deleteUser'], 'sendDeleteAccountVerification', 'delete-account', false],
];
for (const [path, key, kind, byDefault] of MAIL_CALLBACKS) {
  let obj = options;
  for (const p of path) {
    obj[p] = isPlainObject(obj[p]) ? { ...obj[p] } : {};
    obj = obj[p];
  }
  // (the copies above keep the JSON-derived objects untouched)
  const want = obj[key] === undefined ? byDefault : obj[key] === true;
  if (want) obj[key] = recorder(kind);
  else delete obj[key];
}
for (const [parent, child] of [['user', 'changeEmail'], ['user', 'deleteUser']]) {
  if (Object.keys(options[parent][child]).length === 0) delete options[parent][child];
}
if (Object.keys(options.user).length === 0) delete options.user;

const { runMigrations } = await getMigrations(options);
await runMigrations();

const auth = betterAuth(options);
const handler = toNodeHandler(auth);

const server = http.createServer((req, res) => {
  if (req.url === '/__compat/mail' && req.method === 'GET') {
    const list = mailbox.splice(0);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(list));
    return;
  }
  handler(req, res).catch((err) => {
    console.error('handler error', err);
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`ready ${server.address().port}`);
});

async function shutdown() {
  server.close();
  await pool.end().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
