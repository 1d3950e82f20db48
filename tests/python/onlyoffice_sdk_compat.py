"""ONLYOFFICE's own Python SDK (docspace-api-sdk, generated from the server's OpenAPI) as a
second client of `docspace-tfa emulator`: every method of its TFASettingsApi and
AuthenticationApi, each answer deserialized into the SDK's models and its values asserted.

Run by scripts/python_sdk.sh (which installs the pinned SDK in a virtual environment); by
hand: `python3 tests/python/onlyoffice_sdk_compat.py path/to/docspace-tfa`. Prints one line per
case and closes with `N passed, N failed[, N skipped]`; exits 1 when a case failed.

The SDK sends no credential to the `authentication` endpoints (their OpenAPI security is
empty) and knows no `Confirm` header: a signed-in caller passes its token in `_headers`, and
the ticket-guarded calls (setup, validate, setphone) carry the `Confirm` header the login's
`confirmUrl` and `asc_confirm_key_<type>` cookie make, as on a real portal.
"""

import base64
import hashlib
import hmac
import json
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import docspace_api_sdk as sdk
from docspace_api_sdk.exceptions import ApiException
from docspace_api_sdk.models.auth_requests_dto import AuthRequestsDto
from docspace_api_sdk.models.auth_with_code_requests_dto import AuthWithCodeRequestsDto
from docspace_api_sdk.models.confirm_type import ConfirmType
from docspace_api_sdk.models.email_validation_key_model import EmailValidationKeyModel
from docspace_api_sdk.models.mobile_requests_dto import MobileRequestsDto
from docspace_api_sdk.models.tfa_requests_dto import TfaRequestsDto
from docspace_api_sdk.models.tfa_requests_dto_type import TfaRequestsDtoType
from docspace_api_sdk.models.tfa_validate_requests_dto import TfaValidateRequestsDto
from docspace_api_sdk.models.validation_result import ValidationResult

RESULTS = {"passed": 0, "failed": 0, "skipped": 0}
METHODS_CALLED = set()
# The SDK methods only the SMS cases call: left out (and said so) when they are skipped.
SMS_ONLY = {"AuthenticationApi.save_mobile_phone", "AuthenticationApi.send_sms_code"}


def case(name):
    """Runs one named case; an exception or a failed assertion fails it, the rest go on."""

    def run(fn):
        try:
            fn()
        except Skip as skip:
            RESULTS["skipped"] += 1
            print(f"skip  {name}: {skip}")
            return
        except Exception as exc:  # noqa: BLE001 - every failure is reported, not raised
            RESULTS["failed"] += 1
            detail = exc.body if isinstance(exc, ApiException) else exc
            print(f"FAIL  {name}: {type(exc).__name__}: {detail}")
            return
        RESULTS["passed"] += 1
        print(f"ok    {name}")

    return run


class Skip(Exception):
    """A case that cannot run against this emulator (the reason is printed)."""


def all_methods():
    """Every endpoint method of the SDK's TFASettingsApi and AuthenticationApi."""
    names = set()
    for cls in (sdk.TFASettingsApi, sdk.AuthenticationApi):
        for name in dir(cls):
            if name.startswith("_") or name.endswith(("_with_http_info", "_without_preload_content")):
                continue
            if callable(getattr(cls, name)):
                names.add(f"{cls.__name__}.{name}")
    return names


def called(api, method):
    METHODS_CALLED.add(f"{type(api).__name__}.{method}")


def totp(manual_key, at=None):
    """The code an authenticator app shows (RFC 6238, SHA-1, 6 digits, 30 s)."""
    key = base64.b32decode(manual_key.replace(" ", "").upper() + "=" * (-len(manual_key) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def cookie_of(headers, name):
    """The value of cookie `name` among an answer's Set-Cookie headers."""
    values = headers.getlist("Set-Cookie") if hasattr(headers, "getlist") else []
    if not values and headers.get("Set-Cookie"):
        values = [headers.get("Set-Cookie")]
    for value in values:
        first = value.split(";", 1)[0]
        if "=" in first:
            n, v = first.split("=", 1)
            if n.strip() == name:
                return urllib.parse.unquote(v.strip())
    return None


def confirm_header(confirm_url, key=None):
    """The `Confirm` header of a ticket: the confirm URL's query, plus the key when the URL
    has none (TFA links deliver it in a cookie; phone links carry it in the URL)."""
    query = urllib.parse.urlsplit(confirm_url).query
    has_key = any(p.split("=", 1)[0] == "key" for p in query.split("&"))
    return query + (f"&key={urllib.parse.quote(key, safe='')}" if key and not has_key else "")


def raw_get(base, path):
    """A plain GET outside the SDK (the emulator's own routes): (status, JSON or None)."""
    try:
        with urllib.request.urlopen(f"{base}{path}", timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "docspace-tfa"
    emulator = subprocess.Popen(
        [binary, "emulator", "--sms-available"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        info = json.loads(emulator.stdout.readline())
        run_cases(info)
    finally:
        emulator.stdin.close()  # the emulator stops when its stdin closes
        emulator.wait(timeout=10)
    every = all_methods()
    missing = every - METHODS_CALLED
    print(f"methods exercised: {len(METHODS_CALLED)} of {len(every)}")
    if missing - SMS_ONLY:
        RESULTS["failed"] += 1
        print(f"FAIL  every method of the two APIs is exercised: missing {sorted(missing - SMS_ONLY)}")
    elif missing:
        print(f"note  not exercised (their cases were skipped): {sorted(missing)}")
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed, {RESULTS['skipped']} skipped")
    return 1 if RESULTS["failed"] else 0


def run_cases(info):
    base = info["url"]
    users = {u["email"]: u for u in info["users"]}
    owner, user, linked = users["owner@example.com"], users["user@example.com"], users["linked@example.com"]

    def api_client(token=None):
        """An SDK client; with a token, the SDK's own bearer scheme carries it."""
        config = sdk.Configuration(host=base, access_token=token)
        return sdk.ApiClient(config)

    anonymous = api_client()
    auth = sdk.AuthenticationApi(anonymous)
    as_owner = sdk.TFASettingsApi(api_client(owner["apiKey"]))
    state = {}

    def login(person):
        called(auth, "authenticate_me")
        answer = auth.authenticate_me_with_http_info(
            AuthRequestsDto(user_name=person["email"], password=person["password"])
        )
        return answer.data.response, answer.headers

    # ---- AuthenticationApi ------------------------------------------------------------------

    @case("get_is_authentificated: anonymous caller -> 200 false")
    def _():
        called(auth, "get_is_authentificated")
        wrapper = auth.get_is_authentificated()
        assert wrapper.response is False, wrapper
        assert wrapper.status_code == 200, wrapper

    @case("get_is_authentificated: API key -> true")
    def _():
        wrapper = auth.get_is_authentificated(_headers={"Authorization": owner["apiKey"]})
        assert wrapper.response is True, wrapper

    @case("authenticate_me: app not linked -> TfaActivation challenge with tfaKey and cookie")
    def _():
        token, headers = login(owner)
        assert token.tfa is True and token.sms is False, token
        assert token.token is None, token
        assert token.tfa_key and len(token.tfa_key) >= 16, token
        assert "/confirm/TfaActivation?type=TfaActivation&uid=" + owner["id"] in token.confirm_url, token
        key = cookie_of(headers, "asc_confirm_key_TfaActivation")
        assert key, headers
        state["activation"] = (token.confirm_url, key, token.tfa_key)

    @case("check_confirm: the login's TfaActivation ticket -> Ok, isAgent false")
    def _():
        url, key, _ = state["activation"]
        called(auth, "check_confirm")
        dto = auth.check_confirm(
            EmailValidationKeyModel(key=key, type=ConfirmType.TFAACTIVATION, ui_d=owner["id"])
        ).response
        assert dto.result == ValidationResult.Ok, dto
        assert dto.is_agent is False and dto.email is None, dto

    @case("check_confirm: a wrong key -> Invalid")
    def _():
        dto = auth.check_confirm(
            EmailValidationKeyModel(key="1700000000.WRONG", type=ConfirmType.TFAAUTH, ui_d=owner["id"])
        ).response
        assert dto.result == ValidationResult.Invalid, dto

    # ---- TFASettingsApi: setup and validate with the login's ticket ---------------------------

    ticket_api = sdk.TFASettingsApi(anonymous)

    @case("tfa_app_generate_setup_code: the ticket's setup code")
    def _():
        url, key, tfa_key = state["activation"]
        called(ticket_api, "tfa_app_generate_setup_code")
        setup = ticket_api.tfa_app_generate_setup_code(_headers={"Confirm": confirm_header(url, key)}).response
        # The server escapes the account (`Uri.EscapeDataString`, docs/server.md).
        assert setup.account == urllib.parse.quote(owner["email"], safe=""), setup
        assert setup.manual_entry_key.replace(" ", "") == tfa_key.replace(" ", ""), setup
        assert setup.qr_code_setup_image_url.startswith("data:image/png;base64,"), setup
        state["manual_key"] = setup.manual_entry_key

    @case("tfa_validate_auth_code: the first code links the app -> true")
    def _():
        url, key, _ = state["activation"]
        called(ticket_api, "tfa_validate_auth_code")
        wrapper = ticket_api.tfa_validate_auth_code(
            TfaValidateRequestsDto(code=totp(state["manual_key"])),
            _headers={"Confirm": confirm_header(url, key)},
        )
        assert wrapper.response is True, wrapper

    @case("authenticate_me: app linked -> TfaAuth challenge without tfaKey")
    def _():
        token, headers = login(owner)
        assert token.tfa is True and token.tfa_key is None, token
        assert "type=TfaAuth" in token.confirm_url, token
        assert cookie_of(headers, "asc_confirm_key_TfaAuth"), headers

    @case("authenticate_me_from_body_with_code: the code in the body -> a session token")
    def _():
        called(auth, "authenticate_me_from_body_with_code")
        token = auth.authenticate_me_from_body_with_code(
            "any-segment",
            AuthWithCodeRequestsDto(
                user_name=owner["email"], password=owner["password"], code=totp(state["manual_key"])
            ),
        ).response
        assert token.token and token.tfa is True, token
        assert token.expires is not None and token.expires.year >= 2024, token
        state["owner_session"] = token.token

    @case("get_is_authentificated: the new session -> true")
    def _():
        wrapper = auth.get_is_authentificated(_headers={"Authorization": state["owner_session"]})
        assert wrapper.response is True, wrapper

    # ---- TFASettingsApi with a token ---------------------------------------------------------

    @case("get_tfa_settings: sms and app, app enabled for everyone")
    def _():
        called(as_owner, "get_tfa_settings")
        methods = {m.id: m for m in as_owner.get_tfa_settings().response}
        assert set(methods) == {"sms", "app"}, methods
        assert methods["app"].enabled and methods["app"].available, methods
        assert methods["sms"].available and not methods["sms"].enabled, methods
        assert methods["app"].title == "By authenticator app", methods

    @case("get_tfa_confirm_data: the caller's TfaAuth ticket")
    def _():
        called(as_owner, "get_tfa_confirm_data")
        data = as_owner.get_tfa_confirm_data().response
        assert "type=TfaAuth" in data.url, data
        assert data.cookie_name == "asc_confirm_key_TfaAuth" and data.cookie_value, data

    @case("get_tfa_app_codes: five unused backup codes")
    def _():
        called(as_owner, "get_tfa_app_codes")
        codes = as_owner.get_tfa_app_codes().response
        assert len(codes) == 5 and not any(c.is_used for c in codes), codes
        state["codes"] = [c.code for c in codes]

    @case("update_tfa_app_codes: five new codes")
    def _():
        called(as_owner, "update_tfa_app_codes")
        codes = as_owner.update_tfa_app_codes().response
        assert len(codes) == 5 and not any(c.is_used for c in codes), codes
        assert {c.code for c in codes}.isdisjoint(state["codes"]), codes

    @case("unlink_tfa_app: the owner unlinks a member -> empty string, member re-links")
    def _():
        called(as_owner, "unlink_tfa_app")
        wrapper = as_owner.unlink_tfa_app(TfaRequestsDto(id=linked["id"]))
        assert wrapper.response == "", wrapper
        token, _ = login(linked)
        assert token.tfa is True and "TfaActivation" in token.confirm_url, token

    @case("unlink_tfa_app: the caller unlinks its own app -> a TfaActivation URL")
    def _():
        wrapper = as_owner.unlink_tfa_app(TfaRequestsDto(id=owner["id"]))
        assert "/confirm/TfaActivation?type=TfaActivation&uid=" + owner["id"] in wrapper.response, wrapper

    @case("update_tfa_settings: app for everyone -> true, and every session ends")
    def _():
        called(as_owner, "update_tfa_settings")
        wrapper = as_owner.update_tfa_settings(TfaRequestsDto(type=TfaRequestsDtoType.App))
        assert wrapper.response is True, wrapper
        alive = auth.get_is_authentificated(_headers={"Authorization": state["owner_session"]})
        assert alive.response is False, alive

    @case("update_tfa_settings_link: app on -> the caller's confirm URL")
    def _():
        called(as_owner, "update_tfa_settings_link")
        wrapper = as_owner.update_tfa_settings_link(TfaRequestsDto(type=TfaRequestsDtoType.App))
        assert "/confirm/TfaActivation?type=TfaActivation&uid=" + owner["id"] in wrapper.response, wrapper

    @case("update_tfa_settings: none -> false")
    def _():
        wrapper = as_owner.update_tfa_settings(TfaRequestsDto(type=TfaRequestsDtoType.None_))
        assert wrapper.response is False, wrapper

    @case("logout: the session named by the cookie ends; null answer")
    def _():
        token, _ = login(user)
        assert token.token and token.tfa is False and token.sms is False, token
        called(auth, "logout")
        wrapper = auth.logout(_headers={"Cookie": f"asc_auth_key={token.token}"})
        assert wrapper.response is None and wrapper.status_code == 200, wrapper
        alive = auth.get_is_authentificated(_headers={"Authorization": token.token})
        assert alive.response is False, alive

    @case("logout: an anonymous caller -> 200")
    def _():
        wrapper = auth.logout()
        assert wrapper.response is None and wrapper.status_code == 200, wrapper

    # ---- SMS (the emulator's outbox at GET /_emulator/sms) ------------------------------------

    def outbox():
        status, body = raw_get(base, "/_emulator/sms")
        if status == 404:
            raise Skip("this emulator has no SMS outbox (GET /_emulator/sms is 404): SMS not built in")
        assert status == 200, status
        return body["messages"]

    phone = "+123456789"  # 9 digits: the server's phoneNoise is right for these

    @case("save_mobile_phone: the PhoneActivation ticket (checked Ok first) sets the phone and sends a code")
    def _():
        outbox()
        wrapper = as_owner.update_tfa_settings(TfaRequestsDto(type=TfaRequestsDtoType.Sms))
        assert wrapper.response is True, wrapper
        token, headers = login(user)
        assert token.sms is True and "PhoneActivation" in token.confirm_url, token
        key = cookie_of(headers, "asc_confirm_key_PhoneActivation")
        called(auth, "save_mobile_phone")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(token.confirm_url).query))
        checked = auth.check_confirm(
            EmailValidationKeyModel(
                key=query.get("key") or key,
                type=ConfirmType.PHONEACTIVATION,
                enc_email=query.get("encemail"),
            )
        ).response
        assert checked.result == ValidationResult.Ok and checked.is_agent is False, checked
        sent = auth.save_mobile_phone(
            MobileRequestsDto(mobile_phone=phone),
            _headers={"Confirm": confirm_header(token.confirm_url, key)},
        ).response
        assert sent.sms is True and sent.phone_noise == "+1234*6789", sent
        messages = [m for m in outbox() if m["phone"].endswith("123456789")]
        assert messages and messages[-1]["code"].isdigit() and len(messages[-1]["code"]) == 6, messages
        state["sms_code"] = messages[-1]["code"]

    @case("send_sms_code: a resend -> a new code in the outbox")
    def _():
        outbox()
        before = len(outbox())
        called(auth, "send_sms_code")
        sent = auth.send_sms_code(AuthRequestsDto(user_name=user["email"], password=user["password"])).response
        assert sent.sms is True and sent.phone_noise == "+1234*6789", sent
        assert len(outbox()) == before + 1
        state["sms_code"] = outbox()[-1]["code"]

    @case("authenticate_me_from_body_with_code: the SMS code -> a session token")
    def _():
        outbox()
        token = auth.authenticate_me_from_body_with_code(
            "sms",
            AuthWithCodeRequestsDto(user_name=user["email"], password=user["password"], code=state["sms_code"]),
        ).response
        assert token.token and token.sms is True, token


if __name__ == "__main__":
    sys.exit(main())
