#!/usr/bin/env bash
# Run corridor's whole test suite. Installs what the interoperability tests need (npm
# `canonicalize`, PyPI `rfc8785` and `cryptography` into tools/interop/.venv) and the browser tests need (npm
# `playwright-core` and `puppeteer-core`; the browsers themselves come from Debian: `apt-get install
# chromium firefox-esr`) the first time.
# Tests that need a missing tool skip with a message; under CI=true they fail instead. The
# server's API suite runs twice: on SQLite, then on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v npm >/dev/null 2>&1; then
  if [ ! -d tools/interop/node_modules/canonicalize ]; then
    npm ci --prefix tools/interop --no-audit --no-fund --loglevel=error
  fi
  if [ ! -d tools/browser/node_modules/playwright-core ] || [ ! -d tools/browser/node_modules/puppeteer-core ]; then
    npm ci --prefix tools/browser --no-audit --no-fund --loglevel=error
  fi
else
  echo "note: npm not found; the Node interoperability tests will skip" >&2
fi
# Python packages go into a virtual environment of the project's own (tools/interop/.venv,
# gitignored), never into the system Python; the tests find them because its bin/ comes first on
# PATH, so `python3` in a test is the environment's.
if command -v python3 >/dev/null 2>&1; then
  venv=tools/interop/.venv
  if [ ! -x "$venv/bin/python3" ]; then
    python3 -m venv "$venv" ||
      echo "note: python3 -m venv failed (on Debian: apt-get install python3-venv); the Python interoperability tests will skip" >&2
  fi
  if [ -x "$venv/bin/python3" ]; then
    export PATH="$PWD/$venv/bin:$PATH"
    if ! python3 -c 'import rfc8785, cryptography, rnc2rng' >/dev/null 2>&1; then
      python3 -m pip install --quiet --disable-pip-version-check -r tools/interop/requirements.txt
    fi
  fi
else
  echo "note: python3 not found; the Python interoperability tests will skip" >&2
fi

# cargo-nextest runs the test binaries side by side (cargo test runs them one after another,
# and most of the suite's time is test servers waiting on sockets, disks and child processes);
# its settings are in .config/nextest.toml. Without it, cargo test does the same work.
# The second run, `postgres_suite`, is the server's API suite once more on PostgreSQL instead of
# SQLite (a fresh database per test server), so both backends pass the same tests. With
# nextest it selects the server's tests from the workspace build it already has; `cargo test
# -p` would resolve features for that one package and compile much of the tree again.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --no-fail-fast --workspace "$@"
  # nextest does not run doc tests.
  cargo test --workspace --doc
  postgres_suite() {
    CORRIDOR_TEST_BACKEND=postgres cargo nextest run --no-fail-fast --workspace \
      -E 'package(corridor-server)' "$@"
  }
else
  cargo test --workspace "$@"
  postgres_suite() { CORRIDOR_TEST_BACKEND=postgres cargo test -p corridor-server "$@"; }
fi

# Skipped with a note where PostgreSQL is not running, except under CI=true.
if [ "${CI:-}" = "true" ] || pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  postgres_suite "$@"
else
  echo "note: PostgreSQL is not running on 127.0.0.1:5432; the API suite ran on SQLite only" >&2
fi
