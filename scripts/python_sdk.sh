#!/usr/bin/env bash
# ONLYOFFICE's own Python SDK as a second client of `docspace-tfa emulator`: installs
# docspace-api-sdk (pinned) in a virtual environment under target/, then drives every method of
# its TFASettingsApi and AuthenticationApi (tests/python/onlyoffice_sdk_compat.py, which starts
# the emulator and prints `N passed, N failed, N skipped`). See docs/integrations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# The version ONLYOFFICE publishes for the 3.7 server (`pip index versions docspace-api-sdk`).
SDK_VERSION=3.7.0

cargo build --quiet --all-features --bin docspace-tfa
venv="$root/target/python-sdk-$SDK_VERSION"
if ! "$venv/bin/python" -c "import docspace_api_sdk" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "docspace-api-sdk==$SDK_VERSION"
fi
installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("docspace-api-sdk"))')
[ "$installed" = "$SDK_VERSION" ] || { echo "docspace-api-sdk $installed, expected $SDK_VERSION" >&2; exit 1; }
# The SDK's models warn about a field named `copy` on import: not ours, not shown.
"$venv/bin/python" -W "ignore::UserWarning" tests/python/onlyoffice_sdk_compat.py "$root/target/debug/docspace-tfa"
