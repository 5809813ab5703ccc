#!/usr/bin/env bash
# The main job on the bundled example, in a scratch copy so the checkout stays clean.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
flow="$here/.venv/bin/flow"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/examples/ledgerline" "$work/ledgerline"
cd "$work/ledgerline"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "flow pilr lint"
"$flow" pilr lint
step "flow pilr list --type evergreen"
"$flow" pilr list --type evergreen
step "flow signal import .flow/signals/events.jsonl"
"$flow" signal import .flow/signals/events.jsonl
step "flow signal stats"
"$flow" signal stats
step "flow pilr review"
"$flow" pilr review
