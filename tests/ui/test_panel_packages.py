"""Everything installed, what is outdated, upgrades and restart-and-run, widgets: the Environment
panel as a package manager (issue 12, items 2, 3, 5 and 6), in a real JupyterLab.

The story's ``sales`` project needs ``tinyb`` (which pulls in ``tinya``), ``tinyui-a<2``,
``tinyui-b`` and ``ipywidgets==8.1.5`` (a tiny stand-in: this server has no jupyterlab_widgets, so the
status warns that widgets will not render). Newer ``tinyui-*`` releases are published on the local
index once the env is built, so the outdated check has something to find. A second project,
``offline``, names an index nobody answers on: its check says it cannot check. The steps build on
each other (``STORY``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from panel_helpers import (
    ACTION_TIMEOUT,
    UI_TIMEOUT,
    cell_output,
    cells,
    dep_row,
    panel,
    run_in_new_cell,
    seen,
    write_project,
)
from playwright.sync_api import expect

from jupyter_envlock.core import operations

pytestmark = pytest.mark.usefixtures("notebook_in_sync")
STORY = True

# Dead on purpose: port 9 (discard) has no index; the offline project's uv asks it first.
UNREACHABLE_INDEX = "http://127.0.0.1:9/simple"


@pytest.fixture(scope="module")
def panel_root(offline_env: None, local_index: Any, tmp_path_factory: Any) -> Path:
    for name in ("tinyui-a", "tinyui-b"):
        local_index.add_wheel(name, "1.0.0")
    local_index.add_wheel("ipywidgets", "8.1.5")  # the same bytes test_widgets.py publishes
    root = tmp_path_factory.mktemp("lab-root")
    # pinned: the session's index is shared, and test_widgets.py publishes other versions
    write_project(root, deps=("tinyb", "tinyui-a<2", "tinyui-b", "ipywidgets==8.1.5"))
    offline = write_project(root, name="offline", deps=("tinya",))
    operations.lock(offline)
    with (offline / "pyproject.toml").open("a") as manifest:
        manifest.write(
            '\n[tool.envlock]\nmanager = "pylock"\n\n'
            f'[[tool.uv.index]]\nname = "unreachable"\nurl = "{UNREACHABLE_INDEX}"\n'
        )
    return root


def tree_row(page: Any, name: str) -> Any:
    return panel(page).locator(f'[data-testid="envlock-package-row"][data-name="{name}"]')


def outdated_row(page: Any, name: str) -> Any:
    return panel(page).locator(f'[data-testid="envlock-outdated-row"][data-name="{name}"]')


def test_the_widgets_warning(page: Any, doc_shot: Any) -> None:
    warning = panel(page).locator('[data-testid="envlock-warning"][data-kind="widgets"]')
    expect(warning).to_be_visible(timeout=UI_TIMEOUT)
    expect(warning).to_contain_text("ipywidgets 8.1.5")
    expect(warning).to_contain_text("jupyterlab_widgets")
    page.mouse.move(1, 1)
    doc_shot(panel(page), "panel-widgets.png")


def test_every_locked_package_with_why(page: Any, panel_server: Any, doc_shot: Any) -> None:
    panel(page).get_by_test_id("envlock-tree-toggle").click()
    expect(tree_row(page, "tinya")).to_be_visible(timeout=UI_TIMEOUT)
    answer = panel_server.api("GET", "jupyter-envlock/project/tree?path=sales")
    rows = panel(page).get_by_test_id("envlock-package-row")
    expect(rows).to_have_count(len(answer["packages"]))
    assert len(answer["packages"]) > 10  # ipykernel and what it needs are locked too
    expect(panel(page).get_by_test_id("envlock-tree-toggle")).to_contain_text(
        f"({len(answer['packages'])})"
    )

    tinya = tree_row(page, "tinya")
    expect(tinya.get_by_test_id("envlock-package-version")).to_have_text("2.0.0")
    expect(tinya.get_by_test_id("envlock-package-reason")).to_have_text("required by tinyb")
    expect(tree_row(page, "tinyb").get_by_test_id("envlock-package-reason")).to_have_text(
        "direct (main)"
    )
    expect(tree_row(page, "ipykernel").get_by_test_id("envlock-package-reason")).to_contain_text(
        "needed by the kernel"
    )
    # direct dependencies come first
    first = rows.first.get_attribute("data-name")
    assert first in {"ipywidgets", "tinyb", "tinyui-a", "tinyui-b"}, first

    # the filter: by name, or by what requires a package
    field = panel(page).get_by_test_id("envlock-tree-filter")
    field.fill("TINYA")
    expect(rows).to_have_count(1)
    expect(tinya).to_be_visible()
    field.fill("tinyb")
    expect(rows).to_have_count(2)  # tinyb itself, and tinya which it requires
    page.mouse.move(1, 1)
    doc_shot(panel(page).get_by_test_id("envlock-tree"), "panel-tree.png")
    field.fill("no-such-package")
    expect(rows).to_have_count(0)
    expect(panel(page).get_by_test_id("envlock-tree-empty")).to_contain_text("no-such-package")
    field.fill("")
    panel(page).get_by_test_id("envlock-tree-toggle").click()  # closed again


def test_outdated_then_upgrade_one_package(page: Any, local_index: Any, doc_shot: Any) -> None:
    cell = run_in_new_cell(page, "import tinyui_b; print(tinyui_b.__version__)")
    expect(cell_output(cell)).to_have_text("1.0.0", timeout=ACTION_TIMEOUT)
    local_index.add_wheel("tinyui-a", "1.1.0")
    local_index.add_wheel("tinyui-a", "2.0.0")  # outside tinyui-a<2
    local_index.add_wheel("tinyui-b", "1.2.0")

    panel(page).get_by_test_id("envlock-outdated-check").click()
    summary = panel(page).get_by_test_id("envlock-outdated-summary")
    expect(summary).to_have_text("2 dependencies can be upgraded.", timeout=ACTION_TIMEOUT)
    expect(summary).to_have_attribute("data-checked", "true")
    a = outdated_row(page, "tinyui-a")
    expect(a.get_by_test_id("envlock-outdated-versions")).to_have_text("1.0.0 → 1.1.0")
    expect(a).to_contain_text("2.0.0 is out: tinyui-a<2 does not allow it")
    expect(outdated_row(page, "tinyui-b").get_by_test_id("envlock-outdated-versions")).to_have_text(
        "1.0.0 → 1.2.0"
    )
    expect(outdated_row(page, "tinyb")).to_have_count(0)  # at its newest
    expect(panel(page).get_by_test_id("envlock-upgrade-all")).to_be_visible()
    page.mouse.move(1, 1)
    doc_shot(panel(page).get_by_test_id("envlock-outdated"), "panel-outdated.png")

    panel(page).get_by_test_id("envlock-upgrade-tinyui-b").click()
    report = panel(page).get_by_test_id("envlock-report")
    expect(report).to_contain_text("tinyui-b 1.0.0 → 1.2.0", timeout=ACTION_TIMEOUT)
    # only that package moved; the list was checked again
    expect(report.locator("li")).to_have_count(1)
    expect(dep_row(page, "tinyui-b").get_by_test_id("envlock-dep-locked")).to_have_text("1.2.0")
    expect(dep_row(page, "tinyui-a").get_by_test_id("envlock-dep-locked")).to_have_text("1.0.0")
    expect(outdated_row(page, "tinyui-b")).to_have_count(0, timeout=ACTION_TIMEOUT)
    expect(outdated_row(page, "tinyui-a")).to_have_count(1)
    # the usual restart advice, with restart-and-run beside restart
    prompt = panel(page).get_by_test_id("envlock-restart-prompt")
    expect(prompt).to_be_visible(timeout=UI_TIMEOUT)
    expect(prompt.get_by_test_id("envlock-restart-kernel")).to_be_enabled()
    expect(prompt.get_by_test_id("envlock-restart-and-run")).to_have_text(
        "Restart and run up to this cell"
    )
    page.mouse.move(1, 1)
    doc_shot(prompt, "restart-and-run.png")


def test_restart_and_run_up_to_this_cell(page: Any) -> None:
    # the cell that printed 1.0.0 is above the selected (empty, last) cell
    kernel_mark = len(seen(page)["kernel"])
    panel(page).get_by_test_id("envlock-restart-and-run").click()
    # JupyterLab's own command asks, as it does from its menu
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=UI_TIMEOUT)
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(panel(page).get_by_test_id("envlock-restart-prompt")).to_be_hidden()
    page.wait_for_function(
        "mark => window.__envlockSeen.kernel.slice(mark).some(([, s]) => s === 'restarting')",
        arg=kernel_mark,
        timeout=ACTION_TIMEOUT,
    )
    imported = cells(page).filter(has_text="import tinyui_b")
    expect(cell_output(imported)).to_have_text("1.2.0", timeout=ACTION_TIMEOUT)
    expect(imported.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]:"))
    assert imported.locator(".jp-InputPrompt").inner_text().strip() != "[ ]:"


def test_upgrade_all(page: Any) -> None:
    # one package is left to upgrade: no "Upgrade all" for one, its own button instead
    expect(panel(page).get_by_test_id("envlock-upgrade-all")).to_have_count(0)
    panel(page).get_by_test_id("envlock-upgrade-tinyui-a").click()
    report = panel(page).get_by_test_id("envlock-report")
    expect(report).to_contain_text("tinyui-a 1.0.0 → 1.1.0", timeout=ACTION_TIMEOUT)
    summary = panel(page).get_by_test_id("envlock-outdated-summary")
    expect(summary).to_contain_text("do not allow them", timeout=ACTION_TIMEOUT)
    expect(panel(page).get_by_test_id("envlock-upgrade-tinyui-a")).to_have_count(0)
    panel(page).get_by_test_id("envlock-restart-dismiss").click()


def test_offline_says_it_cannot_check_and_changes_nothing(page: Any, panel_root: Path) -> None:
    offline = panel_root / "offline"
    before = {p.name: p.read_bytes() for p in offline.iterdir() if p.is_file()}
    panel(page).get_by_test_id("envlock-tree-toggle").click()  # left open across the switch
    expect(tree_row(page, "tinyb")).to_be_visible(timeout=UI_TIMEOUT)
    panel(page).get_by_test_id("envlock-project-select").select_option("offline")
    expect(panel(page).get_by_test_id("envlock-project-name")).to_have_text("offline")
    # the list follows: the offline project's lock, read with no env built yet
    expect(tree_row(page, "tinyb")).to_have_count(0, timeout=UI_TIMEOUT)
    expect(tree_row(page, "tinya").get_by_test_id("envlock-package-reason")).to_have_text(
        "direct (main)"
    )
    expect(tree_row(page, "ipykernel").get_by_test_id("envlock-package-reason")).to_have_text(
        "needed by the kernel"
    )
    expect(tree_row(page, "jedi").get_by_test_id("envlock-package-reason")).to_have_text(
        "required by: known once the environment is built"
    )
    panel(page).get_by_test_id("envlock-tree-toggle").click()
    expect(panel(page).get_by_test_id("envlock-outdated-summary")).to_have_count(0)
    panel(page).get_by_test_id("envlock-outdated-check").click()
    summary = panel(page).get_by_test_id("envlock-outdated-summary")
    expect(summary).to_have_attribute("data-checked", "false", timeout=ACTION_TIMEOUT)
    expect(summary).to_contain_text("Cannot check for newer versions")
    expect(summary).to_have_attribute("role", "alert")
    expect(panel(page).get_by_test_id("envlock-outdated-row")).to_have_count(0)
    after = {p.name: p.read_bytes() for p in offline.iterdir() if p.is_file()}
    assert after == before
    panel(page).get_by_test_id("envlock-follow-notebook").click()
    expect(panel(page).get_by_test_id("envlock-project-name")).to_have_text("sales")
