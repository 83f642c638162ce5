"""The engine end to end, with real uv and virtualenv against the local index (issue 2)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from packaging.utils import canonicalize_name
from support.aging import age, age_env
from support.cli import run_envlock, source_env

from jupyter_envlock.core import environment, operations
from jupyter_envlock.core.atomic import project_lock
from jupyter_envlock.core.errors import (
    EnvlockError,
    FileSystemError,
    LockfileError,
    ManifestError,
    NotADependency,
    OutsideRoot,
    ProjectNotFound,
    PythonNotFound,
    RequirementError,
    ResolutionError,
    StaleLockError,
)
from jupyter_envlock.core.indexes import PYPI, default_indexes, index_of
from jupyter_envlock.core.lockfile import Lock
from jupyter_envlock.core.managers.pylock import plan_of
from jupyter_envlock.core.project import (
    Listings,
    discover_projects,
    find_project,
    normalized_name,
)
from jupyter_envlock.core.pyproject import PyProject
from jupyter_envlock.scan import ProjectScanner

pytestmark = pytest.mark.slow


def snapshot(project: Path) -> dict[str, bytes | None]:
    """Manifest, lock and what the env holds, to prove an operation changed nothing."""
    files = {}
    for name in ("pyproject.toml", "pylock.toml"):
        path = project / name
        files[name] = path.read_bytes() if path.exists() else None
    try:
        env = environment.locate(find_project(project), None)
    except EnvlockError:  # a deliberately broken manifest: there is no env to compare
        env = None
    if env is not None and env.exists:
        files["env"] = repr(sorted(environment.installed_distributions(env.path).items())).encode()
        marker = env.path / environment.MARKER
        files["marker"] = marker.read_bytes() if marker.exists() else None
    return files


def env_python(project: Path) -> Path:
    return operations.environment_python(project)


def run_in_env(project: Path, code: str) -> str:
    out = subprocess.run(
        [str(env_python(project)), "-c", code], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def lock_data(project: Path) -> dict:
    return tomllib.loads((project / "pylock.toml").read_text())


def locked_version(project: Path, name: str) -> str | None:
    versions = {p["name"]: p.get("version") for p in lock_data(project)["packages"]}
    return versions.get(name)


# ----------------------------------------------------------------------------- projects


def test_find_project_walks_up(tmp_path, make_project):
    root = make_project("walk")
    deep = root / "notebooks" / "eda"
    deep.mkdir(parents=True)
    assert find_project(deep).root == root.resolve()
    with pytest.raises(ProjectNotFound, match="No pyproject.toml"):
        find_project(tmp_path)


def test_find_project_within_a_root_never_walks_above_it(tmp_path, make_project):
    outer = make_project("outer")
    inner_root = outer / "served"
    (inner_root / "nb").mkdir(parents=True)
    assert find_project(inner_root / "nb").root == outer.resolve()
    with pytest.raises(ProjectNotFound):
        find_project(inner_root / "nb", within=inner_root)
    with pytest.raises(OutsideRoot):
        find_project(outer, within=inner_root)
    linked = inner_root / "linked"
    linked.mkdir()
    (linked / "pyproject.toml").symlink_to(outer / "pyproject.toml")
    with pytest.raises(OutsideRoot, match="leads outside"):
        find_project(linked, within=inner_root)


def test_status_is_busy_while_another_command_holds_the_project(envlock_env, make_project):
    project = make_project("busy", deps=["tinyd"])
    operations.lock(project)
    assert operations.status(project).busy is False
    with project_lock(find_project(project).file_lock_path):
        status = run_envlock(
            "status", "--json", "--project", str(project), env=source_env(), check=True
        )
    assert '"state": "busy"' in status.stdout


def test_discover_projects_skips_hidden_venvs_and_node_modules(tmp_path, make_project):
    make_project("top", folder="root/top")
    make_project("nested", folder="root/a/b/nested")
    make_project("too-deep", folder="root/a/b/c/d/deep")
    make_project("hidden", folder="root/.hidden/p")
    make_project("nm", folder="root/node_modules/p")
    venv = tmp_path / "root" / "venvlike"
    make_project("in-venv", folder=venv / "p")
    (venv / "pyvenv.cfg").write_text("home = /usr\n")
    names = sorted(p.name for p in discover_projects(tmp_path / "root", max_depth=3))
    assert names == ["nested", "top"]
    deeper = sorted(p.name for p in discover_projects(tmp_path / "root", max_depth=5))
    assert deeper == ["nested", "too-deep", "top"]


def test_a_walk_with_kept_listings_sees_every_change(tmp_path, make_project):
    """Listings kept between walks (a stat per folder) still see a project added, removed, or
    hidden by a folder becoming a virtualenv."""
    root = tmp_path / "root"
    make_project("one", folder=root / "one")
    make_project("two", folder=root / "group" / "two")
    listings = Listings()

    def walk() -> list[str]:
        return sorted(p.name for p in discover_projects(root, 3, listings=listings))

    age(root, root / "one", root / "group", root / "group" / "two")
    assert walk() == ["one", "two"]
    assert walk() == ["one", "two"]  # from the kept listings
    make_project("three", folder=root / "group" / "three")
    assert walk() == ["one", "three", "two"]
    (root / "group" / "two" / "pyproject.toml").unlink()
    assert walk() == ["one", "three"]
    (root / "one" / "pyvenv.cfg").write_text("home = /usr\n")  # the folder is a venv now
    (root / "group" / "pyvenv.cfg").write_text("home = /usr\n")
    assert walk() == []


def test_listed_states_are_kept_while_their_files_stay_the_same(
    envlock_env, make_project, monkeypatch
):
    """The project list keeps each state while the files it came from keep their stats, and
    sees a lock written, an env built and a package installed by hand."""
    root = envlock_env.envlock_cache_dir.parent / "listed"
    project = make_project("listed", deps=["tinyd"], folder=root / "listed")
    scanner = ProjectScanner(root)
    scanner.stop()  # scans in place

    def state() -> str:
        scanner.refresh()
        (scanned,) = scanner.snapshot().projects
        return scanner.listing().state(scanned)

    def kept() -> str:
        """The state, asked with every status refused: it must come from what was kept."""
        with monkeypatch.context() as m:
            m.setattr(operations, "state", lambda path: pytest.fail("computed again"))
            return state()

    age(project, project / "pyproject.toml")
    assert state() == "no-lock"
    assert kept() == "no-lock"
    operations.lock(project)
    assert state() == "no-env"
    age(project, project / "pylock.toml")
    assert state() == "no-env"
    env = operations.sync(project).sync.path
    assert state() == "in-sync"
    age_env(env)
    assert state() == "in-sync"
    assert kept() == "in-sync"
    envlock_env.run_uv("pip", "install", f"--python={env_python(project)}", "tinya==1.0.0")
    assert state() == "env-out-of-date"
    with project_lock(find_project(project).file_lock_path):
        assert state() == "busy"


def test_a_kept_state_sees_edits_that_leave_the_folder_listing_alone(envlock_env, make_project):
    """A kept state is checked against its folder's kept listing (entries absent then are not
    stat'ed again): a manifest edited in place, where the folder's mtime does not move, and a
    lock deleted or written by hand still show on the next listing."""
    root = envlock_env.envlock_cache_dir.parent / "edited"
    project = make_project("edited", deps=["tinyd"], folder=root / "edited")
    scanner = ProjectScanner(root)
    scanner.stop()

    def state() -> str:
        scanner.refresh()
        (scanned,) = scanner.snapshot().projects
        return scanner.listing().state(scanned)

    operations.lock(project)
    lock = (project / "pylock.toml").read_bytes()
    age(project, project / "pyproject.toml", project / "pylock.toml")
    assert state() == "no-env"
    assert state() == "no-env"  # kept
    manifest = project / "pyproject.toml"
    with manifest.open("r+b") as f:  # in place: the folder's listing stays the same
        text = f.read().replace(b'"tinyd"', b'"tinyd", "tinya"')
        f.seek(0)
        f.write(text)
    age(manifest)
    assert state() == "lock-out-of-date"
    (project / "pylock.toml").unlink()
    assert state() == "no-lock"
    (project / "pylock.toml").write_bytes(lock)
    age(project, project / "pylock.toml")
    assert state() == "lock-out-of-date"


def test_kernel_name_is_normalized_and_overridable(make_project):
    p = make_project("Sales_Forecast.V2")
    assert find_project(p).kernel_name == "envlock-sales-forecast-v2"
    q = make_project(text='[project]\nname = "x"\n[tool.envlock]\nkernel-name = "team-x"\n')
    assert find_project(q).kernel_name == "team-x"


# ----------------------------------------------------------------------------- add / lock


def test_add_records_locks_universally_and_builds_env(envlock_env, make_project):
    project = make_project("adder")
    report = operations.add(project, ["tinyb"])
    assert report.manifest_changed and report.lock_changed
    assert '"tinyb>=1.0.0"' in (project / "pyproject.toml").read_text()  # bound: the locked one
    kinds = {c.name: c.kind for c in report.changes}
    assert kinds["tinyb"] == "added" and kinds["tinya"] == "added"

    lock = lock_data(project)
    assert lock["lock-version"] == "1.0"
    assert lock["requires-python"] == ">=3.10"
    assert lock["tool"]["envlock"]["manifest-hash"]
    names = {p["name"] for p in lock["packages"]}
    assert {"tinya", "tinyb", "ipykernel", "pip"} <= names
    # universal: platform-only packages of other OSes are in the lock, with markers
    markers = " ".join(p.get("marker", "") for p in lock["packages"])
    assert "sys_platform == 'win32'" in markers or 'sys_platform == "win32"' in markers
    for pkg in lock["packages"]:
        files = list(pkg.get("wheels", [])) + ([pkg["sdist"]] if "sdist" in pkg else [])
        assert files, pkg["name"]
        assert all("sha256" in f["hashes"] for f in files), pkg["name"]

    assert run_in_env(
        project, "import tinyb, tinya; print(tinyb.__version__, tinya.__version__)"
    ) == (f"1.0.0 {locked_version(project, 'tinya')}")
    assert run_in_env(project, "import sys; print(sys.prefix)") == str(report.sync.path)


def test_add_keeps_locked_versions_and_upgrade_moves_them(envlock_env, make_project, local_index):
    local_index.add_wheel("tinypref", "1.0.0")
    project = make_project("prefs")
    operations.add(project, ["tinypref"], sync=False)
    assert locked_version(project, "tinypref") == "1.0.0"
    local_index.add_wheel("tinypref", "1.1.0")
    pip_before = locked_version(project, "pip")
    operations.add(project, ["tinyd"], sync=False)
    assert locked_version(project, "tinypref") == "1.0.0", "add must not move other packages"
    assert locked_version(project, "pip") == pip_before
    report = operations.lock(project, upgrade_packages=["tinypref"])
    assert locked_version(project, "tinypref") == "1.1.0"
    assert [(c.name, c.kind) for c in report.changes] == [("tinypref", "upgraded")]


def test_add_then_remove_restores_manifest_bytes(envlock_env, make_project):
    project = make_project("undo", deps=["tinyd"])
    operations.lock(project)
    before = (project / "pyproject.toml").read_bytes()
    operations.add(project, ["Mixed_Case.Name>=0.1"], sync=False)
    operations.remove(project, ["mixed-case-name"], sync=False)
    assert (project / "pyproject.toml").read_bytes() == before


def test_groups_are_locked_listed_and_removed(envlock_env, make_project):
    project = make_project("grouped")
    operations.add(project, ["tinyd"], group="viz")
    deps = {(d.name, d.group): d.locked for d in operations.list_dependencies(project)}
    assert deps == {("tinyd", "viz"): "1.1.0"}
    assert run_in_env(project, "import tinyd; print(tinyd.__version__)") == "1.1.0"
    operations.remove(project, ["tinyd"])  # found in exactly one group
    assert operations.list_dependencies(project) == []


def test_listed_version_is_the_one_this_env_imports(envlock_env, make_project, local_index):
    """A universal lock may pin one version for Python 3.10 and another for 3.11+."""
    local_index.add_wheel("tinysplit", "1.0.0")
    local_index.add_wheel("tinysplit", "2.0.0", requires_python=">=3.11")
    project = make_project("split", deps=["tinysplit"])
    report = operations.sync(project)
    versions = [p["version"] for p in lock_data(project)["packages"] if p["name"] == "tinysplit"]
    assert sorted(versions) == ["1.0.0", "2.0.0"]
    minor = tuple(int(x) for x in report.sync.python_version.split(".")[:2])
    expected = "2.0.0" if minor >= (3, 11) else "1.0.0"
    assert [d.locked for d in operations.list_dependencies(project)] == [expected]
    assert run_in_env(project, "import tinysplit; print(tinysplit.__version__)") == expected


def test_first_add_in_a_bare_folder_writes_a_minimal_manifest(envlock_env, tmp_path):
    folder = tmp_path / "bare"
    folder.mkdir()
    operations.add(folder, ["tinyd"], sync=False)
    data = tomllib.loads((folder / "pyproject.toml").read_text())
    assert data["project"]["name"] == "bare"
    assert data["project"]["dependencies"] == ["tinyd>=1.1.0"]


# ----------------------------------------------------------------------------- errors leave nothing behind


@pytest.mark.parametrize(
    "specs, error, match",
    [
        (["tinyc"], ResolutionError, "cannot be resolved"),  # conflicts with tinyb's tinya>=1.1
        (["no-such-package-anywhere"], ResolutionError, "cannot be resolved"),
        (["tinypy313"], ResolutionError, "cannot be resolved"),  # needs Python >= 3.13 only
        (["tinya>=99"], ResolutionError, "cannot be resolved"),
        (["--index-url=http://evil.invalid/simple"], RequirementError, "option"),
        (["tinya; rm -rf /"], RequirementError, "not a valid requirement"),
    ],
)
def test_failed_add_changes_nothing(envlock_env, make_project, specs, error, match):
    project = make_project("safe", deps=["tinyb"])
    operations.sync(project)
    before = snapshot(project)
    with pytest.raises(error, match=match) as info:
        operations.add(project, specs)
    if error is ResolutionError:
        assert info.value.details, "uv's explanation is carried to the user"
    assert snapshot(project) == before


def test_remove_of_non_dependency_changes_nothing(envlock_env, make_project):
    project = make_project("rm", deps=["tinyb"])
    operations.sync(project)
    before = snapshot(project)
    with pytest.raises(NotADependency, match="tinya"):
        operations.remove(project, ["tinya"])  # only a transitive dependency
    assert snapshot(project) == before


def test_dynamic_dependencies_and_broken_toml_change_nothing(envlock_env, make_project):
    dynamic = make_project(text='[project]\nname = "d"\ndynamic = ["dependencies"]\n')
    broken = make_project(text='[project\nname = "b"\n')
    for project, why in ((dynamic, "declared dynamic"), (broken, "not valid TOML")):
        before = snapshot(project)
        with pytest.raises(ManifestError, match=why) as info:
            operations.add(project, ["tinyd"])
        assert "Traceback" not in info.value.message
        assert snapshot(project) == before


def test_broken_lock_is_a_specific_error(envlock_env, make_project):
    project = make_project("brokenlock", deps=["tinyd"])
    operations.lock(project)
    lock = project / "pylock.toml"
    good = lock.read_text()
    lock.write_text(good.replace('lock-version = "1.0"', 'lock-version = "9.0"'))
    with pytest.raises(LockfileError, match="unsupported lock-version"):
        operations.status(project)
    lock.write_text(good.replace("[[packages]]", "[[packages]]\nname = 3", 1))
    with pytest.raises(LockfileError, match="not valid TOML|not a valid PEP 751"):
        operations.sync(project)


def test_tampered_hash_fails_the_sync_and_builds_nothing(envlock_env, make_project):
    project = make_project("tampered", deps=["tinyd"])
    operations.lock(project)
    lock = project / "pylock.toml"
    text = lock.read_text()
    start = text.index("sha256 = ", text.index('name = "tinyd"')) + len('sha256 = "')
    lock.write_text(text[:start] + "0" * 64 + text[start + 64 :])
    with pytest.raises(EnvlockError) as info:
        operations.sync(project)
    assert "hash" in (info.value.message + info.value.details).lower()
    assert operations.status(project).env != "in-sync"


def test_failed_env_sync_rolls_back_manifest_and_lock(envlock_env, make_project, monkeypatch):
    project = make_project("rollback", deps=["tinyd"])
    operations.sync(project)
    before = snapshot(project)

    def broken_sync(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(environment, "sync", broken_sync)
    # an OSError reaches the user as a FileSystemError carrying its words, not a traceback
    with pytest.raises(FileSystemError, match="disk full"):
        operations.add(project, ["tinyb"])
    monkeypatch.undo()
    after = snapshot(project)
    assert after["pyproject.toml"] == before["pyproject.toml"]
    assert after["pylock.toml"] == before["pylock.toml"]


# ----------------------------------------------------------------------------- sync


def test_noop_sync_and_lock_run_no_uv(envlock_env, make_project, monkeypatch):
    project = make_project("noop", deps=["tinyd"])
    operations.sync(project)
    lock = (project / "pylock.toml").read_bytes()

    def no_process(*args, **kwargs):
        raise AssertionError(f"a no-op sync or lock must start no process, not {args[0]!r}")

    # Every tool envlock runs goes through subprocess: patched there, no caller can escape it.
    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.setattr(subprocess, "run", no_process)
    report = operations.sync(project)
    assert report.sync.noop
    report = operations.lock(project)  # current: kept as it is, as `uv lock` keeps uv.lock
    assert report.relocked and not report.changes and not report.lock_changed
    assert (project / "pylock.toml").read_bytes() == lock


def test_noop_answers_from_the_marker_and_any_edit_takes_the_long_way(envlock_env, make_project):
    """The env's marker records the manifest bytes its lock was checked current for: an
    unchanged project is answered from the marker alone; a comment in the manifest leaves the
    lock current (the next sync records the new bytes), a new requirement makes it stale."""
    project = make_project("marked", deps=["tinyd"])
    manifest = project / "pyproject.toml"
    env = operations.sync(project).sync.path

    def recorded() -> str:
        return environment.read_marker(env)["manifest-sha256"]

    assert recorded() == hashlib.sha256(manifest.read_bytes()).hexdigest()
    manifest.write_bytes(manifest.read_bytes() + b"# a note\n")
    assert operations.status(project).state == "in-sync"
    assert operations.sync(project).sync.noop
    assert recorded() == hashlib.sha256(manifest.read_bytes()).hexdigest()
    manifest.write_text(manifest.read_text().replace('"tinyd",', '"tinyd",\n    "tinyb",'))
    assert operations.status(project).state == "lock-out-of-date"


def test_normalized_name_is_packagings(make_project):
    """Finding a project normalizes names without importing packaging; it must agree with it."""
    names = ["Django", "oslo.concurrency", "A__b..C--d", "requests", "zope.interface", "_x_", "Ünï"]
    for name in names:
        assert normalized_name(name) == canonicalize_name(name), name


def test_sync_is_exact_and_status_sees_hand_installs(envlock_env, make_project):
    project = make_project("exact", deps=["tinyd"])
    operations.sync(project)
    assert operations.status(project).state == "in-sync"
    envlock_env.run_uv("pip", "install", f"--python={env_python(project)}", "tinya==1.0.0")
    status = operations.status(project)
    assert status.state == "env-out-of-date"
    assert status.drift["extra"] == [{"name": "tinya", "installed": "1.0.0"}]
    report = operations.sync(project)  # the lock did not change, but the env did
    assert not report.sync.noop
    assert report.sync.removed == ["tinya==1.0.0"]
    assert operations.status(project).state == "in-sync"
    assert "tinya" not in environment.installed_distributions(Path(status.env_path))


def test_hand_edited_manifest_is_seen_stale_and_sync_relocks(envlock_env, make_project):
    project = make_project("stale", deps=["tinyd"])
    operations.sync(project)
    manifest = project / "pyproject.toml"
    manifest.write_text(manifest.read_text().replace('"tinyd",', '"tinyd",\n    "tinyb",'))
    assert operations.status(project).state == "lock-out-of-date"
    with pytest.raises(StaleLockError, match="out of date"):
        operations.sync(project, stale="error")
    report = operations.sync(project)
    assert report.relocked
    assert run_in_env(project, "import tinyb; print('ok')") == "ok"


def test_killed_sync_is_repaired(envlock_env, make_project):
    """A sync that dies after removing the marker and some files leaves an env the next sync fixes."""
    project = make_project("killed", deps=["tinyd"])
    report = operations.sync(project)
    env_dir = report.sync.path
    (env_dir / environment.MARKER).unlink()
    for info in env_dir.glob("lib/python*/site-packages/tinyd*"):
        subprocess.run(["rm", "-rf", str(info)], check=True)
    assert operations.status(project).state == "env-out-of-date"
    operations.sync(project)
    assert run_in_env(project, "import tinyd; print(tinyd.__version__)") == "1.1.0"


def test_editable_install_when_build_system_declared(envlock_env, make_project):
    project = make_project("myanalysis", deps=["tinyd"], build_system=True)
    operations.sync(project)
    out = run_in_env(project, "import myanalysis, tinyd; print(myanalysis.__file__)")
    assert out.startswith(str(project.resolve()))
    assert operations.status(project).state == "in-sync"


def test_application_without_build_system_is_not_installed(envlock_env, make_project):
    project = make_project("app", deps=["tinyd"])
    report = operations.sync(project)
    assert "app" not in environment.installed_distributions(report.sync.path)


# ----------------------------------------------------------------------------- pythons


def test_interpreter_chosen_from_requires_python(envlock_env, make_project):
    if "3.13" not in envlock_env.pythons:
        pytest.skip("needs a Python 3.13 on this machine")
    project = make_project("py313", deps=["tinyd"], requires_python=">=3.13")
    report = operations.sync(project)
    assert report.sync.python_version.startswith("3.13")
    assert run_in_env(project, "import sys; print(sys.version_info[:2])") == "(3, 13)"


def test_no_matching_python_names_need_and_found(envlock_env, make_project):
    project = make_project("future", deps=["tinyd"], requires_python=">=3.99")
    before = snapshot(project)
    with pytest.raises(PythonNotFound, match=r">=3\.99.*Found: 3\."):
        operations.add(project, ["tinya"])
    assert snapshot(project) == before


def test_lock_made_under_one_python_rebuilds_under_another(envlock_env, make_project, tmp_path):
    others = [m for m in ("3.10", "3.12", "3.13") if m in envlock_env.pythons]
    if not others:
        pytest.skip("needs a second Python on this machine")
    project = make_project("crosspy", deps=["tinyb"])
    operations.lock(project)
    lock_bytes = (project / "pylock.toml").read_bytes()
    for minor in others:
        copy = make_project("crosspy", folder=f"copy-{minor}")
        (copy / "pyproject.toml").write_bytes(
            (project / "pyproject.toml").read_bytes()
            + f'\n[tool.envlock]\npython = "{minor}"\n'.encode()
        )
        (copy / "pylock.toml").write_bytes(lock_bytes)
        report = operations.sync(copy)
        assert not report.relocked, "the same lock serves every Python"
        assert (copy / "pylock.toml").read_bytes() == lock_bytes
        got = run_in_env(copy, "import sys, tinyb; print('%d.%d' % sys.version_info[:2])")
        assert got == minor


# ----------------------------------------------------------------------------- plain tools read the lock


def test_lock_installs_with_plain_uv_and_pip(envlock_env, make_project, tmp_path):
    project = make_project("plain", deps=["tinyb"])
    operations.lock(project)
    uv_env = tmp_path / "uv-env"
    envlock_env.run_uv("venv", str(uv_env), "--python", sys.executable)
    envlock_env.run_uv(
        "pip", "sync", str(project / "pylock.toml"), "--python", str(uv_env / "bin/python")
    )
    pip_env = tmp_path / "pip-env"
    subprocess.run([sys.executable, "-m", "virtualenv", "-q", str(pip_env)], check=True)
    pip = [str(pip_env / "bin/python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-r", str(project / "pylock.toml")], check=True, env=os.environ)
    for env in (uv_env, pip_env):
        out = subprocess.run(
            [
                str(env / "bin/python"),
                "-c",
                "import tinyb, tinya, ipykernel; print(tinya.__version__)",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert out == locked_version(project, "tinya")


def test_export_requirements_installs_with_hashes(envlock_env, make_project, tmp_path):
    project = make_project("export", deps=["tinyd"])
    operations.lock(project)
    text = operations.export_requirements(project)
    assert "tinyd==1.1.0" in text and "--hash=sha256:" in text
    req = tmp_path / "requirements.txt"
    req.write_text(text)
    venv = tmp_path / "exp-env"
    subprocess.run([sys.executable, "-m", "virtualenv", "-q", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin/python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--require-hashes",
            f"--index-url={envlock_env.index_url}",
            "-r",
            str(req),
        ],
        check=True,
    )


# ----------------------------------------------------------------------------- indexes


def test_project_index_and_pip_variables_are_honoured(envlock_env, make_project, monkeypatch):
    monkeypatch.delenv("UV_DEFAULT_INDEX")
    project = make_project(
        text=(
            '[project]\nname = "idx"\nversion = "0"\nrequires-python = ">=3.10"\n'
            f'dependencies = []\n\n[[tool.uv.index]]\nname = "local"\nurl = "{envlock_env.index_url}"\n'
            "default = true\n"
        )
    )
    operations.add(project, ["tinyd"], sync=False)
    assert locked_version(project, "tinyd") == "1.1.0"
    plain = make_project("pipvar")
    monkeypatch.setenv("PIP_INDEX_URL", envlock_env.index_url)
    operations.add(plain, ["tinyd"], sync=False)
    assert locked_version(plain, "tinyd") == "1.1.0"


def test_lock_names_each_packages_index(envlock_env, make_project):
    """uv takes a wheel whose lock entry names no index for one of an index of its own and
    fetches it again on every rebuild; named, a warm cache installs it as `uv sync` does."""
    project = make_project("named", deps=["tinyb"])
    operations.lock(project)
    for package in lock_data(project)["packages"]:
        assert package["index"] == envlock_env.index_url, package["name"]
    # the lock was read once, its entries named in data and text alike: the text says the same
    written = Lock.load(project / "pylock.toml")
    assert written.data == tomllib.loads(written.raw.decode())


def test_the_indexes_uv_resolves_from_as_shown_and_named_in_a_lock():
    """UV_INDEX's `name=url` form and credentials are stripped; PyPI when no default is set."""
    env = {"UV_INDEX": "team=https://me:secret@h/team/simple https://x/simple"}
    assert default_indexes(env) == ["https://h/team/simple", "https://x/simple", PYPI]
    assert (
        default_indexes({**env, "UV_DEFAULT_INDEX": "https://m/simple"})[-1] == "https://m/simple"
    )


@pytest.mark.parametrize(
    "urls, expected",
    [
        (
            ["http://h/simple/a/a-1-py3-none-any.whl", "http://h/simple/a/a-1.tar.gz"],
            "http://h/simple",
        ),
        (["https://files.pythonhosted.org/packages/aa/a-1-py3-none-any.whl"], PYPI),
        (["http://h/root/pypi/+f/ab/a-1-py3-none-any.whl"], "http://h/root/pypi/+simple/"),
        (["http://h/team/simple/a/a-1-py3-none-any.whl"], "http://h/team/simple"),
        (["http://elsewhere/a-1-py3-none-any.whl"], None),
        (["http://h/simple/a/a-1-py3-none-any.whl", "http://elsewhere/a-1.tar.gz"], None),
        ([], None),
    ],
)
def test_index_of_a_packages_files(urls, expected):
    indexes = ["http://h/team/simple", "http://h/root/pypi/+simple/", "http://h/simple", PYPI]
    assert index_of(urls, indexes) == expected


def test_files_on_pypis_host_are_pypis_only_when_pypi_is_asked():
    assert (
        index_of(["https://files.pythonhosted.org/packages/a-1.tar.gz"], ["http://m/simple"])
        is None
    )


def lock_entry(name: str, folder_url: str) -> str:
    """A pylock.toml package with one wheel in `folder_url`."""
    file = f"{name.replace('-', '_')}-1-py3-none-any.whl"
    hashes = f'{{ sha256 = "{"0" * 64}" }}'
    wheel = f'{{ name = "{file}", url = "{folder_url}/{file}", hashes = {hashes} }}'
    return f'\n[[packages]]\nname = "{name}"\nversion = "1"\nwheels = [{wheel}]\n'


def test_the_trust_plan_names_files_by_the_same_rule_as_a_locks_indexes(tmp_path, monkeypatch):
    """What a user reads before trusting: PyPI for files on files.pythonhosted.org, the
    configured index whose folder holds a file (credentials stripped), else the file's host."""
    monkeypatch.setenv("UV_DEFAULT_INDEX", PYPI)  # the tests' machine settings are scrubbed
    manifest = """
[project]
name = "p"
version = "0"

[[tool.uv.index]]
name = "team"
url = "https://h/team/simple"
"""
    lock = 'lock-version = "1.0"\ncreated-by = "test"\n'
    lock += lock_entry("from-pypi", "https://files.pythonhosted.org/packages/aa")
    lock += lock_entry("from-team", "https://me:secret@h/team/packages/bb")
    lock += lock_entry("from-elsewhere", "https://files.example/cc")
    pyproject = PyProject.parse(tmp_path / "pyproject.toml", manifest.encode())
    plan = plan_of(pyproject, Lock.parse(lock.encode()), "3.11.7")
    assert plan.indexes == ["https://files.example", "https://h/team/simple", PYPI]
    assert plan.packages == 3


def test_credentials_never_land_in_manifest_or_lock(envlock_env, make_project, monkeypatch):
    secret_url = envlock_env.index_url.replace("http://", "http://alice:s3cr3t-token@")
    monkeypatch.setenv("UV_DEFAULT_INDEX", secret_url)
    project = make_project("creds")
    operations.add(project, ["tinyd"])
    for name in ("pyproject.toml", "pylock.toml"):
        text = (project / name).read_text()
        assert "s3cr3t-token" not in text and "alice" not in text, name


def test_offline_from_a_warm_cache(envlock_env, make_project, local_index, monkeypatch):
    """Lock and build against an index that then goes away: a fresh env still builds from uv's cache."""
    server = local_index.extra_server()
    server.start()
    monkeypatch.setenv("UV_DEFAULT_INDEX", server.url)
    project = make_project("offline", deps=["tinyb"])
    operations.sync(project)  # warms uv's cache
    server.stop()
    copy = make_project("offline", folder="offline-copy")
    (copy / "pyproject.toml").write_bytes((project / "pyproject.toml").read_bytes())
    (copy / "pylock.toml").write_bytes((project / "pylock.toml").read_bytes())
    report = operations.sync(copy)
    assert not report.relocked
    assert run_in_env(copy, "import tinyb; print('ok')") == "ok"
    # adding a package whose metadata uv has cached works offline too
    operations.add(copy, ["tinya>=1.1"])
    assert "tinya>=1.1" in (copy / "pyproject.toml").read_text()
