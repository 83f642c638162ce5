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
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .core import operations
from .core.atomic import is_busy
from .core.errors import EnvlockError
from .core.other_tools import OtherTool, folder_tool
from .core.project import DEFAULT_IGNORED, DEFAULT_SCAN_DEPTH, RACY_NS, Listings, Project, walk
from .core.project import Listing as ProjectListing
from .core.pyproject import MANIFEST
from .core.results import ProjectState
from .core.watch import FolderWatch, Mark

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


def _relative(folder: str, root: str) -> str:
    """`folder` below `root` as a POSIX path ("." for the root itself)."""
    if folder == root:
        return "."
    return folder[len(root) :].lstrip(os.sep).replace(os.sep, "/")


_Stat = tuple[int, int, int] | None


def _stat(path: str) -> _Stat:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class _ManifestCache:
    """Names per pyproject.toml, re-read only when the file changes (a scan is then a stat per
    folder and per manifest)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple[int, int], ScannedProject]] = {}
        self.stats: dict[str, _Stat] = {}  # manifest path -> its stat in the last scan

    def scanned(self, folder: str, root: str) -> ScannedProject:
        """The entry of the project in `folder` under the scanner's `root`."""
        path = os.path.join(folder, MANIFEST)
        try:
            stat = os.stat(path)
        except OSError as e:
            self.stats[path] = None
            relative = _relative(folder, root)
            return ScannedProject(Path(folder), relative, os.path.basename(folder), None, str(e))
        self.stats[path] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        key = (stat.st_mtime_ns, stat.st_size)
        hit = self._entries.get(folder)
        if hit is not None and hit[0] == key:
            return hit[1]
        relative = _relative(folder, root)
        project = Project(Path(folder))
        try:
            entry = ScannedProject(project.root, relative, project.name, project.kernel_name)
        except EnvlockError as e:
            entry = ScannedProject(project.root, relative, project.root.name, None, e.message)
        self._entries[folder] = (key, entry)
        return entry

    def keep_only(self, folders: Iterable[str]) -> None:
        """Forget the projects no longer found."""
        kept = set(folders)
        self._entries = {k: v for k, v in self._entries.items() if k in kept}
        manifests = {os.path.join(folder, MANIFEST) for folder in kept}
        self.stats = {k: v for k, v in self.stats.items() if k in manifests}


class Listing:
    """One pass over the projects' states. Each stat is taken once and serves every project
    (the last scan's manifests, the folders all projects share); a project with no state folder
    holds no project lock. With a watch, it notes the projects whose state the next pass may
    take as it is while no watched folder changes (`covered`)."""

    def __init__(
        self,
        states: _StateCache,
        manifests: dict[str, _Stat],
        listings: Listings,
        watch: FolderWatch | None = None,
    ) -> None:
        self._states = states
        self._manifests = manifests
        self._listings = listings
        self._watch = watch
        self._shared: dict[str, _Stat] = {}
        self._folders: dict[str, frozenset[str]] = {}
        self.covered: set[Path] = set()

    def state(self, project: ScannedProject) -> ProjectState:
        """The project's state; errors are its state's own (`operations.state`)."""
        return self._states.state(project.root, self)

    def manifest_stat(self, folder: str) -> _Stat:
        """The stat the last scan took of `folder`'s manifest."""
        return self._manifests.get(os.path.join(folder, MANIFEST))

    def folder(self, folder: str) -> ProjectListing | None:
        return self._listings.kept(folder)

    def shared_stat(self, path: str) -> _Stat:
        """A path many projects name (envlock's envs folder): one stat per listing."""
        if path not in self._shared:
            self._shared[path] = _stat(path)
        return self._shared[path]

    def busy(self, kept: _Kept) -> bool:
        folder = kept.state_parent
        if folder not in self._folders:
            try:
                self._folders[folder] = frozenset(os.listdir(folder))
            except OSError:
                self._folders[folder] = frozenset()
        return kept.state_name in self._folders[folder] and is_busy(kept.lock)

    def note(self, root: Path, kept: _Kept) -> None:
        """`kept` serves this pass, its project not busy: covered if every folder it depends on
        is watched (its state folder too: `project_lock` touches the lock it takes)."""
        watch = self._watch
        if watch is not None and kept.watchable and all(watch.watch(f) for f in kept.folders):
            self.covered.add(root)


@dataclass(frozen=True)
class _Kept:
    """A project's state and what it was computed from: the manifest's stat, the project
    folder's listing (entries missing then are still missing while it is the same object, no
    stat needed), the stats of the other inputs, and where its project lock would be."""

    state: ProjectState
    manifest: _Stat
    folder: ProjectListing | None  # None: not kept by the walk; then every input is in `paths`
    paths: tuple[str, ...]
    stats: tuple[_Stat, ...]
    shared: tuple[tuple[str, _Stat], ...]  # inputs outside the project (see Listing.shared_stat)
    lock: Path
    state_parent: str
    state_name: str
    folders: tuple[str, ...]  # where a change to any input shows as an event (FolderWatch)
    watchable: bool  # False: an input is a symlink, whose target's changes go unseen

    def holds(self, root: str, listing: Listing) -> bool:
        return (
            listing.manifest_stat(root) == self.manifest
            and (self.folder is None or listing.folder(root) is self.folder)
            and all(listing.shared_stat(p) == st for p, st in self.shared)
            and tuple(map(_stat, self.paths)) == self.stats
        )


class _StateCache:
    """Each project's state (apart from `busy`, always asked), kept while the stats of what it
    was computed from (`operations.state_inputs`) stay the same: listing thousands of projects
    is then a few stats per project instead of a status each. A state whose inputs changed less
    than RACY_NS ago is not kept (a change within the same clock tick would not show)."""

    def __init__(self) -> None:
        self._entries: dict[Path, _Kept] = {}

    def state(self, root: Path, listing: Listing) -> ProjectState:
        folder = str(root)
        kept = self._entries.get(root)
        if kept is not None and kept.holds(folder, listing):
            if listing.busy(kept):
                return "busy"
            listing.note(root, kept)
            return kept.state
        project = Project(root)  # one manifest read for both questions
        inputs = operations.state_inputs(project)
        paths = [str(p) for p in inputs] if inputs is not None else None
        before = [_stat(p) for p in paths] if paths is not None else None  # before reading: a
        state = operations.state(project)  # change made meanwhile shows next time
        if paths is not None and before is not None and state != "busy" and not _recent(before):
            kept = self._entries[root] = _keep(state, folder, paths, before, listing, project)
            listing.note(root, kept)
        else:
            self._entries.pop(root, None)
        return state

    def keep_only(self, roots: Iterable[Path]) -> None:
        kept = set(roots)
        self._entries = {k: v for k, v in self._entries.items() if k in kept}


def _keep(
    state: ProjectState,
    folder: str,
    paths: list[str],
    stats: list[_Stat],
    listing: Listing,
    project: Project,
) -> _Kept:
    """Sort a state's inputs by how a later listing checks them (see _Kept)."""
    manifest = os.path.join(folder, MANIFEST)
    kept_folder = listing.folder(folder)
    names = kept_folder.names if kept_folder is not None else None
    own: list[tuple[str, _Stat]] = []
    shared: list[tuple[str, _Stat]] = []
    for path, st in zip(paths, stats, strict=True):
        if path == manifest:
            continue
        if not path.startswith(folder + os.sep):
            shared.append((path, st))
            continue
        first = path[len(folder) + 1 :].split(os.sep, 1)[0]
        if st is None and names is not None and first not in names:
            continue  # absent, and its folder's listing will tell if it appears
        own.append((path, st))
    lock = project.file_lock_path
    state_parent = str(lock.parent.parent)
    return _Kept(
        state,
        stats[paths.index(manifest)] if manifest in paths else listing.manifest_stat(folder),
        kept_folder,
        tuple(p for p, _ in own),
        tuple(st for _, st in own),
        tuple(shared),
        lock,
        state_parent,
        lock.parent.name,
        _watched_folders(folder, [*paths, str(lock)]),  # the lock: where it is, or will be
        not any(os.path.islink(p) for p in paths),
    )


def _watched_folders(project: str, paths: list[str]) -> tuple[str, ...]:
    """The folders whose events show every change to `paths`: the project's, each path's folder
    (or, for one not made yet, the nearest folder that exists: its making starts there), and
    each path that is a folder itself (its entries are an input: site-packages)."""
    found = dict.fromkeys([project])
    for path in paths:
        if os.path.isdir(path):
            found[path] = None
        parent = os.path.dirname(path)
        while parent != os.path.dirname(parent) and not os.path.isdir(parent):
            parent = os.path.dirname(parent)
        found[parent] = None
    return tuple(found)


def project_state(listing: Listing, scanned: ScannedProject) -> tuple[str, str | None]:
    """The project's state and, for "error", why."""
    if scanned.kernel_name is None:
        return "error", scanned.error
    try:
        return listing.state(scanned), None
    except EnvlockError as e:
        return "error", e.message
    except Exception as e:  # one bad project must not hide the others
        return "error", f"{type(e).__name__}: {e}"


def _recent(stats: list[_Stat]) -> bool:
    now = time.time_ns()
    return any(st is not None and now - st[0] < RACY_NS for st in stats)


@dataclass(frozen=True)
class _Memo:
    """A pass over the projects' states, valid while the watch's mark stays `mark`; the
    projects at `volatile` (not covered: a lock may be held, an input unwatched, an error) are
    asked again each time."""

    mark: Mark
    snapshot: Snapshot
    states: tuple[tuple[str, str | None], ...]
    volatile: tuple[int, ...]


class ProjectScanner:
    """Scans `root` for projects in the background; `snapshot()` never touches the disk.

    With a folder watch (`watch`, on Linux's local file systems), a scan or a pass over the
    states that saw no event, on folders all watched before it began, is reused until an event
    comes: a later listing of an unchanged root reads the event queue instead of the disk."""

    def __init__(
        self,
        root: Path | str,
        depth: int = DEFAULT_SCAN_DEPTH,
        ignored: Iterable[str] = DEFAULT_IGNORED,
        interval: float = 5.0,
        log: logging.Logger | None = None,
        watch: bool = True,
    ) -> None:
        self.root = Path(root).expanduser().resolve()
        self.depth = depth
        self.ignored = frozenset(ignored)
        self.interval = interval
        self.log = log or logging.getLogger("jupyter_envlock")
        self._snapshot: Snapshot | None = None
        self._watch = FolderWatch.shared() if watch else None
        self._clean: tuple[Mark, Snapshot] | None = None  # the last scan, if nothing changed in it
        self._memo: _Memo | None = None
        self._manifests = _ManifestCache()
        self._listings = Listings(self._watch)
        self._states = _StateCache()
        self._folders: list[str] = []
        self._scan_lock = threading.Lock()
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
        """Walk the root once (one stat per folder and per manifest when nothing changed)."""
        with self._scan_lock:  # the walk's caches are the scanner's own
            return self._scan()

    def _scan(self) -> Snapshot:
        watch = self._watch
        if watch is None:
            return self._walk()
        start = watch.mark()
        if self._clean is not None and self._clean[0] == start:
            return self._clean[1]  # no folder it read has changed since
        snapshot = self._walk()
        clean = not self._listings.unwatched and watch.mark() == start
        self._clean = (start, snapshot) if clean else None
        return snapshot

    def _walk(self) -> Snapshot:
        projects = []
        kernels: dict[str, ScannedProject] = {}

        def refused(folder: Path, why: str) -> None:
            self._warn_once(f"jupyter_envlock: {folder} is left out: {why}")

        root = str(self.root)
        found, other_folders = walk(self.root, self.depth, self.ignored, refused, self._listings)
        folders = []
        for folder in other_folders:
            tool = folder_tool(Path(folder))
            if tool is not None:
                folders.append(ScannedFolder(Path(folder), _relative(folder, root), tool))
        for folder in found:
            entry = self._manifests.scanned(folder, root)
            projects.append(entry)
            if entry.kernel_name is None:
                self._warn_once(f"jupyter_envlock: no kernel for {entry.root}: {entry.error}")
            elif entry.kernel_name in kernels:
                self._warn_once(
                    f"jupyter_envlock: projects {kernels[entry.kernel_name].relative!r} and "
                    f"{entry.relative!r} both want kernel {entry.kernel_name!r}; the first one "
                    'keeps it. Set [tool.envlock] kernel-name = "..." in one of them.'
                )
            else:
                kernels[entry.kernel_name] = entry
        if found != self._folders:  # projects came or went: forget the ones gone
            self._manifests.keep_only(found)
            self._states.keep_only(p.root for p in projects)
            self._folders = found
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

    def listing(self) -> Listing:
        """Start one listing of the projects' states (reads files: never on the event loop)."""
        return Listing(self._states, self._manifests.stats, self._listings, self._watch)

    def project_states(self) -> tuple[Snapshot, list[tuple[str, str | None]]]:
        """Every project after a fresh scan (so a folder made a moment ago is listed), with its
        state and, for "error", why (reads files: never on the event loop). Taken from the last
        pass when no watched folder changed since; the projects it could not cover are asked
        again."""
        start = self._watch.mark() if self._watch is not None else None
        memo = self._memo
        if memo is not None and memo.mark == start:
            states = list(memo.states)
            if memo.volatile:
                listing = self.listing()
                for i in memo.volatile:
                    states[i] = project_state(listing, memo.snapshot.projects[i])
            return memo.snapshot, states
        self.refresh()
        snapshot = self.snapshot()
        listing = self.listing()
        states = [project_state(listing, p) for p in snapshot.projects]
        clean = self._clean
        if (
            self._watch is not None
            and clean is not None
            and clean[0] == start == self._watch.mark()
            and clean[1] == snapshot
        ):
            volatile = tuple(
                i for i, p in enumerate(snapshot.projects) if p.root not in listing.covered
            )
            self._memo = _Memo(start, snapshot, tuple(states), volatile)
        else:
            self._memo = None
        return snapshot, states

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
