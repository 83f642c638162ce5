"""A repeated read-only command is answered from its record (core/answers.py), and never once
anything it read has changed: real processes, a real project and env, the test's own cache."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cli import run_envlock, source_env

from jupyter_envlock.core import operations
from jupyter_envlock.core.answers import RACY_NS

pytestmark = pytest.mark.slow

REPLAY = (
    "import sys\n"
    "from jupyter_envlock.entry import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stdout.flush()\n"
    "print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    "raise SystemExit(code)\n"
)


def modules_and_output(cwd: Path, *argv: str) -> tuple[set[str], str]:
    """The modules the console script's entry loaded to answer, and its stdout."""
    proc = subprocess.run(
        [sys.executable, "-c", REPLAY, *argv],
        cwd=cwd, env=source_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return set(proc.stderr.rpartition("MODULES ")[2].split()), proc.stdout


def answer(cwd: Path, *argv: str) -> tuple[str, bool]:
    """The command's stdout, and whether the full CLI ran (False: its record answered)."""
    modules, stdout = modules_and_output(cwd, *argv)
    return stdout, "jupyter_envlock.cli" in modules


def settle() -> None:
    """Wait until every file written so far is old enough to be recorded (the racy rule)."""
    time.sleep(RACY_NS / 1e9 + 0.1)


@pytest.fixture
def synced(envlock_env, make_project) -> Path:
    project = make_project("answers", deps=["tinyd"])
    operations.sync(project)
    settle()
    return project


def records(envlock_env) -> list[Path]:
    folder = envlock_env.envlock_cache_dir / "answers"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    "argv", [("status",), ("sync",), ("lock",), ("python",), ("list",), ("status", "--json")]
)
def test_a_repeated_read_only_command_is_answered_from_its_record(synced, envlock_env, argv):
    full, ran_cli = answer(synced, *argv)
    assert ran_cli and records(envlock_env)
    for _ in range(2):
        assert answer(synced, *argv) == (full, False)
    # a replay costs the interpreter's start and little more: none of the modules it would take
    # longer to import than to answer (python -c itself loads none of them)
    modules, _ = modules_and_output(synced, *argv)
    assert modules & {"typing", "collections", "__future__", "argparse", "json", "re"} == set()
    assert run_envlock(*argv, cwd=synced, env=source_env()).stdout == full  # python -m, as typed


def test_an_answer_is_not_replayed_once_a_file_it_read_changes(synced, envlock_env):
    """The manifest, the env's packages, the trust store and a manifest appearing in the folder
    the command runs in each make the full command run again, with the answer it gives now."""
    inside = synced / "notebooks"
    inside.mkdir()
    settle()
    first, _ = answer(inside, "status")
    assert "State:    in-sync" in first and answer(inside, "status") == (first, False)

    manifest = synced / "pyproject.toml"
    manifest.write_text(manifest.read_text().replace('"tinyd"', '"tinyd", "tinyb"'))
    edited, ran_cli = answer(inside, "status")
    assert ran_cli and "lock-out-of-date" in edited

    operations.lock(synced)
    operations.sync(synced)
    settle()
    synced_again, _ = answer(inside, "status")
    assert "State:    in-sync" in synced_again and answer(inside, "status")[1] is False

    operations.revoke(synced)
    revoked, ran_cli = answer(inside, "status")
    assert ran_cli and "not trusted" in revoked

    (inside / "pyproject.toml").write_text('[project]\nname = "inner"\nversion = "0"\n')
    inner, ran_cli = answer(inside, "status")
    assert ran_cli and "Project:  inner" in inner


def test_a_package_installed_by_hand_is_seen_at_once(synced, envlock_env):
    first, _ = answer(synced, "status")
    assert answer(synced, "status") == (first, False)
    python = operations.environment_python(synced)
    subprocess.run(
        [envlock_env.uv, "pip", "install", "--python", str(python), "tinyb"],
        check=True, capture_output=True,
    )  # fmt: skip
    drifted, ran_cli = answer(synced, "status")
    assert ran_cli and "tinyb 1.0.0 (not in the lock)" in drifted, drifted


def test_another_environment_or_folder_asks_again(synced, envlock_env, monkeypatch):
    answer(synced, "status")
    assert answer(synced, "status")[1] is False
    monkeypatch.setenv("UV_OFFLINE", "1")
    assert answer(synced, "status")[1] is True
    monkeypatch.delenv("UV_OFFLINE")
    assert answer(synced, "status")[1] is False
    assert answer(synced.parent, "status", "--project", synced.name)[1] is True


def test_nothing_is_recorded_for_changes_errors_or_fresh_files(envlock_env, make_project):
    project = make_project("fresh", deps=["tinyd"])
    operations.sync(project)
    answer(project, "status")  # the files were written just now: too recent to tell by stat
    assert records(envlock_env) == []
    settle()
    for argv in (("add", "tinyb"), ("remove", "tinyb")):
        assert answer(project, *argv)[1] is True
    assert run_envlock("status", "--project", "missing", cwd=project).returncode == 2
    settle()
    answer(project, "sync")  # the add and remove above left it in sync: a no-op now
    assert answer(project, "sync")[1] is False
    assert len(records(envlock_env)) == 1


def test_a_uv_projects_answer_is_replayed_until_uv_changes_it(make_uv_project, envlock_env):
    project = make_uv_project("uv-answers", deps=["tinyd"])
    operations.sync(project)
    settle()
    first, _ = answer(project, "status")
    assert "Manager:  uv" in first and "State:    in-sync" in first
    assert answer(project, "status") == (first, False)
    envlock_env.run_uv("add", "tinyb", cwd=project)  # uv itself, in the user's terminal
    after, ran_cli = answer(project, "list")
    assert ran_cli and "tinyb" in after
    assert "in-sync" in answer(project, "status")[0]


def test_records_nobody_asks_for_any_more_are_pruned(tmp_path, monkeypatch):
    from jupyter_envlock.core import answers

    monkeypatch.setenv("JUPYTER_ENVLOCK_CACHE_DIR", str(tmp_path))
    for n in range(answers.KEPT + 1):
        assert answers.record([f"status-{n}"], [], "answer\n", "")
    kept = list((tmp_path / "answers").iterdir())
    assert answers.KEPT // 2 <= len(kept) <= answers.KEPT
    assert answers.recorded([f"status-{answers.KEPT}"]) == ("answer\n", "")  # the newest stays


def test_records_live_in_the_cache_folder_platformdirs_names(monkeypatch):
    """Found without importing platformdirs; the same folder it gives on this platform."""
    from platformdirs import user_cache_dir

    from jupyter_envlock.core import answers

    monkeypatch.delenv("JUPYTER_ENVLOCK_CACHE_DIR", raising=False)
    assert answers.folder() == str(
        Path(user_cache_dir("jupyter-envlock", appauthor=False)) / "answers"
    )
