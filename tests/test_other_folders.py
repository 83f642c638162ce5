"""Folders that are not (yet) envlock projects, and projects inside or beside others (issue 10):
requirements.txt folders become projects in one step, PDM/Hatch/Pipenv/conda folders are named
with what envlock can do for them, and every command says which project it acted on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib
from support.cli import run_envlock

from jupyter_envlock.cli import execute
from jupyter_envlock.core import kernel_layer, operations
from jupyter_envlock.core.environment import installed_distributions
from jupyter_envlock.core.errors import ManifestError, ProjectNotFound
from jupyter_envlock.core.managers import manager_for
from jupyter_envlock.core.managers.foreign import NotManagedHere
from jupyter_envlock.core.other_tools import folder_tool
from jupyter_envlock.core.project import discover, find_project
from jupyter_envlock.scan import ProjectScanner

pytestmark = pytest.mark.slow


def manifest(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())


# ------------------------------------------------------------------ requirements.txt folders


def test_init_keeps_each_requirement_as_written(make_requirements_folder, envlock_env):
    folder = make_requirements_folder(["# analysis", "tinya>=1,<3  # core", "TinyD==1.0.0"])
    with pytest.raises(ProjectNotFound, match="jupyter envlock init"):
        operations.status(folder)
    report = operations.init(folder)
    text = (folder / "pyproject.toml").read_text()
    assert '"tinya>=1,<3",  # core' in text and '"TinyD==1.0.0",' in text and "# analysis" in text
    assert manifest(folder)["project"]["dependencies"] == ["tinya>=1,<3", "TinyD==1.0.0"]
    assert (folder / "requirements.txt").read_text().startswith("# analysis")  # left alone
    assert report.lock_changed and (folder / "pylock.toml").is_file()
    assert {(e.name, e.new) for e in report.edits} == {
        ("tinya", "tinya>=1,<3"),
        ("tinyd", "TinyD==1.0.0"),
    }
    assert manager_for(find_project(folder)).name == "pylock"
    with pytest.raises(ManifestError, match="a project already"):
        operations.init(folder)


def test_first_add_in_a_requirements_folder_makes_the_project(
    make_requirements_folder, envlock_env
):
    folder = make_requirements_folder(["tinya<2"])
    (folder / "notebooks").mkdir()
    report = operations.add(folder / "notebooks", ["tinyd"])  # from a folder inside it
    assert report.project.root == folder
    assert manifest(folder)["project"]["dependencies"] == ["tinya<2", "tinyd>=1.1.0"]
    assert (
        installed_distributions(report.sync.path).items()
        >= {"tinya": "1.1.0", "tinyd": "1.1.0"}.items()
    )


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        (["-e ."], "editable installs"),
        (["--find-links /wheels", "tinya"], "pip option '--find-links'"),
        (["-i https://user:secret@example.com/simple", "tinya"], "credentials"),
        (["./local/pkg"], "local"),
        (["-r ../outside.txt"], "outside"),
        (["tinya", "no such thing!"], "line 2"),
    ],
)
def test_init_refuses_what_a_manifest_cannot_carry(
    make_requirements_folder, envlock_env, lines, match
):
    folder = make_requirements_folder(lines)
    with pytest.raises(ManifestError, match=match) as caught:
        operations.init(folder)
    assert "requirements.txt" in str(caught.value) or match in str(caught.value)
    assert sorted(p.name for p in folder.iterdir()) == ["requirements.txt"]  # nothing written


def test_init_follows_includes_and_indexes(make_requirements_folder, envlock_env):
    folder = make_requirements_folder(
        [
            f"-i {envlock_env.index_url}",
            "-r more.txt",
            "tinya==2.0.0 \\",
            "    --hash=sha256:" + "0" * 64,
        ]
    )
    (folder / "more.txt").write_text("tinyd  # from more.txt\n")
    operations.init(folder)
    data = manifest(folder)
    assert data["project"]["dependencies"] == ["tinyd", "tinya==2.0.0"]
    assert data["tool"]["uv"]["index"] == [{"url": envlock_env.index_url, "default": True}]
    assert manager_for(find_project(folder)).name == "pylock"  # an index table is not uv's alone


def test_failed_init_writes_nothing(make_requirements_folder, envlock_env):
    folder = make_requirements_folder(["tinyb", "tinyc"])  # they conflict
    with pytest.raises(Exception, match="cannot be resolved"):
        operations.init(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["requirements.txt"]


def test_cli_init_says_what_it_made(make_requirements_folder, envlock_env):
    folder = make_requirements_folder(["tinyd"])
    outcome = execute(["init", "--project", str(folder), "--quiet"])
    assert outcome.exit_code == 0, outcome.text
    assert f"({folder})" in outcome.text.splitlines()[0]
    assert "pyproject.toml: + tinyd" in outcome.text


# ------------------------------------------------------------------ other tools


@pytest.mark.parametrize(
    ("kind", "manager", "says"),
    [("pdm", "pdm", "pdm export -f pylock"), ("hatch", "hatch", "locked = true")],
)
def test_pdm_and_hatch_projects_are_named_not_taken_over(
    make_marker_folder, envlock_env, kind, manager, says
):
    folder = make_marker_folder(kind)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    owner = manager_for(find_project(folder))
    assert owner.name == manager
    status = operations.status(folder)
    assert status.to_dict()["project"]["manager"] == manager
    assert says in " ".join(status.notes)
    for action in (
        lambda: operations.sync(folder),
        lambda: operations.add(folder, ["tinyd"]),
        lambda: operations.remove(folder, ["tinya"]),
        lambda: operations.lock(folder),
    ):
        with pytest.raises(NotManagedHere):
            action()
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def test_hatch_pylock_builds_the_kernel_env(make_marker_folder, envlock_env):
    folder = make_marker_folder("hatch", hatch_lock=True)
    lock = (folder / "pylock.toml").read_bytes()
    assert "its kernel is built from the pylock.toml" in operations.status(folder).notes[0]
    report = operations.sync(folder)
    assert installed_distributions(report.sync.path) == {"tinya": "2.0.0"}
    assert kernel_layer.prepare(report.sync.path) is not None  # ipykernel from the layer
    assert (folder / "pylock.toml").read_bytes() == lock  # never re-locked
    assert operations.sync(folder).sync.noop
    assert operations.status(folder).state == "in-sync"


def test_manager_setting_lets_envlock_take_a_hatch_project(make_marker_folder, envlock_env):
    folder = make_marker_folder("hatch")
    path = folder / "pyproject.toml"
    path.write_text(path.read_text() + '\n[tool.envlock]\nmanager = "pylock"\n')
    operations.add(folder, ["tinyd"], sync=False)
    assert manager_for(find_project(folder)).name == "pylock"


@pytest.mark.parametrize(
    ("kind", "says"), [("pipenv", "pipenv requirements"), ("conda", "nb_conda_kernels")]
)
def test_pipenv_and_conda_folders_are_named(make_marker_folder, kind, says):
    folder = make_marker_folder(kind)
    tool = folder_tool(folder)
    assert tool is not None and tool.kind == kind and says in tool.advice


# ------------------------------------------------------------------ nested and neighbouring


def test_discovery_lists_folders_beside_projects_not_inside_them(
    tmp_path, make_uv_project, make_requirements_folder, make_marker_folder, envlock_env
):
    root = tmp_path / "root"
    uvp = make_uv_project("uvp", folder=root / "uvp", deps=["tinyd"])
    (uvp / "docs").mkdir()
    (uvp / "docs" / "requirements.txt").write_text("sphinx\n")  # part of the uv project
    beside = make_requirements_folder(["tinya"], folder=root / "analysis")
    make_marker_folder("conda", folder=root / "condaenv")
    projects, folders = discover(root)
    assert [p.root for p in projects] == [uvp]
    assert folders == [beside, root / "condaenv"]
    snapshot = ProjectScanner(root).scan()
    assert [(f.relative, f.tool.kind) for f in snapshot.folders] == [
        ("analysis", "requirements"), ("condaenv", "conda"),
    ]  # fmt: skip
    assert list(snapshot.kernels) == ["envlock-uvp"]


def test_commands_act_on_the_project_they_are_run_in(tmp_path, make_project, envlock_env):
    outer = make_project("outer", deps=["tinya"], folder="repo")
    inner = make_project("inner", deps=["tinyd"], folder="repo/sub/inner")
    (outer / "notebooks").mkdir()
    outcome = execute(["add", "--project", str(outer / "notebooks"), "--no-sync", "-q", "tinyb"])
    assert outcome.exit_code == 0, outcome.text
    assert (
        outcome.text.splitlines()[0] == f"Project outer ({outer}), managed by envlock (pylock.toml)"
    )
    outcome = execute(["add", "--project", str(inner), "--no-sync", "-q", "tinyb"])
    assert f"Project inner ({inner})" in outcome.text
    assert "tinyb>=1.0.0" in manifest(inner)["project"]["dependencies"]
    assert manifest(outer)["project"]["dependencies"] == ["tinya", "tinyb>=1.0.0"]


def test_kernels_install_at_a_repository_root_names_the_projects_below(
    tmp_path, make_project, envlock_env
):
    root = make_project("repo-root", folder="repo")
    make_project("member", folder="repo/packages/member")
    proc = run_envlock("kernels", "install", "--prefix", str(tmp_path / "k"), "--json", cwd=root)
    assert proc.returncode == 0, proc.stderr
    document = proc.json()
    assert [k["project"] for k in document["installed"]] == [str(root)]
    assert document["also_found"] == [str(root / "packages" / "member")]


@pytest.mark.parametrize(
    ("uv_table", "manager"),
    [
        ('[tool.uv]\nsources = { tinya = { path = "../tinya" } }\n', "uv"),
        ('[tool.uv]\ndefault-groups = ["dev"]\n', "uv"),
        ("[tool.uv.workspace]\nmembers = []\n", "uv"),
        ('[tool.uv.pip]\ntarget = "/somewhere"\n', "pylock"),
        ('[tool.uv]\nlink-mode = "symlink"\n', "pylock"),
        ('[[tool.uv.index]]\nurl = "http://127.0.0.1:1/simple"\n', "pylock"),
    ],
)
def test_only_uvs_project_tables_make_a_uv_project(tmp_path, uv_table, manager):
    """Without a uv.lock, `[tool.uv]` means uv only when it holds what uv's project workflow
    alone reads: settings every uv command reads (`pip`, `link-mode`, an index) leave the
    project in envlock's own flow, which never reads them (a repository cannot opt out)."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0.1.0"\ndependencies = []\n\n' + uv_table
    )
    assert manager_for(find_project(folder)).name == manager
