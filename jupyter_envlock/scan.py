"""The projects under the server root, found by one background scanner.

Jupyter calls `get_kernel_spec` synchronously on the event loop, once per kernel start and per spec
listed, and the panel lists projects every few seconds: neither may walk the file tree (a slow scan
froze nb_conda_kernels' servers). A daemon thread scans every `interval` seconds and publishes an
immutable snapshot in one assignment; readers only read it. The first use scans in place (a root
of ordinary size takes milliseconds). No Jupyter imports: the kernel spec manager and the REST
handlers both use this one scanner.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .core.errors import EnvlockError
from .core.other_tools import OtherTool, folder_tool
from .core.project import DEFAULT_IGNORED, DEFAULT_SCAN_DEPTH, Project, discover

UNKNOWN_NAME_WAIT = 0.5  # longest wait for a fresh scan when an unknown kernel name is asked for


@dataclass(frozen=True)
class ScannedProject:
    """One folder with a pyproject.toml: its names, or why it has none."""

    root: Path
    relative: str  # POSIX path relative to the root; "." for the root itself
    name: str
    kernel_name: str | None  # None: the manifest cannot be read (see `error`)
    error: str | None = None

    @property
    def display_name(self) -> str:
        return f"Python ({self.name})"


@dataclass(frozen=True)
class ScannedFolder:
    """A folder that is not a project (yet) but belongs to a tool envlock knows: a
    requirements.txt folder, a Pipenv or conda folder (`core.other_tools`)."""

    root: Path
    relative: str
    tool: OtherTool


@dataclass(frozen=True)
class Snapshot:
    projects: tuple[ScannedProject, ...]  # every project found, readable or not
    kernels: dict[str, ScannedProject]  # kernel name -> project (the first one wins)
    folders: tuple[ScannedFolder, ...] = ()  # not projects, but named (see ScannedFolder)


class _ManifestCache:
    """Names per pyproject.toml, re-read only when the file changes (a scan is then listdirs)."""

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[int, int], ScannedProject]] = {}

    def scanned(self, project: Project, relative: str) -> ScannedProject:
        try:
            stat = project.manifest_path.stat()
        except OSError as e:
            return ScannedProject(project.root, relative, project.root.name, None, str(e))
        key = (stat.st_mtime_ns, stat.st_size)
        hit = self._entries.get(project.root)
        if hit is not None and hit[0] == key and hit[1].relative == relative:
            return hit[1]
        try:
            entry = ScannedProject(project.root, relative, project.name, project.kernel_name)
        except EnvlockError as e:
            entry = ScannedProject(project.root, relative, project.root.name, None, e.message)
        self._entries[project.root] = (key, entry)
        return entry


class ProjectScanner:
    """Scans `root` for projects in the background; `snapshot()` never touches the disk."""

    def __init__(
        self,
        root: Path | str,
        depth: int = DEFAULT_SCAN_DEPTH,
        ignored: Iterable[str] = DEFAULT_IGNORED,
        interval: float = 5.0,
        log: logging.Logger | None = None,
    ) -> None:
        self.root = Path(root).expanduser().resolve()
        self.depth = depth
        self.ignored = frozenset(ignored)
        self.interval = interval
        self.log = log or logging.getLogger("jupyter_envlock")
        self._snapshot: Snapshot | None = None
        self._manifests = _ManifestCache()
        self._warned: set[str] = set()
        self._state_lock = threading.Lock()
        self._wake = threading.Event()
        self._scanned = threading.Condition()
        self._scan_count = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_unknown_wait = 0.0

    # ------------------------------------------------------------------ scanning

    def scan(self) -> Snapshot:
        """Walk the root once."""
        projects = []
        kernels: dict[str, ScannedProject] = {}

        def refused(folder: Path, why: str) -> None:
            self._warn_once(f"jupyter_envlock: {folder} is left out: {why}")

        found, other_folders = discover(self.root, self.depth, self.ignored, refused)
        folders = []
        for folder in other_folders:
            tool = folder_tool(folder)
            if tool is not None:
                relative = folder.relative_to(self.root).as_posix()
                folders.append(ScannedFolder(folder, relative, tool))
        for project in found:
            relative = project.root.relative_to(self.root).as_posix()
            entry = self._manifests.scanned(project, relative)
            projects.append(entry)
            if entry.kernel_name is None:
                self._warn_once(f"jupyter_envlock: no kernel for {project.root}: {entry.error}")
            elif entry.kernel_name in kernels:
                self._warn_once(
                    f"jupyter_envlock: projects {kernels[entry.kernel_name].relative!r} and "
                    f"{relative!r} both want kernel {entry.kernel_name!r}; the first one keeps "
                    'it. Set [tool.envlock] kernel-name = "..." in one of them.'
                )
            else:
                kernels[entry.kernel_name] = entry
        return Snapshot(tuple(projects), kernels, tuple(folders))

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.log.warning(message)

    def _publish(self, snapshot: Snapshot) -> None:
        with self._scanned:
            old = self._snapshot
            if old != snapshot:  # an unchanged scan keeps its identity (and the spec cache)
                self._snapshot = snapshot
            self._scan_count += 1
            self._scanned.notify_all()
        if old is not None and old.kernels.keys() != snapshot.kernels.keys():
            self.log.info(
                "jupyter_envlock: project kernels now %s",
                ", ".join(sorted(snapshot.kernels)) or "none",
            )

    def _safe_scan(self) -> Snapshot | None:
        try:
            return self.scan()
        except Exception:  # a scan must never kill the thread or a request
            self.log.warning("jupyter_envlock: project scan failed", exc_info=True)
            return None

    def start(self) -> None:
        """Scan once now, then keep scanning in a daemon thread (until `stop`)."""
        with self._state_lock:
            if self._snapshot is None:
                self._publish(self._safe_scan() or Snapshot((), {}))
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="envlock-project-scan", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Stop the background scanner (the server extension calls this on shutdown)."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            snapshot = self._safe_scan()
            if snapshot is not None:
                self._publish(snapshot)

    def refresh(self, timeout: float = 10.0) -> None:
        """Ask for a scan and wait for it (tests, CLI, a thread off the event loop)."""
        self.start()
        if self._thread is None:  # stopped: scan in place
            snapshot = self._safe_scan()
            if snapshot is not None:
                self._publish(snapshot)
            return
        self._wait_for_scan(timeout)

    def _wait_for_scan(self, timeout: float) -> None:
        with self._scanned:
            target = self._scan_count + 1
            self._wake.set()
            self._scanned.wait_for(lambda: self._scan_count >= target, timeout)

    # ------------------------------------------------------------------ reading

    def snapshot(self) -> Snapshot:
        """The current projects (scans in place only on the very first call)."""
        if self._snapshot is None:
            self.start()
        return self._snapshot or Snapshot((), {})

    def kernels(self) -> dict[str, ScannedProject]:
        return self.snapshot().kernels

    def find_new_kernel(self, name: str) -> ScannedProject | None:
        """A kernel name the last scan did not know, perhaps of a project created a moment ago:
        wake the scanner and wait briefly, at most once a second, so a notebook naming a missing
        kernel cannot stall the server."""
        now = time.monotonic()
        if self._thread is None or now - self._last_unknown_wait < 1.0:
            return None
        self._last_unknown_wait = now
        self._wait_for_scan(UNKNOWN_NAME_WAIT)
        return self.kernels().get(name)
