import { useEffect, useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { type Profile } from "../api";
import { attempt, authClient, sessionBecomes, tokenStore, useSession } from "../auth";
import { fromAuth, type AppError } from "../errors";
import { DEFAULT_TOPICS, emptyProfile, ProfileFields } from "../ProfileFields";
import { passwordHint, settings } from "../settings";
import { useTopics } from "../topics";
import { ErrorAlert, Field, Notice, safeNext, SubmitButton, usePageTitle } from "../ui";

export default function SignUp() {
  usePageTitle("Create your account");
  const navigate = useNavigate();
  // Where a signed-out visitor was going (an invitation link): the new account continues there.
  const [params] = useSearchParams();
  const next = params.has("next") ? safeNext(params.get("next")) : null;
  const signInLink = next ? `/sign-in?next=${encodeURIComponent(next)}` : "/sign-in";
  const topics = useTopics(DEFAULT_TOPICS);
  const session = useSession();
  const rules = settings();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [profile, setProfile] = useState<Profile>(emptyProfile);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [checkEmail, setCheckEmail] = useState(false);

  useEffect(() => {
    // Preselect the interface language when the catalog has it.
    const lang = navigator.language?.slice(0, 2);
    if (lang && ["en", "es", "fr", "de"].includes(lang)) setProfile((p) => ({ ...p, language: lang }));
  }, []);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    setError(null);
    tokenStore.clear();
    // The profile goes with the sign-up and the server stores it with the new user, so it is
    // there after email verification too, when this answer carries no session.
    // (contentProfile is this server's own field, unknown to the client's types.)
    const body = { name, email, password, callbackURL: "/verify-email", contentProfile: profile };
    const { data, error } = await attempt((fetchOptions) => authClient.signUp.email({ ...body, fetchOptions }));
    if (error) {
      setPending(false);
      setError(fromAuth(error));
      return;
    }
    if (!data?.token) {
      // The server wants the address verified first: no session yet.
      setPending(false);
      setCheckEmail(true);
      return;
    }
    await sessionBecomes(true);
    if (next) navigate(next, { replace: true });
    else navigate("/feed", { replace: true, state: { welcome: true } });
  }

  if (session.data && !pending && !checkEmail) return <Navigate to={next ?? "/feed"} replace />;

  if (checkEmail) {
    return (
      <section className="auth-card" aria-labelledby="check-title">
        <h1 id="check-title">Check your email</h1>
        <Notice>
          We sent a verification link to {email}. Open it to finish creating your account, then sign in: your reading
          preferences are saved and waiting.
        </Notice>
        <p>
          <Link to={signInLink}>Go to sign in</Link>
        </p>
      </section>
    );
  }

  if (rules.signUpDisabled) {
    return (
      <section className="auth-card" aria-labelledby="sign-up-title">
        <h1 id="sign-up-title">Create your account</h1>
        <Notice>New accounts can't be created on this server right now.</Notice>
        <p>
          Already have an account? <Link to={signInLink}>Sign in</Link>
        </p>
      </section>
    );
  }

  return (
    <section className="auth-card wide" aria-labelledby="sign-up-title">
      <h1 id="sign-up-title">Create your account</h1>
      <p className="lead">Tell us a little about yourself and we'll build a reading feed for you.</p>
      <ErrorAlert error={error} focus />
      <form onSubmit={onSubmit}>
        <fieldset className="group">
          <legend>Account</legend>
          <Field label="Name" name="name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
          <Field label="Email" type="email" name="email" autoComplete="email" required value={email}
            onChange={(e) => setEmail(e.target.value)}
            invalid={error?.code === "INVALID_EMAIL" || error?.code === "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"} />
          <Field label="Password" type="password" name="password" autoComplete="new-password" required
            minLength={rules.minPasswordLength}
            value={password} onChange={(e) => setPassword(e.target.value)}
            hint={`${passwordHint()} A few unrelated words make a strong, memorable password.`}
            invalid={error?.code === "PASSWORD_TOO_SHORT" || error?.code === "PASSWORD_TOO_LONG" || error?.code === "PASSWORD_COMPROMISED"} />
        </fieldset>
        <fieldset className="group">
          <legend>Personalize your feed</legend>
          <ProfileFields value={profile} onChange={setProfile} topics={topics} />
        </fieldset>
        <SubmitButton pending={pending} pendingText="Creating your account…">Create account</SubmitButton>
      </form>
      <p className="switch">
        Already have an account? <Link to={signInLink}>Sign in</Link>
      </p>
    </section>
  );
}
