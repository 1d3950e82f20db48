"""pytest fixtures around ``docspace-tfa emulator`` (registered by the wheel's ``pytest11``
entry point, so installing the wheel is enough; nothing starts until a test asks).

- ``docspace_emulator``: a fresh emulator for each test, so what one test links or changes
  does not leak into the next. Its arguments come from the test's marker:
  ``@pytest.mark.docspace_emulator("--policy", "sms")``.
- ``docspace_emulator_session``: one emulator for the whole session, with the arguments of the
  ``docspace_emulator_args`` fixture (override it in a ``conftest.py``; default none).

Both yield an :class:`docspace_tfa.Emulator`: ``.url``, ``.users``, ``.user(email)``,
``.env(email)``, ``.info``.
"""

from __future__ import annotations

from typing import Iterator, List

import pytest

from .emulator import Emulator

MARKER = "docspace_emulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*args): the arguments of `docspace-tfa emulator` for the "
        "docspace_emulator fixture, e.g. ('--policy', 'sms')",
    )


@pytest.fixture
def docspace_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A fresh ``docspace-tfa emulator`` for this test (arguments from its marker)."""
    marker = request.node.get_closest_marker(MARKER)
    args = marker.args if marker is not None else ()
    with Emulator(*args) as portal:
        yield portal


@pytest.fixture(scope="session")
def docspace_emulator_args() -> List[str]:
    """The arguments of ``docspace_emulator_session``'s emulator; override to change them."""
    return []


@pytest.fixture(scope="session")
def docspace_emulator_session(docspace_emulator_args: List[str]) -> Iterator[Emulator]:
    """One ``docspace-tfa emulator`` shared by every test of the session."""
    with Emulator(*docspace_emulator_args) as portal:
        yield portal
