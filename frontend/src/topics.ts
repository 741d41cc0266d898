import { useEffect, useState } from "react";
import { content } from "./api";

/**
 * useTopics lists the topics a reader can follow: the tags of the public catalog, or the given
 * fallback until (or unless) it loads.
 */
export function useTopics(fallback: string[]): string[] {
  const [topics, setTopics] = useState(fallback);
  useEffect(() => {
    let live = true;
    content
      .publicItems(50)
      .then((page) => {
        const tags = [...new Set(page.items.flatMap((i) => i.tags ?? []))].sort();
        if (live && tags.length > 0) setTopics(tags);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  return topics;
}
