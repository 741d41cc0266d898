// Scenario harness: every scenario body runs once per server ("side"), with
// the same steps; every HTTP exchange (and every explicitly recorded value) is
// recorded, and the two recordings are compared step by step afterwards.

import { AssertionError } from 'node:assert';
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, before, after } from 'node:test';
import { createAuthClient } from 'better-auth/client';
import { Browser } from './http.mjs';
import { describeRecord, differences, formatMismatch, normalizeLocation } from './compare.mjs';
import { startPair, startIdp, APP_ORIGIN, BASE_URL, CANDIDATE_NAME, SELF, SECRET, IDP_PROVIDER_ID, IDP_CLIENT } from './servers.mjs';
import { describeMail, MAIL_BASE_URL } from './mail.mjs';
import { signJWT } from './crypto.mjs';

const REPORT = process.env.COMPAT_REPORT ? path.resolve(process.env.COMPAT_REPORT) : null;
const TRACE = process.env.COMPAT_TRACE ? path.resolve(process.env.COMPAT_TRACE) : null;

export class Side {
  constructor({ name, server, db }, scenarioName) {
    this.name = name;
    this.server = server;
    this.db = db;
    this.steps = [];
    this.problems = [];
    this.scenarioName = scenarioName;
    this.tag = createHash('sha1').update(scenarioName).digest('hex').slice(0, 8);
    this.logStart = server.log.length;
    this._pool = null;
  }

  get isRef() {
    return this.name === 'ref';
  }

  /** A deterministic, scenario-unique e-mail address (same on both sides). */
  email(local = 'user') {
    return `${local}.${this.tag}@example.com`;
  }

  /** A new browser (own cookie jar) whose responses are recorded. */
  browser(opts = {}) {
    return new Browser({
      baseURL: this.server.url,
      appOrigin: APP_ORIGIN,
      ...opts,
      onResponse: (res, ro) => {
        if (ro.record !== false) this.steps.push(res);
      },
    });
  }

  /** Records an arbitrary value as a step; it is compared like a JSON body. */
  record(label, value) {
    this.steps.push({ kind: 'value', label, value, receivedAt: Date.now() });
    return value;
  }

  /**
   * Records a boolean expectation. It is compared across servers like any
   * step; when it fails on the reference server the scenario's assumption
   * about Better-Auth is wrong, which is reported as a problem.
   */
  expect(label, ok, detail) {
    this.record(`expect: ${label}`, Boolean(ok));
    if (!ok && this.isRef) {
      this.problems.push(`reference server did not behave as the scenario expects: ${label}${detail ? ` (${typeof detail === 'string' ? detail : JSON.stringify(detail)})` : ''}`);
    }
    return Boolean(ok);
  }

  /**
   * Runs SQL on this side's own database. After a write it waits 150 ms: the Go server caches
   * validated sessions and learns of changes made behind its back through PostgreSQL
   * notifications, which arrive within milliseconds but not synchronously (a documented
   * difference; Better-Auth reads the database on every request).
   */
  async sql(text, params) {
    if (!this._pool) this._pool = this.db.pool();
    const res = await this._pool.query(text, params);
    if (!/^\s*select\b/i.test(text)) await new Promise((r) => setTimeout(r, 150));
    return res.rows;
  }

  /** The real better-auth client, talking to this side through `browser`. */
  authClient(browser) {
    return createAuthClient({
      baseURL: this.server.url,
      fetchOptions: { customFetchImpl: browser.fetchImpl() },
    });
  }

  /** Awaits a client call and records its {data, error} result. */
  async clientCall(label, promise) {
    const result = await promise;
    this.record(`client result: ${label}`, { data: result.data, error: result.error });
    return result;
  }

  // --- convenience flows ---------------------------------------------------

  async signUp(browser, { name = 'Test User', email = this.email(), password = 'password1234', ...rest } = {}, opts = {}) {
    const res = await browser.post('/sign-up/email', { json: { name, email, password, ...rest }, ...opts });
    return res;
  }

  async signIn(browser, { email = this.email(), password = 'password1234', ...rest } = {}, opts = {}) {
    return browser.post('/sign-in/email', { json: { email, password, ...rest }, ...opts });
  }

  newLog() {
    return this.server.log.slice(this.logStart).join('');
  }

  // --- mail ----------------------------------------------------------------

  /** A link from a mail, pointed at this side's server (path + query, for browser.get). */
  localPath(link) {
    const u = new URL(link, MAIL_BASE_URL);
    return u.pathname + u.search;
  }

  /**
   * Waits (up to timeoutMs) for the next mail to `to` on this server and records it
   * (kind, recipient, link shape, token form / JWT claims). Returns
   * {kind, to, url, token, path, link}: `path` is the link's path + query (for
   * browser.get) and `link` the absolute link rewritten to this server's real address.
   * Throws when nothing arrives (after recording that).
   */
  async mail(to, { kind, timeoutMs = 3000, label } = {}) {
    const m = await this.server.mailbox.take(to, { kind, timeoutMs });
    this.record(label ?? `mail to ${to}${kind ? ` (${kind})` : ''}`, describeMail(m));
    if (!m) throw new Error(`no mail${kind ? ` of kind ${kind}` : ''} to ${to} within ${timeoutMs} ms`);
    if (!m.url) return { ...m };
    return { ...m, path: this.localPath(m.url), link: this.server.url + this.localPath(m.url) };
  }

  /**
   * Records that no mail to `to` arrives within waitMs (the Go server sends in the
   * background, a few ms after answering). Returns the mails that did arrive.
   */
  async noMail(to, { waitMs = 600, label } = {}) {
    const got = await this.server.mailbox.takeAll(to, { waitMs });
    this.record(label ?? `no mail to ${to}`, got.length === 0 ? 'none' : got.map(describeMail));
    return got;
  }

  /** An HS256 verification JWT signed with the shared secret (e.g. an expired one). */
  verificationJWT(payload, { expiresIn = 3600, iat } = {}) {
    return signJWT(payload, SECRET, { expiresIn, iat });
  }

  // --- the test OpenID provider (suites with the `idp` option) -------------

  /**
   * The browser's trip through the test provider (compat/testidp): follows the
   * provider's redirects from `startURL` (the `url` of sign-in/social or link-social)
   * with fetch, approving as `user` ({email, name, verified, picture, sub}; `deny: true`
   * refuses; `tamperState: true` changes one character of the returned state), until the
   * provider redirects to BETTER_AUTH_URL; that last hop is sent to
   * this side's server with `browser` and recorded (label: path + query keys). The
   * provider hops are recorded as one value (status and path of each). Returns the
   * server's response, or the provider's last response when it does not redirect back.
   */
  async dance(browser, startURL, { deny, label, tamperState, ...user } = {}) {
    let url = new URL(startURL);
    const hops = [];
    for (let i = 0; i < 10; i++) {
      if (url.origin === new URL(BASE_URL).origin) {
        this.record('provider hops', hops);
        const state = url.searchParams.get('state');
        if (tamperState && state) url.searchParams.set('state', state.slice(0, -1) + (state.endsWith('A') ? 'B' : 'A'));
        const keys = [...new Set(url.searchParams.keys())].sort();
        return browser.get(url.pathname + url.search, { label: label ?? `GET ${url.pathname}?{${keys.join(',')}} (back from the provider)` });
      }
      if (url.pathname === '/login/username') {
        for (const [k, v] of Object.entries(user)) if (v !== undefined) url.searchParams.set(k, String(v));
        if (deny) url.searchParams.set('deny', '1');
      }
      const r = await fetch(url, { redirect: 'manual' });
      const text = await r.text();
      hops.push(`${r.status} ${url.origin === this.idp?.issuer ? '<idp>' : url.origin}${url.pathname}`);
      const loc = r.headers.get('location');
      if (r.status < 300 || r.status >= 400 || !loc) {
        this.record('provider hops', hops);
        this.record('provider stopped', { status: r.status, body: text.slice(0, 300) });
        return null;
      }
      url = new URL(loc, url);
    }
    throw new Error('the provider redirected more than 10 times');
  }

  /** Signs in through the provider: sign-in/social, then the dance. Returns the callback response. */
  async socialSignIn(browser, body = {}, user = {}) {
    const start = await browser.post('/sign-in/social', { json: { provider: IDP_PROVIDER_ID, ...body } });
    if (!start.json?.url) throw new Error(`sign-in/social returned no url: ${start.status} ${start.text}`);
    return this.dance(browser, start.json.url, user);
  }

  // --- deliberate differences -----------------------------------------------

  /**
   * For a documented, deliberate difference between Better-Auth and the Go server:
   * checks this side against its own expectation (`refOK` on the reference, and on a
   * second reference under COMPAT_SELF=1; `goOK` on the Go server) and records only
   * whether it held. A failure on either side is reported with `detail`.
   */
  deliberate(label, refOK, goOK, detail) {
    const expectRef = this.isRef || SELF;
    const ok = Boolean(expectRef ? refOK : goOK);
    this.record(`deliberate difference: ${label}`, ok);
    if (!ok) {
      this.problems.push(`${this.name} server does not behave as documented (${expectRef ? 'Better-Auth' : 'Go server'} side of a deliberate difference): ${label}${detail ? `\n${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`);
    }
    return ok;
  }
}

function compareSides(scenarioName, ref, other) {
  const failures = [];
  const n = Math.max(ref.steps.length, other.steps.length);
  for (let i = 0; i < n; i++) {
    const a = ref.steps[i];
    const b = other.steps[i];
    const label = a?.label ?? b?.label;
    const diffs = differences(a, b);
    // (token values in labels, e.g. of client requests, are compared by form)
    if (a && b && normalizeLocation(a.label) !== normalizeLocation(b.label)) diffs.unshift({ path: '(step label)', ref: a.label, other: b.label });
    if (diffs.length) {
      const text = formatMismatch(`#${i + 1} ${label}`, diffs, a, b, other.name);
      failures.push(text);
      if (REPORT) {
        appendFileSync(REPORT, `${JSON.stringify({ scenario: scenarioName, step: i + 1, label, diffs, text })}\n`);
      }
    }
  }
  return failures;
}

export async function runScenario(pair, name, body) {
  const sides = [new Side(pair.ref, name), new Side(pair.other, name)];
  for (const s of sides) s.idp = pair.idp;
  const settled = await Promise.allSettled(sides.map((s) => body(s)));
  const problems = [];
  settled.forEach((r, i) => {
    if (r.status === 'rejected') {
      const s = sides[i];
      s.steps.push({ kind: 'error', label: 'scenario threw', message: String(r.reason?.message ?? r.reason), receivedAt: Date.now() });
      problems.push(`${s.name} side threw: ${r.reason?.stack ?? r.reason}`);
    }
  });
  for (const s of sides) problems.push(...s.problems);
  for (const s of sides) {
    if (s.server.exited) problems.push(`${s.name} server is not running any more (exit ${JSON.stringify(s.server.exited)})`);
  }
  const mismatches = compareSides(name, sides[0], sides[1]);
  if (TRACE) {
    const out = [`=== scenario: ${name}`];
    for (const s of sides) {
      out.push(`--- ${s.name} ---`);
      s.steps.forEach((st, i) => out.push(`#${i + 1} ${st.label}\n${describeRecord(st)}\n`));
    }
    appendFileSync(TRACE, `${out.join('\n')}\n`);
  }
  await Promise.all(sides.map((s) => s._pool?.end().catch(() => {})));
  if (problems.length || mismatches.length) {
    const parts = [`scenario "${name}"`];
    if (problems.length) parts.push(...problems);
    if (mismatches.length) parts.push(`${mismatches.length} mismatching step(s) between ref and ${sides[1].name}:`, ...mismatches);
    for (const s of sides) {
      const log = s.newLog().split('\n').slice(-40).join('\n').trim();
      if (log) parts.push(`--- ${s.name} server output during this scenario ---\n${log}`);
    }
    throw new AssertionError({ message: parts.join('\n\n') });
  }
}

/**
 * Declares a suite: a server pair is started before and stopped after it.
 * `define(scenario)` declares scenarios with scenario(name, async (side) => {...},
 * {timeout, skip}). suiteOpts.options are Better-Auth options given to the
 * reference (REF_OPTIONS_JSON) and, mapped to env vars, to the Go server;
 * suiteOpts.skip skips every scenario (and starts no servers).
 * suiteOpts.idp starts the test OpenID provider (compat/testidp) for the suite and
 * configures it on both servers as the provider "idp": the reference through the
 * genericOAuth plugin (REF_GENERIC_OAUTH_JSON), the Go server through OIDC_PROVIDERS=idp
 * and OIDC_IDP_*; `true` or extra genericOAuth config keys (e.g. {scopes: [...]}).
 * suiteOpts.env sets environment variables both servers read alike: BETTER_AUTH_PLUGINS
 * (the same plugin list on both sides) and the plugins' options.
 */
export function compatSuite(title, define, suiteOpts = {}) {
  const { options = {}, skip, idp, env = {} } = suiteOpts;
  describe(title, () => {
    let pair;
    let startError;
    let active = 0;
    before(async () => {
      // no servers for a suite whose scenarios are all skipped
      if (active === 0) return;
      let idpProc;
      try {
        let genericOAuth;
        if (idp) {
          idpProc = await startIdp();
          genericOAuth = [{ providerId: IDP_PROVIDER_ID, discoveryUrl: idpProc.discoveryUrl, ...IDP_CLIENT, ...(idp === true ? {} : idp) }];
        }
        pair = await startPair({ options, genericOAuth, env });
        pair.idp = idpProc;
      } catch (e) {
        startError = e;
        await idpProc?.stop();
      }
    }, { timeout: 360000 });
    after(async () => {
      await pair?.stop();
      await pair?.idp?.stop();
    });
    const scenario = (name, body, opts = {}) => {
      const skipped = opts.skip ?? skip;
      if (!skipped) active++;
      return it(name, { timeout: opts.timeout ?? 60000, skip: skipped }, async () => {
        if (startError) throw startError;
        await runScenario(pair, name, body);
      });
    };
    define(scenario);
  });
}

export { APP_ORIGIN, BASE_URL, CANDIDATE_NAME };

/** Finds a Set-Cookie value by name in a recorded response. */
export function cookieValue(res, name) {
  for (const line of res.setCookies) {
    const i = line.indexOf('=');
    if (line.slice(0, i) === name) return line.slice(i + 1).split(';')[0];
  }
  return undefined;
}

export const SESSION_COOKIE = 'better-auth.session_token';
export const DONT_REMEMBER_COOKIE = 'better-auth.dont_remember';
export const SESSION_DATA_COOKIE = 'better-auth.session_data';
