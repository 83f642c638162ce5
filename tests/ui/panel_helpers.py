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
  const seen = (window.__envlockSeen = { toasts: [], states: [], kernel: [], events: [] });
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
    attributeFilter: ['data-state', 'data-status', 'class']
  });
  record();
}"""


def write_project(root: Path) -> None:
    """``<root>/sales/``: a project with no lock and no env yet, and a notebook whose metadata
    asks for the project kernel."""
    project = root / PROJECT
    project.mkdir()
    (project / "pyproject.toml").write_text(
        "[project]\n"
        f'name = "{PROJECT}"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.10"\n'
        "dependencies = []\n"
    )
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "first",
                "metadata": {},
                "outputs": [],
                "source": [],
            }
        ],
        "metadata": {
            "kernelspec": {"name": KERNEL, "display_name": DISPLAY_NAME, "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (project / NOTEBOOK).write_text(json.dumps(notebook, indent=1))


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


def open_notebook(page: Any) -> None:
    """Open sales/analysis.ipynb from the file browser, as a user does (this starts its kernel)."""
    listing = page.locator(".jp-DirListing-content")
    listing.get_by_text(PROJECT, exact=True).dblclick()
    listing.get_by_text(NOTEBOOK, exact=True).dblclick()
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
