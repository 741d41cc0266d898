import { useEffect, useRef, useState, type ReactNode } from "react";
import { Link, Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { impersonator, useIsAdmin } from "./access";
import { authClient, isSigningOut, sessionSettles, signOut, useSession } from "./auth";
import { fromAuth, type AppError } from "./errors";
import { settings } from "./settings";
import { ErrorAlert, Loading } from "./ui";
import Home from "./pages/Home";
import SignIn from "./pages/SignIn";
import SignUp from "./pages/SignUp";
import ForgotPassword from "./pages/ForgotPassword";
import ResetPassword from "./pages/ResetPassword";
import VerifyEmail from "./pages/VerifyEmail";
import Feed from "./pages/Feed";
import Reader from "./pages/Reader";
import Bookmarks from "./pages/Bookmarks";
import Profile from "./pages/Profile";
import Security from "./pages/Security";
import NotFound from "./pages/NotFound";
import Admin from "./pages/Admin";

export default function App() {
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<Home />} />
        <Route path="/sign-in" element={<SignIn />} />
        <Route path="/sign-up" element={<SignUp />} />
        <Route path="/forgot-password" element={<ForgotPassword />} />
        <Route path="/reset-password" element={<ResetPassword />} />
        <Route path="/verify-email" element={<VerifyEmail />} />
        <Route path="/feed" element={<RequireAuth><Feed /></RequireAuth>} />
        <Route path="/items/:slug" element={<Reader />} />
        <Route path="/bookmarks" element={<RequireAuth><Bookmarks /></RequireAuth>} />
        <Route path="/profile" element={<RequireAuth><Profile /></RequireAuth>} />
        <Route path="/security" element={<RequireAuth><Security /></RequireAuth>} />
        {/* Admin has its own routes inside (/admin, /admin/users/:id): the page checks the role. */}
        <Route path="/admin/*" element={<RequireAuth><Admin /></RequireAuth>} />
        {/* The sessions list moved into the security page; old links and bookmarks land on it. */}
        <Route path="/sessions" element={<Navigate to="/security#sessions" replace />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Layout>
  );
}

/** RequireAuth shows its page to signed-in users and sends everyone else to sign in first. */
function RequireAuth({ children }: { children: ReactNode }) {
  const { data, isPending, isRefetching } = useSession();
  const location = useLocation();
  if (isPending || (!data && (isRefetching || isSigningOut()))) return <Loading label="Checking your session…" />;
  if (!data) {
    const next = location.pathname + location.search;
    return <Navigate to={`/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}

/** NavEntry is one link of the signed-in navigation; show hides it from who may not use it. */
interface NavEntry {
  to: string;
  label: string;
  show?: (who: { isAdmin: boolean }) => boolean;
}

// The signed-in navigation, in order. A new page adds its entry here and its route above.
const signedInNav: NavEntry[] = [
  { to: "/feed", label: "Feed" },
  { to: "/bookmarks", label: "Bookmarks" },
  { to: "/profile", label: "Profile" },
  { to: "/security", label: "Security" },
  { to: "/admin", label: "Admin", show: ({ isAdmin }) => isAdmin },
];

/**
 * ImpersonationBanner tells an admin acting as someone else, on every page, whose account they
 * are using, and ends it: stop-impersonating gives the browser the admin's own session back, and
 * the admin returns to that user's admin page.
 */
function ImpersonationBanner() {
  const { data } = useSession();
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const by = impersonator(data?.session);
  if (!data || !by) return null;
  const actingAs = data.user;

  async function stop() {
    setBusy(true);
    setError(null);
    const { error } = await authClient.admin.stopImpersonating();
    if (error) {
      setBusy(false);
      setError(fromAuth(error));
      return;
    }
    await sessionSettles((s) => s?.user.id === by);
    setBusy(false);
    navigate(`/admin/users/${encodeURIComponent(actingAs.id)}`);
  }

  return (
    <div className="acting-banner" role="region" aria-label="Acting as another user">
      <div className="acting-inner">
        <p>
          You are acting as <strong>{actingAs.name || actingAs.email}</strong>
          {actingAs.name && <span className="acting-email"> ({actingAs.email})</span>}
        </p>
        <button type="button" className="button" onClick={() => void stop()} disabled={busy} aria-busy={busy || undefined}>
          {busy ? "Stopping…" : "Stop"}
        </button>
      </div>
      <ErrorAlert error={error} focus />
    </div>
  );
}

function Layout({ children }: { children: ReactNode }) {
  const { data } = useSession();
  const isAdmin = useIsAdmin() === true;
  const navigate = useNavigate();
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After client-side navigation, move focus to the new page so screen readers and keyboard
  // users start at its top (a full page load does this by itself).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [location.pathname]);

  async function onSignOut() {
    await signOut(() => navigate("/sign-in", { replace: true, state: { signedOut: true } }));
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <ImpersonationBanner />
      <header className="site-header">
        <div className="header-inner">
          <Link to={data ? "/feed" : "/"} className="brand">
            <img src="/favicon.svg" alt="" width="28" height="28" />
            Pathway
          </Link>
          <nav aria-label="Main">
            {data ? (
              <ul className="nav-list">
                {signedInNav
                  .filter((e) => !e.show || e.show({ isAdmin }))
                  .map((e) => (
                    <li key={e.to}><NavLink to={e.to}>{e.label}</NavLink></li>
                  ))}
                <li>
                  <button type="button" className="link-button" onClick={onSignOut}>
                    Sign out
                  </button>
                </li>
              </ul>
            ) : (
              <ul className="nav-list">
                <li><NavLink to="/sign-in">Sign in</NavLink></li>
                {!settings().signUpDisabled && <li><NavLink to="/sign-up" className="nav-cta">Create account</NavLink></li>}
              </ul>
            )}
          </nav>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
      <footer className="site-footer">
        <p>Pathway · served by authserver</p>
      </footer>
    </>
  );
}
