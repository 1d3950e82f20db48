#!/usr/bin/env python3
"""The Python side of the benchmark (examples/bench): the Python example of the API documentation page, timed.

The documentation page ("Connect a TFA authenticator app", Python tab) calls `requests.get` and
`requests.post` without a session, so every call opens a new connection. This script does
exactly that, and the alternatives a Python user could pick, against the benchmark's canned
server. `examples/bench` runs it; it is not meant to be run by hand, but can be:

  bench_python.py loop MODE OP BASE_URL N   N calls in a loop, prints one JSON line
  bench_python.py validate BASE_URL CODE    the page's validate step once (cold start)
  bench_python.py code KEY                  the current TOTP code of a manual key, stdlib only

MODE: requests          the page's example exactly: requests.get/post, no session (a connection per call)
      requests-session  requests.Session: one keep-alive connection
      httpclient        http.client.HTTPConnection kept open: one keep-alive connection
      httpclient-fresh  http.client with a new connection per call (the page's connection
                        pattern without `requests`, for machines that lack it)
OP:   validate (POST settings/tfaapp/validate) or settings (GET settings/tfaapp)

Only the standard library is required; `requests` is used when installed.
"""

import base64
import hashlib
import hmac
import http.client
import json
import struct
import sys
import time
import urllib.parse

API_KEY = "sk-bench"
HEADERS = {
    "Authorization": f"Bearer {API_KEY}",
    "Accept": "application/json",
    "Content-Type": "application/json",
}
VALIDATE = "/api/2.0/settings/tfaapp/validate"
SETTINGS = "/api/2.0/settings/tfaapp"
CODE = "123456"


def have_requests():
    try:
        import requests  # noqa: F401
    except ImportError:
        return False
    return True


# --- the page's functions, verbatim in behaviour (requests, no session) ---------------------


def page_validate(base_url, code, session=None):
    import requests

    http_ = session or requests
    url = f"{base_url}{VALIDATE}"
    payload = {"code": code}
    response = http_.post(url, headers=HEADERS, json=payload)
    if not response.ok:
        return False
    raw = response.json()
    valid = raw.get("response", raw)
    return bool(valid)


def page_settings(base_url, session=None):
    import requests

    http_ = session or requests
    url = f"{base_url}{SETTINGS}"
    response = http_.get(url, headers=HEADERS)
    if not response.ok:
        return None
    raw = response.json()
    return raw.get("response", raw)


# --- the same steps with http.client ---------------------------------------------------------


class HttpClient:
    def __init__(self, base_url, fresh):
        parts = urllib.parse.urlsplit(base_url)
        self.host = parts.hostname
        self.port = parts.port
        self.fresh = fresh
        self.conn = None

    def request(self, method, path, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.conn.request(method, path, body=body, headers=HEADERS)
        response = self.conn.getresponse()
        data = response.read()
        if self.fresh:
            self.conn.close()
            self.conn = None
        if not 200 <= response.status < 300:
            return None
        raw = json.loads(data)
        return raw.get("response", raw)

    def validate(self, code):
        valid = self.request("POST", VALIDATE, json.dumps({"code": code}).encode())
        return bool(valid)

    def settings(self):
        return self.request("GET", SETTINGS)


def make_call(mode, op, base_url):
    if mode in ("requests", "requests-session"):
        import requests

        session = requests.Session() if mode == "requests-session" else None
        if op == "validate":
            return lambda: page_validate(base_url, CODE, session)
        return lambda: page_settings(base_url, session)
    if mode in ("httpclient", "httpclient-fresh"):
        client = HttpClient(base_url, fresh=mode == "httpclient-fresh")
        if op == "validate":
            return lambda: client.validate(CODE)
        return client.settings
    raise SystemExit(f"unknown mode {mode}")


def loop(mode, op, base_url, n):
    call = make_call(mode, op, base_url)
    for _ in range(min(50, n)):
        check(op, call())
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        result = call()
    wall1, cpu1 = time.perf_counter(), time.process_time()
    check(op, result)
    print(json.dumps({"mode": mode, "op": op, "calls": n, "wall_s": wall1 - wall0, "cpu_s": cpu1 - cpu0}))


def check(op, result):
    ok = result is True if op == "validate" else isinstance(result, list) and len(result) == 2
    if not ok:
        raise SystemExit(f"unexpected answer to {op}: {result!r}")


# --- TOTP (RFC 6238, HMAC-SHA1, 6 digits, 30 s), what `docspace-tfa code` does ---------------


def totp(key, now):
    key = key.replace(" ", "").replace("-", "").upper()
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    digest = hmac.new(secret, struct.pack(">Q", now // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def main(argv):
    if len(argv) >= 2 and argv[1] == "has-requests":
        print("yes" if have_requests() else "no")
    elif len(argv) == 6 and argv[1] == "loop":
        loop(argv[2], argv[3], argv[4], int(argv[5]))
    elif len(argv) == 4 and argv[1] == "validate":
        if have_requests():
            valid = page_validate(argv[2], argv[3])
        else:
            valid = HttpClient(argv[2], fresh=True).validate(argv[3])
        print("valid" if valid else "invalid")
        return 0 if valid else 3
    elif len(argv) == 3 and argv[1] == "code":
        print(totp(argv[2], int(time.time())))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
