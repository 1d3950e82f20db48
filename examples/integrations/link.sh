#!/usr/bin/env bash
# Link an authenticator app for a member, store the backup codes, then log in as the member
# with the stored key — all through `docspace-tfa`, against `docspace-tfa emulator`.
# Needs bash and jq. DOCSPACE_TFA names the binary (default: docspace-tfa on PATH).
set -euo pipefail
tfa=${DOCSPACE_TFA:-docspace-tfa}

# Start the emulator as a coprocess: its stdin is a pipe from this shell, so it stops when
# this script ends, however it ends. Its first line is JSON: the URL and the seeded users.
coproc EMU { "$tfa" emulator; }
read -r info <&"${EMU[0]}"
export DOCSPACE_URL
DOCSPACE_URL=$(jq -r .url <<<"$info")
user=$(jq -c '.users[] | select(.email == "user@example.com")' <<<"$info")

# 1. Link with the member's API key, acting as the authenticator app (--auto).
linked=$(DOCSPACE_TOKEN=$(jq -r .apiKey <<<"$user") "$tfa" link --auto --json)
key=$(jq -r .manualEntryKey <<<"$linked")
echo "linked $(jq -r .account <<<"$linked"): $(jq '.backupCodes | length' <<<"$linked") backup codes"

# 2. Linking again is exit code 5 (not available: already linked); the error is JSON too.
set +e
err=$(DOCSPACE_TOKEN=$(jq -r .apiKey <<<"$user") "$tfa" link --auto --json)
status=$?
set -e
[ "$status" -eq 5 ] || { echo "expected exit 5, got $status" >&2; exit 1; }
echo "linking again: exit $status, $(jq -r .error.kind <<<"$err")"

# 3. Log in later with the stored key (the code is computed at the call).
session=$(DOCSPACE_PASSWORD=$(jq -r .password <<<"$user") DOCSPACE_TOTP_KEY=$key \
  "$tfa" login --user user@example.com --json)
[ "$(jq -r .status <<<"$session")" = authenticated ] || { echo "login failed: $session" >&2; exit 1; }
echo "logged in with the stored key"

# 4. The session's token lists the backup codes.
codes=$(DOCSPACE_TOKEN=$(jq -r .token <<<"$session") "$tfa" codes --json)
echo "unused backup codes: $(jq '[.[] | select(.isUsed | not)] | length' <<<"$codes")"
