"""Kernel start = env sync + ipykernel from the project env.

`pre_launch` runs on every start and restart. It brings the project's env in line with its lock
(building it the first time, re-locking when pyproject.toml moved on; an unchanged lock costs a few
file reads), in a worker thread so the server's event loop never waits on uv. Progress goes out as
jupyter_events (before the kernel exists there is no kernel channel to report on). Then the kernel
command becomes the env's Python running `kernel_side/bootstrap.py`, which loads the %dep magics
without jupyter_envlock being installed in the env.

A kernel start from a Jupyter server is not the user's decision to run a project's code (JupyterLab
starts the kernel a notebook names as soon as it opens): before anything else, `pre_launch`
refuses a project the user has not trusted (`core.trust`), in milliseconds, with a message that
says what building would do. Headless clients (nbclient, papermill, `jupyter execute`) run what
the user typed and are not asked. Whatever fails in `pre_launch`, the kernel's entry in its
manager's pending starts is dropped: jupyter_client leaves it there, and jupyter_server's shutdown
then fails on it and never stops.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner
from tornado.web import HTTPError
from traitlets import Enum, Unicode

from .core import kernel_layer, operations
from .core.environment import python_in
from .core.errors import EnvlockError, UntrustedProject
from .core.progress import ProgressEvent
from .core.pyproject import StalePolicy
from .core.trust import TrustPolicy
from .kernel_launch import kernel_command, kernel_environment

SCHEMA_ID = "https://jupyter-envlock.readthedocs.io/events/env-build/v1"
_MAX_DETAILS = 4000


def error_message(error: EnvlockError) -> str:
    """One readable text for JupyterLab's error dialog: the message, then the tool's output."""
    details = error.details.strip()
    if len(details) > _MAX_DETAILS:
        details = "…\n" + details[-_MAX_DETAILS:]
    return f"{error.message}\n\n{details}" if details else error.message


class KernelStartError(HTTPError):
    """A kernel start refused or failed, as jupyter_server passes it on: its status (403 for an
    untrusted project, 500 otherwise) to POST /api/kernels, and its text as the message (the
    sessions handler answers 500 with `str(error)` for every start that fails)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message.replace("%", "%%"))
        self.message = message

    def __str__(self) -> str:
        return self.message


def server_of(provisioner: Any) -> Any:
    """The jupyter_server ServerApp that started this kernel (kernel manager -> multi-kernel
    manager -> server), or None for a headless client."""
    node = getattr(provisioner, "parent", None)
    while node is not None:
        if hasattr(node, "extension_manager") and hasattr(node, "kernel_manager"):
            return node
        node = getattr(node, "parent", None)
    return None


def _server_kernel(kernel_manager: Any) -> bool:
    """A kernel manager of jupyter_server's, even if its server cannot be found from it: the
    check then applies with the user's store alone (it fails closed, never open)."""
    try:
        from jupyter_server.services.kernels.kernelmanager import ServerKernelManager
    except ImportError:
        return False
    return isinstance(kernel_manager, ServerKernelManager)


def server_trust_policy(serverapp: Any) -> TrustPolicy:
    """The trust rule of a server: the user's store, plus EnvlockApp.trust_all_projects."""
    apps = serverapp.extension_manager.extension_apps.get("jupyter_envlock") or set()
    for app in apps:
        policy = getattr(app, "trust_policy", None)
        if callable(policy):
            result = policy()
            if isinstance(result, TrustPolicy):
                return result
    return TrustPolicy()


class _Reporter:
    """Sends progress as server events from any thread, in order, on the event loop, to the
    kernel manager's event logger (jupyter_server gives it the server's; headless kernel managers
    have none, and then progress only goes to the log)."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, base: dict[str, Any], sink: Any, log: Any
    ) -> None:
        self.loop = loop
        self.base = base
        self.sink = sink
        self.log = log
        self.phase = "check"

    def emit(
        self,
        phase: str,
        message: str,
        state: str = "running",
        done: int | None = None,
        total: int | None = None,
    ) -> None:
        self.phase = phase
        data = {
            **self.base,
            "phase": phase,
            "message": message,
            "done": done,
            "total": total,
            "state": state,
        }
        self.log.debug("jupyter_envlock %s: %s", self.base.get("kernel_name"), message)
        try:
            self.loop.call_soon_threadsafe(self._deliver, data)
        except RuntimeError:  # loop closed (server shutting down)
            pass

    def progress(self, event: ProgressEvent) -> None:
        self.emit(event.phase, event.message, done=event.done, total=event.total)

    def _deliver(self, data: dict[str, Any]) -> None:
        if self.sink is None:
            return
        try:
            self.sink.emit(schema_id=SCHEMA_ID, data=data)
        except Exception:  # an event must never break a kernel start
            self.log.warning("jupyter_envlock: could not emit a build event", exc_info=True)


class EnvlockProvisioner(LocalProvisioner):
    """LocalProvisioner that syncs the project's env first and runs the kernel from it."""

    project_path = Unicode(
        help="The project folder (holding pyproject.toml) whose env runs this kernel."
    ).tag(config=True)

    on_stale_lock = Enum(
        ["", "relock", "error"],
        "",
        help='"relock" or "error" when pyproject.toml changed since pylock.toml; empty: the '
        "project's [tool.envlock] on-stale-lock setting (default relock).",
    ).tag(config=True)

    _env_dir: Path | None = None
    _project_root: Path | None = None
    _layer: Path | None = None  # ipykernel for an env without its own (core.kernel_layer)

    def _event_base(self) -> dict[str, Any]:
        envlock = (self.kernel_spec.metadata or {}).get("envlock") or {}
        kernel_name = getattr(self.parent, "kernel_name", None) or envlock.get("kernel_name", "")
        return {
            "project": str(envlock.get("project") or self.project_path),
            "kernel_name": str(kernel_name),
            "kernel_id": str(self.kernel_id) if self.kernel_id else None,
        }

    async def sync_environment(self) -> Path:
        """Sync the env off the event loop; return the env folder. Errors become HTTP 500 with
        a readable message (a plain exception shows as "Unhandled error" in JupyterLab)."""
        if not self.project_path:
            raise KernelStartError(500, "This envlock kernel spec names no project (project_path).")
        sink = getattr(self.parent, "event_logger", None)
        reporter = _Reporter(asyncio.get_running_loop(), self._event_base(), sink, self.log)
        reporter.emit("check", "Checking the project environment")
        stale: StalePolicy | None = self.on_stale_lock or None  # type: ignore[assignment]
        lock_name = _lock_name(self.project_path)
        had_lock = lock_name is not None
        try:
            report = await asyncio.to_thread(
                operations.sync, self.project_path, reporter.progress, stale
            )
            assert report.sync is not None
            self._layer = await asyncio.to_thread(
                kernel_layer.prepare, report.sync.path, reporter.progress
            )
        except EnvlockError as e:
            message = f"Project {reporter.base['project']}: {error_message(e)}"
            reporter.emit(reporter.phase, message, state="error")
            self.log.error(
                "jupyter_envlock: kernel for %s not started: %s", self.project_path, message
            )
            raise KernelStartError(500, message) from e
        except Exception as e:
            message = f"Could not prepare the environment of {self.project_path}: {e}"
            reporter.emit(reporter.phase, message, state="error")
            raise KernelStartError(500, message) from e
        if report.relocked:
            if had_lock:
                changed = (
                    ", ".join(f"{c.name} {c.old or '-'} -> {c.new or '-'}" for c in report.changes)
                    or "no version changed"
                )
                note = f"pyproject.toml changed since {lock_name}: re-locked ({changed})"
            else:
                note = f"No lock yet: locked {len(report.changes)} packages"
            self.log.info("jupyter_envlock: %s: %s", self.project_path, note)
            reporter.emit("resolve", note)
        assert report.sync is not None
        self._project_root = report.project.root
        reporter.emit("done", "Up to date" if report.sync.noop else "Environment ready", "success")
        return report.sync.path

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        try:
            await self.require_trust()
            self._env_dir = await self.sync_environment()
            extra_arguments = list(kwargs.get("extra_arguments") or [])
            kwargs = await super().pre_launch(**kwargs)
        except BaseException:
            self._forget_failed_start()
            raise
        km = self.parent
        if km is not None and getattr(km, "connection_file", None):
            connection_file = os.path.realpath(km.connection_file)
            python = python_in(self._env_dir)
            kwargs["cmd"] = kernel_command(python, connection_file) + extra_arguments
        return kwargs

    async def require_trust(self) -> None:
        """A start from a Jupyter server needs a trusted project (a few small reads, off the
        event loop); a headless client's start is the user's own command."""
        serverapp = server_of(self)
        if not self.project_path or (serverapp is None and not _server_kernel(self.parent)):
            return
        policy = server_trust_policy(serverapp) if serverapp is not None else TrustPolicy()
        try:
            await asyncio.to_thread(operations.require_trust, self.project_path, policy)
        except UntrustedProject as e:
            sink = getattr(self.parent, "event_logger", None)
            reporter = _Reporter(asyncio.get_running_loop(), self._event_base(), sink, self.log)
            reporter.emit("trust", e.message, state="error")
            self.log.warning(
                "jupyter_envlock: kernel for %s not started: %s", self.project_path, e.message
            )
            raise KernelStartError(403, e.message) from e
        except EnvlockError as e:
            raise KernelStartError(500, f"Project {self.project_path}: {error_message(e)}") from e

    def _forget_failed_start(self) -> None:
        """jupyter_client keeps a failed start's id in its pending kernels; jupyter_server's
        shutdown_all then asks for that kernel, gets "Kernel does not exist" and never stops
        the server. Nothing else reads the entry once the start has failed."""
        manager = getattr(self.parent, "parent", None)
        pending = getattr(manager, "_pending_kernels", None)
        if isinstance(pending, dict) and self.kernel_id is not None:
            pending.pop(self.kernel_id, None)

    def _finalize_env(self, env: dict[str, str]) -> None:
        super()._finalize_env(env)
        if self._env_dir is not None:
            root = self._project_root or Path(self.project_path).resolve()
            updated = kernel_environment(env, self._env_dir, root, self._layer)
            env.clear()
            env.update(updated)


def _lock_name(project_path: str) -> str | None:
    """The project's lock file name when it had one before this start (to say "locked" or
    "re-locked"), else None."""
    try:
        owner = operations.manager(project_path)
    except EnvlockError:
        return None
    return owner.lock_path.name if owner.lock_path.exists() else None
