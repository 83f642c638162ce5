"""The missing-import hint: which module a failed import names, the table of import names, the
server side's answer (through the real worker), and its text."""

from __future__ import annotations

import json

import pytest
from packaging.utils import canonicalize_name
from test_worker import WorkerProcess

from jupyter_envlock.cli import render
from jupyter_envlock.core import operations
from jupyter_envlock.core.missing_import import import_names
from jupyter_envlock.kernel_side.envlock_kernel.missing import is_absent, missing_module


def raised(code: str) -> BaseException:
    try:
        exec(code, {})
    except BaseException as e:  # noqa: BLE001 - what the cell raised
        return e
    raise AssertionError("nothing raised")


def test_the_module_a_failed_import_names():
    assert missing_module(raised("import tinyq_absent")) == "tinyq_absent"
    assert missing_module(raised("import tinyq_absent.sub")) == "tinyq_absent"
    assert missing_module(raised("from tinyq_absent import x")) == "tinyq_absent"
    assert missing_module(raised("from json import no_such_name")) is None  # a name, not a module
    wrapped = raised(
        "try:\n    import openpyxl_absent\nexcept ImportError as e:\n"
        "    raise ImportError('Missing optional dependency') from e"
    )
    assert missing_module(wrapped) == "openpyxl_absent"  # a library's wrapper, looked through
    assert missing_module(ImportError("No module named 'old_style'")) == "old_style"
    assert missing_module(ValueError("x")) is None and missing_module(None) is None
    assert is_absent("tinyq_absent") and not is_absent("json") and not is_absent("sys.x")


def test_the_table_names_distributions_whose_name_differs():
    table = import_names()
    for module, dist in {
        "sklearn": "scikit-learn",
        "cv2": "opencv-python",
        "PIL": "pillow",
        "yaml": "pyyaml",
        "bs4": "beautifulsoup4",
        "skimage": "scikit-image",
        "dateutil": "python-dateutil",
    }.items():
        assert table[module] == dist
    for module, dist in table.items():
        assert module.isidentifier(), module
        assert canonicalize_name(module) != canonicalize_name(dist), module  # only differences
        assert dist == canonicalize_name(dist), dist


def test_the_hint_text():
    hint = {
        "module": "sklearn",
        "distribution": "scikit-learn",
        "action": "add",
        "command": "%dep add scikit-learn",
        "project": ".",
        "kernel_name": "envlock-x",
    }
    assert (
        render.missing_import(hint).text == "scikit-learn provides sklearn: %dep add scikit-learn"
    )
    same = dict(hint, module="tinyd", distribution="tinyd", command="%dep add tinyd")
    assert render.missing_import(same).text == (
        "tinyd is on the project's package index: %dep add tinyd"
    )
    drift = dict(hint, action="sync", command="%dep sync")
    assert render.missing_import(drift).text == (
        "scikit-learn (which provides sklearn) is locked but not installed in this environment: "
        "%dep sync"
    )


def test_the_project_is_named_as_the_notebook_sees_it(tmp_path):
    project, notebooks = tmp_path / "sales", tmp_path / "sales" / "notebooks"
    notebooks.mkdir(parents=True)
    assert render.project_header("sales", str(project), str(project)).text == "Project: . (sales)"
    assert render.project_header("sales", str(project), str(notebooks)).text == (
        "Project: .. (sales)"
    )
    outside = render.project_header("sales", str(project), str(tmp_path))
    assert outside.text.startswith("Project: sales (sales)\nWarning: this notebook's folder")
    assert outside.html is not None and outside.html.startswith("<div>Project: sales (sales)<br>")


@pytest.mark.slow
def test_the_worker_answers_a_missing_import(envlock_env, make_project):
    project = make_project("hinted", deps=["tinya"])
    operations.sync(project)
    w = WorkerProcess(project)
    try:
        w.send(json.dumps({"missing_import": "tinyd", "cwd": str(project)}).encode() + b"\n")
        _, hint, code = w.answer()
        assert code == 0 and hint == {
            "module": "tinyd",
            "distribution": "tinyd",
            "action": "add",
            "command": "%dep add tinyd",
            "project": ".",
            "kernel_name": "envlock-hinted",
        }
        w.send(json.dumps({"missing_import": "tinyq_nowhere", "cwd": None}).encode() + b"\n")
        assert w.answer()[1:] == (None, 0)  # not on the index: nothing to suggest
        w.send(json.dumps({"missing_import": "tinya"}).encode() + b"\n")
        assert w.answer()[1:] == (None, 0)  # locked and installed: nothing to say
        _, listing, code = w.request("list")
        assert code == 0 and listing["dependencies"][0]["name"] == "tinya"
    finally:
        assert w.close() == 0
