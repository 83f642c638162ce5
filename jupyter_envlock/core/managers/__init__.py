"""Who owns a project's lock and env: envlock's own pylock.toml flow, uv, or Poetry.

Every entry point (kernel start, %dep, REST, CLI, headless launch) asks `manager_for(project)` and
talks to the `Manager` interface; one module per manager implements it. Which manager a project has
is read from its files (and `[tool.envlock] manager` overrides it), never from a path.
"""

from __future__ import annotations

from ..project import Project
from .base import Manager
from .detect import detect_manager
from .foreign import HatchManager, PdmManager
from .poetry import PoetryManager
from .pylock import PylockManager
from .uv import UvManager

__all__ = [
    "Manager",
    "PoetryManager",
    "PylockManager",
    "UvManager",
    "detect_manager",
    "manager_for",
]

_MANAGERS: dict[str, type[Manager]] = {
    m.name: m for m in (PylockManager, UvManager, PoetryManager, PdmManager, HatchManager)
}


def manager_for(project: Project) -> Manager:
    """The manager that owns `project`."""
    return _MANAGERS[detect_manager(project, available=_MANAGERS.keys())](project)
