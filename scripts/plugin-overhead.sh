#!/usr/bin/env bash
# plugin-overhead.sh: what turning plugins on costs the hot path. Builds the server once, then runs
# it on SQLite with BETTER_AUTH_PLUGINS empty and with the list given, alternately (ROUNDS times
# each, so drift in the machine hits both alike), drives an authenticated GET /api/auth/get-session
# with wrk for DURATION each time, and prints every run and the median req/s of each side.
#
#   scripts/plugin-overhead.sh [plugin-list]   (default: part 1's username,anonymous,two-factor,last-login-method)
#   ROUNDS=3 DURATION=8s CONNS=32 scripts/plugin-overhead.sh username,two-factor
#
# Needs wrk (apt-get install -y wrk), curl and Go. Run it on a quiet machine.
set -euo pipefail
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
cd "$(dirname "$0")/.."
LIST=${1:-username,anonymous,two-factor,last-login-method}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8s}
CONNS=${CONNS:-32}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/server" .

port=18$((RANDOM % 900 + 100))
run_one() { # $1 = plugin list (may be empty) → prints req/s
	local dir="$tmp/data-$RANDOM"
	mkdir -p "$dir"
	env -i PATH="$PATH" PORT="$port" DATA_DIR="$dir" LOG_LEVEL=warn BETTER_AUTH_URL="http://localhost:$port" \
		BETTER_AUTH_SECRET=plugin-overhead-secret-0123456789abcdef BETTER_AUTH_PLUGINS="$1" \
		"$tmp/server" >"$dir/log" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do curl -fs "http://localhost:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
	local token
	token=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' -H "Origin: http://localhost:$port" \
		-d '{"email":"bench@example.com","password":"bench-password-1","name":"Bench"}' \
		"http://localhost:$port/api/auth/sign-up/email" | tr -d '\r' | awk -F': ' 'tolower($1)=="set-auth-token"{print $2}')
	[ -n "$token" ] || { echo "sign-up gave no token; log:" >&2; cat "$dir/log" >&2; exit 1; }
	wrk -t1 -c"$CONNS" -d2s -H "Authorization: Bearer $token" "http://localhost:$port/api/auth/get-session" >/dev/null
	wrk -t1 -c"$CONNS" -d"$DURATION" -H "Authorization: Bearer $token" "http://localhost:$port/api/auth/get-session" |
		awk '/Requests\/sec/{print int($2)}'
	kill "$pid"; wait "$pid" 2>/dev/null || true
}
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
off=() on=()
for r in $(seq "$ROUNDS"); do
	off+=("$(run_one "")")
	on+=("$(run_one "$LIST")")
	echo "round $r: off ${off[-1]} req/s, on (${LIST}) ${on[-1]} req/s"
done
mo=$(printf '%s\n' "${off[@]}" | median)
mn=$(printf '%s\n' "${on[@]}" | median)
echo "median: off $mo req/s, on $mn req/s, ratio on/off $(awk -v a="$mn" -v b="$mo" 'BEGIN{printf "%.3f", a/b}')"
