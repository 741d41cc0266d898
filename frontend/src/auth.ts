import { passkeyClient } from "@better-auth/passkey/client";
import { adminClient, emailOTPClient, magicLinkClient, twoFactorClient } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/react";
import { parseRetryAfter } from "./format";

const TOKEN_KEY = "pathway.session-token";

/**
 * tokenStore keeps the bearer token the server returns in `set-auth-token`. The session cookie
 * works on its own (same host), but the token lets /content calls carry `Authorization: Bearer`
 * as the design describes, and keeps the app working where cookies are blocked.
 */
export const tokenStore = {
  get(): string | null {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token: string) {
    try {
      localStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Private mode without storage: the cookie still carries the session.
    }
  },
  clear() {
    try {
      localStorage.removeItem(TOKEN_KEY);
    } catch {
      // Nothing stored, nothing to clear.
    }
  },
};

/** A second-factor challenge: the methods the server offers for it ("totp", "otp"). */
export interface TwoFactorChallenge {
  methods: string[];
}

let challenge: TwoFactorChallenge | null = null;

/**
 * takeTwoFactorChallenge returns the challenge the last sign-in call ended in, once, or null when
 * it signed in. The client reports the challenge (onTwoFactorRedirect) before the sign-in call
 * resolves, so the sign-in page asks for it right after its own call.
 */
export function takeTwoFactorChallenge(): TwoFactorChallenge | null {
  const c = challenge;
  challenge = null;
  return c;
}

/**
 * authClient is the unmodified Better-Auth React client pointed at this same server, with the
 * client halves of the two-factor, passkey, magic-link, email-otp and admin plugins (their calls
 * answer 404 when the server has them off; the pages ask settings() first). The admin half also
 * types the user's role and the session's impersonatedBy, and refetches the session after an
 * impersonation starts or stops.
 */
export const authClient = createAuthClient({
  baseURL: window.location.origin,
  plugins: [
    twoFactorClient({
      onTwoFactorRedirect({ twoFactorMethods }) {
        challenge = { methods: twoFactorMethods ?? [] };
      },
    }),
    passkeyClient(),
    magicLinkClient(),
    emailOTPClient(),
    adminClient(),
  ],
  fetchOptions: {
    onSuccess(ctx) {
      // Sign-in, sign-up and session refreshes carry the (signed) token to use as a bearer.
      const token = ctx.response.headers.get("set-auth-token");
      if (token) tokenStore.set(token);
    },
    auth: { type: "Bearer", token: () => tokenStore.get() ?? undefined },
  },
});

export const { useSession } = authClient;

/** ClientError is the error half of what a Better-Auth client call resolves to. */
interface ClientError {
  code?: string;
  message?: string;
  status: number;
}

/**
 * attempt runs one Better-Auth client call and adds to its error the wait a 429 answer gives in
 * X-Retry-After (seconds), which the client itself drops: pass the given fetchOptions to the call.
 * For example: `await attempt((fetchOptions) => authClient.signIn.email({ email, password, fetchOptions }))`.
 */
export async function attempt<D, E extends ClientError>(
  call: (fetchOptions: { onError: (ctx: { response: Response }) => void }) => Promise<{ data: D; error: E | null }>,
): Promise<{ data: D; error: (E & { retryAfter?: number }) | null }> {
  let retryAfter: number | undefined;
  const res = await call({
    onError(ctx) {
      retryAfter = parseRetryAfter(ctx.response.headers.get("x-retry-after"));
    },
  });
  return { data: res.data, error: res.error ? { ...res.error, retryAfter } : null };
}

/** Session and User as the client types them. */
export type SessionData = NonNullable<ReturnType<typeof useSession>["data"]>;

/** refreshSession makes every useSession() consumer fetch the session again. */
export function refreshSession() {
  authClient.$store.notify("$sessionSignal");
}

/**
 * sessionBecomes resolves once the session hook reports signed in (true) or signed out (false),
 * after a sign-in or sign-out. The client refetches the session by itself after those calls, but a
 * page that moves on before the hook catches up would act on the old state (a protected page
 * sending a just-signed-in user back to sign in). It gives up after 5 s and lets the caller go on.
 */
export function sessionBecomes(signedIn: boolean): Promise<void> {
  return sessionSettles((data) => Boolean(data) === signedIn);
}

/**
 * sessionSettles is sessionBecomes for any condition on the session (null when signed out), such
 * as "the session is the admin's again" after an impersonation ends. Same 5 s limit.
 */
export function sessionSettles(ok: (data: SessionData | null) => boolean): Promise<void> {
  const atom = authClient.$store.atoms.session;
  const settled = (v: ReturnType<typeof atom.get>) => !v.isPending && !v.isRefetching && ok((v.data ?? null) as SessionData | null);
  if (settled(atom.get())) return Promise.resolve();
  void atom.get().refetch();
  return new Promise((resolve) => {
    const timer = setTimeout(finish, 5000);
    const unlisten = atom.listen((v) => {
      if (settled(v)) finish();
    });
    function finish() {
      clearTimeout(timer);
      unlisten();
      resolve();
    }
  });
}

let signingOut = false;

/**
 * isSigningOut is true while signOut runs: protected pages then wait instead of sending the user
 * to sign in on their own, so the sign-out can land on its own page with its own message.
 */
export const isSigningOut = () => signingOut;

/**
 * signOut ends the session on the server, forgets the local token either way, waits until the
 * session hook says "signed out", then calls done (which navigates away).
 */
export async function signOut(done: () => void) {
  signingOut = true;
  try {
    // Someone who linked an OpenID provider with a logout endpoint would otherwise be sent to
    // that provider's logout page (the answer's url, which the client follows) and never see the
    // app again: signing out of this app ends this app's session, not their provider account.
    await authClient.signOut({ disableRedirect: true }).catch(() => undefined);
    tokenStore.clear();
    await sessionBecomes(false);
    done();
  } finally {
    signingOut = false;
  }
}
