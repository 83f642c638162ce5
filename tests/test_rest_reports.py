"""The REST reports of issue 12 (tree, outdated, upgrade, status warnings) against a real server,
as /work/notes/UI-CONTRACT.md shapes them for the panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_rest_api import Api
from traitlets.config import Config

from jupyter_envlock.core import operations

pytestmark = pytest.mark.slow


@pytest.fixture
def jp_server_config() -> Config:
    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_envlock": True}}})


@pytest.fixture
def api(jp_serverapp: Any, jp_fetch: Any, envlock_env: Any) -> Api:
    return Api(jp_fetch)


@pytest.fixture
def root(jp_root_dir: Path) -> Path:
    return Path(jp_root_dir)


async def test_tree_names_every_locked_package_and_who_requires_it(api, root, make_project):
    project = make_project(name="treed", deps=["tinyb"], folder=root / "treed")
    operations.sync(project)

    code, body = await api.get("project/tree", path="treed")

    assert code == 200, body
    by_name = {p["name"]: p for p in body["packages"]}
    assert by_name["tinya"] == {
        "name": "tinya", "version": "2.0.0", "direct": False, "groups": [],
        "required_by": ["tinyb"], "kernel": False,
    }
    assert by_name["tinyb"]["direct"] and by_name["tinyb"]["groups"] == [None]
    assert body["required_by_known"] is True
    assert [p["name"] for p in body["packages"]] == sorted(by_name)


async def test_tree_errors_are_the_usual_ones(api, root):
    code, body = await api.get("project/tree", path="nowhere")
    assert code == 404 and body["error"]["type"] == "ProjectNotFound"
    code, body = await api.get("project/tree", path="../x")
    assert code == 403
    code, body = await api.get("project/tree")
    assert code == 400
