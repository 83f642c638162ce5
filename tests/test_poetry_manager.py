"""Poetry projects through envlock (issue 10): real Poetry 2.5 from a venv of its own, projects
Poetry locked against the local index, isolated in the test's folder. Afterwards Poetry itself
must accept what envlock left (`poetry check --lock`, a no-op `poetry sync`), the env must be the
one `poetry env info --path` names, and nothing of Poetry's may be redirected by a repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from support.isolation import forbid_processes

from jupyter_envlock.core import operations
from jupyter_envlock.core.environment import installed_distributions
from jupyter_envlock.core.errors import NotADependency, ResolutionError, StaleLockError, ToolMissing
from jupyter_envlock.core.managers import PoetryManager, manager_for
from jupyter_envlock.core.managers.poetry import PoetryConfig
from jupyter_envlock.core.project import find_project
from jupyter_envlock.core.runner import POETRY_VARIABLE

pytestmark = pytest.mark.slow


@pytest.fixture
def with_poetry(poetry, monkeypatch):
    """The test's Poetry, found the way a server setting names it."""
    monkeypatch.setenv(POETRY_VARIABLE, str(poetry.exe))
    return poetry


def poetry_accepts(poetry, project: Path) -> None:
    poetry.run("check", "--lock", cwd=project)
    out = poetry.run("sync", "--dry-run", cwd=project).stdout
    assert "0 installs, 0 updates, 0 removals" in out or "No dependencies to install" in out, out


def files(project: Path) -> dict[str, bytes | None]:
    return {
        name: (project / name).read_bytes() if (project / name).exists() else None
        for name in ("pyproject.toml", "poetry.lock")
    }


def test_classic_project_is_a_poetry_project(with_poetry, make_poetry_project):
    project = make_poetry_project(
        "sales-forecast", folder="analysis", style="classic", deps=["tinya"], dev=["tinyd"]
    )
    found = find_project(project)
    assert isinstance(manager_for(found), PoetryManager)
    assert found.kernel_name == "envlock-sales-forecast"  # [tool.poetry].name, not the folder
    deps = {
        (d.name, d.group): (d.requirement, d.locked) for d in operations.list_dependencies(project)
    }
    assert deps == {
        ("tinya", None): ("tinya ^2.0.0", "2.0.0"),
        ("tinyd", "dev"): ("tinyd ^1.1.0", "1.1.0"),
    }
    status = operations.status(project)
    assert (status.to_dict()["project"]["manager"], status.lock, status.env) == (
        "poetry", "in-sync", "missing",
    )  # fmt: skip

    report = operations.sync(project)
    env = with_poetry.env_path(project)
    assert env is not None and report.sync.path == env  # Poetry's own env for the project
    assert installed_distributions(env).items() >= {"tinya": "2.0.0", "tinyd": "1.1.0"}.items()
    assert not (project / "pylock.toml").exists() and not (project / ".venv").exists()
    poetry_accepts(with_poetry, project)
    assert operations.status(project).state == "in-sync"


def test_env_is_found_without_running_poetry(with_poetry, make_poetry_project, monkeypatch):
    project = make_poetry_project("located", style="pep621", deps=["tinya"], package_mode=False)
    operations.sync(project)
    env = with_poetry.env_path(project)

    forbid_processes(monkeypatch, "reading a Poetry project")
    owner = manager_for(find_project(project))
    assert owner.env_dir() == env
    assert operations.sync(project).sync.noop  # the no-op kernel start runs no Poetry
    assert operations.status(project).state == "in-sync"
    assert [d.locked for d in operations.list_dependencies(project)] == ["2.0.0"]
    assert owner.build_plan().packages == 1
    assert "tinya==2.0.0" in operations.export_requirements(project)


def test_in_project_venv_when_the_repository_asks(with_poetry, make_poetry_project, monkeypatch):
    project = make_poetry_project("inproject", style="pep621", deps=["tinyd"], package_mode=False)
    (project / "poetry.toml").write_text("[virtualenvs]\nin-project = true\n")
    monkeypatch.delenv("POETRY_VIRTUALENVS_IN_PROJECT")
    report = operations.sync(project)
    assert report.sync.path == project / ".venv" == with_poetry.env_path(project)


def test_missing_package_folder_is_not_built(with_poetry, make_poetry_project):
    """The issue's repro: a classic project whose package folder does not exist."""
    project = make_poetry_project(
        "sales-forecast", style="classic", deps=["tinya"], package_folder=False
    )
    events = []
    report = operations.sync(project, progress=events.append)
    assert installed_distributions(report.sync.path).get("tinya") == "2.0.0"
    messages = " ".join(e.message for e in events)
    assert "not installed" in messages and "Traceback" not in messages
    assert operations.manager(project).build_plan().editable is False


def test_add_and_remove_run_poetry(with_poetry, make_poetry_project):
    project = make_poetry_project("poetry-edit", style="classic", deps=["tinya"], dev=["tinyd"])
    operations.sync(project)
    before = files(project)

    report = operations.add(project, ["tinyb>=1"])
    assert [(e.kind, e.name) for e in report.edits] == [("added", "tinyb")]
    assert [(c.name, c.kind) for c in report.changes] == [("tinyb", "added")]
    manifest = tomllib.loads((project / "pyproject.toml").read_text())
    assert manifest["tool"]["poetry"]["dependencies"]["tinyb"] == ">=1"  # Poetry's own style
    assert installed_distributions(report.sync.path)["tinyb"] == "1.0.0"
    poetry_accepts(with_poetry, project)

    report = operations.add(project, ["tinyd"], group="dev")  # already there: unchanged
    poetry_accepts(with_poetry, project)

    report = operations.remove(project, ["tinyb"])
    assert [(e.kind, e.name) for e in report.edits] == [("removed", "tinyb")]
    assert "tinyb" not in installed_distributions(report.sync.path)
    assert files(project) == before
    poetry_accepts(with_poetry, project)

    with pytest.raises(NotADependency):
        operations.remove(project, ["tinyq"])
    assert files(project) == before


def test_failed_add_changes_no_file(with_poetry, make_poetry_project):
    project = make_poetry_project("poetry-fail", style="pep621", deps=["tinyb"], package_mode=False)
    before = files(project)
    with pytest.raises(ResolutionError) as caught:
        operations.add(project, ["tinyc"])
    assert "version solving failed" in caught.value.details
    assert files(project) == before


def test_groups_of_a_pep621_project(with_poetry, make_poetry_project):
    project = make_poetry_project(
        "poetry-groups", style="pep621", deps=["tinya"], dev=["tinyd"], package_mode=False
    )
    operations.add(project, ["tinyb"], group="docs")
    manifest = tomllib.loads((project / "pyproject.toml").read_text())
    assert manifest["dependency-groups"]["docs"] == ["tinyb (>=1.0.0,<2.0.0)"]
    env = operations.status(project).env_path
    assert {"tinya", "tinyd", "tinyb"} <= installed_distributions(Path(env)).keys()
    poetry_accepts(with_poetry, project)


def test_hand_edit_is_seen_stale_then_relocked(with_poetry, make_poetry_project):
    project = make_poetry_project("poetry-hand", style="classic", deps=["tinya"])
    operations.sync(project)
    manifest = project / "pyproject.toml"
    manifest.write_text(
        manifest.read_text().replace('tinya = "^2.0.0"', 'tinya = "^2.0.0"\ntinyd = "*"')
    )
    assert operations.status(project).lock == "stale"  # Poetry's content-hash, in-process
    with pytest.raises(StaleLockError, match="poetry lock"):
        operations.sync(project, stale="error")
    report = operations.sync(project)
    assert report.relocked and [c.name for c in report.changes] == ["tinyd"]
    poetry_accepts(with_poetry, project)


def test_repository_cannot_redirect_poetry(with_poetry, make_poetry_project, tmp_path, monkeypatch):
    """A cloned poetry.toml (create = false, a path of its own) and an activated venv must not
    make Poetry install anywhere but the project's env."""
    project = make_poetry_project("redirect", style="pep621", deps=["tinya"], package_mode=False)
    victim = tmp_path / "victim"
    (project / "poetry.toml").write_text(f'[virtualenvs]\ncreate = false\npath = "{victim}"\n')
    activated = tmp_path / "activated"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(activated)], check=True)
    monkeypatch.setenv("VIRTUAL_ENV", str(activated))
    monkeypatch.setenv("CONDA_PREFIX", str(activated))
    # the user's own settings, as a config.toml would have them (not the fixture's variables)
    for key in ("POETRY_VIRTUALENVS_PATH", "POETRY_VIRTUALENVS_CREATE"):
        monkeypatch.delenv(key)
    config = Path(os.environ["POETRY_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    mine = tmp_path / "my-envs"
    (config / "config.toml").write_text(f'[virtualenvs]\npath = "{mine}"\n')
    assert PoetryConfig.for_project(project).virtualenvs_path == mine

    report = operations.sync(project)
    assert report.sync.path.parent == mine
    assert installed_distributions(report.sync.path)["tinya"] == "2.0.0"
    assert not victim.exists()
    assert installed_distributions(activated) == {}
    assert "tinya" not in installed_distributions(with_poetry.exe.parent.parent)


def test_missing_poetry_is_said_with_the_install_command(
    make_poetry_project, poetry, monkeypatch, tmp_path
):
    project = make_poetry_project("no-tool", style="classic", deps=["tinya"])
    monkeypatch.delenv(POETRY_VARIABLE, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / ".local" / "share"))
    status = operations.status(project)
    assert status.lock == "in-sync"  # read without Poetry
    assert any("pipx install poetry" in n for n in status.notes)
    before = files(project)
    for action in (
        lambda: operations.sync(project),
        lambda: operations.add(project, ["tinyd"]),
        lambda: operations.remove(project, ["tinya"]),
    ):
        with pytest.raises(ToolMissing, match="pipx install poetry"):
            action()
    assert files(project) == before


def test_poetry_is_found_where_its_installers_put_it(
    make_poetry_project, poetry, monkeypatch, tmp_path
):
    project = make_poetry_project("found", style="pep621", deps=["tinyd"], package_mode=False)
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "poetry").symlink_to(poetry.exe)  # pipx / install-poetry.py
    monkeypatch.delenv(POETRY_VARIABLE, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin") + os.pathsep + "/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(home))
    assert operations.status(project).notes == []
    report = operations.sync(project)
    assert installed_distributions(report.sync.path)["tinyd"] == "1.1.0"


def test_extras_of_a_poetry_project(with_poetry, make_poetry_project):
    project = make_poetry_project(
        "poetry-extras", style="pep621", deps=["tinya"], package_mode=False
    )
    operations.add(project, ["tinyd"], extra="plot")
    manifest = tomllib.loads((project / "pyproject.toml").read_text())
    assert list(manifest["project"]["optional-dependencies"]) == ["plot"]
    deps = {(d.name, d.extra) for d in operations.list_dependencies(project)}
    assert deps == {("tinya", None), ("tinyd", "plot")}
    poetry_accepts(with_poetry, project)
    operations.remove(project, ["tinyd"])
    assert {d.name for d in operations.list_dependencies(project)} == {"tinya"}
    poetry_accepts(with_poetry, project)


def test_an_add_in_a_synced_env_runs_poetry_once(with_poetry, make_poetry_project, monkeypatch):
    """%dep add does what `poetry add` does: one Poetry run locks and installs what it added; the
    env is then checked in-process (a `poetry sync` runs only when it differs from the lock)."""
    from jupyter_envlock.core import runner

    project = make_poetry_project("poetry-once", style="pep621", deps=["tinya"], package_mode=False)
    operations.sync(project)
    ran: list[list[str]] = []
    real = runner.run_process
    monkeypatch.setattr(
        runner,
        "run_process",
        lambda tool, argv, *a, **k: ran.append(list(argv)) or real(tool, argv, *a, **k),
    )
    report = operations.add(project, ["tinyd"])
    assert [argv[3] for argv in ran] == ["add"]  # poetry --no-ansi --no-interaction add ...
    assert report.sync is not None and "tinyd==1.1.0" in report.sync.installed
    assert operations.sync(project).sync.noop
    poetry_accepts(with_poetry, project)


def test_upgrade_and_outdated_of_a_poetry_project(with_poetry, make_poetry_project, local_index):
    pub, other = "tinypub-poetryup", "tinypub-poetrykept"
    for name in (pub, other):
        local_index.add_wheel(name, "1.0.0")
    project = make_poetry_project("poetry-up", style="pep621", deps=[f"{pub}>=1", f"{other}>=1"],
                                  package_mode=False, fresh=True)  # fmt: skip
    operations.sync(project)
    for name in (pub, other):
        local_index.add_wheel(name, "1.1.0")
    found = {e["name"]: (e["locked"], e["latest"]) for e in operations.outdated(project).outdated}
    assert found[pub] == ("1.0.0", "1.1.0")  # asked from the project's Poetry source
    report = operations.upgrade(project, [pub])
    assert [(c.name, c.old, c.new) for c in report.changes] == [(pub, "1.0.0", "1.1.0")]
    versions = operations.manager(project).locked_versions()
    assert versions[pub] == "1.1.0" and versions[other] == "1.0.0"
    assert installed_distributions(report.sync.path)[pub] == "1.1.0"
    poetry_accepts(with_poetry, project)
