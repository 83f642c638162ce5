"""The one command-line grammar: `jupyter envlock COMMAND ...` and, as a subset, `%dep COMMAND ...`.

Each command names its handler with `set_defaults(handler=...)`; `cli.main` and the magic's
server side (`cli.magic`) dispatch through it. Handlers are named as "module:function" strings and
imported when run, so `--version` and `--help` import none of the core.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

COMMON = ("--project", "--json", "--quiet")
# The commands a notebook may run on its own kernel's project (%dep).
MAGIC_COMMANDS = ("add", "remove", "list", "status", "sync", "lock", "tree", "outdated", "upgrade")


class ParserExit(Exception):
    """argparse wanted to print and exit (help, version, a usage error): the caller decides how."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that never prints or exits by itself (the %dep magic runs it in a
    worker process whose stdout is a protocol channel)."""

    _checking = False  # inside add_argument (or add_subparsers), which format only to check

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._said: list[str] = []

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        self._checking = True
        try:
            return super().add_argument(*args, **kwargs)
        finally:
            self._checking = False

    def add_subparsers(self, **kwargs: Any) -> argparse._SubParsersAction:
        self._checking = True  # it formats the usage only for the subcommands' prog
        try:
            return super().add_subparsers(**kwargs)
        finally:
            self._checking = False

    def _get_formatter(self) -> argparse.HelpFormatter:
        """argparse sizes a formatter to the terminal (importing shutil to ask) even when it
        only checks an argument being added, dozens of times per parser built: that check
        gets a fixed width, help and errors the terminal's."""
        if self._checking:
            return argparse.HelpFormatter(self.prog, width=100)
        return super()._get_formatter()

    def _print_message(self, message: str, file: object = None) -> None:
        if message:
            self._said.append(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        said = "".join(self._said) + (message or "")
        self._said.clear()
        raise ParserExit(status, said.rstrip("\n"))

    def error(self, message: str) -> NoReturn:
        raise ParserExit(2, f"{self.format_usage().rstrip()}\n{self.prog}: error: {message}")


Adder = Callable[[argparse.ArgumentParser], None]


def build_parser(magic: bool = False) -> Parser:
    """The CLI's parser; with `magic`, the %dep subset (no --project: a kernel acts on its own
    project only; `lock` also syncs, unless --no-sync)."""
    from .._version import __version__

    prog = "%dep" if magic else "jupyter envlock"
    parser = Parser(
        prog=prog,
        description="Manage this kernel's project: pyproject.toml, its lock and this kernel's env."
        if magic
        else "Locked, reproducible environments and kernels for notebook projects.",
    )
    if not magic:
        parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=not magic)
    parser.set_defaults(handler="commands:list_", command="list", project=".", json=False)

    def command(name: str, help: str, handler: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler, json=False, quiet=False)
        if not magic:
            p.add_argument(
                "--project",
                default=".",
                metavar="DIR",
                help="project folder, or any path inside it (default: .)",
            )
            p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
            p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
        return p

    def removals(p: argparse.ArgumentParser) -> None:
        p.set_defaults(allow_removals=False)
        if not magic:
            p.add_argument(
                "--allow-removals",
                action="store_true",
                help="agree that syncing an existing environment envlock did not create removes "
                "the packages the lock does not list (envlock lists them and stops otherwise)",
            )

    p = command(
        "add", "Add requirements to pyproject.toml, re-lock, sync the environment", "commands:add"
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help='PEP 508 requirement, e.g. "pandas>=2"')
    p.add_argument(
        "--group", "-g", help="a PEP 735 dependency group instead of [project].dependencies"
    )
    p.add_argument(
        "--optional",
        metavar="EXTRA",
        help="an extra of [project.optional-dependencies] (uv, Poetry)",
    )
    p.add_argument("--no-sync", action="store_true", help="only edit and lock")
    removals(p)

    p = command(
        "remove", "Remove direct dependencies, re-lock, sync the environment", "commands:remove"
    )
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--group", "-g", help="the dependency group to remove from")
    p.add_argument("--optional", metavar="EXTRA", help="the extra to remove from (uv, Poetry)")
    p.add_argument("--no-sync", action="store_true", help="only edit and lock")
    removals(p)

    p = command(
        "lock",
        "Re-lock, keeping versions unless asked, then sync"
        if magic
        else "Write the lock from pyproject.toml (keeps versions unless asked)",
        "commands:lock_and_sync" if magic else "commands:lock",
    )
    p.add_argument(
        "--upgrade", "-U", action="store_true", help="move every package to its newest version"
    )
    p.add_argument(
        "--upgrade-package",
        "-P",
        action="append",
        default=[],
        metavar="NAME",
        help="move only this package (repeatable)",
    )
    p.add_argument(
        "--exclude-newer",
        metavar="DATE",
        help="resolve as of DATE (YYYY-MM-DD or RFC 3339), recorded in the lock; 'none' drops it",
    )
    if magic:
        p.add_argument("--no-sync", action="store_true", help="only re-lock")

    p = command("sync", "Build or update the environment exactly from the lock", "commands:sync")
    if not magic:
        p.add_argument(
            "--locked",
            action="store_true",
            help="fail instead of re-locking when pyproject.toml changed since the lock",
        )
    p.set_defaults(locked=False)
    removals(p)

    command("status", "Show manifest-vs-lock and lock-vs-environment drift", "commands:status")
    command("list", "List direct dependencies with their locked versions", "commands:list_")
    command("tree", "Show every locked package and what requires it", "commands:tree")
    command(
        "outdated",
        "Show direct dependencies with newer versions on the package indexes",
        "commands:outdated",
    )
    p = command(
        "upgrade",
        "Re-lock moving only the named packages to the newest allowed versions, then sync",
        "commands:upgrade",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="a locked package (repeatable)")
    p.add_argument("--all", action="store_true", help="upgrade every package")
    if magic:
        return parser

    p = command(
        "init",
        "Make a folder a project: pyproject.toml from its requirements.txt (as written), locked",
        "commands:init",
    )
    p.add_argument("--sync", action="store_true", help="also build the environment")

    p = command(
        "trust",
        "Trust a project: let the server build its environment and start its kernel on its own",
        "commands:trust",
    )
    p.add_argument("--revoke", action="store_true", help="forget the decision (untrust it)")

    command("python", "Print the project's environment Python (after a sync)", "commands:python")
    p = command("export", "Export the lock for tools that do not read it", "commands:export")
    p.add_argument(
        "--format",
        choices=["requirements", "pylock"],
        default="requirements",
        help="requirements.txt with hashes, or a PEP 751 pylock.toml (uv projects: uv export)",
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")

    _add_kernels(sub)
    return parser


def _add_kernels(sub: argparse._SubParsersAction) -> None:
    kernels = sub.add_parser(
        "kernels",
        help="Install, list and prune project kernel specs for headless tools",
        description="Project kernels as real kernel spec folders, for nbclient, papermill, "
        "nbconvert and VS Code (which do not see the server's project kernels).",
    )
    ksub = kernels.add_subparsers(dest="kernels_command", required=True, metavar="ACTION")

    def action(name: str, help: str, handler: str) -> argparse.ArgumentParser:
        p = ksub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
        return p

    def location(p: argparse.ArgumentParser) -> None:
        where = p.add_mutually_exclusive_group()
        where.add_argument(
            "--user", action="store_true", help="the user's Jupyter data dir (default)"
        )
        where.add_argument("--sys-prefix", action="store_true", help="this Python's prefix")
        where.add_argument("--prefix", metavar="DIR", help="DIR/share/jupyter/kernels")

    p = action(
        "install", "Write a kernel spec for a project, or for every project", "kernels:install"
    )
    location(p)
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--project", metavar="DIR", help="the project holding DIR")
    scope.add_argument("--root", metavar="DIR", help="every project at or below DIR")
    p.add_argument("--depth", type=int, default=None, help="folder levels searched with --root")

    action("list", "List installed project kernel specs", "kernels:list_")

    p = action(
        "prune", "Remove installed project kernel specs whose project is gone", "kernels:prune"
    )
    location(p)
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")

    p = action(
        "launch",
        "Sync a project's env and run its kernel (the argv of installed specs)",
        "kernels:launch",
    )
    p.add_argument("--project", metavar="DIR", required=True)
    p.add_argument("-f", dest="connection_file", metavar="CONNECTION_FILE", required=True)
    p.add_argument("kernel_args", nargs=argparse.REMAINDER, help="passed to ipykernel")
