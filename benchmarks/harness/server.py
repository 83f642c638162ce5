"""A real `jupyter server` process over a root of projects, asked over HTTP with its token."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from .kernels import rss
from .world import World, free_port, jupyter_env


def make_projects(root: Path, start: int, stop: int) -> None:
    """Small projects p{start}..p{stop-1} (no lock, no env: the cheapest a scan can meet)."""
    for n in range(start, stop):
        folder = root / f"p{n:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pyproject.toml").write_text(
            f'[project]\nname = "proj-{n:04d}"\nversion = "0.1.0"\ndependencies = []\n'
        )


class JupyterServer:
    """`python -m jupyter_server` over `root`, with or without the envlock extension."""

    def __init__(self, world: World, root: Path, extension: bool = True) -> None:
        self.world = world
        self.root = root
        self.extension = extension
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> JupyterServer:
        env = self.world.env(**jupyter_env(self.world.work))
        flag = "True" if self.extension else "False"
        argv = [
            sys.executable, "-m", "jupyter_server", f"--ServerApp.root_dir={self.root}",
            f"--ServerApp.port={self.port}", "--ServerApp.open_browser=False",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.jpserver_extensions={{'jupyter_envlock': {flag}}}",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--allow-root")  # containers and CI runners often run as root
        self.log = Path(env["JUPYTER_RUNTIME_DIR"]) / "server.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                self.get("/api/status")
                return self
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.__exit__(None, None, None)
                    raise RuntimeError(self.log.read_text()[-3000:]) from None
                time.sleep(0.1)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def get(self, path: str) -> bytes:
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - 127.0.0.1
            return response.read()

    def timed_get(self, path: str) -> tuple[float, bytes]:
        start = time.perf_counter()
        body = self.get(path)
        return time.perf_counter() - start, body

    @property
    def rss(self) -> int:
        assert self.proc is not None
        return rss(self.proc.pid)
