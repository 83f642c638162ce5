"""Requirements recorded like uv records them: a bare `add NAME` writes its locked version as a
bound (`[tool.envlock] add-bounds`), and what the user typed is kept exactly as typed."""

from __future__ import annotations

import json

import pytest
import tomllib
from test_cli import envlock

from jupyter_envlock.core.errors import ManifestError
from jupyter_envlock.core.pyproject import PyProject
from jupyter_envlock.core.requirements import parse_requirement, with_bound


def deps(project) -> list[str]:
    return tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]


@pytest.mark.parametrize(
    ("typed", "version", "bounds", "written"),
    [
        ("seaborn", "0.13.2", ">=", "seaborn>=0.13.2"),
        ("seaborn", "0.13.2", "~=", "seaborn~=0.13.2"),
        ("seaborn", "0.13.2", "==", "seaborn==0.13.2"),
        ("seaborn", "0.13.2", "none", None),
        ("Xarray[io]", "2024.1", ">=", "Xarray[io]>=2024.1"),
        ("tzdata", "2024", "~=", "tzdata~=2024.0"),
        ("torch", "2.3.1+cpu", ">=", "torch>=2.3.1"),
        ("torch", "2.3.1+cpu", "==", "torch==2.3.1+cpu"),
        (
            'tinyd ; python_version >= "3.10"',
            "1.1.0",
            ">=",
            'tinyd>=1.1.0; python_version >= "3.10"',
        ),
    ],
)
def test_bounds(typed, version, bounds, written):
    assert with_bound(parse_requirement(typed), version, bounds) == written


def test_the_setting_is_checked(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n[tool.envlock]\nadd-bounds = "~="\n')
    assert PyProject.read(path).settings.add_bounds == "~="
    path.write_text('[project]\nname = "x"\n[tool.envlock]\nadd-bounds = "^"\n')
    with pytest.raises(ManifestError, match='add-bounds must be one of ">=", "~=", "==", "none"'):
        PyProject.read(path)


@pytest.mark.slow
def test_bare_adds_get_the_locked_version_as_bound(envlock_env, make_project):
    project = make_project("record")
    proc = envlock(
        "add", "tinyd", "tinya>=1.0,<2", "--no-sync", "--project", str(project), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    assert deps(project) == ["tinyd>=1.1.0", "tinya>=1.0,<2"]  # typed: kept as typed
    report = json.loads(proc.stdout)
    assert [e["new"] for e in report["edits"]] == ["tinyd>=1.1.0", "tinya>=1.0,<2"]
    status = json.loads(envlock("status", "--project", str(project), "--json").stdout)
    assert status["lock"] == "in-sync"  # the lock was stamped with the manifest it matches
    shown = envlock("add", "tinyd", "--no-sync", "--project", str(project))
    assert "pyproject.toml: tinyd>=1.1.0 -> tinyd>=1.1.0" not in shown.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("bounds", "written"), [("~=", "tinyd~=1.1.0"), ("==", "tinyd==1.1.0"), ("none", "tinyd")]
)
def test_the_project_chooses_the_bound(envlock_env, make_project, bounds, written):
    project = make_project("record-" + {"~=": "tilde", "==": "exact", "none": "none"}[bounds])
    manifest = project / "pyproject.toml"
    manifest.write_text(manifest.read_text() + f'\n[tool.envlock]\nadd-bounds = "{bounds}"\n')
    proc = envlock("add", "tinyd", "--no-sync", "--project", str(project))
    assert proc.returncode == 0, proc.stderr
    assert deps(project) == [written]
    assert f"pyproject.toml: + {written}" in proc.stdout
