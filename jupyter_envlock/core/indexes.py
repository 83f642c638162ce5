"""Where packages come from, and keeping credentials out of every file we write.

uv runs in a folder of envlock's own (core/runner.py), so it never reads a repository's uv
settings; the project's `[[tool.uv.index]]` entries reach it through uv's own environment
variables instead, after the user's (`UV_DEFAULT_INDEX` / `UV_INDEX` / `UV_FIND_LINKS`). pip's
`PIP_INDEX_URL` / `PIP_EXTRA_INDEX_URL` are translated for people whose machines are configured
for pip, unless a uv variable already says otherwise. Environment variables rather than
`--index` flags: a flag given on uv's command line replaces the variable of the same setting, so
the user's `UV_INDEX` would be lost.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s\"']+@")
PYPI = "https://pypi.org/simple"
_PYPI_FILES = "https://files.pythonhosted.org/"
_NAMED = re.compile(r"^[^:/=]+=")  # UV_INDEX's `name=url` form


def with_indexes(
    env: Mapping[str, str], project_indexes: Sequence[Mapping[str, Any]] = ()
) -> dict[str, str]:
    """`env` with uv's index variables set: the user's indexes first, then the project's.

    An index marked `explicit` is left out (uv's pip interface never uses one for a plain
    requirement); a `default = true` index becomes the default only when the user named none;
    a `format = "flat"` one is a find-links location."""
    out = dict(env)
    extra = (env.get("UV_INDEX") or "").split() + (env.get("UV_EXTRA_INDEX_URL") or "").split()
    if not extra:
        extra = (env.get("PIP_EXTRA_INDEX_URL") or "").split()
    default = env.get("UV_DEFAULT_INDEX") or env.get("UV_INDEX_URL") or env.get("PIP_INDEX_URL")
    find_links = [link for link in (env.get("UV_FIND_LINKS") or "").split(",") if link]
    for index in project_indexes:
        url = str(index["url"])
        name = index.get("name")
        if index.get("explicit") is True:
            continue
        if index.get("format") == "flat":
            find_links.append(url)
        elif index.get("default") is True:
            default = default or url
        else:
            extra.append(f"{name}={url}" if isinstance(name, str) and name else url)
    if default and not (env.get("UV_DEFAULT_INDEX") or env.get("UV_INDEX_URL")):
        out["UV_DEFAULT_INDEX"] = default
    if extra:
        out["UV_INDEX"] = " ".join(extra)
        out.pop("UV_EXTRA_INDEX_URL", None)  # folded into UV_INDEX, in its place
    if find_links:
        out["UV_FIND_LINKS"] = ",".join(find_links)
    return out


def default_indexes(env: Mapping[str, str] | None = None) -> list[str]:
    """The indexes uv resolves from in `env` (this process's environment by default; after
    `with_indexes`, a project's too): the extra ones first, then the default, else PyPI.
    Credentials and UV_INDEX's `name=` are stripped: for showing, and for naming a lock's
    indexes."""
    env = os.environ if env is None else env
    default = env.get("UV_DEFAULT_INDEX") or env.get("UV_INDEX_URL") or env.get("PIP_INDEX_URL")
    extra = (env.get("UV_INDEX") or env.get("UV_EXTRA_INDEX_URL") or "").split()
    if not extra:
        extra = (env.get("PIP_EXTRA_INDEX_URL") or "").split()
    urls = [*(_NAMED.sub("", url) for url in extra), default or PYPI]
    return [strip_credentials(u) for u in urls]


def index_of(file_urls: Sequence[str], indexes: Sequence[str]) -> str | None:
    """The index of `indexes` that a package's files were found in: the one whose folder they
    all lie in (`https://host/repo/` for `https://host/repo/simple`, the layout of devpi,
    Artifactory, GitLab and a plain folder of files), PyPI for files on files.pythonhosted.org;
    None when no index, or not one alone, holds them all (a find-links folder, a mirror)."""
    found: set[str] = set()
    for url in file_urls:
        url = strip_credentials(url)
        if url.startswith(_PYPI_FILES) and PYPI in indexes:
            found.add(PYPI)
            continue
        below = [i for i in indexes if url.startswith(_index_folder(i))]
        if not below:
            return None
        found.add(max(below, key=lambda i: len(_index_folder(i))))
    return found.pop() if len(found) == 1 else None


def _index_folder(index: str) -> str:
    base = index.rstrip("/")
    head, _, last = base.rpartition("/")
    return (head if last in ("simple", "+simple") and "://" in head else base) + "/"


def strip_credentials(url: str) -> str:
    """`https://user:token@host/simple` -> `https://host/simple`."""
    if "@" not in url:  # no userinfo (a lock's thousands of file URLs: parsing each cost)
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def redact(text: str) -> str:
    """Remove `user:password@` from every URL in free text (uv's messages, lock files)."""
    if "@" not in text:  # the pattern needs one; a large lock is otherwise scanned at length
        return text
    return _USERINFO.sub(lambda m: m.group("scheme"), text)
