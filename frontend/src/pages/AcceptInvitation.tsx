import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { authClient, useSession } from "../auth";
import { fromAuth, type AppError } from "../errors";
import { ErrorAlert, formatDate, Loading, Notice, usePageTitle } from "../ui";
import { roleLabel } from "./Groups";

/** InvitationView is what get-invitation returns: the invitation with its group and inviter. */
interface InvitationView {
  id: string;
  email: string;
  role: string;
  status: string;
  expiresAt: Date | string;
  organizationName: string;
  inviterEmail: string;
}

/**
 * AcceptInvitation is where an invitation mail's link lands (/accept-invitation/:id). The route
 * makes a signed-out visitor sign in first and brings them back. It shows the group and who
 * invited them; Accept joins (and makes the group active), Decline rejects the invitation.
 * Better-Auth shows an invitation only to the address it was sent to.
 */
export default function AcceptInvitation() {
  usePageTitle("Invitation");
  const { id = "" } = useParams();
  const { data: session } = useSession();
  const navigate = useNavigate();
  const [inv, setInv] = useState<InvitationView | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState<"accept" | "decline" | null>(null);
  const [declined, setDeclined] = useState(false);

  useEffect(() => {
    let live = true;
    void authClient.organization.getInvitation({ query: { id } }).then(({ data, error }) => {
      if (!live) return;
      if (error || !data) {
        setError(fromAuth(error ?? { status: 404 }));
        return;
      }
      setInv(data as unknown as InvitationView);
    });
    return () => {
      live = false;
    };
  }, [id]);

  async function accept() {
    setBusy("accept");
    setError(null);
    const { error } = await authClient.organization.acceptInvitation({ invitationId: id });
    if (error) {
      setBusy(null);
      setError(fromAuth(error));
      return;
    }
    navigate("/groups", { replace: true, state: { joined: inv?.organizationName } });
  }

  async function decline() {
    setBusy("decline");
    setError(null);
    const { error } = await authClient.organization.rejectInvitation({ invitationId: id });
    setBusy(null);
    if (error) {
      setError(fromAuth(error));
      return;
    }
    setDeclined(true);
  }

  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>Join a reading group</h1>
      </div>
      <div className="panel">
        {declined ? (
          <>
            <Notice>You declined the invitation to {inv?.organizationName}.</Notice>
            <Link to="/feed" className="button">Go to your feed</Link>
          </>
        ) : inv ? (
          <>
            <p>
              <strong>{inv.inviterEmail}</strong> invited you to join <strong>{inv.organizationName}</strong> as{" "}
              {roleLabel(inv.role).toLowerCase()}.
            </p>
            <p className="small">
              Sent to {inv.email} · expires {formatDate(inv.expiresAt)}
            </p>
            <ErrorAlert error={error} focus />
            <div className="button-row">
              <button type="button" className="button primary" onClick={() => void accept()} disabled={busy !== null} aria-busy={busy === "accept" || undefined}>
                {busy === "accept" ? "Joining…" : "Accept"}
              </button>
              <button type="button" className="button" onClick={() => void decline()} disabled={busy !== null} aria-busy={busy === "decline" || undefined}>
                {busy === "decline" ? "Declining…" : "Decline"}
              </button>
            </div>
          </>
        ) : error ? (
          <>
            <ErrorAlert error={error} />
            <p className="small">You're signed in as {session?.user.email}.</p>
            <Link to="/feed" className="button">Go to your feed</Link>
          </>
        ) : (
          <Loading label="Loading the invitation…" />
        )}
      </div>
    </div>
  );
}
