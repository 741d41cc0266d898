// RFC 6238 TOTP (HMAC-SHA1, 30 s steps, 6 digits by default) for the two-factor scenarios:
// the test reads the secret from the otpauth:// URI a server hands out and computes the
// code an authenticator app would show.
import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Decodes RFC 4648 base32 (case-insensitive, padding optional) into bytes. */
export function base32Decode(text) {
  const clean = text.replace(/=+$/, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = BASE32.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The HOTP value (RFC 4226) of key for counter, as a zero-padded string of `digits`. */
export function hotp(key, counter, digits = 6) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const n = mac.readUInt32BE(off) & 0x7fffffff;
  return String(n % 10 ** digits).padStart(digits, '0');
}

/** The TOTP code for a base32 secret at time `at` (ms), `offset` steps away from now. */
export function totp(secret, { at = Date.now(), period = 30, digits = 6, offset = 0 } = {}) {
  return hotp(base32Decode(secret), Math.floor(at / 1000 / period) + offset, digits);
}

/** The parameters of an otpauth://totp/ URI: {label, secret, issuer, digits, period, algorithm}. */
export function parseTotpURI(uri) {
  const u = new URL(uri);
  const q = u.searchParams;
  return {
    type: u.host,
    label: decodeURIComponent(u.pathname.replace(/^\//, '')),
    secret: q.get('secret'),
    issuer: q.get('issuer'),
    digits: Number(q.get('digits') ?? 6),
    period: Number(q.get('period') ?? 30),
    algorithm: q.get('algorithm') ?? 'SHA1',
  };
}

/** The current code for an otpauth:// URI. */
export function totpFromURI(uri, opts = {}) {
  const p = parseTotpURI(uri);
  return totp(p.secret, { period: p.period, digits: p.digits, ...opts });
}
