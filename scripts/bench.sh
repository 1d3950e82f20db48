#!/usr/bin/env bash
# The benchmark of issues 8 and 14, every figure of docs/performance.md from one command:
#
#   scripts/bench.sh [bench options]      e.g. scripts/bench.sh --calls 5000 --rounds 5
#
# 1. prints the machine (CPU, cores, memory, rustc, load);
# 2. builds the CLI and the benchmark in release and runs `examples/bench` (per-call overhead,
#    connection reuse, threads, CLI cold start, vs plain ureq and the API documentation page's
#    Python example); options
#    after the script name go to it (see examples/bench/main.rs);
# 3. measures the footprint: unique crates per feature (`cargo tree`), the size of the
#    stripped CLI, and clean release build times of this library and of a bare
#    ureq + serde + serde_json + thiserror crate, in scratch target directories, alternating.
#
# 4. installs the CLI as a user does (`cargo install --path . --features cli`, into a scratch
#    root) and sizes it;
# 5. builds the README's two commands from a fresh clone (`git clone` of HEAD) into empty
#    target directories, offline (the registry cache must hold the crates), and counts the
#    crates each compiles.
#
# Environment: BENCH_BUILD_ROUNDS (clean builds of each crate, default 2; 0 skips them),
# BENCH_FIRST_BUILD=0 (skips step 5), BENCH_PROFILES=1 (also sizes the CLI built with cargo's
# default release settings, to show what the tuned profile buys), BENCH_SCRATCH (default
# target/bench-scratch; removed and recreated), BENCH_CALLGRIND=0 (skips section 4b),
# BENCH_OPT3=0 (skips 4b's comparison with an opt-level 3 build), README_FIRST_COMMAND /
# README_TEST_COMMAND.
# Needs cargo, and for some rows python3 and /usr/bin/time; nothing is installed.
set -euo pipefail

# The README's two commands (its "Try it" and its test command), whose first build from a fresh
# clone section 6 measures. Update them here when the README changes.
README_FIRST_COMMAND=${README_FIRST_COMMAND:-"cargo run --features cli,emulator -- demo"}
README_TEST_COMMAND=${README_TEST_COMMAND:-"cargo test --all-features"}

cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
root=$(pwd)
scratch=${BENCH_SCRATCH:-$root/target/bench-scratch}
rounds=${BENCH_BUILD_ROUNDS:-2}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

echo "# Machine"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores)"
echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "- kernel: $(uname -sr)"
echo "- $(rustc -V); $(cargo -V)"
echo "- load average before building: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

echo "(building the CLI and the benchmark in release…)" >&2
cargo build --quiet --release --features cli --bin docspace-tfa
cargo build --quiet --release --example bench
target/release/examples/bench --cli target/release/docspace-tfa "$@"

# Instructions per call, counted by callgrind (exact and stable on a busy machine): the client
# alone, against the canned server in another process; (a 3000-call run - a 1000-call run) / 2000.
if [ "${BENCH_CALLGRIND:-1}" = 1 ] && command -v valgrind >/dev/null; then
  echo "(counting instructions per call with callgrind…)" >&2
  port=${BENCH_PORT:-18931}
  target/release/examples/bench --serve --port "$port" >/dev/null &
  serve_pid=$!
  trap 'kill "$serve_pid" 2>/dev/null || true' EXIT
  sleep 0.5
  url="http://127.0.0.1:$port"
  collected() { # workload calls
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      target/release/examples/bench --profile "$1" --url "$url" --calls "$2" 2>&1 |
      awk '/Collected :/ { print $NF }'
  }
  per_call() { local a b; a=$(collected "$1" 1000); b=$(collected "$1" 3000); echo $(((b - a) / 2000)); }
  echo
  echo "## 4b. Instructions per call (callgrind, client process only)"
  echo
  echo "| workload | requests | instructions/call | ÷ the floor |"
  echo "|---|---:|---:|---:|"
  declare -A ir
  for w in bare-validate sdk-validate sdk-token-only-validate ureq-validate bare-settings sdk-settings ureq-settings; do
    ir[$w]=$(per_call "$w")
  done
  ratio3() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
  row() { echo "| $1 | $2 | ${ir[$3]} | $(ratio3 "${ir[$3]}" "${ir[$4]}") |"; }
  row "bare ureq, no timeouts (the floor), validate" 1 bare-validate bare-validate
  row "docspace-tfa SDK, \`validate_with(&ticket, code)\`" 1 sdk-validate bare-validate
  row "docspace-tfa SDK, token-only \`validate(code)\` (confirm, then validate)" 2 sdk-token-only-validate bare-validate
  row "ureq with the SDK's agent config, validate" 1 ureq-validate bare-validate
  row "bare ureq, no timeouts (the floor), settings read" 1 bare-settings bare-settings
  row "docspace-tfa SDK, \`methods()\`" 1 sdk-settings bare-settings
  row "ureq with the SDK's agent config, settings read" 1 ureq-settings bare-settings
  echo
  echo "User-space instructions of the client process (callgrind counts every thread, so a"
  echo "lookup thread would count), the canned server in another process, by \`127.0.0.1\`;"
  echo "this build's release profile. Exact: ±0.1k between runs."
  echo
  echo "| target (instructions) | figure | verdict |"
  echo "|---|---|---|"
  for op in validate settings; do
    r=$(ratio3 "${ir[sdk-$op]}" "${ir[bare-$op]}")
    echo "| SDK ≤ 1.10 × floor ($op) | $r × (${ir[sdk-$op]} vs ${ir[bare-$op]}) | $(awk -v r="$r" 'BEGIN { print (r <= 1.10) ? "met" : "MISSED" }') |"
  done
  # What the size-tuned release profile costs per call: the same counts in a build with
  # opt-level 3 everywhere (BENCH_OPT3=0 skips it; a second release build of the benchmark).
  if [ "${BENCH_OPT3:-1}" = 1 ]; then
    echo "(building the benchmark at opt-level 3 everywhere for the comparison…)" >&2
    opt3_dir=${BENCH_OPT3_TARGET:-$root/target/bench-opt3}
    CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_TARGET_DIR=$opt3_dir \
      cargo build --quiet --release --all-features --example bench
    collected3() {
      valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$opt3_dir/release/examples/bench" --profile "$1" --url "$url" --calls "$2" 2>&1 |
        awk '/Collected :/ { print $NF }'
    }
    per_call3() { local a b; a=$(collected3 "$1" 1000); b=$(collected3 "$1" 3000); echo $(((b - a) / 2000)); }
    echo
    echo "Instructions per call: this release profile (\`opt-level = \"s\"\`, the per-request crates at 3)"
    echo "vs the same benchmark built at \`opt-level = 3\` everywhere:"
    echo
    echo "| workload | release profile | opt-level 3 everywhere | ratio |"
    echo "|---|---:|---:|---:|"
    for w in bare-validate sdk-validate bare-settings sdk-settings; do
      o3=$(per_call3 "$w")
      echo "| $w | ${ir[$w]} | $o3 | $(ratio3 "${ir[$w]}" "$o3") |"
    done
  fi
  kill "$serve_pid" 2>/dev/null || true
  trap - EXIT
fi

echo
echo "## 5. Footprint"
echo
rm -rf "$scratch"
mkdir -p "$scratch/bare/src"
# The bare crate: the four dependencies with the features this crate uses, the same lock file.
cat > "$scratch/bare/Cargo.toml" <<'EOF'
[package]
name = "bare-ureq"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
ureq = "3.5"
serde = { version = "1.0.200", features = ["derive"] }
serde_json = "1"
thiserror = "2"

[workspace]
EOF
# The same release settings as this crate, so that the clean builds compare like with like.
awk '/^\[profile\.release/ { on = 1; print ""; print; next } /^\[/ { on = 0 } on' Cargo.toml \
  >> "$scratch/bare/Cargo.toml"
cat > "$scratch/bare/src/lib.rs" <<'EOF'
//! What a hand-rolled client starts from: one call, a typed answer, an error type.

/// The answer.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct Answer {
    /// The value.
    pub response: bool,
}

/// The error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Transport.
    #[error("transport: {0}")]
    Transport(#[from] ureq::Error),
    /// JSON.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// One call.
pub fn validate(url: &str, code: &str) -> Result<Answer, Error> {
    let body = serde_json::to_vec(&serde_json::json!({ "code": code }))?;
    let mut response = ureq::post(url).header("Content-Type", "application/json").send(&body[..])?;
    Ok(serde_json::from_slice(&response.body_mut().read_to_vec()?)?)
}
EOF
cp Cargo.lock "$scratch/bare/Cargo.lock"

count() { sort -u | wc -l | tr -d ' '; }
tree() { cargo tree -e normal --prefix none --no-dedupe "$@"; }
default_tree=$(tree)
async_hits=$(printf '%s\n' "$default_tree" | grep -cE '^(tokio|hyper|futures|async-[a-z-]*|mio|smol) ' || true)
echo "| dependency tree (\`cargo tree -e normal --prefix none --no-dedupe … \| sort -u \| wc -l\`) | unique lines |"
echo "|---|---:|"
echo "| docspace-tfa, default features | $(printf '%s\n' "$default_tree" | count) |"
for f in totp cli emulator; do
  echo "| docspace-tfa, --features $f | $(tree --features "$f" | count) |"
done
echo "| docspace-tfa, --all-features | $(tree --all-features | count) |"
echo "| bare ureq + serde + serde_json + thiserror | $(tree --manifest-path "$scratch/bare/Cargo.toml" --offline | count) |"
echo
echo "Async runtime crates (tokio, hyper, futures, async-*, mio, smol) in the default tree: $async_hits."
echo

cli=target/release/docspace-tfa
size_of() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB (%d bytes)", b / 1048576, b }'; }
echo "(installing the CLI as a user does…)" >&2
cargo install --quiet --offline --path . --features cli --root "$scratch/install"
installed=$(size_of "$scratch/install/bin/docspace-tfa")
cp "$cli" "$scratch/docspace-tfa.stripped"
strip "$scratch/docspace-tfa.stripped"
echo "| CLI binary (the release profile of Cargo.toml) | size |"
echo "|---|---:|"
echo "| installed: \`cargo install --path . --features cli\` | $(mib "$installed") |"
echo "| \`cargo build --release --features cli\` | $(mib "$(size_of "$cli")") |"
echo "| the same, \`strip\`ped again | $(mib "$(size_of "$scratch/docspace-tfa.stripped")") |"
if [ "${BENCH_PROFILES:-0}" = 1 ]; then
  echo "(building the CLI with cargo's default release settings…)" >&2
  CARGO_TARGET_DIR="$scratch/target-untuned" CARGO_PROFILE_RELEASE_STRIP=debuginfo \
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_PANIC=unwind \
    cargo build --quiet --release --features cli --bin docspace-tfa
  untuned="$scratch/target-untuned/release/docspace-tfa"
  echo "| cargo's default release settings (debuginfo stripped, no LTO, 16 codegen units, unwind) | $(mib "$(size_of "$untuned")") |"
  strip "$untuned"
  echo "| … \`strip\`ped | $(mib "$(size_of "$untuned")") |"
fi
echo

if [ "$rounds" -gt 0 ]; then
  echo "(clean release builds, $rounds round(s) of each crate, alternating…)" >&2
  bare_times=()
  lib_times=()
  build_bare() {
    rm -rf "$scratch/target-bare"
    local t0; t0=$(now)
    CARGO_TARGET_DIR="$scratch/target-bare" cargo build --quiet --release --offline \
      --manifest-path "$scratch/bare/Cargo.toml"
    bare_times+=("$(secs "$t0" "$(now)")")
  }
  build_lib() {
    rm -rf "$scratch/target-lib"
    local t0; t0=$(now)
    CARGO_TARGET_DIR="$scratch/target-lib" cargo build --quiet --release --offline --lib
    lib_times+=("$(secs "$t0" "$(now)")")
  }
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  for ((i = 0; i < rounds; i++)); do
    if ((i % 2 == 0)); then build_bare; build_lib; else build_lib; build_bare; fi
  done
  med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  min() { printf '%s\n' "$@" | sort -n | head -1; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
  bare_med=$(med "${bare_times[@]}")
  lib_med=$(med "${lib_times[@]}")
  bare_min=$(min "${bare_times[@]}")
  lib_min=$(min "${lib_times[@]}")
  build_ratio=$(ratio "$lib_min" "$bare_min")
  echo "| clean release build (\`cargo build --release\`, empty target dir, $(nproc) jobs) | runs (s) | fastest (s) | median (s) |"
  echo "|---|---|---:|---:|"
  echo "| bare ureq + serde + serde_json + thiserror | ${bare_times[*]} | $bare_min | $bare_med |"
  echo "| docspace-tfa library, default features | ${lib_times[*]} | $lib_min | $lib_med |"
  echo "| ratio (library ÷ bare) | | $build_ratio | $(ratio "$lib_med" "$bare_med") |"
  echo
  echo "Load average before / after the builds: $load0 / $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "The fastest run is the estimate least disturbed by other work on the machine."
fi

first_build() { # label, command
  local dir="$scratch/first-build" log="$scratch/first-build.log"
  rm -rf "$dir" "$scratch/target-first"
  git clone --quiet "$root" "$dir"
  local t0; t0=$(now)
  (cd "$dir" && CARGO_TARGET_DIR="$scratch/target-first" CARGO_NET_OFFLINE=true \
    DOCSPACE_URL= DOCSPACE_TOKEN= bash -c "$2" >/dev/null 2>"$log") ||
    { echo "first build of \`$2\` failed:" >&2; tail -20 "$log" >&2; exit 1; }
  local took; took=$(secs "$t0" "$(now)")
  local crates; crates=$(grep -c '^ *Compiling ' "$log" || true)
  local heavy; heavy=$(grep -oE '^ *Compiling (tokio|hyper|h2|mockito) ' "$log" | awk '{ print $2 }' | sort -u | paste -sd, - || true)
  echo "| $1: \`$2\` | $crates | $took | ${heavy:-none} |"
  first_crates+=("$crates")
  rm -rf "$dir" "$scratch/target-first"
}
first_crates=()
if [ "${BENCH_FIRST_BUILD:-1}" = 1 ]; then
  echo "(first builds of the README's commands from a fresh clone…)" >&2
  echo
  echo "## 6. First build from a fresh clone (the README's commands, empty target directory, offline)"
  echo
  echo "| README command | crates compiled | wall s (build and run) | async stack among them |"
  echo "|---|---:|---:|---|"
  first_build "first command" "$README_FIRST_COMMAND"
  first_build "test command" "$README_TEST_COMMAND"
  echo
  echo "Each from its own \`git clone\` of HEAD into an empty CARGO_TARGET_DIR ($(nproc) jobs, debug"
  echo "profile, the registry cache already filled): what a user's first run costs. Load average after:"
  echo "$(cut -d' ' -f1-3 /proc/loadavg)."
fi

echo
echo "## Targets (footprint)"
echo
verdict() { if [ "$1" = 1 ]; then echo met; else echo MISSED; fi; }
tree_lines=$(printf '%s\n' "$default_tree" | count)
stripped=$(size_of "$scratch/docspace-tfa.stripped")
echo "| target | figure | verdict |"
echo "|---|---|---|"
echo "| default tree ≤ 45 lines | $tree_lines | $(verdict $((tree_lines <= 45))) |"
echo "| no async runtime in the default tree | $async_hits crates | $(verdict $((async_hits == 0))) |"
if [ "$rounds" -gt 0 ]; then
  echo "| clean build ≤ 1.10 × bare (fastest runs) | $build_ratio × | $(verdict "$(awk -v r="$build_ratio" 'BEGIN { print (r <= 1.10) }')") |"
fi
echo "| stripped CLI < 4 MB | $stripped bytes | $(verdict $((stripped < 4000000))) |"
echo "| installed CLI ≤ 3 MiB | $installed bytes | $(verdict $((installed <= 3 * 1048576))) |"
rm -rf "$scratch/target-bare" "$scratch/target-lib" "$scratch/target-untuned" "$scratch/install"
