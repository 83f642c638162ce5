"""Security of the REST API: authentication, XSRF, authorization resource, and root confinement.

Every refused request must also leave files as they were, so each test compares bytes after.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from support.server_config import select_traits
from traitlets.config import Config

pytestmark = pytest.mark.slow

ENDPOINTS: list[tuple[str, tuple[str, ...], dict[str, Any] | None]] = [
    ("GET", ("projects",), None),
    ("GET", ("project",), None),
    ("POST", ("project", "add"), {"path": "victim", "specs": ["tinyd"]}),
    ("POST", ("project", "remove"), {"path": "victim", "names": ["tinya"]}),
    ("POST", ("project", "sync"), {"path": "victim"}),
    ("POST", ("project", "lock"), {"path": "victim"}),
]


class RecordingAuthorizer(Authorizer):
    """Allows reads, refuses writes, and records what jupyter_server asked about."""

    seen: list[tuple[str, str]] = []

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        if "/jupyter-envlock/" in handler.request.path:
            self.seen.append((action, resource))
        return action == "read"


@pytest.fixture
def jp_server_config(jp_server_config: Config, request: pytest.FixtureRequest) -> Config:
    """The real extension, as installed (conftest's); RecordingAuthorizer when a test asks for it."""
    return select_traits(
        jp_server_config,
        request,
        recording_authorizer={"ServerApp": {"authorizer_class": RecordingAuthorizer}},
        unauthenticated_access_allowed={"ServerApp": {"allow_unauthenticated_access": True}},
    )


@pytest.fixture
def server(jp_serverapp: Any, envlock_env: Any) -> Any:
    """The running server with the extension's routes, uv pointed at the local index."""
    assert jp_serverapp.extension_manager.extension_apps.get("jupyter_envlock"), (
        "the jupyter_envlock server extension did not load"
    )
    return jp_serverapp


@pytest.fixture
def root(jp_root_dir: Path) -> Path:
    return Path(jp_root_dir)


@pytest.fixture
def victim(root: Path, make_project: Callable[..., Path]) -> Path:
    """A project inside the root that refused requests must leave untouched."""
    return make_project(name="victim", deps=["tinya"], folder=root / "victim")


def snapshot(*folders: Path) -> dict[str, bytes | None]:
    out = {}
    for folder in folders:
        for name in ("pyproject.toml", "pylock.toml"):
            path = folder / name
            out[str(path)] = path.read_bytes() if path.exists() else None
    return out


async def call(
    fetch: Callable[..., Any],
    method: str,
    parts: tuple[str, ...],
    body: Any = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """One request to /jupyter-envlock/..., answering (status, JSON body)."""
    kwargs: dict[str, Any] = {"method": method, "raise_error": False, "request_timeout": 120}
    if method == "POST":
        kwargs["body"] = json.dumps(body)
    response = await fetch(
        "jupyter-envlock", *parts, headers=headers or {}, params=params or {}, **kwargs
    )
    try:
        return response.code, json.loads(response.body or b"{}")
    except ValueError:
        return response.code, {"raw": response.body.decode(errors="replace")}


# --------------------------------------------------------------------------- authentication


@pytest.mark.parametrize("auth", ["", "token not-the-token"])
async def test_every_endpoint_refuses_requests_without_a_valid_token(
    server, jp_fetch, victim, auth
):
    before = snapshot(victim)
    for method, parts, body in ENDPOINTS:
        params = {"path": "victim"} if parts == ("project",) else None
        code, reply = await call(jp_fetch, method, parts, body, {"Authorization": auth}, params)
        assert code == 403, (method, parts, reply)
        assert "error" in reply, reply  # still the API's JSON shape
        assert "victim" not in json.dumps(reply)
    assert snapshot(victim) == before
    assert not (victim / "pylock.toml").exists()


@pytest.fixture
def unauthenticated_access_allowed() -> None:
    """Turns off jupyter_server's global auth check (see jp_server_config): handlers stand alone."""


async def test_handlers_refuse_without_token_even_when_the_server_allows_anonymous_access(
    unauthenticated_access_allowed, server, jp_fetch, victim
):
    before = snapshot(victim)
    for method, parts, body in ENDPOINTS:
        params = {"path": "victim"} if parts == ("project",) else None
        code, reply = await call(jp_fetch, method, parts, body, {"Authorization": ""}, params)
        assert code == 403, (method, parts, reply)
    assert snapshot(victim) == before


async def test_cookie_auth_post_needs_the_xsrf_token(server, jp_fetch, victim):
    status = await jp_fetch("api", "status")  # token auth: the server sets a login cookie
    cookies = SimpleCookie()
    for header in status.headers.get_list("Set-Cookie"):
        cookies.load(header)
    assert cookies, "expected a login cookie from a token-authenticated request"
    login = "; ".join(f"{k}={m.value}" for k, m in cookies.items())
    no_token = {"Authorization": "", "Cookie": login}

    code, reply = await call(
        jp_fetch, "GET", ("project",), headers=no_token, params={"path": "victim"}
    )
    assert code == 200, reply  # the cookie itself is good

    before = snapshot(victim)
    for method, parts, body in ENDPOINTS:
        if method != "POST":
            continue
        code, reply = await call(jp_fetch, method, parts, body, no_token)
        assert code == 403, (parts, reply)
    assert snapshot(victim) == before

    # The double-submitted token a browser page sends makes the same request pass.
    with_xsrf = {**no_token, "Cookie": login + "; _xsrf=abc123", "X-XSRFToken": "abc123"}
    code, reply = await call(jp_fetch, "POST", ("project", "lock"), {"path": "victim"}, with_xsrf)
    assert code == 200, reply


@pytest.fixture
def recording_authorizer() -> type[RecordingAuthorizer]:
    """Selects RecordingAuthorizer for this test's server (see jp_server_config)."""
    RecordingAuthorizer.seen = []
    return RecordingAuthorizer


async def test_authorizer_is_asked_about_the_envlock_resource(
    recording_authorizer, server, jp_fetch, victim
):
    """A custom Authorizer sees resource "envlock" (read for GET, write for POST) and can refuse."""
    before = snapshot(victim)
    code, reply = await call(jp_fetch, "GET", ("project",), params={"path": "victim"})
    assert code == 200, reply
    code, reply = await call(jp_fetch, "POST", ("project", "lock"), {"path": "victim"})
    assert code == 403, reply
    assert recording_authorizer.seen == [("read", "envlock"), ("write", "envlock")]
    assert snapshot(victim) == before


# --------------------------------------------------------------------------- confinement


@pytest.fixture
def outside(tmp_path: Path, make_project: Callable[..., Path]) -> Path:
    """A project next to the root, not under it: the API must never reach it."""
    return make_project(name="outside", deps=["tinya"], folder=tmp_path / "outside")


def traversal_paths(root: Path, outside: Path) -> dict[str, str]:
    """Ways to name `outside` (or anything else above the root) from a client."""
    os.symlink(outside, root / "link-out")  # a symlink inside the root pointing out of it
    os.symlink(outside / "pyproject.toml", root / "file-link-out")
    elsewhere = outside.parent / "elsewhere"  # no project anywhere above it
    elsewhere.mkdir()
    os.symlink(elsewhere, root / "link-elsewhere")
    return {
        "dotdot": "../outside",
        "dotdot-inside": "victim/../../outside",
        "backslash-dotdot": "..\\outside",
        "absolute": str(outside),
        "absolute-root": str(root / "victim"),  # absolute even when it is inside
        "windows-drive": "C:\\outside",
        "symlink-dir": "link-out",
        "symlink-file": "file-link-out",
        "symlink-subpath": "link-out/pyproject.toml",
        "symlink-plain-dir": "link-elsewhere",
    }


async def test_paths_leaving_the_root_are_403_everywhere(server, jp_fetch, root, victim, outside):
    before = snapshot(victim, outside)
    for label, rel in traversal_paths(root, outside).items():
        code, reply = await call(jp_fetch, "GET", ("project",), params={"path": rel})
        assert code == 403, (label, reply)
        assert reply["error"]["type"] == "Forbidden"
        for action, body in [
            ("add", {"specs": ["tinyd"]}),
            ("remove", {"names": ["tinya"]}),
            ("sync", {}),
            ("lock", {}),
        ]:
            code, reply = await call(jp_fetch, "POST", ("project", action), {"path": rel, **body})
            assert code == 403, (label, action, reply)
    assert snapshot(victim, outside) == before
    assert not (outside / "pylock.toml").exists()


async def test_listing_does_not_follow_symlinks_out_of_the_root(
    server, jp_fetch, root, victim, outside
):
    os.symlink(outside, root / "link-out")
    code, reply = await call(jp_fetch, "GET", ("projects",))
    assert code == 200
    assert [p["path"] for p in reply["projects"]] == ["victim"]


async def test_project_above_the_root_is_never_used(server, jp_fetch, root, tmp_path, make_project):
    """core.find_project walks up to /; the API stops at the root instead (404, not the parent)."""
    parent = make_project(name="parent", deps=["tinya"], folder=tmp_path)
    (root / "notes").mkdir()
    before = snapshot(parent)
    for parts, body, params in [
        (("project",), None, {"path": "notes"}),
        (("project",), None, {"path": ""}),
        (("project", "add"), {"path": "notes", "specs": ["tinyd"]}, None),
        (("project", "lock"), {"path": ""}, None),
    ]:
        method = "POST" if body is not None else "GET"
        code, reply = await call(jp_fetch, method, parts, body, params=params)
        assert code == 404, (parts, reply)
        assert str(tmp_path) not in json.dumps(reply)
    assert snapshot(parent) == before
    assert not (root / "notes" / "pyproject.toml").exists()


async def test_manifest_symlinked_out_of_the_root_is_403(server, jp_fetch, root, outside):
    inner = root / "inner"
    inner.mkdir()
    os.symlink(outside / "pyproject.toml", inner / "pyproject.toml")
    before = snapshot(outside)
    code, reply = await call(jp_fetch, "GET", ("project",), params={"path": "inner"})
    assert code == 403, reply
    code, reply = await call(
        jp_fetch, "POST", ("project", "add"), {"path": "inner", "specs": ["tinyd"]}
    )
    assert code == 403, reply
    assert snapshot(outside) == before


async def test_symlink_inside_the_root_is_followed(server, jp_fetch, root, victim):
    os.symlink(victim, root / "alias")
    code, reply = await call(jp_fetch, "GET", ("project",), params={"path": "alias"})
    assert code == 200, reply
    assert reply["status"]["project"]["path"] == str(victim.resolve())


async def test_nul_byte_in_path_is_refused(server, jp_fetch, victim):
    code, reply = await call(jp_fetch, "POST", ("project", "sync"), {"path": "victim\x00"})
    assert code == 403, reply
