import { useState, type FormEvent } from "react";
import { attempt, authClient, tokenStore } from "../auth";
import { fromAuth, type AppError } from "../errors";
import { ErrorAlert, Field, Notice, SubmitButton } from "../ui";

/**
 * sendSignInLink asks the server (magic-link plugin) to mail `email` a link that signs in and
 * lands on `next`; a link that is spent, expired or wrong lands back on the sign-in page with
 * ?error=CODE. The server answers the same for every address, so nothing here says whether an
 * account exists.
 */
export async function sendSignInLink(email: string, next: string): Promise<AppError | null> {
  tokenStore.clear(); // the link's session replaces whatever this browser had
  const { error } = await attempt((fetchOptions) =>
    authClient.signIn.magicLink({ email, callbackURL: next, errorCallbackURL: "/sign-in", fetchOptions }),
  );
  return error ? fromAuth(error) : null;
}

/** sendSignInCode asks the server (email-otp plugin) to mail `email` a one-time sign-in code. */
export async function sendSignInCode(email: string): Promise<AppError | null> {
  const { error } = await attempt((fetchOptions) =>
    authClient.emailOtp.sendVerificationOtp({ email, type: "sign-in", fetchOptions }),
  );
  return error ? fromAuth(error) : null;
}

/**
 * LinkSent is the "check your inbox" state after a sign-in link was mailed: the person finishes
 * in the mail, so the page only offers a new link or another way in.
 */
export function LinkSent({ email, next, onBack }: { email: string; next: string; onBack: () => void }) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [resent, setResent] = useState(false);

  async function resend() {
    setPending(true);
    setError(null);
    setResent(false);
    const err = await sendSignInLink(email, next);
    setPending(false);
    if (err) setError(err);
    else setResent(true);
  }

  return (
    <section className="auth-card" aria-labelledby="link-sent-title">
      <h1 id="link-sent-title">Check your inbox</h1>
      <Notice>
        {resent ? "We sent a new sign-in link" : "We sent a sign-in link"} to {email}. Open it in this browser to sign in. It works
        for a few minutes and only once.
      </Notice>
      <ErrorAlert error={error} focus />
      <p className="hint">No email? Check the spam folder, or ask for a new link.</p>
      <ResendOrBack label="Email me a new link" pending={pending} onResend={resend} onBack={onBack} />
    </section>
  );
}

/**
 * CodeStep takes the one-time code mailed to `email` and signs in with it. A code dies after a
 * few wrong tries or minutes; the errors say so and the page offers a new one.
 */
export function CodeStep({ email, onDone, onBack }: { email: string; onDone: () => Promise<void>; onBack: () => void }) {
  const [code, setCode] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState(`We emailed a sign-in code to ${email}. It works for a few minutes.`);
  const [sending, setSending] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    setError(null);
    tokenStore.clear(); // a new sign-in replaces whatever session this browser had
    const { error } = await attempt((fetchOptions) => authClient.signIn.emailOtp({ email, otp: code.trim(), fetchOptions }));
    if (error) {
      setPending(false);
      setError(fromAuth(error));
      return;
    }
    await onDone();
  }

  async function resend() {
    setError(null);
    setNotice("");
    setSending(true);
    const err = await sendSignInCode(email);
    setSending(false);
    if (err) {
      setError(err);
      return;
    }
    setCode("");
    setNotice(`We emailed a new code to ${email}. Only the newest code works.`);
  }

  const spent = error?.code === "TOO_MANY_ATTEMPTS" || error?.code === "OTP_EXPIRED";
  return (
    <section className="auth-card" aria-labelledby="code-step-title">
      <h1 id="code-step-title">Enter your code</h1>
      <Notice>{notice || null}</Notice>
      <ErrorAlert error={error} focus />
      <form onSubmit={onSubmit}>
        <Field label="Code from the email" name="code" inputMode="numeric" autoComplete="one-time-code" required
          pattern="[0-9]{4,12}" value={code} onChange={(e) => setCode(e.target.value)}
          invalid={error?.code === "INVALID_OTP"} autoFocus />
        <SubmitButton pending={pending} pendingText="Signing in…">Sign in</SubmitButton>
      </form>
      <ResendOrBack label="Email me a new code" primary={spent} pending={sending} onResend={resend} onBack={onBack} />
    </section>
  );
}

/**
 * ResendOrBack ends both steps: ask for a new mail (primary when the old one can no longer work)
 * or go back to the sign-in page's other ways.
 */
function ResendOrBack({ label, primary = false, pending, onResend, onBack }: {
  label: string;
  primary?: boolean;
  pending: boolean;
  onResend: () => Promise<void>;
  onBack: () => void;
}) {
  return (
    <>
      <div className="button-stack">
        <button type="button" className={primary ? "button primary wide" : "button wide"} onClick={() => void onResend()}
          disabled={pending} aria-busy={pending || undefined}>
          {pending ? "Sending…" : label}
        </button>
      </div>
      <p className="switch">
        <button type="button" className="link-button" onClick={onBack}>Use another way to sign in</button>
      </p>
    </>
  );
}
