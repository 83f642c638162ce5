"""Files made to look left alone a while: states and listings computed from files changed in the
last two seconds are not kept (the racy rule), so tests of what is kept age them first."""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_envlock.core import environment


def age(*paths: Path) -> None:
    """Move mtimes an hour back."""
    for path in paths:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 3600 * 10**9))


def age_env(env: Path) -> None:
    """An env's state inputs: its packages folders, marker, pyvenv.cfg, and the envs folder."""
    age(*(p for p in environment.site_packages(env) if p.exists()))
    age(env / environment.MARKER, env / "pyvenv.cfg", env.parent)
