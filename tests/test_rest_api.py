"""The REST API of docs/architecture.md against a real in-process Jupyter server.

Requests go through pytest-jupyter's `jp_fetch` (token auth, base_url "/a%40b/"), so the routes are
exercised exactly as the lab panel reaches them; uv resolves against the session's local index.
Async tests are run by pytest-jupyter's own loop hook (no asyncio mark: pytest-asyncio stays strict).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomllib
from support.server_config import select_traits
from traitlets.config import Config

from jupyter_envlock.core import environment, operations
from jupyter_envlock.core.errors import ToolError
from jupyter_envlock.core.project import find_project

pytestmark = pytest.mark.slow

Reply = tuple[int, dict[str, Any]]


@pytest.fixture
def jp_server_config(jp_server_config: Config, request: pytest.FixtureRequest) -> Config:
    """The real extension (conftest's); `shallow_scan` narrows its scan."""
    return select_traits(
        jp_server_config,
        request,
        shallow_scan={"EnvlockApp": {"scan_depth": 1, "ignored_folders": ["skipme"]}},
    )


@pytest.fixture
def shallow_scan() -> None:
    """Configures EnvlockApp.scan_depth=1 and ignored_folders=["skipme"] (see jp_server_config)."""


class Api:
    """`GET`/`POST` on /jupyter-envlock/..., answering (status, JSON body) without raising."""

    def __init__(self, fetch: Callable[..., Any]) -> None:
        self.fetch = fetch

    async def get(self, endpoint: str, **params: str) -> Reply:
        response = await self.fetch("jupyter-envlock", endpoint, params=params, raise_error=False)
        return response.code, json.loads(response.body or b"{}")

    async def post(self, action: str, body: Any, raw: bytes | None = None) -> Reply:
        response = await self.fetch(
            "jupyter-envlock",
            "project",
            action,
            method="POST",
            body=raw if raw is not None else json.dumps(body),
            raise_error=False,
            request_timeout=120,
        )
        return response.code, json.loads(response.body or b"{}")


@pytest.fixture
def api(jp_serverapp: Any, jp_fetch: Callable[..., Any], envlock_env: Any) -> Api:
    """A client of the extension's routes, with uv pointed at the local index."""
    assert jp_serverapp.extension_manager.extension_apps.get("jupyter_envlock"), (
        "the jupyter_envlock server extension did not load"
    )
    return Api(jp_fetch)


@pytest.fixture
def root(jp_root_dir: Path) -> Path:
    """The server's root_dir: REST paths are relative to it."""
    return Path(jp_root_dir)


def files(project: Path) -> dict[str, bytes | None]:
    """Manifest and lock bytes, to prove a failed request changed nothing."""
    return {
        name: (project / name).read_bytes() if (project / name).exists() else None
        for name in ("pyproject.toml", "pylock.toml")
    }


def locked_names(project: Path) -> dict[str, str]:
    data = tomllib.loads((project / "pylock.toml").read_text())
    return {p["name"]: p["version"] for p in data["packages"]}


# --------------------------------------------------------------------------- GET


async def test_get_projects_lists_projects_under_root_with_states(
    api, root, make_project, tmp_path
):
    make_project(name="alpha", deps=["tinya"], folder=root / "alpha")
    beta = make_project(name="beta", deps=["tinya"], folder=root / "group" / "beta")
    operations.lock(beta)
    make_project(name="broken", text="[project\nname = ", folder=root / "broken")
    make_project(name="hidden", folder=root / "node_modules" / "hidden")
    make_project(name="too-deep", folder=root / "a" / "b" / "c" / "d" / "deep")
    make_project(name="outside", folder=tmp_path / "outside")

    code, body = await api.get("projects")

    assert code == 200, body
    by_path = {p["path"]: p for p in body["projects"]}
    assert set(by_path) == {"alpha", "group/beta", "broken"}
    assert by_path["alpha"] == {
        "path": "alpha",
        "name": "alpha",
        "kernel_name": "envlock-alpha",
        "state": "no-lock",
    }
    assert by_path["group/beta"]["state"] == "no-env"
    assert by_path["broken"]["state"] == "error"
    assert "not valid TOML" in by_path["broken"]["message"]


async def test_get_projects_follows_the_extension_scan_settings(
    shallow_scan, api, root, make_project
):
    make_project(name="one", folder=root / "one")
    make_project(name="two", folder=root / "group" / "two")
    make_project(name="skipped", folder=root / "skipme")
    make_project(name="modules", folder=root / "node_modules")  # no longer ignored
    code, body = await api.get("projects")
    assert code == 200
    assert sorted(p["path"] for p in body["projects"]) == ["node_modules", "one"]


async def test_root_itself_as_a_project_has_empty_path(api, root, make_project):
    make_project(name="top", folder=root)
    code, body = await api.get("projects")
    assert code == 200
    assert [p["path"] for p in body["projects"]] == [""]
    code, body = await api.get("project", path="")
    assert code == 200, body
    assert body["status"]["project"]["name"] == "top"


async def test_get_project_gives_status_and_dependencies(api, root, make_project):
    project = make_project(
        name="demo", deps=["tinya>=1.1"], groups={"dev": ["tinyd"]}, folder=root / "demo"
    )
    operations.lock(project)
    (project / "analysis.ipynb").write_text("{}")

    code, body = await api.get("project", path="demo")

    assert code == 200, body
    assert set(body) == {"status", "dependencies"}
    status = body["status"]
    assert status["lock"] == "in-sync"
    assert status["env"] == "missing"
    assert status["state"] == "no-env"
    assert status["project"]["kernel_name"] == "envlock-demo"
    assert body["dependencies"] == [
        {"name": "tinya", "requirement": "tinya>=1.1", "group": None, "locked": "2.0.0"},
        {"name": "tinyd", "requirement": "tinyd", "group": "dev", "locked": "1.1.0"},
    ]
    # A notebook's path names its project too, as find_project allows.
    code, by_notebook = await api.get("project", path="demo/analysis.ipynb")
    assert code == 200
    assert by_notebook["status"]["project"] == status["project"]


async def test_get_project_sees_drift_at_once_and_runs_no_uv(api, root, make_project, monkeypatch):
    project = make_project(name="drift", deps=["tinya"], folder=root / "drift")
    operations.sync(project)
    code, body = await api.get("project", path="drift")
    assert body["status"]["state"] == "in-sync"

    env = Path(body["status"]["env_path"])
    for info in env.glob("lib/python*/site-packages/tinya-*.dist-info"):
        shutil.rmtree(info)
    spawned: list[Any] = []
    real_popen = subprocess.Popen

    def watch(*args: Any, **kwargs: Any) -> Any:
        spawned.append(args[0] if args else kwargs.get("args"))
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", watch)
    code, body = await api.get("project", path="drift")

    assert code == 200
    assert body["status"]["state"] == "env-out-of-date"
    assert body["status"]["drift"]["missing"] == [{"name": "tinya", "locked": "2.0.0"}]
    assert spawned == []


async def test_get_project_latency(api, root, make_project, capsys):
    """The panel polls this: it must stay in milliseconds (a report, loosely bounded)."""
    project = make_project(name="fast", deps=["tinya", "tinyd"], folder=root / "fast")
    operations.sync(project)
    for n in range(5):
        make_project(name=f"other{n}", deps=["tinya"], folder=root / f"other{n}")

    def median_ms(samples: list[float]) -> float:
        return statistics.median(samples) * 1000

    one: list[float] = []
    for _ in range(20):
        start = time.perf_counter()
        code, _ = await api.get("project", path="fast")
        one.append(time.perf_counter() - start)
        assert code == 200
    many: list[float] = []
    for _ in range(10):
        start = time.perf_counter()
        code, _ = await api.get("projects")
        many.append(time.perf_counter() - start)
        assert code == 200
    with capsys.disabled():
        print(
            f"\nGET project median {median_ms(one):.1f} ms (max {max(one) * 1000:.1f}); "
            f"GET projects (6 projects) median {median_ms(many):.1f} ms"
        )
    assert median_ms(one) < 250


# --------------------------------------------------------------------------- POST


async def test_add_edits_manifest_and_lock_and_reports_changes(api, root, make_project):
    project = make_project(name="adder", deps=["tinya"], folder=root / "adder")
    operations.lock(project)
    before = files(project)

    code, report = await api.post("add", {"path": "adder", "specs": ["tinyd"], "group": None})

    assert code == 200, report
    assert report["manifest_changed"] and report["lock_changed"]
    assert {"name": "tinyd", "old": None, "new": "1.1.0", "kind": "added"} in report["changes"]
    assert report["env"]["synced"] is True
    assert "tinyd" in locked_names(project)
    after = files(project)
    assert b"tinyd" in (after["pyproject.toml"] or b"")
    assert after != before
    code, body = await api.get("project", path="adder")
    assert body["status"]["state"] == "in-sync"


async def test_add_to_a_group(api, root, make_project):
    project = make_project(name="grp", deps=["tinya"], folder=root / "grp")
    code, report = await api.post("add", {"path": "grp", "specs": ["tinyd"], "group": "dev"})
    assert code == 200, report
    groups = {d.name: d.group for d in operations.list_dependencies(project)}
    assert groups == {"tinya": None, "tinyd": "dev"}


async def test_remove_edits_manifest_and_lock(api, root, make_project):
    project = make_project(name="remover", deps=["tinya", "tinyd"], folder=root / "remover")
    operations.lock(project)

    code, report = await api.post("remove", {"path": "remover", "names": ["TinyD"]})

    assert code == 200, report
    assert {"name": "tinyd", "old": "1.1.0", "new": None, "kind": "removed"} in report["changes"]
    assert b"tinyd" not in (project / "pyproject.toml").read_bytes()
    assert "tinyd" not in locked_names(project)


async def test_remove_of_a_non_dependency_is_400_and_changes_nothing(api, root, make_project):
    project = make_project(name="nodep", deps=["tinya"], folder=root / "nodep")
    operations.lock(project)
    before = files(project)
    code, body = await api.post("remove", {"path": "nodep", "names": ["tinyd"]})
    assert code == 400
    assert body["error"]["type"] == "NotADependency"
    assert files(project) == before


async def test_sync_builds_the_env(api, root, make_project):
    project = make_project(name="syncer", deps=["tinya"], folder=root / "syncer")
    operations.lock(project)

    code, report = await api.post("sync", {"path": "syncer"})

    assert code == 200, report
    assert report["env"]["synced"] is True
    assert report["env"]["noop"] is False
    assert any(line.startswith("tinya==") for line in report["env"]["installed"])
    assert operations.status(project).state == "in-sync"
    code, again = await api.post("sync", {"path": "syncer"})
    assert code == 200 and again["env"]["noop"] is True


async def test_lock_writes_lock_without_env_and_upgrade_moves_versions(api, root, make_project):
    project = make_project(name="locker", deps=["tinya==1.0.0"], folder=root / "locker")
    operations.lock(project)
    text = (project / "pyproject.toml").read_text().replace("tinya==1.0.0", "tinya")
    (project / "pyproject.toml").write_text(text)

    code, report = await api.post("lock", {"path": "locker"})
    assert code == 200, report
    assert report["relocked"] is True and report["env"] is None
    assert locked_names(project)["tinya"] == "1.0.0"  # the old lock's version is preferred

    code, report = await api.post("lock", {"path": "locker", "upgrade": True})
    assert code == 200, report
    assert locked_names(project)["tinya"] == "2.0.0"
    assert {"name": "tinya", "old": "1.0.0", "new": "2.0.0", "kind": "upgraded"} in report[
        "changes"
    ]
    assert environment.locate(find_project(project), None) is None


# --------------------------------------------------------------------------- errors


async def test_invalid_requirement_is_400_and_changes_nothing(api, root, make_project):
    project = make_project(name="invalid", deps=["tinya"], folder=root / "invalid")
    operations.lock(project)
    before = files(project)

    for spec in ["tinya >>> 1", "--index-url=http://evil.example/simple", "x @ file:///etc"]:
        code, body = await api.post("add", {"path": "invalid", "specs": [spec]})
        assert code == 400, (spec, body)
        assert body["error"]["type"] == "RequirementError"
        assert body["error"]["message"]
        assert files(project) == before


async def test_conflicting_add_is_400_resolution_error_and_changes_nothing(api, root, make_project):
    project = make_project(name="conflict", deps=["tinyb"], folder=root / "conflict")
    operations.lock(project)
    before = files(project)

    code, body = await api.post("add", {"path": "conflict", "specs": ["tinyc"]})

    assert code == 400, body
    assert body["error"]["type"] == "ResolutionError"
    assert "tinya" in body["error"]["message"] + body["error"]["details"]
    assert files(project) == before


async def test_unknown_project_is_404(api, root, make_project):
    (root / "empty").mkdir()
    for path in ["nope", "empty", "empty/sub.ipynb"]:
        code, body = await api.get("project", path=path)
        assert code == 404, (path, body)
        assert body["error"]["type"] == "ProjectNotFound"
        assert str(root) not in body["error"]["message"]  # relative paths only
    for action, body in [
        ("add", {"path": "empty", "specs": ["tinya"]}),
        ("remove", {"path": "nope", "names": ["tinya"]}),
        ("sync", {"path": "empty"}),
        ("lock", {"path": "empty"}),
    ]:
        code, reply = await api.post(action, body)
        assert code == 404, (action, reply)
    assert list((root / "empty").iterdir()) == []  # add did not start a project there


@pytest.mark.parametrize(
    ("action", "body", "needle"),
    [
        ("add", {"path": "p"}, "specs"),
        ("add", {"path": "p", "specs": []}, "specs"),
        ("add", {"path": "p", "specs": "tinya"}, "specs"),
        ("add", {"path": "p", "specs": ["tinya", 3]}, "specs"),
        ("add", {"path": "p", "specs": ["a" * 1001]}, "1000"),
        ("add", {"path": "p", "specs": ["tinya"], "group": 1}, "group"),
        ("add", {"path": "p", "spec": ["tinya"]}, "spec"),
        ("add", {"specs": ["tinya"]}, "path"),
        ("add", {"path": 5, "specs": ["tinya"]}, "path"),
        ("remove", {"path": "p", "names": None}, "names"),
        ("lock", {"path": "p", "upgrade": "yes"}, "upgrade"),
        ("sync", {"path": "p", "upgrade": True}, "upgrade"),
        ("sync", ["p"], "object"),
    ],
)
async def test_bad_bodies_are_400(api, root, make_project, action, body, needle):
    project = make_project(name="p", deps=["tinya"], folder=root / "p")
    before = files(project)
    code, reply = await api.post(action, body)
    assert code == 400, reply
    assert needle in reply["error"]["message"]
    assert files(project) == before


async def test_bad_json_and_missing_query_are_400(api, root, make_project):
    make_project(name="p", folder=root / "p")
    code, reply = await api.post("sync", None, raw=b"{not json")
    assert code == 400 and "JSON" in reply["error"]["message"]
    code, reply = await api.post("sync", None, raw=b"")
    assert code == 400
    response = await api.fetch("jupyter-envlock", "project", raise_error=False)
    assert response.code == 400
    assert "path" in json.loads(response.body)["error"]["message"]


async def test_unexpected_failure_is_500_without_internals(api, root, make_project, monkeypatch):
    make_project(name="p", folder=root / "p")

    def boom(*args: Any) -> None:
        raise RuntimeError("secret internals /etc/shadow")

    monkeypatch.setattr(operations, "status", boom)  # the panel's poll
    monkeypatch.setattr(operations, "state", boom)  # the project list (no trust computed)
    code, body = await api.get("project", path="p")
    assert code == 500
    assert body["error"]["type"] == "InternalError"
    assert "secret" not in json.dumps(body)
    code, body = await api.get("projects")  # one broken project does not fail the list
    assert code == 200
    assert body["projects"][0]["state"] == "error"


async def test_engine_error_keeps_its_status_and_details(api, root, make_project, monkeypatch):
    make_project(name="p", folder=root / "p")

    def fail(path: Any, **kwargs: Any) -> None:
        raise ToolError("uv failed to reach the index", "error: connection refused")

    monkeypatch.setattr(operations, "sync", fail)
    code, body = await api.post("sync", {"path": "p"})
    assert code == 500
    assert body["error"] == {
        "type": "ToolError",
        "message": "uv failed to reach the index",
        "details": "error: connection refused",
    }
