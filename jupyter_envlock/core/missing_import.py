"""What to say when a cell fails with "No module named X": which distribution provides X, and the
`%dep` line that gets it. Nothing is installed here; the user decides.

The distribution comes from a table of the common import names that differ from their
distribution's (`sklearn` is scikit-learn; data/import_names.json), else it is X itself when the
project's index has it. A distribution that is locked but missing from the env (drift) asks for
`%dep sync` instead of an add.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from packaging.utils import canonicalize_name

from .environment import installed_distributions
from .errors import EnvlockError
from .managers import Manager
from .results import MissingImportDict

Action = Literal["add", "sync"]  # not in the project / locked but not installed


@cache
def import_names() -> dict[str, str]:
    """Top-level module -> the distribution that provides it, where the names differ."""
    text = resources.files(__package__).joinpath("data/import_names.json").read_text("utf-8")
    table = json.loads(text)
    return {k: str(v) for k, v in table.items() if not k.startswith("_")}


@dataclass(frozen=True)
class MissingImport:
    module: str
    distribution: str
    action: Action
    project: str  # the project as the kernel's notebook sees it (a relative path)
    kernel_name: str

    @property
    def command(self) -> str:
        return f"%dep add {self.distribution}" if self.action == "add" else "%dep sync"

    def to_dict(self) -> MissingImportDict:
        return {
            "module": self.module,
            "distribution": self.distribution,
            "action": self.action,
            "command": self.command,
            "project": self.project,
            "kernel_name": self.kernel_name,
        }


def missing_import(owner: Manager, module: str, shown_project: str) -> MissingImport | None:
    """The hint for `import module` failing in the kernel of `owner`'s project; None when there
    is nothing useful to say (not a module name, unknown to the table and the index, or locked
    and installed already)."""
    top = module.split(".")[0]
    if not (top.isascii() and top.isidentifier()):  # it becomes a requirement for uv
        return None
    known = import_names().get(top)
    distribution = canonicalize_name(known or top)
    project = owner.project

    def hint(action: Action) -> MissingImport:
        return MissingImport(top, distribution, action, shown_project, project.kernel_name)

    if distribution in owner.locked_versions():
        try:
            env_dir = owner.env_python().parent.parent
        except EnvlockError:
            return hint("sync")
        return None if distribution in installed_distributions(env_dir) else hint("sync")
    if known is not None:
        return hint("add")
    try:
        on_index = bool(owner.newest_versions([distribution], exclude_newer=False))
    except EnvlockError:  # not on the index, or the index cannot be asked: say nothing
        return None
    return hint("add") if on_index else None
