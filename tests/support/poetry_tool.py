"""A real Poetry for the tests: installed once from PyPI into a venv of its own, run isolated.

Poetry must never go into the dev venv (the server's env, DESIGN.md): the test set-up installs
it, like the wheelhouse, under the shared test cache (``$ENVLOCK_TEST_CACHE/poetry-<version>``),
and every test runs it with its config, cache, data and virtualenvs in the test's own folder.
Poetry takes package sources only from pyproject.toml (``[[tool.poetry.source]]``), over http:
projects made for tests name the local index there.

Run it by hand to pre-fill a CI cache: ``cd tests && python -m support.poetry_tool ../.test-cache``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .wheelhouse import clean_environ, find_uv

POETRY_VERSION = "2.5.1"
MARKER_FILE = ".complete"
# Compiled at install time: PYTHONDONTWRITEBYTECODE=1 (set on these machines) would otherwise
# make every Poetry command compile its ~350 modules again: 3.8 s instead of 1.3 s a call.
_RECORD = {"version": POETRY_VERSION, "bytecode": True}

# A proxy nobody listens on, for every host but this machine: a request that would leave
# 127.0.0.1 fails at once instead of quietly reaching PyPI (uv and Poetry both honour these).
NO_EGRESS = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "all_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}

# What else decides where Poetry installs: an activated venv or conda env is used as the
# project's env (verified with Poetry 2.5.1), so a test must never inherit one.
SCRUBBED = ("VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV")


def poetry_dir(test_cache: Path) -> Path:
    """Where this Poetry version lives under the shared test cache."""
    return Path(test_cache) / f"poetry-{POETRY_VERSION}"


def executable(venv: Path) -> Path:
    """The ``poetry`` script of a venv."""
    if os.name == "nt":
        return venv / "Scripts" / "poetry.exe"
    return venv / "bin" / "poetry"


def _complete(dest: Path) -> bool:
    try:
        data = json.loads((dest / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return False
    return data == {**data, **_RECORD} and executable(dest / "venv").is_file()


def ensure_poetry(dest: Path, quiet: bool = False) -> Path:
    """Install Poetry into ``dest/venv`` once and return its executable; a no-op once complete.

    Safe to call from several processes at once (a file lock serializes them). A run that was
    interrupted leaves no marker, so the next one starts the venv over.
    """
    dest = Path(dest)
    if _complete(dest):
        return executable(dest / "venv")
    dest.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(str(dest / ".lock")):
        if not _complete(dest):
            _install(dest, quiet)
    return executable(dest / "venv")


def _install(dest: Path, quiet: bool) -> None:
    started = time.monotonic()
    venv = dest / "venv"
    (dest / MARKER_FILE).unlink(missing_ok=True)
    shutil.rmtree(venv, ignore_errors=True)
    if not quiet:
        print(f"[poetry] installing poetry=={POETRY_VERSION} from PyPI into {venv}", flush=True)
    env = {**clean_environ(), "UV_PYTHON_DOWNLOADS": "never"}
    for key in SCRUBBED:
        env.pop(key, None)
    uv = find_uv()
    # The tests' own interpreter as base: a Python this machine is known to have.
    for cmd in (
        [uv, "venv", "--no-config", "--quiet", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "--no-config", "--quiet", "--compile-bytecode",
         "--python", str(venv), f"poetry=={POETRY_VERSION}"],
    ):  # fmt: skip
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    elapsed = time.monotonic() - started
    record = {**_RECORD, "seconds": round(elapsed, 1)}
    (dest / MARKER_FILE).write_text(json.dumps(record) + "\n")
    if not quiet:
        print(f"[poetry] complete in {elapsed:.1f} s", flush=True)


def isolated_settings(home: Path) -> dict[str, str]:
    """Environment variables that keep Poetry's every folder under ``home`` and off PyPI.

    Environment variables beat a project's own poetry.toml (a cloned repository's
    ``virtualenvs.create = false`` would make Poetry install into its own venv), so the
    virtualenv settings are pinned here too. Project envs use Poetry's own interpreter unless a
    test says otherwise (``poetry env use PYTHON``), so they never depend on PATH.
    """
    home = Path(home)
    return {
        "POETRY_CONFIG_DIR": str(home / "config"),
        "POETRY_CACHE_DIR": str(home / "cache"),
        "POETRY_DATA_DIR": str(home / "data"),
        "POETRY_VIRTUALENVS_PATH": str(home / "virtualenvs"),
        "POETRY_VIRTUALENVS_CREATE": "true",
        "POETRY_VIRTUALENVS_IN_PROJECT": "false",
        "POETRY_VIRTUALENVS_USE_POETRY_PYTHON": "true",
        "POETRY_NO_INTERACTION": "1",
        "POETRY_REQUESTS_MAX_RETRIES": "0",
        # No keyring lookups (they can block on a desktop session's secret service).
        "POETRY_KEYRING_ENABLED": "false",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        **NO_EGRESS,
    }


@dataclass
class PoetryTool:
    """A Poetry executable plus the settings a fixture applied to os.environ."""

    exe: Path
    index_url: str
    home: Path
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def virtualenvs(self) -> Path:
        """Where Poetry puts project envs (POETRY_VIRTUALENVS_PATH)."""
        return self.home / "virtualenvs"

    def run(
        self, *args: str, cwd: Path, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """``poetry ARGS`` in ``cwd`` with the (isolated) os.environ; fail with Poetry's output."""
        proc = subprocess.run(
            [str(self.exe), "--no-ansi", "--no-interaction", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"poetry {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def env_path(self, project: Path) -> Path | None:
        """``poetry env info --path``: the project's env, or None when it has none yet."""
        proc = self.run("env", "info", "--path", cwd=project, check=False)
        out = proc.stdout.strip()
        return Path(out) if proc.returncode == 0 and out else None


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".test-cache")
    print(ensure_poetry(poetry_dir(target)))
