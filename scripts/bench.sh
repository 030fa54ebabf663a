#!/usr/bin/env bash
# Run corridor's benchmarks and its kill -9 durability test (release builds); BENCHMARKS.md says
# what each figure means and what was measured last.
#
#   scripts/bench.sh                      # everything (about 20 minutes on 2 cores)
#   BENCH_STEPS="ingest proofs" scripts/bench.sh
#
# Steps (BENCH_STEPS, default all but 10m and profile):
#   durability ingest verify proofs storage criterion match 10m profile
# The ingest step pins the server to core 0 and the load generator (and its verify_strict
# baseline) to core 1 with taskset, so the comparison is one core against one core; profile
# repeats that run under `perf record` and prints where the server's CPU went.
# Knobs: CORRIDOR_KILL_ROUNDS (200), BENCH_INGEST_N (40000), BENCH_ENTRIES (1000000),
#        BENCH_WORK (data directories; the 1M log takes about 1.3 GB), BENCH_OUT (results),
#        BENCH_QUIET_WAIT (seconds to wait for other processes to go quiet before a measurement),
#        BENCH_PG (the PostgreSQL server the match step compares with PostGIS on;
#        postgres://postgres@127.0.0.1:5432/test), BENCH_MATCH_POINTS (1000000).
# Every server it starts listens on 127.0.0.1 only and is stopped when the script exits.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
STEPS=${BENCH_STEPS:-durability ingest verify proofs storage criterion match}
ROUNDS=${CORRIDOR_KILL_ROUNDS:-200}
INGEST_N=${BENCH_INGEST_N:-40000}
ENTRIES=${BENCH_ENTRIES:-1000000}
QUIET=${BENCH_QUIET_WAIT:-120}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}
MATCH_POINTS=${BENCH_MATCH_POINTS:-1000000}
WORK=${BENCH_WORK:-$CARGO_TARGET_DIR/bench-work}
OUT=${BENCH_OUT:-$CARGO_TARGET_DIR/bench-results}
BIN=$CARGO_TARGET_DIR/release
mkdir -p "$WORK" "$OUT"
RESULTS=$OUT/results-$(date -u +%Y%m%dT%H%M%SZ).md

has() { [[ " $STEPS " == *" $1 "* ]]; }
say() { echo "==> $*" >&2; }
out() { tee -a "$RESULTS"; }

SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# One core for the server, the other for the client, when the machine has two or more and
# taskset is there; otherwise both run unpinned and the report says so.
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  PIN_SERVER=(taskset -c 0)
  PIN_CLIENT=(taskset -c 1)
  PINNING="server pinned to core 0, load generator and its baseline to core 1 (taskset)"
else
  PIN_SERVER=()
  PIN_CLIENT=()
  PINNING="unpinned (taskset missing or one core)"
fi

# start_server DATA_DIR [COMMAND PREFIX...]: sets SERVER_PID, URL and READY_S (seconds until
# /readyz answered); a prefix such as `taskset -c 0` pins the server.
start_server() {
  local dir=$1
  shift
  local port
  port=$(free_port)
  URL=http://127.0.0.1:$port
  local t0
  t0=$(date +%s.%N)
  CORRIDOR_LOG=warn "$@" "$BIN/corridor" demo --no-rate-limits --data-dir "$dir" --listen "127.0.0.1:$port" \
    >"$dir.server.log" 2>&1 &
  SERVER_PID=$!
  until curl -sf "$URL/readyz" >/dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir.server.log" >&2; exit 1; }
    sleep 0.1
  done
  READY_S=$(python3 -c "import time; print(round(time.time() - $t0, 1))" 2>/dev/null || echo "?")
}

say "building release binaries"
cargo build --release -p corridor-cli -p corridor-bench

{
  echo "# corridor benchmark run, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM"
  echo "- kernel: $(uname -r); rustc: $(rustc --version)"
  echo
} | out

if has durability; then
  say "durability: $ROUNDS kill -9 rounds"
  echo "## Durability (kill -9)" | out
  echo | out
  echo "\`CORRIDOR_KILL_ROUNDS=$ROUNDS cargo test --release -p corridor-cli --test durability -- --nocapture\`" | out
  echo | out
  CORRIDOR_KILL_ROUNDS=$ROUNDS cargo test --release -p corridor-cli --test durability -- --nocapture \
    2>&1 | tee "$OUT/durability.log" | grep -E '^durability:|test result' | sed 's/^/    /' | out
  echo | out
fi

# fresh_ingest_log DIR: a fresh demo log for an ingest run.
fresh_ingest_log() {
  rm -rf "$1" "$1.server.log"
  "$BIN/corridor" demo --no-rate-limits --data-dir "$1" --no-serve >/dev/null
}

if has ingest; then
  say "ingest: $INGEST_N commands into a fresh demo log ($PINNING)"
  D=$WORK/ingest
  fresh_ingest_log "$D"
  start_server "$D" "${PIN_SERVER[@]}"
  echo "## Ingest" | out
  echo | out
  echo "$PINNING: \`${PIN_SERVER[*]} corridor demo --data-dir D --listen ADDR\` (release), then \`${PIN_CLIENT[*]} corridor-loadgen --server URL --data-dir D -n $INGEST_N --clients 64 --server-pid PID\`" | out
  echo | out
  "${PIN_CLIENT[@]}" "$BIN/corridor-loadgen" --server "$URL" --data-dir "$D" -n "$INGEST_N" --clients 64 \
    --server-pid "$SERVER_PID" --quiet-wait "$QUIET" --label "ingest into a fresh log" | out
  stop_server
  "$BIN/corridor" verify --data-dir "$D" | sed 's/^/after the ingest run, corridor verify: /' | out
  echo | out
fi

if has profile; then
  command -v perf >/dev/null 2>&1 || { echo "the profile step needs perf (apt-get install linux-perf)" >&2; exit 1; }
  say "profile: the ingest run under perf record ($PINNING)"
  D=$WORK/profile
  fresh_ingest_log "$D"
  start_server "$D" "${PIN_SERVER[@]}"
  echo "## Where the server's CPU goes during ingest (perf)" | out
  echo | out
  echo "\`perf record -F 999 -g -p PID\` on the server while \`corridor-loadgen -n $INGEST_N --clients 64\` runs ($PINNING); \`perf report --no-children --sort dso\` and \`--sort symbol\`, top entries:" | out
  echo | out
  # perf itself takes about a core on this kind of VM: keep it on the client's core, away from
  # the server's, and do not wait for a quiet machine (perf is the noise; the loadgen's figures
  # of this run are not the ingest figures, only the profile is).
  "${PIN_CLIENT[@]}" perf record -F 999 -g -p "$SERVER_PID" -o "$OUT/ingest.perf.data" 2>"$OUT/perf-record.log" &
  PERF_PID=$!
  "${PIN_CLIENT[@]}" "$BIN/corridor-loadgen" --server "$URL" --data-dir "$D" -n "$INGEST_N" --clients 64 \
    --server-pid "$SERVER_PID" --quiet-wait 0 --label "ingest under perf" >"$OUT/profile-loadgen.md"
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  stop_server
  for sort in dso symbol; do
    # sed, not head: it reads to the end, so perf report never dies of SIGPIPE under pipefail.
    perf report -i "$OUT/ingest.perf.data" --no-children --sort "$sort" --stdio 2>/dev/null \
      | grep -E '^ +[0-9.]+%' | sed -n '1,15p' | sed 's/ *$//' | cut -c1-150 | sed 's/^/    /' | out
    echo | out
  done
fi

BIG=$WORK/log-$ENTRIES
if has verify; then
  say "verify: building a $ENTRIES-entry log"
  rm -rf "$BIG" "$BIG.server.log"
  "$BIN/corridor" demo --no-rate-limits --data-dir "$BIG" --no-serve >/dev/null
  echo "## Verify" | out
  echo | out
  echo "\`corridor-buildlog --data-dir D --entries $ENTRIES\`, then \`corridor-verifybench --data-dir D --corridor target/release/corridor\` (which times \`corridor verify --data-dir D\`)" | out
  echo | out
  "$BIN/corridor-buildlog" --data-dir "$BIG" --entries "$ENTRIES" | sed 's/^/    /' | out
  echo | out
  "$BIN/corridor-verifybench" --data-dir "$BIG" --corridor "$BIN/corridor" --quiet-wait "$QUIET" \
    --label "verify a $ENTRIES-entry log" | out
fi

if has proofs; then
  [ -f "$BIG/corridor.sqlite" ] || { echo "run the verify step first (it builds $BIG)" >&2; exit 1; }
  say "proofs: serving the $ENTRIES-entry log"
  start_server "$BIG"
  echo "## Proof endpoints at $ENTRIES leaves" | out
  echo | out
  echo "Server start-up (load and replay $ENTRIES entries, rebuild the tree) until \`/readyz\` answers: ${READY_S} s; resident memory then: $(($(ps -o rss= -p "$SERVER_PID") / 1024)) MiB." | out
  echo | out
  echo "\`corridor-proofbench --server URL --data-dir D --requests 20000 --rate 1000 --connections 2\`" | out
  echo | out
  "$BIN/corridor-proofbench" --server "$URL" --data-dir "$BIG" --requests 20000 --rate 1000 \
    --connections 2 --server-pid "$SERVER_PID" --quiet-wait "$QUIET" \
    --label "proofs at $ENTRIES leaves" | out
  if command -v wrk >/dev/null 2>&1; then
    echo "Cross-check with wrk (one connection, closed loop: back-to-back requests, heavier than the paced run), \`TREE_SIZE=$ENTRIES PROOF=KIND wrk -t1 -c1 -d10s -s crates/bench/wrk/proofs.lua URL\`:" | out
    echo | out
    for kind in inclusion consistency; do
      TREE_SIZE=$ENTRIES PROOF=$kind wrk -t1 -c1 -d10s -s crates/bench/wrk/proofs.lua "$URL" \
        | grep -E '^wrk |Requests/sec' | sed 's/^/    /' | out
    done
    echo | out
  else
    echo "(wrk not installed: \`apt-get install -y wrk\` for the cross-check)" | out
    echo | out
  fi
  echo "## Ingest into the $ENTRIES-entry log (unpinned: server and load generator share both cores)" | out
  echo | out
  "$BIN/corridor-loadgen" --server "$URL" --data-dir "$BIG" -n 20000 --clients 64 \
    --server-pid "$SERVER_PID" --quiet-wait "$QUIET" --label "ingest into a $ENTRIES-entry log" | out
  stop_server
fi

if has storage; then
  say "storage: the cost of one group commit"
  echo "## Storage: one group commit" | out
  echo | out
  echo "\`corridor-appendbench --dir WORK --batch 32 --batches 300 [--scratch-copy COPY_OF_THE_BIG_LOG]\`" | out
  echo | out
  if [ -f "$BIG/corridor.sqlite" ]; then
    rm -rf "$WORK/scratch-copy" && cp -r "$BIG" "$WORK/scratch-copy"
    "$BIN/corridor-appendbench" --dir "$WORK" --batch 32 --batches 300 --scratch-copy "$WORK/scratch-copy" | out
    rm -rf "$WORK/scratch-copy"
  else
    "$BIN/corridor-appendbench" --dir "$WORK" --batch 32 --batches 300 | out
  fi
fi

if has criterion; then
  say "criterion: cargo bench -p corridor-merkle"
  echo "## Proof computation (criterion)" | out
  echo | out
  echo "\`cargo bench -p corridor-merkle --bench proofs -- --warm-up-time 1 --measurement-time 3\`" | out
  echo | out
  cargo bench -p corridor-merkle --bench proofs -- --warm-up-time 1 --measurement-time 3 2>&1 \
    | tee "$OUT/criterion.log" \
    | awk '/^[A-Za-z0-9_]+\/[^ ]/ { name = $1 } /time:/ { sub(/^.*time:/, "time:"); print "    " name " " $0 }' | out
  echo | out
fi

if has criterion; then
  say "criterion: cargo bench -p corridor-core --bench signatures"
  echo "## Signature checks per second (criterion)" | out
  echo | out
  echo "\`cargo bench -p corridor-core --bench signatures -- --warm-up-time 1 --measurement-time 3\`" | out
  echo | out
  cargo bench -p corridor-core --bench signatures -- --warm-up-time 1 --measurement-time 3 2>&1 \
    | tee "$OUT/criterion-signatures.log" \
    | awk '/^[A-Za-z0-9_]+\/[^ ]/ { name = $1 } /thrpt:/ { sub(/^.*thrpt:/, "thrpt:"); print "    " name " " $0 }' | out
  echo | out
fi

if has match; then
  say "match: incident matching against PostGIS"
  echo "## Incident matching against PostGIS" | out
  echo | out
  # PostGIS comes from apt when this runs as root and it is missing; without PostgreSQL or
  # PostGIS the step says so and is skipped rather than failing the whole run.
  if ! psql "$PG" -Atc 'SELECT 1' >/dev/null 2>&1; then
    echo "(skipped: no PostgreSQL answers at $PG; set BENCH_PG)" | out
    echo | out
  else
    if ! psql "$PG" -Atc "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'" | grep -q 1; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        PGV=$(psql "$PG" -Atc 'SHOW server_version_num' | cut -c1-2)
        say "installing postgresql-$PGV-postgis-3"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PGV-postgis-3"; } >"$OUT/postgis-install.log" 2>&1 || true
      fi
    fi
    if psql "$PG" -Atc "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'" | grep -q 1; then
      echo "\`corridor-matchbench --pg $PG --corridors 10000 --points $MATCH_POINTS --compare 1000000\` (release; the PostGIS database is created and dropped by the tool)" | out
      echo | out
      "$BIN/corridor-matchbench" --pg "$PG" --corridors 10000 --points "$MATCH_POINTS" --compare 1000000 \
        --quiet-wait "$QUIET" 2>"$OUT/matchbench.log" | out
    else
      echo "(skipped: PostGIS is not installed on the server at $PG: apt-get install postgresql-15-postgis-3)" | out
      echo | out
    fi
  fi
fi

if has 10m; then
  say "10m: building a 10,000,000-entry log (about half an hour on 2 cores)"
  TEN=$WORK/log-10000000
  rm -rf "$TEN" "$TEN.server.log"
  "$BIN/corridor" demo --no-rate-limits --data-dir "$TEN" --no-serve >/dev/null
  echo "## Proof endpoints at 10,000,000 leaves" | out
  echo | out
  "$BIN/corridor-buildlog" --data-dir "$TEN" --entries 10000000 --short | sed 's/^/    /' | out
  start_server "$TEN"
  echo "Server start-up until \`/readyz\`: ${READY_S} s." | out
  echo | out
  "$BIN/corridor-proofbench" --server "$URL" --data-dir "$TEN" --requests 20000 --rate 1000 \
    --connections 2 --server-pid "$SERVER_PID" --quiet-wait "$QUIET" --label "proofs at 10M leaves" | out
  stop_server
fi

say "results: $RESULTS"
