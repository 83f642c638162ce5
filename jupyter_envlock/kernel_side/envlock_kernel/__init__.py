"""jupyter-envlock inside a project kernel: the %dep magic, the %pip warning, and the hint under
a "No module named X" traceback.

Loaded by `kernel_side/bootstrap.py` as an IPython extension, from the kernel_side folder (envlock
itself is not installed in the project env). A kernel start registers the magic and the hooks and
nothing more: what they run (the transport to the server side, the display of progress, the
tracking of imports) is imported at their first use, from this package's own `__path__` (the
bootstrap has taken the folder off sys.path by then, so user code still never imports from it).

Standard library + IPython only; must parse on Python 3.10 (the oldest env Python).
"""

import os

from . import pip_guard

# Set by the provisioner for a project kernel (transport.ENV_PROJECT, ENV_SERVER_COMMAND).
_PROJECT_VARIABLES = ("JUPYTER_ENVLOCK_PROJECT", "JUPYTER_ENVLOCK_SERVER_COMMAND")


def load_ipython_extension(ip):  # noqa: ANN001, ANN201 - IPython's extension hook
    """Register %dep (and the %pip warning) in this kernel."""
    ip.register_magic_function(dep, "line", "dep")
    pip_guard.wrap_pip(ip)
    if all(os.environ.get(name) for name in _PROJECT_VARIABLES):
        _after_first_cell(ip)
        ip.events.register("post_run_cell", _hint_under_missing_import)


def dep(line: str) -> None:
    """%dep: add, remove, list and lock this project's dependencies (`%dep --help`)."""
    from .magic import dep as run

    run(line)


def _after_first_cell(ip) -> None:  # noqa: ANN001 - an IPython shell
    """Once the first cell has run, start the %dep worker in the background (so that the first
    %dep finds it warm); the transport is imported in that thread, not by any cell."""
    import threading

    def post_run_cell(*args: object, **kwargs: object) -> None:
        try:
            ip.events.unregister("post_run_cell", post_run_cell)
        except ValueError:
            return  # already done
        threading.Thread(target=_prestart, name="envlock-worker-start", daemon=True).start()

    ip.events.register("post_run_cell", post_run_cell)


def _prestart() -> None:
    from .transport import CHANNEL

    CHANNEL.prestart()


def _hint_under_missing_import(result) -> None:  # noqa: ANN001 - IPython's ExecutionResult
    """post_run_cell: only a cell that failed loads the hint's code."""
    if getattr(result, "error_in_exec", None) is None:
        return
    from .missing import show_hint

    show_hint(result)
