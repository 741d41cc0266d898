import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { content, type BookmarkEntry } from "../api";
import { fromRequest, type AppError } from "../errors";
import { ItemCard } from "../ItemCard";
import { ErrorAlert, Loading, usePageTitle } from "../ui";

export default function Bookmarks() {
  usePageTitle("Bookmarks");
  const [items, setItems] = useState<BookmarkEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    content
      .bookmarks()
      .then((page) => {
        setItems(page.items);
        setCursor(page.nextCursor || null);
      })
      .catch((e) => {
        setError(fromRequest(e));
        setItems([]);
      });
  }, []);

  async function more() {
    if (!cursor) return;
    setBusy(true);
    try {
      const page = await content.bookmarks(cursor);
      setItems((cur) => [...(cur ?? []), ...page.items]);
      setCursor(page.nextCursor || null);
    } catch (e) {
      setError(fromRequest(e));
    } finally {
      setBusy(false);
    }
  }

  async function remove(slug: string) {
    setError(null);
    try {
      await content.unbookmark(slug);
      setItems((cur) => (cur ?? []).filter((b) => b.slug !== slug));
    } catch (e) {
      setError(fromRequest(e));
    }
  }

  return (
    <div className="page">
      <div className="page-head">
        <h1>Bookmarks</h1>
        <p className="profile-line">Articles you saved for later.</p>
      </div>
      <ErrorAlert error={error} />
      {items === null ? (
        <Loading label="Loading your bookmarks…" />
      ) : items.length === 0 ? (
        <div className="empty">
          <p>No bookmarks yet. Open an article and choose “Bookmark” to keep it here.</p>
          <Link to="/feed" className="button">Browse your feed</Link>
        </div>
      ) : (
        <section className="cards" aria-label="Saved articles">
          {items.map((b) => (
            <div key={b.slug} className="card-wrap">
              <ItemCard item={b} href={`/items/${encodeURIComponent(b.slug)}`} />
              <button type="button" className="link-button remove" onClick={() => void remove(b.slug)}>
                Remove<span className="visually-hidden"> {b.title} from bookmarks</span>
              </button>
            </div>
          ))}
        </section>
      )}
      {cursor && (
        <div className="more">
          <button type="button" className="button" onClick={more} disabled={busy}>
            {busy ? "Loading…" : "Show more"}
          </button>
        </div>
      )}
    </div>
  );
}
