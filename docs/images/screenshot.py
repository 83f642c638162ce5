"""Retake docs/images/panel.png: JupyterLab on examples/, weather.ipynb open, the Environment panel.

Run from the repository after scripts/setup (it needs the example's environment, which it builds
from the lock, so PyPI must be reachable the first time) and with Debian's chromium installed:

    .venv/bin/python docs/images/screenshot.py

Uses a temporary Jupyter config, runtime and workspace folder, a free port and a random token, and
stops the server it started.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
OUTPUT = Path(__file__).resolve().parent / "panel.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCROLL_TO_PLOT = """() => {
  const img = document.querySelector('.jp-OutputArea-output img');
  const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
  if (img && scroller) { scroller.scrollTop += img.getBoundingClientRect().top - 260; }
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("JupyterLab exited; see its output above.")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own 127.0.0.1 server
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"JupyterLab did not answer {url} within {timeout:.0f} s.")


def shoot(base_url: str, token: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 860})
        page.goto(f"{base_url}lab/tree/weather-analysis/weather.ipynb?token={token}")
        page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
        page.evaluate("() => window.jupyterapp.restored")
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        page.evaluate("() => window.jupyterapp.commands.execute('jupyter-envlock:open')")
        page.wait_for_selector(".jp-EnvlockPanel >> text=matplotlib", timeout=120_000)
        page.wait_for_selector("text=envlock: weather-analysis · in-sync", timeout=120_000)
        page.wait_for_timeout(2000)
        page.evaluate(SCROLL_TO_PLOT)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUTPUT))
        browser.close()


def main() -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_envlock",
            "sync",
            "--project",
            str(EXAMPLES / "weather-analysis"),
        ],
        check=True,
    )
    port, token = free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="envlock-shot-") as tmp:
        home = Path(tmp)
        (home / "config" / "labconfig").mkdir(parents=True)
        (home / "config" / "labconfig" / "page_config.json").write_text(
            '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}'
        )
        env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={EXAMPLES}",
                f"--LabApp.workspaces_dir={home / 'workspaces'}",
                "--LabApp.expose_app_in_browser=True",
                "--ServerApp.allow_root=True",
                # the repository's own examples: no trust step to click through for a picture
                "--EnvlockApp.trust_all_projects=True",
            ],  # fmt: skip
            env=env,
        )
        base_url = f"http://127.0.0.1:{port}/"
        try:
            wait_for_server(f"{base_url}api/status?token={token}", server)
            shoot(base_url, token)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
