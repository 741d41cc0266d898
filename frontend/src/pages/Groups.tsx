import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router-dom";
import { authClient, useSession } from "../auth";
import { fromAuth, type AppError } from "../errors";
import { hasPlugin } from "../settings";
import { ErrorAlert, Field, formatDate, Loading, Notice, SubmitButton, usePageTitle } from "../ui";

/** Group is a reading group: an organization as list and get-full-organization return it. */
interface Group {
  id: string;
  name: string;
  slug: string;
}

/** GroupMember is a member row of get-full-organization, with the user's name and email. */
interface GroupMember {
  id: string;
  userId: string;
  role: string;
  user: { id: string; name: string; email: string };
}

/** GroupInvitation is an invitation row of get-full-organization. */
interface GroupInvitation {
  id: string;
  email: string;
  role: string;
  status: string;
  expiresAt: Date | string;
}

interface FullGroup extends Group {
  members: GroupMember[];
  invitations: GroupInvitation[];
}

// The roles Better-Auth's organization plugin knows without configuration, least powerful first.
const ROLES: { value: string; label: string }[] = [
  { value: "member", label: "Member" },
  { value: "admin", label: "Admin" },
  { value: "owner", label: "Owner" },
];

/** roleLabel names a (possibly comma-separated) role for people. */
export function roleLabel(role: string): string {
  return role
    .split(",")
    .map((r) => ROLES.find((x) => x.value === r.trim())?.label ?? r.trim())
    .join(", ");
}

/**
 * slugFor derives a group's slug (its unique address in Better-Auth) from its name: lower case,
 * letters and digits joined by single dashes. A name with none of those gets "group".
 */
export function slugFor(name: string): string {
  const s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return s || "group";
}

/** may asks the client-side access model whether role grants an action on invitations. */
function may(role: string | undefined, action: "create" | "cancel"): boolean {
  if (!role) return false;
  return authClient.organization.checkRolePermission({ role: role as "owner", permissions: { invitation: [action] } });
}

/**
 * Groups is the reading-groups page: the user's groups with the active one marked (switching it
 * changes the session's activeOrganizationId, which the feed's group section follows), creating a
 * group, and for the active group its members with their roles, inviting by email and the
 * pending invitations.
 */
export default function Groups() {
  usePageTitle("Reading groups");
  const { data: session } = useSession();
  const activeId = (session?.session as { activeOrganizationId?: string | null } | undefined)?.activeOrganizationId ?? null;
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const location = useLocation();
  // Set by the invitation page after an accept, so the new member sees they are in.
  const joined = (location.state as { joined?: string } | null)?.joined;
  const [notice, setNotice] = useState(joined ? `You joined ${joined}. It is now your active group.` : "");
  const navigate = useNavigate();
  useEffect(() => {
    // Shown once: the flag is dropped from history so a reload does not repeat it.
    if (joined) navigate("/groups", { replace: true, state: null });
    // Once, on arrival: navigate changes identity with every location change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const [switching, setSwitching] = useState<string | null>(null);

  const loadGroups = useCallback(async () => {
    const { data, error } = await authClient.organization.list();
    if (error) {
      setError(fromAuth(error));
      setGroups((g) => g ?? []);
      return;
    }
    setGroups((data ?? []) as Group[]);
  }, []);

  useEffect(() => {
    void loadGroups();
  }, [loadGroups]);

  async function makeActive(g: Group) {
    setSwitching(g.id);
    setError(null);
    setNotice("");
    const { error } = await authClient.organization.setActive({ organizationId: g.id });
    setSwitching(null);
    if (error) {
      setError(fromAuth(error));
      return;
    }
    setNotice(`${g.name} is now your active group.`);
  }

  if (!hasPlugin("organization")) {
    return (
      <div className="page narrow">
        <div className="page-head">
          <h1>Reading groups</h1>
        </div>
        <div className="panel">
          <p>Reading groups are not available on this server.</p>
          <Link to="/feed" className="button">Go to your feed</Link>
        </div>
      </div>
    );
  }

  const active = groups?.find((g) => g.id === activeId) ?? null;

  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>Reading groups</h1>
        <p className="profile-line">Read together: your feed shows what the members of your active group bookmarked.</p>
      </div>
      <Notice>{notice}</Notice>
      <ErrorAlert error={error} focus />

      <section className="panel" aria-labelledby="your-groups">
        <h2 id="your-groups">Your groups</h2>
        {groups === null ? (
          <Loading label="Loading your groups…" />
        ) : groups.length === 0 ? (
          <p>You're not in a group yet. Create one below, or open an invitation someone sent you.</p>
        ) : (
          <ul className="user-list" aria-label="Your groups">
            {groups.map((g) => (
              <li key={g.id} className="user-row" data-group-id={g.id}>
                <div className="user-info">
                  <p className="user-name">{g.name}</p>
                </div>
                <p className="user-badges">
                  {g.id === activeId ? (
                    <span className="badge ok">Active</span>
                  ) : (
                    <button
                      type="button"
                      className="button"
                      onClick={() => void makeActive(g)}
                      disabled={switching !== null}
                      aria-busy={switching === g.id || undefined}
                      aria-label={`Make ${g.name} active`}
                    >
                      {switching === g.id ? "Switching…" : "Make active"}
                    </button>
                  )}
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>

      {active && <ActiveGroup key={active.id} group={active} userId={session?.user.id ?? ""} />}
      {groups !== null && groups.length > 0 && !active && (
        <p className="hint">Make a group active to see its members and invite people.</p>
      )}

      <CreateGroup
        onCreated={(g) => {
          setNotice(`${g.name} is created and is now your active group.`);
          void loadGroups();
        }}
      />
    </div>
  );
}

/** CreateGroup makes a group from a name; the creator becomes its owner and it becomes active. */
function CreateGroup({ onCreated }: { onCreated: (g: Group) => void }) {
  const [name, setName] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      setError({ message: "Give the group a name." });
      return;
    }
    setPending(true);
    setError(null);
    // Slugs are unique across the server: a name someone else used gets a short random suffix
    // rather than a refusal, since the slug is not shown anywhere.
    let slug = slugFor(trimmed);
    const free = await authClient.organization.checkSlug({ slug });
    if (free.error) slug = `${slug}-${Math.random().toString(36).slice(2, 7)}`;
    const { data, error } = await authClient.organization.create({ name: trimmed, slug });
    setPending(false);
    if (error || !data) {
      setError(fromAuth(error ?? { status: 500 }));
      return;
    }
    setName("");
    onCreated(data as Group);
  }

  return (
    <section className="panel" aria-labelledby="create-group">
      <h2 id="create-group">Create a group</h2>
      <form onSubmit={submit} noValidate>
        <Field label="Group name" name="group-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required />
        <ErrorAlert error={error} focus />
        <SubmitButton pending={pending} pendingText="Creating…">Create group</SubmitButton>
      </form>
    </section>
  );
}

/** ActiveGroup shows the active group's members and invitations, and invites by email. */
function ActiveGroup({ group, userId }: { group: Group; userId: string }) {
  const [full, setFull] = useState<FullGroup | null>(null);
  const [error, setError] = useState<AppError | null>(null);

  const load = useCallback(async () => {
    const { data, error } = await authClient.organization.getFullOrganization({ query: { organizationId: group.id } });
    if (error || !data) {
      setError(fromAuth(error ?? { status: 404 }));
      return;
    }
    setError(null);
    setFull(data as unknown as FullGroup);
  }, [group.id]);

  useEffect(() => {
    void load();
  }, [load]);

  const me = full?.members.find((m) => m.userId === userId);
  const pending = (full?.invitations ?? []).filter((i) => i.status === "pending");

  return (
    <section className="panel group-panel" aria-labelledby="active-group">
      <h2 id="active-group">{group.name}</h2>
      <ErrorAlert error={error} />
      {!full ? (
        !error && <Loading label="Loading the group…" />
      ) : (
        <>
          <h3 id="members-title">Members</h3>
          <ul className="user-list" aria-labelledby="members-title">
            {full.members.map((m) => (
              <li key={m.id} className="user-row" data-member-email={m.user.email}>
                <div className="user-info">
                  <p className="user-name">
                    {m.user.name || m.user.email}
                    {m.userId === userId && " (you)"}
                  </p>
                  <p className="small user-email">{m.user.email}</p>
                </div>
                <p className="user-badges">
                  <span className="badge">{roleLabel(m.role)}</span>
                </p>
              </li>
            ))}
          </ul>
          {may(me?.role, "create") && <Invite groupId={group.id} onSent={load} />}
          {pending.length > 0 && (
            <Invitations invitations={pending} canCancel={may(me?.role, "cancel")} onChanged={load} />
          )}
        </>
      )}
    </section>
  );
}

/** Invite sends an invitation mail with an accept link to an email address, with a role. */
function Invite({ groupId, onSent }: { groupId: string; onSent: () => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("member");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [sent, setSent] = useState("");
  const roleId = useId();

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const to = email.trim();
    if (!to) {
      setError({ message: "Enter the email address to invite." });
      return;
    }
    setPending(true);
    setError(null);
    setSent("");
    const { error } = await authClient.organization.inviteMember({ email: to, role: role as "member", organizationId: groupId });
    setPending(false);
    if (error) {
      setError(fromAuth(error));
      return;
    }
    setEmail("");
    setSent(`Invitation sent to ${to}.`);
    onSent();
  }

  return (
    <form onSubmit={submit} noValidate aria-labelledby="invite-title">
      <h3 id="invite-title">Invite someone</h3>
      <div className="inline-fields">
        <Field label="Email address" type="email" name="invite-email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} required />
        <div className="field">
          <label htmlFor={roleId}>Role</label>
          <select id={roleId} value={role} onChange={(e) => setRole(e.target.value)}>
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>{r.label}</option>
            ))}
          </select>
        </div>
      </div>
      <Notice>{sent}</Notice>
      <ErrorAlert error={error} focus />
      <SubmitButton pending={pending} pendingText="Sending…">Send invitation</SubmitButton>
    </form>
  );
}

/** Invitations lists the pending invitations; owners and admins can cancel them. */
function Invitations({ invitations, canCancel, onChanged }: { invitations: GroupInvitation[]; canCancel: boolean; onChanged: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);

  async function cancel(inv: GroupInvitation) {
    setBusy(inv.id);
    setError(null);
    const { error } = await authClient.organization.cancelInvitation({ invitationId: inv.id });
    setBusy(null);
    if (error) {
      setError(fromAuth(error));
      return;
    }
    onChanged();
  }

  return (
    <>
      <h3 id="invitations-title">Pending invitations</h3>
      <ErrorAlert error={error} focus />
      <ul className="user-list" aria-labelledby="invitations-title">
        {invitations.map((inv) => (
          <li key={inv.id} className="user-row" data-invitation-email={inv.email}>
            <div className="user-info">
              <p className="user-name">{inv.email}</p>
              <p className="small">
                {roleLabel(inv.role)} · expires {formatDate(inv.expiresAt)}
              </p>
            </div>
            {canCancel && (
              <p className="user-badges">
                <button
                  type="button"
                  className="button danger"
                  onClick={() => void cancel(inv)}
                  disabled={busy !== null}
                  aria-busy={busy === inv.id || undefined}
                  aria-label={`Cancel the invitation to ${inv.email}`}
                >
                  {busy === inv.id ? "Cancelling…" : "Cancel"}
                </button>
              </p>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
