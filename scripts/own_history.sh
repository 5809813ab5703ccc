#!/usr/bin/env bash
# The main job on flowloop's own history: `flow init`, `flow collect git`, `flow loop` in a
# scratch clone of this checkout; then again with README.md as a source document and the SFT
# threshold lowered to what a young repository can meet. Prints every command's output.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
flow="$here/.venv/bin/flow"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$here" "$work/flowloop"
cd "$work/flowloop"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "$(git rev-list --count HEAD) commits"
step "flow init"; "$flow" init
step "flow collect git"; "$flow" collect git
step "flow loop (as initialised)"; "$flow" loop
cat >> .flow/config.toml <<'TOML'

[[sources]]
glob = "README.md"
type = "evergreen"
TOML
sed -i 's/^threshold = 50/threshold = 1/' .flow/config.toml  # [train.sft]
step "flow index"; "$flow" index
step "flow loop (README.md as a source, train.sft.threshold = 1)"; "$flow" loop
step "flow dataset stats"; "$flow" dataset stats
step "flow models list"; "$flow" models list
