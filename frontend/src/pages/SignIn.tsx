import { useEffect, useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from "react-router-dom";
import { attempt, authClient, sessionBecomes, tokenStore, useSession } from "../auth";
import { fromAuth, type AppError } from "../errors";
import { settings } from "../settings";
import { ErrorAlert, Field, Notice, safeNext, SubmitButton, usePageTitle } from "../ui";

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
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
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
    // Load the new session before leaving, so the next page does not see "signed out".
    await sessionBecomes(true);
    navigate(next, { replace: true });
  }

  // Signed in already: go on, unless a page asked for a fresh sign-in (?reauth=1).
  if (session.data && !pending && !params.has("reauth")) return <Navigate to={next} replace />;

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
        <Field label="Email" type="email" name="email" autoComplete="email" required value={email}
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
      {!settings().signUpDisabled && (
        <p className="switch">
          New here? <Link to="/sign-up">Create an account</Link>
        </p>
      )}
    </section>
  );
}
