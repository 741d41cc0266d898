#!/usr/bin/env bash
# Runs the Go tests with the race detector. While they run it prints each package's ok/FAIL line
# as the package finishes (and each failing test's --- FAIL line at once); at the end the full
# output of a failed run, which tests were skipped (the Postgres half when TEST_DATABASE_URL is
# unset), and the summary line "tests: N passed, N failed, N skipped". The exit status is go
# test's.
set -u
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "go test -race $* (each package's line appears when it finishes)"
go test -race -count=1 -timeout 30m -v "$@" 2>&1 | tee "$out" | grep --line-buffered -E '^(ok|\?|FAIL)\s|^\s*--- FAIL'
rc=${PIPESTATUS[0]}
if [ $rc -ne 0 ]; then
  echo
  echo "full output of the failed run:"
  cat "$out"
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
