"""The Python side of the docspace-tfa wheel.

The wheel installs the ``docspace-tfa`` command (ONLYOFFICE DocSpace two-factor
authentication, with its DocSpace emulator); this package runs that emulator for tests:
:class:`Emulator` is a context manager, and the pytest plugin (``docspace_tfa.pytest_plugin``,
registered by the wheel) gives the fixtures ``docspace_emulator`` and
``docspace_emulator_session``.
"""

from .emulator import COMMAND, Emulator, EmulatorError, find_executable

__all__ = ["COMMAND", "Emulator", "EmulatorError", "find_executable"]
