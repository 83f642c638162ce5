"""`jupyter envlock ...` as a user runs it: a real subprocess, exit codes, JSON and human output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import EnvlockRun, run_envlock, source_env

pytestmark = pytest.mark.slow


def envlock(*args: str, cwd: Path | None = None) -> EnvlockRun:
    """`jupyter envlock ARGS` running this checkout's code (the CLI tests' and their neighbours')."""
    return run_envlock(*args, cwd=cwd, env=source_env())


def test_add_prints_what_changed_and_progress(envlock_env, make_project):
    project = make_project("cli-add")
    proc = envlock("add", "tinyb", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "pyproject.toml: + tinyb" in proc.stdout
    assert "+ tinyb 1.0.0" in proc.stdout and "+ tinya 2.0.0" in proc.stdout
    assert "Environment synced" in proc.stdout
    assert "resolve" in proc.stderr and "install" in proc.stderr  # progress on stderr


def test_json_results_for_machines(envlock_env, make_project, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # set by ipykernel and many CI systems
    project = make_project("cli-json")
    proc = envlock("add", "tinyd", "--project", str(project), "--json", "-q")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["project"]["kernel_name"] == "envlock-cli-json"
    assert {"name": "tinyd", "old": None, "new": "1.1.0", "kind": "added"} in report["changes"]
    assert "tinyd==1.1.0" in report["env"]["installed"]

    status = json.loads(envlock("status", "--project", str(project), "--json").stdout)
    assert status["state"] == "in-sync" and status["lock"] == "in-sync"
    listing = json.loads(envlock("list", "--project", str(project), "--json").stdout)
    assert listing["dependencies"] == [
        {"name": "tinyd", "requirement": "tinyd>=1.1.0", "group": None, "locked": "1.1.0"}
    ]
    sync = json.loads(envlock("sync", "--project", str(project), "--json").stdout)
    assert sync["env"]["noop"] is True


def test_user_errors_exit_2_failures_exit_1(envlock_env, make_project, monkeypatch):
    project = make_project("cli-err", deps=["tinyb"])
    assert envlock("lock", "--project", str(project)).returncode == 0
    before = (project / "pyproject.toml").read_bytes(), (project / "pylock.toml").read_bytes()

    bad = envlock("add", "tinyc", "--project", str(project))
    assert bad.returncode == 2
    assert "error: The requirements cannot be resolved." in bad.stderr
    assert "tinyc" in bad.stderr and "Traceback" not in bad.stderr

    as_json = envlock("remove", "nope", "--project", str(project), "--json")
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["error"]["type"] == "NotADependency"

    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://127.0.0.1:9/simple")
    down = envlock("lock", "--upgrade", "--project", str(project))
    assert down.returncode == 1
    assert "could not reach a package index" in down.stderr
    assert (
        (project / "pyproject.toml").read_bytes(),
        (project / "pylock.toml").read_bytes(),
    ) == before


def test_no_sync_locks_without_building(envlock_env, make_project):
    project = make_project("cli-nosync")
    proc = envlock("add", "tinyd", "--no-sync", "--group", "extra", "--project", str(project))
    assert proc.returncode == 0, proc.stderr
    assert "Environment" not in proc.stdout
    status = json.loads(envlock("status", "--project", str(project), "--json").stdout)
    assert status["state"] == "no-env"


def test_status_shows_drift_and_the_fix(envlock_env, make_project):
    project = make_project("cli-status", deps=["tinyd"])
    assert envlock("sync", "--project", str(project)).returncode == 0
    manifest = project / "pyproject.toml"
    manifest.write_text(manifest.read_text().replace('"tinyd",', '"tinyd",\n    "tinya",'))
    out = envlock("status", "--project", str(project)).stdout
    assert "State:    lock-out-of-date" in out
    assert "jupyter envlock lock" in out
    locked = envlock("sync", "--locked", "--project", str(project))
    assert locked.returncode == 2 and "out of date" in locked.stderr


def test_export_writes_hashed_requirements(envlock_env, make_project, tmp_path):
    project = make_project("cli-export", deps=["tinyd"])
    assert envlock("lock", "--project", str(project)).returncode == 0
    out = tmp_path / "req.txt"
    proc = envlock("export", "--format", "requirements", "-o", str(out), "--project", str(project))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "tinyd==1.1.0" in text and "--hash=sha256:" in text


def test_html_escaping_matches_the_standard_library():
    """The rendering escapes without importing html (its entity table costs every command's
    start): the same text out as html.escape gives, for every character it replaces."""
    import html

    from jupyter_envlock.cli.render import escape, table_html

    for text in ("", "plain", "a<b>&c", "\"quoted\" and 'single'", "&amp; already", "<<>>&&"):
        assert escape(text) == html.escape(text), text
    assert ">x&lt;y &amp; &quot;z&#x27;</td>" in table_html(None, [["x<y & \"z'"]])
