#!/usr/bin/env bash
# Benchmarks of the public site (BENCHMARKS.md, "Public site"): release builds, loopback only.
#
#   scripts/bench-public.sh                 # all steps, about 10 minutes on 2 cores
#   BENCH_STEPS="wrk" scripts/bench-public.sh
#
# Steps: wrk (a corridor page and status.json under wrk with 256 connections, alternating with
# nginx serving the same precompressed bytes from `corridor publish`, several rounds; the median
# ratio), sse (20,000 then 50,000 subscribers on /events, one status change), weight (page
# weight per page and language, first render under 2G-like throttling in headless Chromium).
# Needs: wrk, nginx (Debian: wrk, nginx-light), chromium, node (tools/browser).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
STEPS=${BENCH_STEPS:-wrk sse weight}
ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_WRK_SECONDS:-10}
WORK=${BENCH_WORK:-$CARGO_TARGET_DIR/bench-public}
BIN=$CARGO_TARGET_DIR/release
has() { [[ " $STEPS " == *" $1 "* ]]; }
say() { echo "==> $*" >&2; }
mkdir -p "$WORK"
CORRIDOR=borodianka-berestianka

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_demo DIR: fresh demo data directory, release server; sets URL and PID.
start_demo() {
  rm -rf "$1"
  local port; port=$(free_port)
  URL=http://127.0.0.1:$port
  CORRIDOR_LOG=warn "$BIN/corridor" demo --data-dir "$1" --listen "127.0.0.1:$port" >"$1.log" 2>&1 &
  PID=$!; PIDS+=("$PID")
  until curl -sf "$URL/readyz" >/dev/null 2>&1; do sleep 0.1; done
  until curl -sf "$URL/status.json" >/dev/null 2>&1; do sleep 0.1; done
}

say "building release binaries"
cargo build --release -p corridor-cli -p corridor-bench >&2
echo "# public site benchmark run, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(nginx -v 2>&1); $(wrk --version 2>&1 | head -1)"

if has wrk; then
  say "wrk: corridor vs nginx on the same precompressed bytes"
  start_demo "$WORK/wrk-demo"
  # The same files, as `corridor publish` writes them, served by nginx with gzip_static.
  # The exercise clock of the running server and of the copy must agree on the status.
  AT=$(curl -s "$URL/status.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["as_of"])')
  rm -rf "$WORK/site"
  "$BIN/corridor" publish --data-dir "$WORK/wrk-demo" --out "$WORK/site" --at "$AT" --offline-only >&2
  NPORT=$(free_port)
  cat >"$WORK/nginx.conf" <<NGINX
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx.error.log;
events { worker_connections 4096; }
http {
  access_log off;
  types { text/html html; application/json json; }
  default_type application/octet-stream;
  gzip_static on;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NPORT;
    root $WORK/site;
    location / { try_files \$uri \$uri/index.html =404; etag on; add_header Cache-Control "public, max-age=1, stale-while-revalidate=10"; }
  }
}
NGINX
  nginx -c "$WORK/nginx.conf" -e "$WORK/nginx.error.log"
  NGINX_URL=http://127.0.0.1:$NPORT
  PIDS+=("$(cat "$WORK/nginx.pid")")
  for path in "/en/corridors/$CORRIDOR/" /status.json; do
    a=$(curl -s -H 'Accept-Encoding: gzip' "$URL$path" | wc -c)
    b=$(curl -s -H 'Accept-Encoding: gzip' "$NGINX_URL$path" | wc -c)
    echo "bytes on the wire for $path (gzip): corridor $a, nginx $b"
  done
  for path in "/en/corridors/$CORRIDOR/" /status.json; do
    ratios=()
    for r in $(seq "$ROUNDS"); do
      c=$(wrk -t2 -c256 -d"${DURATION}s" -H 'Accept-Encoding: gzip' "$URL$path" | awk '/Requests\/sec/{print $2}')
      n=$(wrk -t2 -c256 -d"${DURATION}s" -H 'Accept-Encoding: gzip' "$NGINX_URL$path" | awk '/Requests\/sec/{print $2}')
      ratio=$(python3 -c "print(f'{$c/$n:.2f}')")
      ratios+=("$ratio")
      echo "round $r $path: corridor $c req/s, nginx $n req/s, ratio $ratio"
    done
    echo "median ratio $path: $(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(( (${#ratios[@]} + 1) / 2 ))p")"
  done
  kill "$(cat "$WORK/nginx.pid")"; kill "$PID"
fi

if has sse; then
  # Server and client each hold one descriptor per subscriber. Where the hard limit on open
  # files cannot be raised (a sandbox without CAP_SYS_RESOURCE), measure as many as fit and say so.
  ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  limit=$(ulimit -n)
  fit=$((limit - 1000))
  [ -n "${BENCH_SSE_MAX:-}" ] && fit=$BENCH_SSE_MAX
  done_n=
  for want in 10000 20000 50000; do
    n=$want
    if [ "$n" -gt "$fit" ]; then
      echo "sse: $want subscribers do not fit under this machine's open-files limit ($limit per process, not raisable here); measuring $fit"
      n=$fit
    fi
    [[ " $done_n " == *" $n "* ]] && continue
    done_n="$done_n $n"
    say "sse: $n subscribers"
    start_demo "$WORK/sse-demo"
    "$BIN/corridor-ssefan" --server "$URL" --data-dir "$WORK/sse-demo" --subscribers "$n" --per-source 5000 --server-pid "$PID"
    kill "$PID"
  done
fi

if has weight; then
  say "page weight and first render under 2G-like throttling"
  start_demo "$WORK/weight-demo"
  CHROMIUM=${CHROMIUM:-/usr/bin/chromium} node tools/browser/weight.mjs "$URL"
  kill "$PID"
fi
