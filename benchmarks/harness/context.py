"""One benchmark run: its world, settings, and the projects the scenarios share (made on first
use, so a run that skips a part never pays for its set-up)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .breakdown import ProbeFiles
from .kernels import Kernels
from .measure import log
from .tools import EnvlockProject, PipVenv, PoetryProject, UvProject
from .world import PROJECT_DEPS, SMALL, World, environ, jupyter_env

# Parts a run can leave out (--skip) or keep alone (--only): the scenarios, then what they
# measure besides envlock and uv (Poetry, pip, %dep in a kernel).
SCENARIO_PARTS = ("noop", "changes", "rebuild", "clone", "kernels", "scale", "pypi")
TOOL_PARTS = ("magic", "poetry", "pip")
PARTS = SCENARIO_PARTS + TOOL_PARTS


@dataclass
class Context:
    """`deps`: what every tool's project lists; `package`: the one a change adds and removes."""

    world: World
    runs: int
    parts: set[str]
    scales: tuple[int, ...] = (1, 100, 1000, 5000)
    deps: tuple[str, ...] = PROJECT_DEPS
    package: str = SMALL
    kernels_cache: dict[str, Kernels] = field(default_factory=dict)

    def wants(self, part: str) -> bool:
        return part in self.parts

    @property
    def root(self) -> Path:
        """The folder whose projects get kernels (the spec manager's root)."""
        return self.world.folder("root")

    @cached_property
    def probes(self) -> ProbeFiles:
        return ProbeFiles(self.world.work)

    @cached_property
    def envlock(self) -> EnvlockProject:
        return self._setup(EnvlockProject(self.world, self.root / "bench-envlock", self.deps))

    @cached_property
    def uv(self) -> UvProject:
        """uv's own project, in a terminal (outside the spec manager's root)."""
        return self._setup(UvProject(self.world, self.world.folder("tools") / "bench-uv",
                                     self.deps))  # fmt: skip

    @cached_property
    def poetry(self) -> PoetryProject | None:
        if self.world.poetry is None:
            return None
        return self._setup(PoetryProject(self.world, self.world.folder("tools") / "bench-poetry",
                                         self.deps))  # fmt: skip

    @cached_property
    def pip(self) -> PipVenv:
        return self._setup(PipVenv(self.world, self.world.folder("tools") / "bench-pip",
                                   self.deps))  # fmt: skip

    def _setup(self, project):  # noqa: ANN001, ANN202
        log(f"setting up {project.root.name}")
        project.setup()
        return project

    @contextmanager
    def kernel_environ(self) -> Iterator[None]:
        """os.environ as a server's kernels get it, with private Jupyter folders."""
        with environ(self.world.env(**jupyter_env(self.world.work))):
            yield

    def kernels(self, root: Path | None = None) -> Kernels:
        """Spec managers over `root` (default: the shared root); call inside kernel_environ."""
        root = root or self.root
        key = str(root)
        if key not in self.kernels_cache:
            self.kernels_cache[key] = Kernels(root, self.world.folder("plain-kernels"))
        return self.kernels_cache[key]

    def stop(self) -> None:
        for kernels in self.kernels_cache.values():
            kernels.stop()


def has_module(name: str) -> bool:
    """Whether the code measured has this module (a manager or the trust store not landed)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False
