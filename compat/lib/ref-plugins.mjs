// Builds the reference server's plugin list from BETTER_AUTH_PLUGINS, the same comma-separated
// Better-Auth plugin names the Go server reads, so both servers run one configuration.
// Plugins that send a code or a link (two-factor's OTP, magic-link) record it in the shared mailbox, where the
// suite reads it as it reads mail. REF_MAIL_SEND_FAIL=true makes every e-mailed code or link of the
// plugins (magic-link, email-otp, two-factor's OTP) throw, as a failed SMTP delivery would; the Go
// server is then given an SMTP server that refuses.

const mailFails = () => process.env.REF_MAIL_SEND_FAIL === 'true';

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
  // Codes go to the mailbox with kind "phone-otp" (send-otp, sign-in) or "phone-reset"
  // (request-password-reset), `to` the number. Sign-up on verification takes the temporary e-mail
  // from PHONE_NUMBER_TEMP_EMAIL_DOMAIN as the Go server does; REF_PHONE_SEND_FAIL=true makes
  // every send throw, as a failed SMS provider would.
  'phone-number': async (mailbox) => {
    const e = process.env;
    const send = (kind) => async ({ phoneNumber, code }) => {
      if (e.REF_PHONE_SEND_FAIL === 'true') throw new Error('sms provider refused');
      mailbox.push({ kind, to: phoneNumber, url: null, token: code, newEmail: null, at: Date.now() });
    };
    const domain = e.PHONE_NUMBER_TEMP_EMAIL_DOMAIN || 'phone.invalid';
    return (await import('better-auth/plugins')).phoneNumber({
      sendOTP: send('phone-otp'),
      sendPasswordResetOTP: send('phone-reset'),
      ...(e.PHONE_NUMBER_OTP_LENGTH && { otpLength: Number(e.PHONE_NUMBER_OTP_LENGTH) }),
      ...(e.PHONE_NUMBER_EXPIRES_IN && { expiresIn: Number(e.PHONE_NUMBER_EXPIRES_IN) }),
      ...(e.PHONE_NUMBER_ALLOWED_ATTEMPTS && { allowedAttempts: Number(e.PHONE_NUMBER_ALLOWED_ATTEMPTS) }),
      ...(e.PHONE_NUMBER_REQUIRE_VERIFICATION === 'true' && { requireVerification: true }),
      ...(e.PHONE_NUMBER_SIGN_UP_ON_VERIFICATION === 'true' && {
        signUpOnVerification: { getTempEmail: (n) => `${n.replace(/[^0-9A-Za-z]/g, '')}@${domain}` },
      }),
    });
  },
  'two-factor': async (mailbox) =>
    (await import('better-auth/plugins')).twoFactor({
      otpOptions: {
        sendOTP: async ({ user, otp }) => {
          if (mailFails()) throw new Error('smtp server refused');
          mailbox.push({ kind: 'two-factor-otp', to: user?.email, url: null, token: otp, newEmail: null, at: Date.now() });
        },
      },
    }),
  // The Go server checks a ceremony against configured origins (PASSKEY_ORIGINS, comma separated;
  // by default BETTER_AUTH_URL plus the trusted origins on the rp id's domain, which in the suite is
  // BETTER_AUTH_URL alone), never the request's Origin header; Better-Auth does that when `origin`
  // is set, so the reference gets it. PASSKEY_RP_ID (default: BETTER_AUTH_URL's host name) and
  // PASSKEY_RP_NAME (default: appName) as on the Go server.
  passkey: async () => {
    const origins = (process.env.PASSKEY_ORIGINS || new URL(process.env.BETTER_AUTH_URL).origin).split(',').map((o) => o.trim().replace(/\/$/, '')).filter(Boolean);
    return (await import('@better-auth/passkey')).passkey({
      origin: origins.length === 1 ? origins[0] : origins,
      ...(process.env.PASSKEY_RP_ID && { rpID: process.env.PASSKEY_RP_ID }),
      ...(process.env.PASSKEY_RP_NAME && { rpName: process.env.PASSKEY_RP_NAME }),
    });
  },
  // E-mail OTP: every code the plugin sends is recorded as kind email-otp-<type>; options come
  // from the EMAIL_OTP_* variables the Go server reads.
  'email-otp': async (mailbox) => {
    const e = process.env;
    const bool = (v) => ['1', 'true', 'yes', 'on'].includes((v ?? '').toLowerCase());
    return (await import('better-auth/plugins')).emailOTP({
      sendVerificationOTP: async ({ email, otp, type }) => {
        if (mailFails()) throw new Error('smtp server refused');
        mailbox.push({ kind: `email-otp-${type}`, to: email, url: null, token: otp, newEmail: null, at: Date.now() });
      },
      ...(e.EMAIL_OTP_LENGTH && { otpLength: Number(e.EMAIL_OTP_LENGTH) }),
      ...(e.EMAIL_OTP_EXPIRES_IN && { expiresIn: Number(e.EMAIL_OTP_EXPIRES_IN) }),
      ...(e.EMAIL_OTP_ALLOWED_ATTEMPTS && { allowedAttempts: Number(e.EMAIL_OTP_ALLOWED_ATTEMPTS) }),
      ...(bool(e.EMAIL_OTP_DISABLE_SIGN_UP) && { disableSignUp: true }),
      ...(e.EMAIL_OTP_STORE && { storeOTP: e.EMAIL_OTP_STORE }),
      ...(e.EMAIL_OTP_RESEND_STRATEGY && { resendStrategy: e.EMAIL_OTP_RESEND_STRATEGY }),
      ...(bool(e.EMAIL_OTP_SEND_VERIFICATION_ON_SIGN_UP) && { sendVerificationOnSignUp: true }),
      ...(bool(e.EMAIL_OTP_OVERRIDE_EMAIL_VERIFICATION) && { overrideDefaultEmailVerification: true }),
      ...(bool(e.EMAIL_OTP_CHANGE_EMAIL) && { changeEmail: { enabled: true, verifyCurrentEmail: bool(e.EMAIL_OTP_CHANGE_EMAIL_VERIFY_CURRENT) } }),
    });
  },
  // The link is recorded like mail (kind magic-link); options from the variables the Go server reads.
  'magic-link': async (mailbox) => {
    const e = process.env;
    return (await import('better-auth/plugins')).magicLink({
      sendMagicLink: async ({ email, url, token }) => {
        if (mailFails()) throw new Error('smtp server refused');
        mailbox.push({ kind: 'magic-link', to: email, url, token, newEmail: null, at: Date.now() });
      },
      ...(e.MAGIC_LINK_EXPIRES_IN && { expiresIn: Number(e.MAGIC_LINK_EXPIRES_IN) }),
      ...(e.MAGIC_LINK_DISABLE_SIGN_UP === 'true' && { disableSignUp: true }),
      ...(e.MAGIC_LINK_STORE_TOKEN && { storeToken: e.MAGIC_LINK_STORE_TOKEN }),
    });
  },
  // One signed cookie per session a browser signs in; MULTI_SESSION_MAXIMUM_SESSIONS as the Go server reads it.
  'multi-session': async () =>
    (await import('better-auth/plugins')).multiSession({
      ...(process.env.MULTI_SESSION_MAXIMUM_SESSIONS && { maximumSessions: Number(process.env.MULTI_SESSION_MAXIMUM_SESSIONS) }),
    }),
  // The organization plugin's options from the ORGANIZATION_* variables the Go server reads. The
  // invitation e-mail is recorded with kind "invitation", the invitee's address in `to`, the accept
  // link the Go server mails (<BETTER_AUTH_URL>/accept-invitation/<id>) in `url` and the invitation
  // id in `token`. Dynamic access control needs an ac instance: the default statements'.
  // REF_ORGANIZATION_SEND_FAIL=true makes every invitation mail throw, as a dead mail server would
  // (Better-Auth logs it and still answers 200 with the invitation; the Go server answers 500
  // FAILED_TO_SEND_INVITATION and keeps no invitation).
  organization: async (mailbox) => {
    const e = process.env;
    const bool = (v) => ['1', 'true', 'yes', 'on'].includes((v ?? '').toLowerCase());
    const plugins = await import('better-auth/plugins');
    const dynamic = bool(e.ORGANIZATION_DYNAMIC_ACCESS_CONTROL);
    let ac;
    if (dynamic) {
      const { createAccessControl } = await import('better-auth/plugins/access');
      const { defaultStatements } = await import('better-auth/plugins/organization/access');
      ac = createAccessControl(defaultStatements);
    }
    const base = (e.BETTER_AUTH_URL || '').replace(/\/+$/, '');
    return plugins.organization({
      sendInvitationEmail: async ({ id, email }) => {
        if (e.REF_ORGANIZATION_SEND_FAIL === 'true') throw new Error('mail server refused');
        mailbox.push({ kind: 'invitation', to: email, url: `${base}/accept-invitation/${id}`, token: id, newEmail: null, at: Date.now() });
      },
      ...(e.ORGANIZATION_LIMIT && { organizationLimit: Number(e.ORGANIZATION_LIMIT) }),
      ...(e.ORGANIZATION_MEMBERSHIP_LIMIT && { membershipLimit: Number(e.ORGANIZATION_MEMBERSHIP_LIMIT) }),
      ...(e.ORGANIZATION_INVITATION_LIMIT && { invitationLimit: Number(e.ORGANIZATION_INVITATION_LIMIT) }),
      ...(e.ORGANIZATION_INVITATION_EXPIRES_IN && { invitationExpiresIn: Number(e.ORGANIZATION_INVITATION_EXPIRES_IN) }),
      ...(bool(e.ORGANIZATION_REQUIRE_EMAIL_VERIFICATION_ON_INVITATION) && { requireEmailVerificationOnInvitation: true }),
      ...(['0', 'false', 'no', 'off'].includes((e.ORGANIZATION_ALLOW_USER_TO_CREATE ?? '').toLowerCase()) && { allowUserToCreateOrganization: false }),
      ...(bool(e.ORGANIZATION_CANCEL_PENDING_INVITATIONS_ON_REINVITE) && { cancelPendingInvitationsOnReInvite: true }),
      ...(bool(e.ORGANIZATION_TEAMS) && {
        teams: {
          enabled: true,
          ...(e.ORGANIZATION_MAXIMUM_TEAMS && { maximumTeams: Number(e.ORGANIZATION_MAXIMUM_TEAMS) }),
          ...(e.ORGANIZATION_MAXIMUM_MEMBERS_PER_TEAM && { maximumMembersPerTeam: Number(e.ORGANIZATION_MAXIMUM_MEMBERS_PER_TEAM) }),
        },
      }),
      ...(dynamic && { ac, dynamicAccessControl: { enabled: true } }),
    });
  },
  'one-time-token': async () => {
    const e = process.env;
    return (await import('better-auth/plugins')).oneTimeToken({
      ...(e.OTT_EXPIRES_IN && { expiresIn: Number(e.OTT_EXPIRES_IN) }),
      ...(e.OTT_DISABLE_SET_SESSION_COOKIE === 'true' && { disableSetSessionCookie: true }),
      ...(e.OTT_STORE_TOKEN && { storeToken: e.OTT_STORE_TOKEN }),
      ...(e.OTT_DISABLE_CLIENT_REQUEST === 'true' && { disableClientRequest: true }),
      ...(e.OTT_SET_OTT_HEADER_ON_NEW_SESSION === 'true' && { setOttHeaderOnNewSession: true }),
    });
  },
  // The OpenAPI document and its reference page, with the OPEN_API_* variables the Go server reads.
  'open-api': async () => {
    const e = process.env;
    return (await import('better-auth/plugins')).openAPI({
      ...(e.OPEN_API_PATH && { path: e.OPEN_API_PATH }),
      ...(e.OPEN_API_DISABLE_DEFAULT_REFERENCE === 'true' && { disableDefaultReference: true }),
    });
  },
  // JWTs for other backends: GET /token, GET /jwks and set-auth-jwt on get-session, with options
  // from the JWT_* variables the Go server reads (times in seconds, as Better-Auth takes them).
  jwt: async () => {
    const e = process.env;
    const alg = e.JWT_KEY_PAIR_ALG;
    const audience = e.JWT_AUDIENCE?.includes(',') ? e.JWT_AUDIENCE.split(',').map((s) => s.trim()).filter(Boolean) : e.JWT_AUDIENCE;
    const jwks = {
      ...(alg && { keyPairConfig: alg === 'EdDSA' ? { alg, crv: 'Ed25519' } : { alg, ...(e.JWT_KEY_PAIR_MODULUS_LENGTH && { modulusLength: Number(e.JWT_KEY_PAIR_MODULUS_LENGTH) }) } }),
      ...(e.JWT_ROTATION_INTERVAL && { rotationInterval: Number(e.JWT_ROTATION_INTERVAL) }),
      ...(e.JWT_GRACE_PERIOD && { gracePeriod: Number(e.JWT_GRACE_PERIOD) }),
      ...(e.JWT_JWKS_PATH && { jwksPath: e.JWT_JWKS_PATH }),
      ...(e.JWT_DISABLE_PRIVATE_KEY_ENCRYPTION === 'true' && { disablePrivateKeyEncryption: true }),
    };
    const jwt = {
      ...(e.JWT_ISSUER && { issuer: e.JWT_ISSUER }),
      ...(audience && { audience }),
      ...(e.JWT_EXPIRATION_TIME && { expirationTime: e.JWT_EXPIRATION_TIME }),
    };
    return (await import('better-auth/plugins')).jwt({
      jwks,
      jwt,
      ...(e.JWT_DISABLE_SETTING_JWT_HEADER === 'true' && { disableSettingJwtHeader: true }),
    });
  },
  // Device authorization (RFC 8628) with options from the DEVICE_AUTHORIZATION_* variables the Go
  // server reads: times as Better-Auth's strings ("30m", "5s"), lengths as numbers, and the client
  // ids allowed (comma-separated; unset lets any client id in, as Better-Auth without validateClient).
  'device-authorization': async () => {
    const e = process.env;
    const ids = e.DEVICE_AUTHORIZATION_CLIENT_IDS?.split(',').map((s) => s.trim()).filter(Boolean);
    return (await import('better-auth/plugins')).deviceAuthorization({
      ...(e.DEVICE_AUTHORIZATION_EXPIRES_IN && { expiresIn: e.DEVICE_AUTHORIZATION_EXPIRES_IN }),
      ...(e.DEVICE_AUTHORIZATION_INTERVAL && { interval: e.DEVICE_AUTHORIZATION_INTERVAL }),
      ...(e.DEVICE_AUTHORIZATION_USER_CODE_LENGTH && { userCodeLength: Number(e.DEVICE_AUTHORIZATION_USER_CODE_LENGTH) }),
      ...(e.DEVICE_AUTHORIZATION_DEVICE_CODE_LENGTH && { deviceCodeLength: Number(e.DEVICE_AUTHORIZATION_DEVICE_CODE_LENGTH) }),
      ...(e.DEVICE_AUTHORIZATION_VERIFICATION_URI && { verificationUri: e.DEVICE_AUTHORIZATION_VERIFICATION_URI }),
      ...(ids && { validateClient: async (id) => ids.includes(id) }),
    });
  },
  // API keys (@better-auth/api-key 1.7.5), options from the API_KEY_* variables the Go server
  // reads: the rate-limit window in milliseconds and the default expiry in seconds, as
  // Better-Auth takes them.
  'api-key': async () => {
    const e = process.env;
    const bool = (v) => ['1', 'true', 'yes', 'on'].includes((v ?? '').toLowerCase());
    return (await import('@better-auth/api-key')).apiKey({
      ...(e.API_KEY_HEADER && { apiKeyHeaders: e.API_KEY_HEADER }),
      ...(e.API_KEY_DEFAULT_PREFIX && { defaultPrefix: e.API_KEY_DEFAULT_PREFIX }),
      ...(e.API_KEY_DEFAULT_KEY_LENGTH && { defaultKeyLength: Number(e.API_KEY_DEFAULT_KEY_LENGTH) }),
      ...(bool(e.API_KEY_ENABLE_METADATA) && { enableMetadata: true }),
      ...(bool(e.API_KEY_REQUIRE_NAME) && { requireName: true }),
      rateLimit: {
        enabled: e.API_KEY_RATE_LIMIT_ENABLED ? bool(e.API_KEY_RATE_LIMIT_ENABLED) : true,
        ...(e.API_KEY_RATE_LIMIT_TIME_WINDOW && { timeWindow: Number(e.API_KEY_RATE_LIMIT_TIME_WINDOW) }),
        ...(e.API_KEY_RATE_LIMIT_MAX_REQUESTS && { maxRequests: Number(e.API_KEY_RATE_LIMIT_MAX_REQUESTS) }),
      },
      ...(e.API_KEY_DEFAULT_EXPIRES_IN && { keyExpiration: { defaultExpiresIn: Number(e.API_KEY_DEFAULT_EXPIRES_IN) } }),
      ...(bool(e.API_KEY_ENABLE_SESSION) && { enableSessionForAPIKeys: true }),
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
