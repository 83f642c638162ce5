"""Listings of an unchanged root answered from the last pass (core/watch.py, scan.py): every
kind of change still shows on the next listing, and an unchanged root is not read again."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from support.aging import age, age_env

from jupyter_envlock import scan
from jupyter_envlock.core import operations
from jupyter_envlock.core.atomic import project_lock
from jupyter_envlock.core.environment import python_in
from jupyter_envlock.core.project import find_project
from jupyter_envlock.core.watch import FolderWatch
from jupyter_envlock.handlers import projects_body
from jupyter_envlock.scan import ProjectScanner

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or FolderWatch.create() is None,
    reason="folder watches are Linux's inotify",
)


def test_a_watch_sees_every_change_to_a_folders_entries(tmp_path: Path):
    watch = FolderWatch.create()
    assert watch is not None
    folder = tmp_path / "watched"
    folder.mkdir()
    assert watch.watch(str(folder))
    mark = watch.mark()
    assert watch.mark() == mark  # nothing happened
    file = folder / "pyproject.toml"

    def changed() -> bool:
        nonlocal mark
        now = watch.mark()
        moved, mark = now != mark, now
        return moved

    file.write_text("[project]\n")
    assert changed()
    with file.open("r+") as f:  # in place
        f.write("[tool]")
    assert changed()
    os.utime(file, ns=(0, 0))
    assert changed()
    file.chmod(0o600)
    assert changed()
    file.rename(folder / "moved.toml")
    assert changed()
    (folder / "sub").mkdir()
    assert changed()
    (folder / "moved.toml").unlink()
    assert changed()
    assert (folder / "moved.toml").exists() is False and not changed()

    assert not watch.watch(str(tmp_path / "missing"))
    (tmp_path / "link").symlink_to(folder)
    assert not watch.watch(str(tmp_path / "link"))  # a link's target is not watched by its name
    (folder / "sub" / "file").touch()  # in a folder not watched: no event
    assert not changed()
    assert not watch.watch(str(folder / "sub" / "file"))  # not a folder

    shutil.rmtree(folder)  # gone: an event, and the watch with it
    assert changed()
    folder.mkdir()
    assert watch.watch(str(folder))
    assert changed()  # a watch added moves the mark too
    watch.close()
    assert watch.mark() != watch.mark()  # closed: nothing can be reused any more
    assert not watch.watch(str(tmp_path))


def test_an_unchanged_root_is_listed_from_the_last_pass_and_every_change_shows(
    envlock_env, make_project, monkeypatch
):
    root = envlock_env.envlock_cache_dir.parent / "watched-root"
    synced = make_project("synced", deps=["tinyd"], folder=root / "synced")
    bare = make_project("bare", deps=["tinya"], folder=root / "group" / "bare")
    operations.lock(synced)
    operations.lock(bare)
    env = operations.sync(synced).sync.path
    age(*(p / name for p in (synced, bare) for name in ("pyproject.toml", "pylock.toml")))
    age_env(env)
    scanner = ProjectScanner(root)
    scanner.stop()  # scans in place

    def listed() -> dict[str, str]:
        snapshot, states = scanner.project_states()
        return {p.relative: s for p, (s, _) in zip(snapshot.projects, states, strict=True)}

    def reused() -> dict[str, str]:
        """The listing, with every walk and every look at a state refused."""
        with monkeypatch.context() as m:
            m.setattr(scan, "walk", lambda *a, **k: pytest.fail("walked again"))
            m.setattr(scan._StateCache, "state", lambda *a: pytest.fail("state asked again"))
            return listed()

    expected = {"synced": "in-sync", "group/bare": "no-env"}
    for _ in range(3):  # the first passes add their watches; then a pass sees nothing new
        assert listed() == expected
    assert reused() == expected
    assert reused() == expected
    body = projects_body(scanner)
    assert projects_body(scanner) == body and '"synced"' in body

    manifest = bare / "pyproject.toml"  # edited in place: the folder's listing stays the same
    with manifest.open("r+b") as f:
        text = f.read().replace(b'"tinya"', b'"tinya", "tinyd"')
        f.seek(0)
        f.write(text)
    assert listed()["group/bare"] == "lock-out-of-date"

    envlock_env.run_uv("pip", "install", f"--python={python_in(env)}", "tinya==1.0.0")
    assert listed()["synced"] == "env-out-of-date"  # the env is outside the root, watched too

    new = make_project("new", folder=root / "group" / "new")
    assert listed()["group/new"] == "no-lock"
    shutil.rmtree(new)
    assert "group/new" not in listed()

    operations.sync(synced)
    age_env(env)
    age(manifest)
    for _ in range(3):
        assert listed()["synced"] == "in-sync"
    assert reused()["synced"] == "in-sync"
    with project_lock(find_project(synced).file_lock_path):  # a held lock sends no event
        assert listed()["synced"] == "busy"
    assert listed()["synced"] == "in-sync"


def test_without_a_watch_every_listing_looks_again(envlock_env, make_project, monkeypatch):
    root = envlock_env.envlock_cache_dir.parent / "unwatched-root"
    project = make_project("plain", folder=root / "plain")
    age(project / "pyproject.toml")
    scanner = ProjectScanner(root, watch=False)
    scanner.stop()
    for _ in range(3):
        scanner.project_states()
    walks = []
    real_walk = scan.walk
    monkeypatch.setattr(scan, "walk", lambda *a, **k: walks.append(1) or real_walk(*a, **k))
    snapshot, states = scanner.project_states()
    assert walks == [1] and states == [("no-lock", None)]


def test_a_watch_takes_no_more_folders_than_its_budget(
    tmp_path: Path, envlock_env, make_project, monkeypatch
):
    """inotify watches are a per-user budget other tools need too: past envlock's share, a
    folder goes unwatched, and a listing that needs it looks at the disk every time."""
    watch = FolderWatch.create(limit=1)
    assert watch is not None
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert watch.watch(str(tmp_path / "a"))
    assert not watch.watch(str(tmp_path / "b"))

    monkeypatch.setattr(FolderWatch, "shared", lambda: FolderWatch.create(limit=2))
    root = envlock_env.envlock_cache_dir.parent / "budget-root"
    for name in ("one", "two"):
        age(make_project(name, folder=root / name) / "pyproject.toml")
    scanner = ProjectScanner(root)
    scanner.stop()
    for _ in range(3):
        scanner.project_states()
    walks: list[int] = []
    real_walk = scan.walk
    monkeypatch.setattr(scan, "walk", lambda *a, **k: walks.append(1) or real_walk(*a, **k))
    _, states = scanner.project_states()
    assert walks == [1] and states == [("no-lock", None), ("no-lock", None)]


def test_projects_envlock_never_touched_are_listed_from_the_last_pass(
    envlock_env, make_project, monkeypatch
):
    """No state folder, no env, no lock yet (a repository just cloned): nothing to watch there
    but where each would appear."""
    root = envlock_env.envlock_cache_dir.parent / "untouched-root"
    for name in ("one", "two"):
        age(make_project(name, folder=root / name) / "pyproject.toml")
    state = find_project(root / "one").file_lock_path.parent
    assert not state.exists()
    scanner = ProjectScanner(root)
    scanner.stop()
    for _ in range(3):
        scanner.project_states()
    with monkeypatch.context() as m:
        m.setattr(scan, "walk", lambda *a, **k: pytest.fail("walked again"))
        m.setattr(scan._StateCache, "state", lambda *a: pytest.fail("state asked again"))
        _, states = scanner.project_states()
    assert states == [("no-lock", None), ("no-lock", None)]
    operations.lock(root / "one")  # its state folder appears, outside the root
    _, states = scanner.project_states()
    assert states[0] == ("no-env", None)
