"""`jupyter server` (or `jupyter lab`) as a process of its own, for the tests where signals,
process-wide state or a private mount namespace matter: it inherits ``os.environ`` (a sandbox's
or envlock_env's settings), listens on 127.0.0.1 with a token, and is killed at the end.

``tty=True`` gives it a pseudo-terminal as stdin, as in a terminal (jupyter_server asks "Shut down
this Jupyter server?" on Ctrl-C only then); ``prefix`` runs it under another command (for example
``unshare`` with a read-only bind mount, see ``private_mounts``); ``command`` replaces
``jupyter APP`` (another Python's ``python -m jupyter_server``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TOKEN = "secret"


class ServerProcess:
    def __init__(
        self,
        root: Path,
        log: Path,
        *options: str,
        app: str = "server",
        command: Sequence[str] | None = None,
        env: dict[str, str] | None = None,
        tty: bool = False,
        prefix: Sequence[str] = (),
        start_timeout: float = 90,
    ) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log_path = log
        self.log = log.open("w")
        self._tty: int | None = None
        stdin: int = subprocess.DEVNULL
        if tty:
            self._tty, stdin = os.openpty()
        start = command or [str(Path(sys.executable).with_name("jupyter")), app]
        argv = [*start, "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
                f"--IdentityProvider.token={TOKEN}", "--allow-root",
                f"--ServerApp.root_dir={root}", *options]  # fmt: skip
        self.proc = subprocess.Popen(
            [*prefix, *argv], stdout=self.log, stderr=subprocess.STDOUT, stdin=stdin, env=env
        )
        if tty:
            os.close(stdin)
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                self.request("GET", "/api/status")
                return
            except OSError:
                assert self.proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, dict]:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {TOKEN}"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=180) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            with e:
                return e.code, json.loads(e.read() or b"{}")

    def start_session(self, rel: str, kernel_name: str) -> tuple[int, dict]:
        """What JupyterLab does when it opens `rel/x.ipynb` naming `kernel_name`."""
        model = {"path": f"{rel}/x.ipynb", "type": "notebook", "kernel": {"name": kernel_name}}
        return self.request("POST", "/api/sessions", model)

    def stops_on(self, sig: signal.Signals, within: float, times: int = 1) -> bool:
        """Send `sig` (`times` times, a second apart: Ctrl-C twice skips the question)."""
        for n in range(times):
            if n:
                time.sleep(1)
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=within)
            return True
        except subprocess.TimeoutExpired:
            return False

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if self._tty is not None:
            os.close(self._tty)
            self._tty = None


def private_mounts(script: str) -> list[str] | None:
    """A command prefix running the rest of the command line in a private mount namespace after
    `script` (shell: mount commands), so a read-only bind or a small tmpfs is seen by that process
    tree only; None where the machine does not allow it (no unshare, no user namespaces)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    probe = subprocess.run([unshare, "--user", "--map-root-user", "--mount", "true"],
                           capture_output=True)  # fmt: skip
    if probe.returncode != 0:
        return None
    return [unshare, "--user", "--map-root-user", "--mount", "sh", "-ec",
            f'{script}\nexec "$@"', "private-mounts"]  # fmt: skip
