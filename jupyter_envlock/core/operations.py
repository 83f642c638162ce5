"""What a user can ask of a project: init, add, remove, lock, sync, status, list, tree, export,
trust.

The one facade every front end calls (CLI, magics, REST, kernel start). It finds the project,
validates the input, asks the project's manager (`core.managers`) and serializes every change on
the project's file lock. What each manager does is in its own module.

Trust (core/trust.py) is decided here too, for every manager alike: `require_trust` is what the
automatic paths (a kernel start from the server, the panel's actions) call first; the commands a
user types do not, they are the user's decision. An OSError from anywhere below becomes a
FileSystemError whose message says what the system refused (disk full, read-only folder).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from . import environment
from .atomic import project_lock
from .environment import installed_distributions, pyvenv_version
from .errors import (
    BuildFailed,
    EnvlockError,
    FileSystemError,
    ManifestError,
    NotADependency,
    ProjectNotFound,
    RequirementError,
    UntrustedProject,
    os_error_message,
)
from .managers import Manager, PylockManager, manager_for
from .progress import Progress, ProgressEvent, no_progress
from .project import Project, ProjectRef, find_project
from .pyproject import MANIFEST, StalePolicy, check_exclude_newer
from .results import (
    ChangeReport,
    Dependency,
    Outdated,
    OutdatedEntryDict,
    ProjectState,
    Status,
    TrustState,
)
from .trust import TrustPolicy, TrustSource, TrustStore, TrustStoreError
from .widgets import KERNEL_PACKAGE, server_frontend_version, widget_warnings

if TYPE_CHECKING:
    from .tree import Tree

# Every command imports this facade: what only changes, trees and index queries need
# (packaging's parsers, the widget rules) is imported in the functions that use it, so that a
# no-op `sync`, `status` or `python` costs its file reads and little else.

P = ParamSpec("P")
T = TypeVar("T")


def _os_errors_as_messages(func: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except OSError as e:
            raise FileSystemError(os_error_message(e)) from e

    return wrapper


def manager(path: ProjectRef, allow_removals: bool = False) -> Manager:
    """The manager of the project at or above `path`."""
    owner = manager_for(find_project(path))
    owner.allow_removals = allow_removals
    return owner


@_os_errors_as_messages
def add(
    path: ProjectRef,
    specs: Sequence[str],
    group: str | None = None,
    sync: bool = True,
    progress: Progress = no_progress,
    extra: str | None = None,
    allow_removals: bool = False,
) -> ChangeReport:
    """Add to the main list, a PEP 735 `group`, or (uv and Poetry projects) an `extra`; the
    first `add` in a folder creates the project, and a project the user creates is trusted
    (source "created")."""
    from packaging.utils import canonicalize_name

    from .requirements import parse_requirement
    from .widgets import widgets_constraints, widgets_note

    requirements = [parse_requirement(s) for s in specs]
    if not requirements:
        raise ManifestError("Name at least one requirement to add.")
    group, extra = _target(group, extra)
    owner = manager_for(find_project(path, create=True))
    owner.allow_removals = allow_removals
    creating = not owner.project.manifest_path.exists()
    widgets = any(canonicalize_name(r.name) == KERNEL_PACKAGE for r in requirements)
    # the server's own widgets front end is looked up (importlib.metadata: a sys.path scan)
    # only when ipywidgets is among what is added
    frontend = server_frontend_version() if widgets else None
    constraints = widgets_constraints(requirements, frontend)
    with project_lock(owner.project.file_lock_path), explained_builds(owner):
        report = owner.add(
            requirements, group, sync, progress, constraints=constraints, extra=extra
        )
    if creating:
        _trust_created(owner.project)
    if widgets:
        note = widgets_note(owner.locked_versions().get(KERNEL_PACKAGE), frontend)
        report.notes += [note] if note else []
    return report


def _trust_created(project: Project) -> None:
    try:
        TrustStore().trust(project.root, "created")
    except TrustStoreError:
        pass  # the project is made all the same; the kernel start will ask to trust it


def _target(group: str | None, extra: str | None) -> tuple[str | None, str | None]:
    from .requirements import normalize_group

    if group is not None and extra is not None:
        raise ManifestError("Name a group or an extra (--optional), not both.")
    return normalize_group(group), normalize_group(extra)


@_os_errors_as_messages
def init(path: Path | str, sync: bool = False, progress: Progress = no_progress) -> ChangeReport:
    """Make the folder `path` a project: a pyproject.toml from its requirements.txt (each
    requirement as written; an empty one without), locked by envlock's own flow. Nothing is
    written when the lock cannot be made. The user made it a project: it is trusted ("created")."""
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise ProjectNotFound(f"{folder} is not a folder.")
    project = Project(folder)
    if project.manifest_path.exists():
        raise ManifestError(f"{project.manifest_path} exists: {folder} is a project already.")
    owner = PylockManager(project)
    with project_lock(owner.project.file_lock_path):
        report = owner.create(sync, progress)
    _trust_created(project)
    return report


@_os_errors_as_messages
def remove(
    path: ProjectRef,
    names: Sequence[str],
    group: str | None = None,
    sync: bool = True,
    progress: Progress = no_progress,
    extra: str | None = None,
    allow_removals: bool = False,
) -> ChangeReport:
    if not names:
        raise ManifestError("Name at least one dependency to remove.")
    group, extra = _target(group, extra)
    owner = manager(path, allow_removals)
    with project_lock(owner.project.file_lock_path), explained_builds(owner):
        return owner.remove(names, group, sync, progress, extra=extra)


@_os_errors_as_messages
def lock(
    path: ProjectRef,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    progress: Progress = no_progress,
    exclude_newer: str | None = None,
) -> ChangeReport:
    """Re-lock; `exclude_newer` (a date, or "none" to drop one) resolves as of that date and
    records it in the lock, so that later re-locks resolve as of it too."""
    if exclude_newer is not None and exclude_newer != "none":
        check_exclude_newer(exclude_newer, "--exclude-newer")
    owner = manager(path)
    if not (upgrade or upgrade_packages or exclude_newer is not None) and owner.fast_sync():
        return owner.report(relocked=True)  # synced from this very lock and manifest: current
    with project_lock(owner.project.file_lock_path), explained_builds(owner):
        return owner.lock(upgrade, upgrade_packages, progress, exclude_newer=exclude_newer)


@_os_errors_as_messages
def sync(
    path: ProjectRef,
    progress: Progress = no_progress,
    stale: StalePolicy | None = None,
    allow_removals: bool = False,
) -> ChangeReport:
    """Bring the env in line with the lock; re-lock first when the manifest moved on.

    `stale="error"` (or `[tool.envlock] on-stale-lock = "error"`) refuses a stale lock instead,
    as `uv sync --locked` does. In sync, this costs a few small file reads and no process.
    `allow_removals`: the user agrees that an env envlock did not create loses what the lock
    does not list.
    """
    owner = manager(path, allow_removals)
    fast = owner.fast_sync()
    if fast is not None:
        return fast
    with project_lock(owner.project.file_lock_path), explained_builds(owner):
        return owner.sync(stale, progress)


@_os_errors_as_messages
def upgrade(
    path: ProjectRef,
    names: Sequence[str] = (),
    all: bool = False,
    progress: Progress = no_progress,
) -> ChangeReport:
    """Re-lock moving only the named packages (or, with `all`, every package) to the newest
    versions the manifest allows, and sync; versions of everything else stay."""
    if all and names:
        raise ManifestError("Name packages to upgrade, or ask for all of them; not both.")
    if not all and not names:
        raise ManifestError("Name at least one package to upgrade (or upgrade all of them).")
    wanted = [_package_name(n) for n in names]
    owner = manager(path)
    with project_lock(owner.project.file_lock_path), explained_builds(owner):
        locked = owner.locked_versions()
        unknown = [n for n in wanted if n not in locked]
        if unknown:
            raise NotADependency(
                f"'{unknown[0]}' is not in the lock of {owner.project.root}; "
                "`add` it to the project first."
            )
        return owner.upgrade(wanted, all, progress)


def _package_name(text: str) -> str:
    """A bare package name (upgrade takes names; versions come from the manifest)."""
    from packaging.utils import canonicalize_name

    from .requirements import parse_requirement

    req = parse_requirement(text)
    if str(req) != req.name:
        raise RequirementError(
            f"'{text}' is not a package name; upgrade moves a package within what "
            "pyproject.toml allows (change the requirement with `add` instead)."
        )
    return canonicalize_name(req.name)


@_os_errors_as_messages
def outdated(path: ProjectRef, progress: Progress = no_progress) -> Outdated:
    """Direct dependencies with a newer version on the project's indexes: the newest the
    manifest allows and the newest overall. Offline, it says it could not check; it never
    changes anything."""
    from .requirements import parse_requirement

    owner = manager(path)
    direct = owner.dependencies()
    deps = [d for d in direct if d.locked is not None and not parse_requirement(d.requirement).url]
    if direct and not any(d.locked for d in direct):
        return Outdated(
            False, "Cannot check for newer versions: nothing is locked yet (run `lock`)."
        )
    if not deps:
        return Outdated(True, None)
    progress(ProgressEvent("check", "Asking the package indexes for newer versions"))
    try:
        latest = owner.newest_versions(sorted({d.name for d in deps}), exclude_newer=False)
        allowed = owner.newest_versions(sorted({d.requirement for d in deps}))
    except EnvlockError as e:
        reason = e.message + (f" {e.details.splitlines()[0]}" if e.details else "")
        return Outdated(False, f"Cannot check for newer versions: {reason}")
    entries: list[OutdatedEntryDict] = []
    for dep in deps:
        assert dep.locked is not None
        entry: OutdatedEntryDict = {
            "name": dep.name,
            "group": dep.group,
            "requirement": dep.requirement,
            "locked": dep.locked,
            "allowed": allowed.get(dep.name),
            "latest": latest.get(dep.name),
        }
        if _newer(entry["allowed"], dep.locked) or _newer(entry["latest"], dep.locked):
            entries.append(entry)
    return Outdated(True, None, entries)


def _newer(candidate: str | None, locked: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return candidate is not None and Version(candidate) > Version(locked)
    except InvalidVersion:
        return False


@contextmanager
def explained_builds(owner: Manager) -> Iterator[None]:
    """A failed source build says first why, in one line; when the version has no wheel for
    this Python, it says so, with the newest version that has one."""
    try:
        yield
    except BuildFailed as e:
        raise _explain_build(owner, e) from None


def _explain_build(owner: Manager, error: BuildFailed) -> BuildFailed:
    from packaging.utils import canonicalize_name

    if error.version is None:
        return error
    name, version = canonicalize_name(error.package), error.version
    try:
        has_wheel = bool(owner.newest_versions([f"{name}=={version}"], only_binary=True))
    except EnvlockError:
        has_wheel = False
    if has_wheel:
        return error  # its wheel would have been used: the build failed for another reason
    try:
        newest = owner.newest_versions([name], only_binary=True).get(name)
    except EnvlockError:
        newest = None
    python = ".".join(_env_of(owner)[1].split(".")[:2])  # wheels are made per minor version
    message = (
        f"{name} {version} has no wheel for Python {python} on this machine, and building it "
        f"from source failed: {error.reason}"
    )
    if newest:
        message += (
            f". The newest version with a wheel for Python {python} is {newest}: "
            f'add "{name}=={newest}" (or "{name}>={newest}").'
        )
    return BuildFailed(message, error.details, name, version, error.reason)


@_os_errors_as_messages
def status(path: ProjectRef, policy: TrustPolicy | None = None) -> Status:
    """Manifest vs lock vs env, warnings about the env (widgets this server cannot render), and
    whether the project is trusted (by `policy`: the user's store unless a server adds its own
    rule)."""
    owner = manager(path)
    found = owner.status()
    if found.env_path is not None and found.env != "missing":
        installed = installed_distributions(Path(found.env_path))
        if KERNEL_PACKAGE in installed:  # the server's version (a sys.path scan) only for widgets
            found.warnings = widget_warnings(installed, server_frontend_version())
    found.trust = _trust_state(owner, policy or TrustPolicy())
    return found


@_os_errors_as_messages
def state_inputs(path: ProjectRef) -> list[Path] | None:
    """What the project's state is computed from (`Manager.state_inputs`), for caches."""
    return manager(path).state_inputs()


@_os_errors_as_messages
def answer_inputs(path: str | Path) -> list[Path] | None:
    """Every file whose stat decides a read-only answer about the project at or above `path`
    (`core/answers.py` keeps the answer by them): `path` itself, the manifest of every folder
    from there up (one appearing below the project would be the project instead; one above it
    may make it a uv workspace member), the project's folder (a lock of another tool
    appearing), what its state is computed from, and the trust store. None when its manager
    keeps no such list."""
    owner = manager(path)
    inputs = owner.state_inputs()
    if inputs is None:
        return None
    given = Path(path).expanduser().absolute()
    start = given.resolve()
    if not start.is_dir():
        start = start.parent
    walk = [folder / MANIFEST for folder in (start, *start.parents)]
    return [given, *walk, owner.project.root, *inputs, TrustStore().path]


@_os_errors_as_messages
def state(path: ProjectRef) -> ProjectState:
    """The combined state alone, for the project list: no trust, plan or warnings to compute."""
    return manager(path).status().state


@_os_errors_as_messages
def list_dependencies(path: ProjectRef) -> list[Dependency]:
    return manager(path).dependencies()


@_os_errors_as_messages
def tree(path: ProjectRef) -> Tree:
    """Every package locked for this machine and which locked packages require it: read from
    the lock and the env's metadata, no process run."""
    from .tree import build_tree

    owner = manager(path)
    env_dir, python = _env_of(owner)
    return build_tree(owner.locked_versions(), owner.dependencies(), env_dir, python)


def _env_of(owner: Manager) -> tuple[Path | None, str]:
    """The project's env folder (None while there is none) and the Python its markers use."""
    import platform

    try:
        env_dir = owner.env_python().parent.parent
    except EnvlockError:
        return None, platform.python_version()
    return env_dir, pyvenv_version(env_dir) or platform.python_version()


@_os_errors_as_messages
def environment_python(path: ProjectRef) -> Path:
    return manager(path).env_python()


@_os_errors_as_messages
def export_requirements(path: ProjectRef) -> str:
    """A hash-pinned requirements.txt from the lock, for tools that do not read pylock.toml."""
    return manager(path).export_requirements()


def export_pylock(path: ProjectRef) -> str:
    """A PEP 751 pylock.toml of the project's lock, for tools that read one (written only where
    the user asks: `export --format pylock -o pylock.toml`)."""
    return manager(path).export_pylock()


# ------------------------------------------------------------------ trust


def trust_source(project: Project, policy: TrustPolicy) -> TrustSource | None:
    """Why envlock may build and run `project` on its own, or None. A project whose env an
    older envlock (before the trust step) built for this user counts as trusted, and is recorded
    so ("built-before"), so that upgrading asks about none of the user's own projects."""
    source = policy.source(project.root)
    if source is None and environment.legacy_envs(project):
        try:
            return policy.store.trust(project.root, "built-before").source
        except TrustStoreError:
            return "built-before"  # decided all the same; recorded next time
    return source


def _trust_state(owner: Manager, policy: TrustPolicy) -> TrustState:
    return TrustState(trust_source(owner.project, policy), owner.build_plan())


@_os_errors_as_messages
def trust_state(path: ProjectRef, policy: TrustPolicy | None = None) -> TrustState:
    return _trust_state(manager(path), policy or TrustPolicy())


@_os_errors_as_messages
def trust(path: ProjectRef) -> TrustState:
    """The user trusts the project at or above `path` (recorded in their store)."""
    owner = manager(path)
    store = TrustStore()
    store.trust(owner.project.root, "user")
    return _trust_state(owner, TrustPolicy(store=store))


@_os_errors_as_messages
def revoke(path: ProjectRef) -> TrustState:
    """Forget the user's decision about the project: automatic paths refuse it again."""
    owner = manager(path)
    store = TrustStore()
    store.revoke(owner.project.root)
    environment.adopt_legacy_envs(owner.project)
    return TrustState(store.source(owner.project.root), owner.build_plan())


def trust_command(project: Project) -> str:
    import shlex

    return f"jupyter envlock trust --project {shlex.quote(str(project.root))}"


@_os_errors_as_messages
def require_trust(path: ProjectRef, policy: TrustPolicy) -> None:
    """Refuse an automatic path (kernel start, panel action) on a project not trusted: nothing
    is built or run. The message says what building would do and how to trust it. Costs a
    small JSON read when the project is trusted."""
    project = find_project(path)
    if trust_source(project, policy) is not None:
        return
    owner = manager_for(project)
    raise UntrustedProject(
        f"Project {project.name} ({project.root}) is not trusted, so envlock has not built its "
        "environment or run anything from it. "
        f"{owner.build_plan().describe()} If you trust this repository, run "
        f'`{trust_command(project)}` or click "Trust and build" in the Environment panel, then '
        "start the kernel again."
    )
