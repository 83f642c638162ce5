"""One kernel spec per project under the server root, added next to the existing specs.

Jupyter calls `get_kernel_spec` synchronously on the event loop, once per kernel start and per spec
listed, so discovery must never walk the file tree there: a slow scan froze nb_conda_kernels'
servers. Projects are found by a background thread every `rescan_interval` seconds and kept in a
dictionary swapped in one assignment; a request only reads it. The very first use scans in place
(a root of ordinary size takes milliseconds), and a request for an unknown envlock kernel name
wakes the scanner and waits for it briefly, so a project created a moment ago resolves.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from jupyter_client.provisioning.factory import KernelProvisionerFactory
from jupyter_server.utils import url_path_join
from traitlets import Float, Int, List, Unicode, default, observe

from .core.errors import EnvlockError
from .core.project import DEFAULT_IGNORED, KERNEL_NAME, KERNEL_PREFIX, Project, discover_projects

KERNEL_SIDE = Path(__file__).resolve().parent / "kernel_side"
PROVISIONER_NAME = "envlock-provisioner"
PROVISIONER_TARGET = "jupyter_envlock.provisioner:EnvlockProvisioner"


@dataclass(frozen=True)
class ProjectKernel:
    """What a kernel spec needs to know about one discovered project."""

    kernel_name: str
    project_name: str
    root: Path
    relative: str  # POSIX path relative to the server root; "." for the root itself

    @property
    def display_name(self) -> str:
        return f"Python ({self.project_name})"


def launch_argv(project_root: Path | str) -> list[str]:
    """A kernel command that works even for tools that ignore provisioners (VS Code, old clients):
    the server's Python syncs the env, then replaces itself with the project kernel."""
    return [
        sys.executable,
        "-m",
        "jupyter_envlock",
        "kernels",
        "launch",
        "--project",
        str(project_root),
        "-f",
        "{connection_file}",
    ]


def spec_dict(
    kernel_name: str, display_name: str, project_root: Path | str, envlock_metadata: dict
) -> dict[str, Any]:
    """The kernel.json content shared by discovered specs and `kernels install`."""
    return {
        "argv": launch_argv(project_root),
        "display_name": display_name,
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {
            "debugger": True,
            "kernel_provisioner": {
                "provisioner_name": PROVISIONER_NAME,
                "config": {"project_path": str(project_root)},
            },
            "envlock": {"kernel_name": kernel_name, **envlock_metadata},
        },
    }


def ensure_provisioner_registered() -> None:
    """Make the provisioner resolvable even when the package's entry points are not installed
    (a source checkout on PYTHONPATH): jupyter_client refuses a spec whose provisioner it cannot
    find, and that would hide every project kernel."""
    providers = KernelProvisionerFactory.provisioners
    if PROVISIONER_NAME not in providers:
        providers[PROVISIONER_NAME] = EntryPoint(
            PROVISIONER_NAME, PROVISIONER_TARGET, KernelProvisionerFactory.GROUP_NAME
        )


def is_envlock_spec_dir(resource_dir: str) -> bool:
    """Whether an installed spec folder was written by `jupyter envlock kernels install`."""
    try:
        with open(os.path.join(resource_dir, "kernel.json"), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "envlock" in (data.get("metadata") or {})


class _ManifestCache:
    """Kernel name and project name per pyproject.toml, re-read only when the file changes."""

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[int, int], tuple[str, str]]] = {}

    def names(self, project: Project) -> tuple[str, str]:
        stat = project.manifest_path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        hit = self._entries.get(project.root)
        if hit is not None and hit[0] == key:
            return hit[1]
        names = (project.kernel_name, project.name)
        self._entries[project.root] = (key, names)
        return names


class EnvlockKernelSpecManager(KernelSpecManager):
    """Adds `envlock-<project>` specs for the projects under `root_dir`; never hides or renames
    an existing spec (python3 stays).

    The server extension sets it as `ServerApp.kernel_spec_manager_class` unless the user chose
    another one, and passes its own options (scan depth, ignored folders, rescan interval) here.
    """

    root_dir = Unicode(help="Folder whose projects get kernels (the server's root_dir).").tag(
        config=True
    )
    scan_depth = Int(3, help="How many folder levels below root_dir to look for projects.").tag(
        config=True
    )
    ignored_folders = List(
        Unicode(),
        default_value=sorted(DEFAULT_IGNORED),
        help="Folder names never searched for projects (hidden folders and venvs are skipped too).",
    ).tag(config=True)
    rescan_interval = Float(
        5.0, help="Seconds between background scans for new, renamed or removed projects."
    ).tag(config=True)
    unknown_name_wait = Float(
        0.5,
        help="Longest wait (seconds) for a fresh scan when an unknown envlock kernel is requested.",
    ).tag(config=True)

    @default("root_dir")
    def _root_dir_default(self) -> str:
        parent_root = getattr(self.parent, "root_dir", None)
        return str(parent_root) if parent_root else os.getcwd()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        ensure_provisioner_registered()
        self._projects: dict[str, ProjectKernel] | None = None
        self._manifests = _ManifestCache()
        self._warned: set[str] = set()
        self._state_lock = threading.Lock()
        self._wake = threading.Event()
        self._scanned = threading.Condition()
        self._scan_count = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_unknown_wait = 0.0
        self._models: tuple[dict[str, ProjectKernel], dict[str, Any]] | None = None

    # ------------------------------------------------------------------ discovery

    @observe("root_dir", "scan_depth", "ignored_folders")
    def _scan_settings_changed(self, change: Any) -> None:
        if getattr(self, "_thread", None) is not None:
            self._wake.set()

    def scan(self) -> dict[str, ProjectKernel]:
        """Walk root_dir once; the first project with a given kernel name wins."""
        root = Path(self.root_dir).expanduser().resolve()
        found: dict[str, ProjectKernel] = {}
        for project in discover_projects(root, self.scan_depth, self.ignored_folders):
            try:
                kernel_name, project_name = self._manifests.names(project)
            except (EnvlockError, OSError) as e:
                self._warn_once(f"jupyter_envlock: no kernel for {project.root}: {e}")
                continue
            relative = project.root.relative_to(root).as_posix()
            if kernel_name in found:
                self._warn_once(
                    f"jupyter_envlock: projects {found[kernel_name].relative!r} and {relative!r} "
                    f"both want kernel {kernel_name!r}; the first one keeps it. Set "
                    '[tool.envlock] kernel-name = "..." in one of them.'
                )
                continue
            found[kernel_name] = ProjectKernel(kernel_name, project_name, project.root, relative)
        return found

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.log.warning(message)

    def _publish(self, projects: dict[str, ProjectKernel]) -> None:
        with self._scanned:
            old = self._projects
            if old != projects:  # an unchanged scan keeps its identity (and the spec cache)
                self._projects = projects
            self._scan_count += 1
            self._scanned.notify_all()
        if old is not None and old.keys() != projects.keys():
            self.log.info(
                "jupyter_envlock: project kernels now %s", ", ".join(sorted(projects)) or "none"
            )

    def start(self) -> None:
        """Scan once now, then keep scanning in a daemon thread (until `stop`)."""
        with self._state_lock:
            if self._projects is None:
                self._publish(self._safe_scan() or {})
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="envlock-kernelspec-scan", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Stop the background scanner (the server extension calls this on shutdown)."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def refresh(self, timeout: float = 10.0) -> None:
        """Ask for a scan and wait for it (tests, CLI): never call this on the event loop."""
        self.start()
        if self._thread is None:  # stopped: scan in place
            projects = self._safe_scan()
            if projects is not None:
                self._publish(projects)
            return
        with self._scanned:
            target = self._scan_count + 1
            self._wake.set()
            self._scanned.wait_for(lambda: self._scan_count >= target, timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.rescan_interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            projects = self._safe_scan()
            if projects is not None:
                self._publish(projects)

    def _safe_scan(self) -> dict[str, ProjectKernel] | None:
        try:
            return self.scan()
        except Exception:  # a scan must never kill the thread or a request
            self.log.warning("jupyter_envlock: project scan failed", exc_info=True)
            return None

    def projects(self) -> dict[str, ProjectKernel]:
        """The current kernel name -> project map (scans only on the very first call)."""
        if self._projects is None:
            self.start()
        return self._projects or {}

    def _lookup(self, kernel_name: str) -> ProjectKernel | None:
        name = kernel_name.lower()
        project = self.projects().get(name)
        if project is not None or not name.startswith(KERNEL_PREFIX):
            return project
        if not KERNEL_NAME.match(name):
            return None
        # A project created since the last scan: wake the scanner and wait a little, at most
        # once per second so a notebook naming a missing kernel cannot stall the server.
        now = time.monotonic()
        if self._thread is None or now - self._last_unknown_wait < 1.0:
            return None
        self._last_unknown_wait = now
        with self._scanned:
            target = self._scan_count + 1
            self._wake.set()
            self._scanned.wait_for(lambda: self._scan_count >= target, self.unknown_name_wait)
        return self.projects().get(name)

    # ------------------------------------------------------------------ KernelSpecManager API

    def project_spec(self, project: ProjectKernel) -> KernelSpec:
        """The spec of a discovered project (resources: the envlock logos)."""
        data = spec_dict(
            project.kernel_name, project.display_name, project.root, {"project": project.relative}
        )
        return self.kernel_spec_class(
            resource_dir=str(KERNEL_SIDE), name=project.kernel_name, **data
        )

    def _existing_wins(self, name: str, existing: dict[str, str]) -> bool:
        """An installed spec of the same name stays, unless envlock wrote it (then it is the same
        project kernel, and the one under the server root is the one the user is browsing)."""
        resource_dir = existing.get(name)
        if resource_dir is None or is_envlock_spec_dir(resource_dir):
            return False
        self._warn_once(
            f"jupyter_envlock: kernel spec {name!r} already exists in {resource_dir}; "
            "the project kernel of the same name is not shown."
        )
        return True

    def get_all_specs(self) -> dict[str, Any]:
        """Installed specs as jupyter_client reads them, plus the projects' specs from a cache
        built once per scan: the base class would search every kernel folder and build a
        KernelSpec per project on every listing (0.13 s for 1000 projects)."""
        installed = super().find_kernel_specs()
        projects = self.projects()
        specs: dict[str, Any] = {}
        for name, resource_dir in installed.items():
            if name in projects and not self._existing_wins(name, installed):
                continue
            try:
                spec = super().get_kernel_spec(name)
            except NoSuchKernel:
                continue
            except Exception:
                self.log.warning("Error loading kernelspec %r", name, exc_info=True)
                continue
            specs[name] = {"resource_dir": resource_dir, "spec": spec.to_dict()}
        for name, model in self._project_models(projects).items():
            if name in specs or (self.allowed_kernelspecs and name not in self.allowed_kernelspecs):
                continue
            specs[name] = model
        return specs

    def _project_models(self, projects: dict[str, ProjectKernel]) -> dict[str, Any]:
        """Finished REST models (name, spec, resources) when the server's base_url is known, so
        jupyter_server also skips its per-spec glob for logos; else jupyter_client's form."""
        cached = self._models
        if cached is not None and cached[0] is projects:
            return cached[1]
        base_url = getattr(self.parent, "base_url", None)
        logos = sorted(p.name for p in KERNEL_SIDE.glob("logo-*"))
        models: dict[str, Any] = {}
        for name, project in projects.items():
            spec = self.project_spec(project).to_dict()
            if base_url is None:
                models[name] = {"resource_dir": str(KERNEL_SIDE), "spec": spec}
                continue
            resources = {
                os.path.splitext(logo)[0]: url_path_join(base_url, "kernelspecs", name, logo)
                for logo in logos
            }
            models[name] = {"name": name, "spec": spec, "resources": resources}
        self._models = (projects, models)
        return models

    def find_kernel_specs(self) -> dict[str, str]:
        specs = super().find_kernel_specs()
        for name in self.projects():
            if self.allowed_kernelspecs and name not in self.allowed_kernelspecs:
                continue
            if not self._existing_wins(name, specs):
                specs[name] = str(KERNEL_SIDE)
        return specs

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        project = self._lookup(kernel_name)
        if project is None:
            return super().get_kernel_spec(kernel_name)
        if self.allowed_kernelspecs and project.kernel_name not in self.allowed_kernelspecs:
            raise NoSuchKernel(kernel_name)
        resource_dir = self._find_spec_directory(project.kernel_name)
        if resource_dir is not None and self._existing_wins(
            project.kernel_name, {project.kernel_name: resource_dir}
        ):
            return super().get_kernel_spec(kernel_name)
        return self.project_spec(project)
