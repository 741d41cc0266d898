// Drives the real better-auth client (createAuthClient) against both servers.
import { compatSuite } from '../lib/harness.mjs';

const PASSWORD = 'password1234';

compatSuite('better-auth client', (scenario) => {
  scenario('client: sign-up, getSession, updateUser, signOut', async (s) => {
    const browser = s.browser();
    const client = s.authClient(browser);
    const up = await s.clientCall('signUp.email', client.signUp.email({ name: 'Client User', email: s.email('client'), password: PASSWORD }));
    s.expect('sign-up data.user', up.data?.user?.email === s.email('client'), up.error);
    const g = await s.clientCall('getSession', client.getSession());
    s.expect('getSession returns a Date for expiresAt', g.data?.session?.expiresAt instanceof Date);
    await s.clientCall('updateUser', client.updateUser({ name: 'Renamed', image: null }));
    await s.clientCall('getSession after update', client.getSession());
    await s.clientCall('updateUser email', client.updateUser({ email: s.email('x') }));
    await s.clientCall('signOut', client.signOut());
    await s.clientCall('getSession after sign-out', client.getSession());
  });

  scenario('client: sign-in errors and success, changePassword, listSessions, revokeOtherSessions', async (s) => {
    const first = s.browser({ userAgent: 'client-a' });
    const a = s.authClient(first);
    await s.clientCall('signUp.email', a.signUp.email({ name: 'C2', email: s.email('c2'), password: PASSWORD }));
    const second = s.browser({ userAgent: 'client-b' });
    const b = s.authClient(second);
    const bad = await s.clientCall('signIn.email wrong password', b.signIn.email({ email: s.email('c2'), password: 'wrong-password' }));
    s.expect('error code INVALID_EMAIL_OR_PASSWORD', bad.error?.code === 'INVALID_EMAIL_OR_PASSWORD' && bad.error?.status === 401, bad.error);
    await s.clientCall('signIn.email unknown', b.signIn.email({ email: s.email('nobody'), password: PASSWORD }));
    await s.clientCall('signIn.email bad email', b.signIn.email({ email: 'nope', password: PASSWORD }));
    await s.clientCall('signIn.email', b.signIn.email({ email: s.email('C2'), password: PASSWORD }));
    await s.clientCall('signIn.email with callbackURL', s.authClient(s.browser()).signIn.email({ email: s.email('c2'), password: PASSWORD, callbackURL: '/home' }));
    await s.clientCall('signUp.email duplicate', s.authClient(s.browser()).signUp.email({ name: 'dup', email: s.email('c2'), password: PASSWORD }));
    await s.clientCall('signUp.email short password', s.authClient(s.browser()).signUp.email({ name: 'short', email: s.email('c2short'), password: 'short' }));
    const list = await s.clientCall('listSessions', a.listSessions());
    s.expect('three sessions', Array.isArray(list.data) && list.data.length === 3, list.error);
    await s.clientCall('changePassword wrong', a.changePassword({ currentPassword: 'wrong-password', newPassword: 'password5678' }));
    await s.clientCall('changePassword short', a.changePassword({ currentPassword: PASSWORD, newPassword: 'short' }));
    await s.clientCall('changePassword', a.changePassword({ currentPassword: PASSWORD, newPassword: 'password5678' }));
    await s.clientCall('revokeOtherSessions', a.revokeOtherSessions());
    await s.clientCall('getSession on the revoked device', b.getSession());
    await s.clientCall('listSessions after revoke', a.listSessions());
    await s.clientCall('changePassword revokeOtherSessions', a.changePassword({ currentPassword: 'password5678', newPassword: 'password9012', revokeOtherSessions: true }));
    await s.clientCall('getSession with the new token', a.getSession());
    await s.clientCall('listAccounts', a.listAccounts());
    await s.clientCall('signOut', a.signOut());
    await s.clientCall('listSessions signed out', a.listSessions());
    await s.clientCall('signIn.email new password', s.authClient(s.browser()).signIn.email({ email: s.email('c2'), password: 'password9012' }));
  });

  scenario('client: getSession query options and revokeSessions', async (s) => {
    const browser = s.browser();
    const client = s.authClient(browser);
    await s.clientCall('signUp.email rememberMe false', client.signUp.email({ name: 'C3', email: s.email('c3'), password: PASSWORD, rememberMe: false }));
    await s.clientCall('getSession disableCookieCache', client.getSession({ query: { disableCookieCache: true } }));
    await s.clientCall('getSession disableRefresh', client.getSession({ query: { disableRefresh: true } }));
    await s.clientCall('revokeSessions', client.revokeSessions());
    await s.clientCall('getSession after revokeSessions', client.getSession());
    await s.clientCall('updateUser signed out', client.updateUser({ name: 'x' }));
  });
});
