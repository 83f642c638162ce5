"""Progress reporting: long work calls a callback; each front end decides how to show it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

# The phases a build goes through, in order (the event schema and api.ts name the same).
Phase = Literal["check", "resolve", "python", "create", "install", "editable", "done"]


@dataclass(frozen=True)
class ProgressEvent:
    phase: Phase
    message: str
    done: int | None = None
    total: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """The default: say nothing."""
