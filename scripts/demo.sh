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
step "flow signal import .flow/signals/events.jsonl"
"$flow" signal import .flow/signals/events.jsonl
step "flow signal stats"
"$flow" signal stats
step "flow pilr review"
"$flow" pilr review
step "flow index"
"$flow" index
step "flow context (a sample task)"
"$flow" context "Add partial refunds to the payments API, with a credit note for finalized invoices" --budget 800
step "flow loop (collect, dataset, train SFT and DPO, evaluate, gate, report)"
"$flow" loop
step "flow models list"
"$flow" models list
step "flow report"
"$flow" report
