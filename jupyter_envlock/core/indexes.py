"""Where packages come from, and keeping credentials out of every file we write.

uv itself reads the project's `[[tool.uv.index]]` (it runs in the project folder) and the machine's
`UV_DEFAULT_INDEX` / `UV_INDEX`. pip's `PIP_INDEX_URL` / `PIP_EXTRA_INDEX_URL` are translated here
for people whose machines are configured for pip, unless a uv variable already says otherwise.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s\"']+@")


def uv_index_args() -> list[str]:
    env = os.environ
    args: list[str] = []
    if not (env.get("UV_DEFAULT_INDEX") or env.get("UV_INDEX_URL")) and env.get("PIP_INDEX_URL"):
        args.append(f"--default-index={env['PIP_INDEX_URL']}")
    if not (env.get("UV_INDEX") or env.get("UV_EXTRA_INDEX_URL")):
        for url in (env.get("PIP_EXTRA_INDEX_URL") or "").split():
            args.append(f"--index={url}")
    return args


def default_indexes() -> list[str]:
    """The indexes uv resolves from when a project names none: the machine's configuration,
    else PyPI (credentials stripped, for showing)."""
    env = os.environ
    default = env.get("UV_DEFAULT_INDEX") or env.get("UV_INDEX_URL") or env.get("PIP_INDEX_URL")
    extra = (env.get("UV_INDEX") or env.get("UV_EXTRA_INDEX_URL") or "").split()
    if not extra:
        extra = (env.get("PIP_EXTRA_INDEX_URL") or "").split()
    urls = [*extra, default or "https://pypi.org/simple"]
    return [strip_credentials(u) for u in urls]


def strip_credentials(url: str) -> str:
    """`https://user:token@host/simple` -> `https://host/simple`."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def redact(text: str) -> str:
    """Remove `user:password@` from every URL in free text (uv's messages, lock files)."""
    return _USERINFO.sub(lambda m: m.group("scheme"), text)
