"""Races: concurrent commands on one project from separate processes (issue 6).

Every mutating command holds the project's file lock from reading the manifest to syncing the env,
so concurrent adds must serialize, none may lose another's edit, and readers must never see a
half-written file. Each case starts its processes together (their start-up alone overlaps them at
the lock) and then checks: every process succeeded, every edit is in the manifest, the lock is
valid PEP 751 (packaging.pylock) and holds every direct dependency, the env matches the lock.
Races between two kernels' %dep magics are in tests/test_magics.py.
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from support.cli import ENVLOCK

from jupyter_envlock.core import environment, operations
from jupyter_envlock.core.errors import EnvlockError
from jupyter_envlock.core.lockfile import Lock
from jupyter_envlock.core.manifest import Manifest
from jupyter_envlock.core.requirements import parse_requirement

pytestmark = pytest.mark.slow

HEADER = '[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
_serial = itertools.count()


def new_project(base: Path, deps: Sequence[str] = ()) -> Path:
    name = f"race{next(_serial)}"
    root = base / name
    root.mkdir()
    listed = "".join(f'    "{d}",\n' for d in deps)
    (root / "pyproject.toml").write_text(
        HEADER.format(name=name)
        + (f"dependencies = [\n{listed}]\n" if deps else "dependencies = []\n")
    )
    return root


def race(*commands: Sequence[str]) -> list[subprocess.CompletedProcess[str]]:
    """Start every `jupyter envlock` command at once; wait for all of them."""
    procs = [
        subprocess.Popen(
            [*ENVLOCK, *argv, "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in commands
    ]
    results = []
    for argv, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(list(argv), proc.returncode, out, err))
    return results


def assert_all_succeeded(results: list[subprocess.CompletedProcess[str]]) -> None:
    for r in results:
        assert r.returncode == 0, f"{r.args}: {r.stderr}"


def assert_recorded(root: Path, expected: dict[str | None, set[str]]) -> None:
    """Manifest groups hold exactly `expected` (normalized names); lock and env agree."""
    manifest = Manifest.load(root / "pyproject.toml")
    found = {
        group: {canonicalize_name(parse_requirement(r).name) for r in reqs}
        for group, reqs in manifest.pyproject.requirements().items()
        if reqs or group is None
    }
    assert found == {None: set(), **expected}
    lock = Lock.load(root / "pylock.toml")  # packaging.pylock: valid PEP 751, every file hashed
    locked = lock.versions()
    direct = set().union(*expected.values())
    assert direct <= set(locked), sorted(locked)
    status = operations.status(root)
    assert status.state == "in-sync", status.to_dict()
    installed = environment.installed_distributions(Path(str(status.env_path)))
    assert {n: installed.get(n) for n in direct} == {n: locked[n] for n in direct}


@pytest.mark.parametrize("round_", range(3))
def test_four_concurrent_adds_are_all_recorded(scrubbed_env, local_index, tmp_path, round_):
    """The issue's case: four processes add four packages to one project (a fresh one, so the
    first to get the lock also builds the env while the others wait)."""
    published = f"tinyrace{round_}"
    local_index.add_wheel(published, "1.0.0")
    root = new_project(tmp_path)
    specs = ["tinya", "tinyd", "Mixed_Case.Name", published]
    assert_all_succeeded(race(*(["add", "--project", str(root), s] for s in specs)))
    assert_recorded(root, {None: {"tinya", "tinyd", "mixed-case-name", published}})


def test_concurrent_adds_and_removes_are_all_applied(scrubbed_env, local_index, tmp_path):
    local_index.add_wheel("tinyrace-mixed", "1.0.0")
    root = new_project(tmp_path, ["tinya", "tinyd"])
    operations.sync(root)
    results = race(
        ["remove", "--project", str(root), "tinya"],
        ["add", "--project", str(root), "Mixed_Case.Name"],
        ["remove", "--project", str(root), "tinyd"],
        ["add", "--project", str(root), "tinyrace-mixed"],
    )
    assert_all_succeeded(results)
    assert_recorded(root, {None: {"mixed-case-name", "tinyrace-mixed"}})


def test_concurrent_adds_to_different_groups(scrubbed_env, tmp_path):
    root = new_project(tmp_path)
    results = race(
        ["add", "--project", str(root), "--group", "dev", "tinyd"],
        ["add", "--project", str(root), "--group", "viz", "tinya"],
        ["add", "--project", str(root), "tinyb"],
    )
    assert_all_succeeded(results)
    assert_recorded(root, {None: {"tinyb"}, "dev": {"tinyd"}, "viz": {"tinya"}})


def test_concurrent_adds_of_one_name_leave_one_entry(scrubbed_env, tmp_path):
    """Three processes pin tinya three ways: one of them wins, the manifest never has two."""
    root = new_project(tmp_path)
    specs = ["tinya>=1", "tinya<2", "tinya==1.1.0"]
    assert_all_succeeded(race(*(["add", "--project", str(root), s] for s in specs)))
    manifest = Manifest.load(root / "pyproject.toml")
    entries = manifest.pyproject.requirements()[None]
    assert len(entries) == 1 and entries[0] in {str(parse_requirement(s)) for s in specs}
    assert_recorded(root, {None: {"tinya"}})


def test_kernel_starts_racing_an_add(scrubbed_env, tmp_path):
    """Three kernels start (sync) while a terminal adds a package: each sync sees a whole state."""
    root = new_project(tmp_path, ["tinyd"])
    operations.lock(root)
    sync = ["sync", "--project", str(root)]
    results = race(sync, ["add", "--project", str(root), "tinya"], sync, sync)
    assert_all_succeeded(results)
    assert_recorded(root, {None: {"tinyd", "tinya"}})


def test_readers_never_see_a_torn_manifest_or_lock(scrubbed_env, tmp_path):
    """While four adds rewrite the files, a reader (the lab panel polling) always parses them."""
    root = new_project(tmp_path, ["tinyb"])
    operations.sync(root)
    procs = [
        subprocess.Popen(
            [*ENVLOCK, "add", "--project", str(root), spec, "-q"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for spec in ("tinyd", "Mixed_Case.Name", "tinya>=1.1", "tinyb>=1")
    ]
    reads = 0
    states: set[str] = set()
    while any(p.poll() is None for p in procs):
        Manifest.from_bytes(root / "pyproject.toml", (root / "pyproject.toml").read_bytes())
        Lock.parse((root / "pylock.toml").read_bytes())
        try:
            states.add(operations.status(root).state)
        except EnvlockError as e:  # pragma: no cover - the assertion below shows it
            pytest.fail(f"status failed mid-race: {e.message}")
        reads += 1
    for p in procs:
        _, err = p.communicate()
        assert p.returncode == 0, err
    assert reads > 10, "the reader did not overlap the writers"
    assert_recorded(root, {None: {"tinyb", "tinyd", "mixed-case-name", "tinya"}})
    print(f"{reads} reads, states seen: {sorted(states)}")
