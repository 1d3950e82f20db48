#!/usr/bin/env bash
# Checks the default-feature dependency tree: no async runtime, at most 45 unique lines
# (the crate itself included; a bare ureq + serde + serde_json + thiserror crate gives 40).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -e normal --prefix none --no-dedupe | sort -u)
count=$(printf '%s\n' "$tree" | wc -l)
echo "default-feature dependency tree: $count unique lines (limit 45)"
if printf '%s\n' "$tree" | grep -E '^(tokio|hyper|futures|async-|mio|smol) ' ; then
  echo "error: an async runtime crate is in the default dependency tree" >&2
  exit 1
fi
if [ "$count" -gt 45 ]; then
  echo "error: the default dependency tree grew past 45 lines" >&2
  exit 1
fi
