#!/usr/bin/env bash
# Runs every Go fuzz target in the module for $FUZZTIME each (default 10s), one after another:
# go test accepts one -fuzz target per invocation. Each run starts with the committed seed corpus
# (<package>/testdata/fuzz/<FuzzName>/); a failing input is written there too, so it becomes a
# regular test case. Exits non-zero if any target failed. Optional arguments restrict the run to
# those packages (default ./...). With TEST_DATABASE_URL set, the targets that go through the
# server (web's) run on a throwaway PostgreSQL database instead of SQLite.
set -u -o pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
pkgs=("$@")
[ ${#pkgs[@]} -eq 0 ] && pkgs=(./...)
failed=()
ran=0
for pkg in $(go list "${pkgs[@]}"); do
  targets=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep -E '^Fuzz' || true)
  for target in $targets; do
    ran=$((ran + 1))
    echo "== $pkg $target ($fuzztime)"
    log=$(mktemp)
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log"; then
      # A finding always names the input it wrote to testdata/fuzz. A bare "context deadline
      # exceeded" with no input is Go's fuzz engine timing out a worker still inside a slow call
      # (the server targets on PostgreSQL under load) when the fuzz time ends: run it once more.
      if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
        echo "== $pkg $target: the engine timed out a worker (no input found); once more"
        go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" || failed+=("$pkg $target")
      else
        failed+=("$pkg $target")
      fi
    fi
    rm -f "$log"
  done
done
echo
echo "fuzz: $ran targets, ${#failed[@]} failed"
for f in "${failed[@]}"; do
  echo "  FAIL $f"
done
[ "$ran" -gt 0 ] && [ ${#failed[@]} -eq 0 ]
