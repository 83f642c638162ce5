"""Each tool's project, set up once and then changed, synced or rebuilt on demand.

envlock runs in three ways a user can start it: the console script (`jupyter-envlock`), the
`jupyter` launcher (`jupyter envlock`, which finds `jupyter-envlock` and execs it) and
`python -m jupyter_envlock` (what the magics' fallback calls). uv and Poetry run as installed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from .measure import run, timed
from .world import KERNEL_DEPS, World, pyproject

# How a user starts envlock: label -> argv prefix (the bin folder is the dev environment's).
FORMS = ("console", "launcher", "module")


def envlock_argv(world: World, form: str) -> list[str]:
    if form == "console":
        return [str(world.bin_dir / "jupyter-envlock")]
    if form == "launcher":
        return [str(world.bin_dir / "jupyter"), "envlock"]
    return [sys.executable, "-m", "jupyter_envlock"]


FORM_LABELS = {
    "console": "jupyter-envlock",
    "launcher": "jupyter envlock",
    "module": "python -m jupyter_envlock",
}


def trust(world: World, root: Path) -> None:
    """Trust a project (a user's decision), where the envlock measured has a trust store."""
    argv = envlock_argv(world, "console")
    if run([*argv, "trust", "--help"], root, world.env(), check=False).returncode == 0:
        run([*argv, "trust"], root, world.env())


class EnvlockProject:
    """A project in envlock's own pylock.toml flow (the env lives in envlock's cache)."""

    def __init__(self, world: World, root: Path, deps: Sequence[str]) -> None:
        self.world = world
        self.root = root
        self.deps = tuple(deps)
        self._env_dir: Path | None = None

    @property
    def name(self) -> str:
        return self.root.name

    def argv(self, *args: str, form: str = "console") -> list[str]:
        return [*envlock_argv(self.world, form), *args]

    def run(self, *args: str, form: str = "console") -> float:
        """An envlock command in the project folder (as a user types it there): its wall time."""
        return timed(self.argv(*args, form=form), self.root, self.world.env())

    def setup(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "pyproject.toml").write_text(pyproject(self.name, self.deps))
        self.trust()
        self.run("sync", "-q")

    def trust(self) -> None:
        trust(self.world, self.root)

    def env_python(self) -> Path:
        out = run(self.argv("python"), self.root, self.world.env()).stdout
        return Path(out.strip())

    def drop_env(self) -> None:
        """Discard the env, wherever envlock keeps it (the next sync builds a new one there)."""
        if self._env_dir is None:
            self._env_dir = self.env_python().parents[1]
        self.world.discard(self._env_dir)

    def rebuild(self, env: dict[str, str]) -> float:
        return timed(self.argv("sync", "-q"), self.root, env)


class UvProject:
    """A uv project listing the same packages (envlock's kernel packages included)."""

    def __init__(self, world: World, root: Path, deps: Sequence[str]) -> None:
        self.world = world
        self.root = root
        self.deps = (*deps, *KERNEL_DEPS)

    def uv(self, *args: str) -> list[str]:
        return [self.world.uv, *args]

    def run(self, *args: str) -> float:
        return timed(self.uv(*args), self.root, self.world.env())

    def setup(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "pyproject.toml").write_text(pyproject(self.root.name, self.deps))
        self.run("sync", "--python", sys.executable)

    @property
    def python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"

    def drop_env(self) -> None:
        self.world.discard(self.root / ".venv")

    def rebuild(self, env: dict[str, str], frozen: bool = True) -> float:
        args = ["sync", "--python", sys.executable] + (["--frozen"] if frozen else [])
        return timed(self.uv(*args), self.root, env)


class PoetryProject:
    """A Poetry project on the same index (a primary source), with the same packages."""

    def __init__(self, world: World, root: Path, deps: Sequence[str]) -> None:
        assert world.poetry is not None
        self.world = world
        self.root = root
        self.deps = (*deps, *KERNEL_DEPS)

    def poetry(self, *args: str) -> list[str]:
        return [str(self.world.poetry), "--no-ansi", "--no-interaction", *args]

    def run(self, *args: str, env: dict[str, str] | None = None) -> float:
        return timed(self.poetry(*args), self.root, env or self.world.env())

    def setup(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        source = (
            "\n[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\n"
            f'name = "bench"\nurl = "{self.world.index_url}/"\npriority = "primary"\n'
        )
        (self.root / "pyproject.toml").write_text(pyproject(self.root.name, self.deps, source))
        self.run("install")

    @property
    def python(self) -> Path:
        out = run(self.poetry("env", "info", "--path"), self.root, self.world.env()).stdout
        return Path(out.strip()) / "bin" / "python"

    def drop_env(self) -> None:
        out = run(self.poetry("env", "info", "--path"), self.root, self.world.env(), check=False)
        if out.returncode == 0 and out.stdout.strip():
            self.world.discard(Path(out.stdout.strip()))

    def rebuild(self, env: dict[str, str]) -> float:
        return self.run("install", env=env)


class PipVenv:
    """pip has no lock: add/remove are install/uninstall into a venv; the rebuild installs
    envlock's lock exported as a hash-pinned requirements.txt into a new venv."""

    def __init__(self, world: World, root: Path, deps: Sequence[str]) -> None:
        self.world = world
        self.root = root
        self.deps = (*deps, *KERNEL_DEPS)

    def pip(self, venv: str, *args: str) -> list[str]:
        return [str(self.root / venv / "bin" / "python"), "-m", "pip", *args]

    def run(self, *args: str, env: dict[str, str] | None = None) -> float:
        return timed(self.pip("venv", *args), self.root, env or self.world.env())

    def setup(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        timed([sys.executable, "-m", "venv", str(self.root / "venv")], self.root, self.world.env())
        self.run("install", *self.deps)

    def drop_env(self) -> None:
        self.world.discard(self.root / "fresh")

    def rebuild(self, env: dict[str, str]) -> float:
        fresh = self.root / "fresh"
        took = timed([sys.executable, "-m", "venv", str(fresh)], self.root, env)
        argv = self.pip("fresh", "install", "--require-hashes", "-r", "requirements.txt")
        return took + timed(argv, self.root, env)
