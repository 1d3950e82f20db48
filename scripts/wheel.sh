#!/usr/bin/env bash
# Builds the Python wheel (python/pyproject.toml: the `docspace-tfa` command with the emulator,
# and the `docspace_tfa` helper package) with the pinned maturin, installs it into a fresh
# virtual environment with no Rust toolchain on PATH, and runs there, with the installed command
# (not target/): examples/integrations/link.py and the helper's tests (python/tests, pytest).
#
# WHEEL_PROFILE picks the Cargo profile: `dev` (default, CI) reuses the test build's compiled
# dependencies and is stripped by maturin; `release` is the one to publish (fat LTO, size-tuned:
# minutes on two cores). See docs/integrations.md, "The Python wheel".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# The build backend's pin in python/pyproject.toml is the version used here.
maturin_version=$(sed -n 's/^requires = \["maturin==\([0-9.]*\)"\]$/\1/p' python/pyproject.toml)
[ -n "$maturin_version" ] || { echo "wheel.sh: no maturin==X pin in python/pyproject.toml" >&2; exit 1; }
pytest_version=9.2.0
profile=${WHEEL_PROFILE:-dev}
work=$root/target/wheel
mkdir -p "$work"

echo "-- maturin $maturin_version (build environment $work/build-venv)"
if ! "$work/build-venv/bin/maturin" --version 2>/dev/null | grep -qx "maturin $maturin_version"; then
  rm -rf "$work/build-venv"
  python3 -m venv "$work/build-venv"
  "$work/build-venv/bin/pip" install --quiet --only-binary :all: "maturin==$maturin_version"
fi

echo "-- building the wheel (profile $profile)"
rm -rf "$work/dist"
strip=()
[ "$profile" = release ] || strip=(--strip)
(cd python && "$work/build-venv/bin/maturin" build --quiet --profile "$profile" "${strip[@]}" \
  --out "$work/dist")
wheels=("$work"/dist/docspace_tfa-*.whl)
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] || { echo "wheel.sh: expected one wheel in $work/dist" >&2; exit 1; }
wheel=${wheels[0]}
echo "   $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
# What the wheel must hold: the command, the helper and its pytest entry point, the licenses
# (python/LICENSE-* are links to the top-level texts; maturin picks them up), no tests.
python3 - "$wheel" <<'PY'
import sys, zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
wanted = [".data/scripts/docspace-tfa", "docspace_tfa/__init__.py", "docspace_tfa/emulator.py",
          "docspace_tfa/pytest_plugin.py", ".dist-info/entry_points.txt",
          ".dist-info/licenses/LICENSE-MIT", ".dist-info/licenses/LICENSE-APACHE"]
missing = [w for w in wanted if not any(n.endswith(w) for n in names)]
extra = [n for n in names if n.startswith("tests/") or "/tests/" in n]
assert not missing and not extra, f"wheel: missing {missing}, unexpected {extra}"
PY

echo "-- installing it into a fresh virtual environment, without a Rust toolchain on PATH"
venv=$work/venv
rm -rf "$venv"
python3 -m venv "$venv"
# The venv's own interpreter and tools, and the system's; no ~/.cargo/bin, no target/.
clean_path="$venv/bin:/usr/local/bin:/usr/bin:/bin"
env PATH="$clean_path" sh -c '! command -v cargo >/dev/null && ! command -v rustc >/dev/null' \
  || { echo "wheel.sh: a Rust toolchain is on the clean PATH" >&2; exit 1; }
# --no-index --no-deps: the wheel needs nothing else, and nothing is built from source.
env PATH="$clean_path" "$venv/bin/pip" install --quiet --no-index --no-deps --only-binary :all: "$wheel"
env PATH="$clean_path" "$venv/bin/pip" install --quiet --only-binary :all: "pytest==$pytest_version"
installed=$(env PATH="$clean_path" sh -c 'command -v docspace-tfa')
[ "$installed" = "$venv/bin/docspace-tfa" ] || { echo "wheel.sh: docspace-tfa is $installed" >&2; exit 1; }
env PATH="$clean_path" docspace-tfa emulator --help >/dev/null
echo "   $installed"

echo "-- examples/integrations/link.py with the installed command"
env -u DOCSPACE_TFA PATH="$clean_path" python examples/integrations/link.py

echo "-- the helper's tests (python/tests) against the installed wheel"
# From an empty directory, so that python/docspace_tfa is not imported instead of the wheel's
# (a test checks where it came from).
mkdir -p "$work/run"
(cd "$work/run" && env -u DOCSPACE_TFA PATH="$clean_path" PYTHONDONTWRITEBYTECODE=1 python -m pytest -p no:cacheprovider -q \
  "$root/python/tests")
echo "wheel: ok"
