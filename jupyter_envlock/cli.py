"""`jupyter envlock ...`: the core's operations for terminals, CI, papermill and the %dep magics.

Exit codes: 0 success, 2 the user's input was wrong (nothing changed), 1 a failure (uv, disk, network).
With --json, stdout carries exactly one JSON document (the result or {"error": ...}); progress and
human messages go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._version import __version__
from .core import operations
from .core.errors import EnvlockError
from .core.progress import Progress, ProgressEvent

SYMBOLS = {"added": "+", "removed": "-", "upgraded": "↑", "downgraded": "↓"}


def progress_line(event: ProgressEvent) -> str:
    """One progress event as the line a terminal (or the %dep magic) shows."""
    count = f" [{event.done}/{event.total}]" if event.done and event.total else ""
    return f"  {event.phase:<8} {event.message}{count}"


def _stderr_progress(quiet: bool) -> Callable[[ProgressEvent], None]:
    def show(event: ProgressEvent) -> None:
        if quiet:
            return
        print(progress_line(event), file=sys.stderr, flush=True)

    return show


def format_changes(report: dict) -> str:
    lines = []
    for edit in report.get("edits", []):
        if edit["kind"] == "replaced":
            lines.append(f"pyproject.toml: {edit['old']} -> {edit['new']}")
        elif edit["kind"] == "added":
            lines.append(f"pyproject.toml: + {edit['new']}")
        elif edit["kind"] == "removed":
            lines.append(f"pyproject.toml: - {edit['old']}")
    for change in report.get("changes", []):
        symbol = SYMBOLS[change["kind"]]
        if change["kind"] == "added":
            lines.append(f"  {symbol} {change['name']} {change['new']}")
        elif change["kind"] == "removed":
            lines.append(f"  {symbol} {change['name']} {change['old']}")
        else:
            lines.append(f"  {symbol} {change['name']} {change['old']} -> {change['new']}")
    if report.get("relocked") and not report.get("changes"):
        lines.append("Lock is up to date; no versions changed.")
    env = report.get("env")
    if env:
        if env["noop"]:
            lines.append(f"Environment up to date ({env['path']}).")
        else:
            lines.append(
                f"Environment synced: {len(env['installed'])} installed, "
                f"{len(env['removed'])} removed (Python {env['python']}, {env['path']})."
            )
    return "\n".join(lines) or "Nothing to do."


def format_status(status: dict) -> str:
    p = status["project"]
    lines = [
        f"Project:  {p['name']} ({p['path']})",
        f"Kernel:   {p['kernel_name']}",
        f"Python:   {status['python'] or '-'}",
        f"Env:      {status['env_path'] or '-'}",
        f"Lock:     {status['lock']}",
        f"Env sync: {status['env']}",
        f"State:    {status['state']}",
    ]
    drift = status["drift"]
    for item in drift["missing"]:
        lines.append(f"  missing   {item['name']} {item['locked']}")
    for item in drift["extra"]:
        lines.append(f"  extra     {item['name']} {item['installed']} (not in the lock)")
    for item in drift["changed"]:
        lines.append(f"  changed   {item['name']} {item['installed']} (lock: {item['locked']})")
    hints = {
        "no-lock": "Run `jupyter envlock lock`.",
        "lock-out-of-date": "pyproject.toml changed since the lock: run `jupyter envlock lock`.",
        "no-env": "Run `jupyter envlock sync` to build the environment.",
        "env-out-of-date": "Run `jupyter envlock sync` to make the environment match the lock.",
    }
    if status["state"] in hints:
        lines.append(hints[status["state"]])
    return "\n".join(lines)


def format_list(deps: list[dict]) -> str:
    if not deps:
        return "No direct dependencies."
    width = max(len(d["requirement"]) for d in deps)
    lines = []
    for d in deps:
        group = f"[{d['group']}]" if d["group"] else ""
        lines.append(f"{d['requirement']:<{width}}  {d['locked'] or '(not locked)':<12} {group}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter envlock",
        description="Locked, reproducible environments and kernels for notebook projects.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument(
            "--project",
            default=".",
            metavar="DIR",
            help="project folder, or any path inside it (default: .)",
        )
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
        return p

    p = command("add", "Add requirements to pyproject.toml, re-lock, sync the environment")
    p.add_argument("specs", nargs="+", metavar="SPEC", help='PEP 508 requirement, e.g. "pandas>=2"')
    p.add_argument("--group", help="a PEP 735 dependency group instead of [project].dependencies")
    p.add_argument("--no-sync", action="store_true", help="only edit and lock")

    p = command("remove", "Remove direct dependencies, re-lock, sync the environment")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--group", help="the dependency group to remove from")
    p.add_argument("--no-sync", action="store_true", help="only edit and lock")

    p = command("lock", "Write pylock.toml from pyproject.toml (keeps versions unless asked)")
    p.add_argument(
        "--upgrade", action="store_true", help="move every package to its newest version"
    )
    p.add_argument(
        "--upgrade-package",
        action="append",
        default=[],
        metavar="NAME",
        help="move only this package (repeatable)",
    )

    p = command("sync", "Build or update the environment exactly from pylock.toml")
    p.add_argument(
        "--locked",
        action="store_true",
        help="fail instead of re-locking when pyproject.toml changed since the lock",
    )

    command("status", "Show manifest-vs-lock and lock-vs-environment drift")
    command("list", "List direct dependencies with their locked versions")
    command("python", "Print the project's environment Python (after a sync)")

    p = command("export", "Export the lock for tools that do not read pylock.toml")
    p.add_argument("--format", choices=["requirements"], default="requirements")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")

    from .kernels_cli import add_kernels_parser

    add_kernels_parser(sub)
    return parser


def run(args: argparse.Namespace, progress: Progress | None = None) -> tuple[object, str]:
    """Execute a parsed command; returns (JSON-able result, human text). Progress goes to
    `progress`, by default to stderr (unless --quiet)."""
    if progress is None:
        progress = _stderr_progress(args.quiet)
    if args.command == "add":
        r = operations.add(
            args.project, args.specs, args.group, not args.no_sync, progress
        ).to_dict()
        return r, format_changes(r)
    if args.command == "remove":
        r = operations.remove(args.project, args.names, args.group, not args.no_sync, progress)
        return r.to_dict(), format_changes(r.to_dict())
    if args.command == "lock":
        r = operations.lock(args.project, args.upgrade, args.upgrade_package, progress).to_dict()
        return r, format_changes(r)
    if args.command == "sync":
        stale = "error" if args.locked else None
        r = operations.sync(args.project, progress, stale=stale).to_dict()
        return r, format_changes(r)
    if args.command == "status":
        s = operations.status(args.project).to_dict()
        return s, format_status(s)
    if args.command == "list":
        deps = [d.to_dict() for d in operations.list_dependencies(args.project)]
        return {"dependencies": deps}, format_list(deps)
    if args.command == "python":
        path = str(operations.environment_python(args.project))
        return {"python": path}, path
    if args.command == "export":
        text = operations.export_requirements(args.project)
        if args.output:
            from .core.atomic import write_bytes_atomic

            write_bytes_atomic(Path(args.output), text.encode())
            return {"output": args.output}, f"Wrote {args.output}"
        return {"requirements": text}, text.rstrip("\n")
    from .kernels_cli import run_kernels

    return run_kernels(args)


@dataclass
class Outcome:
    """What one command line came to."""

    exit_code: int
    document: object  # what --json prints: the result, or {"error": ...}
    text: str  # what a terminal shows: the result on stdout, or the error on stderr
    json: bool  # --json was given


def execute(argv: Sequence[str] | None, progress: Progress | None = None) -> Outcome:
    """Parse and run one command line, mapping errors to exit codes and error documents: the
    one path of `main()` and of the kernels' warm worker (`jupyter_envlock.worker`).
    Misuse of the command line raises SystemExit(2) after argparse's message, as argparse does."""
    args = build_parser().parse_args(argv)
    try:
        result, text = run(args, progress)
    except EnvlockError as e:
        text = f"error: {e.message}" + (f"\n{e.details}" if e.details else "")
        return Outcome(e.exit_code, {"error": e.to_dict()}, text, args.json)
    except KeyboardInterrupt:
        error = {"type": "Interrupted", "message": "interrupted", "details": ""}
        return Outcome(130, {"error": error}, "interrupted", args.json)
    return Outcome(0, result, text, args.json)


def main(argv: Sequence[str] | None = None) -> int:
    outcome = execute(argv)
    if outcome.json:
        print(json.dumps(outcome.document))
    else:
        print(outcome.text, file=sys.stdout if outcome.exit_code == 0 else sys.stderr)
    return outcome.exit_code
