import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { content, type Profile as ProfileData } from "../api";
import { attempt, authClient, useSession } from "../auth";
import { fromAuth, fromRequest, type AppError } from "../errors";
import { DEFAULT_TOPICS, ProfileFields } from "../ProfileFields";
import { useTopics } from "../topics";
import { ErrorAlert, Field, Loading, Notice, SubmitButton, usePageTitle } from "../ui";

export default function Profile() {
  usePageTitle("Profile and preferences");
  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>Profile and preferences</h1>
      </div>
      <Preferences />
      <Account />
      <p>
        <Link to="/security">Password, two-factor, passkeys and devices →</Link>
      </p>
    </div>
  );
}

function Preferences() {
  const topics = useTopics(DEFAULT_TOPICS);
  const [profile, setProfile] = useState<ProfileData | null>(null);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    content
      .getProfile()
      .then(setProfile)
      .catch((e) => setError(fromRequest(e)));
  }, []);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!profile) return;
    setPending(true);
    setError(null);
    setSaved(false);
    try {
      const { level, topics, language, background, goals } = profile;
      setProfile(await content.putProfile({ level, topics, language, background, goals }));
      setSaved(true);
    } catch (err) {
      setError(fromRequest(err));
    } finally {
      setPending(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="prefs-title">
      <h2 id="prefs-title">Reading preferences</h2>
      <p className="hint">Your feed and the version of each article you read follow these settings.</p>
      <ErrorAlert error={error} focus />
      {profile ? (
        <form onSubmit={onSubmit}>
          <ProfileFields value={profile} onChange={(p) => { setProfile(p); setSaved(false); }} topics={topics} />
          <SubmitButton pending={pending} pendingText="Saving…">Save preferences</SubmitButton>
          <Notice>
            {saved && (
              <>
                Preferences saved. <Link to="/feed">See your updated feed</Link>
              </>
            )}
          </Notice>
        </form>
      ) : (
        !error && <Loading label="Loading your preferences…" />
      )}
    </section>
  );
}

function Account() {
  const { data } = useSession();
  const [name, setName] = useState(data?.user.name ?? "");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  if (!data) return null;
  const user = data.user;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    setError(null);
    setNotice(null);
    const { error } = await authClient.updateUser({ name });
    setPending(false);
    if (error) setError(fromAuth(error));
    else setNotice("Your name was updated.");
  }

  async function sendVerification() {
    setError(null);
    setNotice(null);
    const { error } = await attempt((fetchOptions) =>
      authClient.sendVerificationEmail({ email: user.email, callbackURL: "/verify-email", fetchOptions }),
    );
    if (error) setError(fromAuth(error));
    else setNotice(`We sent a verification link to ${user.email}.`);
  }

  return (
    <section className="panel" aria-labelledby="account-title">
      <h2 id="account-title">Account</h2>
      <ErrorAlert error={error} />
      <Notice>{notice}</Notice>
      <dl className="facts">
        <div>
          <dt>Email</dt>
          <dd>
            {user.email}{" "}
            {user.emailVerified ? (
              <span className="badge ok">Verified</span>
            ) : (
              <span className="badge warn">Not verified</span>
            )}
          </dd>
        </div>
      </dl>
      {!user.emailVerified && (
        <button type="button" className="button" onClick={sendVerification}>
          Send verification email
        </button>
      )}
      <form onSubmit={onSubmit} className="inline-form">
        <Field label="Name" name="name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
        <SubmitButton pending={pending} pendingText="Saving…">Save name</SubmitButton>
      </form>
    </section>
  );
}
