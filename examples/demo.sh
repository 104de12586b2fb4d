#!/usr/bin/env bash
# The main job on the embedded default: build postdesk, set up the demo helpdesk in
# a temp dir (sled database), ingest the sample mailbox shipped in the repo, and show
# what came of it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked --quiet
# Where cargo put it: $CARGO_TARGET_DIR or a cargo config may move it from ./target.
pd="$(bash scripts/target-dir.sh)/release/postdesk"
desk=$(mktemp -d)
trap 'rm -rf "$desk"' EXIT
cp examples/postdesk.yaml "$desk/"
cp -r rules templates "$desk/"
export POSTDESK_CONFIG="$desk/postdesk.yaml" POSTDESK_USER=maria
"$pd" ingest mbox examples/support.mbox
"$pd" rule list
"$pd" ticket list --sort -priority,number
"$pd" ticket list --view billing
"$pd" ingest ignored
"$pd" ticket show 2
