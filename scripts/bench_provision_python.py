#!/usr/bin/env python3
"""The Python side of scripts/bench_provision.sh: the provisioning flow written with ONLYOFFICE's
Python SDK (`docspace-api-sdk`, pinned by the script), as a user would write it instead of
`docspace-tfa provision`: a sequential loop over the accounts.

  bench_provision_python.py BASE_URL ACCOUNTS_CSV VAULT

The same requests and the same durability as `docspace-tfa provision --jobs 1` (its batches of
16 accounts): for each account of a batch, log in (`authenticate_me`: the first login of an
account whose app is not linked answers with the key, `tfaKey`) and write the key to the vault;
flush the vault once (`fsync`); then for each account, log in with a code from the key
(`authenticate_me_from_body_with_code`, which links the app), list the backup codes with the
new token (`get_tfa_app_codes`) and write the outcome (flushed with the next batch's keys, or at
the end). Prints one JSON line: accounts, linked, wall_s, cpu_s.
"""

import base64
import csv
import hashlib
import hmac
import json
import os
import struct
import sys
import time

from docspace_api_sdk import ApiClient, Configuration
from docspace_api_sdk.api.authentication.authentication_api import AuthenticationApi
from docspace_api_sdk.api.settings.tfa_settings_api import TFASettingsApi
from docspace_api_sdk.models.auth_requests_dto import AuthRequestsDto
from docspace_api_sdk.models.auth_with_code_requests_dto import AuthWithCodeRequestsDto

BATCH = 16


def totp(key, now=None):
    secret = base64.b32decode(key.upper() + "=" * (-len(key) % 8))
    step = int((now or time.time()) // 30)
    mac = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def main():
    base_url, accounts_csv, vault_path = sys.argv[1:4]
    client = ApiClient(Configuration(host=base_url))
    auth = AuthenticationApi(client)
    tfa = TFASettingsApi(client)
    with open(accounts_csv, newline="") as f:
        accounts = [(r["email"], r["password"]) for r in csv.DictReader(f)]
    fd = os.open(vault_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
    vault = os.fdopen(fd, "a")

    def record(**fields):
        vault.write(json.dumps(fields) + "\n")

    def flush():
        vault.flush()
        os.fsync(vault.fileno())

    linked = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for start in range(0, len(accounts), BATCH):
        keyed = []
        for email, password in accounts[start:start + BATCH]:
            login = auth.authenticate_me(AuthRequestsDto(user_name=email, password=password))
            key = login.response.tfa_key
            record(email=email, status="key_saved", totpKey=key)
            keyed.append((email, password, key))
        flush()  # the keys on disk before any code is sent
        for email, password, key in keyed:
            code = totp(key)
            session = auth.authenticate_me_from_body_with_code(
                code, AuthWithCodeRequestsDto(user_name=email, password=password, code=code)).response
            codes = tfa.get_tfa_app_codes(_headers={"Authorization": f"Bearer {session.token}"}).response
            record(email=email, status="linked", totpKey=key, backupCodes=[c.code for c in codes])
            linked += 1
    flush()
    wall1, cpu1 = time.perf_counter(), time.process_time()
    print(json.dumps({"accounts": len(accounts), "linked": linked,
                      "wall_s": wall1 - wall0, "cpu_s": cpu1 - cpu0}))


if __name__ == "__main__":
    main()
