"""The hostile-repository harness works: snapshots catch every kind of change, the canary tells
when repository code ran, and building a hostile repository runs none of its code.

tests/test_trust.py relies on these pieces to say "nothing changed and nothing ran"; a harness
that cannot see a change would make every one of those tests pass for nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from support import hostile
from support.sandbox import (
    VICTIM_PACKAGE,
    Sandbox,
    SentinelsChanged,
    canary_code,
    canary_shell,
    diff,
    snapshot,
)

from jupyter_envlock.core.pyproject import PyProject

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomlkit as tomllib


# --------------------------------------------------------------------------- snapshots


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "b.txt").write_text("beta\n")
    (root / "link").symlink_to("a.txt")
    return root


def _later(path: Path) -> None:
    """Move a file's mtime forward without touching its bytes."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


CHANGES = {
    "same-size-content": lambda r: (r / "a.txt").write_text("ALPHA\n"),
    "mode": lambda r: (r / "a.txt").chmod(0o600),
    "mtime-only": lambda r: _later(r / "a.txt"),
    "removed-file": lambda r: (r / "sub" / "b.txt").unlink(),
    "added-file": lambda r: (r / "sub" / "c.txt").write_text("new\n"),
    "symlink-target": lambda r: ((r / "link").unlink(), (r / "link").symlink_to("sub/b.txt")),
    "file-replaced-by-dir": lambda r: ((r / "a.txt").unlink(), (r / "a.txt").mkdir()),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_snapshot_catches_every_kind_of_change(tree: Path, change: str) -> None:
    before = snapshot([tree])
    assert diff(before, snapshot([tree])) == []  # reading changes nothing
    CHANGES[change](tree)
    lines = diff(before, snapshot([tree]))
    assert lines, f"{change} went unnoticed"
    assert all(str(tree) in line for line in lines)


def test_diff_is_readable(tree: Path) -> None:
    before = snapshot([tree])
    (tree / "a.txt").write_text("a longer alpha\n")
    (tree / "sub" / "b.txt").unlink()
    lines = diff(before, snapshot([tree]))
    changed = next(line for line in lines if line.startswith("changed") and "a.txt" in line)
    assert "size 6 -> 15" in changed and "sha256" in changed
    assert any(line.startswith("removed") and line.split()[1].endswith("b.txt") for line in lines)


def test_a_missing_root_is_recorded_so_its_creation_shows(tmp_path: Path) -> None:
    absent = tmp_path / "not-yet"
    before = snapshot([absent])
    absent.mkdir()
    assert [line.split()[0] for line in diff(before, snapshot([absent]))] == ["added"]


def test_snapshot_does_not_follow_symlinks_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big.txt").write_text("x")
    root = tmp_path / "root"
    root.mkdir()
    (root / "out").symlink_to(outside)
    assert set(snapshot([root])) == {str(root), str(root / "out")}


# --------------------------------------------------------------------------- the sandbox


def test_sandbox_victims_exist_and_are_worth_protecting(sandbox: Sandbox) -> None:
    assert {p.name for p in sandbox.local.iterdir()} == {"bin", "lib", "share"}
    for env in (sandbox.victim_venv, sandbox.base_env):
        assert (env / "pyvenv.cfg").exists()
        out = subprocess.run(
            [str(env / "bin" / "python"), "-c", f"import {VICTIM_PACKAGE}; print(1)"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert out.stdout.strip() == "1", out.stderr
    assert list(sandbox.victim_target.glob(f"{VICTIM_PACKAGE}-*.dist-info"))
    assert (sandbox.python3_spec / "kernel.json").exists()
    # the stand-in base interpreter is a venv of a pyenv Python, never the machine's own
    cfg = (sandbox.base_env / "pyvenv.cfg").read_text()
    assert ".pyenv/versions/" in cfg
    assert Path(sys.prefix) not in sandbox.base_python.resolve().parents


def test_sandbox_points_every_folder_variable_inside(sandbox: Sandbox) -> None:
    for key, value in sandbox.environment().items():
        if value == os.devnull:
            continue
        assert os.environ[key] == value
        assert Path(value).is_relative_to(sandbox.base), key
    assert Path.home() == sandbox.home
    from jupyter_core.paths import jupyter_data_dir
    from platformdirs import user_data_dir

    assert Path(jupyter_data_dir()) == sandbox.jupyter_data
    assert Path(user_data_dir("jupyter-envlock")).is_relative_to(sandbox.base)


def test_assert_untouched_names_the_changed_sentinel(sandbox: Sandbox) -> None:
    sandbox.assert_untouched()
    spec = sandbox.python3_spec / "kernel.json"
    spec.write_text(spec.read_text().replace("own", "OWN"))  # same size, other bytes
    with pytest.raises(SentinelsChanged, match="kernel.json") as info:
        sandbox.assert_untouched()
    assert "sha256" in str(info.value)


def test_assert_untouched_sees_a_package_uninstalled_from_a_victim_env(sandbox: Sandbox) -> None:
    subprocess.run(
        [sandbox.uv, "pip", "uninstall", "--quiet", "--python", str(sandbox.victim_venv),
         VICTIM_PACKAGE],
        check=True, capture_output=True,
    )  # fmt: skip
    with pytest.raises(SentinelsChanged, match=f"removed .*{VICTIM_PACKAGE}"):
        sandbox.assert_untouched()


# --------------------------------------------------------------------------- the canary


def test_canary_records_who_ran_repository_code(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.assert_no_canary()
    script = tmp_path / "evil.py"
    script.write_text(canary_code(sandbox.canary_dir, "evil") + "print('ran')\n")
    subprocess.run([sys.executable, str(script)], cwd=tmp_path, check=True)
    [record] = sandbox.canaries()
    assert record.label == "evil"
    assert record.data["cwd"] == str(tmp_path)
    assert record.data["argv"][0] == str(script)
    with pytest.raises(AssertionError, match="repository code ran"):
        sandbox.assert_no_canary()
    sandbox.clear_canaries()
    sandbox.assert_no_canary()


def test_canary_from_a_shell_script(sandbox: Sandbox, tmp_path: Path) -> None:
    script = tmp_path / "python"
    script.write_text("#!/bin/sh\n" + canary_shell(sandbox.canary_dir, "sh") + "exit 0\n")
    script.chmod(0o755)
    subprocess.run([str(script), "-I", 'print("quotes and\nnewlines")'], check=True)
    [record] = sandbox.canaries()
    assert record.data == {"label": "sh", "argc": 2, "first": "-I"}


def test_canary_code_survives_being_a_shadowing_json_module(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The canary must not import what it may itself shadow."""
    (tmp_path / "json.py").write_text(canary_code(sandbox.canary_dir, "shadow-json"))
    subprocess.run([sys.executable, "-c", "import json"], cwd=tmp_path, check=True)
    assert [c.label for c in sandbox.canaries()] == ["shadow-json"]


# --------------------------------------------------------------------------- hostile repositories


@pytest.mark.parametrize("name", list(hostile.SIMPLE_BUILDERS))
def test_building_a_hostile_repository_runs_none_of_its_code(sandbox: Sandbox, name: str) -> None:
    result = hostile.SIMPLE_BUILDERS[name](sandbox.root_dir / name, sandbox)
    roots = result if isinstance(result, tuple) else (result,)
    for root in roots:
        assert (root / "pyproject.toml").is_file()
        tomllib.loads((root / "pyproject.toml").read_bytes().decode("utf-8-sig"))  # valid TOML
    sandbox.assert_safe()


def test_hostile_backend_really_runs_and_builds(sandbox: Sandbox, tmp_path: Path) -> None:
    """The canary backend is a working PEP 517 backend: a frontend that imports it builds a
    wheel, and the canary says so (else the code-execution tests could pass for nothing)."""
    source = hostile.write_backend_package(tmp_path / "pkg", sandbox, "probe-pkg")
    out = tmp_path / "dist"
    out.mkdir()
    code = (
        "import sys; sys.path.insert(0, '.'); import hostile_backend as b; "
        f"print(b.build_wheel({str(out)!r}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=source, capture_output=True, text=True)
    assert proc.stdout.strip() == "probe_pkg-1.0.0-py3-none-any.whl", proc.stderr
    assert [c.label for c in sandbox.canaries()] == ["backend-probe-pkg"]


def test_hostile_sdist_is_reproducible_and_complete(sandbox: Sandbox, tmp_path: Path) -> None:
    first = hostile.build_sdist(tmp_path / "a", sandbox, "sdist-probe")
    time.sleep(0.01)
    second = hostile.build_sdist(tmp_path / "b", sandbox, "sdist-probe")
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tf:
        names = sorted(tf.getnames())
    assert names == [f"sdist_probe-1.0.0/{n}" for n in ("PKG-INFO", "hostile_backend.py",
                                                         "pyproject.toml")]  # fmt: skip
    sandbox.assert_no_canary()


@pytest.mark.parametrize("builder", ["lock-directory", "lock-vcs", "lock-sdist", "lock-pth-wheel"])
def test_hostile_locks_are_valid_pep751(sandbox: Sandbox, builder: str) -> None:
    """They must pass as real locks: a lock refused for its syntax would prove nothing."""
    root = hostile.SIMPLE_BUILDERS[builder](sandbox.root_dir / builder, sandbox)
    Pylock.from_dict(tomllib.loads((root / "pylock.toml").read_text())).validate()
    from jupyter_envlock.core.lockfile import manifest_hash, recorded_manifest_hash

    digest = manifest_hash(PyProject.read(root / "pyproject.toml"))
    assert recorded_manifest_hash((root / "pylock.toml").read_bytes()) == digest
    # ... and envlock takes them as current: a stale one would be re-locked, hostile entry gone
    from jupyter_envlock.core import operations

    assert operations.status(root).lock == "in-sync"


def test_kernel_named_writes_the_name_verbatim(sandbox: Sandbox) -> None:
    for name in ("..", ".", "python3"):
        root = hostile.kernel_named(sandbox.root_dir / f"k{len(name)}", sandbox, name)
        assert (
            tomllib.loads((root / "pyproject.toml").read_text())["tool"]["envlock"]["kernel-name"]
            == name
        )


def test_bom_and_large_manifests(sandbox: Sandbox) -> None:
    bom = hostile.bom_manifest(sandbox.root_dir / "bom", sandbox)
    assert (bom / "pyproject.toml").read_bytes().startswith(b"\xef\xbb\xbf[project]")
    big = hostile.large_manifest(sandbox.root_dir / "big", sandbox, megabytes=0.5)
    size = (big / "pyproject.toml").stat().st_size
    assert 450_000 < size < 600_000
    assert (
        tomllib.loads((big / "pyproject.toml").read_text())["project"]["name"] == "large-manifest"
    )
