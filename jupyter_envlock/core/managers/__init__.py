"""Who owns a project's lock and env: envlock's own pylock.toml flow, uv, or Poetry.

Every entry point (kernel start, %dep, REST, CLI, headless launch) asks `manager_for(project)` and
talks to the `Manager` interface; one module per manager implements it. Which manager a project has
is read from its files (and `[tool.envlock] manager` overrides it), never from a path. A
manager's module is imported when a project of its kind is met: a command on a pylock project
never loads the uv or Poetry machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..project import Project
from .base import Manager
from .detect import detect_manager

if TYPE_CHECKING:
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

# manager name -> (module, class): the class's own `name` is the key
_MANAGERS: dict[str, tuple[str, str]] = {
    "pylock": ("pylock", "PylockManager"),
    "uv": ("uv", "UvManager"),
    "poetry": ("poetry", "PoetryManager"),
    "pdm": ("foreign", "PdmManager"),
    "hatch": ("foreign", "HatchManager"),
}
_CLASSES = {cls: name for name, (_, cls) in _MANAGERS.items()}


def _class(name: str) -> type[Manager]:
    module, cls = _MANAGERS[name]
    found: type[Manager] = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    return found


def manager_for(project: Project) -> Manager:
    """The manager that owns `project`."""
    return _class(detect_manager(project, available=_MANAGERS.keys()))(project)


def __getattr__(attr: str) -> Any:
    if attr in _CLASSES:
        return _class(_CLASSES[attr])
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
