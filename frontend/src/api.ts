import axios from "axios";
import { refreshSession, tokenStore } from "./auth";
import type { SecurityEvent } from "./securityEvents";

/**
 * api is the client of the personalized content API (/content/*). A request interceptor adds the
 * session token as `Authorization: Bearer`; the session cookie would do too, since the app and
 * the API share one host.
 */
export const api = axios.create({ baseURL: "/content", timeout: 15000, withCredentials: true });

api.interceptors.request.use((config) => {
  const token = tokenStore.get();
  if (token) config.headers.set("Authorization", `Bearer ${token}`);
  return config;
});

api.interceptors.response.use(undefined, (error) => {
  if (axios.isAxiosError(error) && error.response?.status === 401) {
    // The session ended elsewhere (revoked, expired): forget the token and let the session
    // hook notice, which sends the user to the sign-in page.
    tokenStore.clear();
    refreshSession();
  }
  return Promise.reject(error);
});

export type Level = "beginner" | "intermediate" | "advanced";
export const LEVELS: Level[] = ["beginner", "intermediate", "advanced"];

/** Profile is the body of PUT /content/profile; GET adds createdAt/updatedAt (null until saved). */
export interface Profile {
  level: Level;
  topics: string[];
  language: string;
  background: string;
  goals: string;
  createdAt?: string | null;
  updatedAt?: string | null;
}

/** ItemSummary is what every list shows of an item. */
export interface ItemSummary {
  slug: string;
  title: string;
  summary: string;
  tags: string[];
  level: string; // beginner, intermediate, advanced or "all"
  language: string;
  readingMinutes: number;
  publishedAt: string;
}

/** Progress is a reader's progress on one item (GET /content/progress entries, PUT answers). */
export interface Progress {
  slug?: string;
  title?: string;
  percent: number;
  completed: boolean;
  completedAt?: string | null;
  updatedAt?: string;
}

/** FeedItem is one ranked entry of the feed, with the reasons it was picked. */
export interface FeedItem extends ItemSummary {
  score?: number;
  reasons: string[];
  progress: { percent: number; completed: boolean } | null;
  bookmarked: boolean;
}

/** Page is one page of a list; nextCursor is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Item is an article rendered for the reader's level, with their progress and bookmark. */
export interface Item extends ItemSummary {
  html: string;
  levels: string[] | null;
  shownLevel: string;
  progress: Progress | null;
  bookmarked: boolean;
  bookmarkedAt: string | null;
}

/** PublicItem is an article as visitors see it: every level section, no reader state. */
export interface PublicItem extends ItemSummary {
  html: string;
  levels: string[] | null;
}

export interface BookmarkEntry extends ItemSummary {
  bookmarkedAt: string;
}

/** GroupBookmark is a bookmark of a member of the reader's active reading group. */
export interface GroupBookmark extends BookmarkEntry {
  bookmarkedBy: { id: string; name: string };
}

/** GroupBookmarks answers GET /content/group-bookmarks: group is null without an active group. */
export interface GroupBookmarks {
  group: { id: string; name: string } | null;
  items: GroupBookmark[];
}

const at = (slug: string) => `/items/${encodeURIComponent(slug)}`;
const paged = (cursor?: string, limit?: number) => ({ params: { ...(cursor ? { cursor } : {}), ...(limit ? { limit } : {}) } });

export const content = {
  getProfile: () => api.get<Profile>("/profile").then((r) => r.data),
  putProfile: (p: Profile) => api.put<Profile>("/profile", p).then((r) => r.data),
  feed: (cursor?: string) => api.get<Page<FeedItem>>("/feed", paged(cursor)).then((r) => r.data),
  item: (slug: string) => api.get<Item>(at(slug)).then((r) => r.data),
  putProgress: (slug: string, p: { percent?: number; completed?: boolean }) =>
    api.put<Progress>(`${at(slug)}/progress`, p).then((r) => r.data),
  progress: (cursor?: string) => api.get<Page<Progress>>("/progress", paged(cursor)).then((r) => r.data),
  bookmark: (slug: string) => api.put(`${at(slug)}/bookmark`).then((r) => r.data),
  unbookmark: (slug: string) => api.delete(`${at(slug)}/bookmark`).then((r) => r.data),
  bookmarks: (cursor?: string) => api.get<Page<BookmarkEntry>>("/bookmarks", paged(cursor)).then((r) => r.data),
  groupBookmarks: (limit?: number) => api.get<GroupBookmarks>("/group-bookmarks", paged(undefined, limit)).then((r) => r.data),
  publicItems: (limit?: number) => api.get<Page<ItemSummary>>("/public/items", paged(undefined, limit)).then((r) => r.data),
  publicItem: (slug: string) => api.get<PublicItem>(`/public${at(slug)}`).then((r) => r.data),
};

/**
 * account calls this server's own /api/auth endpoints that Better-Auth's client does not know,
 * through the same client as /content (bearer token, cookie, 401 handling, fromRequest errors).
 */
export const account = {
  /** securityEvents is GET /api/auth/security-events: the caller's latest audit rows, newest first. */
  securityEvents: (limit: number) =>
    api
      .get<{ events: SecurityEvent[] }>("/security-events", { baseURL: "/api/auth", params: { limit } })
      .then((r) => r.data.events ?? []),
};
