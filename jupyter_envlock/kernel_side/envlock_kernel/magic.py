"""`%dep`: change this kernel's project from a cell, and make this kernel see the change.

The words go to the server side as they are; it parses, runs and renders them (the same parser
and rendering as `jupyter envlock`). What stays here is what only the kernel can do: progress as
it happens, the answer displayed, the import system told about new packages, and which imported
modules went stale.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.display import display

from . import imports, transport
from .progress import ProgressLine

# Commands whose answer can change this kernel's env (their changes are checked for stale imports).
CHANGING = ("add", "remove", "sync", "lock", "upgrade")


def dep(line: str) -> None:
    """%dep: add, remove, list and lock this project's dependencies (`%dep --help`)."""
    try:
        _dep(line)
    except transport.TransportError as e:
        raise UsageError(str(e)) from None
    except (KeyboardInterrupt, UsageError):
        raise
    except Exception as e:  # a bug here must still read as one message, not a traceback
        raise UsageError(f"%dep failed unexpectedly: {e!r}") from None


def _dep(line: str) -> None:
    if line.strip() == "--debug-worker":  # not in the help: for tests and bug reports
        print(json.dumps(transport.CHANNEL.state()))
        return
    words = line.split()
    changing = bool(words) and words[0] in CHANGING
    before: imports.Modules = {}
    site_dir = imports.site_packages()
    pth_before = imports.pth_files(site_dir) if changing else set()

    def snapshot() -> None:
        if changing:
            before.update(imports.top_level_modules())

    progress = ProgressLine()
    try:
        answer = transport.CHANNEL.send(line, progress, snapshot)
    except BaseException:
        progress.finish(ok=False)
        raise
    progress.finish(ok=answer.get("exit_code") == 0)
    if changing:
        importlib.invalidate_caches()
        imports.activate_new_pth(site_dir, pth_before)
    if answer.get("exit_code") != 0:
        raise UsageError(str(answer.get("text") or "%dep failed").removeprefix("error: "))
    _display(answer)
    if changing:
        _restart_advice(answer.get("result") or {}, before)


def _display(answer: dict[str, Any]) -> None:
    text, markup = str(answer.get("text") or ""), answer.get("html")
    if markup:
        display({"text/plain": text, "text/html": markup}, raw=True)
    elif text:
        print(text)


def _restart_advice(report: dict[str, Any], before: imports.Modules) -> None:
    changes = report.get("changes") or []
    unknown = [
        c
        for c in changes
        if c.get("kind") != "added" and imports.normalize(c["name"]) not in before
    ]
    after = imports.top_level_modules() if unknown else {}  # only for dists the snapshot missed
    stale = imports.stale_imports(changes, before, after)
    if stale:
        described = "; ".join(
            "{} ({}: imported as {})".format(name, kind, ", ".join(mods))
            for name, kind, mods in stale
        )
        print(
            "Restart the kernel to use the new versions: already imported in this kernel: "
            + described
            + ".",
            file=sys.stderr,
            flush=True,
        )
