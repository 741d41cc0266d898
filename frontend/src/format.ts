// Pure formatting helpers, free of imports so the browser tests can load them on their own.

/**
 * describeIP turns a session's stored address into words. The server stores IPv6 addresses
 * masked to their /64 and fully expanded (as Better-Auth does), so the loopback ::1 arrives as
 * 0000:0000:0000:0000:0000:0000:0000:0000; nobody reads that as "this computer".
 */
export function describeIP(ip?: string | null): string {
  if (!ip) return "";
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(ip);
  if (v4) {
    if (v4[1] === "127" || ip === "0.0.0.0") return "This computer (local)";
    return `IP address ${ip}`;
  }
  if (!ip.includes(":")) return ip;
  const groups = expandIPv6(ip);
  if (!groups) return ip;
  const prefix = groups.slice(0, 4);
  // ::1 masked to /64 and :: are all zeros; so is the link-local network of a local test.
  if (prefix.every((g) => g === 0)) return "This computer (local)";
  if (prefix[0] >= 0xfe80 && prefix[0] <= 0xfebf) return "Local network (IPv6 link-local)";
  return `IPv6 network ${compressIPv6([...prefix, 0, 0, 0, 0])}/64`;
}

/** expandIPv6 returns the eight 16-bit groups of an IPv6 address, or null if it is none. */
function expandIPv6(ip: string): number[] | null {
  const halves = ip.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return all.map((g) => parseInt(g, 16));
}

/** compressIPv6 writes eight groups the short way (RFC 5952: the longest run of zeros as ::). */
function compressIPv6(groups: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** waitText says how long to wait before trying again, from a number of seconds. */
export function waitText(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return s === 1 ? "1 second" : `${s} seconds`;
  const m = Math.ceil(s / 60);
  return m === 1 ? "1 minute" : `${m} minutes`;
}

/** parseRetryAfter reads X-Retry-After (or Retry-After) as whole seconds; undefined if absent or odd. */
export function parseRetryAfter(raw: string | null | undefined): number | undefined {
  if (!raw || !/^\s*\d+\s*$/.test(raw)) return undefined;
  return Number(raw);
}

/** formatDateTime prints a moment for people, in their locale and time zone ("Dec 5, 2026, 1:15 AM"). */
export function formatDateTime(d: Date | string): string {
  const date = typeof d === "string" ? new Date(d) : d;
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * timeAgo says how long ago a moment of the last day was ("just now", "5 minutes ago",
 * "2 hours ago"), or "" for anything older (or in the future by more than a minute's clock skew),
 * which the page prints as a date instead.
 */
export function timeAgo(d: Date | string, now: Date = new Date()): string {
  const date = typeof d === "string" ? new Date(d) : d;
  const s = (now.getTime() - date.getTime()) / 1000;
  if (Number.isNaN(s) || s < -60 || s >= 86400) return "";
  if (s < 60) return "just now";
  const m = Math.floor(s / 60);
  if (m < 60) return m === 1 ? "1 minute ago" : `${m} minutes ago`;
  const h = Math.floor(m / 60);
  return h === 1 ? "1 hour ago" : `${h} hours ago`;
}
