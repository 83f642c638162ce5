"""The Environment panel with a uv project and a requirements.txt folder, in a real JupyterLab.

A user opens the notebook of a uv project (made by `uv init` + `uv add`): its kernel starts in
uv's own .venv and the panel says uv owns the project. Beside it, a folder with only a
requirements.txt is listed as not a project yet; its button makes it one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomllib
from panel_helpers import (
    ACTION_TIMEOUT,
    BUILD_TIMEOUT,
    UI_TIMEOUT,
    open_panel,
    panel,
    state_badge,
    wait_for_kernel_started,
)
from playwright.sync_api import expect

UV_PROJECT = "uvsales"


def write_notebook(folder: Path, kernel: str) -> None:
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
                   "outputs": [], "source": []}],
        "metadata": {"kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    (folder / "analysis.ipynb").write_text(json.dumps(notebook))


@pytest.fixture
def lab_setup(
    lab_root: Path, envlock_env: Any, make_uv_project: Any, make_requirements_folder: Any
) -> None:
    project = make_uv_project(UV_PROJECT, folder=lab_root / UV_PROJECT, deps=["tinya<2"])
    write_notebook(project, f"envlock-{UV_PROJECT}")
    make_requirements_folder(["tinyd  # the one we need"], folder=lab_root / "reqs")


def test_uv_project_and_requirements_folder(lab_page: Any, lab_root: Path) -> None:
    page = lab_page
    open_panel(page)
    listing = page.locator(".jp-DirListing-content")
    listing.get_by_text(UV_PROJECT, exact=True).dblclick()
    listing.get_by_text("analysis.ipynb", exact=True).dblclick()
    wait_for_kernel_started(page, timeout=BUILD_TIMEOUT)
    expect(state_badge(page)).to_have_attribute("data-state", "in-sync", timeout=ACTION_TIMEOUT)
    expect(panel(page).get_by_test_id("envlock-manager")).to_have_text("uv (uv.lock)")
    assert (lab_root / UV_PROJECT / ".venv" / "pyvenv.cfg").is_file()
    assert not (lab_root / UV_PROJECT / "pylock.toml").exists()

    panel(page).get_by_test_id("envlock-project-select").select_option("reqs")
    card = panel(page).get_by_test_id("envlock-not-a-project")
    expect(card).to_contain_text("not a project yet", timeout=UI_TIMEOUT)
    expect(state_badge(page)).to_have_attribute("data-state", "not-a-project")
    expect(panel(page).get_by_test_id("envlock-error")).to_have_count(0)
    card.get_by_test_id("envlock-init").click()
    expect(panel(page).get_by_test_id("envlock-manager")).to_have_text(
        "envlock (pylock.toml)", timeout=ACTION_TIMEOUT
    )
    manifest = (lab_root / "reqs" / "pyproject.toml").read_text()
    assert '"tinyd",  # the one we need' in manifest
    assert tomllib.loads(manifest)["project"]["dependencies"] == ["tinyd"]
    expect(panel(page).get_by_test_id("envlock-kernel-name")).to_have_text("envlock-reqs")
