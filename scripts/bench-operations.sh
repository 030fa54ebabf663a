#!/usr/bin/env bash
# Operations and unit confirmations of one window, read under load (BENCHMARKS.md, "Running a
# window"): release builds, loopback only, about 5 minutes on 2 cores.
#
#   scripts/bench-operations.sh
#   BENCH_RATE=200 BENCH_REQUESTS=6000 BENCH_ROUNDS=2 scripts/bench-operations.sh
#
# Builds a log with one window of 200 operations, 10 movement events each (2,000), and 50 units
# per party (40 of them confirmed the terms) with `corridor-opsbench build`, checks it with
# `corridor verify`, serves it with `corridor serve`, and reads it with signed requests paced at
# BENCH_RATE requests/s: the proof endpoint (the baseline), a signed read of an empty list (no
# audit row), `GET /v1/operations/{id}` and `GET /v1/windows/{id}/receipts`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
RATE=${BENCH_RATE:-200}
REQUESTS=${BENCH_REQUESTS:-6000}
ROUNDS=${BENCH_ROUNDS:-1}
CONNECTIONS=${BENCH_CONNECTIONS:-2}
QUIET=${BENCH_QUIET_WAIT:-120}
WORK=${BENCH_WORK:-$CARGO_TARGET_DIR/bench-work}
BIN=$CARGO_TARGET_DIR/release
say() { echo "==> $*" >&2; }
mkdir -p "$WORK"

PID=
cleanup() { [ -n "$PID" ] && kill -INT "$PID" 2>/dev/null || true; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

say "building release binaries"
cargo build --release -p corridor-cli -p corridor-bench >&2

echo "# running a window under load, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
echo
D=$WORK/ops-window
rm -rf "$D" "$D.log"
# The demo's first scene only: its 4 March window agreed, no operation and no unit yet.
"$BIN/corridor" demo --no-rate-limits --data-dir "$D" --no-serve --clock 2022-03-03T14:50:00Z >/dev/null
say "building the window's operations, movements and units"
echo "\`corridor demo --no-rate-limits --data-dir D --no-serve --clock 2022-03-03T14:50:00Z\`, then \`corridor-opsbench build --data-dir D --operations 200 --moves 10 --units 50 --confirmed 40\`:"
echo
"$BIN/corridor-opsbench" build --data-dir "$D" --operations 200 --moves 10 --units 50 --confirmed 40 | sed 's/^/    /'
"$BIN/corridor" verify --data-dir "$D" | sed 's/^/    corridor verify: /'
echo

port=$(free_port)
URL=http://127.0.0.1:$port
CORRIDOR_LOG=warn "$BIN/corridor" serve --data-dir "$D" --listen "127.0.0.1:$port" \
  --clock 2022-03-04T12:00:00Z >"$D.log" 2>&1 &
PID=$!
until curl -sf "$URL/readyz" >/dev/null 2>&1; do
  kill -0 "$PID" 2>/dev/null || { cat "$D.log" >&2; exit 1; }
  sleep 0.1
done
echo "\`corridor serve --data-dir D --clock 2022-03-04T12:00:00Z\` (release), then \`corridor-opsbench load --server URL --data-dir D --rate $RATE --requests $REQUESTS --connections $CONNECTIONS --rounds $ROUNDS\`; \`uptime\` before: $(uptime | sed 's/.*load average/load average/')"
echo
"$BIN/corridor-opsbench" load --server "$URL" --data-dir "$D" --rate "$RATE" --requests "$REQUESTS" \
  --connections "$CONNECTIONS" --rounds "$ROUNDS" --server-pid "$PID" --quiet-wait "$QUIET"
echo "\`uptime\` after: $(uptime | sed 's/.*load average/load average/')"
