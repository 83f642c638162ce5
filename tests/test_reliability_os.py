"""What the operating system refuses reaches the user as a message, and leaves nothing half-done
(issue 9, items 6 and 8).

A read-only project folder and a full disk are real here, not simulated: the command or server
runs in a private mount namespace (``unshare --user --map-root-user --mount``, see
support.server_process.private_mounts) where the project folder is bind-mounted read-only, or
the folder written to is a small tmpfs. Nothing outside that process tree sees the mounts. Where
the machine allows no user namespaces those tests are skipped; the other faults (a wheel gone
from the index mid-build, a rollback, over-long names, huge manifests) need no mounts.

Every test runs in the sandbox of tests/support/sandbox.py (fake HOME, every Jupyter, uv and
envlock folder in the test's tmp_path) against the session's local index.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support import hostile
from support.cli import ENVLOCK, EnvlockRun, run_envlock
from support.isolation import trust_project
from support.sandbox import Sandbox
from support.server_process import ServerProcess, private_mounts

from jupyter_envlock.core import operations
from jupyter_envlock.core.project import MAX_NAME_IN_PATHS, find_project

pytestmark = pytest.mark.slow


def mounts_or_skip(script: str) -> list[str]:
    prefix = private_mounts(script)
    if prefix is None:
        pytest.skip("this machine allows no private mount namespace (unshare --user --mount)")
    return prefix


def read_only(folder: Path) -> str:
    q = shlex.quote(str(folder))
    return f"mount --bind {q} {q}\nmount -o remount,ro,bind {q}"


def envlock(*args: str, prefix: list[str] | None = None) -> EnvlockRun:
    return run_envlock(*args, prefix=prefix or (), timeout=600)


def first_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors, proc.stderr
    return errors[0]


def locked(sb: Sandbox, name: str, deps: tuple[str, ...] = ("tinya",)) -> Path:
    """A project of the user's own under the server root: locked, trusted."""
    project = hostile.write_manifest(sb.root_dir / name, name, deps)
    operations.lock(project)
    trust_project(project)
    return project


# --------------------------------------------------------------------------- read-only folder


@pytest.fixture
def server_process(sandbox: Sandbox, tmp_path: Path):
    made: list[ServerProcess] = []

    def start(**how: Any) -> ServerProcess:
        made.append(ServerProcess(sandbox.root_dir, tmp_path / "server.log", **how))
        return made[-1]

    yield start
    for server in made:
        server.close()


def test_read_only_project_with_a_current_lock_starts_its_kernel(
    sandbox: Sandbox, server_process: Any
) -> None:
    """A checkout on a read-only share: the lock is current, so nothing in the project folder
    needs writing; the env is built in envlock's cache and the kernel starts."""
    project = locked(sandbox, "readonly")
    prefix = mounts_or_skip(read_only(project))
    server = server_process(prefix=prefix)
    code, body = server.start_session("readonly", "envlock-readonly")
    assert code == 201, (body, server.log_tail())
    assert envlock("sync", "--project", str(project), prefix=prefix).returncode == 0
    assert operations.status(project).state == "in-sync"


def test_read_only_project_with_a_stale_lock_says_so(sandbox: Sandbox, server_process: Any) -> None:
    """pyproject.toml changed since the lock and the folder is read-only: the start is refused
    with a message saying both, and nothing changed."""
    project = locked(sandbox, "stale-ro")
    hostile.write_manifest(project, "stale-ro", ("tinya", "tinyd"))
    before = {p.name: p.read_bytes() for p in project.iterdir()}
    prefix = mounts_or_skip(read_only(project))
    server = server_process(prefix=prefix)
    code, body = server.start_session("stale-ro", "envlock-stale-ro")
    assert code == 500, body
    assert "read-only file system" in body["message"], body
    assert "out of date" in body["message"], body
    proc = envlock("sync", "--project", str(project), prefix=prefix)
    line = first_error_line(proc)
    assert "read-only file system" in line and "out of date" in line, line
    assert proc.returncode == 1
    assert {p.name: p.read_bytes() for p in project.iterdir()} == before


# --------------------------------------------------------------------------- a full disk


def test_first_build_on_a_full_disk_says_so_and_leaves_no_half_env(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """envlock's cache on a 4 MB disk: the first build (ipykernel and its dependencies, tens of
    MB) fills it. The first line says the disk is full; no half-env is left, and status does
    not call the env in sync."""
    project = locked(sandbox, "full")
    cache = sandbox.envlock_cache
    out = tmp_path / "out"
    out.mkdir()
    prefix = mounts_or_skip(f"mount -t tmpfs -o size=4m tmpfs {shlex.quote(str(cache))}")
    after = (
        f"{shlex.join(ENVLOCK)} status --json --project {shlex.quote(str(project))} "
        f"> {out}/status.json; ls -A {cache}/envs > {out}/envs.txt 2>/dev/null || true"
    )
    argv = ["sh", "-c", f'"$@"; code=$?; {after}; exit $code', "build",
            *ENVLOCK, "sync", "--project", str(project)]  # fmt: skip
    proc = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr
    assert first_error_line(proc).startswith("error: The disk is full"), proc.stderr
    status = json.loads((out / "status.json").read_text())
    assert status["env"] == "missing" and status["state"] != "in-sync", status
    assert (out / "envs.txt").read_text().split() == [], "a half-built env was left behind"
    sandbox.assert_safe()


def test_a_lock_that_cannot_be_written_for_lack_of_space_changes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The project on a disk with no space left: `add` resolves, cannot write the new lock, says
    the disk is full, and leaves manifest and lock as they were (no temporary files either)."""
    project = locked(sandbox, "no-room")
    out = tmp_path / "out"
    out.mkdir()
    q = shlex.quote(str(project))
    copy = shlex.quote(str(tmp_path / "copy"))
    script = (
        f"cp -a {q} {copy}\nmount -t tmpfs -o size=512k tmpfs {q}\ncp -a {copy}/. {q}/\n"
        f"head -c 2000000 /dev/zero > {q}/.filler 2>/dev/null || true"
    )
    prefix = mounts_or_skip(script)
    after = f"rm -f {q}/.filler; ls -A {q} > {out}/listing.txt; cp {q}/*.toml {out}/"
    argv = ["sh", "-c", f'"$@"; code=$?; {after}; exit $code', "add",
            *ENVLOCK, "add", "--project", str(project), "tinyd"]  # fmt: skip
    proc = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr
    assert first_error_line(proc).startswith("error: The disk is full"), proc.stderr
    for name in ("pyproject.toml", "pylock.toml"):
        assert (out / name).read_bytes() == (project / name).read_bytes(), name
    listing = (out / "listing.txt").read_text().split()
    assert sorted(listing) == sorted(p.name for p in project.iterdir()), listing


# --------------------------------------------------------------------------- item 8


def test_a_failed_first_build_leaves_no_half_env(sandbox: Sandbox, local_index: Any) -> None:
    """A first build that fails mid-way (a wheel gone from the index) removes the env it began:
    nothing of it stays in the cache, and the next sync (the wheel back) builds it whole."""
    gone = local_index.add_wheel("tinygone-firstbuild", "1.0.0")
    project = locked(sandbox, "first-build", ("tinya", "tinygone-firstbuild"))
    wheel = local_index.root / "simple" / "tinygone-firstbuild" / gone.name
    kept = wheel.read_bytes()
    wheel.unlink()
    proc = envlock("sync", "--project", str(project))
    assert proc.returncode == 1, proc.stderr
    first_error_line(proc)
    envs = sandbox.envlock_cache / "envs"
    assert not envs.exists() or list(envs.iterdir()) == []
    assert operations.status(project).env == "missing"
    wheel.write_bytes(kept)
    assert envlock("sync", "--project", str(project)).returncode == 0
    assert operations.status(project).state == "in-sync"


def test_a_rollback_rewrites_only_what_changed(sandbox: Sandbox, local_index: Any) -> None:
    """pyproject.toml edited by hand, then a sync that re-locks and fails to install: the lock
    it wrote is put back, the manifest (not written by that sync) keeps its modification time,
    and no temporary file is left."""
    gone = local_index.add_wheel("tinygone-rollback", "1.0.0")
    project = locked(sandbox, "rollback")
    assert envlock("sync", "--project", str(project)).returncode == 0
    (local_index.root / "simple" / "tinygone-rollback" / gone.name).unlink()
    hostile.write_manifest(project, "rollback", ("tinya", "tinygone-rollback"))
    old = 1_600_000_000_000_000_000
    for name in ("pyproject.toml", "pylock.toml"):
        os.utime(project / name, ns=(old, old))
    before = {p.name: p.read_bytes() for p in project.iterdir()}
    proc = envlock("sync", "--project", str(project))
    assert proc.returncode == 1, proc.stderr
    assert {p.name: p.read_bytes() for p in project.iterdir()} == before
    assert (project / "pyproject.toml").stat().st_mtime_ns == old, "the manifest was rewritten"
    assert (project / "pylock.toml").stat().st_mtime_ns != old, "the lock was never written?"
    assert operations.status(project).lock == "stale"


# --------------------------------------------------------------------------- names and sizes


def test_an_over_long_project_name_still_makes_short_paths(sandbox: Sandbox) -> None:
    """A 300-character [project].name: sync, kernels install and status work; every folder
    named after it (env, state, kernel spec) stays far below the file-name limit."""
    name = "x" * 150 + "-" + "y" * 149
    project = hostile.write_manifest(sandbox.root_dir / "long", name)
    proc = envlock("sync", "--project", str(project), "--json")
    assert proc.returncode == 0, proc.stderr
    env = Path(json.loads(proc.stdout)["env"]["path"])
    assert len(env.name) <= MAX_NAME_IN_PATHS + len("-0123abcd-py3.13"), env.name
    kernel = find_project(project).kernel_name
    assert len(kernel) <= MAX_NAME_IN_PATHS + len("envlock-")
    proc = envlock("kernels", "install", "--project", str(project))
    assert proc.returncode == 0, proc.stderr
    assert (sandbox.kernels_dir / kernel / "kernel.json").is_file()
    assert find_project(project).state_dir.name.startswith(kernel.removeprefix("envlock-"))
    sandbox.assert_safe()


def test_a_huge_manifest_is_refused_in_those_words(sandbox: Sandbox) -> None:
    """Over 1 MB: refused before it is parsed, by every command (the panel's poll with it)."""
    project = hostile.large_manifest(sandbox.root_dir / "huge", sandbox, megabytes=2)
    for command in ("status", "list", "sync"):
        proc = envlock(command, "--project", str(project))
        assert proc.returncode == 2, proc.stderr
        assert "envlock reads manifests of up to 1 MB" in first_error_line(proc)
    sandbox.assert_safe()
