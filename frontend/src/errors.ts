import axios from "axios";
import { parseRetryAfter, waitText } from "./format";
import { settings } from "./settings";

/** AppError is what the pages show: a sentence for people, plus the server's code for tests and logs. */
export interface AppError {
  message: string;
  code?: string;
  status?: number;
}

// Messages for the codes the server sends (Better-Auth's and the content API's). Anything not
// listed falls back to the server's own message, then to a generic sentence by status.
const messages: Record<string, string | (() => string)> = {
  INVALID_EMAIL_OR_PASSWORD: "That email and password don't match an account. Check both and try again.",
  USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: "An account with this email already exists. Sign in instead, or use another email.",
  USER_ALREADY_EXISTS: "An account with this email already exists. Sign in instead, or use another email.",
  INVALID_EMAIL: "Enter a valid email address, like name@example.com.",
  PASSWORD_TOO_SHORT: () => `That password is too short. Use at least ${settings().minPasswordLength} characters.`,
  PASSWORD_TOO_LONG: () => `That password is too long. Use at most ${settings().maxPasswordLength} characters.`,
  PASSWORD_COMPROMISED: "That password is too common to be safe. Choose another one.",
  INVALID_PASSWORD: "The current password is not correct.",
  EMAIL_NOT_VERIFIED: "Verify your email address before signing in. We can send you a new link.",
  EMAIL_PASSWORD_SIGN_UP_DISABLED: "New accounts can't be created on this server right now.",
  FAILED_TO_CREATE_USER: "We couldn't create your account. Try again in a moment.",
  FAILED_TO_CREATE_SESSION: "We couldn't sign you in. Try again in a moment.",
  INVALID_TOKEN: "This link is invalid or has already been used. Ask for a new one.",
  TOKEN_EXPIRED: "This link has expired. Ask for a new one.",
  EMAIL_ALREADY_VERIFIED: "Your email address is already verified.",
  SESSION_NOT_FRESH: "For your security, sign in again to see this page.",
  SESSION_EXPIRED: "Your session has expired. Sign in again.",
  UNAUTHORIZED: "You're signed out. Sign in to continue.",
  FAILED_TO_GET_SESSION: "You're signed out. Sign in to continue.",
  SERVER_BUSY: "The server is busy right now. Wait a few seconds and try again.",
  SERVICE_UNAVAILABLE: "The service is temporarily unavailable. Try again shortly.",
  INTERNAL_SERVER_ERROR: "Something went wrong on our side. Try again in a moment.",
  INVALID_ORIGIN: "This page isn't allowed to talk to the server. Open the app from its own address.",
  MISSING_OR_NULL_ORIGIN: "This page isn't allowed to talk to the server. Open the app from its own address.",
  CREDENTIAL_ACCOUNT_NOT_FOUND: "This account has no password set.",
  PAYLOAD_TOO_LARGE: "That's too much text. Shorten it and try again.",
  NOT_FOUND: "We couldn't find that.",
  ITEM_NOT_FOUND: "We couldn't find that article. It may have been removed.",
  PROFILE_NOT_FOUND: "Tell us what you'd like to learn to get a personalized feed.",
  INVALID_CURSOR: "The list changed. Reload the page to start again.",
  // two-factor
  INVALID_CODE: "That code isn't right. Check it and try again.",
  INVALID_BACKUP_CODE: "That backup code isn't right, or it was used already.",
  OTP_HAS_EXPIRED: "That code has expired. Ask for a new one.",
  TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE: "Too many wrong codes. Ask for a new code, or sign in again.",
  ACCOUNT_TEMPORARILY_LOCKED: "Too many wrong codes. Your account is locked for a while; try again later.",
  INVALID_TWO_FACTOR_COOKIE: "This sign-in took too long. Sign in again.",
  OTP_NOT_CONFIGURED: "This server can't email sign-in codes. Use your app or a backup code.",
  TOTP_NOT_ENABLED: "Two-factor with an authenticator app isn't set up for this account.",
  TWO_FACTOR_NOT_ENABLED: "Two-factor isn't turned on for this account.",
  // email-otp sign-in codes
  INVALID_OTP: "That code isn't right. Check it and try again.",
  OTP_EXPIRED: "That code has expired. Ask for a new one.",
  TOO_MANY_ATTEMPTS: "Too many wrong tries: that code no longer works. Ask for a new one.",
  // passkeys (the client reports a cancelled browser prompt with these too)
  AUTH_CANCELLED: "Passkey sign-in was cancelled or failed. Try again, or use your password.",
  ERROR_CEREMONY_ABORTED: "Adding the passkey was cancelled.",
  ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED: "This device already has a passkey for your account.",
  PASSKEY_NOT_FOUND: "That passkey isn't registered here (any more). Use your password instead.",
  AUTHENTICATION_FAILED: "The passkey didn't work. Try again, or use your password.",
  FAILED_TO_VERIFY_REGISTRATION: "The passkey couldn't be added. Try again.",
  CHALLENGE_NOT_FOUND: "That took too long. Try again.",
  // linked accounts
  FAILED_TO_UNLINK_LAST_ACCOUNT: "This is your only way to sign in, so it can't be removed.",
  ACCOUNT_NOT_FOUND: "That sign-in method isn't linked to your account.",
  SOCIAL_ACCOUNT_ALREADY_LINKED: "That account is already linked.",
  // reading groups (organizations)
  ORGANIZATION_ALREADY_EXISTS: "A group with that name already exists. Choose another name.",
  ORGANIZATION_SLUG_ALREADY_TAKEN: "A group with that name already exists. Choose another name.",
  YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS: "You can't create more groups.",
  YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_ORGANIZATION: "You can't create groups on this server.",
  ORGANIZATION_NOT_FOUND: "That group doesn't exist any more.",
  USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION: "That person is already a member of this group.",
  USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION: "That person already has a pending invitation to this group.",
  YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION: "Only the group's owners and admins can invite people.",
  YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE: "You can't give that role to someone you invite.",
  INVITATION_LIMIT_REACHED: "This group can't take more invitations right now.",
  ORGANIZATION_MEMBERSHIP_LIMIT_REACHED: "This group is full.",
  INVITATION_NOT_FOUND: "This invitation doesn't exist, has expired, or was already answered or cancelled.",
  YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION: "This invitation was sent to another email address. Sign in with the account it was sent to.",
  EMAIL_VERIFICATION_REQUIRED_BEFORE_ACCEPTING_OR_REJECTING_INVITATION: "Verify your email address first, then answer the invitation.",
  YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION: "Only the group's owners and admins can cancel invitations.",
  INVITER_IS_NO_LONGER_A_MEMBER_OF_THE_ORGANIZATION: "The person who invited you has left the group, so this invitation no longer works.",
  USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION: "You're not a member of that group.",
};

const GENERIC = "Something went wrong. Please try again.";

// Codes the server puts in a redirect to the app (?error=CODE) after a link or a social sign-in
// failed, with their sentences. Only these are shown as such: the address is the attacker's to
// write, so its text (error_description) is never shown.
const redirectMessages: Record<string, string> = {
  INVALID_TOKEN: "This link is invalid or has already been used. Ask for a new one.",
  TOKEN_EXPIRED: "This link has expired. Ask for a new one.",
  EMAIL_ALREADY_VERIFIED: "Your email address is already verified.",
  access_denied: "Sign-in was cancelled.",
  state_not_found: "That sign-in took too long or was started elsewhere. Please start again.",
  state_mismatch: "That sign-in took too long or was started elsewhere. Please start again.",
  please_restart_the_process: "That sign-in took too long or was started elsewhere. Please start again.",
  account_not_linked: "An account with this email already exists. Sign in with your password first.",
  new_user_signup_disabled: "New accounts can't be created on this server right now. Sign in with an existing account.",
  // linking an account from the security page
  email_does_not_match: "That account has a different email address from yours, so it can't be linked.",
  unable_to_link_account: "That account couldn't be linked. Check that its email address is verified with the provider.",
  account_already_linked_to_different_user: "That account is already linked to someone else.",
  signup_disabled: "New accounts can't be created on this server right now.",
  email_not_found: "Your provider did not share an email address, which we need to create your account.",
  internal_server_error: "Something went wrong on our side. Try again in a moment.",
};

function text(m: string | (() => string)): string {
  return typeof m === "function" ? m() : m;
}

/**
 * describeRedirect picks the sentence for an ?error=CODE the app was sent to: the app's own for a
 * code it knows, a generic one otherwise. Never text from the address itself.
 */
export function describeRedirect(code: string): string {
  return Object.hasOwn(redirectMessages, code) ? redirectMessages[code] : GENERIC;
}

function byStatus(status?: number): string {
  if (!status) return "Can't reach the server. Check your connection and try again.";
  if (status === 401) return text(messages.UNAUTHORIZED);
  if (status === 403) return "You don't have access to this.";
  if (status === 404) return text(messages.NOT_FOUND);
  if (status === 429) return "Too many attempts. Wait a minute and try again.";
  if (status >= 500) return text(messages.INTERNAL_SERVER_ERROR);
  return "That didn't work. Check the form and try again.";
}

/**
 * fieldIssues rewords a VALIDATION_ERROR message ("[body.background] must be at most 500
 * characters long; [body.level] …") as "Background must be at most 500 characters long. …".
 */
function fieldIssues(message: string): string {
  return message
    .split("; ")
    .map((part) => {
      const m = /^\[(?:body|query)\.([A-Za-z]+)[^\]]*\]\s*(.*)$/.exec(part);
      const text = m ? `${m[1].charAt(0).toUpperCase()}${m[1].slice(1)} ${m[2]}` : part;
      return text.endsWith(".") ? text : `${text}.`;
    })
    .join(" ");
}

/**
 * describe picks the sentence for a server answer. retryAfter is the wait (seconds) a 429 answer
 * gave in X-Retry-After.
 */
export function describe(code: string | undefined, status: number | undefined, serverMessage?: string, retryAfter?: number): string {
  if (status === 429) {
    return retryAfter === undefined ? "Too many attempts. Wait a minute and try again." : `Too many attempts. Try again in ${waitText(retryAfter)}.`;
  }
  if (code && Object.hasOwn(messages, code)) return text(messages[code]);
  if (code === "VALIDATION_ERROR" && serverMessage) return `Please check the form. ${fieldIssues(serverMessage)}`;
  if (serverMessage && status && status < 500) return serverMessage;
  return byStatus(status);
}

/**
 * fromAuth turns a Better-Auth client error ({code, message, status}, plus retryAfter when the
 * call went through attempt()) into an AppError.
 */
export function fromAuth(err: { code?: string; message?: string; status: number; retryAfter?: number } | null | undefined): AppError {
  if (!err) return { message: byStatus(undefined) };
  // better-fetch reports a network failure as status 0 without a code.
  const status = err.status || undefined;
  return { code: err.code, status, message: describe(err.code, status, err.message, err.retryAfter) };
}

/** fromRequest turns an axios failure (or anything thrown) into an AppError. */
export function fromRequest(e: unknown): AppError {
  if (axios.isAxiosError(e)) {
    if (!e.response) return { message: byStatus(undefined) };
    const data = (e.response.data ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof data.code === "string" ? data.code : undefined;
    const msg = typeof data.message === "string" ? data.message : undefined;
    const wait = parseRetryAfter(e.response.headers?.["x-retry-after"]);
    return { code, status: e.response.status, message: describe(code, e.response.status, msg, wait) };
  }
  return { message: text(messages.INTERNAL_SERVER_ERROR) };
}
