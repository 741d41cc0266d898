import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from "react-router-dom";
import { attempt, authClient, sessionBecomes, takeTwoFactorChallenge, tokenStore, useSession, type TwoFactorChallenge } from "../auth";
import { describeRedirect, fromAuth, type AppError } from "../errors";
import { hasPlugin, settings } from "../settings";
import { ErrorAlert, Field, Notice, safeNext, SubmitButton, usePageTitle } from "../ui";
import { CodeStep, LinkSent, sendSignInCode, sendSignInLink } from "./EmailSignIn";

/** EmailWay is a password-less sign-in under way: a mailed link or a mailed code. */
type EmailWay = { kind: "link" | "code"; email: string };

export default function SignIn() {
  usePageTitle("Sign in");
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const session = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [remember, setRemember] = useState(true);
  const [pending, setPending] = useState(false);
  // A failed sign-in link lands here with ?error=CODE (its errorCallbackURL).
  const linkError = params.get("error");
  const [error, setError] = useState<AppError | null>(() => (linkError ? { code: linkError, message: describeRedirect(linkError) } : null));
  const [notice, setNotice] = useState<string | null>(null);
  const [challenge, setChallenge] = useState<TwoFactorChallenge | null>(null);
  const [emailWay, setEmailWay] = useState<EmailWay | null>(null);
  const [sending, setSending] = useState<EmailWay["kind"] | null>(null);
  const emailInput = useRef<HTMLInputElement | null>(null);
  const passkeys = hasPlugin("passkey") && typeof window.PublicKeyCredential === "function";
  const magicLink = hasPlugin("magic-link");
  const emailCode = hasPlugin("email-otp");
  const signedOut = (location.state as { signedOut?: boolean } | null)?.signedOut;
  useEffect(() => {
    // The page may already be showing (a protected page sent us here first), so react to the
    // navigation rather than to the first render.
    if (signedOut) setNotice("You're signed out.");
  }, [signedOut, location.key]);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    setError(null);
    setNotice(null);
    tokenStore.clear(); // a new sign-in replaces whatever session this browser had
    const { error } = await attempt((fetchOptions) => authClient.signIn.email({ email, password, rememberMe: remember, fetchOptions }));
    if (error) {
      setPending(false);
      setError(fromAuth(error));
      return;
    }
    const second = takeTwoFactorChallenge();
    if (second) {
      // Right password; the server wants a second factor before it makes a session.
      setPending(false);
      setPassword("");
      setChallenge(second);
      return;
    }
    await signedIn();
  }

  /** signedIn loads the new session before leaving, so the next page does not see "signed out". */
  async function signedIn() {
    await sessionBecomes(true);
    navigate(next, { replace: true });
  }

  // With passkeys on, the browser offers them in the email field's autofill (conditional UI):
  // the request waits in the background until the person picks one.
  const onSignedIn = useRef(signedIn);
  onSignedIn.current = signedIn;
  useEffect(() => {
    if (!passkeys || challenge || emailWay) return;
    let live = true;
    void (async () => {
      const available = await PublicKeyCredential.isConditionalMediationAvailable?.().catch(() => false);
      if (!available || !live) return;
      const { data, error } = await authClient.signIn.passkey({ autoFill: true });
      // A cancelled or replaced autofill request (the button below starts its own) says nothing.
      if (!live || error || !data) return;
      setPending(true);
      await onSignedIn.current();
    })();
    return () => {
      live = false;
    };
  }, [passkeys, challenge, emailWay]);

  async function withPasskey() {
    setPending(true);
    setError(null);
    setNotice(null);
    tokenStore.clear();
    const { error } = await authClient.signIn.passkey();
    if (error) {
      setPending(false);
      setError(fromAuth(error));
      return;
    }
    await signedIn();
  }

  /**
   * byEmail starts a password-less sign-in for the address in the email field: it mails a link or
   * a code, then the page shows that way's next step. The password field is not needed for it.
   */
  async function byEmail(kind: EmailWay["kind"]) {
    setError(null);
    setNotice(null);
    const input = emailInput.current;
    if (!input || !email.trim() || !input.checkValidity()) {
      setError(fromAuth({ code: "INVALID_EMAIL", status: 400 }));
      return;
    }
    setSending(kind);
    const addr = email.trim();
    const err = kind === "link" ? await sendSignInLink(addr, next) : await sendSignInCode(addr);
    setSending(null);
    if (err) setError(err);
    else setEmailWay({ kind, email: addr });
  }

  function backFromEmail() {
    setEmailWay(null);
    setError(null);
  }

  // Signed in already: go on, unless a page asked for a fresh sign-in (?reauth=1).
  if (session.data && !pending && !params.has("reauth")) return <Navigate to={next} replace />;

  if (emailWay?.kind === "link") return <LinkSent email={emailWay.email} next={next} onBack={backFromEmail} />;
  if (emailWay?.kind === "code") return <CodeStep email={emailWay.email} onDone={signedIn} onBack={backFromEmail} />;

  if (challenge) {
    return (
      <TwoFactorStep challenge={challenge} onDone={signedIn}
        onRestart={() => setChallenge(null)} />
    );
  }

  async function resendVerification() {
    setError(null);
    const { error } = await attempt((fetchOptions) =>
      authClient.sendVerificationEmail({ email, callbackURL: "/verify-email", fetchOptions }),
    );
    if (error) setError(fromAuth(error));
    else setNotice(`We sent a new verification link to ${email}.`);
  }

  return (
    <section className="auth-card" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <p className="lead">Welcome back. Pick up where you left off.</p>
      <Notice>{notice}</Notice>
      <ErrorAlert error={error} focus />
      {error?.code === "EMAIL_NOT_VERIFIED" && (
        <button type="button" className="button" onClick={resendVerification}>
          Send a new verification link
        </button>
      )}
      <form onSubmit={onSubmit}>
        <Field label="Email" type="email" name="email" ref={emailInput} autoComplete={passkeys ? "username webauthn" : "email"} required value={email}
          onChange={(e) => setEmail(e.target.value)} invalid={error?.code === "INVALID_EMAIL"} />
        <Field label="Password" type="password" name="password" autoComplete="current-password" required value={password}
          onChange={(e) => setPassword(e.target.value)} />
        <div className="row-between">
          <label className="check">
            <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} /> Keep me signed in
          </label>
          <Link to="/forgot-password">Forgot password?</Link>
        </div>
        <SubmitButton pending={pending} pendingText="Signing in…">Sign in</SubmitButton>
      </form>
      {(passkeys || magicLink || emailCode) && (
        <>
          <p className="divider"><span>or</span></p>
          <div className="button-stack">
            {passkeys && (
              <button type="button" className="button wide" onClick={() => void withPasskey()} disabled={pending}>
                Sign in with a passkey
              </button>
            )}
            {magicLink && (
              <button type="button" className="button wide" onClick={() => void byEmail("link")} disabled={pending || sending !== null}
                aria-busy={sending === "link" || undefined}>
                {sending === "link" ? "Sending the link…" : "Email me a sign-in link"}
              </button>
            )}
            {emailCode && (
              <button type="button" className="button wide" onClick={() => void byEmail("code")} disabled={pending || sending !== null}
                aria-busy={sending === "code" || undefined}>
                {sending === "code" ? "Sending the code…" : "Sign in with a code"}
              </button>
            )}
          </div>
          {(magicLink || emailCode) && (
            <p className="hint">
              No password needed: we email {magicLink && emailCode ? "a link or a code" : magicLink ? "a link" : "a code"} to the address above.
            </p>
          )}
        </>
      )}
      {!settings().signUpDisabled && (
        <p className="switch">
          New here?{" "}
          {/* An invitee without an account signs up and still lands where the link pointed. */}
          <Link to={params.has("next") ? `/sign-up?next=${encodeURIComponent(next)}` : "/sign-up"}>Create an account</Link>
        </p>
      )}
    </section>
  );
}

const METHOD_LABELS: Record<string, string> = {
  totp: "Authenticator app",
  otp: "Code by email",
  backup: "Backup code",
};

/**
 * TwoFactorStep is the second step of a sign-in with two-factor on: a code from the app, a
 * mailed code or a backup code, checked against the challenge cookie the password step set.
 */
function TwoFactorStep({ challenge, onDone, onRestart }: { challenge: TwoFactorChallenge; onDone: () => Promise<void>; onRestart: () => void }) {
  const methods = [...challenge.methods.filter((m) => m === "totp" || m === "otp"), "backup"];
  const [method, setMethod] = useState(methods[0]);
  const [code, setCode] = useState("");
  const [trust, setTrust] = useState(false);
  const [pending, setPending] = useState(false);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function sendCode() {
    setError(null);
    setNotice(null);
    const { error } = await attempt((fetchOptions) => authClient.twoFactor.sendOtp({ fetchOptions }));
    if (error) {
      setError(fromAuth(error));
      return;
    }
    setSent(true);
    setNotice("We emailed you a code. It works for a few minutes.");
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    setError(null);
    setNotice(null);
    const body = { code: code.trim(), trustDevice: trust };
    const { error } = await attempt((fetchOptions) =>
      method === "totp"
        ? authClient.twoFactor.verifyTotp({ ...body, fetchOptions })
        : method === "otp"
          ? authClient.twoFactor.verifyOtp({ ...body, fetchOptions })
          : authClient.twoFactor.verifyBackupCode({ ...body, fetchOptions }),
    );
    if (error) {
      setPending(false);
      setError(fromAuth(error));
      return;
    }
    await onDone();
  }

  const restart = error?.code === "INVALID_TWO_FACTOR_COOKIE" || error?.code === "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE";
  return (
    <section className="auth-card" aria-labelledby="tf-step-title">
      <h1 id="tf-step-title">Confirm it's you</h1>
      <p className="lead">Your account has two-factor authentication on. Enter a code to finish signing in.</p>
      <Notice>{notice}</Notice>
      <ErrorAlert error={error} focus />
      {restart && (
        <button type="button" className="button" onClick={onRestart}>
          Start signing in again
        </button>
      )}
      <form onSubmit={onSubmit}>
        <fieldset className="group">
          <legend>Use</legend>
          <div className="choices">
            {methods.map((m) => (
              <label key={m} className="choice">
                <input type="radio" name="method" value={m} checked={method === m}
                  onChange={() => { setMethod(m); setCode(""); setError(null); }} />
                <span>{METHOD_LABELS[m]}</span>
              </label>
            ))}
          </div>
        </fieldset>
        {method === "otp" && (
          <button type="button" className="button" onClick={() => void sendCode()}>
            {sent ? "Email me a new code" : "Email me a code"}
          </button>
        )}
        {method === "backup" ? (
          <Field label="One of your backup codes" name="backup-code" autoComplete="off" autoCapitalize="off" spellCheck={false} required
            value={code} onChange={(e) => setCode(e.target.value)} invalid={error?.code === "INVALID_BACKUP_CODE"}
            hint="One of the codes you saved when you turned two-factor on. Each works once." />
        ) : (
          <Field label={method === "otp" ? "Code from the email" : "Code from your authenticator app"} name="code"
            inputMode="numeric" autoComplete="one-time-code" required pattern="[0-9]{6,10}" value={code}
            onChange={(e) => setCode(e.target.value)} invalid={error?.code === "INVALID_CODE"} autoFocus />
        )}
        <label className="check">
          <input type="checkbox" checked={trust} onChange={(e) => setTrust(e.target.checked)} /> Trust this device: don't ask for a code here for a while
        </label>
        <SubmitButton pending={pending} pendingText="Checking…">Verify</SubmitButton>
      </form>
      <p className="switch">
        <button type="button" className="link-button" onClick={onRestart}>Cancel and sign in again</button>
      </p>
    </section>
  );
}
