import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { attempt, authClient } from "../auth";
import { describeRedirect, fromAuth, type AppError } from "../errors";
import { passwordHint, settings } from "../settings";
import { ErrorAlert, Field, Notice, SubmitButton, usePageTitle } from "../ui";

export default function ResetPassword() {
  usePageTitle("Choose a new password");
  const [params] = useSearchParams();
  // Read the token once, then drop it from the address bar and history.
  const [token] = useState(() => params.get("token") ?? "");
  const [linkError] = useState(() => params.get("error"));
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [done, setDone] = useState(false);

  useEffect(() => {
    if (params.has("token")) window.history.replaceState(null, "", "/reset-password");
  }, [params]);

  if (linkError || !token) {
    const code = linkError ?? "INVALID_TOKEN";
    return (
      <section className="auth-card" aria-labelledby="reset-title">
        <h1 id="reset-title">Choose a new password</h1>
        <ErrorAlert error={{ code, message: describeRedirect(code) }} />
        <p>
          <Link to="/forgot-password" className="button">Send me a new link</Link>
        </p>
      </section>
    );
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (password !== confirm) {
      setError({ code: "PASSWORD_MISMATCH", message: "The two passwords don't match." });
      return;
    }
    setPending(true);
    setError(null);
    const { error } = await attempt((fetchOptions) => authClient.resetPassword({ newPassword: password, token, fetchOptions }));
    setPending(false);
    if (error) setError(fromAuth(error));
    else setDone(true);
  }

  return (
    <section className="auth-card" aria-labelledby="reset-title">
      <h1 id="reset-title">Choose a new password</h1>
      {done ? (
        <>
          <Notice>Your password has been changed. Sign in with the new one.</Notice>
          <p>
            <Link to="/sign-in" className="button primary">Sign in</Link>
          </p>
        </>
      ) : (
        <>
          <ErrorAlert error={error} focus />
          {(error?.code === "INVALID_TOKEN" || error?.code === "TOKEN_EXPIRED") && (
            <p>
              <Link to="/forgot-password">Send me a new link</Link>
            </p>
          )}
          <form onSubmit={onSubmit}>
            <Field label="New password" type="password" name="password" autoComplete="new-password" required
              minLength={settings().minPasswordLength} value={password} onChange={(e) => setPassword(e.target.value)}
              hint={passwordHint()} invalid={error?.code === "PASSWORD_TOO_SHORT" || error?.code === "PASSWORD_TOO_LONG"} />
            <Field label="Repeat the new password" type="password" name="confirm" autoComplete="new-password" required
              value={confirm} onChange={(e) => setConfirm(e.target.value)} invalid={error?.code === "PASSWORD_MISMATCH"} />
            <SubmitButton pending={pending} pendingText="Saving…">Set new password</SubmitButton>
          </form>
        </>
      )}
    </section>
  );
}
