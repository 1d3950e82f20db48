"""Runs ``docspace-tfa emulator`` for the length of a ``with`` block.

The emulator prints one JSON line (its URL and seeded users, and whatever fields later
versions add) and serves until its stdin closes. :class:`Emulator` starts it with a pipe on
its stdin, reads that line, and on exit closes the pipe and waits for the process; if the
Python process dies instead, the pipe closes with it and the emulator stops too.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import shutil
import subprocess
import sysconfig
import threading
from typing import Any, Deque, Dict, List, Mapping, Optional

COMMAND = "docspace-tfa"
"""The name of the command the wheel installs."""

_STDERR_LINES = 40


class EmulatorError(RuntimeError):
    """The emulator could not be found, did not start, or did not print its JSON line."""


def _scripts_dirs() -> List[str]:
    """Where pip puts a wheel's scripts for this interpreter: the environment's, then the user's."""
    dirs = [sysconfig.get_path("scripts")]
    try:
        user_scheme = sysconfig.get_preferred_scheme("user")  # Python 3.10+
    except (AttributeError, KeyError):
        user_scheme = "nt_user" if os.name == "nt" else "posix_user"
    try:
        dirs.append(sysconfig.get_path("scripts", user_scheme))
    except KeyError:
        pass
    return [d for d in dirs if d]


def find_executable() -> str:
    """Returns the path of the ``docspace-tfa`` command to run.

    In order: the ``DOCSPACE_TFA`` environment variable; the command this wheel installed
    beside the running interpreter (even when that environment is not activated); the first
    ``docspace-tfa`` on ``PATH``. Raises :class:`EmulatorError` when there is none.
    """
    named = os.environ.get("DOCSPACE_TFA")
    if named:
        return named
    name = COMMAND + (".exe" if os.name == "nt" else "")
    for directory in _scripts_dirs():
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(COMMAND)
    if found:
        return found
    raise EmulatorError(
        f"no {COMMAND} command: install the docspace-tfa wheel into this environment "
        "(pip install docspace-tfa), put the command on PATH, or set DOCSPACE_TFA to its path"
    )


class Emulator:
    """``docspace-tfa emulator`` as a context manager.

    ``Emulator("--policy", "sms")`` passes its arguments to the command (see
    ``docspace-tfa emulator --help``). Entering starts the process and waits for its JSON line
    (at most ``start_timeout`` seconds); leaving closes its stdin and waits for it to exit
    (``stop_timeout`` seconds, then SIGTERM, then SIGKILL).

    Inside the block: :attr:`url`, :attr:`users`, :meth:`user`, :meth:`env`, and :attr:`info`,
    the whole JSON line as parsed (fields this helper does not know pass through).
    """

    def __init__(
        self,
        *args: str,
        executable: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.args: List[str] = [str(a) for a in args]
        self.executable = executable
        self.extra_env: Dict[str, str] = dict(env or {})
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.info: Dict[str, Any] = {}
        self.returncode: Optional[int] = None
        self._process: Optional[subprocess.Popen] = None
        self._stderr: Deque[str] = collections.deque(maxlen=_STDERR_LINES)
        self._threads: List[threading.Thread] = []

    # -- the JSON line -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The emulator's base URL (``http://127.0.0.1:PORT``): the ``DOCSPACE_URL`` to use."""
        return self._running_info()["url"]

    @property
    def users(self) -> List[Dict[str, Any]]:
        """The seeded users: dicts with ``email``, ``password``, ``apiKey``, ``id``, ``role``,
        ``linked`` and ``totpKey`` (the app key of an already linked user, else ``None``)."""
        return self._running_info()["users"]

    def user(self, email: str) -> Dict[str, Any]:
        """The seeded user with this email. Raises ``KeyError`` naming the emails there are."""
        for user in self.users:
            if user.get("email") == email:
                return user
        known = ", ".join(str(u.get("email")) for u in self.users)
        raise KeyError(f"no seeded user {email!r} (the emulator has: {known})")

    def env(self, email: Optional[str] = None) -> Dict[str, str]:
        """Environment variables for the ``docspace-tfa`` command against this emulator:
        ``DOCSPACE_URL``, and with ``email`` that user's ``DOCSPACE_TOKEN`` (their API key).
        Merge it into ``os.environ`` for ``subprocess``: ``{**os.environ, **portal.env(...)}``."""
        variables = {"DOCSPACE_URL": self.url}
        if email is not None:
            variables["DOCSPACE_TOKEN"] = self.user(email)["apiKey"]
        return variables

    def _running_info(self) -> Dict[str, Any]:
        if not self.info:
            raise EmulatorError("the emulator was not started: use `with Emulator() as portal:`")
        return self.info

    # -- the process ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self._process is not None and self._process.poll() is None

    def stderr_tail(self) -> str:
        """The last lines the emulator wrote on stderr (the reason, when it did not start)."""
        return "".join(self._stderr)

    def start(self) -> "Emulator":
        """Starts the emulator and reads its JSON line; :meth:`stop` ends it."""
        if self._process is not None:
            raise EmulatorError("this emulator was already started; make a new Emulator")
        command = [self.executable or find_executable(), "emulator", *self.args]
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, **self.extra_env},
            )
        except OSError as err:
            raise EmulatorError(f"could not run {command[0]}: {err}") from err
        self._process = process
        first_line: "queue.Queue[bytes]" = queue.Queue(maxsize=1)
        self._spawn(self._read_stdout, process, first_line)
        self._spawn(self._read_stderr, process)
        try:
            line = first_line.get(timeout=self.start_timeout)
        except queue.Empty:
            self._end()
            raise EmulatorError(
                f"{command[0]} emulator printed no line within {self.start_timeout} s "
                "(raise start_timeout on a busy machine)"
            ) from None
        if not line:
            code = self._end()
            reason = self.stderr_tail().strip() or "nothing on stderr"
            raise EmulatorError(
                f"{command[0]} emulator exited with {code} before it was ready: {reason}"
            )
        try:
            info = json.loads(line)
        except ValueError:
            info = None
        if not (
            isinstance(info, dict)
            and isinstance(info.get("url"), str)
            and isinstance(info.get("users"), list)
        ):
            self._end()
            # The line holds keys and passwords when it is the real one: not repeated here.
            raise EmulatorError(
                f"{command[0]} emulator's first line ({len(line)} bytes) is not the JSON object "
                "with `url` and `users` this helper reads: is DOCSPACE_TFA another program?"
            )
        self.info = info
        return self

    def stop(self) -> Optional[int]:
        """Closes the emulator's stdin and waits for it to exit; returns its exit code (0 when
        it stopped as asked). Stopping twice, or an emulator never started, does nothing."""
        if self._process is None:
            return self.returncode
        return self._end()

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        # The users' passwords and keys stay out of reprs (test logs, assertion messages).
        where = self.info.get("url") if self.info else None
        state = "running" if self.running else f"stopped, exit {self.returncode}"
        return f"Emulator(url={where!r}, {state})"

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    @staticmethod
    def _read_stdout(process: subprocess.Popen, first_line: "queue.Queue[bytes]") -> None:
        assert process.stdout is not None
        first_line.put(process.stdout.readline())
        # Anything after the line is read and dropped, so a full pipe never blocks the emulator.
        for _ in process.stdout:
            pass

    def _read_stderr(self, process: subprocess.Popen) -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            self._stderr.append(raw.decode("utf-8", "replace"))

    def _end(self) -> Optional[int]:
        """Closes stdin, waits; then SIGTERM, waits; then SIGKILL. Returns the exit code."""
        process, self._process = self._process, None
        if process is None:
            return self.returncode
        try:
            if process.stdin is not None:
                process.stdin.close()
        except OSError:
            pass  # the emulator is already gone: the pipe's read end is closed
        for escalate in (None, process.terminate, process.kill):
            if escalate is not None:
                escalate()
            try:
                process.wait(timeout=self.stop_timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        if process.returncode is None:
            process.wait()  # after SIGKILL
        for thread in self._threads:
            thread.join(timeout=self.stop_timeout)
        self._threads = []
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        self.returncode = process.returncode
        return self.returncode

