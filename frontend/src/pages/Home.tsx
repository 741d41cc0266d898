import { useEffect, useState } from "react";
import { Link, Navigate, useSearchParams } from "react-router-dom";
import { content, type ItemSummary } from "../api";
import { useSession } from "../auth";
import { describeRedirect } from "../errors";
import { ItemMeta } from "../ItemCard";
import { settings } from "../settings";
import { ErrorAlert, Loading, usePageTitle } from "../ui";

/** Home welcomes visitors with the newest articles; signed-in readers go straight to their feed. */
export default function Home() {
  usePageTitle("Learn at your level");
  const { data, isPending } = useSession();
  const [params] = useSearchParams();
  const code = params.get("error"); // /api/auth/error sends browsers here in production
  const [items, setItems] = useState<ItemSummary[] | null>(null);

  useEffect(() => {
    content
      .publicItems()
      .then((p) => setItems(p.items.slice(0, 6)))
      .catch(() => setItems([]));
  }, []);

  if (isPending) return <Loading />;
  if (data && !code) return <Navigate to="/feed" replace />;

  return (
    <div className="page">
      {/* The address is anyone's to write: only the app's own sentence, never error_description. */}
      {code && <ErrorAlert error={{ code, message: describeRedirect(code) }} />}
      <section className="hero" aria-labelledby="hero-title">
        <h1 id="hero-title">Learn at your level</h1>
        <p className="lead">
          Pathway builds a reading feed around what you know and what you want to learn. Articles adapt to your level,
          and your progress follows you across devices.
        </p>
        <p className="hero-actions">
          {!settings().signUpDisabled && <Link to="/sign-up" className="button primary">Create a free account</Link>}
          <Link to="/sign-in" className={settings().signUpDisabled ? "button primary" : "button"}>Sign in</Link>
        </p>
      </section>
      <section aria-labelledby="latest-title">
        <h2 id="latest-title">Latest articles</h2>
        {items === null ? (
          <Loading />
        ) : items.length === 0 ? (
          <p>No articles yet.</p>
        ) : (
          <ul className="latest">
            {items.map((i) => (
              <li key={i.slug}>
                <Link to={`/items/${encodeURIComponent(i.slug)}`} className="latest-title">{i.title}</Link>
                <ItemMeta item={i} />
                <p className="summary">{i.summary}</p>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
