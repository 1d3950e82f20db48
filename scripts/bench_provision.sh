#!/usr/bin/env bash
# Benchmark of `docspace-tfa provision` against the emulator (`docspace-tfa emulator --users N`),
# beside the same flow written with ONLYOFFICE's Python SDK (docspace-api-sdk, pinned; a
# sequential loop: scripts/bench_provision_python.py), in the same run. See docs/performance.md.
#
#   scripts/bench_provision.sh            1,000 and 10,000 accounts, --jobs 1, 4, 16 (release build)
#   scripts/bench_provision.sh --smoke    30 accounts, --jobs 1 and 4 (debug build, for CI)
#   PY_SIZES="1000" (default) the sizes the Python loop runs (its imports alone take ~5 s)
#   REPEAT=3 (default; 1 with --smoke) runs of each row; the table shows each figure's median,
#   so one row that met a 30-second code-step wait (up to 3 s, `Totp::code_to_send`) or a burst
#   of other work on the machine does not decide a ratio
#
# Each row gets a fresh emulator (every account starts unlinked) and a fresh vault. Measured
# with /usr/bin/time -v on the client process only: wall time, user+system CPU, peak RSS. The
# Python row's CPU is its loop's own (process_time, imports excluded: in its favour).
# Needs cargo, python3 (with venv) and /usr/bin/time (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
[[ "${1:-}" == "--smoke" ]] && SMOKE=1
if [[ $SMOKE == 1 ]]; then
  SIZES="30"; JOBS="1 4"; PY_SIZES="${PY_SIZES:-30}"; REPEAT=1
  # --all-features: the binary `cargo test --all-features` built (CI runs that first).
  cargo build --quiet --all-features --bin docspace-tfa
  BIN=target/debug/docspace-tfa
else
  SIZES="${SIZES:-1000 10000}"; JOBS="${JOBS:-1 4 16}"; PY_SIZES="${PY_SIZES:-1000}"
  REPEAT="${REPEAT:-3}"
  cargo build --quiet --release --features cli,emulator
  BIN=target/release/docspace-tfa
fi
if [[ ! -x /usr/bin/time ]]; then
  apt-get install -y -qq time >/dev/null
fi

# The same pinned SDK and virtual environment as scripts/python_sdk.sh (made here if missing).
SDK_VERSION=3.7.0
VENV=target/python-sdk-$SDK_VERSION
if ! "$VENV/bin/python" -c "import docspace_api_sdk" 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "docspace-api-sdk==$SDK_VERSION"
fi

WORK=$(mktemp -d)
EMU_PID=""
cleanup() { [[ -n $EMU_PID ]] && kill "$EMU_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

start_emulator() { # N → sets URL and EMU_PID
  "$BIN" emulator --users "$1" --ignore-stdin >"$WORK/emu.json" 2>/dev/null &
  EMU_PID=$!
  for _ in $(seq 1 600); do
    [[ -s $WORK/emu.json ]] && break
    sleep 0.1
  done
  URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$WORK/emu.json")
}
stop_emulator() { kill "$EMU_PID"; wait "$EMU_PID" 2>/dev/null || true; EMU_PID=""; }

accounts() { # N → a CSV of the emulator's fleet
  echo "email,password"
  for i in $(seq 1 "$1"); do echo "fleet$i@example.com,fleet$i-Pa55"; done
}

# One row: "label n jobs wall_s cpu_s rss_kib"
measure() { # TIMEFILE → "wall cpu rss"
  python3 - "$1" <<'PY'
import sys
t = {}
for line in open(sys.argv[1]):
    k, _, v = line.strip().rpartition(": ")
    t[k] = v
w = t["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(w)))
cpu = float(t["User time (seconds)"]) + float(t["System time (seconds)"])
print(f'{wall:.3f} {cpu:.3f} {t["Maximum resident set size (kbytes)"]}')
PY
}

ROWS="$WORK/rows"
: >"$ROWS"
for n in $SIZES; do
  accounts "$n" >"$WORK/accounts-$n.csv"
  for j in $JOBS; do for _ in $(seq 1 "$REPEAT"); do
    start_emulator "$n"
    rm -f "$WORK/vault.jsonl"
    /usr/bin/time -v -o "$WORK/time.txt" "$BIN" provision "$WORK/accounts-$n.csv" \
      --vault "$WORK/vault.jsonl" --url "$URL" --allow-insecure-http --jobs "$j" --json \
      >"$WORK/out.json" 2>"$WORK/err.txt" || { cat "$WORK/err.txt" >&2; exit 1; }
    stop_emulator
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["complete"] and d["linked"]==int(sys.argv[2]), d' \
      "$WORK/out.json" "$n"
    echo "docspace-tfa $n $j $(measure "$WORK/time.txt")" >>"$ROWS"
  done; done
done
for n in $PY_SIZES; do for _ in $(seq 1 "$REPEAT"); do
  accounts "$n" >"$WORK/accounts-$n.csv"
  start_emulator "$n"
  rm -f "$WORK/vault.jsonl"
  /usr/bin/time -v -o "$WORK/time.txt" "$VENV/bin/python" -W ignore scripts/bench_provision_python.py \
    "$URL" "$WORK/accounts-$n.csv" "$WORK/vault.jsonl" >"$WORK/py.json"
  stop_emulator
  read -r wall _cpu rss <<<"$(measure "$WORK/time.txt")"
  loop_cpu=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["linked"]==int(sys.argv[2]), d; print("%.3f" % d["cpu_s"])' "$WORK/py.json" "$n")
  echo "python-sdk $n 1 $wall $loop_cpu $rss" >>"$ROWS"
done; done

python3 - "$ROWS" <<'PY'
import statistics
import sys
runs = {}
for who, n, j, wall, cpu, rss in (l.split() for l in open(sys.argv[1])):
    runs.setdefault((who, int(n), int(j)), []).append((float(wall), float(cpu), int(rss)))
print(f"{'client':<13} {'accounts':>8} {'jobs':>4} {'runs':>4} {'wall s':>8} {'acc/s':>8} {'CPU ms/acc':>10} {'peak RSS MiB':>12}")
by = {}
for (who, n, j), rs in runs.items():
    # Each figure's median over the row's runs.
    wall, cpu, rss = (statistics.median(x) for x in zip(*rs))
    by[(who, n, j)] = (wall, cpu, rss)
    print(f"{who:<13} {n:>8} {j:>4} {len(rs):>4} {wall:>8.2f} {n / wall:>8.1f} {cpu / n * 1000:>10.3f} {rss / 1024:>12.1f}")
sizes = sorted({n for who, n, j in by if who == "docspace-tfa"})
if len(sizes) >= 2:
    a, b = sizes[0], sizes[-1]
    print(f"\ngrowth {a} -> {b} accounts (time per account, peak RSS):")
    for (who, n, j), (wall, cpu, rss) in sorted(by.items()):
        if who == "docspace-tfa" and n == a and ("docspace-tfa", b, j) in by:
            w2, c2, r2 = by[("docspace-tfa", b, j)]
            print(f"  jobs {j:>2}: time/account x{(w2 / b) / (wall / a):.2f}, "
                  f"CPU/account x{(c2 / b) / (cpu / a):.2f}, peak RSS x{r2 / rss:.2f}")
py = [(n, v) for (who, n, j), v in by.items() if who == "python-sdk"]
for n, (pwall, pcpu, prss) in py:
    ours = [(j, v) for (who, m, j), v in by.items() if who == "docspace-tfa" and m == n]
    for j, (wall, cpu, rss) in sorted(ours):
        print(f"CPU per account at {n}, jobs {j}: docspace-tfa / Python SDK = {cpu / pcpu:.3f}")
PY
