// How the security page words the rows of GET /api/auth/security-events (the server's audit log,
// README "Audit log"). Pure and free of imports, so the browser tests can load it on its own.

/** SecurityEvent is one row of GET /api/auth/security-events, as the server prints it. */
export interface SecurityEvent {
  id: string;
  createdAt: string;
  event: string;
  userId: string | null;
  actorId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  sessionId: string | null;
  outcome: "success" | "failure" | string;
  detail: Record<string, unknown>;
}

/** Described is a row put into words: what happened, how, and why it failed (when it did). */
export interface Described {
  title: string;
  /** method is how someone signed in ("Email and password"), or "" when the row does not say. */
  method: string;
  /** reason is why a failed attempt failed, in plain words, or "" for a success. */
  reason: string;
  failed: boolean;
}

// The sign-in methods the server records in detail.method: "email", a social provider's id, a
// plugin's name, or for flows that name none the way their route implies ("two-factor" after a
// challenge, "impersonation" for a session an administrator started). Older rows may have none.
const METHODS: Record<string, string> = {
  email: "Email and password",
  username: "Username and password",
  passkey: "Passkey",
  "magic-link": "Magic link",
  "email-otp": "Code sent by email",
  "two-factor": "Two-factor code",
  "phone-number": "Phone number",
  anonymous: "Guest access",
  "one-time-token": "One-time link",
  "device-authorization": "Code on another device",
  google: "Google",
  github: "GitHub",
  gitlab: "GitLab",
  apple: "Apple",
  microsoft: "Microsoft",
  discord: "Discord",
  social: "A social account",
  impersonation: "An administrator signed in as you",
  "email-verification": "Email verification link",
};

// Why a sign-in was refused (detail.reason): the server's reasons, and the error codes of plugins
// that refuse one (the admin plugin's ban).
const REASONS: Record<string, string> = {
  "invalid-password": "Wrong password",
  "invalid-credentials": "This account has no password to sign in with",
  locked: "Too many wrong passwords: sign-in was paused for a while",
  "email-not-verified": "Email address not verified yet",
  "invalid-code": "Wrong code",
  BANNED_USER: "The account is suspended",
  refused: "The server refused the sign-in",
};

// The password reasons: a row with one of them and no method came through a password form.
const PASSWORD_REASONS = new Set(["invalid-password", "invalid-credentials", "locked", "email-not-verified"]);

/** methodLabel names a sign-in method for people ("magic-link" → "Magic link"). */
export function methodLabel(method: unknown, reason = ""): string {
  const m = typeof method === "string" ? method : "";
  if (m === "") return PASSWORD_REASONS.has(reason) ? "Password" : "";
  if (Object.hasOwn(METHODS, m)) return METHODS[m];
  // Another provider (a generic OpenID provider's id): capitalized, dashes as spaces.
  return (m.charAt(0).toUpperCase() + m.slice(1)).replace(/[-_]+/g, " ");
}

/** reasonLabel says why a sign-in failed, in plain words ("invalid-password" → "Wrong password"). */
export function reasonLabel(reason: unknown): string {
  const r = typeof reason === "string" ? reason : "";
  if (r === "") return "Sign-in failed";
  if (Object.hasOwn(REASONS, r)) return REASONS[r];
  // A plugin's error code (SOME_CODE) or a future reason (some-reason): words, first one capital.
  const words = r.toLowerCase().replace(/[-_]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// What an administrator did (the audit event admin.<action>), as the user reads it.
const ADMIN_ACTIONS: Record<string, string> = {
  "create-user": "An administrator created your account",
  "update-user": "An administrator changed your account",
  "set-role": "An administrator changed your role",
  "set-user-password": "An administrator set your password",
  "ban-user": "An administrator suspended your account",
  "unban-user": "An administrator lifted your suspension",
  "revoke-user-session": "An administrator signed out one of your devices",
  "revoke-user-sessions": "An administrator signed you out everywhere",
  "remove-user": "An administrator deleted your account",
  "impersonate-user": "An administrator signed in as you",
  "stop-impersonating": "An administrator stopped acting as you",
};

const EVENTS: Record<string, string> = {
  "sign-up": "Account created",
  "sign-out": "Signed out",
  "password-change": "Password changed",
  "password-reset": "Password reset",
  "email-verified": "Email address verified",
  "two-factor-enabled": "Two-factor authentication turned on",
  "two-factor-disabled": "Two-factor authentication turned off",
  "passkey-added": "Passkey added",
  "passkey-removed": "Passkey removed",
  "user-deleted": "Account deleted",
};

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** describeEvent puts one security event into words for the security page. */
export function describeEvent(e: Pick<SecurityEvent, "event" | "outcome" | "detail">): Described {
  const detail = e.detail ?? {};
  const failed = e.outcome === "failure";
  const reason = str(detail.reason);
  const out: Described = { title: "", method: "", reason: failed ? reasonLabel(reason) : "", failed };
  switch (e.event) {
    case "sign-in":
      out.title = failed ? "Failed sign-in" : "Signed in";
      out.method = methodLabel(detail.method, reason);
      return out;
    case "session-revoked": {
      const scope = str(detail.scope);
      out.title = scope === "all" ? "Signed out everywhere" : scope === "others" ? "Signed out other devices" : "Signed out a device";
      return out;
    }
    case "email-change":
      out.title = "Email address changed";
      return out;
    case "account-linked":
    case "account-unlinked": {
      const provider = methodLabel(detail.provider) || "An account";
      out.title = `${provider} ${e.event === "account-linked" ? "linked" : "unlinked"}`;
      return out;
    }
  }
  if (e.event.startsWith("admin.")) {
    out.title = ADMIN_ACTIONS[e.event.slice("admin.".length)] ?? "An administrator changed your account";
    return out;
  }
  if (Object.hasOwn(EVENTS, e.event)) {
    out.title = EVENTS[e.event];
  } else {
    const words = e.event.replace(/[-_.]+/g, " ").trim();
    out.title = words.charAt(0).toUpperCase() + words.slice(1);
  }
  if (failed) out.title = `${out.title} (failed)`;
  return out;
}

/**
 * shownEvents picks the rows the security page lists, newest first as the server sends them:
 * every sign-in, success or failure, and the changes to how one signs in; sign-outs are left out,
 * since they are the person's own and the active sessions show where they are signed in.
 */
export function shownEvents<T extends Pick<SecurityEvent, "event">>(events: T[], max: number): T[] {
  return events.filter((e) => e.event !== "sign-out").slice(0, max);
}
