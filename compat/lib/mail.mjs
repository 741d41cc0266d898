// Mail capture for the compat tests.
//
// Reference server: lib/ref-server.mjs records every mail callback in memory and
// hands the list out (and clears it) at GET /__compat/mail.
// Go server: without SMTP_URL it writes each message as an .eml file into
// $DATA_DIR/outbox/ (file names start with a UTC timestamp, so they sort in send
// order); the files are parsed here (headers + the text/plain part, 8-bit or quoted-printable).
//
// Both are wrapped in a Mailbox that polls its source and keeps the messages not yet
// taken, so that a scenario can say "the next mail to X" on either server.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { alphabetOf } from './compare.mjs';
import { parseSms } from './sms.mjs';

export const MAIL_BASE_URL = 'http://localhost:8000';

// ---------------------------------------------------------------------------
// .eml parsing (just enough MIME for the Go server's messages)

/** Splits a message (or MIME part) into {headers: Map(lower-name -> [values]), body}. */
export function splitHeaders(raw) {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 2);
  const headers = new Map();
  // unfold continuation lines
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    if (!headers.has(k)) headers.set(k, []);
    headers.get(k).push(line.slice(i + 1).trim());
  }
  return { headers, body };
}

/** Decodes quoted-printable text (soft line breaks, =XX escapes) as UTF-8. */
export function decodeQuotedPrintable(s) {
  const bytes = [];
  const src = s.replace(/\r\n/g, '\n').replace(/=\n/g, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 1, i + 3))) {
      bytes.push(parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Decodes RFC 2047 encoded words (=?UTF-8?Q?...?= / =?UTF-8?B?...?=) in a header value. */
export function decodeEncodedWords(v) {
  return v
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, charset, enc, data) => {
      const buf = enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : Buffer.from(decodeQuotedPrintable(data.replace(/_/g, ' ')), 'utf8');
      return buf.toString(/^utf-?8$/i.test(charset) ? 'utf8' : 'latin1');
    });
}

function headerParam(value, name) {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*("([^"]*)"|[^;\\s]+)`, 'i').exec(value ?? '');
  return m ? (m[2] ?? m[1]) : undefined;
}

function decodeBody(body, headers) {
  const cte = (headers.get('content-transfer-encoding')?.[0] ?? '').toLowerCase();
  if (cte === 'quoted-printable') return decodeQuotedPrintable(body);
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** Finds the first text/plain part (recursing into multiparts); returns its decoded text. */
function textPart(headers, body) {
  const ct = headers.get('content-type')?.[0] ?? 'text/plain';
  const media = ct.split(';')[0].trim().toLowerCase();
  if (media.startsWith('multipart/')) {
    const boundary = headerParam(ct, 'boundary');
    if (!boundary) return undefined;
    const parts = body.replace(/\r\n/g, '\n').split(`--${boundary}`);
    for (const p of parts.slice(1)) {
      if (p.startsWith('--')) break;
      const sub = splitHeaders(p.replace(/^\n/, ''));
      const t = textPart(sub.headers, sub.body);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  if (media === 'text/plain') return decodeBody(body, headers);
  return undefined;
}

/** The bare address of a To/From header value ("Name <a@b>" or "<a@b>" or "a@b"). */
export function bareAddress(v) {
  if (!v) return undefined;
  const m = /<([^>]+)>/.exec(v);
  return (m ? m[1] : v).trim();
}

/** Parses an .eml file's text into {to, subject, text, links}. */
export function parseEml(raw) {
  const { headers, body } = splitHeaders(raw);
  const text = textPart(headers, body) ?? '';
  const links = [...text.matchAll(/https?:\/\/[^\s<>"]+/g)].map((m) => m[0]);
  const ct = headers.get('content-type')?.[0] ?? '';
  const boundary = headerParam(ct, 'boundary');
  return {
    // a multipart message is complete once its closing boundary is there
    complete: boundary ? raw.includes(`--${boundary}--`) : body.length > 0,
    to: bareAddress(decodeEncodedWords(headers.get('to')?.[0] ?? '')),
    subject: decodeEncodedWords(headers.get('subject')?.[0] ?? ''),
    text,
    links,
  };
}

/** The Go server's mail kind, from its (built-in template) subject. */
export function kindFromSubject(subject) {
  // the organization plugin's invitation ("<inviter> invited you to <organization> on <app>"; the
  // reference records it as kind invitation). First: an organization's name may say anything.
  if (/ invited you to /i.test(subject)) return 'invitation';
  // the e-mail OTP plugin's codes (the reference records them as email-otp-<type>)
  if (/^your code to sign in to/i.test(subject)) return 'email-otp-sign-in';
  if (/^your code to verify your email/i.test(subject)) return 'email-otp-email-verification';
  if (/^your code to reset your/i.test(subject)) return 'email-otp-forget-password';
  if (/^your code to change your/i.test(subject)) return 'email-otp-change-email';
  if (/^verify your email/i.test(subject)) return 'verify-email';
  if (/^reset your .*password/i.test(subject)) return 'reset-password';
  if (/^confirm your new email/i.test(subject)) return 'change-email';
  if (/^confirm deleting/i.test(subject)) return 'delete-account';
  // the two-factor plugin's one-time code (the reference records it as kind two-factor-otp)
  if (/sign-in code|two-factor|verification code/i.test(subject)) return 'two-factor-otp';
  // the magic-link plugin's sign-in link (the reference records it as kind magic-link)
  if (/sign-in link/i.test(subject)) return 'magic-link';
  return `unknown subject: ${subject}`;
}

/** A one-time code in a mail's text: the first line holding only 4 to 10 digits. */
export function otpOfText(text) {
  return /^[ \t]*(\d{4,10})[ \t]*$/m.exec(text ?? '')?.[1];
}

/** The token a link carries: ?token=, or the last path segment of /reset-password/:token or
 * /accept-invitation/:invitationId. */
export function tokenOfLink(link) {
  const u = new URL(link);
  if (u.searchParams.has('token')) return u.searchParams.get('token');
  const m = /\/(?:reset-password|accept-invitation)\/([^/?#]+)/.exec(u.pathname);
  return m ? decodeURIComponent(m[1]) : undefined;
}

// ---------------------------------------------------------------------------
// Mailboxes

class Mailbox {
  constructor() {
    this.pending = [];
  }

  /** Takes the oldest pending mail to `to` (and of `kind`, if given), polling up to timeoutMs. */
  async take(to, { kind, timeoutMs = 3000 } = {}) {
    const want = to.toLowerCase();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.poll();
      const i = this.pending.findIndex((m) => m.to?.toLowerCase() === want && (!kind || m.kind === kind));
      if (i >= 0) return this.pending.splice(i, 1)[0];
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits `waitMs`, then takes (and returns) every pending mail to `to`. */
  async takeAll(to, { waitMs = 0 } = {}) {
    if (waitMs) await new Promise((r) => setTimeout(r, waitMs));
    await this.poll();
    const want = to.toLowerCase();
    const out = this.pending.filter((m) => m.to?.toLowerCase() === want);
    this.pending = this.pending.filter((m) => m.to?.toLowerCase() !== want);
    return out;
  }
}

/** Mail recorded by lib/ref-server.mjs, read from GET <url>/__compat/mail. */
export class RefMailbox extends Mailbox {
  constructor(serverURL) {
    super();
    this.serverURL = serverURL;
  }

  async poll() {
    const res = await fetch(`${this.serverURL}/__compat/mail`, { signal: AbortSignal.timeout(5000) });
    const list = await res.json();
    for (const m of list) {
      this.pending.push({ source: 'callback', kind: m.kind, to: m.to, subject: null, url: m.url, token: m.token ?? tokenOfLink(m.url), newEmail: m.newEmail });
    }
  }
}

/** .eml (mail) and .sms (text message, see lib/sms.mjs) files in the Go server's $DATA_DIR/outbox. */
export class OutboxMailbox extends Mailbox {
  constructor(dir) {
    super();
    this.dir = dir;
    this.seen = new Set();
  }

  async poll() {
    let names;
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.eml') || n.endsWith('.sms')).sort();
    } catch (e) {
      if (e.code === 'ENOENT') return;
      throw e;
    }
    for (const name of names) {
      if (this.seen.has(name)) continue;
      let raw;
      try {
        raw = readFileSync(path.join(this.dir, name), 'utf8');
      } catch {
        continue;
      }
      if (name.endsWith('.sms')) {
        const sms = parseSms(raw);
        if (!sms.complete) continue;
        this.seen.add(name);
        this.pending.push({ source: 'outbox', file: name, kind: sms.kind, to: sms.to, subject: null, url: null, token: sms.code, text: sms.text });
        continue;
      }
      // a file still being written has no complete final boundary / text yet
      const parsed = parseEml(raw);
      if (!parsed.complete) continue;
      const kind = kindFromSubject(parsed.subject);
      this.seen.add(name);
      if (kind === 'two-factor-otp' || kind.startsWith('email-otp-')) {
        // no link: the code stands on a line of its own
        this.pending.push({ source: 'outbox', file: name, kind, to: parsed.to, subject: parsed.subject, url: null, token: otpOfText(parsed.text), text: parsed.text });
        continue;
      }
      const url = parsed.links.find((l) => l.startsWith(`${MAIL_BASE_URL}/`)) ?? parsed.links[0];
      this.pending.push({ source: 'outbox', file: name, kind, to: parsed.to, subject: parsed.subject, url, token: url ? tokenOfLink(url) : undefined, text: parsed.text });
    }
  }
}

// ---------------------------------------------------------------------------
// Comparable description of a mail

/** Decodes a JWT's payload without verifying it (undefined when it is no JWT). */
export function jwtPayload(token) {
  const parts = (token ?? '').split('.');
  if (parts.length !== 3) return undefined;
  try {
    return { header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')), payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) };
  } catch {
    return undefined;
  }
}

/** Describes a token by form: a JWT by its header and claims (times as lifetime), else by length/alphabet. */
export function describeToken(token) {
  if (token === undefined || token === null) return null;
  const jwt = jwtPayload(token);
  if (jwt) {
    const { iat, exp, ...rest } = jwt.payload;
    return {
      form: 'jwt',
      header: jwt.header,
      claims: rest,
      lifetimeSeconds: typeof exp === 'number' && typeof iat === 'number' ? exp - iat : `exp=${exp} iat=${iat}`,
      issuedRecently: typeof iat === 'number' && Math.abs(Date.now() / 1000 - iat) < 120,
    };
  }
  return { form: `len=${token.length} ${alphabetOf(token)}` };
}

/** A link with its token replaced by a placeholder: {origin, path, query: [[k, v]]}. */
export function describeLink(link, token) {
  if (!link) return null;
  const u = new URL(link);
  const query = [...u.searchParams].map(([k, v]) => [k, k === 'token' ? '<token>' : v]);
  let p = u.pathname;
  if (token) p = p.replace(`/${encodeURIComponent(token)}`, '/<token>').replace(`/${token}`, '/<token>');
  return { origin: u.origin, path: p, query };
}

/** What is compared of a captured mail. */
export function describeMail(m) {
  if (!m) return { received: false };
  return {
    received: true,
    kind: m.kind,
    to: m.to,
    link: describeLink(m.url, m.token),
    token: describeToken(m.token),
  };
}
