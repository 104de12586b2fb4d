#!/usr/bin/env bash
# The main job on the embedded default: build postdesk, set up a helpdesk in a temp
# dir (sled database), create a few tickets and list them.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
pd="$PWD/target/release/postdesk"
desk=$(mktemp -d)
trap 'rm -rf "$desk"' EXIT
cd "$desk"
"$pd" init .
"$pd" ticket create -s "Printer on floor 2 jams" -d "Every second page jams." \
  --requester-email ann@acme.example --requester-name "Ann Smith" -p high -t printer
"$pd" ticket create -c access --requester-email ben@acme.example
"$pd" ticket create -s "Invoice 2026-11 is wrong" --requester-email cat@other.example -p low
"$pd" ticket edit 1 --status in-progress --tag +hardware
"$pd" ticket list
"$pd" ticket list --status unresolved --sort -priority --format csv
"$pd" ticket show 1
