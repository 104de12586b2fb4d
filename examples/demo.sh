#!/usr/bin/env bash
# The main job on the embedded default: build postdesk, set up the demo helpdesk in
# a temp dir (sled database), ingest the sample mailbox shipped in the repo, and show
# what came of it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --quiet
pd="$PWD/target/release/postdesk"
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
