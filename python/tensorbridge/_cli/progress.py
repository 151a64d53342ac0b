"""Progress reporting: a tqdm bar on a terminal, a few plain lines otherwise (logs, CI, pipes)."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any


class Progress:
    """Counts ``total`` steps of ``desc``; use as a context manager and call :meth:`update`.

    On a TTY with tqdm installed it draws a bar (on stderr); otherwise it prints at most one line
    per 10% (and per 5 seconds) to stdout, so logs stay short and readable.
    """

    def __init__(self, total: int, desc: str, unit: str = "it", enabled: bool = True) -> None:
        self.total = max(int(total), 1)
        self.desc = desc
        self.unit = unit
        self.enabled = enabled
        self.n = 0
        self.postfix = ""
        self._bar: Any = None
        self._next_pct = 10
        self._last = time.monotonic()
        if enabled and sys.stderr.isatty():
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=self.total, desc=desc, unit=unit, leave=False, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        """Advances by ``n`` steps."""
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
            return
        if not self.enabled:
            return
        pct = 100 * self.n // self.total
        if pct >= self._next_pct and (time.monotonic() - self._last > 5 or pct >= 100):
            print(f"    {self.desc}: {pct}% ({self.n}/{self.total} {self.unit}){self.postfix}", flush=True)
            self._last = time.monotonic()
        while self._next_pct <= pct:
            self._next_pct += 10

    def set_postfix(self, text: str) -> None:
        """Shows ``text`` (e.g. the current loss) beside the bar."""
        self.postfix = f", {text}"
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def close(self) -> None:
        """Removes the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
