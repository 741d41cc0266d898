"""A FastAPI service that trusts the auth server's sessions without its database.

The browser (or a client) gets a JWT from the auth server — GET /api/auth/token, or the
set-auth-jwt header of get-session — and sends it here as `Authorization: Bearer <jwt>`. This
service checks it against the server's public keys (GET /api/auth/jwks): signature, exp, iss and
aud. A valid token gives GET /me the user; anything else is 401 with a JSON body.

Environment:
  AUTH_URL   the auth server's origin, e.g. http://localhost:8000 (required)
  AUDIENCE   the expected "aud" (default AUTH_URL, the server's default JWT_AUDIENCE)
  ISSUER     the expected "iss" (default AUTH_URL, the server's default JWT_ISSUER)
  JWKS_URL   where the keys are (default AUTH_URL + /api/auth/jwks)
  JWKS_CACHE_SECONDS  how long the key set is reused before it is fetched again (default 300)
  JWKS_COOLDOWN_SECONDS  an unknown kid refetches the set at most this often (default 30)
  HOST, PORT where this service listens (default 127.0.0.1:8001)
"""

import os
import time
from urllib.error import URLError

import jwt
import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

AUTH_URL = os.environ.get("AUTH_URL", "").rstrip("/")
if not AUTH_URL:
    raise SystemExit("AUTH_URL is required: the auth server's origin, e.g. http://localhost:8000")
AUDIENCE = os.environ.get("AUDIENCE") or AUTH_URL
ISSUER = os.environ.get("ISSUER") or AUTH_URL
JWKS_URL = os.environ.get("JWKS_URL") or AUTH_URL + "/api/auth/jwks"
JWKS_CACHE_SECONDS = int(os.environ.get("JWKS_CACHE_SECONDS", "300"))
JWKS_COOLDOWN_SECONDS = float(os.environ.get("JWKS_COOLDOWN_SECONDS", "30"))

# The asymmetric algorithms the server can sign with (JWT_KEY_PAIR_ALG). Never an HS* one: a
# public key must not double as an HMAC secret.
ALGORITHMS = ["EdDSA", "ES256", "ES512", "RS256", "PS256"]

# The registered claims; everything else in the token is the user as get-session prints it.
REGISTERED = {"iat", "exp", "nbf", "iss", "aud", "sub", "jti"}


class JWKSClient(jwt.PyJWKClient):
    """PyJWKClient whose refetch on an unknown kid waits JWKS_COOLDOWN_SECONDS after the last
    fetch, so tokens with made-up kids cannot turn every request into a request to the auth
    server (jose's createRemoteJWKSet does the same)."""

    _last_fetch = float("-inf")

    def fetch_data(self):
        self._last_fetch = time.monotonic()
        return super().fetch_data()

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        key = self.match_kid(self.get_signing_keys(), kid)
        if key is None and time.monotonic() - self._last_fetch >= JWKS_COOLDOWN_SECONDS:
            key = self.match_kid(self.get_signing_keys(refresh=True), kid)
        if key is None:
            raise jwt.PyJWKClientError(f"no key with kid {kid!r} in the key set")
        return key


def _jwks_client() -> JWKSClient:
    # The key set is cached for JWKS_CACHE_SECONDS and fetched again when a token names a kid it
    # does not hold (a rotated key). Keys are not cached on their own (cache_keys): that cache
    # never expires, so a key the server stopped publishing would verify forever.
    kwargs = dict(cache_keys=False, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS)
    try:
        return JWKSClient(JWKS_URL, timeout=5, **kwargs)
    except TypeError:  # PyJWT before 2.7 has no timeout
        return JWKSClient(JWKS_URL, **kwargs)


jwks = _jwks_client()
app = FastAPI(title="jwt example")


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message


@app.exception_handler(AuthError)
def _auth_error(_: Request, e: AuthError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if e.status == 401 else None
    return JSONResponse({"code": e.code, "message": e.message}, status_code=e.status, headers=headers)


def claims(request: Request) -> dict:
    """The verified claims of the request's bearer JWT, or AuthError.

    A plain def: FastAPI runs it in a thread, so the (rare) JWKS fetch does not block the loop.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(401, "UNAUTHORIZED", "missing Authorization: Bearer <jwt>")
    try:
        key = jwks.get_signing_key_from_jwt(token.strip())
        return jwt.decode(
            token.strip(),
            key.key,
            algorithms=ALGORITHMS,
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWKClientError as e:
        # The key set could not be fetched: the auth server is down, not the token bad.
        if isinstance(e.__cause__ or e.__context__, (URLError, OSError)):
            raise AuthError(503, "JWKS_UNAVAILABLE", "cannot fetch the auth server's keys")
        raise AuthError(401, "INVALID_TOKEN", "unknown signing key")
    except jwt.ExpiredSignatureError:
        raise AuthError(401, "TOKEN_EXPIRED", "the token has expired")
    except jwt.InvalidTokenError as e:
        raise AuthError(401, "INVALID_TOKEN", f"invalid token: {type(e).__name__}")


@app.get("/me")
def me(c: dict = Depends(claims)) -> dict:
    """The signed-in user, from the token alone: no call to the auth server or its database."""
    return {"user": {k: v for k, v in c.items() if k not in REGISTERED}}


if __name__ == "__main__":
    uvicorn.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8001")), log_level="warning")
