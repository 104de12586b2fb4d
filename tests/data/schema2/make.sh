#!/usr/bin/env bash
# Builds tests/data/schema2/desk: a small desk written by postdesk at schema 2 (the
# sample mailbox, a shell-made ticket, edits, ignored mail, hostile senders), kept
# so that later layouts are tested to migrate it (tests/it/fixture_schema2.rs).
# Made once by the postdesk of its commit; run again only to make a new fixture.
# Usage: bash tests/data/schema2/make.sh path/to/postdesk
set -euo pipefail
pd=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
desk="$here/desk"
rm -rf "$desk"
mkdir -p "$desk"
sed 's/^  db: .*/  db: db/' "$repo/examples/postdesk.yaml" > "$desk/postdesk.yaml"
cp -r "$repo/rules" "$desk/"
cd "$desk"
export POSTDESK_CONFIG="$desk/postdesk.yaml" POSTDESK_USER=maria TZ=UTC
"$pd" ingest mbox "$repo/examples/support.mbox" >/dev/null
for mail in "$repo"/tests/data/hostile/senders/0*.eml; do
  "$pd" ingest < "$mail"
done
"$pd" ticket create -s "Badge reader at the back door" -p high -t security \
  --requester-email guard@example.com >/dev/null
"$pd" ticket edit 1 --status in-progress --tag +printer --assignee tariq >/dev/null
"$pd" ticket edit 2 --status closed >/dev/null
rm -rf rules postdesk.yaml db/.open-lock db/spool db/quarantine
