// Builds the reference server's plugin list from BETTER_AUTH_PLUGINS, the same comma-separated
// Better-Auth plugin names the Go server reads, so both servers run one configuration.
// Plugins that send a code or a link (two-factor's OTP, magic-link) record it in the shared mailbox, where the
// suite reads it as it reads mail.

const BUILDERS = {
  username: async () =>
    (await import('better-auth/plugins')).username({
      ...(process.env.USERNAME_MIN_LENGTH && { minUsernameLength: Number(process.env.USERNAME_MIN_LENGTH) }),
      ...(process.env.USERNAME_MAX_LENGTH && { maxUsernameLength: Number(process.env.USERNAME_MAX_LENGTH) }),
    }),
  anonymous: async () =>
    (await import('better-auth/plugins')).anonymous({
      ...(process.env.ANONYMOUS_EMAIL_DOMAIN_NAME && { emailDomainName: process.env.ANONYMOUS_EMAIL_DOMAIN_NAME }),
      ...(process.env.ANONYMOUS_DISABLE_DELETE === 'true' && { disableDeleteAnonymousUser: true }),
    }),
  // Options come from the same variables the Go server reads, so both sides run one configuration.
  'last-login-method': async () =>
    (await import('better-auth/plugins')).lastLoginMethod({
      ...(process.env.LAST_LOGIN_METHOD_COOKIE_NAME && { cookieName: process.env.LAST_LOGIN_METHOD_COOKIE_NAME }),
      ...(process.env.LAST_LOGIN_METHOD_MAX_AGE && { maxAge: Number(process.env.LAST_LOGIN_METHOD_MAX_AGE) }),
      ...(process.env.LAST_LOGIN_METHOD_STORE_IN_DATABASE === 'true' && { storeInDatabase: true }),
    }),
  // The admin plugin's options that change the wire, from the variables the Go server reads.
  admin: async () => {
    const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
    const e = process.env;
    return (await import('better-auth/plugins')).admin({
      ...(e.ADMIN_USER_IDS && { adminUserIds: list(e.ADMIN_USER_IDS) }),
      ...(e.ADMIN_DEFAULT_ROLE && { defaultRole: e.ADMIN_DEFAULT_ROLE }),
      ...(e.ADMIN_ROLES && { adminRoles: list(e.ADMIN_ROLES) }),
      ...(e.ADMIN_IMPERSONATION_SESSION_DURATION && { impersonationSessionDuration: Number(e.ADMIN_IMPERSONATION_SESSION_DURATION) }),
      ...(e.ADMIN_DEFAULT_BAN_REASON && { defaultBanReason: e.ADMIN_DEFAULT_BAN_REASON }),
      ...(e.ADMIN_DEFAULT_BAN_EXPIRES_IN && { defaultBanExpiresIn: Number(e.ADMIN_DEFAULT_BAN_EXPIRES_IN) }),
      ...(e.ADMIN_BANNED_USER_MESSAGE && { bannedUserMessage: e.ADMIN_BANNED_USER_MESSAGE }),
    });
  },
  'two-factor': async (mailbox) =>
    (await import('better-auth/plugins')).twoFactor({
      otpOptions: {
        sendOTP: async ({ user, otp }) => {
          mailbox.push({ kind: 'two-factor-otp', to: user?.email, url: null, token: otp, newEmail: null, at: Date.now() });
        },
      },
    }),
  // The link is recorded like mail (kind magic-link); options from the variables the Go server reads.
  'magic-link': async (mailbox) => {
    const e = process.env;
    return (await import('better-auth/plugins')).magicLink({
      sendMagicLink: async ({ email, url, token }) => {
        mailbox.push({ kind: 'magic-link', to: email, url, token, newEmail: null, at: Date.now() });
      },
      ...(e.MAGIC_LINK_EXPIRES_IN && { expiresIn: Number(e.MAGIC_LINK_EXPIRES_IN) }),
      ...(e.MAGIC_LINK_DISABLE_SIGN_UP === 'true' && { disableSignUp: true }),
      ...(e.MAGIC_LINK_STORE_TOKEN && { storeToken: e.MAGIC_LINK_STORE_TOKEN }),
    });
  },
  'one-time-token': async () => {
    const e = process.env;
    return (await import('better-auth/plugins')).oneTimeToken({
      ...(e.OTT_EXPIRES_IN && { expiresIn: Number(e.OTT_EXPIRES_IN) }),
      ...(e.OTT_DISABLE_SET_SESSION_COOKIE === 'true' && { disableSetSessionCookie: true }),
      ...(e.OTT_STORE_TOKEN && { storeToken: e.OTT_STORE_TOKEN }),
    });
  },
};

/** Names the reference server can run; anything else is refused, as the Go server refuses it. */
export const KNOWN_PLUGINS = Object.keys(BUILDERS);

/** Returns the plugin instances for a comma-separated list; bearer is not in it (always on). */
export async function pluginsFromList(list, mailbox) {
  const out = [];
  for (const name of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (name === 'bearer') continue;
    const build = BUILDERS[name];
    if (!build) throw new Error(`unknown plugin ${JSON.stringify(name)}: known are ${KNOWN_PLUGINS.join(', ')}`);
    out.push(await build(mailbox));
  }
  return out;
}
