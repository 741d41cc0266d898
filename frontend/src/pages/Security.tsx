import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useLocation, useSearchParams } from "react-router-dom";
import { attempt, authClient, refreshSession, useSession } from "../auth";
import { describeRedirect, fromAuth, type AppError } from "../errors";
import { QrCode } from "../QrCode";
import { SecurityActivity } from "../SecurityActivity";
import { SessionsSection } from "../SessionsSection";
import { hasPlugin, passwordHint, settings } from "../settings";
import { ErrorAlert, Field, formatDate, Loading, Notice, SubmitButton, usePageTitle } from "../ui";

/**
 * Security is where a signed-in person sees and changes how they sign in: password, two-factor,
 * passkeys, linked accounts, the devices signed in and the recent sign-ins and security changes.
 * Sections of plugins the server has off are left out.
 */
export default function Security() {
  usePageTitle("Sign-in and security");
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  // A failed link-social comes back here with ?error=CODE; keep the sentence, drop the address.
  const [linkError] = useState(() => params.get("error"));
  useEffect(() => {
    if (params.has("error")) setParams({}, { replace: true });
  }, [params, setParams]);

  // /sessions and links to one section arrive with #section: show it once the page is drawn.
  useEffect(() => {
    if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  }, [location.hash]);

  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>Sign-in and security</h1>
        <p className="profile-line">How you sign in, and where you're signed in.</p>
      </div>
      {linkError && <ErrorAlert error={{ code: linkError, message: describeRedirect(linkError) }} />}
      <ChangePassword />
      {hasPlugin("two-factor") && <TwoFactorSection />}
      {hasPlugin("passkey") && <PasskeySection />}
      <LinkedAccounts />
      <SessionsSection />
      <SecurityActivity />
    </div>
  );
}

/** useAction runs one client call at a time for a section, with its error and notice. */
function useAction() {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const run = useCallback(async <T,>(name: string, call: () => Promise<{ data: T; error: Parameters<typeof fromAuth>[0] }>) => {
    setBusy(name);
    setError(null);
    setNotice(null);
    try {
      const { data, error } = await call();
      if (error) {
        setError(fromAuth(error));
        return null;
      }
      return data;
    } finally {
      setBusy(null);
    }
  }, []);
  return { busy, error, notice, setNotice, setError, run };
}

function ChangePassword() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [revokeOthers, setRevokeOthers] = useState(true);
  const { busy, error, notice, setNotice, run } = useAction();

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const done = await run("change", () =>
      attempt((fetchOptions) =>
        authClient.changePassword({ currentPassword: current, newPassword: next, revokeOtherSessions: revokeOthers, fetchOptions }),
      ),
    );
    if (!done) return;
    setCurrent("");
    setNext("");
    setNotice("Your password was changed.");
  }

  return (
    <section className="panel" aria-labelledby="pw-title" id="password">
      <h2 id="pw-title">Change password</h2>
      <ErrorAlert error={error} focus />
      <Notice>{notice}</Notice>
      <form onSubmit={onSubmit}>
        <Field label="Current password" type="password" name="current-password" autoComplete="current-password" required
          value={current} onChange={(e) => setCurrent(e.target.value)} invalid={error?.code === "INVALID_PASSWORD"} />
        <Field label="New password" type="password" name="new-password" autoComplete="new-password" required
          minLength={settings().minPasswordLength} value={next} onChange={(e) => setNext(e.target.value)} hint={passwordHint()}
          invalid={error?.code === "PASSWORD_TOO_SHORT" || error?.code === "PASSWORD_TOO_LONG" || error?.code === "PASSWORD_COMPROMISED"} />
        <label className="check">
          <input type="checkbox" checked={revokeOthers} onChange={(e) => setRevokeOthers(e.target.checked)} /> Sign out my other devices
        </label>
        <SubmitButton pending={busy === "change"} pendingText="Changing…">Change password</SubmitButton>
      </form>
    </section>
  );
}

/** secretOf reads the base32 key out of an otpauth:// URI, for people who type it in. */
function secretOf(totpURI: string): string {
  try {
    return new URL(totpURI).searchParams.get("secret") ?? "";
  } catch {
    return "";
  }
}

function BackupCodes({ codes }: { codes: string[] }) {
  return (
    <>
      <p>
        Keep these backup codes somewhere safe, like a password manager. Each one signs you in once if you lose your
        authenticator app.
      </p>
      <ul className="code-list" data-testid="backup-codes" aria-label="Backup codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
    </>
  );
}

function TwoFactorSection() {
  const { data } = useSession();
  const enabled = Boolean(data?.user.twoFactorEnabled);
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [setup, setSetup] = useState<{ totpURI: string; backupCodes: string[] } | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const { busy, error, notice, setNotice, run } = useAction();

  async function start(e: FormEvent) {
    e.preventDefault();
    const res = await run("enable", () => attempt((fetchOptions) => authClient.twoFactor.enable({ password, fetchOptions })));
    if (!res || res.method !== "totp") return; // this page asks for TOTP, which always comes with a URI
    setPassword("");
    setSetup({ totpURI: res.totpURI, backupCodes: res.backupCodes });
  }

  async function finish(e: FormEvent) {
    e.preventDefault();
    const res = await run("verify", () => attempt((fetchOptions) => authClient.twoFactor.verifyTotp({ code: code.trim(), fetchOptions })));
    if (!res) return;
    setCode("");
    setSetup(null);
    refreshSession();
    setNotice("Two-factor authentication is on. Next time you sign in, we'll ask for a code.");
  }

  async function manage(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const action = ((e.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null)?.value ?? "codes";
    if (action === "disable") {
      const res = await run("disable", () => attempt((fetchOptions) => authClient.twoFactor.disable({ password, fetchOptions })));
      if (!res) return;
      setPassword("");
      setCodes(null);
      refreshSession();
      setNotice("Two-factor authentication is off.");
      return;
    }
    const res = await run("codes", () => attempt((fetchOptions) => authClient.twoFactor.generateBackupCodes({ password, fetchOptions })));
    if (!res) return;
    setPassword("");
    setCodes(res.backupCodes);
    setNotice("New backup codes are ready. The old ones no longer work.");
  }

  const secret = setup ? secretOf(setup.totpURI) : "";
  return (
    <section className="panel" aria-labelledby="tf-title" id="two-factor">
      <h2 id="tf-title">
        Two-factor authentication{" "}
        {enabled ? <span className="badge ok">On</span> : <span className="badge warn">Off</span>}
      </h2>
      <p className="hint">After your password, sign-in also asks for a code from an authenticator app on your phone.</p>
      <ErrorAlert error={error} focus />
      <Notice>{notice}</Notice>
      {!enabled && !setup && (
        <form onSubmit={start}>
          <Field label="Your password" type="password" name="tf-password" autoComplete="current-password" required
            value={password} onChange={(e) => setPassword(e.target.value)} invalid={error?.code === "INVALID_PASSWORD"}
            hint="To set up two-factor, confirm it's you." />
          <SubmitButton pending={busy === "enable"} pendingText="Setting up…">Set up two-factor</SubmitButton>
        </form>
      )}
      {!enabled && setup && (
        <ol className="steps">
          <li>
            <p>Scan this code with your authenticator app (such as Google Authenticator, 1Password or Aegis).</p>
            <figure className="qr-figure" data-totp-uri={setup.totpURI}>
              <QrCode value={setup.totpURI} label="QR code to add this account to an authenticator app" />
              <figcaption>
                Can't scan it? Enter this key instead: <code className="secret" data-testid="totp-secret">{secret}</code>
              </figcaption>
            </figure>
          </li>
          <li>
            <BackupCodes codes={setup.backupCodes} />
          </li>
          <li>
            <form onSubmit={finish}>
              <Field label="Code from your app" name="totp" inputMode="numeric" autoComplete="one-time-code" required
                pattern="[0-9]{6}" maxLength={6} value={code} onChange={(e) => setCode(e.target.value)}
                invalid={error?.code === "INVALID_CODE"} hint="The 6 digits your app shows for this account." />
              <div className="button-row">
                <SubmitButton pending={busy === "verify"} pendingText="Checking…">Turn on two-factor</SubmitButton>
                <button type="button" className="button" onClick={() => setSetup(null)} disabled={busy !== null}>
                  Cancel
                </button>
              </div>
            </form>
          </li>
        </ol>
      )}
      {enabled && (
        <>
          {codes && <BackupCodes codes={codes} />}
          <form onSubmit={manage}>
            <Field label="Your password" type="password" name="tf-password" autoComplete="current-password" required
              value={password} onChange={(e) => setPassword(e.target.value)} invalid={error?.code === "INVALID_PASSWORD"}
              hint="To change two-factor, confirm it's you." />
            <div className="button-row">
              <button type="submit" value="codes" className="button" disabled={busy !== null}>
                {busy === "codes" ? "Creating…" : "Get new backup codes"}
              </button>
              <button type="submit" value="disable" className="button danger" disabled={busy !== null}>
                {busy === "disable" ? "Turning off…" : "Turn off two-factor"}
              </button>
            </div>
          </form>
        </>
      )}
    </section>
  );
}

interface PasskeyRow {
  id: string;
  name?: string | null;
  createdAt: Date | string;
  deviceType?: string;
  backedUp?: boolean;
}

function PasskeySection() {
  const [rows, setRows] = useState<PasskeyRow[] | null>(null);
  const [name, setName] = useState("");
  const [renaming, setRenaming] = useState<string | null>(null);
  const [newName, setNewName] = useState("");
  const { busy, error, notice, setNotice, setError, run } = useAction();
  const supported = typeof window.PublicKeyCredential === "function";

  const load = useCallback(async () => {
    const { data, error } = await authClient.passkey.listUserPasskeys();
    if (error) setError(fromAuth(error));
    setRows(((data ?? []) as PasskeyRow[]).slice().sort((a, b) => new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime()));
  }, [setError]);
  useEffect(() => {
    void load();
  }, [load]);

  async function add(e: FormEvent) {
    e.preventDefault();
    const label = name.trim();
    const res = await run("add", () => authClient.passkey.addPasskey({ name: label || undefined }));
    if (!res) return;
    setName("");
    setNotice(`Passkey ${label ? `"${label}" ` : ""}added. You can sign in with it now.`);
    await load();
  }

  async function rename(e: FormEvent, row: PasskeyRow) {
    e.preventDefault();
    const res = await run(`rename:${row.id}`, () => authClient.passkey.updatePasskey({ id: row.id, name: newName.trim() }));
    if (!res) return;
    setRenaming(null);
    setNotice(`Passkey renamed to "${newName.trim()}".`);
    await load();
  }

  async function remove(row: PasskeyRow) {
    const res = await run(`remove:${row.id}`, () => authClient.passkey.deletePasskey({ id: row.id }));
    if (!res) return;
    setNotice(`Passkey "${labelOf(row)}" removed.`);
    setRows((cur) => (cur ?? []).filter((r) => r.id !== row.id));
  }

  const labelOf = (r: PasskeyRow) => r.name || "Unnamed passkey";
  return (
    <section className="panel" aria-labelledby="pk-title" id="passkeys">
      <h2 id="pk-title">Passkeys</h2>
      <p className="hint">Sign in with your fingerprint, face or device PIN instead of typing a password.</p>
      <ErrorAlert error={error} focus />
      <Notice>{notice}</Notice>
      {rows === null ? (
        <Loading label="Loading your passkeys…" />
      ) : rows.length === 0 ? (
        <p className="small">No passkeys yet.</p>
      ) : (
        <ul className="session-list" aria-label="Your passkeys">
          {rows.map((r) => (
            <li key={r.id} className="session passkey" data-passkey-id={r.id}>
              {renaming === r.id ? (
                <form className="rename-form" onSubmit={(e) => void rename(e, r)}>
                  <Field label={`New name for ${labelOf(r)}`} name="passkey-name" autoComplete="off" required maxLength={100}
                    value={newName} onChange={(e) => setNewName(e.target.value)} autoFocus />
                  <div className="button-row">
                    <SubmitButton pending={busy === `rename:${r.id}`} pendingText="Saving…">Save name</SubmitButton>
                    <button type="button" className="button" onClick={() => setRenaming(null)}>Cancel</button>
                  </div>
                </form>
              ) : (
                <>
                  <div className="session-info">
                    <p className="session-device">{labelOf(r)}</p>
                    <p className="small">
                      Added {formatDate(r.createdAt)}
                      {r.backedUp ? " · synced across your devices" : r.deviceType === "singleDevice" ? " · on one device" : ""}
                    </p>
                  </div>
                  <div className="button-row">
                    <button type="button" className="button" disabled={busy !== null} aria-label={`Rename ${labelOf(r)}`}
                      onClick={() => { setRenaming(r.id); setNewName(r.name ?? ""); }}>
                      Rename
                    </button>
                    <button type="button" className="button danger" disabled={busy !== null} aria-label={`Remove ${labelOf(r)}`}
                      onClick={() => void remove(r)}>
                      {busy === `remove:${r.id}` ? "Removing…" : "Remove"}
                    </button>
                  </div>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {supported ? (
        <form onSubmit={add}>
          <Field label="Passkey name" name="new-passkey-name" autoComplete="off" maxLength={100} value={name}
            onChange={(e) => setName(e.target.value)} hint="So you can tell your passkeys apart, like “Work laptop”." />
          <SubmitButton pending={busy === "add"} pendingText="Waiting for your device…">Add a passkey</SubmitButton>
        </form>
      ) : (
        <p className="small">This browser can't use passkeys.</p>
      )}
    </section>
  );
}

const PROVIDER_NAMES: Record<string, string> = {
  credential: "Email and password",
  github: "GitHub",
  gitlab: "GitLab",
};

/** providerName is how a sign-in method is called on the page ("google" → "Google"). */
function providerName(id: string): string {
  return PROVIDER_NAMES[id] ?? id.charAt(0).toUpperCase() + id.slice(1);
}

interface AccountRow {
  id: string;
  providerId: string;
  accountId: string;
  createdAt: Date | string;
}

function LinkedAccounts() {
  const [rows, setRows] = useState<AccountRow[] | null>(null);
  const { busy, error, notice, setNotice, setError, run } = useAction();

  const load = useCallback(async () => {
    const { data, error } = await authClient.listAccounts();
    if (error) setError(fromAuth(error));
    setRows((data ?? []) as AccountRow[]);
  }, [setError]);
  useEffect(() => {
    void load();
  }, [load]);

  async function unlink(row: AccountRow) {
    const res = await run(row.id, () => authClient.unlinkAccount({ accountId: row.id }));
    if (!res) return;
    setNotice(`${providerName(row.providerId)} is no longer linked.`);
    setRows((cur) => (cur ?? []).filter((r) => r.id !== row.id));
  }

  async function link(provider: string) {
    // On success the browser leaves for the provider and comes back here.
    await run(`link:${provider}`, () =>
      authClient.linkSocial({ provider, callbackURL: "/security#accounts", errorCallbackURL: "/security" }),
    );
  }

  const linked = new Set((rows ?? []).map((r) => r.providerId));
  const available = settings().socialProviders.filter((p) => !linked.has(p));
  return (
    <section className="panel" aria-labelledby="acc-title" id="accounts">
      <h2 id="acc-title">Sign-in methods</h2>
      <p className="hint">The accounts you can sign in with.</p>
      <ErrorAlert error={error} focus />
      <Notice>{notice}</Notice>
      {rows === null ? (
        <Loading label="Loading your sign-in methods…" />
      ) : (
        <ul className="session-list" aria-label="Linked accounts">
          {rows.map((r) => (
            <li key={r.id} className="session" data-provider={r.providerId}>
              <div className="session-info">
                <p className="session-device">{providerName(r.providerId)}</p>
                <p className="small">Added {formatDate(r.createdAt)}</p>
              </div>
              {rows.length > 1 && (
                <button type="button" className="button danger" disabled={busy !== null} onClick={() => void unlink(r)}
                  aria-label={`Unlink ${providerName(r.providerId)}`}>
                  {busy === r.id ? "Unlinking…" : "Unlink"}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {available.length > 0 && (
        <div className="button-row">
          {available.map((p) => (
            <button key={p} type="button" className="button" disabled={busy !== null} onClick={() => void link(p)}>
              {busy === `link:${p}` ? "Opening…" : `Link ${providerName(p)}`}
            </button>
          ))}
        </div>
      )}
    </section>
  );
}
