#!/usr/bin/env bash
# Runs the README's copy-paste blocks (each indented block after a "<!-- ci-block: NAME -->" line), in order, from
# the repository root with a fresh $HOME, as a new user would paste them. Usage: tests/readme_blocks.sh [README]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
readme=${1:-$root/README.md}
export HOME=$(mktemp -d)
trap 'rm -rf "$HOME" "$root/consumer" "$root/consumer_pc" "$root/.venv"' EXIT
cd "$root"
blocks=$(awk '/^<!-- ci-block: .* -->$/ { name = $3; next }
              name != "" && /^    / { print name "\t" substr($0, 5); next }
              name != "" && !/^    / { name = "" }' "$readme")
[ -n "$blocks" ] || { echo "readme_blocks: no blocks in $readme"; exit 1; }
for name in $(printf '%s\n' "$blocks" | cut -f1 | uniq); do
  echo "== README block: $name"
  printf '%s\n' "$blocks" | awk -F'\t' -v n="$name" '$1 == n { sub(/^[^\t]*\t/, ""); print }' > "$HOME/block.sh"
  bash -euo pipefail "$HOME/block.sh" || { echo "README block $name failed:"; cat "$HOME/block.sh"; exit 1; }
done
echo "readme_blocks: ok"
