// A software WebAuthn authenticator plus the browser's part of a ceremony, for the passkey
// scenarios: it answers the server's PublicKeyCredentialCreationOptionsJSON /
// PublicKeyCredentialRequestOptionsJSON with the RegistrationResponseJSON /
// AuthenticationResponseJSON a browser would send (SimpleWebAuthn's JSON format, base64url
// binary fields). ES256 (P-256) keys only, attestation "none" or "packed" self-attestation.
//
// Keys and credential ids are derived from a seed, so the same scenario produces the same
// public key and credential id on both servers (the stored rows then compare exactly); the
// ECDSA signatures themselves are randomised by node:crypto.
//
// Every part can be broken on purpose through the knobs of register() / authenticate().
//
// installNavigator() puts a `navigator.credentials` and `PublicKeyCredential` on globalThis
// that route to the authenticator given to withAuthenticator(), so the real
// @simplewebauthn/browser (and with it @better-auth/passkey/client) runs in node.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createECDH, createHash, createPrivateKey, createPublicKey, sign as ecSign } from 'node:crypto';

const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest();

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
export const fromB64url = (s) => Buffer.from(s, 'base64url');

// ---------------------------------------------------------------------------
// A minimal CBOR encoder (RFC 8949): unsigned/negative integers, byte and text strings,
// arrays, maps (a Map keeps integer keys and their order; a plain object gives text keys).

function head(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

export function cbor(v) {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || Math.abs(v) > 0xffffffff) throw new Error(`cbor: unsupported number ${v}`);
    return v >= 0 ? head(0, v) : head(1, -1 - v);
  }
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([head(3, b.length), b]);
  }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(cbor)]);
  const entries = v instanceof Map ? [...v] : Object.entries(v);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

// ---------------------------------------------------------------------------

/** The authenticator's model id; all zero is what privacy-preserving platforms send. */
export const SOFT_AAGUID = '5a1e0bad-c0de-4a11-9e57-000000000001';

const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 };

function aaguidBytes(aaguid) {
  return Buffer.from(aaguid.replace(/-/g, ''), 'hex');
}

/** A P-256 key pair derived from a seed (the private scalar is sha256(seed), far below n). */
function keyFromSeed(seed) {
  const d = sha256('softauthn key ', seed);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey(); // 0x04 || x || y
  const x = pub.subarray(1, 33);
  const y = pub.subarray(33, 65);
  const jwk = { kty: 'EC', crv: 'P-256', d: b64url(d), x: b64url(x), y: b64url(y) };
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  const publicKey = createPublicKey(privateKey);
  // COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y
  const cose = cbor(new Map([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, y]]));
  return { privateKey, spki: publicKey.export({ format: 'der', type: 'spki' }), cose };
}

/**
 * One authenticator holding any number of credentials. `seed` makes keys and ids
 * reproducible (give the same seed on both sides of a scenario); `origin` is what the
 * "browser" writes into clientDataJSON, `rpId` what the authenticator hashes into authData
 * (defaults: the suite's BETTER_AUTH_URL, http://localhost:8000, and its hostname).
 */
export class SoftAuthenticator {
  constructor({ seed = 'softauthn', origin = 'http://localhost:8000', rpId, aaguid = SOFT_AAGUID, transports = ['hybrid', 'internal'], attachment = 'platform' } = {}) {
    this.seed = seed;
    this.origin = origin;
    this.rpId = rpId ?? new URL(origin).hostname;
    this.aaguid = aaguid;
    this.transports = transports;
    this.attachment = attachment;
    /** Credentials by base64url id: {id, key, counter, userHandle, rpId}. */
    this.credentials = new Map();
    this.created = 0;
  }

  /** The credential with this id, or the only / last created one. */
  credential(id) {
    if (id) return this.credentials.get(id);
    return [...this.credentials.values()].at(-1);
  }

  /**
   * Creates a credential for `options` (PublicKeyCredentialCreationOptionsJSON) and returns the
   * RegistrationResponseJSON. Knobs:
   *   attestation 'none' (default) | 'packed' (self attestation, signed with the new key)
   *   origin, type ('webauthn.create'), challenge, crossOrigin   – clientDataJSON
   *   rpId (hashed into authData), flags (number, default UP|UV|AT), counter (default 0)
   *   badAttestationSignature, truncateAttestation, rawIdMismatch, omitTransports
   *   keep: false – do not remember the credential (e.g. when the server should refuse it)
   */
  register(options, knobs = {}) {
    const n = this.created++;
    const idBytes = sha256('softauthn credential ', this.seed, ` ${n}`).subarray(0, 20);
    const id = b64url(idBytes);
    const key = keyFromSeed(`${this.seed} ${n}`);
    const rpId = knobs.rpId ?? this.rpId;
    const clientData = Buffer.from(
      JSON.stringify({
        type: knobs.type ?? 'webauthn.create',
        challenge: knobs.challenge ?? options.challenge,
        origin: knobs.origin ?? this.origin,
        crossOrigin: knobs.crossOrigin ?? false,
      }),
    );
    const counter = knobs.counter ?? 0;
    const flags = knobs.flags ?? FLAG.UP | FLAG.UV | FLAG.AT;
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([flags]),
      u32(counter),
      aaguidBytes(this.aaguid),
      Buffer.from([idBytes.length >> 8, idBytes.length & 0xff]),
      idBytes,
      key.cose,
    ]);
    let attStmt = {};
    const fmt = knobs.attestation ?? 'none';
    if (fmt === 'packed') {
      let sig = ecSign('sha256', Buffer.concat([authData, sha256(clientData)]), key.privateKey);
      if (knobs.badAttestationSignature) sig = flipLastByte(sig);
      attStmt = new Map([['alg', -7], ['sig', sig]]);
    }
    let attestationObject = cbor(new Map([['fmt', fmt], ['attStmt', attStmt], ['authData', authData]]));
    if (knobs.truncateAttestation) attestationObject = attestationObject.subarray(0, attestationObject.length - 10);
    if (knobs.keep !== false) {
      this.credentials.set(id, { id, key, counter, userHandle: options.user?.id ?? null, rpId });
    }
    const transports = knobs.omitTransports ? undefined : this.transports;
    return {
      id,
      rawId: knobs.rawIdMismatch ? b64url(sha256('another id').subarray(0, 20)) : id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        attestationObject: b64url(attestationObject),
        ...(transports && { transports }),
        publicKeyAlgorithm: -7,
        publicKey: b64url(key.spki),
        authenticatorData: b64url(authData),
      },
      clientExtensionResults: {},
      authenticatorAttachment: this.attachment,
    };
  }

  /**
   * Signs `options` (PublicKeyCredentialRequestOptionsJSON) with a credential and returns the
   * AuthenticationResponseJSON. Knobs:
   *   credentialId – which credential (default: the first allowed one held, else the last created)
   *   id – the id to send instead (e.g. an unknown credential), signing with the chosen key
   *   origin, type ('webauthn.get'), challenge, crossOrigin   – clientDataJSON
   *   rpId, flags (default UP|UV), counter (default: the stored counter + 1; it is remembered)
   *   badSignature (one bit of the DER signature flipped), signWith (another credential's id)
   *   userHandle (default the one stored at registration; null to omit)
   */
  authenticate(options, knobs = {}) {
    const allowed = (options.allowCredentials ?? []).map((c) => c.id).filter((id) => this.credentials.has(id));
    const cred = this.credential(knobs.credentialId ?? allowed[0]);
    if (!cred) throw new Error('softauthn: no credential to authenticate with');
    const signer = knobs.signWith ? this.credential(knobs.signWith) : cred;
    const counter = knobs.counter ?? cred.counter + 1;
    cred.counter = counter;
    const clientData = Buffer.from(
      JSON.stringify({
        type: knobs.type ?? 'webauthn.get',
        challenge: knobs.challenge ?? options.challenge,
        origin: knobs.origin ?? this.origin,
        crossOrigin: knobs.crossOrigin ?? false,
      }),
    );
    const authData = Buffer.concat([sha256(knobs.rpId ?? cred.rpId), Buffer.from([knobs.flags ?? FLAG.UP | FLAG.UV]), u32(counter)]);
    let signature = ecSign('sha256', Buffer.concat([authData, sha256(clientData)]), signer.key.privateKey);
    if (knobs.badSignature) signature = flipLastByte(signature);
    const userHandle = 'userHandle' in knobs ? knobs.userHandle : cred.userHandle;
    const id = knobs.id ?? cred.id;
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle != null && { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: this.attachment,
    };
  }
}

export { FLAG };

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Flips a bit of the last byte: still valid DER, no longer a valid signature. */
function flipLastByte(sig) {
  const out = Buffer.from(sig);
  out[out.length - 1] ^= 0x01;
  return out;
}

/** The COSE public key (the server stores it in standard base64) of a credential. */
export function cosePublicKey(cred) {
  return cred.key.cose;
}

// ---------------------------------------------------------------------------
// navigator.credentials for @simplewebauthn/browser in node

const current = new AsyncLocalStorage();

/** Runs fn with `auth` as the authenticator navigator.credentials talks to (per async chain). */
export function withAuthenticator(auth, fn) {
  installNavigator();
  return current.run(auth, fn);
}

const toBuf = (b) => new Uint8Array(b).buffer;
const toJSONOptions = (pk) => {
  const enc = (v) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? b64url(Buffer.from(v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength))) : v);
  return {
    ...pk,
    challenge: enc(pk.challenge),
    ...(pk.user && { user: { ...pk.user, id: enc(pk.user.id) } }),
    ...(pk.excludeCredentials && { excludeCredentials: pk.excludeCredentials.map((c) => ({ ...c, id: enc(c.id) })) }),
    ...(pk.allowCredentials && { allowCredentials: pk.allowCredentials.map((c) => ({ ...c, id: enc(c.id) })) }),
  };
};

function domError(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** A PublicKeyCredential-like object for a response JSON, with `response` as given. */
function asCredential(r, response) {
  return {
    id: r.id,
    rawId: toBuf(fromB64url(r.rawId)),
    type: r.type,
    authenticatorAttachment: r.authenticatorAttachment,
    getClientExtensionResults: () => ({}),
    response,
  };
}

let installed = false;

/**
 * Defines globalThis.PublicKeyCredential and navigator.credentials.{create,get} as a browser
 * would, backed by the authenticator of withAuthenticator(). Like a browser, create() refuses
 * (InvalidStateError) when the authenticator already holds one of excludeCredentials.
 */
export function installNavigator() {
  if (installed) return;
  installed = true;
  if (typeof globalThis.PublicKeyCredential !== 'function') globalThis.PublicKeyCredential = class PublicKeyCredential {};
  const credentials = {
    async create({ publicKey }) {
      const auth = current.getStore();
      if (!auth) throw domError('NotAllowedError', 'no authenticator');
      const opts = toJSONOptions(publicKey);
      if ((opts.excludeCredentials ?? []).some((c) => auth.credentials.has(c.id))) throw domError('InvalidStateError', 'The authenticator was previously registered');
      const r = auth.register(opts);
      const bin = (k) => toBuf(fromB64url(r.response[k]));
      return asCredential(r, {
        clientDataJSON: bin('clientDataJSON'),
        attestationObject: bin('attestationObject'),
        getTransports: () => r.response.transports,
        getPublicKeyAlgorithm: () => r.response.publicKeyAlgorithm,
        getPublicKey: () => bin('publicKey'),
        getAuthenticatorData: () => bin('authenticatorData'),
      });
    },
    async get({ publicKey }) {
      const auth = current.getStore();
      if (!auth) throw domError('NotAllowedError', 'no authenticator');
      const r = auth.authenticate(toJSONOptions(publicKey));
      const bin = (k) => toBuf(fromB64url(r.response[k]));
      return asCredential(r, {
        clientDataJSON: bin('clientDataJSON'),
        authenticatorData: bin('authenticatorData'),
        signature: bin('signature'),
        userHandle: r.response.userHandle ? bin('userHandle') : null,
      });
    },
  };
  if (globalThis.navigator) {
    Object.defineProperty(globalThis.navigator, 'credentials', { value: credentials, configurable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { credentials, userAgent: 'node' }, configurable: true, writable: true });
  }
}
