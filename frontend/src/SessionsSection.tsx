import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { authClient, useSession } from "./auth";
import { fromAuth, type AppError } from "./errors";
import { describeIP } from "./format";
import { ErrorAlert, Loading, Notice } from "./ui";

interface SessionRow {
  id: string;
  token: string;
  createdAt: Date | string;
  updatedAt: Date | string;
  expiresAt: Date | string;
  ipAddress?: string | null;
  userAgent?: string | null;
}

/** describeAgent turns a User-Agent header into "Chrome on Linux". */
export function describeAgent(ua?: string | null): string {
  if (!ua) return "Unknown device";
  const browser =
    /Edg\//.test(ua) ? "Edge" : /OPR\//.test(ua) ? "Opera" : /Firefox\//.test(ua) ? "Firefox"
      : /Chrom(e|ium)\//.test(ua) ? (/Headless/.test(ua) ? "Headless Chrome" : "Chrome")
      : /Safari\//.test(ua) ? "Safari" : /curl\//.test(ua) ? "curl" : /node|undici/i.test(ua) ? "Node.js" : "Browser";
  const os =
    /Windows/.test(ua) ? "Windows" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS"
      : /Mac OS X/.test(ua) ? "macOS" : /CrOS/.test(ua) ? "ChromeOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

function when(d: Date | string): string {
  const date = typeof d === "string" ? new Date(d) : d;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** SessionsSection lists the devices signed in to the account, on the security page. */
export function SessionsSection() {
  const { data } = useSession();
  const currentId = data?.session.id;
  const [rows, setRows] = useState<SessionRow[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    const { data, error } = await authClient.listSessions();
    if (error) {
      setError(fromAuth(error));
      setRows([]);
      return;
    }
    const list = (data ?? []) as SessionRow[];
    list.sort((a, b) => new Date(b.updatedAt).getTime() - new Date(a.updatedAt).getTime());
    setRows(list);
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(row: SessionRow) {
    setBusy(row.id);
    setError(null);
    setNotice(null);
    const { error } = await authClient.revokeSession({ token: row.token });
    setBusy(null);
    if (error) {
      setError(fromAuth(error));
      return;
    }
    setNotice(`Signed out ${describeAgent(row.userAgent)}.`);
    setRows((cur) => (cur ?? []).filter((r) => r.id !== row.id));
  }

  async function revokeOthers() {
    setBusy("others");
    setError(null);
    setNotice(null);
    const { error } = await authClient.revokeOtherSessions();
    setBusy(null);
    if (error) {
      setError(fromAuth(error));
      return;
    }
    setNotice("Signed out everywhere else.");
    setRows((cur) => (cur ?? []).filter((r) => r.id === currentId));
  }

  const others = (rows ?? []).filter((r) => r.id !== currentId);

  return (
    <section className="panel" aria-labelledby="sessions-title" id="sessions">
      <h2 id="sessions-title">Active sessions</h2>
      <p className="hint">Devices where you're signed in. Sign out any you don't recognize.</p>
      <ErrorAlert error={error} />
      {error?.code === "SESSION_NOT_FRESH" && (
        <p>
          <Link to="/sign-in?next=%2Fsecurity&reauth=1" className="button">Sign in again</Link>
        </p>
      )}
      <Notice>{notice}</Notice>
      {rows === null ? (
        <Loading label="Loading your sessions…" />
      ) : (
        <>
          <ul className="session-list">
            {rows.map((r) => {
              const current = r.id === currentId;
              const label = describeAgent(r.userAgent);
              return (
                <li key={r.id} className={`session ${current ? "current" : ""}`} data-session-id={r.id}>
                  <div className="session-info">
                    <p className="session-device">
                      {label} {current && <span className="badge ok">This device</span>}
                    </p>
                    <p className="small">
                      {r.ipAddress && (
                        <>
                          <span className="session-ip" title={r.ipAddress}>{describeIP(r.ipAddress)}</span> ·{" "}
                        </>
                      )}
                      signed in {when(r.createdAt)} · last active {when(r.updatedAt)}
                    </p>
                    <p className="small">Expires {when(r.expiresAt)}</p>
                  </div>
                  {!current && (
                    <button type="button" className="button danger" onClick={() => void revoke(r)} disabled={busy !== null}
                      aria-label={`Sign out ${label}, signed in ${when(r.createdAt)}`}>
                      {busy === r.id ? "Signing out…" : "Sign out"}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
          {others.length > 1 && (
            <button type="button" className="button danger" onClick={() => void revokeOthers()} disabled={busy !== null}>
              {busy === "others" ? "Signing out…" : "Sign out all other sessions"}
            </button>
          )}
        </>
      )}
    </section>
  );
}
