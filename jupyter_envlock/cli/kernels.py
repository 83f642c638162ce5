"""`jupyter envlock kernels install|list|prune|launch`: project kernels as real kernel spec folders.

nbclient, papermill, nbconvert, `jupyter kernelspec list` and VS Code ignore custom kernel spec
managers, so the server's discovered specs are invisible to them. `kernels install` writes the same
names as ordinary kernel.json folders. Their argv runs `jupyter envlock kernels launch`, which syncs
the env and then becomes the kernel, so even a tool that ignores provisioners gets the locked env;
tools that honor provisioners (jupyter_client, hence nbclient and papermill) use the provisioner.

A spec folder envlock did not write is never replaced, and a kernel name (from a repository) never
names a folder outside the kernels folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..core.errors import ProjectNotFound, UserError
from ..core.progress import Progress
from ..core.project import (
    DEFAULT_IGNORED,
    DEFAULT_SCAN_DEPTH,
    Project,
    discover_projects,
    find_project,
)
from ..core.pyproject import KERNEL_NAME
from ..kernel_launch import KERNEL_SIDE, is_envlock_spec_dir, spec_dict
from .commands import Result

LOGOS = ("logo-64x64.png", "logo-svg.svg")


class SpecConflict(UserError):
    """A kernel spec of that name exists and envlock did not write it."""


# ------------------------------------------------------------------ locations


def _destination(args: argparse.Namespace) -> tuple[Path, str]:
    """The kernels folder an install writes to, and how to describe it."""
    from jupyter_core.paths import jupyter_data_dir

    if args.prefix:
        prefix = Path(args.prefix).expanduser().resolve()
        return prefix / "share" / "jupyter" / "kernels", f"prefix {args.prefix}"
    if args.sys_prefix:
        return Path(sys.prefix) / "share" / "jupyter" / "kernels", f"sys-prefix {sys.prefix}"
    return Path(jupyter_data_dir()) / "kernels", "user"


def _location_dirs(args: argparse.Namespace) -> list[Path] | None:
    """The kernels folder an explicit --user/--sys-prefix/--prefix names (None: all of them)."""
    if args.prefix or args.sys_prefix or args.user:
        return [_destination(args)[0]]
    return None


# ------------------------------------------------------------------ install


def _projects_for(args: argparse.Namespace) -> list[Project]:
    depth = DEFAULT_SCAN_DEPTH if args.depth is None else args.depth
    if args.project:
        return [find_project(args.project)]
    if args.root:
        root = Path(args.root)
        if not root.is_dir():
            raise ProjectNotFound(f"{root} is not a folder.")
        return discover_projects(root, depth, DEFAULT_IGNORED)
    try:
        return [find_project(".")]
    except ProjectNotFound:
        return discover_projects(Path("."), depth, DEFAULT_IGNORED)


def spec_data(project: Project) -> dict[str, Any]:
    return spec_dict(
        project.kernel_name,
        project.display_name,
        project.root,
        {"project": str(project.root), "installed": True},
    )


def write_spec_folder(project: Project, folder: Path) -> dict[str, Any]:
    """kernel.json + logos for one project into `folder`; returns the kernel.json data."""
    data = spec_data(project)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for logo in LOGOS:
        if (KERNEL_SIDE / logo).exists():
            shutil.copyfile(KERNEL_SIDE / logo, folder / logo)
    return data


def _check_destination(kernels_dir: Path, name: str) -> Path:
    """The spec folder for `name`, which must stay inside `kernels_dir` and, if it exists, be
    one envlock wrote."""
    if not KERNEL_NAME.match(name):
        raise UserError(f"Kernel name {name!r} must match {KERNEL_NAME.pattern}.")
    folder = kernels_dir / name
    if folder.resolve().parent != kernels_dir.resolve():
        raise UserError(f"Kernel name {name!r} leads outside {kernels_dir}.")
    if os.path.lexists(folder) and not (folder.is_dir() and is_envlock_spec_dir(folder)):
        raise SpecConflict(
            f"A kernel spec named {name!r} already exists in {folder} and was not written by "
            "jupyter-envlock; it is left alone. Set [tool.envlock] kernel-name to another name, "
            f"or remove that spec (`jupyter kernelspec remove {name}`) if you no longer want it."
        )
    return folder


def install(args: argparse.Namespace, progress: Progress) -> Result:
    projects = _projects_for(args)
    if not projects:
        raise ProjectNotFound("No project (folder with a pyproject.toml) found to install.")
    kernels_dir, where = _destination(args)
    installed: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    seen: dict[str, Path] = {}
    lines = []
    for project in projects:
        try:
            name = project.kernel_name
            if name in seen:
                raise UserError(f"kernel name {name} is taken by {seen[name]}")
            folder = _check_destination(kernels_dir, name)
        except UserError as e:
            if len(projects) == 1:
                raise
            skipped.append({"project": str(project.root), "reason": e.message})
            lines.append(f"skipped {project.root}: {e.message}")
            continue
        seen[name] = project.root
        _replace_folder(project, folder)
        installed.append(
            {
                "name": name,
                "display_name": project.display_name,
                "project": str(project.root),
                "spec_dir": str(folder),
            }
        )
        lines.append(f"installed {name} ({project.display_name}) for {project.root} in {folder}")
    also = _projects_below(args, projects)
    if also:
        lines.append(
            f"also found {len(also)} project(s) below it: "
            + ", ".join(str(p.root) for p in also)
            + " (`kernels install --root DIR` installs every one)"
        )
    if args.prefix and str(kernels_dir.parent) not in _jupyter_path():
        lines.append(
            f"note: {kernels_dir.parent} is not on the Jupyter path; "
            f"set JUPYTER_PATH={kernels_dir.parent} for tools to find it."
        )
    document = {
        "installed": installed,
        "skipped": skipped,
        "location": where,
        "also_found": [str(p.root) for p in also],
    }
    return Result(document, "\n".join(lines))


def _projects_below(args: argparse.Namespace, chosen: list[Project]) -> list[Project]:
    """Run at a repository's root without --project/--root, `install` acts on the project
    there; the projects below it (workspace members, nested projects) are named, not guessed."""
    if args.project or args.root or len(chosen) != 1:
        return []
    depth = DEFAULT_SCAN_DEPTH if args.depth is None else args.depth
    below = discover_projects(chosen[0].root, depth, DEFAULT_IGNORED)
    return [p for p in below if p.root != chosen[0].root]


def _replace_folder(project: Project, folder: Path) -> None:
    """Write the new spec beside the old one, then swap: a spec is never half-written."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        write_spec_folder(project, staging)
        if folder.exists():
            shutil.rmtree(folder)  # checked above: envlock wrote it
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _jupyter_path() -> list[str]:
    from jupyter_core.paths import jupyter_path

    return [str(Path(p)) for p in jupyter_path()]


# ------------------------------------------------------------------ list / prune


def installed_specs(dirs: list[Path] | None = None) -> list[dict[str, Any]]:
    """Kernel specs written by `kernels install`, found on the Jupyter path (or in `dirs`)."""
    if dirs is None:
        from jupyter_client.kernelspec import KernelSpecManager

        dirs = [Path(d) for d in KernelSpecManager().kernel_dirs]
    found = []
    seen: set[Path] = set()
    for kernels_dir in dirs:
        try:
            entries = sorted(kernels_dir.iterdir())
        except OSError:
            continue
        for spec_dir in entries:
            real = spec_dir.resolve()
            if real in seen:
                continue
            try:
                data = json.loads((spec_dir / "kernel.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            envlock = (
                (data.get("metadata") or {}).get("envlock") if isinstance(data, dict) else None
            )
            if not isinstance(envlock, dict):
                continue
            seen.add(real)
            project = str(envlock.get("project") or "")
            found.append(
                {
                    "name": spec_dir.name,
                    "display_name": data.get("display_name", ""),
                    "project": project,
                    "spec_dir": str(spec_dir),
                    "project_exists": _project_exists(project, spec_dir.name),
                }
            )
    return found


def _project_exists(project: str, kernel_name: str) -> bool:
    """The project folder still holds a pyproject.toml that still claims this kernel name."""
    if not project or not os.path.isabs(project):
        return False
    candidate = Project(Path(project))
    if not candidate.manifest_path.is_file():
        return False
    try:
        return candidate.kernel_name == kernel_name
    except UserError:
        return False


def list_(args: argparse.Namespace, progress: Progress) -> Result:
    specs = installed_specs()
    if not specs:
        return Result({"kernels": []}, "No project kernel specs installed.")
    width = max(len(s["name"]) for s in specs)
    lines = [
        f"{s['name']:<{width}}  {s['project'] or '?'}"
        + ("" if s["project_exists"] else "  (project gone: `kernels prune` removes it)")
        + f"\n{'':<{width}}  {s['spec_dir']}"
        for s in specs
    ]
    return Result({"kernels": specs}, "\n".join(lines))


def prune(args: argparse.Namespace, progress: Progress) -> Result:
    specs = [s for s in installed_specs(_location_dirs(args)) if not s["project_exists"]]
    for spec in specs:
        if not args.dry_run:
            shutil.rmtree(spec["spec_dir"], ignore_errors=True)
    verb = "would remove" if args.dry_run else "removed"
    text = "\n".join(f"{verb} {s['name']} ({s['spec_dir']})" for s in specs)
    return Result({"removed": specs, "dry_run": args.dry_run}, text or "Nothing to prune.")


# ------------------------------------------------------------------ launch


def launch(args: argparse.Namespace, progress: Progress) -> Result:
    """Sync, then replace this process with the project kernel (signals reach it directly)."""
    import subprocess

    from ..core import kernel_layer, operations
    from ..kernel_launch import kernel_command, kernel_environment

    report = operations.sync(args.project, progress=progress)
    assert report.sync is not None
    layer = kernel_layer.prepare(report.sync.path, progress)
    cmd = kernel_command(report.sync.python, os.path.realpath(args.connection_file))
    cmd += [a for a in args.kernel_args if a != "--"]
    env = kernel_environment(os.environ, report.sync.path, report.project.root, layer)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(cmd[0], cmd, env)
    raise SystemExit(subprocess.call(cmd, env=env))
