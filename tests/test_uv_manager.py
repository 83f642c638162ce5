"""uv projects through envlock (issue 10): real projects made by `uv init`/`uv add`, real uv, the
local index. envlock must do what the user's uv does (and nothing uv would not accept afterwards):
`uv lock --check` and `uv sync --locked` pass after every change, uv.lock stays the only lock,
and the env is the one `uv run` uses.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import tomllib
from support.isolation import forbid_processes

from jupyter_envlock.cli import execute
from jupyter_envlock.core import operations
from jupyter_envlock.core.environment import installed_distributions
from jupyter_envlock.core.errors import ManifestError, ResolutionError, StaleLockError
from jupyter_envlock.core.managers import UvManager, manager_for
from jupyter_envlock.core.project import find_project

pytestmark = pytest.mark.slow


def uv_accepts(envlock_env, project: Path, *sync_args: str) -> None:
    """The user's own uv is happy with what envlock left: a current lock, an env in sync."""
    envlock_env.run_uv("lock", "--check", cwd=project)
    envlock_env.run_uv("sync", "--locked", "--dry-run", *sync_args, cwd=project)


def files(project: Path) -> dict[str, bytes | None]:
    return {
        name: (project / name).read_bytes() if (project / name).exists() else None
        for name in ("pyproject.toml", "uv.lock")
    }


def locked(project: Path) -> dict[str, str]:
    lock = tomllib.loads((project / "uv.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"] if "registry" in p["source"]}


def installed(env: Path) -> dict[str, str]:
    return installed_distributions(env)


def test_uv_project_is_synced_into_uvs_own_env(make_uv_project, envlock_env):
    project = make_uv_project(
        "sales", deps=["tinya<2"], dev=["tinyd"], groups={"docs": ["tinyb"]},
        extras={"plot": ["mixed-case-name"]},
    )  # fmt: skip
    owner = manager_for(find_project(project))
    assert isinstance(owner, UvManager)
    status = operations.status(project)
    assert status.to_dict()["project"]["manager"] == "uv"
    assert (status.lock, status.env) == ("in-sync", "missing")

    report = operations.sync(project)
    assert report.sync is not None and report.sync.path == project / ".venv"
    # uv sync --frozen: the default group (dev), no other group, no extra
    assert installed(project / ".venv") == {"tinya": "1.1.0", "tinyd": "1.1.0"}
    assert sorted(report.sync.installed) == ["tinya==1.1.0", "tinyd==1.1.0"]
    assert not (project / "pylock.toml").exists()
    uv_accepts(envlock_env, project)
    # what `uv run` in a terminal sees is the kernel's env
    run = envlock_env.run_uv("run", "--frozen", "python", "-c", "import sys; print(sys.prefix)",
                             cwd=project)  # fmt: skip
    assert run.stdout.strip() == str(project / ".venv")

    status = operations.status(project)
    assert status.state == "in-sync", status.to_dict()
    deps = {(d.name, d.group, d.extra): d.locked for d in operations.list_dependencies(project)}
    assert deps == {
        ("tinya", None, None): "1.1.0", ("tinyd", "dev", None): "1.1.0",
        ("tinyb", "docs", None): "1.0.0", ("mixed-case-name", None, "plot"): "0.1.0",
    }  # fmt: skip


def test_noop_sync_of_a_uv_project_starts_no_process(make_uv_project, envlock_env, monkeypatch):
    project = make_uv_project("quiet", deps=["tinyd"])
    operations.sync(project)

    forbid_processes(monkeypatch, "a no-op sync")
    assert operations.sync(project).sync.noop
    # the panel's reads start none either
    assert operations.status(project).state == "in-sync"
    assert [d.name for d in operations.list_dependencies(project)] == ["tinyd"]
    assert operations.manager(project).build_plan().packages == 1


def test_add_and_remove_edit_the_manifest_and_lock_with_uv(
    make_uv_project, envlock_env, local_index
):
    pub = "tinypub-uvkeep"
    local_index.add_wheel(pub, "1.0.0")
    project = make_uv_project("editing", deps=["tinya<2", pub])
    manifest = project / "pyproject.toml"
    text = manifest.read_text().replace(
        '"tinya<2",\n', '"tinya<2",  # the core\n\n    # a second block\n'
    )
    manifest.write_bytes(text.replace("\n", "\r\n").encode())  # CRLF, as git on Windows
    envlock_env.run_uv("lock", cwd=project)
    operations.sync(project)
    before = manifest.read_bytes()
    local_index.add_wheel(pub, "1.1.0")  # newer: must not be picked up by an unrelated add

    report = operations.add(project, ["tinyd>=1"])
    after = manifest.read_bytes()
    assert after.count(b"\r\n") == before.count(b"\r\n") + 1 and b"\n" not in after.replace(
        b"\r\n", b""
    )
    assert b"# the core\r\n\r\n    # a second block" in after  # comments, blank line kept
    assert [(e.kind, e.new) for e in report.edits] == [("added", "tinyd>=1")]
    assert [(c.name, c.kind) for c in report.changes] == [("tinyd", "added")]
    assert locked(project)[pub] == "1.0.0"  # every other version kept
    assert installed(project / ".venv")["tinyd"] == "1.1.0"
    assert not (project / "pylock.toml").exists()
    uv_accepts(envlock_env, project)

    report = operations.remove(project, ["tinyd"])
    assert manifest.read_bytes() == before
    assert "tinyd" not in installed(project / ".venv")
    assert [(c.name, c.kind) for c in report.changes] == [("tinyd", "removed")]
    uv_accepts(envlock_env, project)

    report = operations.lock(project, upgrade_packages=[pub])
    assert [(c.name, c.old, c.new) for c in report.changes] == [(pub, "1.0.0", "1.1.0")]


def test_groups_go_where_uv_puts_them(make_uv_project, envlock_env):
    project = make_uv_project("grouped", deps=["tinya"], dev=["tinyd"])
    operations.add(project, ["tinyb"], group="docs")
    manifest = tomllib.loads((project / "pyproject.toml").read_text())
    # a bare name is recorded with its locked version as lower bound, as `uv add` does
    assert manifest["dependency-groups"] == {"dev": ["tinyd>=1.1.0"], "docs": ["tinyb>=1.0.0"]}
    assert "tinyb" not in installed(project / ".venv")  # not a default group: uv sync skips it
    uv_accepts(envlock_env, project)
    operations.remove(project, ["tinyd"])  # found in the one group that has it
    assert "tinyd" not in installed(project / ".venv")
    uv_accepts(envlock_env, project)


def test_failed_add_changes_no_file(make_uv_project, envlock_env):
    project = make_uv_project("failing", deps=["tinyb"])
    operations.sync(project)
    before, env_before = files(project), installed(project / ".venv")
    with pytest.raises(ResolutionError) as caught:
        operations.add(project, ["tinyc"])  # needs tinya<1.1; tinyb needs >=1.1
    assert "tinyc" in caught.value.details
    assert files(project) == before
    assert installed(project / ".venv") == env_before


def test_hand_edit_is_relocked_at_sync_or_refused(make_uv_project, envlock_env, monkeypatch):
    project = make_uv_project("handmade", deps=["tinya"])
    operations.sync(project)
    manifest = project / "pyproject.toml"
    manifest.write_text(
        manifest.read_text().replace('"tinya>=2.0.0",', '"tinya>=2.0.0",\n    "tinyd",')
    )
    assert operations.status(project).lock == "stale"  # seen without running uv

    with pytest.raises(StaleLockError, match="uv lock"):
        operations.sync(project, stale="error")
    assert "tinyd" not in locked(project)

    report = operations.sync(project)
    assert report.relocked and [c.name for c in report.changes] == ["tinyd"]
    assert installed(project / ".venv")["tinyd"] == "1.1.0"
    uv_accepts(envlock_env, project)


def test_on_stale_lock_error_in_the_manifest(make_uv_project, envlock_env):
    project = make_uv_project("strict", deps=["tinya"])
    manifest = project / "pyproject.toml"
    manifest.write_text(manifest.read_text() + '\n[tool.envlock]\non-stale-lock = "error"\n')
    operations.sync(project)  # a setting of envlock's own: uv's lock is still current
    text = manifest.read_text().replace('"tinya>=2.0.0",', '"tinya>=2.0.0",\n    "tinyd",')
    manifest.write_text(text)
    lock = (project / "uv.lock").read_bytes()
    with pytest.raises(StaleLockError, match="on-stale-lock"):
        operations.sync(project)
    assert (project / "uv.lock").read_bytes() == lock
    envlock_env.run_uv("lock", cwd=project)
    operations.sync(project)
    uv_accepts(envlock_env, project)


def test_workspace_members_are_projects_sharing_one_env(make_uv_workspace, envlock_env):
    root = make_uv_workspace("ws")
    alpha, beta = root / "packages" / "alpha", root / "packages" / "beta"
    for member in (alpha, beta):
        assert isinstance(manager_for(find_project(member)), UvManager)
        assert find_project(member).kernel_name == f"envlock-{member.name}"
    operations.sync(beta)
    operations.sync(alpha)  # must not uninstall beta's packages (uv run's --inexact)
    env = installed(root / ".venv")
    assert {"alpha", "beta", "tinya", "tinyd"} <= env.keys()
    assert not (alpha / ".venv").exists() and not (beta / ".venv").exists()
    assert operations.status(alpha).state == "in-sync"

    operations.add(alpha, ["tinyb"])
    alpha_manifest = tomllib.loads((alpha / "pyproject.toml").read_text())
    assert "tinyb>=1.0.0" in alpha_manifest["project"]["dependencies"]
    assert "tinyb" in installed(root / ".venv")
    assert not (alpha / "uv.lock").exists()
    envlock_env.run_uv("lock", "--check", cwd=alpha)
    envlock_env.run_uv("sync", "--locked", "--dry-run", "--all-packages", cwd=root)


def test_path_sources_are_honoured(uv_projects, make_uv_project, envlock_env, tmp_path):
    lib = tmp_path / "libx"
    uv_projects.run("init", "--lib", "--vcs", "none", "--quiet", "--python", sys.executable,
                    str(lib), cwd=tmp_path)  # fmt: skip
    project = make_uv_project("sourced", deps=["tinyd"])
    uv_projects.run("add", "--no-sync", "--quiet", "--editable", "../libx", cwd=project)
    sources = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]["sources"]
    assert sources == {"libx": {"path": "../libx", "editable": True}}
    plan = operations.manager(project).build_plan()
    assert plan.source_builds == ["libx"] and plan.packages == 2
    operations.sync(project)
    assert "libx" in installed(project / ".venv")
    uv_accepts(envlock_env, project)


def test_uv_project_environment_and_activated_envs(
    make_uv_project, envlock_env, monkeypatch, tmp_path
):
    project = make_uv_project("placed", deps=["tinyd"])
    victim = tmp_path / "activated"
    envlock_env.run_uv("venv", "--no-config", "--quiet", "--python", sys.executable, str(victim))
    monkeypatch.setenv("VIRTUAL_ENV", str(victim))  # a server started from an activated venv
    monkeypatch.setenv("UV_PROJECT_ENVIRONMENT", "relenv")
    report = operations.sync(project)
    assert report.sync.path == project / "relenv"
    assert installed(project / "relenv") == {"tinyd": "1.1.0"}
    assert installed(victim) == {}
    assert not (project / ".venv").exists()
    assert operations.environment_python(project) == project / "relenv" / (
        "Scripts/python.exe" if os.name == "nt" else "bin/python"
    )


def test_build_plan_reads_uv_lock(make_uv_project, envlock_env, local_index):
    project = make_uv_project("planned", deps=["tinyb"], dev=["tinyd"], package=True)
    plan = operations.manager(project).build_plan()
    assert plan.packages == 3  # tinyb, tinya (its dependency), tinyd (the default group)
    assert plan.indexes == [local_index.url]
    assert plan.source_builds == [] and plan.editable  # uv installs the project itself


def test_export_is_uvs_own(make_uv_project, envlock_env):
    project = make_uv_project("exported", deps=["tinya<2"])
    text = operations.export_requirements(project)
    assert "tinya==1.1.0" in text and "--hash=sha256:" in text
    assert not (project / "pylock.toml").exists()


def test_a_committed_venv_link_never_chooses_what_is_synced(make_uv_project, envlock_env, tmp_path):
    """A repository whose .venv is a link to another env (say the user's): uv would exact-sync
    that env, removing everything the lock lacks. Refused before uv runs."""
    victim = tmp_path / "victim-env"
    envlock_env.run_uv("venv", "--no-config", "--quiet", "--python", sys.executable, str(victim))
    envlock_env.run_uv("pip", "install", "--python", str(victim / "bin" / "python"), "tinyd")
    project = make_uv_project("linked", deps=["tinya"])
    (project / ".venv").symlink_to(victim, target_is_directory=True)
    with pytest.raises(ManifestError, match="is a link to"):
        operations.sync(project)
    assert installed(victim) == {"tinyd": "1.1.0"}


def test_extras_as_uv_has_them(make_uv_project, envlock_env):
    project = make_uv_project("extras", deps=["tinya"], extras={"plot": ["tinyb"]})
    deps = {(d.name, d.group, d.extra): d.locked for d in operations.list_dependencies(project)}
    assert deps == {("tinya", None, None): "2.0.0", ("tinyb", None, "plot"): "1.0.0"}
    operations.add(project, ["tinyd"], extra="plot")
    optional = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert optional == {"plot": ["tinyb>=1.0.0", "tinyd>=1.1.0"]}
    assert "tinyd" not in installed(project / ".venv")  # uv sync --frozen: no extras
    uv_accepts(envlock_env, project)
    envlock_env.run_uv("sync", "--locked", "--dry-run", "--extra", "plot", cwd=project)
    operations.remove(project, ["tinyd"])  # found in the one extra that lists it
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ] == {"plot": ["tinyb>=1.0.0"]}
    uv_accepts(envlock_env, project)
    outcome = execute(["list", "--project", str(project), "-q"])
    assert "[extra: plot]" in outcome.text


def test_an_add_runs_uv_once(make_uv_project, envlock_env, monkeypatch):
    """%dep add with a version: envlock's edit, then one `uv sync` locks (keeping versions) and
    installs. A bare name is locked first, to record its bound (`tinyb>=1.0.0`), then synced."""
    from jupyter_envlock.core import runner

    project = make_uv_project("uv-once", deps=["tinya"])
    operations.sync(project)
    ran: list[list[str]] = []
    real = runner.run_process
    monkeypatch.setattr(
        runner,
        "run_process",
        lambda tool, argv, *a, **k: ran.append(list(argv)) or real(tool, argv, *a, **k),
    )
    report = operations.add(project, ["tinyd>=1"])
    assert [argv[1] for argv in ran] == ["sync"]
    assert [(c.name, c.kind) for c in report.changes] == [("tinyd", "added")]
    ran.clear()
    operations.add(project, ["tinyb"])
    assert [argv[1] for argv in ran] == ["lock", "sync"]
    assert operations.sync(project).sync.noop
    uv_accepts(envlock_env, project)


def test_upgrade_outdated_and_tree_of_a_uv_project(make_uv_project, envlock_env, local_index):
    pub, other = "tinypub-uvup", "tinypub-uvkept"
    for name in (pub, other):
        local_index.add_wheel(name, "1.0.0")
    project = make_uv_project("upgrading", deps=[pub, other])
    operations.sync(project)
    for name in (pub, other):
        local_index.add_wheel(name, "1.1.0")
    found = {e["name"]: (e["locked"], e["latest"]) for e in operations.outdated(project).outdated}
    assert found[pub] == ("1.0.0", "1.1.0") and found[other] == ("1.0.0", "1.1.0")

    report = operations.upgrade(project, [pub])
    assert [(c.name, c.old, c.new) for c in report.changes] == [(pub, "1.0.0", "1.1.0")]
    assert locked(project)[other] == "1.0.0"  # only the one named moves
    assert installed(project / ".venv")[pub] == "1.1.0"
    uv_accepts(envlock_env, project)

    names = {p.name for p in operations.tree(project).packages}
    assert {pub, other} <= names
    assert operations.manager(project).locked_versions()[pub] == "1.1.0"


def test_a_bare_add_is_bounded_as_uv_add_bounds_it(make_uv_project, envlock_env):
    project = make_uv_project("bounded", deps=["tinya"])
    report = operations.add(project, ["tinyd"], sync=False)
    assert [(e.kind, e.new) for e in report.edits] == [("added", "tinyd>=1.1.0")]
    manifest = tomllib.loads((project / "pyproject.toml").read_text())
    assert manifest["project"]["dependencies"] == ["tinya>=2.0.0", "tinyd>=1.1.0"]
    envlock_env.run_uv("lock", "--check", cwd=project)
