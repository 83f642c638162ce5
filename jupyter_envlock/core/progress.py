"""Progress reporting: long work calls a callback; each front end decides how to show it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

PHASES = ("resolve", "python", "create", "install", "editable", "done")


@dataclass(frozen=True)
class ProgressEvent:
    phase: str
    message: str
    done: int | None = None
    total: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


Progress = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """The default: say nothing."""
