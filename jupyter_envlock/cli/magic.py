"""The server side of `%dep`: one magic line in, what the notebook shows out.

The kernel sends the words it was given, unparsed; they are parsed here with the CLI's own parser
(its %dep subset), run for the kernel's own project only (from the kernel's environment, never from
an argument), and rendered once, as text and HTML.
"""

from __future__ import annotations

import argparse
import functools
import os
import shlex
from typing import Any

from ..core import operations
from ..core.errors import UserError
from ..core.missing_import import missing_import as core_missing_import
from ..core.progress import Progress
from . import Outcome, error_outcome, render, run_parsed
from .parser import ParserExit, build_parser


class MagicUsageError(UserError):
    """The magic's words are not a %dep command line."""


@functools.cache
def magic_parser() -> argparse.ArgumentParser:
    """The %dep parser, built once per worker: it holds no state between lines."""
    return build_parser(magic=True)


def answer(line: str, project: str, progress: Progress, cwd: str | None = None) -> Outcome:
    """Run one %dep line for `project`; `cwd` is the kernel's folder (the notebook's), so the
    answer can say which project it acted on, as seen from there."""
    try:
        words = _words(line, project)
        if words in (["help"], ["--help"], ["-h"]):
            return Outcome(0, {"output": overview()}, overview(), False)
        args = magic_parser().parse_args(words or ["list"])
    except MagicUsageError as e:
        return error_outcome(e, False)
    except ParserExit as e:
        if e.status == 0:  # `%dep COMMAND --help`
            return Outcome(0, {"output": e.text}, e.text, False)
        return error_outcome(MagicUsageError(e.text.splitlines()[-1], e.text), False)
    args.project = project
    outcome = run_parsed(args, progress)
    if outcome.exit_code == 0 and cwd is not None:
        header = render.project_header(_project_name(project), project, cwd)
        outcome.html = (header.html or "") + (outcome.html or render.pre(outcome.text))
        outcome.text = "\n".join(filter(None, [header.text, outcome.text]))
    return outcome


def missing_import(module: str, project: str, cwd: str | None = None) -> Outcome:
    """The hint for a failed `import module` in this project's kernel: the MIME document and its
    text, or a null document when there is nothing to suggest."""
    owner = operations.manager(project)
    shown = render.relative_project(project, cwd)
    hint = core_missing_import(owner, module, shown)
    if hint is None:
        return Outcome(0, None, "", False)
    document = hint.to_dict()
    return Outcome(0, document, render.missing_import(document).text, False)


def _project_name(project: str) -> str:
    try:
        return operations.manager(project).project.name
    except UserError:
        return os.path.basename(project)


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
    parser = magic_parser()
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
            shown.append(f"[{action.option_strings[-1]} {action.metavar or action.dest.upper()}]")
    return shown
