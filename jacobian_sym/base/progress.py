"""One progress line on stderr (``render: 7/24 attention.toml``), rewritten in place with ``\\r``, and only
when a person is watching: nothing is written when the stream is not a terminal (a redirected stderr,
a test, CI), so progress never reaches a file or a captured output."""

from __future__ import annotations

import sys


class Progress:
    """``progress(done, total, what)`` shows ``label: done/total what``; ``close()`` clears the line.

    A callable, so that a long loop below the command line takes it as a plain ``progress=`` argument
    and knows nothing of terminals."""

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.shown = bool(getattr(self.stream, "isatty", lambda: False)())
        self._width = 0

    def __call__(self, done: int, total: int, what: str = "") -> None:
        if not self.shown:
            return
        line = f"{self.label}: {done}/{total} {what}".rstrip()
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        """Erase the line, so that what is printed next starts at the left margin."""
        if self.shown and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
        self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
