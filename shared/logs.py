"""What the logs may hold: ids, never addresses. Logs are copied, rotated and kept out of reach of
erasure, so a person's address that reaches one stays there after the person is erased.

Our own log lines name mails, deliveries and accounts by id. Texts we do not write ourselves
(a mail server's answer, a database error that quotes the row it refused) go through ``loggable``.
"""

from __future__ import annotations

import re
import traceback

# Anything shaped like an address, bare or in angle brackets, as servers quote them.
_ADDRESS = re.compile(r"<?[^\s<>\"'@,;:()\[\]=]+@[^\s<>\"',;:()\[\]]+>?")


def loggable(text: str) -> str:
    """The text with every address replaced by ``<adress>``."""
    return _ADDRESS.sub("<adress>", text)


def loggable_exception(exc: BaseException) -> str:
    """An exception with its traceback, as ``log.exception`` would show it, addresses replaced."""
    return loggable("".join(traceback.format_exception(exc)).rstrip())
