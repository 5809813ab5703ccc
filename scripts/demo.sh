#!/usr/bin/env bash
# The main job on the bundled example, in a scratch copy so the checkout stays clean.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
flow="$here/.venv/bin/flow"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/examples/ledgerline" "$work/ledgerline"
cd "$work/ledgerline"

echo "== flow pilr lint"
"$flow" pilr lint
echo "== flow pilr list"
"$flow" pilr list
echo "== flow pilr review"
"$flow" pilr review
