"""jupyter-envlock inside a project kernel: the %dep magic, the %pip warning, and the hint under
a "No module named X" traceback.

Loaded by `kernel_side/bootstrap.py` as an IPython extension, from the kernel_side folder (envlock
itself is not installed in the project env). Every submodule is imported here, before the
bootstrap takes that folder off sys.path again.

Standard library + IPython only; must parse on Python 3.10 (the oldest env Python).
"""

from . import imports, magic, missing, pip_guard, progress, transport


def load_ipython_extension(ip):  # noqa: ANN001, ANN201 - IPython's extension hook
    """Register %dep (and the %pip warning) in this kernel."""
    ip.register_magic_function(magic.dep, "line", "dep")
    pip_guard.wrap_pip(ip)
    if transport.in_project_kernel():
        transport.prestart_after_first_cell(ip)
        missing.register(ip)


__all__ = [
    "imports",
    "load_ipython_extension",
    "magic",
    "missing",
    "pip_guard",
    "progress",
    "transport",
]
