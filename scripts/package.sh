#!/usr/bin/env bash
# The crate as crates.io would get it: checks what `cargo package` ships (Cargo.toml's
# `include`: no tests, fuzz corpora, scripts, Python build or TLS keys; the licenses, the
# sources and the manual), then `cargo publish --dry-run`, which packages the crate and builds
# the package (here with the CLI and the emulator, as `cargo install docspace-tfa --features
# cli,emulator` would) without uploading. docs/integrations.md, "Publishing the crate", says why.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Cargo warns for each test target it leaves out (tests/ is not shipped, by choice): dropped here.
quiet() { grep -v -e "^warning: ignoring test " -e "^warning: ignoring example \`bench\` " || true; }

cargo package --list --allow-dirty 2>"$work/list.err" >"$work/list" || { cat "$work/list.err" >&2; exit 1; }
for required in Cargo.toml Cargo.lock README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE src/lib.rs \
  src/bin/docspace-tfa/main.rs src/messages/server-messages.json docs/cli.md examples/quick_start.rs; do
  grep -qx "$required" "$work/list" || { echo "package.sh: $required is not packaged" >&2; exit 1; }
done
if grep -E '^(tests|fuzz|scripts|python|\.ci|examples/bench)/|\.(pem|key)$' "$work/list"; then
  echo "package.sh: the files above must not be packaged (Cargo.toml's include)" >&2
  exit 1
fi
echo "   $(wc -l <"$work/list") files; nothing from tests/, fuzz/, scripts/, python/, examples/bench/"

# --allow-dirty: what is checked is the package and its build, not whether the tree is committed
# (a Cargo.lock that cargo refreshed during the run would otherwise fail it).
cargo publish --dry-run --allow-dirty --features cli,emulator 2>&1 | quiet
echo "package: ok"
