#!/usr/bin/env bash
# Durable signed-command ingest on PostgreSQL with 1, 2 and 3 `corridor serve` instances on one
# database, against pgbench's simple-update rate on the same PostgreSQL in the same run (before
# and after the corridor runs). Release build; loopback only.
#
#   scripts/bench-cluster.sh                      # 20,000 commands per run, 64 clients
#   BENCH_N=40000 BENCH_INSTANCES="1 3" scripts/bench-cluster.sh
#
# Needs PostgreSQL on 127.0.0.1:5432 with trust auth for `postgres` (as on the CI machine) and
# pgbench (Debian: postgresql-contrib or the server package). Writes the tables to
# target/bench-cluster.md and prints them.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
N=${BENCH_N:-20000}
INSTANCES=${BENCH_INSTANCES:-"1 2 3"}
PGHOST=127.0.0.1
PGUSER=postgres
export PGHOST PGUSER
OUT=target/bench-cluster.md
command -v pgbench >/dev/null || { echo "pgbench not found (apt-get install postgresql-contrib)" >&2; exit 1; }
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not running on 127.0.0.1:5432" >&2; exit 1; }
cargo build --release -q -p corridor-cli -p corridor-bench
BIN=$repo/target/release
WORK=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
: > "$OUT"
out() { tee -a "$OUT"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pgbench_tps() {
  dropdb --if-exists corridor_pgbench
  createdb corridor_pgbench
  pgbench -q -i -s 10 corridor_pgbench >/dev/null 2>&1
  pgbench -n -b simple-update -c 64 -j 2 -T 15 corridor_pgbench 2>/dev/null \
    | awk '/^tps = / {print int($3)}'
}

echo "## PostgreSQL: ingest with several instances ($(date -u +%F), commit $(git rev-parse --short HEAD))" | out
echo | out
before=$(pgbench_tps)
echo "pgbench simple-update, 64 clients, 15 s, before the corridor runs: **$before tps**" | out
echo | out
for k in $INSTANCES; do
  db=corridor_bench_$k
  dropdb --if-exists "$db"
  createdb "$db"
  url="postgres://postgres@127.0.0.1:5432/$db"
  d=$WORK/d$k
  "$BIN/corridor" demo --no-serve --no-rate-limits --data-dir "$d" >/dev/null
  "$BIN/corridor" export --data-dir "$d" --out "$WORK/e$k.jsonl" >/dev/null
  "$BIN/corridor" import --in "$WORK/e$k.jsonl" --database "$url" --data-dir "$WORK/pg$k" >/dev/null
  urls=()
  pids=()
  for i in $(seq 1 "$k"); do
    p=$(port)
    CORRIDOR_LOG=warn "$BIN/corridor" serve --data-dir "$d" --database "$url" --listen "127.0.0.1:$p" \
      --clock 2022-03-03T14:50:00Z >"$WORK/s$k-$i.log" 2>&1 &
    pids+=($!)
    urls+=("http://127.0.0.1:$p")
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$p/readyz" >/dev/null && break; sleep 0.1; done
  done
  seq_url=""
  others=()
  for u in "${urls[@]}"; do
    if curl -sf "$u/v1/cluster" | grep -q '"role":"sequencer"'; then seq_url=$u; else others+=(--also-server "$u"); fi
  done
  [ -n "$seq_url" ] || { echo "no instance sequences" >&2; exit 1; }
  "$BIN/corridor-loadgen" --server "$seq_url" "${others[@]}" --data-dir "$d" -n "$N" --clients 64 \
    --fsync-seconds 1 --quiet-wait 20 --label "PostgreSQL, $k instance(s), clients spread over all" | out
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
  "$BIN/corridor" verify --data-dir "$WORK/pg$k" --database "$url" | tail -1 | sed 's/^/corridor verify after the run: /' | out
  echo | out
  dropdb --if-exists "$db"
done
after=$(pgbench_tps)
echo "pgbench simple-update, 64 clients, 15 s, after the corridor runs: **$after tps**" | out
dropdb --if-exists corridor_pgbench
