#!/usr/bin/env bash
# Runs every fuzz target in turn, one job at a time, for SECONDS each (default 300), and prints
# each target's executions and time. Needs cargo-fuzz (`cargo install cargo-fuzz`); the stable
# toolchain is enough with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Zsanitizer). Not part of CI.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-300}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(answer envelope_models confirm_url set_cookie normalize_code manual_key otpauth_uri data_url)
fi
logs="${FUZZ_LOGS:-/tmp/docspace-tfa-fuzz}"
mkdir -p "$logs"
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        >"$logs/$t.log" 2>&1 || { echo "$t: FAILED (see $logs/$t.log)"; continue; }
    runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$logs/$t.log" | tail -1)
    echo "$t: ${runs:-no summary} (see $logs/$t.log)"
done
