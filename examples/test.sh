#!/usr/bin/env bash
# Runs the example services (examples/fastapi, examples/node) against the real binary:
# valid, expired, tampered, wrong audience/issuer, key rotation. Takes ~15 s.
#   AUTHSERVER_BIN  the server binary to test (default: built here with go build)
#   PYTHON          a Python with fastapi, jwt (PyJWT) and uvicorn (default: the first that has them)
set -euo pipefail

if [ -n "${AUTHSERVER_BIN:-}" ]; then
  # Relative to the caller's directory, which the cd below leaves.
  test -x "$AUTHSERVER_BIN" || { echo "AUTHSERVER_BIN=$AUTHSERVER_BIN is not an executable" >&2; exit 1; }
  AUTHSERVER_BIN=$(realpath "$AUTHSERVER_BIN")
fi
cd "$(dirname "$0")"
if [ -z "${AUTHSERVER_BIN:-}" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd .. && CGO_ENABLED=0 go build -trimpath -o "$tmp/authserver" .)
  AUTHSERVER_BIN="$tmp/authserver"
fi

# Debian's python3-fastapi/-jwt/-uvicorn live in /usr/bin/python3's path, which a pyenv or
# venv python3 earlier on PATH does not see.
if [ -z "${PYTHON:-}" ]; then
  for p in python3 /usr/bin/python3; do
    if "$p" -c 'import fastapi, jwt, uvicorn' 2>/dev/null; then PYTHON=$p; break; fi
  done
fi
if [ -z "${PYTHON:-}" ]; then
  echo "no python3 with fastapi, jwt and uvicorn: apt-get install python3-fastapi python3-jwt python3-uvicorn" >&2
  exit 1
fi

(cd node && npm ci --no-audit --no-fund --loglevel=error)
AUTHSERVER_BIN=$AUTHSERVER_BIN PYTHON=$PYTHON node --test test.mjs
