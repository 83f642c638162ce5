"""`tree`: every locked package and what requires it, from the lock and the env's metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import envlock

from jupyter_envlock.cli import render
from jupyter_envlock.core import operations
from jupyter_envlock.core.results import Dependency
from jupyter_envlock.core.tree import build_tree


def fake_env(tmp_path: Path, dists: dict[str, tuple[str, list[str]]]) -> Path:
    """An env folder holding dist-info folders with these versions and Requires-Dist lines."""
    site = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    for name, (version, requires) in dists.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines += [f"Requires-Dist: {r}" for r in requires]
        (info / "METADATA").write_text("\n".join(lines) + "\n\nA long description.\n")
    return tmp_path / "env"


def test_required_by_follows_markers_and_extras(tmp_path):
    env = fake_env(
        tmp_path,
        {
            "app": ("1.0", ["lib[fast]>=1", "winonly; sys_platform == 'win32'"]),
            "lib": ("2.0", ["core", "speedup; extra == 'fast'", "docs; extra == 'docs'"]),
            "core": ("3.0", []),
            "speedup": ("1.0", ["core"]),
            "docs": ("1.0", []),
            "ipykernel": ("6.0", ["core"]),
        },
    )
    locked = {
        n: v
        for n, v in [
            ("app", "1.0"),
            ("lib", "2.0"),
            ("core", "3.0"),
            ("speedup", "1.0"),
            ("docs", "1.0"),
            ("ipykernel", "6.0"),
        ]
    }
    direct = [Dependency("app", "app", None, "1.0"), Dependency("docs", "docs", "dev", "1.0")]

    tree = build_tree(locked, direct, env, "3.11.7")

    by_name = {p.name: p.to_dict() for p in tree.packages}
    assert tree.required_by_known
    assert by_name["app"] == {
        "name": "app",
        "version": "1.0",
        "direct": True,
        "groups": [None],
        "required_by": [],
        "kernel": False,
    }
    assert by_name["lib"]["required_by"] == ["app"]
    assert by_name["speedup"]["required_by"] == ["lib"]  # app asked for lib[fast]
    assert by_name["core"]["required_by"] == ["ipykernel", "lib", "speedup"]
    assert by_name["docs"]["required_by"] == []  # lib's docs extra was not asked for
    assert by_name["docs"]["groups"] == ["dev"]
    assert by_name["ipykernel"]["kernel"] and not by_name["ipykernel"]["direct"]

    text = render.tree(tree.to_dict()).text
    assert text.splitlines()[:5] == [
        "app 1.0",
        "└── lib 2.0",
        "    ├── core 3.0",
        "    └── speedup 1.0",
        "        └── core 3.0 (*)",
    ]
    assert "docs 1.0 [dev]" in text and "ipykernel 6.0 (kernel)" in text
    markup = render.tree(tree.to_dict()).html
    assert (
        markup is not None and "<td style='text-align:left'>ipykernel, lib, speedup</td>" in markup
    )


def test_without_an_env_the_lock_is_listed_and_the_gap_said(tmp_path):
    tree = build_tree({"a": "1", "b": "2"}, [Dependency("a", "a", None, "1")], None, "3.11.7")
    assert not tree.required_by_known
    assert [p.required_by for p in tree.packages] == [[], []]
    assert "run `sync`" in render.tree(tree.to_dict()).text


@pytest.mark.slow
def test_tree_of_a_real_env_from_the_cli(envlock_env, make_project):
    project = make_project("tree-cli", deps=["tinyb"], groups={"dev": ["tinyd"]})
    operations.sync(project)

    proc = envlock("tree", "--project", str(project), "--json")

    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    by_name = {p["name"]: p for p in document["packages"]}
    assert by_name["tinyb"] == {
        "name": "tinyb",
        "version": "1.0.0",
        "direct": True,
        "groups": [None],
        "required_by": [],
        "kernel": False,
    }
    assert by_name["tinya"]["required_by"] == ["tinyb"] and not by_name["tinya"]["direct"]
    assert by_name["tinyd"]["groups"] == ["dev"]
    assert by_name["ipykernel"]["kernel"]
    assert "ipykernel" in by_name["comm"]["required_by"]  # the real wheels' metadata
    assert set(by_name) == set(operations.manager(project).locked_versions())

    shown = envlock("tree", "--project", str(project))
    assert shown.returncode == 0
    assert "tinyb 1.0.0\n└── tinya 2.0.0" in shown.stdout
