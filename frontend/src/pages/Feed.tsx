import { useCallback, useEffect, useState } from "react";
import { Link, useLocation, useNavigate } from "react-router-dom";
import { content, type FeedItem, type GroupBookmarks, type Profile, type Progress } from "../api";
import { authClient, useSession } from "../auth";
import { fromRequest, type AppError } from "../errors";
import { ItemCard, levelLabel } from "../ItemCard";
import { LANGUAGES, topicLabel } from "../ProfileFields";
import { hasPlugin } from "../settings";
import { ErrorAlert, formatDate, Loading, Notice, ProgressBar, usePageTitle } from "../ui";

export default function Feed() {
  usePageTitle("Your feed");
  const { data: session } = useSession();
  const location = useLocation();
  // Shown once after sign-up: the flag is dropped from history so a reload does not repeat it.
  const [welcome] = useState(() => Boolean((location.state as { welcome?: boolean } | null)?.welcome));
  const navigate = useNavigate();
  useEffect(() => {
    if (welcome) navigate("/feed", { replace: true, state: null });
    // Once, on arrival: navigate changes identity with every location change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const [profile, setProfile] = useState<Profile | null>(null);
  const [items, setItems] = useState<FeedItem[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [reading, setReading] = useState<Progress[]>([]);
  const [group, setGroup] = useState<GroupBookmarks | null>(null);
  // A new session starts with no active group (as in Better-Auth); a member of some group is
  // told where to pick one instead of missing the section silently.
  const [pickGroup, setPickGroup] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      const [p, page, progress, groupMarks] = await Promise.all([
        content.getProfile(),
        content.feed(),
        content.progress().catch(() => ({ items: [] as Progress[], nextCursor: null })),
        // Without the organization plugin nobody has a group: no request for an empty answer.
        hasPlugin("organization") ? content.groupBookmarks(6).catch(() => null) : null,
      ]);
      setGroup(groupMarks);
      if (groupMarks && !groupMarks.group) {
        void authClient.organization.list().then(({ data }) => setPickGroup((data?.length ?? 0) > 0));
      } else {
        setPickGroup(false);
      }
      setProfile(p);
      setItems(page.items);
      setCursor(page.nextCursor || null);
      setReading(progress.items.filter((e) => !e.completed && e.percent > 0).slice(0, 3));
    } catch (e) {
      setError(fromRequest(e));
      setItems((cur) => cur ?? []);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function loadMore() {
    if (!cursor) return;
    setLoadingMore(true);
    setError(null);
    try {
      const page = await content.feed(cursor);
      setItems((cur) => [...(cur ?? []), ...page.items]);
      setCursor(page.nextCursor || null);
    } catch (e) {
      setError(fromRequest(e));
    } finally {
      setLoadingMore(false);
    }
  }

  const firstName = session?.user.name?.split(" ")[0];
  const language = LANGUAGES.find((l) => l.code === profile?.language)?.name ?? profile?.language;

  return (
    <div className="page">
      <div className="page-head">
        <h1>{firstName ? `${firstName}'s feed` : "Your feed"}</h1>
        {profile && (
          <p className="profile-line" data-testid="profile-summary">
            Picked for {profile.level === "advanced" || profile.level === "intermediate" ? "an" : "a"}{" "}
            <strong>{levelLabel(profile.level).toLowerCase()}</strong> reader
            {profile.topics.length > 0 && (
              <>
                {" "}interested in <strong>{profile.topics.map(topicLabel).join(", ")}</strong>
              </>
            )}
            {language && <> · {language}</>} · <Link to="/profile">Change preferences</Link>
          </p>
        )}
      </div>
      {welcome && <Notice>Welcome! Your account is ready and your feed is personalized.</Notice>}
      <ErrorAlert error={error} />
      {error && (
        <button type="button" className="button" onClick={() => void load()}>
          Try again
        </button>
      )}

      {reading.length > 0 && (
        <section className="continue" aria-labelledby="continue-title">
          <h2 id="continue-title">Continue reading</h2>
          <ul className="continue-list">
            {reading.map((r) => (
              <li key={r.slug}>
                <Link to={`/items/${encodeURIComponent(r.slug ?? "")}`}>{r.title || r.slug}</Link>
                <ProgressBar percent={r.percent} label={`Progress on ${r.title || r.slug}`} />
              </li>
            ))}
          </ul>
        </section>
      )}

      {group?.group && <GroupSection data={group} you={session?.user.id} />}
      {pickGroup && !group?.group && (
        <p className="hint group-hint">
          Make one of your reading groups active to see what its members bookmarked. <Link to="/groups">Choose a group</Link>
        </p>
      )}

      {items === null ? (
        <Loading label="Loading your feed…" />
      ) : items.length === 0 && !error ? (
        <div className="empty">
          <p>Nothing here yet. Try following more topics.</p>
          <Link to="/profile" className="button">Edit preferences</Link>
        </div>
      ) : (
        <section aria-label="Articles" className="cards" aria-busy={loadingMore || undefined}>
          {items.map((item) => (
            <ItemCard key={item.slug} item={item} href={`/items/${encodeURIComponent(item.slug)}`} />
          ))}
        </section>
      )}
      {cursor && (
        <div className="more">
          <button type="button" className="button" onClick={loadMore} disabled={loadingMore} aria-busy={loadingMore || undefined}>
            {loadingMore ? "Loading…" : "Show more"}
          </button>
        </div>
      )}
    </div>
  );
}

/**
 * GroupSection shows what the members of the reader's active reading group bookmarked lately
 * (the reader's own bookmarks included, marked "you"). It is there only while a group is active.
 */
function GroupSection({ data, you }: { data: GroupBookmarks; you?: string }) {
  const name = data.group?.name ?? "";
  return (
    <section className="continue" aria-labelledby="group-marks-title">
      <h2 id="group-marks-title">Your group's bookmarks</h2>
      <p className="small">
        Saved lately by members of <strong>{name}</strong> · <Link to="/groups">Manage groups</Link>
      </p>
      {data.items.length === 0 ? (
        <p>Nobody in {name} has bookmarked anything yet.</p>
      ) : (
        <ul className="continue-list" aria-label={`Bookmarks of ${name}`}>
          {data.items.map((b) => (
            <li key={`${b.slug}:${b.bookmarkedBy.id}`} data-slug={b.slug}>
              <Link to={`/items/${encodeURIComponent(b.slug)}`}>{b.title}</Link>
              <span className="small">
                {" "}
                saved by {b.bookmarkedBy.id === you ? "you" : b.bookmarkedBy.name} · {formatDate(b.bookmarkedAt)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
