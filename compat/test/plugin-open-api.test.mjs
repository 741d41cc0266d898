// The open-api plugin on both servers: GET /open-api/generate-schema with a plugin list the Go
// server implements in full, compared by shape: the same OpenAPI version, info, server URL and
// security schemes, and the same operations (method and path) with the same tags. The bodies,
// answers and model schemas are each server's own (README, open-api), so they are not compared.
// Then the reference page (HTML on both; Better-Auth's loads Scalar from a CDN, the Go server's
// loads nothing) and its options.
import { compatSuite } from '../lib/harness.mjs';
import { KNOWN_PLUGINS } from '../lib/ref-plugins.mjs';

// Every plugin both servers run, so a plugin added to the suite is in the comparison at once.
const PLUGINS = KNOWN_PLUGINS.join(',');
const PRESENCE = { compare: { body: 'presence' } };
// Endpoints of this server's own that Better-Auth does not have (the audit log, README
// Operations): documented like every mounted route, so they are left out of the comparison.
const OUR_OWN = new Set(['GET /admin/audit-log', 'GET /security-events']);

function shape(d) {
  const ops = [];
  for (const [p, item] of Object.entries(d?.paths ?? {})) {
    for (const [m, op] of Object.entries(item)) {
      if (OUR_OWN.has(`${m.toUpperCase()} ${p}`)) continue;
      ops.push(`${m.toUpperCase()} ${p} [${(op.tags ?? []).join(',')}]`);
    }
  }
  return {
    openapi: d?.openapi,
    info: d?.info,
    servers: d?.servers,
    securitySchemes: d?.components?.securitySchemes,
    security: d?.security,
    firstTag: d?.tags?.[0],
    coreModels: ['User', 'Session', 'Account', 'Verification'].filter((m) => d?.components?.schemas?.[m]),
    operations: ops.sort(),
  };
}

compatSuite(
  'plugin open-api',
  (scenario) => {
    scenario('the document: version, info, server, security schemes, every operation with its tag', async (s) => {
      const b = s.browser();
      const r = await b.get('/open-api/generate-schema', PRESENCE);
      s.expect('200 JSON', r.status === 200 && typeof r.json === 'object', r.text.slice(0, 200));
      s.record('document shape', shape(r.json));
      const u = r.json?.components?.schemas?.User;
      s.record('User model: the plugins\' fields are there', ['role', 'banned', 'twoFactorEnabled', 'username', 'isAnonymous', 'phoneNumber'].map((f) => [f, !!u?.properties?.[f]]));
      const signUp = r.json?.paths?.['/sign-up/email']?.post?.requestBody?.content?.['application/json']?.schema;
      s.record('sign-up body names name, email, password as required', ['name', 'email', 'password'].every((f) => signUp?.required?.includes(f)));
    });

    scenario('the reference page: HTML', async (s) => {
      const r = await s.browser().get('/reference', PRESENCE);
      s.record('reference', { status: r.status, html: (r.header('content-type') ?? '').startsWith('text/html') });
    });
  },
  { env: { BETTER_AUTH_PLUGINS: PLUGINS } },
);

compatSuite(
  'plugin open-api options',
  (scenario) => {
    scenario('OPEN_API_PATH moves the page, OPEN_API_DISABLE_DEFAULT_REFERENCE answers it 404', async (s) => {
      const b = s.browser();
      const moved = await b.get('/docs', PRESENCE);
      s.record('moved and disabled page', { status: moved.status });
      const old = await b.get('/reference', PRESENCE);
      s.record('old path', { status: old.status });
      const d = await b.get('/open-api/generate-schema', PRESENCE);
      s.record('the document stays', d.status);
    });
  },
  { env: { BETTER_AUTH_PLUGINS: 'open-api', OPEN_API_PATH: '/docs', OPEN_API_DISABLE_DEFAULT_REFERENCE: 'true' } },
);
