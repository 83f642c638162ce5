"""Widgets that match the server: `status` warns when the env's ipywidgets is not one the server's
jupyterlab_widgets renders, and `add ipywidgets` picks one that it does.

Fake ipywidgets wheels (7.8.1, 8.1.5, 9.0.0) are published on the session's index for this module;
the server side is this test process's own environment (which has no jupyterlab_widgets) or, for a
`jupyter envlock` subprocess, a fake jupyterlab_widgets wheel installed into a folder on its
PYTHONPATH, found by the same metadata lookup as a real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_envlock, source_env
from support.wheels import build_wheel

from jupyter_envlock.core import operations
from jupyter_envlock.core.widgets import (
    server_frontend_version,
    supported_range,
    widget_warnings,
    widgets_note,
)

IPYWIDGETS = ("7.8.1", "8.1.5", "9.0.0")


def test_the_pairs_the_packages_metadata_declare():
    assert widget_warnings({"tinya": "1"}, "3.0.13") == []
    assert widget_warnings({"ipywidgets": "8.1.5"}, "3.0.13") == []
    assert widget_warnings({"ipywidgets": "7.8.1"}, "1.1.11") == []
    (old,) = widget_warnings({"ipywidgets": "7.8.1"}, "3.0.13")
    assert old["kind"] == "widgets" and old["supported"] == ">=8,<9"
    assert old["installed"] == "7.8.1" and "jupyterlab_widgets 3.0.13" in old["message"]
    (new,) = widget_warnings({"ipywidgets": "8.1.5"}, "1.1.11")
    assert new["supported"] == ">=7.6,<8"
    (none,) = widget_warnings({"ipywidgets": "8.1.5"}, None)
    assert none["supported"] is None and "no jupyterlab_widgets" in none["message"]
    assert widget_warnings({"ipywidgets": "9.0.0"}, "4.0.0") == []  # a pairing not known yet


@pytest.fixture(scope="module")
def fake_ipywidgets(local_index):
    for version in IPYWIDGETS:
        local_index.add_wheel("ipywidgets", version)


@pytest.fixture
def server_with_widgets(tmp_path, envlock_env) -> dict[str, str]:
    """The environment of a `jupyter envlock` whose Python has jupyterlab_widgets 3.0.13."""
    wheel = build_wheel(tmp_path / "w", "jupyterlab_widgets", "3.0.13")
    site = tmp_path / "server-site"
    envlock_env.run_uv("pip", "install", "--target", str(site), "--no-deps", str(wheel))
    return source_env(site)


@pytest.mark.slow
def test_status_warns_when_the_server_cannot_render_the_envs_widgets(
    fake_ipywidgets, server_with_widgets, make_project
):
    project = make_project("widgets-old", deps=["ipywidgets<8"])
    operations.sync(project)

    proc = run_envlock("status", "--project", str(project), "--json", env=server_with_widgets)

    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["warnings"] == [
        {
            "kind": "widgets",
            "package": "ipywidgets",
            "installed": "7.8.1",
            "supported": ">=8,<9",
            "message": widget_warnings({"ipywidgets": "7.8.1"}, "3.0.13")[0]["message"],
        }
    ]
    shown = run_envlock("status", "--project", str(project), env=server_with_widgets)
    assert "Warning: ipywidgets 7.8.1 in this environment does not render" in shown.stdout


@pytest.mark.slow
def test_status_with_this_servers_own_environment(fake_ipywidgets, envlock_env, make_project):
    """Whatever this test process's environment has decides, through the same lookup."""
    project = make_project("widgets-here", deps=["ipywidgets>=8,<9"])
    operations.sync(project)
    warnings = operations.status(project).to_dict()["warnings"]
    assert warnings == widget_warnings({"ipywidgets": "8.1.5"}, server_frontend_version())
    if server_frontend_version() is None:
        assert "no jupyterlab_widgets" in warnings[0]["message"]


@pytest.mark.slow
async def test_rest_status_carries_the_warnings(
    fake_ipywidgets, jp_fetch, jp_root_dir, envlock_env, make_project, tmp_path, monkeypatch
):
    wheel = build_wheel(tmp_path / "w", "jupyterlab_widgets", "3.0.13")
    site = tmp_path / "server-site"
    envlock_env.run_uv("pip", "install", "--target", str(site), "--no-deps", str(wheel))
    monkeypatch.syspath_prepend(str(site))  # the server process now has jupyterlab_widgets 3
    project = make_project("widgets-rest", deps=["ipywidgets<8"], folder=Path(jp_root_dir) / "w")
    operations.sync(project)

    response = await jp_fetch("jupyter-envlock", "project", params={"path": "w"})

    status = json.loads(response.body)["status"]
    assert [(w["installed"], w["supported"]) for w in status["warnings"]] == [("7.8.1", ">=8,<9")]


@pytest.mark.slow
def test_add_ipywidgets_picks_what_the_server_renders_and_says_so(
    fake_ipywidgets, server_with_widgets, make_project
):
    project = make_project("widgets-add", deps=["ipywidgets<8"])
    operations.lock(project)

    proc = run_envlock(
        "add", "ipywidgets", "--no-sync", "--project", str(project), "--json",
        env=server_with_widgets,
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [(c["name"], c["new"]) for c in report["changes"]] == [("ipywidgets", "8.1.5")]
    assert report["edits"][0]["new"] == "ipywidgets>=8.1.5"  # the bound, not the server's range
    assert report["notes"] == [
        "ipywidgets 8.1.5: the newest version this server's jupyterlab_widgets 3.0.13 renders "
        "(ipywidgets >=8,<9)."
    ]
    shown = run_envlock(
        "add", "ipywidgets", "--no-sync", "--project", str(project), env=server_with_widgets
    )
    assert "renders (ipywidgets >=8,<9)" in shown.stdout
    # A version the user asks for is theirs (status would warn about it).
    asked = run_envlock(
        "add", "ipywidgets==9.0.0", "--no-sync", "--project", str(project), "--json",
        env=server_with_widgets,
    )  # fmt: skip
    assert [c["new"] for c in json.loads(asked.stdout)["changes"]] == ["9.0.0"]


@pytest.mark.slow
def test_add_ipywidgets_on_this_servers_own_environment(
    fake_ipywidgets, envlock_env, tmp_path, make_project
):
    project = make_project("widgets-none")
    env = source_env()
    proc = run_envlock(
        "add", "ipywidgets", "--no-sync", "--project", str(project), "--json", env=env
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    frontend = server_frontend_version()  # this machine's server env, as it is
    chosen = {">=8,<9": "8.1.5", ">=7.6,<8": "7.8.1"}.get(supported_range(frontend) or "", "9.0.0")
    assert [c["new"] for c in report["changes"] if c["name"] == "ipywidgets"] == [chosen]
    assert report["notes"] == [widgets_note(chosen, frontend)]
    if frontend is None:
        assert "has no jupyterlab_widgets" in report["notes"][0]
