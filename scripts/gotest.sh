#!/usr/bin/env bash
# Runs the Go tests with the race detector and prints one line per package, the full output of any
# failure, and which tests were skipped (the Postgres half when TEST_DATABASE_URL is unset).
set -u
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -race -count=1 -v "$@" >"$out" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  cat "$out"
else
  grep -E '^(ok|\?|FAIL)\s' "$out"
fi
skipped=$(grep -E -- '--- SKIP' "$out" | sed -E 's/^\s*--- SKIP: ([^ ]+).*/\1/' | sort -u)
if [ -n "$skipped" ]; then
  echo
  echo "skipped $(echo "$skipped" | wc -l) tests:"
  echo "$skipped" | sed 's/^/  /'
  [ -z "${TEST_DATABASE_URL:-}" ] && echo "(set TEST_DATABASE_URL=postgres://... or use 'make test-pg' to run the postgres ones)"
fi
passed=$(grep -cE -- '--- PASS' "$out")
failed=$(grep -cE -- '--- FAIL' "$out")
nskip=$(grep -cE -- '--- SKIP' "$out")
echo
echo "tests: $passed passed, $failed failed, $nskip skipped"
exit $rc
