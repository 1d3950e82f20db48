#!/usr/bin/env python3
"""Link an authenticator app for a member and log in with the stored key, through the
`docspace-tfa` command-line tool, against `docspace-tfa emulator`. Standard library only.

DOCSPACE_TFA names the binary (default: docspace-tfa on PATH).
"""
import json
import os
import subprocess
import sys

TFA = os.environ.get("DOCSPACE_TFA", "docspace-tfa")


def tfa(*args, env=None):
    """Runs docspace-tfa with --json; returns (exit code, parsed stdout)."""
    run = subprocess.run(
        [TFA, *args, "--json"],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode, json.loads(run.stdout)


def main():
    # stdin=PIPE: the emulator stops when this process closes the pipe — or dies.
    with subprocess.Popen(
        [TFA, "emulator"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as emulator:
        info = json.loads(emulator.stdout.readline())
        user = next(u for u in info["users"] if u["email"] == "user@example.com")
        portal = {"DOCSPACE_URL": info["url"]}

        code, linked = tfa("link", "--auto", env={**portal, "DOCSPACE_TOKEN": user["apiKey"]})
        assert code == 0, linked
        print(f"linked {linked['account']}: {len(linked['backupCodes'])} backup codes")

        code, err = tfa("link", "--auto", env={**portal, "DOCSPACE_TOKEN": user["apiKey"]})
        assert code == 5 and err["error"]["kind"] == "not_available", (code, err)
        print(f"linking again: exit {code}, {err['error']['kind']}")

        code, session = tfa(
            "login",
            "--user",
            user["email"],
            env={
                **portal,
                "DOCSPACE_PASSWORD": user["password"],
                "DOCSPACE_TOTP_KEY": linked["manualEntryKey"],
            },
        )
        assert code == 0 and session["status"] == "authenticated", session
        print("logged in with the stored key")

        emulator.stdin.close()  # stop the emulator
        emulator.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
