#!/usr/bin/env bash
# Run the README's walkthrough exactly as written (the ```sh blocks between the walkthrough
# markers) against a fresh demo, so the README's examples stay true. Uses the debug build
# and a free port instead of the release build and 8080; everything else is verbatim.
# CORRIDOR_BIN=PATH uses that `corridor` binary instead of building one (CI passes the one its
# test run just built).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
if [ -n "${CORRIDOR_BIN:-}" ]; then
  bin="$CORRIDOR_BIN"
else
  cargo build -q -p corridor-cli
  bin="$repo/target/debug/corridor"
fi
bindir="$(cd "$(dirname "$bin")" && pwd)"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export CORRIDOR_HOME="$work/home"
export CORRIDOR_SERVER="http://127.0.0.1:$port"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

script="$work/walkthrough.sh"
awk '/<!-- walkthrough:start -->/{on=1; next} /<!-- walkthrough:end -->/{on=0}
     on && /^```sh$/{code=1; next} code && /^```$/{code=0; next} code{print}' README.md \
  | sed -e "s#\$PWD/target/release#$bindir#g" -e "s#127.0.0.1:8080#127.0.0.1:$port#g" > "$script"
[ -s "$script" ] || { echo "no walkthrough found in README.md" >&2; exit 1; }

cd "$work"
"$bin" demo --data-dir corridor-demo --listen "127.0.0.1:$port" > demo.log 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "== running the README walkthrough ($(grep -c . "$script") lines)"
bash -euxo pipefail "$script"
echo "walkthrough: 1 passed, 0 failed"
