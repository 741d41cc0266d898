// Social sign-in and the OAuth account endpoints: /sign-in/social, /link-social,
// /get-access-token, /refresh-token, /account-info.
// Both servers run without social providers here, so these pin the answers for unknown
// providers, bad bodies and signed-out callers; the full OAuth/OIDC dance against a real
// provider is covered by the Go tests (web/social_test.go).
import { compatSuite } from '../lib/harness.mjs';

compatSuite('social sign-in and OAuth account endpoints', (scenario) => {
  scenario('signed out: the OAuth account endpoints need a session (401)', async (s) => {
    const b = s.browser();
    await b.post('/get-access-token', { json: { accountId: 'x' } });
    await b.post('/refresh-token', { json: { accountId: 'x' } });
    await b.get('/account-info', { query: { accountId: 'x' } });
    await b.post('/link-social', { json: { provider: 'github' } });
  });

  scenario('signed in: no social provider configured', async (s) => {
    const b = s.browser();
    await s.signUp(b, { email: s.email('social') });
    await b.post('/sign-in/social', { json: { provider: 'github' } });
    await b.post('/link-social', { json: { provider: 'github' } });
    await b.post('/get-access-token', { json: { providerId: 'github' } });
    await b.post('/refresh-token', { json: { providerId: 'github' } });
    await b.get('/account-info', { query: { accountId: 'x' } });
    await b.get('/get-session');
  });

  scenario('signed out: sign-in/social with an unknown provider and bad bodies', async (s) => {
    const b = s.browser();
    await b.post('/sign-in/social', { json: { provider: 'github' } });
    await b.post('/sign-in/social', { json: { provider: 'github', callbackURL: 'http://evil.example.com/' } });
    await b.post('/sign-in/social', { json: {} });
  });
});
