"""The REST reports of issue 12 (tree, outdated, upgrade, status warnings) against a real server,
as /work/notes/UI-CONTRACT.md shapes them for the panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_rest_api import Api

from jupyter_envlock.core import operations

pytestmark = pytest.mark.slow


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
        "name": "tinya",
        "version": "2.0.0",
        "direct": False,
        "groups": [],
        "required_by": ["tinyb"],
        "kernel": False,
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


async def test_outdated_then_upgrade_one_package(api, root, make_project, local_index):
    local_index.add_wheel("tinyrest-a", "1.0.0")
    project = make_project(name="old", deps=["tinyrest-a"], folder=root / "old")
    operations.sync(project)
    local_index.add_wheel("tinyrest-a", "1.2.0")

    code, body = await api.get("project/outdated", path="old")

    assert code == 200, body
    assert body == {
        "checked": True,
        "message": None,
        "outdated": [
            {
                "name": "tinyrest-a",
                "group": None,
                "requirement": "tinyrest-a",
                "locked": "1.0.0",
                "allowed": "1.2.0",
                "latest": "1.2.0",
            }
        ],
    }
    code, report = await api.post("upgrade", {"path": "old", "names": ["tinyrest-a"]})
    assert code == 200, report
    assert report["changes"] == [
        {"name": "tinyrest-a", "old": "1.0.0", "new": "1.2.0", "kind": "upgraded"}
    ]
    assert report["env"]["installed"] == ["tinyrest-a==1.2.0"]
    code, body = await api.get("project/outdated", path="old")
    assert body["outdated"] == []


async def test_outdated_offline_is_an_answer_not_an_error(api, root, make_project, monkeypatch):
    project = make_project(name="offline", deps=["tinya"], folder=root / "offline")
    operations.lock(project)
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    code, body = await api.get("project/outdated", path="offline")
    assert code == 200, body
    assert body["checked"] is False and body["outdated"] == []
    assert body["message"].startswith("Cannot check for newer versions:")


async def test_upgrade_bodies_are_checked(api, root, make_project):
    project = make_project(name="upbad", deps=["tinya"], folder=root / "upbad")
    operations.lock(project)
    lock = (project / "pylock.toml").read_bytes()
    for body, status in (
        ({"path": "upbad"}, 400),
        ({"path": "upbad", "names": []}, 400),
        ({"path": "upbad", "all": "yes"}, 400),
        ({"path": "upbad", "names": ["tinya"], "all": True}, 400),
        ({"path": "upbad", "names": ["nope-not-locked"]}, 400),
        ({"path": "upbad", "names": ["tinya"], "extra": 1}, 400),
    ):
        code, answer = await api.post("upgrade", body)
        assert code == status, (body, answer)
        assert "error" in answer
    assert (project / "pylock.toml").read_bytes() == lock
    code, report = await api.post("upgrade", {"path": "upbad", "all": True})
    assert code == 200, report
    assert report["relocked"] is True


async def test_add_over_rest_records_like_uv(api, root, make_project):
    project = make_project(name="recorded", folder=root / "recorded")
    code, report = await api.post(
        "add", {"path": "recorded", "specs": ["tinyd", "tinya>=1.0,<2"], "group": None}
    )
    assert code == 200, report
    assert [e["new"] for e in report["edits"]] == ["tinyd>=1.1.0", "tinya>=1.0,<2"]
    assert report["notes"] == []
    text = (project / "pyproject.toml").read_text()
    assert '"tinyd>=1.1.0"' in text and '"tinya>=1.0,<2"' in text
    code, body = await api.get("project", path="recorded")
    assert body["status"]["state"] == "in-sync" and body["status"]["warnings"] == []
