// A tiny HTTP layer for the compat tests: a cookie jar, a raw requester built
// on node:http (so that every request carries exactly the headers a scenario
// asks for, nothing added behind its back), and a fetch-compatible wrapper for
// driving the real better-auth client.

import http from 'node:http';

/** Parses one Set-Cookie line into {name, value, attrs: [{key, value}], raw}. */
export function parseSetCookie(line) {
  const parts = line.split(';');
  const first = parts.shift();
  const eq = first.indexOf('=');
  const name = (eq < 0 ? first : first.slice(0, eq)).trim();
  const value = eq < 0 ? '' : first.slice(eq + 1).trim();
  const attrs = [];
  for (const p of parts) {
    const t = p.trim();
    if (!t) continue;
    const i = t.indexOf('=');
    attrs.push(i < 0 ? { key: t, value: null } : { key: t.slice(0, i).trim(), value: t.slice(i + 1).trim() });
  }
  const attr = (k) => attrs.find((a) => a.key.toLowerCase() === k.toLowerCase());
  return { name, value, attrs, attr, raw: line };
}

/** A browser-like cookie jar for a single host (domain/path are ignored). */
export class CookieJar {
  constructor() {
    this.cookies = new Map();
  }

  /** Applies Set-Cookie lines from a response. */
  store(setCookieLines) {
    for (const line of setCookieLines ?? []) {
      const c = parseSetCookie(line);
      if (!c.name) continue;
      const maxAge = c.attr('max-age');
      const expires = c.attr('expires');
      let expired = false;
      if (maxAge && Number(maxAge.value) <= 0) expired = true;
      else if (!maxAge && expires && Date.parse(expires.value) <= Date.now()) expired = true;
      if (expired) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }

  get(name) {
    return this.cookies.get(name);
  }

  set(name, value) {
    this.cookies.set(name, value);
  }

  delete(name) {
    this.cookies.delete(name);
  }

  clear() {
    this.cookies.clear();
  }

  names() {
    return [...this.cookies.keys()].sort();
  }

  /** The Cookie request header, or undefined when the jar is empty. */
  header() {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const agent = new http.Agent({ keepAlive: false });

/**
 * Sends one request with node:http and returns a plain response record:
 * {status, statusText, headers: {lower-name: [values]}, setCookies, text, json, receivedAt}
 */
export function rawRequest(baseURL, { method = 'GET', path = '/', headers = {}, body } = {}) {
  const url = new URL(baseURL);
  const outHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || v === null) continue;
    outHeaders[k.toLowerCase()] = v;
  }
  let payload;
  if (body !== undefined && body !== null) {
    payload = Buffer.isBuffer(body) ? body : Buffer.from(String(body));
    outHeaders['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: outHeaders,
        agent,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const hdrs = {};
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const k = res.rawHeaders[i].toLowerCase();
            (hdrs[k] ??= []).push(res.rawHeaders[i + 1]);
          }
          resolve(makeResponseRecord({
            method,
            path,
            requestHeaders: outHeaders,
            requestBody: payload?.toString('utf8'),
            status: res.statusCode,
            statusText: res.statusMessage,
            headers: hdrs,
            text,
          }));
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(30000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    if (payload) req.write(payload);
    req.end();
  });
}

export function makeResponseRecord({ method, path, requestHeaders, requestBody, status, statusText, headers, text }) {
  let json;
  let isJSON = false;
  if (text !== '') {
    try {
      json = JSON.parse(text);
      isJSON = true;
    } catch {
      /* not JSON */
    }
  }
  return {
    kind: 'http',
    request: { method, path, headers: requestHeaders, body: requestBody },
    status,
    statusText,
    headers,
    header(name) {
      return headers[name.toLowerCase()]?.[0];
    },
    setCookies: headers['set-cookie'] ?? [],
    text,
    json,
    isJSON,
    receivedAt: Date.now(),
  };
}

/**
 * A "browser": a cookie jar plus defaults. Every response is passed to
 * `onResponse` (the scenario recorder).
 *
 * Request options:
 *   json      object -> JSON body with content-type application/json
 *   form      object -> x-www-form-urlencoded body
 *   body      raw string body (set contentType yourself)
 *   contentType
 *   query     object -> query string
 *   headers   extra headers (null value removes a default)
 *   origin    Origin header; default: the app origin on non-GET requests; null = none
 *   cookies   false -> do not send the jar; a string -> send exactly this Cookie header
 *   store     false -> do not store Set-Cookie into the jar
 *   label     step label
 *   compare   comparison options for this step, e.g. {body: 'presence'} for HTML pages
 */
export class Browser {
  constructor({ baseURL, basePath = '/api/auth', appOrigin, userAgent = 'better-auth-compat/1.0', onResponse }) {
    this.baseURL = baseURL;
    this.basePath = basePath;
    this.appOrigin = appOrigin;
    this.userAgent = userAgent;
    this.onResponse = onResponse;
    this.jar = new CookieJar();
  }

  async request(method, path, opts = {}) {
    const headers = {};
    if (this.userAgent) headers['user-agent'] = this.userAgent;
    let body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    } else if (opts.form !== undefined) {
      body = new URLSearchParams(opts.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (opts.body !== undefined) {
      body = opts.body;
    }
    if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
    const origin = 'origin' in opts ? opts.origin : method !== 'GET' && method !== 'HEAD' ? this.appOrigin : undefined;
    if (origin !== undefined && origin !== null) headers.origin = origin;
    if (opts.cookies === undefined || opts.cookies === true) {
      const c = this.jar.header();
      if (c) headers.cookie = c;
    } else if (typeof opts.cookies === 'string') {
      headers.cookie = opts.cookies;
    }
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v === null || v === undefined) delete headers[k.toLowerCase()];
      else headers[k.toLowerCase()] = v;
    }
    let fullPath = path.startsWith('/api/') || opts.absolutePath ? path : this.basePath + path;
    if (opts.query) {
      const qs = new URLSearchParams(opts.query).toString();
      if (qs) fullPath += (fullPath.includes('?') ? '&' : '?') + qs;
    }
    const res = await rawRequest(this.baseURL, { method, path: fullPath, headers, body });
    if (opts.store !== false) this.jar.store(res.setCookies);
    res.label = opts.label ?? `${method} ${fullPath}`;
    if (opts.compare) res.compareOpts = opts.compare;
    if (this.onResponse) await this.onResponse(res, opts);
    return res;
  }

  get(path, opts) {
    return this.request('GET', path, opts);
  }

  post(path, opts) {
    return this.request('POST', path, opts);
  }

  /**
   * A fetch implementation (for createAuthClient's customFetchImpl) that sends
   * this browser's cookies, adds an Origin header on non-GET requests like a
   * browser would, stores Set-Cookie and records every exchange.
   */
  fetchImpl() {
    return async (input, init = {}) => {
      const req = new Request(input, init);
      const url = new URL(req.url);
      const headers = {};
      req.headers.forEach((v, k) => {
        headers[k] = v;
      });
      if (this.userAgent && !headers['user-agent']) headers['user-agent'] = this.userAgent;
      if (req.method !== 'GET' && req.method !== 'HEAD' && !headers.origin && this.appOrigin) headers.origin = this.appOrigin;
      const c = this.jar.header();
      if (c) headers.cookie = c;
      const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
      const res = await rawRequest(url.origin, { method: req.method, path: url.pathname + url.search, headers, body });
      this.jar.store(res.setCookies);
      res.label = `client ${req.method} ${url.pathname}${url.search}`;
      if (this.onResponse) await this.onResponse(res, {});
      const outHeaders = new Headers();
      for (const [k, vs] of Object.entries(res.headers)) for (const v of vs) outHeaders.append(k, v);
      const nullBody = [101, 103, 204, 205, 304].includes(res.status);
      return new Response(nullBody ? null : res.text, { status: res.status, statusText: res.statusText, headers: outHeaders });
    };
  }
}
