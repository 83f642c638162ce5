"""The server extension: project kernels, build-progress events and the REST API.

Enabled on install through `jupyter_server_config.d/jupyter_envlock.json`. Every server-side
setting is a trait of `EnvlockApp`, declared here once; the kernel spec manager and the handlers
read them from here. The kernel spec manager has to be chosen at link time: the
`kernel_spec_manager_class` of a config.d file is silently ignored by jupyter_server 2, and the
spec manager is built right after extensions are linked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Instance, Int, List, Unicode

from ._version import __version__
from .core.project import DEFAULT_IGNORED, DEFAULT_SCAN_DEPTH
from .core.runner import POETRY_VARIABLE
from .core.trust import TrustPolicy
from .handlers import routes
from .kernelspecs import EnvlockKernelSpecManager
from .kernelspecs_api import ROUTE as KERNELSPECS_ROUTE
from .kernelspecs_api import KernelSpecsHandler
from .scan import ProjectScanner

EVENT_SCHEMA = Path(__file__).resolve().parent / "events" / "env-build.yaml"


class EnvlockApp(ExtensionApp):
    """One locked environment and kernel per project under the server root."""

    name = "jupyter_envlock"
    description = "One locked, reproducible environment and kernel per notebook project."
    version = __version__

    scan_depth = Int(
        DEFAULT_SCAN_DEPTH,
        help="""How many folder levels below the server root are searched for projects
        (folders holding a pyproject.toml). 0 looks at the root only.""",
    ).tag(config=True)

    ignored_folders = List(
        Unicode(),
        default_value=sorted(DEFAULT_IGNORED),
        help="""Folder names never searched for projects. Hidden folders and virtualenvs
        (folders holding pyvenv.cfg) are always skipped.""",
    ).tag(config=True)

    env_dir = Unicode(
        None,
        allow_none=True,
        help="""Where project environments and envlock's bookkeeping live. Default: the
        JUPYTER_ENVLOCK_CACHE_DIR environment variable, else the user cache directory
        (e.g. ~/.cache/jupyter-envlock). A project's [tool.envlock] env setting, or an existing
        in-project .venv, still wins for that project.""",
    ).tag(config=True)

    poetry_path = Unicode(
        None,
        allow_none=True,
        help="""The Poetry executable for Poetry projects. Default: the JUPYTER_ENVLOCK_POETRY
        environment variable, else `poetry` on PATH, else where pipx and Poetry's installer put it
        (~/.local/bin, $POETRY_HOME/bin, the installer's venv). Never taken from a project's
        files: a repository must not choose which program runs.""",
    ).tag(config=True)

    manage_kernel_specs = Bool(
        True,
        help="""Add one kernel spec per project (named envlock-<project name>, or the project's
        [tool.envlock] kernel-name) next to the existing specs. When False, or when
        ServerApp.kernel_spec_manager_class is configured, the server's kernel specs are left
        alone; `jupyter envlock kernels install` can still write real specs.""",
    ).tag(config=True)

    rescan_interval = Float(
        5.0,
        help="""Seconds between background scans for new, renamed or removed projects. Scans never
        run on the server's event loop.""",
    ).tag(config=True)

    watch_folders = Bool(
        True,
        help="""Watch the folders a project listing reads (inotify, on Linux's local file
        systems), so that a listing of an unchanged root is answered from the last one instead of
        a look at every folder and manifest. Off: every listing looks at the disk.""",
    ).tag(config=True)

    trust_all_projects = Bool(
        False,
        help="""Treat every project below the server's root as trusted, for this server only
        (nothing is written to the users' trust stores). For images whose admin prepared the
        projects (Binder, JupyterHub): kernel starts and the panel's actions then build and run
        any project below the root without asking. Never set it on a server where users open
        repositories from elsewhere. Off: a project must be trusted (`jupyter envlock trust`,
        or the panel's "Trust and build") before envlock builds or runs it on its own.""",
    ).tag(config=True)

    scanner = Instance(ProjectScanner, allow_none=True, help="The projects under the root.")

    def trust_policy(self) -> TrustPolicy:
        """How this server decides trust (asked per request: the user's store may change)."""
        root = None
        if self.trust_all_projects and self.serverapp is not None:
            root = Path(os.path.expanduser(str(self.serverapp.root_dir))).resolve()
        return TrustPolicy(trusted_root=root)

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        super()._link_jupyter_server_extension(serverapp)
        log = serverapp.log  # a decision about the server's configuration: say it in its log
        if self.env_dir:
            # The core, the kernels and the %dep calls back into the server all read this.
            os.environ["JUPYTER_ENVLOCK_CACHE_DIR"] = str(Path(self.env_dir).expanduser())
        if self.poetry_path:
            os.environ[POETRY_VARIABLE] = str(Path(self.poetry_path).expanduser())
        if self.trust_all_projects:
            log.warning(
                "jupyter_envlock: trust_all_projects is on: every project below %s is built and "
                "run on its own, without asking.",
                serverapp.root_dir,
            )
        if not self.manage_kernel_specs:
            log.info("jupyter_envlock: manage_kernel_specs is off; kernel specs left alone.")
            return
        server_config = serverapp.config.ServerApp
        if "kernel_spec_manager_class" in server_config:
            log.info(
                "jupyter_envlock: ServerApp.kernel_spec_manager_class is configured (%s); it is "
                "respected and project kernels are not added. Use `jupyter envlock kernels "
                "install` to register them as ordinary kernel specs.",
                server_config.kernel_spec_manager_class,
            )
            return
        if serverapp.config.GatewayClient.get("url") or os.environ.get("JUPYTER_GATEWAY_URL"):
            log.info("jupyter_envlock: kernels run on a gateway; kernel specs left alone.")
            return
        serverapp.kernel_spec_manager_class = EnvlockKernelSpecManager

    def initialize_settings(self) -> None:
        serverapp = self.serverapp
        assert serverapp is not None  # set before the extension is loaded
        self.scanner = ProjectScanner(
            serverapp.root_dir,
            depth=self.scan_depth,
            ignored=self.ignored_folders,
            interval=self.rescan_interval,
            log=self.log,
            watch=self.watch_folders,
        )
        self.scanner.start()
        ksm = serverapp.kernel_spec_manager
        if isinstance(ksm, EnvlockKernelSpecManager):
            ksm.scanner = self.scanner
            self.log.info(
                "jupyter_envlock: project kernels under %s: %s",
                self.scanner.root,
                ", ".join(sorted(self.scanner.kernels())) or "none yet",
            )
        # The provisioner emits through its kernel manager's event logger, which jupyter_server
        # makes the server's: the schema is registered there.
        assert serverapp.event_logger is not None
        serverapp.event_logger.register_event_schema(EVENT_SCHEMA)

    def initialize_handlers(self) -> None:
        # Patterns are relative; ExtensionApp adds base_url. An extension's routes are matched
        # before the server's own: the kernel spec listing is answered here (the same answer,
        # jupyter_server's own handler whenever the spec manager is not envlock's).
        self.handlers.extend(routes())
        self.handlers.append((KERNELSPECS_ROUTE, KernelSpecsHandler))

    async def stop_extension(self) -> None:
        if self.scanner is not None:
            self.scanner.stop()
