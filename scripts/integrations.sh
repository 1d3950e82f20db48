#!/usr/bin/env bash
# Runs, against `docspace-tfa emulator` with its default settings: the README's Quick start
# (examples/quick_start.rs), the README's CLI block and doctor CI step, and the integration examples of
# docs/integrations.md (examples/integrations/link.sh, link.py, link.mjs). Reuses the test build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cargo build --quiet --all-features --bin docspace-tfa --example quick_start
export PATH="$root/target/debug:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "-- examples/integrations/link.sh"
bash examples/integrations/link.sh
echo "-- examples/integrations/link.py"
python3 examples/integrations/link.py
echo "-- examples/integrations/link.mjs, and docs/integrations.md's Node snippet as written"
node examples/integrations/link.mjs
awk '/^## Node/{f=1} f&&/^```js$/{g=1;next} g&&/^```$/{exit} g' docs/integrations.md >"$work/snippet.mjs"
grep -q '^import ' "$work/snippet.mjs"
echo 'if (linked.backupCodes.length === 0) process.exit(1);' >>"$work/snippet.mjs"
node "$work/snippet.mjs"

# An emulator whose stdin is a FIFO this shell holds open (fd 3): closing fd 3, or this shell
# dying, stops it.
mkfifo "$work/stdin"
docspace-tfa emulator <"$work/stdin" >"$work/emulator.json" &
exec 3>"$work/stdin"
for _ in $(seq 100); do [ -s "$work/emulator.json" ] && break; sleep 0.1; done
info=$(head -n1 "$work/emulator.json")
export DOCSPACE_URL
DOCSPACE_URL=$(jq -r .url <<<"$info")
token_of() { jq -r --arg e "$1" '.users[] | select(.email == $e) | .apiKey' <<<"$info"; }

echo "-- README Quick start (examples/quick_start.rs), as written"
# The README shows the file verbatim.
python3 - <<'PY'
readme = open("README.md").read()
example = open("examples/quick_start.rs").read()
assert "```rust,no_run\n" + example + "```" in readme, "README's Quick start != examples/quick_start.rs"
PY
coproc QS { DOCSPACE_TOKEN=$(token_of user@example.com) "$root/target/debug/examples/quick_start"; }
# Own copies of its pipes: bash unsets QS as soon as the program exits.
exec 4<&"${QS[0]}" 5>&"${QS[1]}"
qs_pid=$QS_PID
key=
while read -r line <&4; do
  echo "   $line"
  case $line in "manual key: "*) key=${line#manual key: }; break ;; esac
done
docspace-tfa code --key "$key" >&5
exec 5>&-
read -r result <&4
exec 4<&-
echo "   $result"
wait "$qs_pid"
[ "$result" = "first activation: true" ]

echo "-- README CLI block, as written"
awk '/^With `DOCSPACE_URL` and `DOCSPACE_TOKEN` set \(a portal/{f=1} f&&/^```sh$/{g=1;next} g&&/^```$/{exit} g' README.md >"$work/cli.sh"
grep -q "docspace-tfa link" "$work/cli.sh"
(cd "$work" && DOCSPACE_TOKEN=$(token_of admin@example.com) bash -euo pipefail cli.sh >/dev/null)
[ "$(jq '.backupCodes | length' "$work/linked.json")" -gt 0 ]
[ -s "$work/qr.png" ]
echo "   setup, code, link, codes: ok"

echo "-- README doctor CI step (its run: line), as written: the admin, now linked, on a healthy portal"
run_line=$(awk '/^- name: Check the portal.s TFA configuration/{f=1} f&&/^  run: /{sub(/^  run: /, ""); print; exit}' README.md)
grep -q "docspace-tfa doctor" <<<"$run_line"
(cd "$work" && DOCSPACE_TOKEN=$(token_of admin@example.com) bash -euo pipefail -c "$run_line")
[ "$(jq -c . "$work/doctor.json")" = "[]" ]
echo "   doctor: ok"

exec 3>&-
wait
echo "integrations: ok"
