"""Under a "No module named X" traceback: which distribution provides X and the `%dep` line that
gets it, asked of the server side (it knows the project's lock, env and index). Nothing is
installed: JupyterLab shows a button for the MIME type, other front ends the text.

Standard library + IPython only; must parse on Python 3.10.
"""

from __future__ import annotations

import importlib.util
import re
import sys

from IPython.display import display

from . import transport

MIME = "application/vnd.jupyter-envlock.missing-import+json"
_NO_MODULE = re.compile(r"No module named '([^']+)'")


def missing_module(error: BaseException | None) -> str | None:
    """The module a failed import named, looking through what the error was raised from (a
    library's "Missing optional dependency" ImportError wraps the ModuleNotFoundError)."""
    for _ in range(5):
        if error is None:
            return None
        if isinstance(error, ModuleNotFoundError) and error.name:
            return error.name
        if isinstance(error, ImportError):  # "cannot import name" carries a name too: not this
            match = _NO_MODULE.search(str(error))
            if match:
                return match.group(1)
        error = error.__cause__ or error.__context__
    return None


def is_absent(module: str) -> bool:
    """Its top-level package cannot be found here (and is not the standard library's)."""
    top = module.split(".")[0]
    if not top.isidentifier() or top in getattr(sys, "stdlib_module_names", ()):
        return False
    try:
        return importlib.util.find_spec(top) is None
    except (ImportError, ValueError):
        return False


def show_hint(result) -> None:  # noqa: ANN001 - IPython's ExecutionResult
    """post_run_cell: the hint under the traceback, when there is one to give."""
    module = missing_module(getattr(result, "error_in_exec", None))
    if module is None or not is_absent(module):
        return
    try:
        answer = transport.CHANNEL.missing_import(module)
    except Exception:  # a hint must never turn into an error of its own
        return
    hint = answer.get("result")
    if answer.get("exit_code") != 0 or not isinstance(hint, dict):
        return
    display({"text/plain": str(answer.get("text") or ""), MIME: hint}, raw=True)
