"""Faults: envlock killed with SIGKILL mid-command, and the index going away mid-sync (issue 6).

The core has no test hooks, on purpose: kills land by timing (a spread of delays) or by polling
for a visible state (the lock bytes changed, the manifest changed, the env's sync marker vanished,
a dist-info appeared) and killing at once. After every kill the next `jupyter envlock sync` must
leave a consistent project: the manifest is the old or the new one, the lock is valid PEP 751
(packaging.pylock) and matches the manifest, and the env is in sync with the lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cli import ENVLOCK, EnvlockRun, run_envlock
from support.index import IndexServer, _Handler, _HTTPServer

from jupyter_envlock.core import environment, operations
from jupyter_envlock.core.lockfile import Lock
from jupyter_envlock.core.manifest import Manifest
from jupyter_envlock.core.project import find_project
from jupyter_envlock.core.requirements import parse_requirement

pytestmark = pytest.mark.slow

HEADER = '[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
PYTHON_MINOR = f"{sys.version_info.major}.{sys.version_info.minor}"


def start_cli(*argv: str) -> subprocess.Popen[str]:
    """`jupyter envlock ...` in its own process group, so a kill can take uv down with it."""
    return subprocess.Popen(
        [*ENVLOCK, *argv, "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run_cli(*argv: str) -> EnvlockRun:
    return run_envlock(*argv, "--quiet")


def kill(proc: subprocess.Popen[str], group: bool) -> bool:
    """SIGKILL the CLI (and with `group`, the uv it runs). True when it was still running."""
    alive = proc.poll() is None
    if alive:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    proc.communicate(timeout=60)
    return alive


def wait_until(
    condition: Callable[[], bool], proc: subprocess.Popen[str], limit: float = 60
) -> bool:
    """Poll `condition` as fast as is decent; False if the process ended or time ran out first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return condition()
        time.sleep(0.0002)
    return False


def read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def assert_consistent(root: Path, manifests: tuple[bytes, ...]) -> None:
    """What every recovered project must look like."""
    manifest = (root / "pyproject.toml").read_bytes()
    assert manifest in manifests, manifest.decode()
    status = operations.status(root)
    assert status.state == "in-sync", status.to_dict()
    lock = Lock.load(root / "pylock.toml")  # packaging.pylock validation, every file hashed
    direct = {
        parse_requirement(r).name
        for reqs in Manifest.from_bytes(root / "pyproject.toml", manifest)
        .pyproject.requirements()
        .values()
        for r in reqs
    }
    locked = lock.versions()
    assert direct <= set(locked), (direct, sorted(locked))
    installed = environment.installed_distributions(Path(str(status.env_path)))
    assert {n: v for n, v in installed.items() if n in direct} == {
        n: v for n, v in locked.items() if n in direct
    }
    leftovers = [p.name for p in root.iterdir() if p.name not in ("pyproject.toml", "pylock.toml")]
    # A kill inside an atomic write's fsync window may leave its hidden temp file, never more.
    assert all(n.startswith(".") and n.endswith(".tmp") for n in leftovers), leftovers


# --------------------------------------------------------------------------- a killed add/remove


@dataclass
class Shared:
    root: Path
    env: Path


@pytest.fixture(scope="module")
def shared(scrubbed_env, tmp_path_factory) -> Shared:
    root = tmp_path_factory.mktemp("faults") / "killed"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        HEADER.format(name="killed")
        + 'dependencies = [\n    "tinyb",\n]\n'
        + '\n[tool.envlock]\nadd-bounds = "none"\n'  # the toggle below writes the bare name
    )
    report = operations.sync(root)
    return Shared(root, report.sync.path)


def next_edit(root: Path) -> tuple[list[str], bytes, bytes]:
    """Toggle tinyd: the command, and the manifest bytes before and after it."""
    before = (root / "pyproject.toml").read_bytes()
    manifest = Manifest.from_bytes(root / "pyproject.toml", before)
    if "tinyd" in before.decode():
        manifest.remove("tinyd")
        argv = ["remove", "--project", str(root), "tinyd"]
    else:
        manifest.add(parse_requirement("tinyd"))
        argv = ["add", "--project", str(root), "tinyd"]
    return argv, before, manifest.dumps()


def _changed(path: Path, old: bytes | None) -> Callable[[], bool]:
    return lambda: read(path) != old


def _gone(path: Path) -> Callable[[], bool]:
    return lambda: not path.exists()


def _dists_changed(env: Path, old: list[str]) -> Callable[[], bool]:
    return lambda: environment.dist_infos(env) != old


def observed(root: Path, env: Path, lock: bytes | None, manifest: bytes) -> str:
    """Where the kill landed, for the log (`pytest -s`)."""
    return (
        f"lock {'new' if read(root / 'pylock.toml') != lock else 'old'}, "
        f"manifest {'new' if read(root / 'pyproject.toml') != manifest else 'old'}, "
        f"marker {'present' if (env / environment.MARKER).exists() else 'absent'}"
    )


# name -> (what to wait for, kill the whole process group)
POLLED = {
    "lock-written": ("lock", True),
    "manifest-written": ("manifest", True),
    "marker-removed": ("marker", True),
    "marker-removed-uv-survives": ("marker", False),
    "env-changing": ("dists", True),
    "env-changing-uv-survives": ("dists", False),
}
DELAYS_MS = (0, 120, 180, 200, 220, 240, 260, 280, 300, 330)


@pytest.mark.parametrize("point", POLLED)
def test_killed_at_a_visible_point_then_sync_recovers(shared: Shared, point: str):
    root = shared.root
    argv, before, after = next_edit(root)
    what, group = POLLED[point]
    lock_bytes = read(root / "pylock.toml")
    condition = {
        "lock": _changed(root / "pylock.toml", lock_bytes),
        "manifest": _changed(root / "pyproject.toml", before),
        "marker": _gone(shared.env / environment.MARKER),
        "dists": _dists_changed(shared.env, environment.dist_infos(shared.env)),
    }[what]
    proc = start_cli(*argv)
    reached = wait_until(condition, proc)
    killed = kill(proc, group)
    print(point, "killed" if killed else "finished", observed(root, shared.env, lock_bytes, before))
    assert reached, f"never saw {what} change"
    assert killed or what == "dists", "the command finished before the kill"  # dists: uv's last act
    recovered = run_cli("sync", "--project", str(root))
    assert recovered.returncode == 0, recovered.stderr
    assert_consistent(root, (before, after))


@pytest.mark.parametrize("delay_ms", DELAYS_MS)
def test_killed_after_a_delay_then_sync_recovers(shared: Shared, delay_ms: int):
    root = shared.root
    argv, before, after = next_edit(root)
    proc = start_cli(*argv)
    lock_bytes = read(root / "pylock.toml")
    time.sleep(delay_ms / 1000)
    killed = kill(proc, group=True)
    print(
        delay_ms, "killed" if killed else "finished", observed(root, shared.env, lock_bytes, before)
    )
    recovered = run_cli("sync", "--project", str(root))
    assert recovered.returncode == 0, recovered.stderr
    assert_consistent(root, (before, after))


# --------------------------------------------------------------------------- a killed first build


# name -> (what to wait for, kill the whole process group). The timed points count from the
# env folder's appearance, not from the command's start: the CLI takes 0.3-0.5 s to get there, so a
# kill timed from the start often came before there was any build to kill. A build here takes
# 0.25 s or more from that folder to its sync marker.
FRESH_POINTS = {
    "env-folder-created": ("folder", True),
    "first-package-installed": ("dists", True),
    "first-package-installed-uv-survives": ("dists", False),
    "25ms-into-the-build": ("25", True),
    "100ms-into-the-build": ("100", True),
}


@pytest.mark.parametrize("point", FRESH_POINTS)
def test_killed_first_env_build_is_repaired(scrubbed_env, tmp_path: Path, point: str):
    """A kernel's first start builds the env from the lock; killed there, the next sync finishes."""
    root = tmp_path / "fresh"
    root.mkdir()
    (root / "pyproject.toml").write_text(HEADER.format(name="fresh") + 'dependencies = ["tinyd"]\n')
    operations.lock(root)
    manifest, lock = (root / "pyproject.toml").read_bytes(), (root / "pylock.toml").read_bytes()
    env = find_project(root).default_env_dir(PYTHON_MINOR)
    what, group = FRESH_POINTS[point]
    proc = start_cli("sync", "--project", str(root))
    if what == "dists":
        reached = wait_until(lambda: bool(environment.dist_infos(env)), proc)
    else:
        reached = wait_until(env.exists, proc)
        if reached and what != "folder":
            time.sleep(int(what) / 1000)
    killed = kill(proc, group)
    installed = environment.dist_infos(env)
    print(point, "killed" if killed else "finished", f"{len(installed)} dists installed",
          f"marker {'present' if (env / environment.MARKER).exists() else 'absent'}")  # fmt: skip
    # The kill landed mid-build: the build had begun (what was waited for appeared while the
    # command ran), our SIGKILL ended the command, and the env never got its sync marker (the
    # last thing a build writes).
    assert reached, f"never saw {what} appear"
    assert killed and proc.returncode == -signal.SIGKILL, "the command finished before the kill"
    assert not (env / environment.MARKER).exists(), "the build was complete before the kill"
    assert (root / "pyproject.toml").read_bytes() == manifest
    assert (root / "pylock.toml").read_bytes() == lock
    recovered = run_cli("sync", "--project", str(root))
    assert recovered.returncode == 0, recovered.stderr
    assert_consistent(root, (manifest,))


# --------------------------------------------------------------------------- the index goes away


class RestartableIndex(IndexServer):
    """The test index's files on a port that survives stop/start, as a real index comes back at
    the same URL (a lock pins that URL)."""

    def start(self) -> RestartableIndex:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer(("127.0.0.1", self._port or 0), _Handler)
        httpd.owner = self
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self


@pytest.fixture
def flaky_index(
    scrubbed_env, local_index, tmp_path: Path, monkeypatch
) -> Iterator[RestartableIndex]:
    """A second server on the same files, with an empty uv cache so a sync must download, one
    file at a time so a window exists to pull the plug."""
    server = RestartableIndex(local_index.root).start()
    monkeypatch.setenv("UV_DEFAULT_INDEX", server.url)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-uv-cache"))
    monkeypatch.setenv("UV_CONCURRENT_DOWNLOADS", "1")
    yield server
    server.stop()


def _wheel_requested(server: IndexServer) -> Callable[[], bool]:
    return lambda: any(p.endswith(".whl") for p in list(server.requests))


@pytest.mark.parametrize("outage", ["server-stopped", "server-answers-503"])
def test_index_going_away_mid_sync_is_a_clear_error_and_next_sync_repairs(
    flaky_index: RestartableIndex, tmp_path: Path, outage: str
):
    root = tmp_path / "outage"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        HEADER.format(name="outage") + 'dependencies = ["tinyd"]\n'
    )
    operations.lock(root)  # resolution reads metadata files only; no wheel is downloaded yet
    manifest, lock = (root / "pyproject.toml").read_bytes(), (root / "pylock.toml").read_bytes()
    assert len(Lock.parse(lock).versions()) >= 20, "a kernel env has many packages to download"

    proc = start_cli("sync", "--project", str(root))
    assert wait_until(_wheel_requested(flaky_index), proc), "no download started"
    if outage == "server-stopped":
        flaky_index.stop()
    else:
        flaky_index.fail_status = 503
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("error: uv pip sync could not reach a package index"), stderr
    assert (root / "pyproject.toml").read_bytes() == manifest
    assert (root / "pylock.toml").read_bytes() == lock
    assert operations.status(root).state != "in-sync"

    flaky_index.fail_status = None
    flaky_index.start()
    recovered = run_cli("sync", "--project", str(root))
    assert recovered.returncode == 0, recovered.stderr
    assert_consistent(root, (manifest,))


def test_index_going_away_mid_resolution_changes_nothing(
    flaky_index: RestartableIndex, tmp_path: Path
):
    root = tmp_path / "outage"
    root.mkdir()
    (root / "pyproject.toml").write_text(HEADER.format(name="outage") + "dependencies = []\n")
    proc = start_cli("add", "--project", str(root), "--no-sync", "tinyd")
    assert wait_until(lambda: bool(flaky_index.requests), proc), "no request reached the index"
    flaky_index.stop()
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("error: uv pip compile could not reach a package index"), stderr
    assert sorted(os.listdir(root)) == ["pyproject.toml"]
    assert "tinyd" not in (root / "pyproject.toml").read_text()

    flaky_index.start()
    done = run_cli("add", "--project", str(root), "tinyd")
    assert done.returncode == 0, done.stderr
    assert_consistent(root, ((root / "pyproject.toml").read_bytes(),))
