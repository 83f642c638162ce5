"""The missing-import hint in a real JupyterLab (issue 12, item 1): under a failed import the
project kernel names the distribution; the notebook offers "Add NAME to the project", and one
click adds it (nothing is installed before) and re-runs the cell that failed, with JupyterLab's
own command. A package that is locked but was uninstalled behind the lock's back gets "Sync the
environment" instead. A saved notebook carrying such an output is not trusted when opened: it
shows the hint's text, never a button. The steps build on each other (``STORY``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from panel_helpers import (
    ACTION_TIMEOUT,
    KERNEL,
    MISSING_IMPORT_MIME,
    PROJECT,
    UI_TIMEOUT,
    cell_output,
    dep_row,
    panel,
    run_cell,
    write_notebook,
    write_project,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.usefixtures("notebook_in_sync")
STORY = True
SAVED = "saved-with-hint.ipynb"


@pytest.fixture(scope="module")
def panel_root(offline_env: None, tmp_path_factory: Any) -> Path:
    root = tmp_path_factory.mktemp("lab-root")
    project = write_project(
        root,
        deps=("tinya",),
        sources=(
            "import tinyd\nprint('tinyd', tinyd.__version__)",
            "%pip uninstall -y tinya",
            "import tinya\nprint('tinya', tinya.__version__)",
            "",
        ),
    )
    # the same hint as a saved output of a notebook from elsewhere (not trusted here)
    write_notebook(project / SAVED, sources=("import tinyd",))
    saved = json.loads((project / SAVED).read_text())
    saved["cells"][0]["outputs"] = [
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {
                "text/plain": "tinyd provides tinyd: %dep add tinyd",
                MISSING_IMPORT_MIME: {
                    "module": "tinyd",
                    "distribution": "tinyd",
                    "action": "add",
                    "command": "%dep add tinyd",
                    "project": PROJECT,
                    "kernel_name": KERNEL,
                },
            },
        }
    ]
    (project / SAVED).write_text(json.dumps(saved))
    return root


def hint(cell: Any) -> Any:
    return cell.get_by_test_id("envlock-missing-import")


def test_a_failed_import_offers_the_package(page: Any, panel_server: Any, doc_shot: Any) -> None:
    cell = run_cell(page, 0)
    expect(cell_output(cell).filter(has_text="ModuleNotFoundError")).to_have_count(
        1, timeout=ACTION_TIMEOUT
    )
    button = hint(cell).get_by_test_id("envlock-missing-import-action")
    expect(button).to_have_text("Add tinyd to the project")
    expect(button).to_be_enabled()
    expect(hint(cell)).to_contain_text("%dep add tinyd")
    # nothing was installed or recorded before the click
    expect(dep_row(page, "tinya")).to_be_visible()
    expect(dep_row(page, "tinyd")).to_have_count(0)
    project = panel_server.api("GET", f"jupyter-envlock/project?path={PROJECT}")
    assert [d["name"] for d in project["dependencies"]] == ["tinya"]
    page.mouse.move(1, 1)
    doc_shot(cell, "missing-import.png")


def test_one_click_adds_it_and_reruns_the_cell(page: Any) -> None:
    cell = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(0)
    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    hint(cell).get_by_test_id("envlock-missing-import-action").click()
    # added to the project (the panel follows) ...
    row = dep_row(page, "tinyd")
    expect(row).to_be_visible(timeout=ACTION_TIMEOUT)
    expect(row.get_by_test_id("envlock-dep-locked")).to_have_text("1.1.0")
    # ... and the cell ran again, now without the error or the hint
    expect(hint(cell)).to_have_count(0, timeout=ACTION_TIMEOUT)
    expect(cell_output(cell)).to_have_text("tinyd 1.1.0", timeout=ACTION_TIMEOUT)
    expect(prompt).not_to_have_text(before)
    expect(prompt).to_have_text(re.compile(r"\[\d+\]:"))


def test_locked_but_not_installed_offers_a_sync(page: Any) -> None:
    uninstall = run_cell(page, 1)
    expect(cell_output(uninstall).first).to_contain_text("tinya", timeout=ACTION_TIMEOUT)
    cell = run_cell(page, 2)
    button = hint(cell).get_by_test_id("envlock-missing-import-action")
    expect(button).to_have_text("Sync the environment", timeout=ACTION_TIMEOUT)
    expect(hint(cell)).to_contain_text("%dep sync")
    expect(hint(cell)).to_contain_text("in the lock but not installed")
    button.click()
    expect(hint(cell)).to_have_count(0, timeout=ACTION_TIMEOUT)
    expect(cell_output(cell)).to_have_text("tinya 2.0.0", timeout=ACTION_TIMEOUT)
    expect(panel(page).get_by_test_id("envlock-state")).to_have_attribute(
        "data-state", "in-sync", timeout=ACTION_TIMEOUT
    )


def test_a_saved_hint_from_an_untrusted_notebook_has_no_button(page: Any) -> None:
    page.locator(".jp-DirListing-content").get_by_text(SAVED, exact=True).dblclick()
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(notebook).to_be_visible(timeout=UI_TIMEOUT)
    output = notebook.locator(".jp-Cell").first.locator(".jp-OutputArea-output")
    expect(output).to_have_text("tinyd provides tinyd: %dep add tinyd", timeout=UI_TIMEOUT)
    expect(notebook.get_by_test_id("envlock-missing-import")).to_have_count(0)
