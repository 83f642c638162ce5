"""One kernel spec per project under the server root, added next to the existing specs.

The projects come from the shared `scan.ProjectScanner` (never a walk of the file tree on the event
loop); the finished REST models are built once per scan. An existing spec of the same name that
envlock did not write wins, and `python3` is never hidden or renamed.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from importlib.metadata import EntryPoint
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from jupyter_client.provisioning.factory import KernelProvisionerFactory
from jupyter_server.utils import url_path_join
from traitlets import Instance, Unicode, default

from .core.project import KERNEL_PREFIX
from .core.pyproject import KERNEL_NAME
from .kernel_launch import (
    KERNEL_SIDE,
    PROVISIONER_NAME,
    PROVISIONER_TARGET,
    is_envlock_spec_dir,
    spec_dict,
)
from .scan import ProjectScanner, ScannedProject, Snapshot


def ensure_provisioner_registered() -> None:
    """Make the provisioner resolvable even when the package's entry points are not installed
    (a source checkout on PYTHONPATH): jupyter_client refuses a spec whose provisioner it cannot
    find, and that would hide every project kernel."""
    providers = KernelProvisionerFactory.provisioners
    if PROVISIONER_NAME not in providers:
        providers[PROVISIONER_NAME] = EntryPoint(
            PROVISIONER_NAME, PROVISIONER_TARGET, KernelProvisionerFactory.GROUP_NAME
        )


def _spec_data(project: ScannedProject) -> dict[str, Any]:
    assert project.kernel_name is not None
    return spec_dict(
        project.kernel_name, project.display_name, project.root, {"project": project.relative}
    )


class ProjectModel:
    """One project's kernel spec model and, once asked for, its member of the listing's JSON."""

    def __init__(self, name: str, model: dict[str, Any]) -> None:
        self.name = name
        self.model = model

    @cached_property
    def json_member(self) -> str:
        """`"name": {...}`, as json.dumps writes an object's member."""
        return f"{json.dumps(self.name)}: {json.dumps(self.model)}"


class EnvlockKernelSpecManager(KernelSpecManager):
    """Adds `envlock-<project>` specs for the projects the scanner finds; never hides or renames
    an existing spec (python3 stays).

    The server extension sets it as `ServerApp.kernel_spec_manager_class` unless the user chose
    another one, and gives it the extension's scanner (its settings live on EnvlockApp). Used on
    its own, it scans `root_dir` with the default settings.
    """

    root_dir = Unicode(
        help="Folder whose projects get kernels when no scanner is given (default: the "
        "server's root_dir)."
    ).tag(config=True)

    scanner = Instance(ProjectScanner, allow_none=True, help="The shared project scanner.")

    @default("root_dir")
    def _root_dir_default(self) -> str:
        parent_root = getattr(self.parent, "root_dir", None)
        return str(parent_root) if parent_root else os.getcwd()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        ensure_provisioner_registered()
        self._warned: set[str] = set()
        self._models: tuple[Snapshot, dict[str, Any]] | None = None
        self._built: dict[ScannedProject, ProjectModel] = {}
        self._members: tuple[dict[str, ProjectModel], str] | None = None

    def _scanner(self) -> ProjectScanner:
        if self.scanner is None:
            self.scanner = ProjectScanner(self.root_dir, log=self.log)
        return self.scanner

    def projects(self) -> dict[str, ScannedProject]:
        """kernel name -> project, from the scanner's last snapshot."""
        return self._scanner().kernels()

    def refresh(self, timeout: float = 10.0) -> None:
        """Scan now and wait for it (tests, tools): never on the event loop."""
        self._scanner().refresh(timeout)

    def stop(self) -> None:
        self._scanner().stop()

    def _lookup(self, kernel_name: str) -> ScannedProject | None:
        name = kernel_name.lower()
        project = self.projects().get(name)
        if project is not None or not name.startswith(KERNEL_PREFIX):
            return project
        if not KERNEL_NAME.match(name):
            return None
        return self._scanner().find_new_kernel(name)

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.log.warning(message)

    # ------------------------------------------------------------------ KernelSpecManager API

    def project_spec(self, project: ScannedProject) -> KernelSpec:
        """The spec of a discovered project (resources: the envlock logos)."""
        return self.kernel_spec_class(
            resource_dir=str(KERNEL_SIDE), name=project.kernel_name, **_spec_data(project)
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
        for name, built in self.project_models().items():
            if name in specs or (self.allowed_kernelspecs and name not in self.allowed_kernelspecs):
                continue
            specs[name] = built.model
        return specs

    def project_models(self) -> dict[str, ProjectModel]:
        """Each project's model for the scanner's last snapshot. A project unchanged since the
        last snapshot keeps its model, and with it its JSON (`kernelspecs_api`): a rescan after one
        manifest changed rebuilds one model, not all of them."""
        snapshot = self._scanner().snapshot()
        cached = self._models
        if cached is not None and cached[0] is snapshot:
            return cached[1]
        base_url = getattr(self.parent, "base_url", None)
        logos = sorted(p.name for p in KERNEL_SIDE.glob("logo-*"))
        built: dict[ScannedProject, ProjectModel] = {}
        models: dict[str, ProjectModel] = {}
        template: dict[str, Any] | None = None
        for name, project in snapshot.kernels.items():
            model = self._built.get(project)
            if model is None:
                if template is None:  # what to_dict adds to spec_dict (env, protocol version...)
                    template = self.project_spec(project).to_dict()
                model = ProjectModel(name, self._model(name, project, template, base_url, logos))
            built[project] = models[name] = model
        self._built = built
        self._models = (snapshot, models)
        return models

    def json_members(self, models: dict[str, ProjectModel]) -> str:
        """Every model's JSON member, joined: the bulk of a listing that shows every project,
        once per snapshot."""
        cached = self._members
        if cached is None or cached[0] is not models:
            cached = self._members = (models, ", ".join(m.json_member for m in models.values()))
        return cached[1]

    def _model(
        self,
        name: str,
        project: ScannedProject,
        template: dict[str, Any],
        base_url: str | None,
        logos: list[str],
    ) -> dict[str, Any]:
        """The finished REST model (name, spec, resources) when the server's base_url is known,
        so jupyter_server also skips its per-spec glob for logos; else jupyter_client's form.
        The spec is `project_spec(project).to_dict()`, made from one such dict: a KernelSpec's
        traits cost 0.1 ms a project, half a second at 5000."""
        spec = {**template, **_spec_data(project)}
        if base_url is None:
            return {"resource_dir": str(KERNEL_SIDE), "spec": spec}
        resources = {
            os.path.splitext(logo)[0]: url_path_join(base_url, "kernelspecs", name, logo)
            for logo in logos
        }
        return {"name": name, "spec": spec, "resources": resources}

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
        if project is None or project.kernel_name is None:
            return super().get_kernel_spec(kernel_name)
        if self.allowed_kernelspecs and project.kernel_name not in self.allowed_kernelspecs:
            raise NoSuchKernel(kernel_name)
        resource_dir = self._find_spec_directory(project.kernel_name)
        if resource_dir is not None and self._existing_wins(
            project.kernel_name, {project.kernel_name: resource_dir}
        ):
            return super().get_kernel_spec(kernel_name)
        return self.project_spec(project)
