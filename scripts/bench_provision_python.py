#!/usr/bin/env python3
"""The Python side of scripts/bench_provision.sh: the provisioning flow written with ONLYOFFICE's
Python SDK (`docspace-api-sdk`, pinned by the script), as a user would write it instead of
`docspace-tfa provision`: a sequential loop over the accounts.

  bench_provision_python.py BASE_URL ACCOUNTS_CSV VAULT

For each account (CSV with header `email,password`): log in (`authenticate_me`, the confirm key
from its Set-Cookie), get the setup code with the `Confirm` header (the SDK has no confirm
scheme: `_headers`), write the key to the vault and flush it, log in with the code
(`authenticate_me_from_body_with_code`, which links the app), list the backup codes with the new
token, write the outcome. Prints one JSON line: accounts, linked, wall_s, cpu_s.
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
import urllib.parse

from docspace_api_sdk import ApiClient, Configuration
from docspace_api_sdk.api.authentication.authentication_api import AuthenticationApi
from docspace_api_sdk.api.settings.tfa_settings_api import TFASettingsApi
from docspace_api_sdk.models.auth_requests_dto import AuthRequestsDto
from docspace_api_sdk.models.auth_with_code_requests_dto import AuthWithCodeRequestsDto


def totp(key, now=None):
    secret = base64.b32decode(key.upper() + "=" * (-len(key) % 8))
    step = int((now or time.time()) // 30)
    mac = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def confirm_key(headers, kind):
    for name, value in headers.items():
        if name.lower() != "set-cookie":
            continue
        for part in value.split(","):
            part = part.strip()
            prefix = f"asc_confirm_key_{kind}="
            if part.startswith(prefix):
                return part[len(prefix):].split(";")[0]
    return None


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
        vault.flush()
        os.fsync(vault.fileno())

    linked = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for email, password in accounts:
        login = auth.authenticate_me_with_http_info(
            AuthRequestsDto(user_name=email, password=password))
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(login.data.response.confirm_url).query)
        key = confirm_key(login.headers, "TfaActivation")
        confirm = {"Confirm": f"type=TfaActivation&uid={query['uid'][0]}&key={key}"}
        setup = tfa.tfa_app_generate_setup_code(_headers=confirm).response
        record(email=email, status="key_saved", totpKey=setup.manual_entry_key)
        code = totp(setup.manual_entry_key)
        session = auth.authenticate_me_from_body_with_code(
            code, AuthWithCodeRequestsDto(user_name=email, password=password, code=code)).response
        codes = tfa.get_tfa_app_codes(_headers={"Authorization": f"Bearer {session.token}"}).response
        record(email=email, status="linked", totpKey=setup.manual_entry_key,
               backupCodes=[c.code for c in codes])
        linked += 1
    wall1, cpu1 = time.perf_counter(), time.process_time()
    print(json.dumps({"accounts": len(accounts), "linked": linked,
                      "wall_s": wall1 - wall0, "cpu_s": cpu1 - cpu0}))


if __name__ == "__main__":
    main()
