"""%dep's progress in the notebook: one line updated in place (phase, a bar, the count), then a
short summary whose full log is one click away.

Standard library + IPython only; must parse on Python 3.10.
"""

from __future__ import annotations

import html
import time
from typing import Any

from IPython.display import display

BAR_WIDTH = 20


def bar(done: int, total: int) -> str:
    filled = BAR_WIDTH * min(done, total) // total if total > 0 else 0
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def describe(event: dict[str, Any]) -> str:
    """One event as the line shown: `install  ████████░░░░  8/12  Installed numpy 2.1.0`."""
    phase, message = str(event.get("phase") or ""), str(event.get("message") or "")
    done, total = event.get("done"), event.get("total")
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        return f"{phase:<8} {bar(done, total)} {min(done, total)}/{total}  {message}"
    return f"{phase:<8} {message}"


class ProgressLine:
    """The progress of one %dep command: nothing at all for a command that reports none."""

    def __init__(self) -> None:
        self.handle: Any = None
        self.log: list[str] = []
        self.started = time.monotonic()

    def __call__(self, event: dict[str, Any], line: str) -> None:
        shown = describe(event)
        self.log.append(line.strip() or shown)
        markup = f"<pre class='envlock-progress'>{html.escape(shown)}</pre>"
        self._show({"text/plain": shown, "text/html": markup})

    def finish(self, ok: bool) -> None:
        """The summary line in place of the progress, the log folded under it."""
        if self.handle is None:
            return
        seconds = time.monotonic() - self.started
        steps = len(self.log)
        summary = "{} in {:.1f} s ({} step{})".format(
            "Done" if ok else "Failed", seconds, steps, "" if steps == 1 else "s"
        )
        log = html.escape("\n".join(self.log))
        markup = (
            f"<details class='envlock-log'><summary>{html.escape(summary)} · log</summary>"
            f"<pre>{log}</pre></details>"
        )
        self._show({"text/plain": summary, "text/html": markup})

    def _show(self, bundle: dict[str, str]) -> None:
        if self.handle is None:
            self.handle = display(bundle, raw=True, display_id=True)
        else:
            self.handle.update(bundle, raw=True)
