"""Progress that reads like progress: counts that never pass their total, a packaged project's
sync that does not report its own reinstall, and a failed build that says why in one line."""

from __future__ import annotations

import json

import pytest
from test_cli import envlock

from jupyter_envlock.core import operations
from jupyter_envlock.core.errors import BuildFailed
from jupyter_envlock.core.runner import build_failure
from jupyter_envlock.kernel_side.envlock_kernel.progress import bar, describe

UV_BUILD_ERROR = """Using Python 3.11.7 environment at: v
   Building tinybuild==2.0.0
error: Failed to build `tinybuild==2.0.0`
  cause: The build backend returned an error
  cause: Call to `failing_backend.build_wheel` failed (exit status: 1)

         [stderr]
         building extension module 0 ...
         Traceback (most recent call last):
           File "<string>", line 11, in <module>
         RuntimeError: no compiler for this Python

hint: Build failures usually indicate a problem with the package or the build environment
"""


def test_the_notebook_line():
    assert bar(0, 4) == "░" * 20 and bar(4, 4) == "█" * 20 and bar(9, 4) == "█" * 20
    assert (
        describe({"phase": "install", "message": "Installed numpy 2.1.0", "done": 5, "total": 10})
        == "install  " + "█" * 10 + "░" * 10 + " 5/10  Installed numpy 2.1.0"
    )
    assert describe({"phase": "resolve", "message": "Resolving", "done": None, "total": None}) == (
        "resolve  Resolving"
    )
    assert "7/7" in describe({"phase": "install", "message": "x", "done": 9, "total": 7})


def test_a_build_failure_leads_with_its_reason():
    error = build_failure("tinybuild==2.0.0", UV_BUILD_ERROR)
    assert error.message == (
        "Building tinybuild 2.0.0 from source failed: RuntimeError: no compiler for this Python"
    )
    assert (error.package, error.version) == ("tinybuild", "2.0.0")
    assert error.details == UV_BUILD_ERROR


@pytest.mark.slow
def test_a_packaged_projects_sync_reports_only_real_changes(envlock_env, make_project):
    project = make_project("packaged", deps=["tinya"], build_system=True)
    events = []
    first = operations.sync(project, progress=events.append)
    assert first.sync is not None and "packaged==0.1.0" in first.sync.installed
    report = operations.add(project, ["tinyd"], progress=events.append)

    assert report.sync is not None
    assert report.sync.installed == ["tinyd==1.1.0"]
    assert report.sync.removed == []  # the editable self-install went and came back: no change
    counted = [e for e in events if e.done is not None]
    assert counted and all(e.total is not None and 0 < e.done <= e.total for e in counted)
    shown = envlock("add", "tinyb", "--project", str(project))
    assert "1 installed, 0 removed" in shown.stdout or "2 installed, 0 removed" in shown.stdout
    assert "[2/1]" not in shown.stderr and not any(
        f"[{n + 1}/{n}]" in shown.stderr for n in range(1, 60)
    )


@pytest.mark.slow
def test_no_wheel_for_this_python_is_said_in_one_line(envlock_env, local_index, make_project):
    local_index.add_wheel("tinybuild-a", "1.0.0")
    local_index.add_failing_sdist("tinybuild-a", "2.0.0", "no compiler for this Python")
    project = make_project("build-fails", deps=["tinya"])
    operations.sync(project)
    before = {n: (project / n).read_bytes() for n in ("pyproject.toml", "pylock.toml")}

    proc = envlock("add", "tinybuild-a==2.0.0", "--project", str(project), "--json")

    assert proc.returncode == 1, proc.stdout
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == "BuildFailed"
    python = ".".join(str(operations.status(project).python).split(".")[:2])
    assert error["message"] == (
        f"tinybuild-a 2.0.0 has no wheel for Python {python} on this machine, and building it "
        "from source failed: RuntimeError: no compiler for this Python. The newest version with a "
        f'wheel for Python {python} is 1.0.0: add "tinybuild-a==1.0.0" (or "tinybuild-a>=1.0.0").'
    )
    assert "building extension module 39" in error["details"]  # the whole log, one click away
    assert {n: (project / n).read_bytes() for n in before} == before
    shown = envlock("add", "tinybuild-a==2.0.0", "--project", str(project), "-q")
    assert shown.stderr.splitlines()[0] == "error: " + error["message"]
    with pytest.raises(BuildFailed):
        operations.add(project, ["tinybuild-a==2.0.0"])
