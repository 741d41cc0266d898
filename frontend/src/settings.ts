/**
 * Settings are the server's account rules (GET /content/public/settings), so the forms can say
 * what the server will accept instead of learning it from a refusal, and what it offers (plugins,
 * social providers), so no page shows a button the server would answer with 404.
 */
export interface Settings {
  minPasswordLength: number;
  maxPasswordLength: number;
  signUpDisabled: boolean;
  requireEmailVerification: boolean;
  rejectCommonPasswords: boolean;
  /** Better-Auth plugin names the server has on ("two-factor", "passkey", …). */
  plugins: string[];
  /** Social and OIDC provider ids the server can sign in with ("google", …). */
  socialProviders: string[];
}

// Better-Auth's defaults: what the server enforces when nothing is configured.
let current: Settings = {
  minPasswordLength: 8,
  maxPasswordLength: 128,
  signUpDisabled: false,
  requireEmailVerification: false,
  rejectCommonPasswords: false,
  plugins: [],
  socialProviders: [],
};

const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/**
 * loadSettings asks the server for its rules once, before the app first renders (so no form
 * shows a wrong hint first). It gives up after 3 s and keeps the defaults; the server still
 * enforces its rules and the app shows its refusals.
 */
export async function loadSettings(): Promise<void> {
  try {
    const res = await fetch("/content/public/settings", { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return;
    const body = (await res.json()) as Partial<Settings>;
    current = {
      minPasswordLength: typeof body.minPasswordLength === "number" ? body.minPasswordLength : current.minPasswordLength,
      maxPasswordLength: typeof body.maxPasswordLength === "number" ? body.maxPasswordLength : current.maxPasswordLength,
      signUpDisabled: body.signUpDisabled === true,
      requireEmailVerification: body.requireEmailVerification === true,
      rejectCommonPasswords: body.rejectCommonPasswords === true,
      plugins: names(body.plugins),
      socialProviders: names(body.socialProviders),
    };
  } catch {
    // Offline or an older server: the defaults stand.
  }
}

/** settings returns the rules loaded at start (the defaults until then). */
export function settings(): Settings {
  return current;
}

/** hasPlugin reports whether the server has the Better-Auth plugin `id` on. */
export function hasPlugin(id: string): boolean {
  return current.plugins.includes(id);
}

/** passwordHint is the sentence under a new-password field. */
export function passwordHint(): string {
  const s = current;
  const common = s.rejectCommonPasswords ? " Very common passwords are refused." : "";
  return `At least ${s.minPasswordLength} characters.${common}`;
}
