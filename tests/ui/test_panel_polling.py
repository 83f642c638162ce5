"""The panel asks the server only while someone looks: its poll runs while the Environment panel
is shown (or the status bar item, which needs a project) and stops when it is closed.

No notebook is open, so there is no project and no status bar item: with the panel shown, each
poll (every 3 s) re-reads the project list to find one.
"""

from __future__ import annotations

from typing import Any

from panel_helpers import UI_TIMEOUT, open_panel, panel, panel_tab
from playwright.sync_api import expect

POLL_INTERVAL_MS = 3000  # model.ts POLL_INTERVAL
WINDOW_MS = POLL_INTERVAL_MS + 1500  # long enough for one poll, short of two


def _api_calls(page: Any) -> list[str]:
    calls: list[str] = []
    page.on(
        "request",
        lambda request: calls.append(request.url) if "/jupyter-envlock/" in request.url else None,
    )
    return calls


def test_the_poll_runs_only_while_the_panel_is_shown(page: Any) -> None:
    calls = _api_calls(page)
    page.wait_for_timeout(1000)  # the project list is read once at start
    calls.clear()
    page.wait_for_timeout(WINDOW_MS)
    assert calls == [], calls

    open_panel(page)
    page.wait_for_timeout(WINDOW_MS)
    assert len(calls) == 1 and "/jupyter-envlock/projects" in calls[0], calls

    panel_tab(page).click()
    expect(panel(page)).to_be_hidden(timeout=UI_TIMEOUT)
    page.wait_for_timeout(500)  # a request sent just before the click
    calls.clear()
    page.wait_for_timeout(2 * WINDOW_MS)
    assert calls == [], calls
