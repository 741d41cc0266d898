import { Link } from "react-router-dom";
import type { FeedItem, ItemSummary } from "./api";
import { topicLabel } from "./ProfileFields";
import { formatDate, ProgressBar } from "./ui";

export function levelLabel(level: string): string {
  return level === "all" ? "All levels" : topicLabel(level);
}

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * reasonText names a topic in a feed reason the way the topic chips do: the server words it with
 * the raw tag ("matches your interest in sql"), the chips say "SQL".
 */
export function reasonText(reason: string): string {
  const m = /^(matches your interest in )(\S+)$/.exec(reason);
  return m ? m[1] + topicLabel(m[2]) : reason;
}

/** ItemMeta is the small line under a title: level, reading time, date. */
export function ItemMeta({ item }: { item: ItemSummary }) {
  return (
    <p className="meta">
      <span className={`badge level-${item.level}`}>{levelLabel(item.level)}</span>
      <span>{item.readingMinutes} min read</span>
      {item.publishedAt && <time dateTime={item.publishedAt}>{formatDate(item.publishedAt)}</time>}
    </p>
  );
}

/** ItemCard is one entry of the feed, the bookmarks or the public list. */
export function ItemCard({ item, href }: { item: ItemSummary & Partial<FeedItem>; href: string }) {
  const reasons = item.reasons ?? [];
  const progress = item.progress;
  return (
    <article className="card" data-slug={item.slug}>
      <h2 className="card-title">
        <Link to={href}>{item.title}</Link>
      </h2>
      <ItemMeta item={item} />
      <p className="summary">{item.summary}</p>
      {item.tags && item.tags.length > 0 && (
        <ul className="tags" aria-label="Topics">
          {item.tags.map((t) => (
            <li key={t}>{topicLabel(t)}</li>
          ))}
        </ul>
      )}
      {reasons.length > 0 && (
        <p className="reasons">
          <span className="reasons-label">Why you're seeing this:</span> {sentence(reasons.map(reasonText).join(" · "))}
        </p>
      )}
      {(progress || item.bookmarked) && (
        <div className="card-state">
          {progress && (
            <>
              <ProgressBar percent={progress.percent} label={`Progress on ${item.title}`} />
              <span className="small">{progress.completed ? "Finished" : `${Math.round(progress.percent)}% read`}</span>
            </>
          )}
          {item.bookmarked && <span className="small bookmarked">★ Saved</span>}
        </div>
      )}
    </article>
  );
}
