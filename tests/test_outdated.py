"""`outdated` and `upgrade` from the command line, against the local index with newer versions
published during the test (each test publishes names of its own: the index is the session's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import envlock

from jupyter_envlock.cli import render
from jupyter_envlock.core import operations

pytestmark = pytest.mark.slow


def snapshot(project: Path) -> dict[str, bytes]:
    return {n: (project / n).read_bytes() for n in ("pyproject.toml", "pylock.toml")}


def test_outdated_tells_allowed_and_latest_and_changes_nothing(
    envlock_env, local_index, make_project
):
    local_index.add_wheel("tinyout-a", "1.0.0")
    local_index.add_wheel("tinyout-b", "1.0.0")
    project = make_project("outdated", deps=["tinyout-a<2", "tinyout-b"])
    operations.sync(project)
    proc = envlock("outdated", "--project", str(project), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"checked": True, "message": None, "outdated": []}

    local_index.add_wheel("tinyout-a", "1.5.0")
    local_index.add_wheel("tinyout-a", "2.0.0")
    before = snapshot(project)
    proc = envlock("outdated", "--project", str(project), "--json")

    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outdated"] == [
        {
            "name": "tinyout-a",
            "group": None,
            "requirement": "tinyout-a<2",
            "locked": "1.0.0",
            "allowed": "1.5.0",
            "latest": "2.0.0",
        }
    ]
    assert snapshot(project) == before
    shown = envlock("outdated", "--project", str(project))
    assert "tinyout-a" in shown.stdout and "1.5.0" in shown.stdout and "2.0.0" in shown.stdout
    assert "tinyout-b" not in shown.stdout


def test_offline_outdated_cannot_check_and_changes_nothing(envlock_env, make_project, monkeypatch):
    project = make_project("outdated-offline", deps=["tinya"])
    operations.sync(project)
    before = snapshot(project)
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://127.0.0.1:9/simple")  # nothing listens
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")

    proc = envlock("outdated", "--project", str(project), "--json")

    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["checked"] is False and document["outdated"] == []
    assert document["message"].startswith("Cannot check for newer versions: ")
    assert "could not reach a package index" in document["message"]
    assert render.outdated(document).text == document["message"]
    assert snapshot(project) == before
    assert operations.status(project).state == "in-sync"


def test_upgrade_moves_only_the_named_package_and_syncs(envlock_env, local_index, make_project):
    for name in ("tinyup-a", "tinyup-b"):
        local_index.add_wheel(name, "1.0.0")
    project = make_project("upgrade", deps=["tinyup-a", "tinyup-b<3"])
    operations.sync(project)
    for name in ("tinyup-a", "tinyup-b"):
        local_index.add_wheel(name, "2.0.0")
    local_index.add_wheel("tinyup-b", "3.0.0")
    manifest = (project / "pyproject.toml").read_bytes()

    proc = envlock("upgrade", "tinyup-b", "--project", str(project), "--json", "-q")

    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["changes"] == [
        {"name": "tinyup-b", "old": "1.0.0", "new": "2.0.0", "kind": "upgraded"}
    ]
    assert "tinyup-b==2.0.0" in report["env"]["installed"]
    assert (project / "pyproject.toml").read_bytes() == manifest
    assert operations.manager(project).locked_versions()["tinyup-a"] == "1.0.0"
    assert operations.status(project).state == "in-sync"

    every = json.loads(envlock("upgrade", "--all", "--project", str(project), "--json").stdout)
    assert [c["name"] for c in every["changes"]] == ["tinyup-a"]


def test_outdated_without_a_lock_says_so(envlock_env, make_project):
    project = make_project("outdated-unlocked", deps=["tinya"])
    document = json.loads(envlock("outdated", "--project", str(project), "--json").stdout)
    assert document == {
        "checked": False,
        "message": "Cannot check for newer versions: nothing is locked yet (run `lock`).",
        "outdated": [],
    }
    assert not (project / "pylock.toml").exists()


def test_upgrade_refuses_what_it_cannot_do_and_changes_nothing(envlock_env, make_project):
    project = make_project("upgrade-bad", deps=["tinya"])
    operations.lock(project)
    before = snapshot(project)
    for argv, message in (
        (["tinyq-not-locked"], "is not in the lock"),
        (["tinya>=2"], "is not a package name"),
        ([], "Name at least one package"),
        (["tinya", "--all"], "not both"),
    ):
        proc = envlock("upgrade", *argv, "--project", str(project))
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        assert message in proc.stderr, (argv, proc.stderr)
    assert snapshot(project) == before
