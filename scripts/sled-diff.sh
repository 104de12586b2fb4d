#!/usr/bin/env bash
# Prints how vendor/sled differs from sled 0.34.7 as published on crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL https://static.crates.io/crates/sled/sled-0.34.7.crate | tar -xz -C "$tmp"
diff -ru "$tmp/sled-0.34.7/src" vendor/sled/src || true
