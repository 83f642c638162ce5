"""Shared fixtures: an offline package world for every test.

Tests never reach a public index. ``local_index`` serves tiny generated wheels plus a wheelhouse
of real kernel-env wheels (downloaded once, the suite's only network use) on 127.0.0.1, and
``envlock_env`` points uv, pip and jupyter_envlock at it with every machine setting scrubbed
(this machine's pip config adds extra indexes and find-links that would leak into resolution).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version
from traitlets.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import support` whatever the rootdir

# Declared once, here: a plugin named in a test module applies to the whole session anyway, and
# which of its autouse fixtures ran then depended on collection order. (tests/ui shadows the
# in-process server fixtures it does not use.)
pytest_plugins = [
    "pytest_jupyter.jupyter_server",
    "kernel_support",
    "manager_support",
    "support.sandbox",
]

from support.index import IndexServer, build_simple_index, publish_wheels  # noqa: E402
from support.isolation import isolate, offline_settings, trust_project  # noqa: E402
from support.server_config import envlock_server_config  # noqa: E402
from support.wheelhouse import ensure_wheelhouse, find_uv  # noqa: E402
from support.wheels import build_failing_sdist, build_wheel  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
KERNEL_PYTHON_MINORS = (10, 11, 12, 13)


def pytest_configure(config: pytest.Config) -> None:
    """No test ever reads or writes the user's own trust store: until a fixture points
    JUPYTER_ENVLOCK_DATA_DIR at the test's folder (``envlock_env``, the sandbox), it points at a
    throwaway folder of this session."""
    import tempfile

    os.environ["JUPYTER_ENVLOCK_DATA_DIR"] = tempfile.mkdtemp(prefix="envlock-test-data-")


# --------------------------------------------------------------------------- the in-process server


@pytest.fixture
def jp_server_config() -> Config:
    """pytest-jupyter's server loads the real extension, as `pip install` does through
    jupyter_server_config.d. A module's variation overrides this fixture, takes it as its argument
    and sets only its own traits (see support/server_config.py)."""
    return envlock_server_config()


# --------------------------------------------------------------------------- caches


@pytest.fixture(scope="session")
def test_cache_dir() -> Path:
    """Where downloads that outlive a session go: ``<repo>/.test-cache`` or $ENVLOCK_TEST_CACHE."""
    path = Path(os.environ.get("ENVLOCK_TEST_CACHE") or REPO / ".test-cache").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def wheelhouse(test_cache_dir: Path, pytestconfig: pytest.Config) -> Path:
    """Real wheels for ipykernel, pip and hatchling; downloaded once, then reused across runs."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    if capture is None:
        return ensure_wheelhouse(test_cache_dir / "wheelhouse")
    with capture.global_and_fixture_disabled():  # show download progress live
        return ensure_wheelhouse(test_cache_dir / "wheelhouse")


@pytest.fixture(scope="session")
def uv_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uv cache for the whole session, so repeated env builds install from it quickly."""
    return tmp_path_factory.mktemp("uv-cache")


# --------------------------------------------------------------------------- tiny wheels


class WheelCatalogue(dict[str, dict[str, Path]]):
    """Normalized project name -> {version: wheel path}; keys accept any spelling of a name."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    def __getitem__(self, name: str) -> dict[str, Path]:
        return super().__getitem__(canonicalize_name(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(canonicalize_name(name))

    def add(self, name: str, version: str, path: Path) -> None:
        """Record a built wheel."""
        self.setdefault(canonicalize_name(name), {})[str(Version(version))] = path

    def path(self, name: str, version: str) -> Path:
        """The wheel file for ``name==version``."""
        return self[name][str(Version(version))]


# name, version, requires, requires_python
TINY_WHEELS: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("tinya", "1.0.0", (), None),
    ("tinya", "1.1.0", (), None),
    ("tinya", "2.0.0", (), None),
    ("tinyb", "1.0.0", ("tinya>=1.1",), None),
    ("tinyc", "1.0.0", ("tinya<1.1",), None),  # conflicts with tinyb
    ("tinyd", "1.0.0", (), None),
    ("tinyd", "1.1.0", (), None),
    ("Mixed_Case.Name", "0.1.0", (), None),
    ("tinypy313", "1.0.0", (), ">=3.13"),
)


@pytest.fixture(scope="session")
def tiny_wheels(tmp_path_factory: pytest.TempPathFactory) -> WheelCatalogue:
    """Generated wheels with known versions and dependency shapes (see TINY_WHEELS)."""
    directory = tmp_path_factory.mktemp("tiny-wheels")
    catalogue = WheelCatalogue(directory)
    for name, version, requires, requires_python in TINY_WHEELS:
        path = build_wheel(directory, name, version, requires, requires_python)
        catalogue.add(name, version, path)
    return catalogue


# --------------------------------------------------------------------------- local index


@dataclass
class LocalIndex:
    """The session's package index on 127.0.0.1: tiny wheels plus the real-wheel wheelhouse.

    It is shared by the whole session: a test that publishes with ``add_wheel`` should use a
    project name of its own (e.g. ``tinypub-<test>``) so other tests resolve what they expect.
    """

    root: Path
    server: IndexServer
    wheel_dir: Path
    published: WheelCatalogue

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/simple``."""
        return self.server.url

    def add_wheel(
        self,
        name: str,
        version: str,
        requires: Sequence[str] = (),
        requires_python: str | None = None,
        upload_time: str | None = None,
    ) -> Path:
        """Build a tiny wheel and publish it (its project page is rewritten in place), uploaded
        now or at ``upload_time`` (RFC 3339, e.g. "2026-07-01T00:00:00Z")."""
        path = build_wheel(self.wheel_dir, name, version, requires, requires_python)
        publish_wheels(self.root, [path], upload_time)
        self.published.add(name, version, path)
        return path

    def add_failing_sdist(self, name: str, version: str, reason: str) -> Path:
        """Publish an sdist (no wheel) of ``name==version`` whose build fails with ``reason``."""
        path = build_failing_sdist(self.wheel_dir, name, version, reason)
        publish_wheels(self.root, [path])
        return path

    def project_page(self, name: str) -> str:
        """The HTML of a project's index page, as served."""
        return (self.root / "simple" / canonicalize_name(name) / "index.html").read_text()

    def extra_server(self) -> IndexServer:
        """Another server on the same files (not started): stop it freely in fault tests."""
        return IndexServer(self.root)


@pytest.fixture(scope="session")
def local_index(
    tiny_wheels: WheelCatalogue,
    wheelhouse: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LocalIndex]:
    """Serve tiny wheels + wheelhouse as a PEP 503 index for the whole session."""
    root = build_simple_index([tiny_wheels.directory, wheelhouse], tmp_path_factory.mktemp("index"))
    published = WheelCatalogue(tmp_path_factory.mktemp("published-wheels"))
    with IndexServer(root) as server:
        yield LocalIndex(
            root=root, server=server, wheel_dir=published.directory, published=published
        )


# --------------------------------------------------------------------------- environment


def _pyenv_pythons() -> dict[str, Path]:
    """Newest pyenv CPython 3.10-3.13 per minor: "3.11" -> its python3.11 executable."""
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return {}
    try:
        out = subprocess.run(
            [pyenv, "versions", "--bare"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        root = subprocess.run(
            [pyenv, "root"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    best: dict[str, tuple[Version, Path]] = {}
    for line in out.split():
        if not re.fullmatch(r"3\.1[0-3]\.\d+", line):
            continue
        minor = ".".join(line.split(".")[:2])
        exe = Path(root) / "versions" / line / "bin" / f"python{minor}"
        if exe.exists() and (minor not in best or Version(line) > best[minor][0]):
            best[minor] = (Version(line), exe)
    return {minor: exe for minor, (_, exe) in sorted(best.items(), key=lambda kv: kv[1][0])}


@pytest.fixture(scope="session")
def pyenv_pythons() -> dict[str, Path]:
    """Python 3.10-3.13 interpreters from pyenv (empty without pyenv): minor -> executable."""
    return _pyenv_pythons()


@dataclass
class EnvlockEnv:
    """What ``envlock_env`` set: subprocesses (uv, jupyter) inherit it from os.environ."""

    index_url: str
    uv_cache_dir: Path
    envlock_cache_dir: Path
    uv: str
    pythons: dict[str, Path] = field(default_factory=dict)
    pyenv_version: str | None = None

    def run_uv(
        self, *args: str, cwd: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run uv in the scrubbed environment, output captured; fail with uv's stderr."""
        proc = subprocess.run([self.uv, *args], cwd=cwd, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"uv {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc


@pytest.fixture(scope="module")
def scrubbed_env(
    local_index: LocalIndex, uv_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """envlock_env for a whole module, so one env serves many cases (the reliability suites);
    unreachable URLs fail at once instead of after 8 s of uv's retries. Yields the env cache."""
    mp = pytest.MonkeyPatch()
    cache = tmp_path_factory.mktemp("envlock-cache")
    isolate(mp, {**offline_settings(local_index.url, uv_cache_dir, cache), "UV_HTTP_RETRIES": "0"})
    yield cache
    mp.undo()


@pytest.fixture
def envlock_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    local_index: LocalIndex,
    uv_cache_dir: Path,
    pyenv_pythons: dict[str, Path],
) -> EnvlockEnv:
    """Scrub machine pip/uv/envlock settings and point everything at the local index."""
    envlock_cache = tmp_path / "envlock-cache"
    settings = offline_settings(local_index.url, uv_cache_dir, envlock_cache, pyenv_pythons)
    isolate(monkeypatch, settings)
    return EnvlockEnv(
        index_url=local_index.url,
        uv_cache_dir=uv_cache_dir,
        envlock_cache_dir=envlock_cache,
        uv=find_uv(),
        pythons=dict(pyenv_pythons),
        pyenv_version=settings.get("PYENV_VERSION"),
    )


# --------------------------------------------------------------------------- projects


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _toml_list(values: Sequence[str]) -> str:
    if not values:
        return "[]"
    return "[\n" + "".join(f"    {_toml_str(v)},\n" for v in values) + "]"


MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Factory writing a project folder with a pyproject.toml; returns the folder.

    ``make_project(name="demo", deps=(), requires_python=">=3.10", groups=None,
    build_system=False, text=None, folder=None)``: ``groups`` maps a dependency-group name to its
    requirements; ``build_system=True`` adds a hatchling build system and an importable package
    (so the project installs as editable); ``text`` is written verbatim instead; ``folder`` is
    the directory (relative to tmp_path, or absolute), by default a new one named after ``name``.
    The project is trusted (in the test's own trust store), as the user's own projects are:
    kernel starts and the panel's actions then work on it; ``trusted=False`` leaves it not.
    """

    def make(
        name: str = "demo",
        deps: Sequence[str] = (),
        requires_python: str | None = ">=3.10",
        groups: Mapping[str, Sequence[str]] | None = None,
        build_system: bool = False,
        text: str | None = None,
        folder: Path | str | None = None,
        trusted: bool = True,
    ) -> Path:
        if folder is None:
            path = tmp_path / name
            n = 1
            while path.exists():
                n += 1
                path = tmp_path / f"{name}-{n}"
        else:
            path = Path(folder) if Path(folder).is_absolute() else tmp_path / folder
        path.mkdir(parents=True, exist_ok=True)
        if text is None:
            lines = []
            if build_system:
                lines += [
                    "[build-system]",
                    'requires = ["hatchling"]',
                    'build-backend = "hatchling.build"',
                    "",
                ]
            lines += ["[project]", f"name = {_toml_str(name)}", 'version = "0.1.0"']
            if requires_python is not None:
                lines.append(f"requires-python = {_toml_str(requires_python)}")
            lines.append(f"dependencies = {_toml_list(list(deps))}")
            if groups:
                lines += ["", "[dependency-groups]"]
                lines += [
                    f"{_toml_str(g)} = {_toml_list(list(reqs))}" for g, reqs in groups.items()
                ]
            text = "\n".join(lines) + "\n"
            if build_system:
                module = canonicalize_name(name).replace("-", "_")
                package = path / module
                package.mkdir(exist_ok=True)
                (package / "__init__.py").write_text(f'"""The {name} project."""\n')
        (path / "pyproject.toml").write_text(text)
        if trusted:
            trust_project(path)
        return path

    return make
