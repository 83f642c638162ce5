"""Fixtures for projects managed by uv, Poetry and other tools, all offline.

``poetry`` is a real Poetry (installed once by the test set-up into a venv of its own under the
shared test cache, never into the dev venv), isolated in the test's folder; the ``make_*``
fixtures build projects with the tools themselves against the session's ``local_index``. Every
fixture here also routes any request that would leave 127.0.0.1 to a dead proxy, so a test that
reaches for PyPI fails at once. Loaded as a plugin from the root conftest.

    def test_x(make_uv_project, make_poetry_project, poetry, envlock_env):
        uv_proj = make_uv_project("sales", deps=["tinya<2"], dev=["tinyd"])
        poetry_proj = make_poetry_project("forecast", style="classic", deps=["tinya"])
        envlock_env.run_uv("lock", "--check", cwd=uv_proj)
        poetry.run("check", "--lock", cwd=poetry_proj)

PYTEST_DONT_REWRITE
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.isolation import trust_project
from support.poetry_tool import (
    NO_EGRESS,
    SCRUBBED,
    PoetryTool,
    ensure_poetry,
    isolated_settings,
    poetry_dir,
)
from support.tool_projects import PoetryProjects, UvProjects, marker_folder, requirements_folder


def _folder(tmp_path: Path, folder: Path | str | None, name: str) -> Path:
    """``folder`` (relative to tmp_path, or absolute), or a new one named after ``name``."""
    if folder is not None:
        return Path(folder) if Path(folder).is_absolute() else tmp_path / folder
    path, n = tmp_path / name, 1
    while path.exists():
        n += 1
        path = tmp_path / f"{name}-{n}"
    return path


@pytest.fixture
def no_egress(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Requests to anything but 127.0.0.1/localhost go to a proxy nobody listens on."""
    for key, value in NO_EGRESS.items():
        monkeypatch.setenv(key, value)
    return dict(NO_EGRESS)


# --------------------------------------------------------------------------- Poetry


@pytest.fixture(scope="session")
def poetry_exe(test_cache_dir: Path, pytestconfig: pytest.Config) -> Path:
    """Poetry's executable, installed from PyPI once (the set-up's only other network use)."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    if capture is None:
        return ensure_poetry(poetry_dir(test_cache_dir))
    with capture.global_and_fixture_disabled():  # show the one-time install live
        return ensure_poetry(poetry_dir(test_cache_dir))


@pytest.fixture
def poetry(
    poetry_exe: Path,
    envlock_env: Any,
    no_egress: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> PoetryTool:
    """Real Poetry with its config, cache, data and virtualenvs under ``tmp_path/poetry-home``.

    Applied to os.environ (on top of ``envlock_env``), so envlock and every subprocess a test
    starts see the same Poetry settings; machine POETRY_* variables and activated envs go.
    """
    for key in list(os.environ):
        if key.startswith("POETRY_") or key in SCRUBBED:
            monkeypatch.delenv(key)
    home = tmp_path / "poetry-home"
    settings = isolated_settings(home)
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    return PoetryTool(exe=poetry_exe, index_url=envlock_env.index_url, home=home, settings=settings)


@pytest.fixture(scope="session")
def _poetry_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Poetry projects already made this session, by builder arguments (see make_poetry_project)."""
    templates: dict[str, Path] = {}
    templates["__root__"] = tmp_path_factory.mktemp("poetry-templates")
    return templates


MakeFolder = Callable[..., Path]


def _trusted_if(project: Path, trusted: bool) -> Path:
    """The factories' projects are the user's own (trusted, as `make_project`'s are) unless a
    test asks for a stranger's (`trusted=False`)."""
    if trusted:
        trust_project(project)
    return project


@pytest.fixture
def make_poetry_project(
    poetry: PoetryTool, tmp_path: Path, _poetry_templates: dict[str, Path]
) -> MakeFolder:
    """Factory: ``make_poetry_project(name="poetry-demo", style="classic"|"pep621", deps=(),
    dev=(), groups=None, package_mode=True, package_folder=True, requires_python=">=3.10",
    folder=None, fresh=False)`` -> the project folder, locked by Poetry, no env built.

    Poetry costs about a second per command, so a project is made once per session for the
    same arguments and copied (an env is keyed by the project's path, so copies never share
    one). ``fresh=True`` makes it anew, e.g. after the test published new versions.
    """
    builder = PoetryProjects(poetry)

    def make(
        name: str = "poetry-demo",
        folder: Path | str | None = None,
        fresh: bool = False,
        trusted: bool = True,
        **options: Any,
    ) -> Path:
        target = _folder(tmp_path, folder, name)
        key = json.dumps([name, sorted(options.items())], default=list)
        template = _poetry_templates.get(key)
        if fresh or template is None:
            template = _poetry_templates["__root__"] / f"t{len(_poetry_templates)}" / name
            builder.project(template, name=name, **options)
            _poetry_templates[key] = template
        shutil.copytree(template, target, dirs_exist_ok=False)
        return _trusted_if(target, trusted)

    return make


# --------------------------------------------------------------------------- uv


@pytest.fixture
def uv_projects(envlock_env: Any, no_egress: dict[str, str], tmp_path: Path) -> UvProjects:
    """The uv project builder, on the session's local index."""
    return UvProjects(uv=envlock_env.uv, index_url=envlock_env.index_url,
                      scratch=tmp_path / ".uv-builder")  # fmt: skip


@pytest.fixture
def make_uv_project(uv_projects: UvProjects, tmp_path: Path) -> MakeFolder:
    """Factory: ``make_uv_project(name="uv-demo", deps=(), dev=(), groups=None, extras=None,
    package=False, python=None, index_in_manifest=False, sync=False, folder=None)`` -> a uv
    project made by ``uv init`` + ``uv add`` (see UvProjects.project)."""

    def make(
        name: str = "uv-demo",
        folder: Path | str | None = None,
        trusted: bool = True,
        **options: Any,
    ) -> Path:
        made = uv_projects.project(_folder(tmp_path, folder, name), name=name, **options)
        return _trusted_if(made, trusted)

    return make


@pytest.fixture
def make_uv_workspace(uv_projects: UvProjects, tmp_path: Path) -> MakeFolder:
    """Factory: ``make_uv_workspace(name="uv-ws", members={"alpha": ["tinya"], "beta":
    ["alpha", "tinyd"]}, root_deps=(), sync=False, folder=None)`` -> the workspace root."""

    def make(
        name: str = "uv-ws",
        members: dict[str, list[str]] | None = None,
        folder: Path | str | None = None,
        trusted: bool = True,
        **options: Any,
    ) -> Path:
        if members is None:
            members = {"alpha": ["tinya"], "beta": ["alpha", "tinyd"]}
        made = uv_projects.workspace(_folder(tmp_path, folder, name), members, **options)
        if trusted:
            for member in [made, *(made / "packages" / m for m in members)]:
                trust_project(member)
        return made

    return make


# --------------------------------------------------------------------------- other folders


@pytest.fixture
def make_requirements_folder(uv_projects: UvProjects, tmp_path: Path) -> MakeFolder:
    """Factory: ``make_requirements_folder(lines, name="req-demo", compiled=False,
    folder=None)``: a folder with only a requirements.txt; ``compiled=True`` writes the lines to
    requirements.in and lets uv pin requirements.txt from the local index."""

    def make(
        lines: list[str],
        name: str = "req-demo",
        compiled: bool = False,
        folder: Path | str | None = None,
    ) -> Path:
        return requirements_folder(
            _folder(tmp_path, folder, name), lines, uv_projects if compiled else None
        )

    return make


@pytest.fixture
def make_marker_folder(uv_projects: UvProjects, tmp_path: Path) -> MakeFolder:
    """Factory: ``make_marker_folder(kind, name=None, folder=None, hatch_lock=False)`` for kind
    in pdm/hatch/pipenv/conda (see tool_projects.marker_folder)."""

    def make(
        kind: str,
        name: str | None = None,
        folder: Path | str | None = None,
        hatch_lock: bool = False,
        trusted: bool = True,
    ) -> Path:
        name = name or f"{kind}-demo"
        made = marker_folder(
            kind, _folder(tmp_path, folder, name), name, uv_projects if hatch_lock else None
        )
        return _trusted_if(made, trusted and (made / "pyproject.toml").is_file())

    return make
