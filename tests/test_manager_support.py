"""The uv/Poetry test infrastructure works: real tools, isolated, offline, and the projects they
make are ones the tools themselves accept (``uv lock --check``, ``poetry check --lock``).

The uv and Poetry managers are built on these fixtures, so prove them here: Poetry runs from a
venv of its own with every folder in the test's tmp dir, a repository's poetry.toml cannot move
its envs, the builders' manifests and locks are the tools' own, and nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from support.poetry_tool import POETRY_VERSION
from support.wheelhouse import loads_toml


def _toml(path: Path) -> dict:
    return loads_toml(path.read_text())


def _python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _versions(python: Path, *modules: str) -> dict[str, str | None]:
    """module -> __version__ as imported by ``python`` (None when it is not importable)."""
    code = (
        "import importlib, json, sys\n"
        "out = {}\n"
        "for m in sys.argv[1:]:\n"
        "    try: out[m] = importlib.import_module(m).__dict__.get('__version__', '?')\n"
        "    except ImportError: out[m] = None\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([str(python), "-c", code, *modules], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _poetry_sources(lock: dict) -> set[str]:
    return {pkg["source"]["url"] for pkg in lock["package"] if "source" in pkg}


# --------------------------------------------------------------------------- Poetry itself


def test_poetry_runs_from_its_own_venv_isolated(poetry, poetry_exe, tmp_path) -> None:
    out = poetry.run("--version", cwd=tmp_path).stdout
    assert f"version {POETRY_VERSION}" in out
    assert not Path(poetry_exe).resolve().is_relative_to(Path(sys.prefix).resolve())
    assert importlib.util.find_spec("poetry") is None  # nothing of Poetry in the dev venv

    home = tmp_path / "poetry-home"
    for key, expected in {
        "cache-dir": home / "cache",
        "data-dir": home / "data",
        "virtualenvs.path": home / "virtualenvs",
    }.items():
        assert poetry.run("config", key, cwd=tmp_path).stdout.strip() == str(expected)
    # A setting written by `poetry config` lands in the test's config dir.
    poetry.run("config", "installer.max-workers", "2", cwd=tmp_path)
    assert "max-workers = 2" in (home / "config" / "config.toml").read_text()


def test_repository_poetry_toml_cannot_move_envs(poetry, make_poetry_project, tmp_path) -> None:
    """The fixture's environment variables beat a project's own poetry.toml (Poetry's rule):
    `virtualenvs.create = false` would otherwise install into Poetry's own venv."""
    project = make_poetry_project("local-config", style="pep621", package_mode=False)
    victim = tmp_path / "victim"
    (project / "poetry.toml").write_text(
        f'[virtualenvs]\ncreate = false\nin-project = true\npath = "{victim}"\n'
    )
    get = lambda key: poetry.run("config", key, cwd=project).stdout.strip()  # noqa: E731
    assert (get("virtualenvs.create"), get("virtualenvs.in-project")) == ("true", "false")
    assert get("virtualenvs.path") == str(poetry.virtualenvs)
    poetry.run("sync", cwd=project)
    env = poetry.env_path(project)
    assert env is not None and env.parent == poetry.virtualenvs
    assert not victim.exists() and not (project / ".venv").exists()


def test_no_egress_stops_requests_to_public_indexes(no_egress, envlock_env, tmp_path) -> None:
    """The guard of every fixture here: an index off this machine cannot be reached (the dead
    proxy answers nothing), while the local index still serves."""
    req = tmp_path / "requirements.in"
    req.write_text("tinya\n")
    proc = subprocess.run(
        [envlock_env.uv, "pip", "compile", "--no-config", "--default-index",
         "https://pypi.org/simple", str(req)],
        capture_output=True, text=True, env={**os.environ, "UV_HTTP_RETRIES": "0"}, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "tunnel error" in proc.stderr, proc.stderr  # the CONNECT to the dead proxy
    assert envlock_env.run_uv("pip", "compile", "--no-config", str(req)).returncode == 0


# --------------------------------------------------------------------------- Poetry projects


def test_classic_poetry_project(poetry, make_poetry_project, local_index) -> None:
    project = make_poetry_project(
        "classic-demo", style="classic", deps=["tinya<2"], dev=["tinyd==1.0.0"]
    )
    manifest = _toml(project / "pyproject.toml")
    assert "project" not in manifest
    tool = manifest["tool"]["poetry"]
    assert tool["name"] == "classic-demo"
    assert tool["dependencies"] == {"python": ">=3.10", "tinya": "<2"}
    assert tool["group"]["dev"]["dependencies"] == {"tinyd": "1.0.0"}
    assert tool["source"] == [{"name": "local", "url": local_index.url, "priority": "primary"}]

    proc = poetry.run("check", "--lock", cwd=project)
    assert proc.returncode == 0
    lock = _toml(project / "poetry.lock")
    locked = {pkg["name"]: (pkg["version"], pkg["groups"]) for pkg in lock["package"]}
    assert locked == {"tinya": ("1.1.0", ["main"]), "tinyd": ("1.0.0", ["dev"])}
    assert _poetry_sources(lock) == {local_index.url}
    assert poetry.env_path(project) is None  # the builder makes no env

    poetry.run("sync", cwd=project)
    env = poetry.env_path(project)
    assert env is not None and env.parent == poetry.virtualenvs
    assert _versions(_python(env), "tinya", "tinyd", "classic_demo") == {
        "tinya": "1.1.0", "tinyd": "1.0.0", "classic_demo": "?",
    }  # fmt: skip


def test_pep621_poetry_project_with_groups(poetry, make_poetry_project) -> None:
    project = make_poetry_project(
        "modern-demo", style="pep621", deps=["tinya"], dev=["tinyd"],
        groups={"docs": ["tinyb"]}, package_mode=False,
    )  # fmt: skip
    manifest = _toml(project / "pyproject.toml")
    assert manifest["project"]["name"] == "modern-demo"
    assert manifest["project"]["dependencies"] == ["tinya (>=2.0.0,<3.0.0)"]
    assert manifest["dependency-groups"] == {
        "dev": ["tinyd (>=1.1.0,<2.0.0)"],
        "docs": ["tinyb (>=1.0.0,<2.0.0)"],
    }
    assert manifest["tool"]["poetry"]["package-mode"] is False
    assert "build-system" in manifest  # poetry init writes one even for an application
    assert "All set!" in poetry.run("check", "--lock", cwd=project).stdout

    poetry.run("sync", "--without", "docs", cwd=project)
    env = poetry.env_path(project)
    assert env is not None
    assert _versions(_python(env), "tinya", "tinyd", "tinyb", "modern_demo") == {
        "tinya": "2.0.0", "tinyd": "1.1.0", "tinyb": None, "modern_demo": None,
    }  # fmt: skip


def test_poetry_project_without_its_package_folder(poetry, make_poetry_project) -> None:
    """The issue's repro, with Poetry itself: the dependencies install, the project cannot."""
    project = make_poetry_project(
        "sales-forecast", style="classic", deps=["tinya"], package_folder=False
    )
    proc = poetry.run("sync", cwd=project, check=False)
    assert proc.returncode == 1
    assert "could not be installed: No file/folder found for package sales-forecast" in (
        proc.stdout + proc.stderr
    )
    env = poetry.env_path(project)
    assert env is not None and _versions(_python(env), "tinya") == {"tinya": "2.0.0"}


def test_poetry_projects_are_copied_not_shared(poetry, make_poetry_project, tmp_path) -> None:
    first = make_poetry_project("twin", style="pep621", deps=["tinyd"], package_mode=False)
    second = make_poetry_project("twin", style="pep621", deps=["tinyd"], package_mode=False)
    assert first != second and first.parent == second.parent == tmp_path
    for name in ("pyproject.toml", "poetry.lock"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    poetry.run("sync", cwd=first)
    assert poetry.env_path(first) is not None
    assert poetry.env_path(second) is None  # envs are keyed by path: the copy has none yet


@pytest.mark.slow
def test_poetry_locks_and_installs_ipykernel_offline(
    poetry, make_poetry_project, local_index
) -> None:
    """Poetry resolves one solution for every platform and Python >=3.10: the wheelhouse has
    every file its ipykernel tree needs, so it locks and installs from the local index.

    (A bare `poetry add ipykernel` writes ^7.4.0, the newest for the running Python 3.11, and
    then fails: ipykernel 7.4 needs Python >=3.11 and the project allows 3.10. Hence a range.)"""
    project = make_poetry_project(
        "kernel-tree", style="pep621", deps=["ipykernel>=6"], package_mode=False
    )
    lock = _toml(project / "poetry.lock")
    names = {pkg["name"] for pkg in lock["package"]}
    assert {"ipykernel", "ipython", "pyzmq", "tornado", "appnope", "colorama"} <= names
    assert _poetry_sources(lock) == {local_index.url}
    poetry.run("check", "--lock", cwd=project)
    poetry.run("sync", cwd=project)
    env = poetry.env_path(project)
    assert env is not None
    versions = _versions(_python(env), "ipykernel", "zmq")
    assert all(versions.values()), versions


# --------------------------------------------------------------------------- uv projects


def test_uv_project(make_uv_project, envlock_env, local_index) -> None:
    project = make_uv_project(
        "sales", deps=["tinya<2"], dev=["tinyd"], groups={"docs": ["tinyb"]},
        extras={"plot": ["mixed-case-name"]},
    )  # fmt: skip
    manifest = _toml(project / "pyproject.toml")
    assert manifest["project"]["dependencies"] == ["tinya<2"]
    assert manifest["project"]["optional-dependencies"] == {"plot": ["mixed-case-name>=0.1.0"]}
    assert manifest["dependency-groups"] == {"dev": ["tinyd>=1.1.0"], "docs": ["tinyb>=1.0.0"]}
    assert "tool" not in manifest and "build-system" not in manifest  # a plain uv app
    assert (project / ".python-version").is_file() and not (project / ".venv").exists()

    lock = _toml(project / "uv.lock")
    registries = {p["source"].get("registry") for p in lock["package"]} - {None}
    assert registries == {local_index.url}
    for extra in ((), ("--offline",)):
        assert envlock_env.run_uv("lock", "--check", *extra, cwd=project).returncode == 0

    envlock_env.run_uv("sync", "--locked", cwd=project)
    assert _versions(_python(project / ".venv"), "tinya", "tinyd", "tinyb") == {
        "tinya": "1.1.0", "tinyd": "1.1.0", "tinyb": None,
    }  # fmt: skip


def test_uv_project_with_index_in_manifest(make_uv_project, envlock_env, local_index) -> None:
    project = make_uv_project("pinned-index", deps=["tinyd"], index_in_manifest=True)
    manifest = _toml(project / "pyproject.toml")
    assert manifest["tool"]["uv"]["index"] == [{"url": local_index.url, "default": True}]
    envlock_env.run_uv("lock", "--check", cwd=project)


def test_uv_packaged_project_builds_offline(make_uv_project, envlock_env, local_index) -> None:
    """uv runs its uv_build backend built in: nothing is fetched to build the project."""
    project = make_uv_project("packaged", deps=["tinyd"], package=True, sync=True)
    manifest = _toml(project / "pyproject.toml")
    assert manifest["build-system"]["build-backend"] == "uv_build"
    assert (project / "src" / "packaged" / "__init__.py").is_file()
    envlock_env.run_uv("sync", "--locked", cwd=project)
    assert _versions(_python(project / ".venv"), "packaged", "tinyd") == {
        "packaged": "?", "tinyd": "1.1.0",
    }  # fmt: skip
    assert not any("uv-build" in r for r in local_index.server.requests)


def test_uv_workspace(make_uv_workspace, envlock_env) -> None:
    root = make_uv_workspace("ws")
    assert sorted(p.name for p in (root / "packages").iterdir()) == ["alpha", "beta"]
    root_manifest = _toml(root / "pyproject.toml")
    assert root_manifest["tool"]["uv"]["workspace"]["members"] == [
        "packages/alpha", "packages/beta",
    ]  # fmt: skip
    beta = _toml(root / "packages" / "beta" / "pyproject.toml")
    assert beta["tool"]["uv"]["sources"] == {"alpha": {"workspace": True}}
    assert sorted(p.name for p in root.rglob("uv.lock")) == ["uv.lock"]  # one, at the root
    members = {p["name"]: p["source"] for p in _toml(root / "uv.lock")["package"]}
    assert members["alpha"] == {"editable": "packages/alpha"}
    assert members["ws"] == {"virtual": "."}

    envlock_env.run_uv("lock", "--check", cwd=root / "packages" / "alpha")
    envlock_env.run_uv("sync", "--locked", "--package", "beta", cwd=root)
    assert not (root / "packages" / "beta" / ".venv").exists()
    assert _versions(_python(root / ".venv"), "alpha", "beta", "tinya", "tinyd") == {
        "alpha": "?", "beta": "?", "tinya": "2.0.0", "tinyd": "1.1.0",
    }  # fmt: skip


def test_poetry_made_project_builds_with_uv(make_poetry_project, envlock_env, local_index) -> None:
    """poetry-core comes from the wheelhouse: uv can lock and build a project Poetry made."""
    project = make_poetry_project("hybrid", style="pep621", deps=["tinyd"])
    envlock_env.run_uv("sync", cwd=project)
    assert _versions(_python(project / ".venv"), "hybrid", "tinyd") == {
        "hybrid": "?", "tinyd": "1.1.0",
    }  # fmt: skip
    assert any(r.startswith("/simple/poetry-core/") for r in local_index.server.requests)


# --------------------------------------------------------------------------- other folders


def test_requirements_folder(make_requirements_folder) -> None:
    lines = ["# analysis", "tinya>=1,<3  # core", "TinyD==1.0.0"]
    plain = make_requirements_folder(lines)
    assert sorted(p.name for p in plain.iterdir()) == ["requirements.txt"]
    assert (plain / "requirements.txt").read_text() == "\n".join(lines) + "\n"

    pinned = make_requirements_folder(["tinyb"], compiled=True)
    assert sorted(p.name for p in pinned.iterdir()) == ["requirements.in", "requirements.txt"]
    pins = [ln for ln in (pinned / "requirements.txt").read_text().splitlines() if "==" in ln]
    assert pins == ["tinya==2.0.0", "tinyb==1.0.0"]


@pytest.mark.parametrize(
    ("kind", "files"),
    [
        ("pdm", [".pdm-python", "pdm.lock", "pyproject.toml"]),
        ("hatch", ["hatch.toml", "pyproject.toml"]),
        ("pipenv", ["Pipfile", "Pipfile.lock"]),
        ("conda", ["environment.yml"]),
    ],
)
def test_marker_folders(make_marker_folder, kind, files) -> None:
    folder = make_marker_folder(kind)
    assert sorted(p.name for p in folder.iterdir()) == files
    if "pyproject.toml" in files:
        assert f"{kind}" in _toml(folder / "pyproject.toml")["tool"]
    if kind == "pdm":
        assert _toml(folder / "pdm.lock")["metadata"]["lock_version"] == "4.5.0"
    if kind == "pipenv":
        assert json.loads((folder / "Pipfile.lock").read_text())["_meta"]["pipfile-spec"] == 6


def test_hatch_folder_with_its_pylock(make_marker_folder, local_index) -> None:
    """Hatch's locked envs write a pylock.toml envlock did not write: same name, other owner."""
    folder = make_marker_folder("hatch", hatch_lock=True)
    data = _toml(folder / "pylock.toml")
    assert data["created-by"] == "uv" and "tool" not in data
    lock = Pylock.from_dict(data)
    assert [(p.name, str(p.version)) for p, _ in lock.select()] == [("tinya", "2.0.0")]
    assert all(w["url"].startswith(local_index.url) for p in data["packages"] for w in p["wheels"])
