import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { attempt, authClient } from "../auth";
import { fromAuth, type AppError } from "../errors";
import { ErrorAlert, Field, Notice, SubmitButton, usePageTitle } from "../ui";

export default function ForgotPassword() {
  usePageTitle("Reset your password");
  const [email, setEmail] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [sent, setSent] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    setError(null);
    // The link in the email opens /api/auth/reset-password/:token, which checks the token and
    // forwards to /reset-password?token=… (or ?error=INVALID_TOKEN).
    const { error } = await attempt((fetchOptions) =>
      authClient.requestPasswordReset({ email, redirectTo: "/reset-password", fetchOptions }),
    );
    setPending(false);
    if (error) setError(fromAuth(error));
    else setSent(true);
  }

  return (
    <section className="auth-card" aria-labelledby="forgot-title">
      <h1 id="forgot-title">Reset your password</h1>
      {sent ? (
        <>
          <Notice>
            If an account exists for {email}, we've sent it a link to choose a new password. The link works for one hour.
          </Notice>
          <p>
            <Link to="/sign-in">Back to sign in</Link>
          </p>
        </>
      ) : (
        <>
          <p className="lead">Enter the email you signed up with and we'll send you a link.</p>
          <ErrorAlert error={error} focus />
          <form onSubmit={onSubmit}>
            <Field label="Email" type="email" name="email" autoComplete="email" required value={email}
              onChange={(e) => setEmail(e.target.value)} />
            <SubmitButton pending={pending} pendingText="Sending…">Send reset link</SubmitButton>
          </form>
          <p className="switch">
            Remembered it? <Link to="/sign-in">Sign in</Link>
          </p>
        </>
      )}
    </section>
  );
}
