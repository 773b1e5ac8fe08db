"""Whether a person is watching: the one rule that chooses a live progress bar over plain lines (or nothing).

``seed``'s rows bar and ``run``'s matrix bar both follow it: a bar redraws one
line in place, which a terminal shows and a CI log or a pipe turns into noise.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

__all__ = ["interactive"]


def interactive(stream: TextIO | None = None) -> bool:
    """True when ``stream`` (stderr by default) is a terminal and ``CI`` is unset or empty: a bar is then seen."""
    stream = sys.stderr if stream is None else stream
    return stream.isatty() and not os.environ.get("CI")
