"""Tests of the wheel's Python helper, run by scripts/wheel.sh with the wheel installed in a fresh
virtual environment (not from this source tree): the context manager and the pytest fixtures
against the installed `docspace-tfa emulator`, and its failure paths against stand-in commands.
"""

import json
import os
import socket
import subprocess
import sys
import sysconfig
import textwrap
from urllib.parse import urlsplit

import pytest

import docspace_tfa
from docspace_tfa import Emulator, EmulatorError, find_executable

SEEDED = {
    "owner@example.com": "owner",
    "admin@example.com": "admin",
    "user@example.com": "user",
    "linked@example.com": "user",
}


def tfa(portal, email, *args):
    """Runs the installed command with --json against the emulator as `email`."""
    run = subprocess.run(
        [find_executable(), *args, "--json"],
        env={**os.environ, **portal.env(email)},
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode, json.loads(run.stdout)


def refuses_connections(url):
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=5).close()
    except OSError:
        return True
    return False


def test_the_package_and_the_command_come_from_the_installed_wheel():
    scripts = os.path.realpath(sysconfig.get_path("scripts"))
    purelib = os.path.realpath(sysconfig.get_path("purelib"))
    assert os.path.realpath(docspace_tfa.__file__).startswith(purelib + os.sep)
    command = os.path.realpath(find_executable())
    # The venv's scripts directory, where pip put the wheel's binary (not a cargo build's).
    assert os.path.dirname(command) == scripts, command


def test_the_context_manager_yields_the_url_and_the_seeded_users():
    with Emulator() as portal:
        assert portal.running
        assert portal.url.startswith("http://127.0.0.1:")
        assert {u["email"]: u["role"] for u in portal.users} == SEEDED
        linked = portal.user("linked@example.com")
        assert linked["linked"] is True and linked["totpKey"]
        assert portal.user("user@example.com")["linked"] is False
        assert portal.info["url"] == portal.url
        assert portal.env("admin@example.com") == {
            "DOCSPACE_URL": portal.url,
            "DOCSPACE_TOKEN": portal.user("admin@example.com")["apiKey"],
        }


def test_the_emulator_serves_the_command_and_stops_on_exit():
    with Emulator() as portal:
        code, linked = tfa(portal, "user@example.com", "link", "--auto")
        assert code == 0, linked
        assert linked["backupCodes"], linked
        code, again = tfa(portal, "user@example.com", "link", "--auto")
        assert (code, again["error"]["kind"]) == (5, "not_available")
        url = portal.url
    assert not portal.running
    assert portal.returncode == 0  # stopped by its stdin closing, not by a signal
    assert refuses_connections(url)


def test_it_stops_when_the_block_raises():
    with pytest.raises(ZeroDivisionError):
        with Emulator() as portal:
            url = portal.url
            1 / 0
    assert portal.returncode == 0
    assert refuses_connections(url)


def test_arguments_reach_the_emulator():
    # With the policy off, TFA does not apply to anyone: exit 7.
    with Emulator("--policy", "none") as portal:
        code, err = tfa(portal, "user@example.com", "link", "--auto")
        assert (code, err["error"]["kind"]) == (7, "tfa_not_applicable")


def test_a_refused_argument_is_reported_with_the_emulators_words():
    with pytest.raises(EmulatorError) as raised:
        Emulator("--no-such-option").start()
    message = str(raised.value)
    assert "exited with 2 before it was ready" in message
    assert "--no-such-option" in message


def test_an_unknown_user_names_the_seeded_ones():
    with Emulator() as portal:
        with pytest.raises(KeyError) as raised:
            portal.user("nobody@example.com")
    for email in SEEDED:
        assert email in str(raised.value)


def test_the_repr_holds_no_password_or_key():
    with Emulator() as portal:
        shown = repr(portal)
        assert portal.url in shown and "running" in shown
        for user in portal.users:
            assert user["apiKey"] not in shown and user["password"] not in shown
    assert "stopped, exit 0" in repr(portal)


def test_using_it_before_it_starts_says_how():
    with pytest.raises(EmulatorError, match="with Emulator"):
        Emulator().url


# Stand-ins for the command, to reach what the real one does not do on demand. Each is a
# Python script run as `SCRIPT emulator [ARGS]`.
LINE = {"url": "http://127.0.0.1:9", "users": [{"email": "a@example.com", "apiKey": "sk-1"}]}
STAND_INS = [
    pytest.param(
        # A later emulator may add fields (an SMS outbox, …): they pass through.
        f"print(json.dumps({{**{LINE!r}, 'smsOutbox': [], 'version': 2}}), flush=True)\n"
        "sys.stdin.read()",
        None,
        {**LINE, "smsOutbox": [], "version": 2},
        30.0,
        id="unknown fields pass through",
    ),
    pytest.param(
        "sys.stderr.write('error: the port is taken\\n'); sys.exit(1)",
        "exited with 1 before it was ready: error: the port is taken",
        None,
        30.0,
        id="exits before its line",
    ),
    pytest.param(
        "print('listening on 127.0.0.1:9 password=hunter2', flush=True); sys.stdin.read()",
        "is not the JSON object with `url` and `users`",
        None,
        30.0,
        id="prints something else",
    ),
    pytest.param(
        "print(json.dumps({'url': 'http://127.0.0.1:9'}), flush=True); sys.stdin.read()",
        "is not the JSON object with `url` and `users`",
        None,
        30.0,
        id="a line without users",
    ),
    pytest.param(
        "time.sleep(600)",
        "printed no line within 0.5 s",
        None,
        0.5,  # nothing will come: the only case with a short start_timeout
        id="prints nothing",
    ),
]


def stand_in(tmp_path, body):
    script = tmp_path / "docspace-tfa"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys, time\n"
        "assert sys.argv[1] == 'emulator', sys.argv\n" + body + "\n"
    )
    script.chmod(0o755)
    return str(script)


@pytest.mark.skipif(os.name == "nt", reason="stand-ins are scripts with a #! line")
@pytest.mark.parametrize("body, error, info, start_timeout", STAND_INS)
def test_what_the_command_prints_first(tmp_path, body, error, info, start_timeout):
    portal = Emulator(
        executable=stand_in(tmp_path, body), start_timeout=start_timeout, stop_timeout=2
    )
    if error is None:
        with portal:
            assert portal.info == info
            assert portal.user("a@example.com")["apiKey"] == "sk-1"
        assert portal.returncode == 0
    else:
        with pytest.raises(EmulatorError) as raised:
            portal.start()
        assert error in str(raised.value)
        assert "hunter2" not in str(raised.value)
        assert not portal.running


@pytest.mark.skipif(os.name == "nt", reason="stand-ins are scripts with a #! line")
def test_an_emulator_that_ignores_its_stdin_is_terminated(tmp_path):
    body = f"print(json.dumps({LINE!r}), flush=True)\nsys.stdin.read()\ntime.sleep(600)"
    with Emulator(executable=stand_in(tmp_path, body), stop_timeout=0.5) as portal:
        pass
    assert portal.returncode == -15  # SIGTERM, after stdin's close was not enough


def test_docspace_tfa_names_the_command(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCSPACE_TFA", str(tmp_path / "my-docspace-tfa"))
    assert find_executable() == str(tmp_path / "my-docspace-tfa")


# The plugin's fixtures (the wheel's pytest11 entry point loads them: no import here).


def test_the_fixture_gives_a_running_emulator(docspace_emulator):
    assert docspace_emulator.running
    assert {u["email"] for u in docspace_emulator.users} == set(SEEDED)


@pytest.mark.docspace_emulator("--policy", "none")
def test_the_marker_passes_arguments(docspace_emulator):
    code, err = tfa(docspace_emulator, "admin@example.com", "link", "--auto")
    assert (code, err["error"]["kind"]) == (7, "tfa_not_applicable")


def test_each_test_gets_a_fresh_emulator(docspace_emulator):
    # Linked in test_the_emulator_serves_the_command_and_stops_on_exit; fresh here.
    code, linked = tfa(docspace_emulator, "user@example.com", "link", "--auto")
    assert code == 0, linked


def test_the_session_fixture_is_shared(docspace_emulator_session, request):
    again = request.getfixturevalue("docspace_emulator_session")
    assert again is docspace_emulator_session and again.running


def test_the_plugin_is_registered_by_the_wheel(pytestconfig):
    plugin = pytestconfig.pluginmanager.get_plugin("docspace_tfa")
    assert plugin is not None and plugin.__name__ == "docspace_tfa.pytest_plugin"
    assert textwrap.dedent(plugin.__doc__ or "").strip()
