import { useEffect, useState } from "react";
import { authClient, useSession } from "./auth";
import { hasPlugin } from "./settings";

/** The permission the admin page needs first: listing users. */
const LIST_USERS = { user: ["list" as const] };

// Server answers per user id and role, so each signed-in user is asked about at most once a load.
const asked = new Map<string, Promise<boolean>>();

/** roleGrants answers from the role alone, with Better-Auth's built-in roles (no request). */
function roleGrants(role: string | null | undefined): boolean {
  if (!role) return false;
  return authClient.admin.checkRolePermission({ role: role as "admin", permissions: LIST_USERS });
}

/**
 * useIsAdmin reports whether the signed-in user may use the admin page: null while unknown,
 * then true or false. The role answers at once; a role that grants nothing is checked with the
 * server (has-permission), which also knows the operator's ADMIN_USER_IDS. False when the server
 * has the admin plugin off. The server checks every admin call on its own: this only decides
 * what the app offers.
 */
export function useIsAdmin(): boolean | null {
  const { data } = useSession();
  const on = hasPlugin("admin");
  const userId = data?.user.id;
  const role = (data?.user as { role?: string | null } | undefined)?.role;
  const byRole = on && roleGrants(role);
  const key = userId ? `${userId}:${role ?? ""}` : "";
  const [answer, setAnswer] = useState<{ key: string; ok: boolean } | null>(null);

  useEffect(() => {
    if (!on || !key || byRole) return;
    let live = true;
    let p = asked.get(key);
    if (!p) {
      p = authClient.admin
        .hasPermission({ permissions: LIST_USERS })
        .then((r) => Boolean(r.data?.success))
        .catch(() => false);
      asked.set(key, p);
    }
    void p.then((ok) => {
      if (live) setAnswer({ key, ok });
    });
    return () => {
      live = false;
    };
  }, [on, key, byRole]);

  if (!on || !data) return false;
  if (byRole) return true;
  return answer?.key === key ? answer.ok : null;
}

/** impersonator is the id of the admin acting as the signed-in user, or null when nobody is. */
export function impersonator(session: { impersonatedBy?: string | null } | undefined): string | null {
  return session?.impersonatedBy || null;
}
