"""What the Environment panel stories share: the project they open, and how a user looks at and
drives the panel and the notebook (locators, typing into cells, the recorder of what was shown).

The fixtures that start a server and a page for each story are in this folder's conftest.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from support.isolation import trust_project

PROJECT = "sales"
KERNEL = f"envlock-{PROJECT}"
DISPLAY_NAME = f"Python ({PROJECT})"
NOTEBOOK = "analysis.ipynb"

# Waits (ms): generous, but bounded so a hang fails with a screenshot instead of a CI timeout.
BUILD_TIMEOUT = 120_000  # first kernel start: lock + create the env + install ipykernel
ACTION_TIMEOUT = 60_000  # one add / remove / sync against the local index
DRIFT_TIMEOUT = 15_000  # the panel polls every 3 s
UI_TIMEOUT = 15_000


# Records, from before the notebook opens, what the user could see change: toast texts and the
# panel's state badge (a MutationObserver misses nothing, however fast a build is).
RECORDER_JS = """() => {
  if (window.__envlockSeen) { return; }
  const seen = (window.__envlockSeen = {
    toasts: [], states: [], kernel: [], events: [], progress: [], items: []
  });
  const t0 = performance.now();
  const stamp = () => Math.round(performance.now() - t0);
  const events = window.jupyterapp.serviceManager.events;
  if (events) {
    events.stream.connect((_, e) => {
      if (String(e.schema_id || '').includes('env-build')) {
        seen.events.push([stamp(), e.state, e.phase, e.done, e.total, e.message]);
      }
    });
  }
  const record = () => {
    for (const toast of document.querySelectorAll('.Toastify__toast')) {
      const text = (toast.textContent || '').trim();
      if (text && !seen.toasts.includes(text)) { seen.toasts.push(text); }
    }
    // the panel's build progress and the status / toolbar item, every text they showed
    for (const node of document.querySelectorAll(
      '[data-testid="envlock-progress-label"], [data-testid="envlock-statusbar"],' +
      ' [data-testid="envlock-toolbar"]'
    )) {
      const text = (node.textContent || '').trim();
      const into = node.dataset.testid === 'envlock-progress-label' ? seen.progress : seen.items;
      if (text && into[into.length - 1] !== text) { into.push(text); }
    }
    const badge = document.querySelector('[data-testid="envlock-state"]');
    const state = badge ? badge.dataset.state : null;
    if (state && (seen.states[seen.states.length - 1] || [])[1] !== state) {
      seen.states.push([stamp(), state]);
    }
    const indicator = document.querySelector(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator'
    );
    const kernel = indicator ? indicator.dataset.status : null;
    if (kernel && (seen.kernel[seen.kernel.length - 1] || [])[1] !== kernel) {
      seen.kernel.push([stamp(), kernel]);
    }
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ['data-state', 'data-status', 'class', 'value']
  });
  record();
}"""


def write_project(
    root: Path,
    name: str = PROJECT,
    deps: tuple[str, ...] = (),
    notebook: str = NOTEBOOK,
    sources: tuple[str, ...] = ("",),
    trusted: bool = True,
) -> Path:
    """``<root>/<name>/``: a project with no lock and no env yet, and a notebook whose metadata
    asks for the project kernel; returns the project folder. It is trusted, as the user's own
    projects are, in the trust store of the story's ``offline_env`` (request that fixture
    first); ``trusted=False`` leaves it as a clone of someone else's repository."""
    project = root / name
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        "[project]\n"
        f'name = "{name}"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.10"\n'
        f"dependencies = {json.dumps(list(deps))}\n"
    )
    write_notebook(project / notebook, f"envlock-{name}", f"Python ({name})", sources)
    if trusted:
        trust_project(project)
    return project


def write_notebook(
    path: Path,
    kernel: str = KERNEL,
    display_name: str = DISPLAY_NAME,
    sources: tuple[str, ...] = ("",),
) -> None:
    """A notebook whose metadata asks for ``kernel``, with one code cell per source (one empty
    cell by default)."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell{index}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for index, source in enumerate(sources)
        ],
        "metadata": {
            "kernelspec": {"name": kernel, "display_name": display_name, "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1))


def panel(page: Any) -> Any:
    return page.get_by_test_id("envlock-panel")


def state_badge(page: Any) -> Any:
    return panel(page).get_by_test_id("envlock-state")


def dep_row(page: Any, name: str) -> Any:
    return panel(page).locator(f'[data-testid="envlock-dep-row"][data-name="{name}"]')


def panel_tab(page: Any) -> Any:
    """The Environment tab of the right sidebar: a click opens or closes the panel."""
    return page.locator('.jp-SideBar.jp-mod-right .lm-TabBar-tab[data-id="jupyter-envlock:panel"]')


def open_panel(page: Any) -> None:
    """Click the Environment tab of the right sidebar (if the panel is not shown already)."""
    if not panel(page).is_visible():
        panel_tab(page).click()
    expect(panel(page)).to_be_visible(timeout=UI_TIMEOUT)


def open_notebook(page: Any, folder: str = PROJECT, notebook: str = NOTEBOOK) -> None:
    """Open <folder>/<notebook> (sales/analysis.ipynb) from the file browser, as a user does (this
    starts its kernel). The file browser must show the server root."""
    listing = page.locator(".jp-DirListing-content")
    listing.get_by_text(folder, exact=True).dblclick()
    listing.get_by_text(notebook, exact=True).dblclick()
    expect(page.locator(".jp-NotebookPanel:visible")).to_be_visible(timeout=UI_TIMEOUT)


def cells(page: Any) -> Any:
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell")


def run_in_new_cell(page: Any, code: str) -> Any:
    """Type ``code`` into the notebook's last cell as a user would and run it with Shift+Enter;
    returns that cell (JupyterLab then adds an empty cell below)."""
    index = cells(page).count() - 1
    cell = cells(page).nth(index)  # pinned: `.last` would move to the cell Shift+Enter adds
    editor = cell.locator(".cm-content")
    editor.click()
    expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"), timeout=UI_TIMEOUT)
    page.keyboard.type(code)
    expect(editor).to_have_text(code, timeout=UI_TIMEOUT)
    page.keyboard.press("Shift+Enter")
    return cell


def run_cell(page: Any, index: int) -> Any:
    """Run the notebook's cell ``index`` as a user would (click it, Shift+Enter); returns it."""
    cell = cells(page).nth(index)
    cell.locator(".cm-content").click()
    expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"), timeout=UI_TIMEOUT)
    page.keyboard.press("Shift+Enter")
    return cell


def cell_output(cell: Any) -> Any:
    return cell.locator(".jp-OutputArea-output")


def seen(page: Any) -> dict[str, list[Any]]:
    return page.evaluate("() => window.__envlockSeen")


def state_mark(page: Any) -> int:
    """A bookmark in the recorded badge states (see ``states_since``)."""
    return len(seen(page)["states"])


def states_since(page: Any, mark: int) -> list[str]:
    """The badge states shown since ``mark``, in order, without repeats."""
    return [state for _, state in seen(page)["states"][mark:]]


def assert_no_flash(states: list[str]) -> None:
    """An action or build shows ``building`` and then its outcome, never the state from before it
    or the server's ``busy`` (another command holding the lock) as if it were drift."""
    assert set(states) <= {"building", "in-sync"}, states


def kernel_status(page: Any) -> Any:
    """The notebook toolbar's kernel status: what a user watches while a kernel starts."""
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook-ExecutionIndicator")


def wait_for_kernel_started(page: Any, timeout: float) -> None:
    """Wait until the current notebook's kernel runs and is idle: its start (and the env check
    it makes) is over. The toolbar's indicator also says ``idle`` before the kernel starts."""
    page.wait_for_function(
        """() => {
          const kernel = window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel;
          return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
        }""",
        timeout=timeout,
    )


COUNTS = re.compile(r"\b(\d+)/(\d+)\b")


def assert_counts_never_overflow(texts: list[str]) -> None:
    """No "n/m" with more done than total (seen: "[6/5]", "[2/1]")."""
    for text in texts:
        for done, total in COUNTS.findall(text):
            assert int(done) <= int(total), text


# For the text inside `root`: the words (runs between spaces, "-" and "/") that a line break
# cut in two, and the one-line texts that are cut off (ellipsized) without a tooltip saying them
# whole. Invisible nodes are skipped.
LAYOUT_CHECK_JS = """root => {
  const split = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent || '';
    for (const match of text.matchAll(/[^\\s\\/\\-]+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set(
        [...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))
      );
      if (tops.size > 1) { split.push(match[0]); }
    }
  }
  const clipped = [];
  for (const el of root.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.textOverflow !== 'ellipsis' || el.scrollWidth <= el.clientWidth + 1) { continue; }
    const title = el.getAttribute('title') || '';
    const whole = (el.textContent || '').trim();
    if (!title.includes(whole)) { clipped.push(whole); }
  }
  const overflow = root.scrollWidth > root.clientWidth + 1;
  return { split, clipped, overflow };
}"""


def layout_problems(locator: Any) -> dict[str, Any]:
    """What ``LAYOUT_CHECK_JS`` finds in the element: expect ``{"split": [], "clipped": [],
    "overflow": False}``."""
    return locator.evaluate(LAYOUT_CHECK_JS)


def set_right_sidebar_width(page: Any, width: int) -> None:
    """Drag the handle between the main area and the right sidebar until the sidebar is
    ``width`` px wide, as a user resizes it (the panel's CSS min-width still applies)."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").last
    box = handle.bounding_box()
    assert box, "no split handle before the right sidebar"
    sidebar = page.locator("#jp-right-stack")
    current = sidebar.bounding_box()
    assert current, "the right sidebar is not shown"
    x = box["x"] + box["width"] / 2
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + (current["width"] - width), y, steps=8)
    page.mouse.up()


# The hint a project kernel shows under a failed import (UI-CONTRACT.md).
MISSING_IMPORT_MIME = "application/vnd.jupyter-envlock.missing-import+json"


def browse_to_root(page: Any) -> None:
    """Show the server root in the file browser (the breadcrumbs' home)."""
    page.locator(".jp-FileBrowser .jp-BreadCrumbs-home").click()
    expect(page.locator(".jp-FileBrowser .jp-BreadCrumbs")).to_have_text(
        re.compile(r"^\W*$"), timeout=UI_TIMEOUT
    )
