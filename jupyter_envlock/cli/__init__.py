"""`jupyter envlock ...`: the core's operations for terminals, CI, papermill and Binder.

Exit codes: 0 success, 2 the user's input was wrong (nothing changed), 1 a failure (uv, disk, network).
With --json, stdout carries exactly one JSON document (the result or {"error": ...}); progress and
human messages go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import EnvlockError
from ..core.progress import Progress, ProgressEvent
from .parser import ParserExit, build_parser

if TYPE_CHECKING:  # the commands import the core: only the command that runs imports it
    from .commands import Result

__all__ = ["Outcome", "dispatch", "execute", "main", "progress_line"]


def progress_line(event: ProgressEvent) -> str:
    """One progress event as the line a terminal shows."""
    count = f" [{event.done}/{event.total}]" if event.done and event.total else ""
    return f"  {event.phase:<8} {event.message}{count}"


def stderr_progress(quiet: bool, kept: list[str] | None = None) -> Progress:
    """Progress lines on stderr (none with --quiet), also appended to `kept` when given."""

    def show(event: ProgressEvent) -> None:
        if not quiet:
            line = progress_line(event) + "\n"
            sys.stderr.write(line)
            sys.stderr.flush()
            if kept is not None:
                kept.append(line)

    return show


def dispatch(args: argparse.Namespace, progress: Progress) -> Result:
    """Run the handler the parser chose ("module:function" within this package)."""
    module, _, function = args.handler.partition(":")
    handler: Callable[[argparse.Namespace, Progress], Result] = getattr(
        importlib.import_module(f"{__name__}.{module}"), function
    )
    return handler(args, progress)


@dataclass
class Outcome:
    """What one command line came to."""

    exit_code: int
    document: object  # what --json prints: the result, or {"error": ...}
    text: str  # what a terminal shows: the result on stdout, or the error on stderr
    json: bool  # --json was given
    html: str | None = None
    inputs: list[Path] | None = None  # a read-only answer's files (core/answers.py)


def error_outcome(error: EnvlockError, as_json: bool) -> Outcome:
    text = f"error: {error.message}" + (f"\n{error.details}" if error.details else "")
    return Outcome(error.exit_code, {"error": error.to_dict()}, text, as_json)


def run_parsed(args: argparse.Namespace, progress: Progress) -> Outcome:
    """Run parsed arguments, mapping errors to exit codes and error documents, once."""
    try:
        result = dispatch(args, progress)
    except EnvlockError as e:
        return error_outcome(e, args.json)
    except KeyboardInterrupt:
        error = {"type": "Interrupted", "message": "interrupted", "details": ""}
        return Outcome(130, {"error": error}, "interrupted", args.json)
    return Outcome(0, result.document, result.text, args.json, result.html, result.inputs)


def execute(
    argv: Sequence[str] | None, progress: Progress | None = None, kept: list[str] | None = None
) -> Outcome:
    """Parse and run one command line. Progress goes to `progress`, by default to stderr
    (unless --quiet) and into `kept`. A misused command line is exit code 2 with argparse's
    message."""
    try:
        args = build_parser().parse_args(argv)
    except ParserExit as e:
        return Outcome(e.status, {"output": e.text}, e.text, False)
    return run_parsed(args, progress or stderr_progress(args.quiet, kept))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line as the console script does; a read-only answer is recorded, so
    that the same command asked again while its files stay the same is answered from the
    record (jupyter_envlock.entry)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    said: list[str] = []
    outcome = execute(argv, kept=said)
    if outcome.json:
        import json

        stdout = json.dumps(outcome.document) + "\n"
    elif outcome.text:
        stdout = outcome.text + "\n"
    else:
        stdout = ""
    (sys.stdout if outcome.exit_code == 0 or outcome.json else sys.stderr).write(stdout)
    if outcome.exit_code == 0 and outcome.inputs is not None:
        from ..core.answers import record

        record(argv, outcome.inputs, stdout, "".join(said))
    return outcome.exit_code
