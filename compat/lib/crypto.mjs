// Cookie signing as Better-Auth (better-call) does it: value.base64(HMAC-SHA256),
// URL-encoded as a whole.
import { createHmac } from 'node:crypto';

export function signValue(value, secret) {
  const sig = createHmac('sha256', secret).update(value).digest('base64');
  return `${value}.${sig}`;
}

export function signCookieValue(value, secret) {
  return encodeURIComponent(signValue(value, secret));
}

/** The raw value before the last "." of a (URL-encoded) signed cookie value. */
export function unsignedPart(cookieValue) {
  const v = decodeURIComponent(cookieValue);
  return v.slice(0, v.lastIndexOf('.'));
}

/**
 * An HS256 JWT as Better-Auth's signJWT makes it ({"alg":"HS256"} header, iat and
 * exp claims after the payload's own), e.g. a verification token.
 */
export function signJWT(payload, secret, { expiresIn = 3600, iat = Math.floor(Date.now() / 1000) } = {}) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256' })}.${b64({ ...payload, iat, exp: iat + expiresIn })}`;
  const sig = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${sig}`;
}
