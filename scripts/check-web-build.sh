#!/usr/bin/env bash
# Rebuilds the web app from frontend/ (exact versions from package-lock.json) and fails when the
# committed build in web/dist differs: someone changed the frontend without `make web`, or the
# build is not reproducible. The build has no timestamps and content-hashed names, so the same
# sources always give the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

(cd frontend && npm ci --no-audit --no-fund && npm run build)

changes=$(git status --porcelain --untracked-files=all -- web/dist)
if [ -n "$changes" ]; then
  echo "web/dist is stale: the committed build is not what frontend/ builds to."
  echo "$changes"
  git --no-pager diff --stat -- web/dist || true
  echo "Run 'make web' and commit web/dist."
  exit 1
fi
echo "web/dist is up to date"
