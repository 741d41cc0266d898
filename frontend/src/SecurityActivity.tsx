import { useCallback, useEffect, useState } from "react";
import { account } from "./api";
import { fromRequest, type AppError } from "./errors";
import { describeIP, formatDateTime, timeAgo } from "./format";
import { describeEvent, shownEvents, type SecurityEvent } from "./securityEvents";
import { describeAgent } from "./SessionsSection";
import { ErrorAlert, Loading } from "./ui";

// The server's default page; sign-outs are dropped from it, and at most SHOWN rows are listed.
const FETCHED = 50;
const SHOWN = 20;

/**
 * SecurityActivity lists the account's recent sign-ins, failed ones with why, and its other
 * security changes (password, two-factor, passkeys, linked accounts), from GET
 * /api/auth/security-events, so a person can spot a sign-in or change they did not make.
 */
export function SecurityActivity() {
  const [rows, setRows] = useState<SecurityEvent[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      setRows(shownEvents(await account.securityEvents(FETCHED), SHOWN));
    } catch (e) {
      setError(fromRequest(e));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="panel" aria-labelledby="activity-title" id="activity">
      <h2 id="activity-title">Recent security activity</h2>
      <p className="hint">Recent sign-ins to your account, including failed ones, and changes to how you sign in. If you don't recognize one, change your password and sign out your other devices.</p>
      <ErrorAlert error={error} />
      {error ? (
        <button type="button" className="button" onClick={() => void load()} disabled={loading}>
          {loading ? "Loading…" : "Try again"}
        </button>
      ) : rows === null ? (
        <Loading label="Loading your recent activity…" />
      ) : rows.length === 0 ? (
        <p className="small">No sign-ins or changes recorded yet.</p>
      ) : (
        <ol className="session-list activity-list" aria-label="Recent sign-ins and changes, newest first">
          {rows.map((r) => (
            <ActivityRow key={r.id} row={r} />
          ))}
        </ol>
      )}
    </section>
  );
}

function ActivityRow({ row }: { row: SecurityEvent }) {
  const d = describeEvent(row);
  const ago = timeAgo(row.createdAt);
  const at = formatDateTime(row.createdAt);
  const when = ago ? `${ago.charAt(0).toUpperCase()}${ago.slice(1)} · ${at}` : at;
  return (
    <li className={`session activity${d.failed ? " failed" : ""}`} data-event={row.event} data-outcome={row.outcome}>
      <div className="session-info">
        <h3 className="session-device">{d.title}</h3>
        {d.failed && <p className="activity-reason">{d.reason}</p>}
        {d.method && <p className="small activity-method">{d.method}</p>}
        <p className="small">
          <time dateTime={row.createdAt}>{when}</time>
        </p>
        {(row.userAgent || row.ipAddress) && (
          <p className="small activity-where">
            {row.userAgent && describeAgent(row.userAgent)}
            {row.userAgent && row.ipAddress && " · "}
            {row.ipAddress && (
              <span className="session-ip" title={row.ipAddress}>
                {describeIP(row.ipAddress)}
              </span>
            )}
          </p>
        )}
      </div>
    </li>
  );
}
