"""REST API for the lab panel: a thin, authenticated layer over `core.operations`.

Contract (docs/architecture.md, "REST API"): every route needs Jupyter auth; paths are relative to
the server's root and may not leave it; errors come back once, here, as
`{"error": {"type", "message", "details"}}` with the status the core error carries. A POST that
would build or change a project's env (add, remove, sync, lock) needs the project to be trusted
(403 `UntrustedProject` otherwise); `POST project/trust` is how the panel trusts one. Bodies are
capped in size, and a malformed or absurdly nested one is a 400.
"""

from __future__ import annotations

import asyncio
import json
import os
import weakref
from collections.abc import Callable
from http.client import responses
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .core import operations
from .core.errors import EnvlockError, OutsideRoot, ProjectNotFound
from .core.project import LOCKFILE, Project, find_project
from .core.pyproject import MANIFEST
from .core.trust import TrustPolicy
from .scan import ProjectScanner, ScannedFolder, ScannedProject

# A resource of our own, not "contents" or "kernels": POST edits files *and* installs packages
# (which can run build backends, i.e. code), so a custom Authorizer must decide on it explicitly;
# one that only knows the built-in resources then refuses it rather than granting it by analogy.
AUTH_RESOURCE = "envlock"
URL_PREFIX = "/jupyter-envlock"
MAX_ITEM_LENGTH = 1000
MAX_ITEMS = 100
MAX_BODY_BYTES = 256 * 1024  # 100 items of 1000 characters fit, with room for JSON's quoting
MAX_PATH_LENGTH = 4096

T = TypeVar("T")


class Forbidden(web.HTTPError):
    """A path outside the server root: 403, whatever the reason, so probing learns nothing."""

    def __init__(self, message: str) -> None:
        super().__init__(403, log_message=message.replace("%", "%%"))
        self.message = message


class BadRequest(web.HTTPError):
    """A malformed body or query (not the core's judgement of a requirement): 400."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(self.status, log_message=message.replace("%", "%%"))
        self.message = message


class BodyTooLarge(BadRequest):
    status = 413


# --------------------------------------------------------------------------- paths


def _inside(path: str, root: str) -> bool:
    """`path` is `root` or below it (both already realpath'd)."""
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives on Windows
        return False


def resolve_request_path(root: str, rel: object) -> Path:
    """The real path a client's relative `rel` names, refused (403) when it could leave `root`.

    Absolute paths and `..` are refused outright rather than normalized, and the realpath check
    catches symlinks that point out of the root.
    """
    if not isinstance(rel, str):
        raise BadRequest("'path' must be a string relative to the server root.")
    if len(rel) > MAX_PATH_LENGTH:
        raise BadRequest(f"'path' is longer than {MAX_PATH_LENGTH} characters.")
    if "\x00" in rel:
        raise Forbidden("The path contains a NUL character.")
    if (
        PurePosixPath(rel).is_absolute()
        or PureWindowsPath(rel).is_absolute()
        or PureWindowsPath(rel).drive
        or os.path.isabs(rel)
    ):
        raise Forbidden(f"'{rel}' is absolute; paths are relative to the server root.")
    parts = rel.replace("\\", "/").split("/")
    if ".." in parts:
        raise Forbidden(f"'{rel}' contains '..'; paths must stay inside the server root.")
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, rel))
    if not _inside(real, real_root):
        raise Forbidden(f"'{rel}' leads outside the server root.")
    return Path(real)


def find_project_within(root: str, target: Path) -> Project:
    """The nearest project at or above `target`, never above the root; messages name paths
    relative to the root only, so a client learns nothing of the server's layout."""
    real_root = Path(os.path.realpath(root))
    rel = relative_path(real_root, target)
    if not target.exists():
        raise ProjectNotFound(f"'{rel}' does not exist.")
    try:
        return find_project(target, within=real_root)
    except OutsideRoot:
        raise Forbidden(
            f"A {MANIFEST} or {LOCKFILE} above '{rel}' leads outside the server root."
        ) from None
    except ProjectNotFound:
        hint = ""
        if (target / "requirements.txt").is_file():
            hint = " It has a requirements.txt: it is not a project yet (init makes it one)."
        raise ProjectNotFound(
            f"No {MANIFEST} in '{rel}' or any folder above it inside the server root.{hint}"
        ) from None


def relative_path(real_root: Path, path: Path) -> str:
    """Jupyter's convention: POSIX separators, "" for the root itself."""
    rel = os.path.relpath(path, real_root)
    return "" if rel == "." else PurePosixPath(*Path(rel).parts).as_posix()


# --------------------------------------------------------------------------- bodies


def _string_list(body: dict, key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not value:
        raise BadRequest(f"'{key}' must be a non-empty list of strings.")
    if len(value) > MAX_ITEMS:
        raise BadRequest(f"'{key}' has {len(value)} items; the limit is {MAX_ITEMS}.")
    for item in value:
        if not isinstance(item, str):
            raise BadRequest(f"'{key}' must be a non-empty list of strings.")
        if len(item) > MAX_ITEM_LENGTH:
            raise BadRequest(f"An item of '{key}' is longer than {MAX_ITEM_LENGTH} characters.")
    return value


def _group(body: dict) -> str | None:
    value = body.get("group")
    if value is not None and not isinstance(value, str):
        raise BadRequest("'group' must be null or a string.")
    if isinstance(value, str) and len(value) > MAX_ITEM_LENGTH:
        raise BadRequest(f"'group' is longer than {MAX_ITEM_LENGTH} characters.")
    return value


# --------------------------------------------------------------------------- handlers


class EnvlockHandler(ExtensionHandlerMixin, APIHandler):
    """Base: root and scanner lookup, thread offloading, and the one error-to-JSON mapping."""

    auth_resource = AUTH_RESOURCE

    @property
    def root_dir(self) -> str:
        """ServerApp.root_dir, the same root the project kernel specs are discovered under."""
        return os.path.expanduser(str(self.settings["server_root_dir"]))

    @property
    def scanner(self) -> ProjectScanner:
        """The extension's project scanner, shared with the kernel spec manager."""
        scanner = self.extensionapp.scanner  # type: ignore[attr-defined]
        assert isinstance(scanner, ProjectScanner)
        return scanner

    @property
    def trust_policy(self) -> TrustPolicy:
        """The server's trust rule (EnvlockApp.trust_all_projects), asked per request."""
        policy = self.extensionapp.trust_policy()  # type: ignore[attr-defined]
        assert isinstance(policy, TrustPolicy)
        return policy

    def project_at(self, rel: object) -> Project:
        """The project a client path names, confined to the root (403) and existing (404)."""
        return find_project_within(self.root_dir, resolve_request_path(self.root_dir, rel))

    def json_body(self, allowed: set[str]) -> dict[str, Any]:
        """The request body as a JSON object with only known keys (typos fail loudly)."""
        raw = self.request.body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise BodyTooLarge(
                f"The request body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}."
            )
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise BadRequest(f"The request body is not valid JSON: {e}") from None
        except RecursionError:
            raise BadRequest("The request body is nested too deeply.") from None
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        unknown = sorted(set(body) - allowed - {"path"})
        if unknown:
            raise BadRequest(f"Unknown field(s): {', '.join(unknown)}.")
        if "path" not in body:
            raise BadRequest("'path' is required.")
        return body

    async def off_loop(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Core calls read files and may run uv for minutes: never on the event loop."""
        return await asyncio.to_thread(func, *args, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """User errors are expected answers, not server faults: one line, no traceback."""
        if isinstance(value, EnvlockError) and value.http_status < 500:
            self.log.info("envlock %s: %s", type(value).__name__, value.message)
        elif isinstance(value, EnvlockError):
            self.log.error(
                "envlock %s: %s\n%s",
                type(value).__name__,
                value.message,
                value.details,
                exc_info=(typ, value, tb),
            )
        else:
            super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """The single place errors become `{"error": {...}}` (tracebacks stay in the log)."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, EnvlockError):
            status_code = exc.http_status
            error = exc.to_dict()
        elif isinstance(exc, (Forbidden, BadRequest)):
            error = {"type": type(exc).__name__, "message": exc.message, "details": ""}
        elif isinstance(exc, web.HTTPError):
            try:
                message = exc.log_message % exc.args if exc.log_message else ""
            except (TypeError, ValueError):
                message = exc.log_message or ""
            reason = exc.reason or responses.get(status_code, "Unknown HTTP Error")
            error = {"type": "HTTPError", "message": message or reason, "details": ""}
        else:
            status_code = 500
            error = {
                "type": "InternalError",
                "message": "jupyter-envlock failed unexpectedly; the server log has the details.",
                "details": "",
            }
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": error}))


class ProjectsHandler(EnvlockHandler):
    """`GET projects`: every project under the root with its state, for the panel's list."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish(await self.off_loop(projects_body, self.scanner))


# Each project's entry as JSON text, kept per scanner while the project and its state stay the
# same: a listing of thousands of projects then joins strings instead of encoding dicts.
_encoded: weakref.WeakKeyDictionary[ProjectScanner, dict[ScannedProject, tuple[str, str]]] = (
    weakref.WeakKeyDictionary()
)


def projects_body(scanner: ProjectScanner) -> str:
    """`{"projects": [...]}`: one entry per project, from a fresh scan of the shared scanner (so
    a folder made a moment ago is listed, and gets its kernel spec too); a broken project says
    so in its own entry instead of failing the list."""
    snapshot, states = scanner.project_states()
    old = _encoded.get(scanner, {})
    new: dict[ScannedProject, tuple[str, str]] = {}
    parts = []
    for project, (state, message) in zip(snapshot.projects, states, strict=True):
        key = state if message is None else f"{state}:{message}"
        hit = old.get(project)
        if hit is None or hit[0] != key:
            hit = (key, json.dumps(_project_entry(project, state, message)))
        new[project] = hit
        parts.append(hit[1])
    _encoded[scanner] = new
    parts += [json.dumps(_folder_entry(folder)) for folder in snapshot.folders]
    return '{"projects": [' + ", ".join(parts) + "]}"


def _folder_entry(folder: ScannedFolder) -> dict[str, Any]:
    """A folder that is not a project: what it is and what envlock can do with it."""
    return {
        "path": "" if folder.relative == "." else folder.relative,
        "name": folder.root.name,
        "kernel_name": None,
        "state": "not-a-project",
        "kind": folder.tool.kind,
        "message": folder.tool.summary,
    }


def _project_entry(scanned: ScannedProject, state: str, message: str | None) -> dict[str, Any]:
    rel = "" if scanned.relative == "." else scanned.relative
    entry: dict[str, Any] = {"path": rel, "name": scanned.name, "kernel_name": scanned.kernel_name}
    entry["state"] = state
    if message is not None or state == "error":
        entry["message"] = message
    return entry


def status_and_dependencies(project: Project, policy: TrustPolicy) -> dict[str, Any]:
    """What the panel polls: reads a few small files, runs no uv (so it stays in milliseconds)."""
    return {
        "status": operations.status(project, policy).to_dict(),
        "dependencies": [d.to_dict() for d in operations.list_dependencies(project)],
    }


class ProjectHandler(EnvlockHandler):
    """`GET project?path=REL`: status (with drift) and direct dependencies, uncached."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        rel = self.get_query_argument("path", None)
        if rel is None:
            raise BadRequest("The 'path' query argument is required.")
        project = await self.off_loop(self.project_at, rel)
        details = await self.off_loop(status_and_dependencies, project, self.trust_policy)
        self.finish(json.dumps(details))


class ReportHandler(EnvlockHandler):
    """`GET project/(tree|outdated)?path=REL`: a report on one project (tree reads files only;
    outdated asks the project's indexes and changes nothing, for a trusted project only)."""

    @web.authenticated
    @authorized
    async def get(self, report: str) -> None:
        rel = self.get_query_argument("path", None)
        if rel is None:
            raise BadRequest("The 'path' query argument is required.")
        project = await self.off_loop(self.project_at, rel)
        if report == "outdated":
            # asks the indexes about the packages the repository names (uv may build an sdist
            # to read its metadata): like an action, only for a trusted project
            await self.off_loop(operations.require_trust, project, self.trust_policy)
        result = await self.off_loop(REPORTS[report], project)
        self.finish(json.dumps(result.to_dict()))


REPORTS: dict[str, Callable[[Project], Any]] = {
    "tree": operations.tree,
    "outdated": operations.outdated,
}


class ActionHandler(EnvlockHandler):
    """`POST project/(add|remove|sync|lock|upgrade|init)`: one mutating operation, answering its
    ChangeReport (`init` makes a requirements.txt folder a project)."""

    @web.authenticated
    @authorized
    async def post(self, action: str) -> None:
        if action == "init":
            body = self.json_body(set())
            folder = resolve_request_path(self.root_dir, body["path"])
            if not folder.is_dir():
                raise ProjectNotFound(f"'{body['path']}' is not a folder.")
            report = await self.off_loop(operations.init, folder)
            await self.off_loop(self.scanner.refresh)  # its kernel spec, now
            self.finish(json.dumps(report.to_dict()))
            return
        if action == "add":
            body = self.json_body({"specs", "group"})
            call = _bind(operations.add, specs=_string_list(body, "specs"), group=_group(body))
        elif action == "remove":
            body = self.json_body({"names", "group"})
            call = _bind(operations.remove, names=_string_list(body, "names"), group=_group(body))
        elif action == "lock":
            body = self.json_body({"upgrade"})
            upgrade = body.get("upgrade", False)
            if not isinstance(upgrade, bool):
                raise BadRequest("'upgrade' must be true or false.")
            call = _bind(operations.lock, upgrade=upgrade)
        elif action == "upgrade":
            body = self.json_body({"names", "all"})
            every = body.get("all", False)
            if not isinstance(every, bool):
                raise BadRequest("'all' must be true or false.")
            names = _string_list(body, "names") if not every or "names" in body else []
            call = _bind(operations.upgrade, names=names, all=every)
        else:  # "sync": the route pattern admits nothing else
            body = self.json_body(set())
            call = _bind(operations.sync)
        project = await self.off_loop(self.project_at, body["path"])
        # Building runs the project's code: only for a project the user trusts (403 otherwise).
        await self.off_loop(operations.require_trust, project, self.trust_policy)
        report = await self.off_loop(call, project)  # the Project itself: no second lookup
        self.finish(json.dumps(report.to_dict()))


class TrustHandler(EnvlockHandler):
    """`POST project/trust {"path"}`: the user trusts the project (the panel's "Trust and
    build"); answers the project's trust as `GET project` shows it."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body(set())
        project = await self.off_loop(self.project_at, body["path"])
        await self.off_loop(operations.trust, project)
        state = await self.off_loop(operations.trust_state, project, self.trust_policy)
        self.finish(json.dumps({"trust": state.to_dict()}))


def _bind(func: Callable[..., Any], **kwargs: Any) -> Callable[[Project], Any]:
    """An operation waiting only for its project (validated after the body)."""
    return lambda project: func(project, **kwargs)


def routes() -> list[tuple[str, type]]:
    """Patterns without base_url: ExtensionApp._prepare_handlers joins base_url in front."""
    return [
        (rf"{URL_PREFIX}/projects", ProjectsHandler),
        (rf"{URL_PREFIX}/project", ProjectHandler),
        (rf"{URL_PREFIX}/project/(tree|outdated)", ReportHandler),
        (rf"{URL_PREFIX}/project/(add|remove|sync|lock|upgrade|init)", ActionHandler),
        (rf"{URL_PREFIX}/project/trust", TrustHandler),
    ]
