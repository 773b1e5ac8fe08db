"""The one user-facing error type, and URL redaction so no secret reaches a message."""

from __future__ import annotations

import re

__all__ = ["BenchError", "redact"]


class BenchError(Exception):
    """A problem the user can fix (bad input, unreachable service, refused action).

    The CLI prints its message as one line and exits with status 2; anything
    else that escapes is a bug and keeps its traceback.
    """

    exit_code = 2


_USERINFO_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]*)@")
_PASSWORD_PARAM = re.compile(r"(?i)(password=)[^&\s]*")


def redact(text: str) -> str:
    """Return ``text`` with every URL password (``user:secret@`` or ``password=``) replaced by ``***``.

    Works on whole messages as well as bare URLs, so it can be applied to
    anything on its way to a log, a report or a saved file.
    """
    text = _USERINFO_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _PASSWORD_PARAM.sub(r"\1***", text)

