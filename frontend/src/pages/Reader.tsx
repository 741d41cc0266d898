import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { content, type Item, type Progress, type PublicItem } from "../api";
import { useSession } from "../auth";
import { fromRequest, type AppError } from "../errors";
import { ItemMeta, levelLabel } from "../ItemCard";
import { topicLabel } from "../ProfileFields";
import { ErrorAlert, Loading, ProgressBar, usePageTitle } from "../ui";

/** How far the reader must scroll past the last saved value before progress is saved again. */
const SAVE_STEP = 5;

/**
 * Reader shows an article: to a signed-in reader the version for their level, with bookmark and
 * progress; to a visitor (a link from the home page) every level, with an invitation to sign up.
 */
export default function Reader() {
  const { data, isPending } = useSession();
  if (isPending) return <Loading label="Loading the article…" />;
  return data ? <PersonalReader /> : <PublicReader />;
}

/**
 * useArticle loads the article of the page's slug with load (again when the slug changes), names
 * the page after it, and hands it to loaded once it arrives.
 */
function useArticle<T extends { title: string }>(load: (slug: string) => Promise<T>, loaded?: (it: T) => void) {
  const { slug = "" } = useParams();
  const [item, setItem] = useState<T | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  usePageTitle(item?.title ?? "Article");
  useEffect(() => {
    let live = true;
    setItem(null);
    setError(null);
    load(slug)
      .then((it) => {
        if (!live) return;
        setItem(it);
        loaded?.(it);
      })
      .catch((e) => live && setError(fromRequest(e)));
    return () => {
      live = false;
    };
    // Only the slug: load and loaded are new functions on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [slug]);
  return { slug, item, error };
}

function PublicReader() {
  const { item, error } = useArticle<PublicItem>(content.publicItem);

  if (error) return <MissingItem error={error} back="/" backText="Back to the home page" />;
  if (!item) return <Loading label="Loading the article…" />;
  return (
    <div className="page narrow reader">
      <p className="back">
        <Link to="/">← All articles</Link>
      </p>
      <header className="reader-head">
        <h1>{item.title}</h1>
        <ItemMeta item={item} />
        <Tags tags={item.tags} />
        <p className="level-note">
          {item.levels && item.levels.length > 0 ? "You're reading every level of this article. " : ""}
          <Link to="/sign-in">Sign in</Link> to read it at your level and keep your progress.
        </p>
      </header>
      <div className="prose" dangerouslySetInnerHTML={{ __html: item.html }} />
    </div>
  );
}

function Tags({ tags }: { tags: string[] }) {
  if (tags.length === 0) return null;
  return (
    <ul className="tags" aria-label="Topics">
      {tags.map((t) => (
        <li key={t}>{topicLabel(t)}</li>
      ))}
    </ul>
  );
}

function MissingItem({ error, back, backText }: { error: AppError; back: string; backText: string }) {
  return (
    <div className="page narrow">
      <h1>Article</h1>
      <ErrorAlert error={error.code === "NOT_FOUND" ? { ...error, message: "This article doesn't exist or has been removed." } : error} />
      <p>
        <Link to={back}>{backText}</Link>
      </p>
    </div>
  );
}

function PersonalReader() {
  const [actionError, setActionError] = useState<AppError | null>(null);
  const [progress, setProgress] = useState<Progress>({ percent: 0, completed: false });
  const [bookmarked, setBookmarked] = useState(false);
  const [busy, setBusy] = useState<"bookmark" | "finish" | null>(null);
  const [status, setStatus] = useState("");
  const article = useRef<HTMLDivElement>(null);
  const saved = useRef(0); // the percent the server has
  const pending = useRef<number | null>(null);
  const timer = useRef<number | undefined>(undefined);
  const { slug, item, error } = useArticle<Item>(content.item, (it) => {
    const p = it.progress ?? { percent: 0, completed: false };
    setProgress(p);
    saved.current = p.percent;
    setBookmarked(it.bookmarked);
  });

  const flush = useCallback(() => {
    window.clearTimeout(timer.current);
    const percent = pending.current;
    pending.current = null;
    if (percent === null || percent <= saved.current) return;
    const before = saved.current;
    saved.current = percent;
    // Only the percent: the server marks the item completed when it reaches 100 and keeps a
    // completed item completed.
    content
      .putProgress(slug, { percent })
      .then((p) => setProgress((cur) => ({ ...cur, completed: p.completed, percent: Math.max(cur.percent, p.percent) })))
      .catch(() => {
        saved.current = before; // try again on the next scroll
      });
  }, [slug]);

  // Track how far the article has been read while the reader scrolls; save now and then, and
  // when leaving the page.
  useEffect(() => {
    if (!item) return;
    function onScroll() {
      const el = article.current;
      if (!el) return;
      const rect = el.getBoundingClientRect();
      const read = rect.height <= 0 ? 100 : ((window.innerHeight - rect.top) / rect.height) * 100;
      const percent = Math.max(0, Math.min(100, Math.round(read)));
      setProgress((p) => (percent > p.percent ? { ...p, percent } : p));
      if (percent >= saved.current + SAVE_STEP || (percent === 100 && saved.current < 100)) {
        pending.current = Math.max(pending.current ?? 0, percent);
        window.clearTimeout(timer.current);
        timer.current = window.setTimeout(flush, 800);
      }
    }
    window.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("pagehide", flush);
    return () => {
      window.removeEventListener("scroll", onScroll);
      window.removeEventListener("pagehide", flush);
      flush();
    };
  }, [item, flush]);

  async function toggleBookmark() {
    const next = !bookmarked;
    setBusy("bookmark");
    setActionError(null);
    setBookmarked(next);
    try {
      if (next) await content.bookmark(slug);
      else await content.unbookmark(slug);
      setStatus(next ? "Saved to your bookmarks." : "Removed from your bookmarks.");
    } catch (e) {
      setBookmarked(!next);
      setActionError(fromRequest(e));
    } finally {
      setBusy(null);
    }
  }

  async function toggleFinished() {
    const completed = !progress.completed;
    setBusy("finish");
    setActionError(null);
    try {
      // Not finished means not read: without percent 0, an article finished by reading to the
      // end would keep its full bar.
      const p = await content.putProgress(slug, completed ? { completed } : { completed, percent: 0 });
      setProgress({ percent: p.percent, completed: p.completed });
      saved.current = p.percent;
      setStatus(completed ? "Marked as finished." : "Marked as not finished.");
    } catch (e) {
      setActionError(fromRequest(e));
    } finally {
      setBusy(null);
    }
  }

  if (error) return <MissingItem error={error} back="/feed" backText="Back to your feed" />;
  if (!item) return <Loading label="Loading the article…" />;

  return (
    <div className="page narrow reader">
      <p className="back">
        <Link to="/feed">← Back to your feed</Link>
      </p>
      <header className="reader-head">
        <h1>{item.title}</h1>
        <ItemMeta item={item} />
        <Tags tags={item.tags} />
        {item.levels && item.levels.length > 0 && item.shownLevel && (
          <p className="level-note">
            This article adapts to your level: you're reading the <strong>{levelLabel(item.shownLevel).toLowerCase()}</strong>{" "}
            version. <Link to="/profile">Change your level</Link>
          </p>
        )}
        <div className="reader-actions">
          <button type="button" className={`button ${bookmarked ? "on" : ""}`} aria-pressed={bookmarked}
            onClick={toggleBookmark} disabled={busy === "bookmark"}>
            {bookmarked ? "★ Bookmarked" : "☆ Bookmark"}
          </button>
          <button type="button" className={`button ${progress.completed ? "on" : ""}`} aria-pressed={progress.completed}
            onClick={toggleFinished} disabled={busy === "finish"}>
            {progress.completed ? "✓ Finished" : "Mark as finished"}
          </button>
        </div>
        <div className="reader-progress">
          <ProgressBar percent={progress.completed ? 100 : progress.percent} label="Your progress" />
          <span className="small" data-testid="progress-text">
            {progress.completed ? "Finished" : `${Math.round(progress.percent)}% read`}
          </span>
        </div>
        <div className="visually-hidden" role="status">
          {status}
        </div>
        <ErrorAlert error={actionError} />
      </header>
      <div ref={article} className="prose" dangerouslySetInnerHTML={{ __html: item.html }} />
      <footer className="reader-foot">
        <button type="button" className={`button ${progress.completed ? "on" : "primary"}`} onClick={toggleFinished}
          disabled={busy === "finish"}>
          {progress.completed ? "✓ Finished — mark as not finished" : "I've finished this article"}
        </button>
        <Link to="/feed">Back to your feed</Link>
      </footer>
    </div>
  );
}
