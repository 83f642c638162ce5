"""Projects as people have them, made by their own tools against the local index.

uv projects and workspaces come from ``uv init`` + ``uv add``, Poetry projects from Poetry
(``poetry init``/``source add``/``add``, or a classic ``[tool.poetry]`` manifest that Poetry
locks): their manifests and locks are exactly what the tools write. Folders of other managers
(PDM, Hatch, Pipenv, conda) and requirements.txt folders are written in the shape those tools
leave, because envlock only has to recognise them.

uv 0.13.9 copies an index given as ``UV_DEFAULT_INDEX`` into the manifest on ``uv add`` (a
``[[tool.uv.index]]`` table); a user's project on PyPI has none. So the uv builders pass the
test index through a uv config file of their own instead (``UV_CONFIG_FILE``, never copied),
unless a test asks for the index in the manifest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from packaging.utils import canonicalize_name

from .poetry_tool import PoetryTool

MANAGER_KINDS = ("pdm", "hatch", "pipenv", "conda")


def _module(name: str) -> str:
    return canonicalize_name(name).replace("-", "_")


def _run(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} failed ({proc.returncode}) in {cwd}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def _new_folder(folder: Path) -> Path:
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty: a builder makes a project from nothing")
    folder.parent.mkdir(parents=True, exist_ok=True)
    return folder


# --------------------------------------------------------------------------- uv


@dataclass
class UvProjects:
    """Make uv projects with real uv. ``scratch`` holds the builder's own uv config file."""

    uv: str
    index_url: str
    scratch: Path

    def environ(self, index_in_manifest: bool = False) -> dict[str, str]:
        """os.environ for the builder's uv runs (see the module docstring)."""
        env = dict(os.environ)
        if index_in_manifest:
            env["UV_DEFAULT_INDEX"] = self.index_url
            return env
        env.pop("UV_DEFAULT_INDEX", None)
        env.pop("UV_INDEX", None)
        self.scratch.mkdir(parents=True, exist_ok=True)
        config = self.scratch / "uv.toml"
        config.write_text(f'[[index]]\nurl = "{self.index_url}"\ndefault = true\n')
        env["UV_CONFIG_FILE"] = str(config)
        return env

    def run(
        self, *args: str, cwd: Path, index_in_manifest: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """``uv ARGS`` as the builders run it."""
        return _run([self.uv, *args], cwd, self.environ(index_in_manifest))

    def project(
        self,
        folder: Path,
        name: str | None = None,
        deps: Sequence[str] = (),
        dev: Sequence[str] = (),
        groups: Mapping[str, Sequence[str]] | None = None,
        extras: Mapping[str, Sequence[str]] | None = None,
        package: bool = False,
        python: str | None = None,
        index_in_manifest: bool = False,
        sync: bool = False,
    ) -> Path:
        """``uv init`` (+ ``uv add`` per kind of dependency), always ending with a uv.lock.

        ``package=True`` gives uv's packaged layout (``src/<name>``, the uv_build backend,
        which uv runs built in, offline); otherwise a virtual project (no build system), as
        ``uv init --no-package`` makes. ``python`` (a version or a path) goes to ``uv init
        --python``; by default the interpreter running the tests. ``sync=True`` lets uv build
        ``.venv`` as a user's ``uv add`` would; by default only the lock is made.
        """
        folder = _new_folder(folder)
        init = ["init", "--no-workspace", "--vcs", "none", "--quiet"]
        init += ["--package" if package else "--no-package"]
        init += ["--python", python or sys.executable]
        if name is not None:
            init += ["--name", name]
        self.run(*init, str(folder), cwd=folder.parent, index_in_manifest=index_in_manifest)
        self._add(folder, deps, dev, groups, extras, sync, index_in_manifest)
        return folder

    def workspace(
        self,
        folder: Path,
        members: Mapping[str, Sequence[str]],
        root_deps: Sequence[str] = (),
        sync: bool = False,
    ) -> Path:
        """A virtual workspace root with library members under ``packages/``.

        ``members`` maps a member's name to its requirements; naming another member makes it a
        workspace dependency (uv writes ``[tool.uv.sources] NAME = { workspace = true }``).
        One uv.lock (and one .venv, when synced) at the root, as uv has it.
        """
        folder = _new_folder(folder)
        self.run(
            "init", "--no-workspace", "--vcs", "none", "--quiet", "--no-package",
            "--python", sys.executable, str(folder), cwd=folder.parent,
        )  # fmt: skip
        for member in members:
            self.run("init", "--lib", "--vcs", "none", "--quiet", "--python", sys.executable,
                     f"packages/{member}", cwd=folder)  # fmt: skip
        for member, requirements in members.items():
            if requirements:
                self.run("add", "--no-sync", "--quiet", "--package", member, *requirements,
                         cwd=folder)  # fmt: skip
        self._add(folder, root_deps, (), None, None, sync, False)
        return folder

    def _add(
        self,
        folder: Path,
        deps: Sequence[str],
        dev: Sequence[str],
        groups: Mapping[str, Sequence[str]] | None,
        extras: Mapping[str, Sequence[str]] | None,
        sync: bool,
        index_in_manifest: bool,
    ) -> None:
        base = ["add", "--quiet"] + ([] if sync else ["--no-sync"])
        calls: list[list[str]] = []
        if deps:
            calls.append([*base, *deps])
        if dev:
            calls.append([*base, "--dev", *dev])
        for group, requirements in (groups or {}).items():
            calls.append([*base, "--group", group, *requirements])
        for extra, requirements in (extras or {}).items():
            calls.append([*base, "--optional", extra, *requirements])
        for args in calls:
            self.run(*args, cwd=folder, index_in_manifest=index_in_manifest)
        if not (folder / "uv.lock").exists() or sync:
            self.run("sync" if sync else "lock", "--quiet", cwd=folder,
                     index_in_manifest=index_in_manifest)  # fmt: skip


# --------------------------------------------------------------------------- Poetry


@dataclass
class PoetryProjects:
    """Make Poetry projects with real Poetry, sourcing packages from the local index only."""

    poetry: PoetryTool

    def project(
        self,
        folder: Path,
        name: str = "poetry-demo",
        style: str = "classic",
        deps: Sequence[str] = (),
        dev: Sequence[str] = (),
        groups: Mapping[str, Sequence[str]] | None = None,
        package_mode: bool = True,
        package_folder: bool = True,
        requires_python: str = ">=3.10",
    ) -> Path:
        """A Poetry 2 project, locked by Poetry (``poetry add --lock`` per kind of dependency).

        ``style="classic"``: ``[tool.poetry]`` name/version/authors and
        ``[tool.poetry.dependencies]`` (Poetry writes its constraints there, groups go to
        ``[tool.poetry.group.G.dependencies]``); Poetry 2 no longer generates this layout, so
        the skeleton is written here as such projects have it. ``style="pep621"``: ``poetry
        init`` (``[project]``; groups become PEP 735 ``[dependency-groups]``). Both get the test
        index as their primary ``[[tool.poetry.source]]`` (Poetry then never asks PyPI).
        ``package_mode=False`` writes ``[tool.poetry] package-mode = false``;
        ``package_folder=False`` leaves out ``<module>/__init__.py`` (the issue's repro: Poetry
        then cannot install the project itself). Nothing is installed: no env is made.
        """
        if style not in ("classic", "pep621"):
            raise ValueError(f"style must be 'classic' or 'pep621', not {style!r}")
        folder = _new_folder(folder)
        folder.mkdir(exist_ok=True)
        run = self.poetry.run
        if style == "classic":
            group_names = (["dev"] if dev else []) + list(groups or {})
            (folder / "pyproject.toml").write_text(
                _classic_manifest(
                    name, requires_python, package_mode, self.poetry.index_url, group_names
                )
            )
        else:
            run("init", "--name", name, "--python", requires_python, cwd=folder)
            run("source", "add", "--priority=primary", "local", self.poetry.index_url,
                cwd=folder)  # fmt: skip
            if not package_mode:
                _set_package_mode_false(folder / "pyproject.toml")
        if package_folder and package_mode:
            package = folder / _module(name)
            package.mkdir(exist_ok=True)
            (package / "__init__.py").write_text(f'"""The {name} project."""\n')
        if deps:
            run("add", "--lock", *deps, cwd=folder)
        if dev:
            run("add", "--lock", "--group", "dev", *dev, cwd=folder)
        for group, requirements in (groups or {}).items():
            run("add", "--lock", "--group", group, *requirements, cwd=folder)
        if not (folder / "poetry.lock").exists():
            run("lock", cwd=folder)
        return folder


def _classic_manifest(
    name: str, requires_python: str, package_mode: bool, index_url: str, groups: Sequence[str]
) -> str:
    """A classic manifest with empty tables for the groups to come: Poetry 2.5's ``add
    --group`` writes ``[tool.poetry.group.G.dependencies]`` only in a project that already has
    such a table, PEP 735 ``[dependency-groups]`` otherwise (even in a classic project)."""
    lines = [
        "[tool.poetry]",
        f"name = {json.dumps(name)}",
        'version = "0.1.0"',
        'description = ""',
        'authors = ["Someone <someone@example.com>"]',
    ]
    if not package_mode:
        lines.append("package-mode = false")
    lines += [
        "",
        "[tool.poetry.dependencies]",
        f"python = {json.dumps(requires_python)}",
        "",
    ]
    for group in groups:
        lines += [f"[tool.poetry.group.{group}.dependencies]", ""]
    lines += [
        "[[tool.poetry.source]]",
        'name = "local"',
        f"url = {json.dumps(index_url)}",
        'priority = "primary"',
    ]
    if package_mode:
        lines += [
            "",
            "[build-system]",
            'requires = ["poetry-core>=2.0.0,<3.0.0"]',
            'build-backend = "poetry.core.masonry.api"',
        ]
    return "\n".join(lines) + "\n"


def _set_package_mode_false(manifest: Path) -> None:
    doc = tomlkit.parse(manifest.read_bytes().decode("utf-8"))
    tool = doc.setdefault("tool", tomlkit.table())
    poetry = tool.setdefault("poetry", tomlkit.table())
    poetry["package-mode"] = False
    manifest.write_bytes(tomlkit.dumps(doc).encode("utf-8"))


# --------------------------------------------------------------------------- other folders


def requirements_folder(
    folder: Path, lines: Sequence[str], uv_projects: UvProjects | None = None
) -> Path:
    """A folder with only a requirements.txt (each line kept as written, comments included).

    With ``uv_projects``, ``lines`` go to requirements.in and uv compiles the pinned
    requirements.txt from the local index (``uv pip compile``), as pip-tools users have it.
    """
    folder = _new_folder(folder)
    folder.mkdir(exist_ok=True)
    text = "".join(f"{line}\n" for line in lines)
    if uv_projects is None:
        (folder / "requirements.txt").write_text(text)
        return folder
    (folder / "requirements.in").write_text(text)
    uv_projects.run(
        "pip", "compile", "--quiet", "--no-header", "requirements.in", "-o", "requirements.txt",
        cwd=folder,
    )  # fmt: skip
    return folder


def marker_folder(
    kind: str, folder: Path, name: str = "other-demo", uv_projects: UvProjects | None = None
) -> Path:
    """A project folder of another manager: the files by which it is recognised.

    - ``pdm``: pyproject.toml with ``[tool.pdm]``, pdm.lock, .pdm-python (what ``pdm lock``
      leaves; the lock in PDM's documented format, lock_version 4.5.0).
    - ``hatch``: pyproject.toml with ``[tool.hatch.envs.default]`` and hatch.toml; with
      ``uv_projects`` also the ``pylock.toml`` Hatch 1.18 writes for ``locked = true``
      environments (made by uv, ``created-by = "uv"``, not a universal lock).
    - ``pipenv``: Pipfile and Pipfile.lock in the shape pipenv 2026.10 writes.
    - ``conda``: environment.yml.
    """
    if kind not in MANAGER_KINDS:
        raise ValueError(f"kind must be one of {MANAGER_KINDS}, not {kind!r}")
    folder = _new_folder(folder)
    folder.mkdir(exist_ok=True)
    project = (
        f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["tinya"]\n'
    )
    if kind == "pdm":
        (folder / "pyproject.toml").write_text(project + "\n[tool.pdm]\ndistribution = false\n")
        (folder / "pdm.lock").write_text(_PDM_LOCK)
        (folder / ".pdm-python").write_text(sys.executable + "\n")
    elif kind == "hatch":
        (folder / "pyproject.toml").write_text(
            project + '\n[tool.hatch.envs.default]\ninstaller = "uv"\nlocked = true\n'
        )
        (folder / "hatch.toml").write_text('[envs.default.scripts]\ntest = "pytest"\n')
        if uv_projects is not None:
            (folder / "requirements.in").write_text("tinya\n")
            uv_projects.run(
                "pip", "compile", "--quiet", "--no-header", "--format", "pylock.toml",
                "requirements.in", "-o", "pylock.toml", cwd=folder,
            )  # fmt: skip
            (folder / "requirements.in").unlink()
    elif kind == "pipenv":
        (folder / "Pipfile").write_text(_PIPFILE)
        (folder / "Pipfile.lock").write_text(json.dumps(_PIPFILE_LOCK, indent=4) + "\n")
    else:
        (folder / "environment.yml").write_text(
            f"name: {name}\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n"
            "  - pip\n  - pip:\n      - tinya\n"
        )
    return folder


_PDM_LOCK = """\
# This file is @generated by PDM.
# It is not intended for manual editing.

[metadata]
groups = ["default"]
strategy = ["inherit_metadata"]
lock_version = "4.5.0"
content_hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

[[metadata.targets]]
requires_python = ">=3.10"

[[package]]
name = "tinya"
version = "2.0.0"
summary = "Tiny test package tinya 2.0.0"
groups = ["default"]
files = []
"""

_PIPFILE = """\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
tinya = "*"

[dev-packages]

[requires]
python_version = "3.11"
"""

_PIPFILE_LOCK = {
    "_meta": {
        "hash": {"sha256": "0" * 64},
        "pipfile-spec": 6,
        "requires": {"python_version": "3.11"},
        "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}],
    },
    "default": {"tinya": {"hashes": [], "index": "pypi", "version": "==2.0.0"}},
    "develop": {},
}
