"""`jupyter envlock ...` as a separate process, as a terminal, a CI job or a kernel's worker runs it:
the one runner the tests start the command line with.

The child inherits the test's environment (the scrubbed settings of ``envlock_env``, a sandbox's
folders) unless a test passes ``env``; :func:`source_env` is that environment with this checkout
first on PYTHONPATH, for tests that mean this tree's code whatever the venv has installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

# The command line as argv, for the tests that start it otherwise (Popen, a shell script).
ENVLOCK: tuple[str, ...] = (sys.executable, "-m", "jupyter_envlock")


class EnvlockRun(subprocess.CompletedProcess[str]):
    """A finished `jupyter envlock` run: exit code, stdout and stderr as text."""

    def json(self) -> Any:
        """stdout as the one JSON document `--json` promises; an AssertionError that shows what
        was printed instead when it is not one."""
        try:
            return json.loads(self.stdout)
        except ValueError:
            raise AssertionError(
                f"not one JSON document (exit {self.returncode}):\n{self.stdout}\n{self.stderr}"
            ) from None


def run_envlock(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    prefix: Sequence[str] = (),
    check: bool = False,
    errors: str = "strict",
) -> EnvlockRun:
    """`python -m jupyter_envlock ARGS`, output captured. ``prefix`` goes before the command (a
    wrapper such as `unshare`); ``check`` fails the test with stderr on a non-zero exit;
    ``errors="replace"`` for tests whose hostile input may come back as undecodable bytes."""
    proc = subprocess.run(
        [*prefix, *ENVLOCK, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors=errors,
        timeout=timeout,
    )
    run = EnvlockRun(proc.args, proc.returncode, proc.stdout, proc.stderr)
    if check and run.returncode != 0:
        raise AssertionError(
            f"jupyter envlock {' '.join(args)} exited {run.returncode}:\n{run.stderr}"
        )
    return run


def source_env(*folders: Path) -> dict[str, str]:
    """os.environ with ``folders``, then this checkout, first on PYTHONPATH."""
    env = dict(os.environ)
    paths = [*map(str, folders), str(REPO), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return env


def install_kernel_specs(project: Path, prefix: Path) -> Path:
    """`kernels install` of ``project`` into ``prefix``, as a CI job does before nbclient or
    papermill runs a notebook; the folder to put on JUPYTER_PATH."""
    run_envlock(
        "kernels", "install", "--project", str(project), "--prefix", str(prefix), check=True
    )
    return prefix / "share" / "jupyter"
