// Comparison of a reference response with a candidate response.
//
// Responses are reduced to a "view" in which values that legitimately differ
// between two servers (random ids and tokens, timestamps) are replaced by
// descriptions of their form, then the two views are diffed path by path.

import assert from 'node:assert/strict';
import { parseSetCookie } from './http.mjs';

export const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/**
 * JSON keys whose string values are random and compared by form only (impersonatedBy: the admin
 * plugin's user id; organizationId, inviterId, teamId, activeOrganizationId, activeTeamId: the
 * organization plugin's ids).
 */
export const DYNAMIC_KEYS = new Set(['id', 'token', 'userId', 'accountId', 'sessionId', 'backupCodes', 'impersonatedBy', 'organizationId', 'inviterId', 'teamId', 'activeOrganizationId', 'activeTeamId']);

/** Names the smallest alphabet a random-looking string fits in. */
export function alphabetOf(s) {
  if (/^[0-9a-f]+$/.test(s)) return 'hex';
  if (/^[A-Za-z0-9]+$/.test(s)) return 'alnum';
  if (/^[A-Za-z0-9_-]+$/.test(s)) return 'base64url';
  if (/^[A-Za-z0-9+/]+=*$/.test(s)) return 'base64';
  return 'other';
}

const JWT_FORM = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function describeRandom(s) {
  if (JWT_FORM.test(s)) return 'jwt';
  return `len=${s.length} ${alphabetOf(s)}`;
}

/** Query parameters of URLs in JSON bodies whose values are random (compared by form). */
export const RANDOM_URL_PARAMS = new Set(['state', 'code', 'code_challenge', 'nonce', 'token', 'id_token_hint']);

/**
 * The form of a random base64url value (OAuth state, nonce, PKCE challenge): its length and
 * "b64url" also when, by chance, it has no "-" or "_" (a 32-character base64url string
 * has neither about a third of the time).
 */
export function looseForm(v) {
  if (JWT_FORM.test(v)) return 'jwt';
  return /^[A-Za-z0-9_-]+$/.test(v) ? `len=${v.length} b64url` : describeRandom(v);
}

/** Cookies whose (signed) value is a random base64url string, described with looseForm. */
const BASE64URL_COOKIES = new Set(['better-auth.state', 'better-auth.better-auth-passkey']);

/**
 * An absolute URL with a query (e.g. the provider authorization URL of sign-in/social),
 * reduced to origin + path + its parameters sorted by name, with the values of
 * RANDOM_URL_PARAMS replaced by their form.
 */
export function normalizeURL(s) {
  let u;
  try {
    u = new URL(s);
  } catch {
    return s;
  }
  const params = [...u.searchParams].map(([k, v]) => [k, RANDOM_URL_PARAMS.has(k) ? `<${looseForm(v)}>` : v]);
  params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `${u.origin}${u.pathname}?${params.map(([k, v]) => `${k}=${v}`).join('&')}${u.hash}`;
}

/**
 * The e-mail address the anonymous plugin makes up (`<id>@anonymous.placeholder.invalid`, or
 * `temp-<id>@<emailDomainName>`): its random local part is compared by form.
 */
const ANONYMOUS_EMAIL = /^()([A-Za-z0-9]{32})@(anonymous\.placeholder\.invalid)$|^(temp-)([A-Za-z0-9]{32})@(.+)$/;

/**
 * An otpauth:// URI (two-factor totpURI) with its random `secret` replaced by its form; label,
 * parameter order and the other parameters are kept as they are (an authenticator app reads them).
 */
export function normalizeOtpauth(s) {
  return s.replace(/([?&]secret=)([^&#]*)/, (_, k, v) => `${k}<${/^[A-Z2-7]+$/.test(v) ? 'base32' : 'NOT base32'} len=${v.length}>`);
}

function dateOffset(value, now) {
  const h = Math.round((Date.parse(value) - now) / 3600000);
  return `${h >= 0 ? '+' : ''}${h === 0 ? 0 : h}h`;
}

/**
 * Reduces a JSON value: random values become `<rand len=32 alnum #n>` (n numbers
 * distinct values in traversal order, so equal ids keep being equal), ISO
 * dates become `<date +168h>` (offset from `now` in whole hours).
 */
export function normalizeJSON(value, { now = Date.now(), dynamicKeys = DYNAMIC_KEYS } = {}) {
  const seen = new Map();
  // (keys added per step, e.g. a provider's tokens, are described with looseForm)
  const placeholder = (s, key) => {
    if (!seen.has(s)) seen.set(s, seen.size + 1);
    return `<rand ${DYNAMIC_KEYS.has(key) ? describeRandom(s) : looseForm(s)} #${seen.get(s)}>`;
  };
  const walk = (v, key) => {
    if (v === null) return null;
    if (v instanceof Date) {
      return Number.isNaN(v.getTime()) ? '<Invalid Date>' : `<Date ${dateOffset(v.toISOString(), now)}>`;
    }
    // (the elements of an array under a random key, e.g. backupCodes, are random as well)
    if (Array.isArray(v)) return v.map((x) => walk(x, key !== undefined && dynamicKeys.has(key) ? key : undefined));
    if (typeof v === 'object') {
      const out = {};
      for (const k of Object.keys(v).sort()) {
        if (v[k] === undefined) continue;
        out[k] = walk(v[k], k);
      }
      return out;
    }
    if (typeof v === 'number' && key !== undefined && dynamicKeys.has(key)) return '<number>';
    if (typeof v === 'string') {
      if (ISO_DATE.test(v)) return `<date ${dateOffset(v, now)}>`;
      if (DATE_LIKE.test(v)) return `<NON-ISO date ${JSON.stringify(v)}>`;
      if (key !== undefined && dynamicKeys.has(key) && v !== '') return placeholder(v, key);
      if (key === 'url' && /^https?:\/\/[^?#]*\?/.test(v)) return normalizeURL(v);
      if (v.startsWith('otpauth://')) return normalizeOtpauth(v);
      if (ANONYMOUS_EMAIL.test(v)) return v.replace(ANONYMOUS_EMAIL, (...m) => `${m[1] ?? m[4]}<random ${describeRandom(m[2] ?? m[5])}>@${m[3] ?? m[6]}`);
      return v;
    }
    return v;
  };
  return walk(value, undefined);
}

/** Describes a cookie value without its random content. */
function describeCookieValue(name, value) {
  if (value === '') return 'empty';
  let decoded = value;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    /* keep raw */
  }
  const dot = decoded.lastIndexOf('.');
  if (dot > 0) {
    const left = decoded.slice(0, dot);
    const sig = decoded.slice(dot + 1);
    if (/^[A-Za-z0-9+/]{43}=$/.test(sig)) {
      const leftDesc = left.length < 16 ? JSON.stringify(left) : BASE64URL_COOKIES.has(name) ? looseForm(left) : describeRandom(left);
      return `signed(${leftDesc}, sig=base64-32)${value.includes('%') ? ' url-encoded' : ''}`;
    }
  }
  return `raw(${describeRandom(value)})`;
}

/** The comparable description of one Set-Cookie line. */
export function describeSetCookie(line) {
  const c = parseSetCookie(line);
  const a = (k) => c.attr(k);
  const d = {
    // multi-session names a cookie after its (random) session token
    name: c.name.replace(/_multi-[A-Za-z0-9_-]+$/, '_multi-<token>'),
    value: describeCookieValue(c.name, c.value),
    'Max-Age': a('max-age')?.value ?? null,
    Path: a('path')?.value ?? null,
    HttpOnly: Boolean(a('httponly')),
    Secure: Boolean(a('secure')),
    SameSite: a('samesite')?.value ?? null,
    Domain: a('domain')?.value ?? null,
    Expires: a('expires') ? 'present' : null,
    Partitioned: Boolean(a('partitioned')),
  };
  return d;
}

/** The form of a token in a URL: a JWT, or its length and alphabet. */
export function tokenForm(v) {
  if (JWT_FORM.test(v)) return 'jwt';
  return describeRandom(v);
}

/**
 * A Location with the values of token query parameters (and a token path segment
 * after /reset-password/) replaced by their form; everything else is kept as is.
 */
export function normalizeLocation(loc) {
  // a provider authorization URL (state, PKCE challenge, nonce)
  if (/^https?:\/\/[^?#]*\?(.*&)?(state|code_challenge|nonce|id_token_hint)=/.test(loc)) return normalizeURL(loc);
  return loc
    .replace(/([?&]token=)([^&#]*)/g, (_, k, v) => `${k}<token ${tokenForm(decodeURIComponent(v))}>`)
    .replace(/(\/reset-password\/)([^/?#]+)/, (_, k, v) => `${k}<token ${tokenForm(decodeURIComponent(v))}>`);
}

function mediaType(ct) {
  if (ct === undefined) return null;
  return ct.split(';')[0].trim().toLowerCase();
}

function describeSignedHeader(v) {
  if (v === undefined) return null;
  const dot = v.lastIndexOf('.');
  if (dot > 0 && /^[A-Za-z0-9+/]{43}=$/.test(v.slice(dot + 1))) {
    return `signed(${describeRandom(v.slice(0, dot))}, sig=base64-32)`;
  }
  return `raw(${describeRandom(v)})`;
}

/**
 * Deliberate difference: the Go server marks every /api/auth answer `Cache-Control: no-store`
 * (tokens and personal data must not sit in a shared or browser cache), where Better-Auth sends
 * it on get-session only. An absent header and `no-store` therefore compare equal; any other
 * value is compared as it is. The Go test TestNoStoreOnAuthAnswers pins the Go side.
 */
function cacheControl(v) {
  return v === undefined || v === null || v === 'no-store' ? 'absent or no-store' : v;
}

/**
 * The comparable view of a recorded step.
 * opts.location: 'exact' (default) | 'presence'
 * opts.body: 'presence' compares only whether the body is empty (e.g. HTML pages)
 * opts.bodyContains: [strings] whose presence in the raw body is compared
 * opts.randomKeys: more JSON keys (besides DYNAMIC_KEYS) whose values are compared by form
 */
export function view(rec, baseOpts = {}) {
  const opts = { ...baseOpts, ...(rec.compareOpts ?? {}) };
  if (rec.kind === 'value') {
    return { value: normalizeJSON(rec.value, { now: rec.receivedAt }) };
  }
  if (rec.kind === 'error') {
    return { thrown: rec.message };
  }
  const h = (n) => rec.header(n);
  const location = h('location');
  const v = {
    status: rec.status,
    contentType: mediaType(h('content-type')),
    headers: {
      'cache-control': cacheControl(h('cache-control')),
      pragma: h('pragma') ?? null,
      location: location === undefined ? null : opts.location === 'presence' ? 'present' : normalizeLocation(location),
      'set-auth-token': describeSignedHeader(h('set-auth-token')),
    },
    // Identical duplicate lines are collapsed: 1.7.25 sometimes writes the same
    // Set-Cookie twice (update-user on a session that is also being refreshed), which
    // is a no-op for every cookie store.
    cookies: [...new Set(rec.setCookies)].map(describeSetCookie).map((d) => JSON.stringify(d)).sort().map((s) => JSON.parse(s)),
  };
  // Better-Auth's bearer plugin exposes set-auth-token to CORS callers whenever it
  // sends it; other CORS headers are outside Better-Auth and are not compared.
  if (h('set-auth-token') !== undefined) {
    const exposed = (h('access-control-expose-headers') ?? '').toLowerCase().split(',').map((x) => x.trim());
    v.headers['set-auth-token exposed via access-control-expose-headers'] = exposed.includes('set-auth-token');
  }
  // A deliberate difference (README, two-factor): the answer to a challenged sign-in carries, on
  // Better-Auth, a set-auth-token naming the session it created and deleted at once; the Go server
  // creates none and sends none. plugin-two-factor.test.mjs checks both sides of it explicitly.
  if (rec.isJSON && rec.json?.twoFactorRedirect === true) {
    delete v.headers['set-auth-token'];
    delete v.headers['set-auth-token exposed via access-control-expose-headers'];
  }
  if (opts.body === 'presence') v.rawBody = rec.text === '' ? '(empty)' : '(non-empty)';
  else if (rec.isJSON) v.body = normalizeJSON(rec.json, { now: rec.receivedAt, dynamicKeys: opts.randomKeys ? new Set([...DYNAMIC_KEYS, ...opts.randomKeys]) : DYNAMIC_KEYS });
  else v.rawBody = rec.text;
  if (opts.bodyContains) v.bodyContains = Object.fromEntries(opts.bodyContains.map((x) => [x, rec.text.includes(x)]));
  return v;
}

/** Lists the differences between two plain values as [{path, ref, other}]. */
export function diffValues(a, b, path = '', out = []) {
  const type = (x) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);
  const ta = type(a);
  const tb = type(b);
  if (ta !== tb) {
    out.push({ path: path || '(root)', ref: a, other: b });
    return out;
  }
  if (ta === 'array') {
    if (path === 'cookies' || path.endsWith('.cookies')) return diffCookies(a, b, path, out);
    if (a.length !== b.length) out.push({ path: `${path}.length`, ref: a.length, other: b.length });
    for (let i = 0; i < Math.min(a.length, b.length); i++) diffValues(a[i], b[i], `${path}[${i}]`, out);
    return out;
  }
  if (ta === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in a)) out.push({ path: p, ref: '(absent)', other: b[k] });
      else if (!(k in b)) out.push({ path: p, ref: a[k], other: '(absent)' });
      else diffValues(a[k], b[k], p, out);
    }
    return out;
  }
  if (a !== b) out.push({ path: path || '(root)', ref: a, other: b });
  return out;
}

/** Set-Cookie descriptions are compared as a multiset, grouped by name. */
function diffCookies(a, b, path, out) {
  const group = (list) => {
    const m = new Map();
    for (const c of list) {
      if (!m.has(c.name)) m.set(c.name, []);
      m.get(c.name).push(JSON.stringify(c));
    }
    for (const v of m.values()) v.sort();
    return m;
  };
  const ga = group(a);
  const gb = group(b);
  for (const name of [...new Set([...ga.keys(), ...gb.keys()])].sort()) {
    const la = ga.get(name) ?? [];
    const lb = gb.get(name) ?? [];
    if (JSON.stringify(la) !== JSON.stringify(lb)) {
      out.push({ path: `${path}[${name}]`, ref: la.map((s) => JSON.parse(s)), other: lb.map((s) => JSON.parse(s)) });
    }
  }
  return out;
}

function trim(s, n = 700) {
  if (s === undefined || s === null) return String(s);
  return s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s;
}

/** A human-readable dump of one recorded step. */
export function describeRecord(rec) {
  if (!rec) return '(no response: the scenario did not reach this step)';
  if (rec.kind === 'value') return `value: ${trim(JSON.stringify(rec.value))}`;
  if (rec.kind === 'error') return `threw: ${rec.message}`;
  const lines = [];
  const rq = rec.request;
  lines.push(`> ${rq.method} ${rq.path}`);
  for (const k of ['content-type', 'origin', 'cookie', 'authorization', 'sec-fetch-site', 'sec-fetch-mode', 'referer']) {
    if (rq.headers?.[k]) lines.push(`> ${k}: ${trim(rq.headers[k], 160)}`);
  }
  if (rq.body) lines.push(`> ${trim(rq.body, 300)}`);
  lines.push(`< ${rec.status} ${rec.statusText ?? ''}`);
  for (const k of ['content-type', 'cache-control', 'pragma', 'location', 'set-auth-token', 'access-control-expose-headers']) {
    for (const v of rec.headers[k] ?? []) lines.push(`< ${k}: ${trim(v, 200)}`);
  }
  for (const c of rec.setCookies) lines.push(`< set-cookie: ${c}`);
  lines.push(`< ${trim(rec.text)}`);
  return lines.join('\n');
}

function fmt(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Returns the list of differences between two recorded steps. */
export function differences(refRec, otherRec, opts = {}) {
  if (!refRec || !otherRec) {
    return [{ path: '(step)', ref: refRec ? refRec.label : '(missing)', other: otherRec ? otherRec.label : '(missing)' }];
  }
  return diffValues(view(refRec, opts), view(otherRec, opts));
}

/** Formats differences plus both full sides. */
export function formatMismatch(label, diffs, refRec, otherRec, otherName = 'go') {
  const out = [`step "${label}": ${diffs.length} difference(s)`];
  for (const d of diffs) out.push(`  ${d.path}:\n     ref: ${fmt(d.ref)}\n     ${otherName}: ${fmt(d.other)}`);
  out.push('  --- ref ---');
  out.push(describeRecord(refRec).replace(/^/gm, '  '));
  out.push(`  --- ${otherName} ---`);
  out.push(describeRecord(otherRec).replace(/^/gm, '  '));
  return out.join('\n');
}

/**
 * compare(refRes, goRes): asserts that two responses are equivalent (status,
 * JSON shape, error code/message, important headers, Set-Cookie multiset).
 */
export function compare(refRes, goRes, opts = {}) {
  const diffs = differences(refRes, goRes, opts);
  if (diffs.length) {
    assert.fail(formatMismatch(refRes?.label ?? goRes?.label ?? '?', diffs, refRes, goRes, opts.otherName));
  }
}
