"""The environment every offline test runs under: this machine's pip/uv settings scrubbed, the
local index and the session's uv cache in their place (the machine's pip.conf and PIP_* point
at folders of their own, see conftest)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

SCRUBBED_PREFIXES = ("PIP_", "UV_", "JUPYTER_ENVLOCK_")


def pyenv_version(pythons: Mapping[str, Path]) -> str | None:
    """PYENV_VERSION listing every pyenv Python, the one running the tests first.

    The pyenv shims (``python3.10`` ...) only resolve for versions named in PYENV_VERSION; the
    first one is also what a bare ``python3`` means (DESIGN.md).
    """
    versions = [exe.parent.parent.name for exe in pythons.values()]
    if not versions:
        return None
    current = f"{sys.version_info.major}.{sys.version_info.minor}."
    first = [v for v in versions if v.startswith(current)]
    return ":".join(first + [v for v in versions if v not in first])


def offline_settings(
    index_url: str,
    uv_cache_dir: Path,
    envlock_cache: Path,
    pythons: Mapping[str, Path] | None = None,
) -> dict[str, str]:
    """uv and pip see only the local index; envs go to `envlock_cache`, and the trust store
    (core/trust.py) to a folder beside it: a test never reads or writes the user's own."""
    settings = {
        "PIP_CONFIG_FILE": os.devnull,
        "UV_CACHE_DIR": str(uv_cache_dir),
        "UV_DEFAULT_INDEX": index_url,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        "JUPYTER_ENVLOCK_CACHE_DIR": str(envlock_cache),
        "JUPYTER_ENVLOCK_DATA_DIR": str(envlock_cache.with_name(envlock_cache.name + "-data")),
    }
    version = pyenv_version(pythons or {})
    if version:
        settings["PYENV_VERSION"] = version
    return settings


def isolate(mp: pytest.MonkeyPatch, settings: Mapping[str, str]) -> None:
    """Scrub this machine's pip/uv/envlock variables, then apply `settings`."""
    for key in list(os.environ):
        if key.startswith(SCRUBBED_PREFIXES) or key == "VIRTUAL_ENV":
            mp.delenv(key)
    for key, value in settings.items():
        mp.setenv(key, value)


def forbid_processes(mp: pytest.MonkeyPatch, what: str) -> None:
    """From now on any process start fails the test: every tool envlock runs goes through
    subprocess, so patched there no caller can escape it. `what` says what must run none."""

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{what} must start no process, not {args[0]!r}")

    mp.setattr(subprocess, "Popen", no_process)
    mp.setattr(subprocess, "run", no_process)


def trust_project(path: Path) -> None:
    """What the user does once for a project of their own (`jupyter envlock trust`), in the
    store JUPYTER_ENVLOCK_DATA_DIR names (a test's own, never the user's): kernel starts from
    the server and the panel's actions then work on it."""
    from jupyter_envlock.core.trust import TrustStore

    TrustStore().trust(path)
