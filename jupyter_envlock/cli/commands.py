"""The project commands: each takes the parsed arguments and a progress callback, calls the core
once, and returns the JSON document with its rendering. Used by the CLI and the %dep magic."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from ..core import operations
from ..core.progress import Progress
from ..core.pyproject import StalePolicy
from ..core.results import ChangeReportDict, project_dict
from . import render


@dataclass(frozen=True)
class Result:
    document: object  # what --json prints
    text: str
    html: str | None = None
    # A read-only answer: the files it depends on (core/answers.py may replay it while they
    # stay as they are). None: the command changed something, or its answer is not kept.
    inputs: list[Path] | None = None


def _answer(args: argparse.Namespace, extra: list[Path] | None = None) -> list[Path] | None:
    inputs = operations.answer_inputs(args.project)
    return None if inputs is None else inputs + (extra or [])


def _unchanged(report: ChangeReportDict) -> bool:
    env = report["env"]
    return not (
        report["manifest_changed"] or report["lock_changed"] or report["edits"]
        or report["changes"] or (env is not None and not env["noop"])
    )  # fmt: skip


def _changes(document: object) -> Result:
    shown = render.changes(document)  # type: ignore[arg-type]
    return Result(document, shown.text, shown.html)


def add(args: argparse.Namespace, progress: Progress) -> Result:
    report = operations.add(
        args.project,
        args.specs,
        args.group,
        not args.no_sync,
        progress,
        extra=args.optional,
        allow_removals=args.allow_removals,
    )
    return _changes(report.to_dict())


def remove(args: argparse.Namespace, progress: Progress) -> Result:
    report = operations.remove(
        args.project,
        args.names,
        args.group,
        not args.no_sync,
        progress,
        extra=args.optional,
        allow_removals=args.allow_removals,
    )
    return _changes(report.to_dict())


def lock(args: argparse.Namespace, progress: Progress) -> Result:
    report = operations.lock(
        args.project, args.upgrade, args.upgrade_package, progress, args.exclude_newer
    ).to_dict()
    shown = _changes(report)
    if not _unchanged(report) or args.upgrade or args.upgrade_package or args.exclude_newer:
        return shown
    return Result(shown.document, shown.text, shown.html, _answer(args))


def lock_and_sync(args: argparse.Namespace, progress: Progress) -> Result:
    """`%dep lock`: re-lock, then bring this kernel's env along (unless --no-sync)."""
    locked = operations.lock(
        args.project, args.upgrade, args.upgrade_package, progress, args.exclude_newer
    ).to_dict()
    if not args.no_sync:
        locked["env"] = operations.sync(args.project, progress).to_dict()["env"]
    return _changes(locked)


def sync(args: argparse.Namespace, progress: Progress) -> Result:
    stale: StalePolicy | None = "error" if args.locked else None
    report = operations.sync(args.project, progress, stale, args.allow_removals).to_dict()
    shown = _changes(report)
    if not _unchanged(report) or report["env"] is None:
        return shown
    return Result(shown.document, shown.text, shown.html, _answer(args))


def status(args: argparse.Namespace, progress: Progress) -> Result:
    document = operations.status(args.project).to_dict()
    shown = render.status(document)
    # its widgets warning reads the server's packages: the folders on sys.path count too
    inputs = None if document["busy"] else _answer(args, [Path(p) for p in sys.path if p])
    return Result(document, shown.text, shown.html, inputs)


def list_(args: argparse.Namespace, progress: Progress) -> Result:
    owner = operations.manager(args.project)
    deps = [d.to_dict() for d in operations.list_dependencies(owner.project)]
    project = project_dict(owner.project, owner.name)
    shown = render.dependencies(deps, project)
    document = {"project": project, "dependencies": deps}
    return Result(document, shown.text, shown.html, _answer(args))


def init(args: argparse.Namespace, progress: Progress) -> Result:
    report = operations.init(args.project, args.sync, progress)
    return _changes(report.to_dict())


def tree(args: argparse.Namespace, progress: Progress) -> Result:
    document = operations.tree(args.project).to_dict()
    shown = render.tree(document)
    return Result(document, shown.text, shown.html)


def outdated(args: argparse.Namespace, progress: Progress) -> Result:
    document = operations.outdated(args.project, progress).to_dict()
    shown = render.outdated(document)
    return Result(document, shown.text, shown.html)


def upgrade(args: argparse.Namespace, progress: Progress) -> Result:
    report = operations.upgrade(args.project, args.names, args.all, progress)
    return _changes(report.to_dict())


def trust(args: argparse.Namespace, progress: Progress) -> Result:
    """`trust [--revoke]`: the user's decision, recorded outside the repository."""
    project = operations.manager(args.project).project
    state = operations.revoke(project) if args.revoke else operations.trust(project)
    document = {"project": str(project.root), "trust": state.to_dict()}
    return Result(document, render.trust_decision(str(project.root), state.to_dict(), args.revoke))


def python(args: argparse.Namespace, progress: Progress) -> Result:
    path = str(operations.environment_python(args.project))
    return Result({"python": path}, path, inputs=_answer(args))


def export(args: argparse.Namespace, progress: Progress) -> Result:
    if args.format == "pylock":
        text = operations.export_pylock(args.project)
    else:
        text = operations.export_requirements(args.project)
    if args.output:
        from ..core.atomic import write_bytes_atomic

        write_bytes_atomic(Path(args.output), text.encode())
        return Result({"output": args.output}, f"Wrote {args.output}")
    return Result({"requirements": text}, text.rstrip("\n"))
