// Framing and routing: /ok, 404s, 405 on POST /get-session, content types.
import { compatSuite } from '../lib/harness.mjs';

compatSuite('routing and framing', (scenario) => {
  scenario('GET /ok', async (s) => {
    const b = s.browser();
    const r = await b.get('/ok');
    s.expect('200 {"ok":true}', r.status === 200 && r.text === '{"ok":true}', r.text);
  });

  scenario('unknown path, wrong method, trailing slash, double slash: 404', async (s) => {
    const b = s.browser();
    await b.get('/does-not-exist');
    await b.post('/does-not-exist', { json: {} });
    await b.get('/sign-in/email');
    await b.request('PUT', '/sign-up/email', { json: {} });
    await b.request('DELETE', '/get-session');
    await b.post('/ok', { json: {} });
    await b.get('/ok/');
    await b.post('/sign-in/email/', { json: { email: 'a@example.com', password: 'x' } });
    await b.get('/api/auth//ok', { label: 'GET /api/auth//ok (explicit)' });
    await b.get('/api/other', { label: 'GET /api/other (outside the base path)' });
    await b.request('HEAD', '/ok');
  });

  // A deliberate difference (README "Known, deliberate differences"): Better-Auth core
  // does no CORS handling and answers OPTIONS with 404; the Go server answers preflights
  // itself, allowing credentials for the trusted origins only.
  scenario('OPTIONS preflight: Better-Auth 404, Go server CORS for trusted origins (deliberate difference)', async (s) => {
    const b = s.browser();
    const preflight = (path, origin) =>
      b.request('OPTIONS', path, {
        origin,
        record: false,
        headers: origin ? { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } : {},
      });
    const acao = (r) => r.header('access-control-allow-origin');
    const acac = (r) => r.header('access-control-allow-credentials');
    const show = (r) => `${r.request.method} ${r.request.path} (origin ${r.request.headers.origin ?? '-'}) -> ${r.status} ${JSON.stringify(r.headers)} ${r.text}`;

    const trusted = await preflight('/sign-in/email', 'http://app.example.test');
    s.deliberate(
      'preflight from a trusted origin: ref 404; go 204 + Allow-Origin = that origin + Allow-Credentials true',
      trusted.status === 404,
      trusted.status === 204 && acao(trusted) === 'http://app.example.test' && acac(trusted) === 'true',
      show(trusted),
    );
    const base = await preflight('/get-session', 'http://localhost:8000');
    s.deliberate(
      'preflight from the base URL origin: ref 404; go 204 + Allow-Origin = that origin',
      base.status === 404,
      base.status === 204 && acao(base) === 'http://localhost:8000' && acac(base) === 'true',
      show(base),
    );
    const untrusted = await preflight('/sign-in/email', 'http://evil.example.com');
    s.deliberate(
      'preflight from an untrusted origin: ref 404; go no Access-Control-Allow-Origin',
      untrusted.status === 404,
      acao(untrusted) === undefined,
      show(untrusted),
    );
    const noOrigin = await preflight('/get-session', null);
    s.deliberate('OPTIONS without Origin: ref 404; go no Access-Control-Allow-Origin', noOrigin.status === 404, acao(noOrigin) === undefined, show(noOrigin));
    // an actual cross-origin request from a trusted origin: same answer as Better-Auth (compared);
    // the CORS headers the Go server adds are not compared (see lib/compare.mjs)
    await s.signUp(b, { email: s.email('cors') });
    const g = await b.get('/get-session', { origin: 'http://app.example.test' });
    s.deliberate(
      'GET from a trusted origin: ref no Allow-Origin; go Allow-Origin = that origin + Allow-Credentials true',
      acao(g) === undefined,
      acao(g) === 'http://app.example.test' && acac(g) === 'true',
      show(g),
    );
  });

  scenario('POST /get-session without deferSessionRefresh', async (s) => {
    const b = s.browser();
    // no cookie: the router origin check is skipped, the endpoint answers 405
    const r1 = await b.post('/get-session');
    s.expect('405 METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED', r1.status === 405 && r1.json?.code === 'METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED', r1.text);
    await b.post('/get-session', { json: {} });
    await s.signUp(b);
    // with a cookie and a trusted origin
    await b.post('/get-session');
    // with a cookie and no Origin: the origin check wins
    await b.post('/get-session', { origin: null });
  });

  scenario('unsupported and missing content types', async (s) => {
    const b = s.browser();
    const r = await b.post('/sign-up/email', { body: 'name=a', contentType: 'text/plain' });
    s.expect('sign-up text/plain is 415', r.status === 415, r.text);
    await b.post('/sign-in/email', { body: 'email=a', contentType: 'text/plain' });
    await b.post('/sign-out', { body: '{}', contentType: 'text/plain' });
    await b.post('/sign-in/email', { body: '{}', contentType: 'application/xml' });
    // body without any content-type
    await b.post('/sign-up/email', { body: '{"name":"x"}' });
    // parameters after the media type are fine
    await b.post('/sign-in/email', { body: JSON.stringify({ email: s.email('nobody'), password: 'password1234' }), contentType: 'application/json; charset=utf-8' });
    // form body on an endpoint that only accepts JSON
    await b.post('/revoke-session', { form: { token: 'x' } });
  });

  scenario('malformed JSON and non-object JSON bodies', async (s) => {
    const b = s.browser();
    await b.post('/sign-up/email', { body: '{"name":', contentType: 'application/json' });
    await b.post('/sign-in/email', { body: '{bad json}', contentType: 'application/json' });
    await b.post('/sign-up/email', { json: [1, 2] });
    await b.post('/sign-up/email', { json: 'a string' });
    await b.post('/sign-up/email', { json: null });
    await b.post('/sign-in/email', { json: 42 });
    // an empty body with a JSON content type
    await b.post('/sign-in/email', { body: '', contentType: 'application/json' });
  });
});
