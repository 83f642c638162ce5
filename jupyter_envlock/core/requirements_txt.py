"""A folder's requirements.txt, turned into the pyproject.toml of a new project.

Each requirement is kept exactly as written (`TinyD==1.0.0` stays so, a comment stays beside it),
`-r` includes inside the folder are followed, and `-i`/`--extra-index-url` become
`[[tool.uv.index]]` tables. What has no place in a shared manifest is refused with the line that
holds it, before anything is written: local paths and editables (another machine has none),
credentials in an index URL, and pip options that would change how packages are chosen.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ManifestError, RequirementError
from .indexes import strip_credentials
from .pyproject import short
from .requirements import parse_requirement

FILE_NAME = "requirements.txt"
_COMMENT = re.compile(r"(^|\s)#.*$")
_HASH = re.compile(r"\s--hash[=\s]\S+")
_OPTION = re.compile(r"^(-[A-Za-z]|--[A-Za-z-]+)(?:[=\s]+(.*))?$")
_INCLUDE = ("-r", "--requirement")
_INDEX = ("-i", "--index-url")
_EXTRA_INDEX = ("--extra-index-url",)
MAX_INCLUDES = 20


@dataclass(frozen=True)
class Entry:
    """One line worth keeping: a requirement as written, or a comment line (requirement None)."""

    requirement: str | None
    comment: str | None = None


@dataclass
class Requirements:
    entries: list[Entry] = field(default_factory=list)
    indexes: list[tuple[str, bool]] = field(default_factory=list)  # (url, default)

    @property
    def count(self) -> int:
        return sum(1 for e in self.entries if e.requirement is not None)


def read(folder: Path) -> Requirements:
    """The folder's requirements.txt (and the files it includes), checked line by line."""
    out = Requirements()
    _read_file(folder / FILE_NAME, folder.resolve(), out, [])
    return out


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, numbered from 1."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        lines.append((start, pending + raw))
        pending = ""
    if pending:
        lines.append((start, pending))
    return lines


def _read_file(path: Path, folder: Path, out: Requirements, seen: list[Path]) -> None:
    real = path.resolve()
    if not real.is_relative_to(folder):
        raise ManifestError(f"{path} is outside {folder}: only files in the folder are read.")
    if real in seen or len(seen) >= MAX_INCLUDES:
        raise ManifestError(f"{path} is included twice (or too deeply); `-r` loops are refused.")
    seen.append(real)
    try:
        text = real.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(f"Cannot read {path}: {e}") from e
    for number, line in _logical_lines(text):
        where = f"{path.name}, line {number}"
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            out.entries.append(Entry(None, stripped[1:].strip()))
            continue
        comment_match = _COMMENT.search(line)
        comment = comment_match.group(0).strip()[1:].strip() if comment_match else None
        body = _COMMENT.sub("", line).strip()
        body = _HASH.sub("", f" {body}").strip()  # hashes: the lock will carry its own
        if body.startswith("-"):
            _option(body, where, path, folder, out, seen)
            continue
        try:
            parse_requirement(body)
        except RequirementError as e:
            raise ManifestError(f"{where}: {e.message}") from None
        out.entries.append(Entry(body, comment or None))


def _option(
    body: str, where: str, path: Path, folder: Path, out: Requirements, seen: list[Path]
) -> None:
    match = _OPTION.match(body)
    name, value = (match.group(1), (match.group(2) or "").strip()) if match else (body, "")
    if name in _INCLUDE and value:
        _read_file(path.parent / value, folder, out, seen)
    elif name in _INDEX + _EXTRA_INDEX and value:
        if strip_credentials(value) != value:
            raise ManifestError(
                f"{where}: the index URL carries credentials, which must not go into "
                "pyproject.toml. Remove them and set UV_INDEX_<NAME>_USERNAME/_PASSWORD instead."
            )
        out.indexes.append((value, name in _INDEX))
    elif name in ("-e", "--editable"):
        raise ManifestError(
            f"{where}: editable installs ({short(body)}) name a folder on this machine; a "
            "shared manifest cannot carry them. Remove the line, then run init again."
        )
    else:
        raise ManifestError(
            f"{where}: the pip option {short(name)!r} has no place in pyproject.toml. Remove "
            "the line (indexes: `-i URL` and `--extra-index-url URL` are carried over), then "
            "run init again."
        )


def manifest_text(name: str, requirements: Requirements) -> str:
    """The new pyproject.toml: every requirement as written, comments beside them."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._") or "notebooks"
    lines = [
        "[project]",
        f"name = {json.dumps(safe)}",
        'version = "0.1.0"',
        'requires-python = ">=3.10"',
        f"# Made by `jupyter envlock init` from {FILE_NAME}.",
    ]
    if requirements.entries:
        lines.append("dependencies = [")
        for entry in requirements.entries:
            comment = f"  # {entry.comment}" if entry.comment else ""
            if entry.requirement is None:
                lines.append(f"    #{' ' + entry.comment if entry.comment else ''}")
            else:
                lines.append(f"    {json.dumps(entry.requirement)},{comment}")
        lines.append("]")
    else:
        lines.append("dependencies = []")
    for url, default in requirements.indexes:
        lines += ["", "[[tool.uv.index]]", f"url = {json.dumps(url)}"]
        if default:
            lines.append("default = true")
    return "\n".join(lines) + "\n"
