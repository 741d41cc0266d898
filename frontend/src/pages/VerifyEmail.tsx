import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { refreshSession, useSession } from "../auth";
import { describeRedirect } from "../errors";
import { ErrorAlert, Notice, usePageTitle } from "../ui";

/**
 * VerifyEmail is where the link in a verification email lands: the server has already verified
 * the address (or not) and redirects here, with ?error=CODE when the link was bad.
 */
export default function VerifyEmail() {
  usePageTitle("Email verification");
  const [params] = useSearchParams();
  const [code] = useState(() => params.get("error"));
  const { data } = useSession();

  useEffect(() => {
    // The session now says emailVerified: true (or the link signed the user in).
    if (!code) refreshSession();
  }, [code]);

  return (
    <section className="auth-card" aria-labelledby="verify-title">
      <h1 id="verify-title">Email verification</h1>
      {code ? (
        <>
          <ErrorAlert error={{ code, message: describeRedirect(code) }} />
          <p>
            {data ? (
              <Link to="/profile">Send a new link from your profile</Link>
            ) : (
              <Link to="/sign-in">Sign in to ask for a new link</Link>
            )}
          </p>
        </>
      ) : (
        <>
          <Notice>Your email address is verified. Thank you!</Notice>
          <p>
            {data ? (
              <Link to="/feed" className="button primary">Go to your feed</Link>
            ) : (
              <Link to="/sign-in" className="button primary">Sign in</Link>
            )}
          </p>
        </>
      )}
    </section>
  );
}
