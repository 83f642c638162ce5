"""Widgets that render: the env's ipywidgets against the front end this Jupyter server has.

A widget is drawn by the server's lab extension (the `jupyterlab_widgets` package, which JupyterLab
and Notebook 7 load), not by the kernel; when the two do not speak the same widget protocol the
output silently reads "Error displaying widget". Which pairs work comes from the packages' own
metadata: every ipywidgets 8 release requires `jupyterlab_widgets~=3.0.N`, and ipywidgets 7.6-7.8
require `jupyterlab_widgets>=1.0.0,<3` (the upper bound added in 7.6.6 and 7.7.2, ipywidgets
PR #3555, once jupyterlab_widgets 3 no longer rendered ipywidgets 7). A major version of
jupyterlab_widgets not in the table is not judged.

This module reads the server side with `importlib.metadata` only: core stays Jupyter-free, and the
process asking (the server, its %dep worker, `jupyter envlock`) is the server's Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .results import WarningDict

if TYPE_CHECKING:
    from packaging.requirements import Requirement

FRONTEND = "jupyterlab_widgets"
KERNEL_PACKAGE = "ipywidgets"
# jupyterlab_widgets major version -> the ipywidgets versions its front end renders.
RENDERS: dict[int, str] = {1: ">=7.6,<8", 3: ">=8,<9"}


def server_frontend_version() -> str | None:
    """The version of jupyterlab_widgets next to this server (None: it has none)."""
    import importlib.metadata  # scans sys.path: only when an env has widgets to judge

    try:
        return importlib.metadata.version(FRONTEND)
    except importlib.metadata.PackageNotFoundError:
        return None


def supported_range(frontend_version: str | None) -> str | None:
    """The ipywidgets versions that `frontend_version` renders, as specifiers (">=8,<9");
    None when unknown."""
    if frontend_version is None:
        return None
    from packaging.version import InvalidVersion, Version

    try:
        return RENDERS.get(Version(frontend_version).major)
    except InvalidVersion:
        return None


def widget_warnings(
    installed: Mapping[str, str], frontend_version: str | None
) -> list[WarningDict]:
    """A warning when the env's ipywidgets is not one the server's front end renders."""
    kernel_version = installed.get(KERNEL_PACKAGE)
    if kernel_version is None:
        return []
    if frontend_version is None:
        message = (
            f"ipywidgets {kernel_version} is installed in this environment, but this Jupyter "
            f"server has no {FRONTEND}, so widgets will not render. Install {FRONTEND} next to "
            "JupyterLab (pip install jupyterlab_widgets)."
        )
        return [_warning(kernel_version, None, message)]
    supported = supported_range(frontend_version)
    if supported is None:
        return []
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion

    try:
        if SpecifierSet(supported).contains(kernel_version, prereleases=True):
            return []
    except InvalidVersion:
        return []
    message = (
        f"ipywidgets {kernel_version} in this environment does not render in this server's "
        f"JupyterLab ({FRONTEND} {frontend_version} renders ipywidgets {supported}). "
        f'Run `%dep add ipywidgets` to pick a version it renders, or `%dep add "ipywidgets{supported}"`.'
    )
    return [_warning(kernel_version, supported, message)]


def _warning(installed: str, supported: str | None, message: str) -> WarningDict:
    return {
        "kind": "widgets",
        "package": KERNEL_PACKAGE,
        "installed": installed,
        "supported": supported,
        "message": message,
    }


def widgets_constraints(
    requirements: Sequence[Requirement], frontend_version: str | None
) -> list[str]:
    """For a bare `ipywidgets` being added: the constraint that keeps the resolution to what
    the server renders (a version the user asked for is theirs: `status` warns instead)."""
    from packaging.utils import canonicalize_name

    from .requirements import is_bare

    asked = any(canonicalize_name(r.name) == KERNEL_PACKAGE and is_bare(r) for r in requirements)
    supported = supported_range(frontend_version)
    return [f"{KERNEL_PACKAGE}{supported}"] if asked and supported else []


def widgets_note(locked_version: str | None, frontend_version: str | None) -> str | None:
    """What `add ipywidgets` says about the version it picked."""
    if locked_version is None:
        return None
    supported = supported_range(frontend_version)
    if supported is not None:
        return (
            f"ipywidgets {locked_version}: the newest version this server's {FRONTEND} "
            f"{frontend_version} renders (ipywidgets {supported})."
        )
    warnings = widget_warnings({KERNEL_PACKAGE: locked_version}, frontend_version)
    return warnings[0]["message"] if warnings else None
