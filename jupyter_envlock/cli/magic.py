"""The server side of `%dep`: one magic line in, what the notebook shows out.

The kernel sends the words it was given, unparsed; they are parsed here with the CLI's own parser
(its %dep subset), run for the kernel's own project only (from the kernel's environment, never from
an argument), and rendered once, as text and HTML.
"""

from __future__ import annotations

import argparse
import os
import shlex
from typing import Any

from ..core.errors import UserError
from ..core.progress import Progress
from . import Outcome, error_outcome, run_parsed
from .parser import ParserExit, build_parser


class MagicUsageError(UserError):
    """The magic's words are not a %dep command line."""


def answer(line: str, project: str, progress: Progress) -> Outcome:
    """Run one %dep line for `project`."""
    try:
        words = _words(line, project)
        if words in (["help"], ["--help"], ["-h"]):
            return Outcome(0, {"output": overview()}, overview(), False)
        args = build_parser(magic=True).parse_args(words or ["list"])
    except MagicUsageError as e:
        return error_outcome(e, False)
    except ParserExit as e:
        if e.status == 0:  # `%dep COMMAND --help`
            return Outcome(0, {"output": e.text}, e.text, False)
        return error_outcome(MagicUsageError(e.text.splitlines()[-1], e.text), False)
    args.project = project
    return run_parsed(args, progress)


def _words(line: str, project: str) -> list[str]:
    try:
        words = shlex.split(line, posix=os.name != "nt")
    except ValueError as e:
        raise MagicUsageError(f"%dep: cannot parse {line!r}: {e}") from None
    if any(w == "--project" or w.startswith("--project=") for w in words):
        raise MagicUsageError(
            f"%dep acts on this kernel's own project ({project}); --project is not accepted. "
            "Use `jupyter envlock ... --project DIR` in a terminal for another project."
        )
    return words


def overview() -> str:
    """`%dep --help`: every command with its arguments, from the parser itself."""
    parser = build_parser(magic=True)
    lines = [
        "%dep: manage this kernel's project (pyproject.toml, its lock and this kernel's env).",
        "",
        f"  {'%dep':<34} list direct dependencies with their locked versions",
    ]
    for name, sub in _subcommands(parser).items():
        usage = " ".join([f"%dep {name}", *_arguments(sub)])
        lines.append(f"  {usage:<34} {sub.description}")
    lines += [
        "",
        'SPEC is a PEP 508 requirement, e.g. "pandas>=2" (quote it when it holds < or >).',
        "`%dep COMMAND --help` says more. The same commands exist in a terminal as",
        "`jupyter envlock COMMAND --project DIR`.",
    ]
    return "\n".join(lines)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, Any]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _arguments(parser: argparse.ArgumentParser) -> list[str]:
    shown = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if not action.option_strings:
            if action.nargs == "+":
                shown.append(f"{action.metavar}...")
            elif action.nargs == "*":
                shown.append(f"[{action.metavar}...]")
            else:
                shown.append(str(action.metavar))
        elif action.nargs == 0:
            shown.append(f"[{action.option_strings[-1]}]")
        else:
            shown.append(f"[{action.option_strings[-1]} {action.dest.upper()}]")
    return shown
