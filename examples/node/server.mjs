// A Node service that trusts the auth server's sessions without its database.
//
// The browser (or a client) gets a JWT from the auth server — GET /api/auth/token, or the
// set-auth-jwt header of get-session — and sends it here as `Authorization: Bearer <jwt>`. This
// service checks it against the server's public keys (GET /api/auth/jwks) with jose: signature,
// exp, iss and aud. A valid token gives GET /me the user; anything else is 401 with a JSON body.
//
// Environment:
//   AUTH_URL   the auth server's origin, e.g. http://localhost:8000 (required)
//   AUDIENCE   the expected "aud" (default AUTH_URL, the server's default JWT_AUDIENCE)
//   ISSUER     the expected "iss" (default AUTH_URL, the server's default JWT_ISSUER)
//   JWKS_URL   where the keys are (default AUTH_URL + /api/auth/jwks)
//   JWKS_CACHE_SECONDS     how long the key set is reused before it is fetched again (default 300)
//   JWKS_COOLDOWN_SECONDS  an unknown kid refetches the set at most this often (default 30)
//   HOST, PORT where this service listens (default 127.0.0.1:8002)
import http from 'node:http';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

const env = process.env;
const AUTH_URL = (env.AUTH_URL ?? '').replace(/\/+$/, '');
if (!AUTH_URL) {
  console.error('AUTH_URL is required: the auth server\'s origin, e.g. http://localhost:8000');
  process.exit(2);
}
const AUDIENCE = env.AUDIENCE || AUTH_URL;
const ISSUER = env.ISSUER || AUTH_URL;
const JWKS_URL = env.JWKS_URL || `${AUTH_URL}/api/auth/jwks`;
const seconds = (name, def) => 1000 * Number(env[name] ?? def);

// The key set is cached and fetched again when a token names a kid it does not hold (a rotated
// key), at most once per cooldown so made-up kids cannot flood the auth server.
const jwks = createRemoteJWKSet(new URL(JWKS_URL), {
  cacheMaxAge: seconds('JWKS_CACHE_SECONDS', 300),
  cooldownDuration: seconds('JWKS_COOLDOWN_SECONDS', 30),
  timeoutDuration: 5000,
});

// The asymmetric algorithms the server can sign with (JWT_KEY_PAIR_ALG); never an HS* one.
const ALGORITHMS = ['EdDSA', 'ES256', 'ES512', 'RS256', 'PS256'];
// The registered claims; everything else in the token is the user as get-session prints it.
const REGISTERED = new Set(['iat', 'exp', 'nbf', 'iss', 'aud', 'sub', 'jti']);

class AuthError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// verify returns the verified claims of the request's bearer JWT, or throws AuthError.
async function verify(req) {
  const [scheme, token] = (req.headers.authorization ?? '').trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() !== 'bearer' || !token) {
    throw new AuthError(401, 'UNAUTHORIZED', 'missing Authorization: Bearer <jwt>');
  }
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ALGORITHMS,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    return payload;
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new AuthError(401, 'TOKEN_EXPIRED', 'the token has expired');
    // The key set could not be fetched: the auth server is down, not the token bad.
    if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err?.code === 'ERR_JOSE_GENERIC' ||
        (err instanceof TypeError && err.message === 'fetch failed')) {
      throw new AuthError(503, 'JWKS_UNAVAILABLE', 'cannot fetch the auth server\'s keys');
    }
    throw new AuthError(401, 'INVALID_TOKEN', `invalid token: ${err?.code ?? err?.name}`);
  }
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path !== '/me') return send(res, 404, { code: 'NOT_FOUND', message: 'not found' });
  if (req.method !== 'GET') return send(res, 405, { code: 'METHOD_NOT_ALLOWED', message: 'GET only' });
  try {
    const claims = await verify(req);
    // The signed-in user, from the token alone: no call to the auth server or its database.
    const user = Object.fromEntries(Object.entries(claims).filter(([k]) => !REGISTERED.has(k)));
    send(res, 200, { user });
  } catch (err) {
    if (!(err instanceof AuthError)) {
      console.error('unexpected error', err);
      return send(res, 500, { code: 'INTERNAL', message: 'internal error' });
    }
    const headers = err.status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {};
    send(res, err.status, { code: err.code, message: err.message }, headers);
  }
});

const host = env.HOST || '127.0.0.1';
const port = Number(env.PORT || 8002);
server.listen(port, host, () => console.log(`listening on http://${host}:${port}, trusting ${JWKS_URL}`));
