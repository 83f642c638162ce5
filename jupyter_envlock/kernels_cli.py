"""`jupyter envlock kernels install|list|prune|launch`: project kernels as real kernel spec folders.

nbclient, papermill, nbconvert, `jupyter kernelspec list` and VS Code ignore custom kernel spec
managers, so the server's discovered specs are invisible to them. `kernels install` writes the same
names as ordinary kernel.json folders. Their argv runs `jupyter envlock kernels launch`, which syncs
the env and then becomes the kernel, so even a tool that ignores provisioners gets the locked env;
tools that honor provisioners (jupyter_client, hence nbclient and papermill) use the provisioner.
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

from .core.errors import ProjectNotFound, UserError
from .core.project import DEFAULT_IGNORED, Project, discover_projects, find_project

LOGOS = ("logo-64x64.png", "logo-svg.svg")


def _add_location(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="the user's Jupyter data dir (default)")
    where.add_argument("--sys-prefix", action="store_true", help="this Python's prefix")
    where.add_argument("--prefix", metavar="DIR", help="DIR/share/jupyter/kernels")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")


def add_kernels_parser(sub: argparse._SubParsersAction) -> None:
    """Register `kernels` and its subcommands on the main CLI's subparsers."""
    kernels = sub.add_parser(
        "kernels",
        help="Install, list and prune project kernel specs for headless tools",
        description="Project kernels as real kernel spec folders, for nbclient, papermill, "
        "nbconvert and VS Code (which do not see the server's project kernels).",
    )
    ksub = kernels.add_subparsers(dest="kernels_command", required=True, metavar="ACTION")

    p = ksub.add_parser("install", help="Write a kernel spec for a project, or for every project")
    _add_location(p)
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--project", metavar="DIR", help="the project holding DIR")
    scope.add_argument("--root", metavar="DIR", help="every project at or below DIR")
    p.add_argument("--depth", type=int, default=3, help="folder levels searched with --root")
    _add_common(p)

    p = ksub.add_parser("list", help="List installed project kernel specs")
    _add_common(p)

    p = ksub.add_parser("prune", help="Remove installed project kernel specs whose project is gone")
    _add_location(p)
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    _add_common(p)

    p = ksub.add_parser(
        "launch", help="Sync a project's env and run its kernel (the argv of installed specs)"
    )
    p.add_argument("--project", metavar="DIR", required=True)
    p.add_argument("-f", dest="connection_file", metavar="CONNECTION_FILE", required=True)
    p.add_argument("kernel_args", nargs=argparse.REMAINDER, help="passed to ipykernel")
    _add_common(p)


def run_kernels(args: argparse.Namespace) -> tuple[object, str]:
    """Execute a parsed `kernels ...` command; returns (JSON-able result, human text)."""
    action = args.kernels_command
    if action == "install":
        return _install(args)
    if action == "list":
        return _list()
    if action == "prune":
        return _prune(args)
    if action == "launch":
        _launch(args)
    raise UserError(f"Unknown kernels action {action!r}.")


# ------------------------------------------------------------------ locations


def _destination_prefix(args: argparse.Namespace) -> tuple[bool, str | None, str]:
    """(user, prefix, description) as KernelSpecManager.install_kernel_spec takes them."""
    if getattr(args, "prefix", None):
        return False, str(Path(args.prefix).expanduser().resolve()), f"prefix {args.prefix}"
    if getattr(args, "sys_prefix", False):
        return False, sys.prefix, f"sys-prefix {sys.prefix}"
    return True, None, "user"


def _location_dirs(args: argparse.Namespace) -> list[Path] | None:
    """The kernels folder an explicit --user/--sys-prefix/--prefix names (None: all of them)."""
    from jupyter_core.paths import jupyter_data_dir

    if getattr(args, "prefix", None):
        return [Path(args.prefix).expanduser().resolve() / "share" / "jupyter" / "kernels"]
    if getattr(args, "sys_prefix", False):
        return [Path(sys.prefix) / "share" / "jupyter" / "kernels"]
    if getattr(args, "user", False):
        return [Path(jupyter_data_dir()) / "kernels"]
    return None


# ------------------------------------------------------------------ install


def _projects_for(args: argparse.Namespace) -> list[Project]:
    if args.project:
        return [find_project(args.project)]
    if args.root:
        root = Path(args.root)
        if not root.is_dir():
            raise ProjectNotFound(f"{root} is not a folder.")
        return discover_projects(root, args.depth, DEFAULT_IGNORED)
    try:
        return [find_project(".")]
    except ProjectNotFound:
        return discover_projects(Path("."), args.depth, DEFAULT_IGNORED)


def write_spec_folder(project: Project, folder: Path) -> dict[str, Any]:
    """kernel.json + logos for one project into `folder`; returns the kernel.json data."""
    from .kernelspecs import KERNEL_SIDE, spec_dict

    data = spec_dict(
        project.kernel_name,
        project.display_name,
        project.root,
        {"project": str(project.root), "installed": True},
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for logo in LOGOS:
        if (KERNEL_SIDE / logo).exists():
            shutil.copyfile(KERNEL_SIDE / logo, folder / logo)
    return data


def _install(args: argparse.Namespace) -> tuple[object, str]:
    from jupyter_client.kernelspec import KernelSpecManager

    projects = _projects_for(args)
    if not projects:
        raise ProjectNotFound("No project (folder with a pyproject.toml) found to install.")
    user, prefix, where = _destination_prefix(args)
    ksm = KernelSpecManager()
    installed: list[dict[str, str]] = []
    seen: dict[str, Path] = {}
    lines = []
    skipped: list[dict[str, str]] = []
    for project in projects:
        try:
            name = project.kernel_name
        except UserError as e:
            if len(projects) == 1:
                raise
            skipped.append({"project": str(project.root), "reason": e.message})
            lines.append(f"skipped {project.root}: {e.message}")
            continue
        if name in seen:
            reason = f"kernel name {name} is taken by {seen[name]}"
            skipped.append({"project": str(project.root), "reason": reason})
            lines.append(f"skipped {project.root}: {reason}")
            continue
        seen[name] = project.root
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / name
            write_spec_folder(project, source)
            destination = ksm.install_kernel_spec(str(source), name, user=user, prefix=prefix)
        installed.append(
            {
                "name": name,
                "display_name": project.display_name,
                "project": str(project.root),
                "spec_dir": destination,
            }
        )
        lines.append(f"installed {name} ({project.display_name}) in {destination}")
    if prefix is not None and str(Path(prefix) / "share" / "jupyter") not in _jupyter_path():
        lines.append(
            f"note: {prefix}/share/jupyter is not on the Jupyter path; "
            f"set JUPYTER_PATH={Path(prefix) / 'share' / 'jupyter'} for tools to find it."
        )
    result = {"installed": installed, "skipped": skipped, "location": where}
    return result, "\n".join(lines)


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


def _list() -> tuple[object, str]:
    specs = installed_specs()
    if not specs:
        return {"kernels": []}, "No project kernel specs installed."
    width = max(len(s["name"]) for s in specs)
    lines = [
        f"{s['name']:<{width}}  {s['project'] or '?'}"
        + ("" if s["project_exists"] else "  (project gone: `kernels prune` removes it)")
        + f"\n{'':<{width}}  {s['spec_dir']}"
        for s in specs
    ]
    return {"kernels": specs}, "\n".join(lines)


def _prune(args: argparse.Namespace) -> tuple[object, str]:
    specs = [s for s in installed_specs(_location_dirs(args)) if not s["project_exists"]]
    removed = []
    for spec in specs:
        if not args.dry_run:
            shutil.rmtree(spec["spec_dir"], ignore_errors=True)
        removed.append(spec)
    verb = "would remove" if args.dry_run else "removed"
    text = "\n".join(f"{verb} {s['name']} ({s['spec_dir']})" for s in removed)
    return {"removed": removed, "dry_run": args.dry_run}, text or "Nothing to prune."


# ------------------------------------------------------------------ launch


def _launch(args: argparse.Namespace) -> None:
    """Sync, then replace this process with the project kernel (signals reach it directly)."""
    import subprocess

    from .cli import _stderr_progress
    from .core import operations
    from .provisioner import kernel_command, kernel_environment

    report = operations.sync(args.project, progress=_stderr_progress(args.quiet))
    assert report.sync is not None
    env_dir = report.sync.env.path
    cmd = kernel_command(report.sync.env.python, os.path.realpath(args.connection_file))
    cmd += [a for a in args.kernel_args if a != "--"]
    env = kernel_environment(os.environ, env_dir, report.project.root)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(cmd[0], cmd, env)
    raise SystemExit(subprocess.call(cmd, env=env))
