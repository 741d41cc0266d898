import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { Link, Route, Routes, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { useIsAdmin } from "../access";
import { authClient, sessionSettles, useSession } from "../auth";
import { fromAuth, type AppError } from "../errors";
import { describeIP } from "../format";
import { describeAgent } from "../SessionsSection";
import { ErrorAlert, Field, formatDate, Loading, Notice, SubmitButton, usePageTitle } from "../ui";

/** Users shown per page of the list. */
export const PAGE_SIZE = 10;

/** AdminUser is a user as the admin endpoints return it (the admin plugin adds role and ban). */
interface AdminUser {
  id: string;
  name: string;
  email: string;
  emailVerified?: boolean;
  createdAt?: Date | string;
  role?: string | null;
  banned?: boolean | null;
  banReason?: string | null;
  banExpires?: Date | string | null;
}

/** UserSession is one session of a user as list-user-sessions returns it. */
interface UserSession {
  id: string;
  token: string;
  createdAt: Date | string;
  expiresAt: Date | string;
  ipAddress?: string | null;
  userAgent?: string | null;
  impersonatedBy?: string | null;
}

// How long a ban lasts, in seconds (banExpiresIn); "" leaves it to the server's default.
const BAN_LENGTHS: { value: string; label: string }[] = [
  { value: "", label: "Server default (usually no end)" },
  { value: String(60 * 60), label: "1 hour" },
  { value: String(24 * 60 * 60), label: "1 day" },
  { value: String(7 * 24 * 60 * 60), label: "7 days" },
  { value: String(30 * 24 * 60 * 60), label: "30 days" },
];

// The roles Better-Auth's admin plugin knows without configuration.
const ROLES = ["user", "admin"];

function when(d?: Date | string | null): string {
  if (!d) return "";
  const date = typeof d === "string" ? new Date(d) : d;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * Admin is the administration area for users whose role allows it: the user list (/admin) and
 * one user (/admin/users/:id). Others see a refusal; the server refuses their calls anyway.
 */
export default function Admin() {
  const isAdmin = useIsAdmin();
  if (isAdmin === null) return <Loading label="Checking your access…" />;
  if (!isAdmin) return <Refused />;
  return (
    <Routes>
      <Route index element={<UserList />} />
      <Route path="users/:id" element={<UserPage />} />
      <Route path="*" element={<Refused notFound />} />
    </Routes>
  );
}

function Refused({ notFound = false }: { notFound?: boolean }) {
  usePageTitle(notFound ? "Not found" : "No access");
  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>{notFound ? "Page not found" : "Admins only"}</h1>
      </div>
      <div className="panel">
        <p>{notFound ? "There is no such admin page." : "This page is for administrators. Your account doesn't have access to it."}</p>
        <Link to="/feed" className="button">Go to your feed</Link>
      </div>
    </div>
  );
}

/** UserList searches users by email or name and pages through them; its state lives in the address. */
function UserList() {
  usePageTitle("Admin · Users");
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const by = params.get("by") === "name" ? "name" : "email";
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
  const [draft, setDraft] = useState(q);
  const [field, setField] = useState(by);
  const [result, setResult] = useState<{ users: AdminUser[]; total: number } | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(false);
  const fieldId = useId();

  useEffect(() => {
    setDraft(q);
    setField(by);
  }, [q, by]);

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    void authClient.admin
      .listUsers({
        query: {
          limit: PAGE_SIZE,
          offset: (page - 1) * PAGE_SIZE,
          sortBy: "createdAt",
          sortDirection: "asc",
          ...(q ? { searchValue: q, searchField: by, searchOperator: "contains" } : {}),
        },
      })
      .then(({ data, error }) => {
        if (!live) return;
        setLoading(false);
        if (error) {
          setError(fromAuth(error));
          setResult({ users: [], total: 0 });
          return;
        }
        setResult({ users: (data?.users ?? []) as AdminUser[], total: data?.total ?? 0 });
      });
    return () => {
      live = false;
    };
  }, [q, by, page]);

  function go(next: { q?: string; by?: string; page?: number }) {
    const p = new URLSearchParams();
    const nq = next.q ?? q;
    const nby = next.by ?? by;
    if (nq) p.set("q", nq);
    if (nby !== "email") p.set("by", nby);
    if ((next.page ?? 1) > 1) p.set("page", String(next.page));
    setParams(p);
  }

  function onSearch(e: FormEvent) {
    e.preventDefault();
    go({ q: draft.trim(), by: field, page: 1 });
  }

  const total = result?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const first = total === 0 ? 0 : (page - 1) * PAGE_SIZE + 1;
  const last = Math.min(total, page * PAGE_SIZE);
  const summary = result === null ? "" : total === 0 ? (q ? `No users match “${q}”.` : "No users yet.")
    : `Users ${first}–${last} of ${total}${q ? ` matching “${q}”` : ""} · page ${page} of ${pages}`;

  return (
    <div className="page">
      <div className="page-head">
        <h1>Admin</h1>
        <p className="profile-line">Find a user to see their sessions, ban or unban them, change their role or act as them.</p>
      </div>
      <section className="panel" aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        <form role="search" aria-label="Users" className="admin-search" onSubmit={onSearch}>
          <div className="field">
            <label htmlFor={fieldId}>Search by</label>
            <select id={fieldId} value={field} onChange={(e) => setField(e.target.value === "name" ? "name" : "email")}>
              <option value="email">Email</option>
              <option value="name">Name</option>
            </select>
          </div>
          <Field label="Search" type="search" value={draft} onChange={(e) => setDraft(e.target.value)}
            placeholder={field === "name" ? "Part of a name" : "Part of an email address"} autoComplete="off" />
          <button type="submit" className="button primary">Search</button>
        </form>
        <ErrorAlert error={error} />
        <p className="small admin-count" role="status">{loading ? "Loading users…" : summary}</p>
        {result === null ? (
          <Loading label="Loading users…" />
        ) : (
          result.users.length > 0 && (
            <ul className="user-list" aria-label="Users">
              {result.users.map((u) => (
                <li key={u.id} className="user-row" data-user-id={u.id}>
                  <div className="user-info">
                    <p className="user-name">
                      <Link to={`/admin/users/${encodeURIComponent(u.id)}`}>{u.name || u.email}</Link>
                    </p>
                    <p className="small user-email">{u.email}</p>
                  </div>
                  <p className="user-badges">
                    <RoleBadges role={u.role} />
                    {u.banned && <span className="badge danger">Banned</span>}
                  </p>
                </li>
              ))}
            </ul>
          )
        )}
        {total > PAGE_SIZE && (
          <nav className="pager" aria-label="Pages of users">
            <button type="button" className="button" disabled={page <= 1 || loading} onClick={() => go({ page: page - 1 })}>
              Previous page
            </button>
            <span className="small">Page {page} of {pages}</span>
            <button type="button" className="button" disabled={page >= pages || loading} onClick={() => go({ page: page + 1 })}>
              Next page
            </button>
          </nav>
        )}
      </section>
    </div>
  );
}

function RoleBadges({ role }: { role?: string | null }) {
  const roles = (role || "user").split(",").map((r) => r.trim()).filter(Boolean);
  return (
    <>
      {roles.map((r) => (
        <span key={r} className={`badge ${r === "admin" ? "warn" : ""}`}>{r}</span>
      ))}
    </>
  );
}

/** UserPage is one user: their facts, role, ban, sessions, and acting as them. */
function UserPage() {
  const { id = "" } = useParams();
  const { data: me } = useSession();
  const [user, setUser] = useState<AdminUser | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  usePageTitle(user ? `Admin · ${user.name || user.email}` : "Admin · User");

  const load = useCallback(async () => {
    const { data, error } = await authClient.admin.getUser({ query: { id } });
    if (error) {
      setError(fromAuth(error));
      return;
    }
    setUser(data as AdminUser);
  }, [id]);

  useEffect(() => {
    setUser(null);
    setError(null);
    void load();
  }, [load]);

  return (
    <div className="page narrow">
      <p className="back">
        <Link to="/admin">← All users</Link>
      </p>
      {error && !user ? (
        <ErrorAlert error={error} />
      ) : !user ? (
        <Loading label="Loading the user…" />
      ) : (
        <>
          <div className="page-head">
            <h1>{user.name || user.email}</h1>
            <p className="profile-line">
              <RoleBadges role={user.role} /> {user.banned && <span className="badge danger">Banned</span>}
            </p>
          </div>
          <section className="panel" aria-labelledby="facts-title">
            <h2 id="facts-title">Account</h2>
            <dl className="facts">
              <div><dt>Email</dt><dd>{user.email}{user.emailVerified ? " (verified)" : " (not verified)"}</dd></div>
              <div><dt>Joined</dt><dd>{formatDate(user.createdAt)}</dd></div>
              <div><dt>User id</dt><dd><code>{user.id}</code></dd></div>
            </dl>
          </section>
          <RoleSection user={user} self={me?.user.id === user.id} onChange={setUser} />
          <BanSection user={user} self={me?.user.id === user.id} onChange={setUser} />
          <UserSessions user={user} />
          <ActAs user={user} self={me?.user.id === user.id} />
        </>
      )}
    </div>
  );
}

interface SectionProps {
  user: AdminUser;
  self: boolean;
  onChange: (u: AdminUser) => void;
}

function RoleSection({ user, self, onChange }: SectionProps) {
  const current = user.role || "user";
  const [role, setRole] = useState(current);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const selectId = useId();
  const options = ROLES.includes(current) ? ROLES : [...ROLES, current];

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    const { data, error } = await authClient.admin.setRole({ userId: user.id, role: role as "user" });
    setBusy(false);
    if (error) {
      setError(fromAuth(error));
      return;
    }
    onChange({ ...user, ...((data?.user ?? {}) as Partial<AdminUser>), role });
    setNotice(`${user.name || user.email} is now ${role === "admin" ? "an admin" : `a ${role}`}.`);
  }

  return (
    <section className="panel" aria-labelledby="role-title">
      <h2 id="role-title">Role</h2>
      <ErrorAlert error={error} focus />
      <Notice>{notice}</Notice>
      <form className="inline-fields" onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor={selectId}>Role</label>
          <select id={selectId} value={role} onChange={(e) => setRole(e.target.value)} aria-describedby={self ? `${selectId}-hint` : undefined}>
            {options.map((r) => (
              <option key={r} value={r}>{r}</option>
            ))}
          </select>
          {self && <p className="hint" id={`${selectId}-hint`}>This is your own account: without the admin role you lose this page.</p>}
        </div>
        <SubmitButton pending={busy} pendingText="Saving…">Change role</SubmitButton>
      </form>
    </section>
  );
}

function BanSection({ user, self, onChange }: SectionProps) {
  const [reason, setReason] = useState("");
  const [length, setLength] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const lengthId = useId();
  const who = user.name || user.email;

  async function ban(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    const { data, error } = await authClient.admin.banUser({
      userId: user.id,
      ...(reason.trim() ? { banReason: reason.trim() } : {}),
      ...(length ? { banExpiresIn: Number(length) } : {}),
    });
    setBusy(false);
    if (error) {
      setError(fromAuth(error));
      return;
    }
    setReason("");
    onChange({ ...user, ...((data?.user ?? {}) as Partial<AdminUser>), banned: true });
    setNotice(`${who} is banned and signed out everywhere.`);
  }

  async function unban() {
    setBusy(true);
    setError(null);
    setNotice(null);
    const { data, error } = await authClient.admin.unbanUser({ userId: user.id });
    setBusy(false);
    if (error) {
      setError(fromAuth(error));
      return;
    }
    onChange({ ...user, ...((data?.user ?? {}) as Partial<AdminUser>), banned: false, banReason: null, banExpires: null });
    setNotice(`${who} is no longer banned.`);
  }

  return (
    <section className="panel" aria-labelledby="ban-title">
      <h2 id="ban-title">Ban</h2>
      <ErrorAlert error={error} focus />
      <Notice>{notice}</Notice>
      {user.banned ? (
        <>
          <dl className="facts">
            <div><dt>Status</dt><dd>Banned</dd></div>
            <div><dt>Reason</dt><dd className="ban-reason">{user.banReason || "No reason given"}</dd></div>
            <div><dt>Ends</dt><dd>{user.banExpires ? when(user.banExpires) : "When unbanned"}</dd></div>
          </dl>
          <div className="button-row">
            <button type="button" className="button" onClick={() => void unban()} disabled={busy} aria-busy={busy || undefined}>
              {busy ? "Unbanning…" : "Unban"}
            </button>
          </div>
        </>
      ) : (
        <>
          <p className="hint">A banned user can't sign in, and is signed out everywhere now.</p>
          <form onSubmit={ban}>
            <Field label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500}
              hint="Shown to other admins; leave empty for the server's default." />
            <div className="field">
              <label htmlFor={lengthId}>Ban for</label>
              <select id={lengthId} value={length} onChange={(e) => setLength(e.target.value)}>
                {BAN_LENGTHS.map((l) => (
                  <option key={l.value} value={l.value}>{l.label}</option>
                ))}
              </select>
            </div>
            <div className="button-row">
              <button type="submit" className="button danger" disabled={busy || self} aria-busy={busy || undefined}>
                {busy ? "Banning…" : "Ban user"}
              </button>
            </div>
            {self && <p className="hint">You can't ban yourself.</p>}
          </form>
        </>
      )}
    </section>
  );
}

function UserSessions({ user }: { user: AdminUser }) {
  const [rows, setRows] = useState<UserSession[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    const { data, error } = await authClient.admin.listUserSessions({ userId: user.id });
    if (error) {
      setError(fromAuth(error));
      setRows([]);
      return;
    }
    const list = ((data?.sessions ?? []) as UserSession[]).slice();
    list.sort((a, b) => new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime());
    setRows(list);
  }, [user.id]);

  // A ban ends every session: list them again when it changes.
  useEffect(() => {
    void load();
  }, [load, user.banned]);

  async function revoke(s: UserSession) {
    setBusy(s.id);
    setError(null);
    setNotice(null);
    const { error } = await authClient.admin.revokeUserSession({ sessionToken: s.token });
    setBusy(null);
    if (error) {
      setError(fromAuth(error));
      return;
    }
    setNotice(`Revoked the session on ${describeAgent(s.userAgent)}.`);
    setRows((cur) => (cur ?? []).filter((r) => r.id !== s.id));
  }

  return (
    <section className="panel" aria-labelledby="user-sessions-title">
      <h2 id="user-sessions-title">Sessions</h2>
      <ErrorAlert error={error} />
      <Notice>{notice}</Notice>
      {rows === null ? (
        <Loading label="Loading sessions…" />
      ) : rows.length === 0 ? (
        <p className="small">Not signed in anywhere.</p>
      ) : (
        <ul className="session-list" aria-label="Sessions">
          {rows.map((s) => {
            const label = describeAgent(s.userAgent);
            return (
              <li key={s.id} className="session" data-session-id={s.id}>
                <div className="session-info">
                  <p className="session-device">
                    {label} {s.impersonatedBy && <span className="badge warn">Admin acting as them</span>}
                  </p>
                  <p className="small">
                    {s.ipAddress && <>{describeIP(s.ipAddress)} · </>}signed in {when(s.createdAt)}
                  </p>
                  <p className="small">Expires {when(s.expiresAt)}</p>
                </div>
                <button type="button" className="button danger" onClick={() => void revoke(s)} disabled={busy !== null}
                  aria-label={`Revoke ${label}, signed in ${when(s.createdAt)}`}>
                  {busy === s.id ? "Revoking…" : "Revoke"}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function ActAs({ user, self }: { user: AdminUser; self: boolean }) {
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const who = user.name || user.email;

  async function start() {
    setBusy(true);
    setError(null);
    const { error } = await authClient.admin.impersonateUser({ userId: user.id });
    if (error) {
      setBusy(false);
      setError(fromAuth(error));
      return;
    }
    await sessionSettles((s) => s?.user.id === user.id);
    setBusy(false);
    navigate("/feed");
  }

  return (
    <section className="panel" aria-labelledby="act-title">
      <h2 id="act-title">Act as this user</h2>
      <p className="hint">
        See the app as {who} does, for up to an hour. A banner on every page says so, with a button to stop.
      </p>
      <ErrorAlert error={error} focus />
      <div className="button-row">
        <button type="button" className="button" onClick={() => void start()} disabled={busy || self || Boolean(user.banned)}
          aria-busy={busy || undefined}>
          {busy ? "Switching…" : `Act as ${who}`}
        </button>
      </div>
      {self && <p className="hint">This is you.</p>}
      {!self && user.banned && <p className="hint">Unban them first.</p>}
    </section>
  );
}
