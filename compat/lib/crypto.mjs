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
