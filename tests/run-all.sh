#!/usr/bin/env bash
# Runs every Tickwire test, installing what the tests need first:
#   - Debian's chromium (for the browser test), redis-server (the room directory the
#     scale-out test starts on a free loopback port) and protobuf-compiler (protoc, which
#     the Agones SDK and the tests' fake Agones SDK server are built with), and the npm
#     packages of tests/browser;
#   - the Rust unit, property and end-to-end tests (sockets, hostile clients, TLS, the
#     short soak, the browser test in headless Chromium), in release mode, after building
#     the binaries the end-to-end tests start;
#   - the JavaScript codec and netcode tests (node --test).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages the tests need: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== installing the browser test's npm packages"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

echo "== building the binaries the end-to-end tests run"
cargo build --release --workspace --bins
cargo build --release -p tickwire-server --examples

echo "== Rust tests"
# The browser test must not skip here: a missing browser is a failure, not a pass.
TICKWIRE_REQUIRE_BROWSER=1 cargo test --release --workspace --lib --bins --tests

echo "== JavaScript tests"
(cd client-demo/web && node --test)
