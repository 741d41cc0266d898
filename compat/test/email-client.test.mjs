// The real better-auth client (createAuthClient) driving the email flows on both servers:
// sendVerificationEmail, verifyEmail, requestPasswordReset, resetPassword, changeEmail,
// deleteUser.
import { compatSuite } from '../lib/harness.mjs';

const PASSWORD = 'password1234';

compatSuite('better-auth client: email flows', (scenario) => {
  scenario('client: sendVerificationEmail, verifyEmail, EMAIL_ALREADY_VERIFIED', async (s) => {
    const browser = s.browser();
    const client = s.authClient(browser);
    const email = s.email('cv');
    await s.clientCall('signUp.email', client.signUp.email({ name: 'Client V', email, password: PASSWORD }));
    const sent = await s.clientCall('sendVerificationEmail', client.sendVerificationEmail({ email, callbackURL: '/verified' }));
    s.expect('data {status:true}', sent.data?.status === true, sent.error);
    const m = await s.mail(email, { kind: 'verify-email' });
    await s.clientCall('verifyEmail bad token', client.verifyEmail({ query: { token: 'garbage' } }));
    const v = await s.clientCall('verifyEmail', client.verifyEmail({ query: { token: m.token } }));
    s.expect('data {status:true,user:null}', v.data?.status === true && v.data?.user === null, v.error);
    const g = await s.clientCall('getSession', client.getSession());
    s.expect('emailVerified true', g.data?.user?.emailVerified === true, g.data);
    const again = await s.clientCall('sendVerificationEmail verified', client.sendVerificationEmail({ email }));
    s.expect('error EMAIL_ALREADY_VERIFIED', again.error?.code === 'EMAIL_ALREADY_VERIFIED', again.error);
    await s.clientCall('sendVerificationEmail other address', client.sendVerificationEmail({ email: s.email('cv-other') }));
  });

  scenario('client: requestPasswordReset, resetPassword, sign-in with the new password', async (s) => {
    const email = s.email('cr');
    await s.clientCall('signUp.email', s.authClient(s.browser()).signUp.email({ name: 'Client R', email, password: PASSWORD }));
    const client = s.authClient(s.browser());
    const r = await s.clientCall('requestPasswordReset', client.requestPasswordReset({ email, redirectTo: 'http://app.example.test/reset' }));
    s.expect('data.status true', r.data?.status === true, r.error);
    await s.clientCall('requestPasswordReset unknown', client.requestPasswordReset({ email: s.email('cr-unknown') }));
    await s.clientCall('requestPasswordReset untrusted redirectTo', client.requestPasswordReset({ email, redirectTo: 'http://evil.example.com/' }));
    const m = await s.mail(email, { kind: 'reset-password' });
    await s.clientCall('resetPassword short', client.resetPassword({ newPassword: 'short', token: m.token }));
    const ok = await s.clientCall('resetPassword', client.resetPassword({ newPassword: 'client-new-pass-1', token: m.token }));
    s.expect('data {status:true}', ok.data?.status === true, ok.error);
    const reuse = await s.clientCall('resetPassword reuse', client.resetPassword({ newPassword: 'client-new-pass-2', token: m.token }));
    s.expect('error INVALID_TOKEN', reuse.error?.code === 'INVALID_TOKEN', reuse.error);
    await s.clientCall('signIn.email old password', client.signIn.email({ email, password: PASSWORD }));
    await s.clientCall('signIn.email new password', client.signIn.email({ email, password: 'client-new-pass-1' }));
  });

  scenario('client: changeEmail, verifyEmail of the new address, deleteUser', async (s) => {
    const browser = s.browser();
    const client = s.authClient(browser);
    const email = s.email('cc');
    const newEmail = s.email('cc-new');
    await s.clientCall('signUp.email', client.signUp.email({ name: 'Client C', email, password: PASSWORD }));
    await s.clientCall('changeEmail same', client.changeEmail({ newEmail: email }));
    const c = await s.clientCall('changeEmail', client.changeEmail({ newEmail, callbackURL: '/changed' }));
    s.expect('data {status:true}', c.data?.status === true, c.error);
    const m = await s.mail(newEmail, { kind: 'verify-email' });
    const v = await s.clientCall('verifyEmail (change)', client.verifyEmail({ query: { token: m.token } }));
    s.expect('data.user.email is the new address', v.data?.user?.email === newEmail, v);
    await s.clientCall('getSession after the change', client.getSession());
    await s.clientCall('deleteUser wrong password', client.deleteUser({ password: 'wrong-password' }));
    // the client sends {} without arguments: a fresh session deletes at once
    const d = await s.clientCall('deleteUser no arguments', client.deleteUser());
    s.expect('data {success:true,message:"User deleted"}', d.data?.success === true && d.data?.message === 'User deleted', d.error);
    await s.clientCall('getSession after delete', client.getSession());
    const other = s.authClient(s.browser());
    await s.clientCall('signUp.email second user', other.signUp.email({ name: 'Client C2', email: s.email('cc2'), password: PASSWORD }));
    const d2 = await s.clientCall('deleteUser with password', other.deleteUser({ password: PASSWORD, callbackURL: '/bye' }));
    s.expect('data {success:true,message:"User deleted"}', d2.data?.success === true && d2.data?.message === 'User deleted', d2.error);
  });
}, { options: { user: { changeEmail: { enabled: true }, deleteUser: { enabled: true } } } });

compatSuite('better-auth client: delete-user by mail', (scenario) => {
  scenario('client: deleteUser mails a link, deleteUser({token}) deletes', async (s) => {
    const browser = s.browser();
    const client = s.authClient(browser);
    const email = s.email('cd');
    await s.clientCall('signUp.email', client.signUp.email({ name: 'Client D', email, password: PASSWORD }));
    const r = await s.clientCall('deleteUser (mail)', client.deleteUser({ callbackURL: '/bye' }));
    s.expect('data.message Verification email sent', r.data?.message === 'Verification email sent', r.error);
    const m = await s.mail(email, { kind: 'delete-account' });
    await s.clientCall('deleteUser bad token', client.deleteUser({ token: 'not-a-token' }));
    const d = await s.clientCall('deleteUser token', client.deleteUser({ token: m.token }));
    s.expect('data.message User deleted', d.data?.message === 'User deleted', d.error);
    await s.clientCall('getSession after delete', client.getSession());
  });
}, { options: { user: { deleteUser: { enabled: true, sendDeleteAccountVerification: true } } } });
