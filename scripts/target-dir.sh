#!/usr/bin/env bash
# Prints the directory cargo builds into: $CARGO_TARGET_DIR, a cargo config's
# build.target-dir, else ./target. Asking cargo keeps scripts right under all three.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --format-version 1 --no-deps --offline |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'
