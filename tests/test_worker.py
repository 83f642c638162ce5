"""The warm worker behind %dep: `python -m jupyter_envlock.worker`, alone and in real kernels.

Alone: it answers as the CLI does (same JSON documents, same exit codes), keeps going after errors
and interrupts, and exits on EOF. In a kernel: started after the first cell (never during kernel
start), one process for consecutive commands, replaced when it is killed, gone with the kernel.

The speed of `%dep add` next to `uv add` is measured in benchmarks/bench.py, not here.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from kernel_support import (
    copy_project,
    execute,
    open_kernel,
    start_session,
    value,
    wait_for,
)
from support.cli import run_envlock, source_env
from support.server_config import kernel_world_root_dir as jp_root_dir  # noqa: F401 -- a fixture

from jupyter_envlock import cli, worker
from jupyter_envlock.cli.commands import Result
from jupyter_envlock.kernel_launch import server_python

# ------------------------------------------------------------------ the worker alone


class WorkerProcess:
    """`python -m jupyter_envlock.worker` as a kernel starts it (its project in the environment),
    spoken to line by line."""

    def __init__(self, project: Path) -> None:
        env = source_env()
        env["JUPYTER_ENVLOCK_PROJECT"] = str(project)
        self.proc = subprocess.Popen(
            server_python("jupyter_envlock.worker"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=project,
            env=env,
        )

    def send(self, raw: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(raw)
        self.proc.stdin.flush()

    def request(self, line: str) -> tuple[list[str], Any, int]:
        """(progress lines, result document, exit code) of one %dep line."""
        self.send(json.dumps({"line": line}).encode() + b"\n")
        return self.answer()

    def answer(self) -> tuple[list[str], Any, int]:
        assert self.proc.stdout is not None
        progress = []
        while True:
            line = self.proc.stdout.readline()
            assert line, f"worker ended: {self.proc.stderr.read().decode()}"  # type: ignore[union-attr]
            message = json.loads(line)
            if "progress" in message:
                assert message["progress"]["phase"] and message["progress"]["message"]
                progress.append(message["line"])
            else:
                assert set(message) == {"result", "exit_code", "text", "html"}, message
                return progress, message["result"], message["exit_code"]

    def close(self, timeout: float = 10) -> int:
        """EOF on stdin; the exit code. What it still writes stays readable on `rest`."""
        self.rest, _ = self.proc.communicate(timeout=timeout)  # EOF, then closes the pipes
        return self.proc.returncode


def cli_json(*argv: str, cwd: Path) -> tuple[Any, int]:
    proc = run_envlock(*argv, cwd=cwd, env=source_env())
    return proc.json(), proc.returncode


def without_paths(document: Any, *paths: str) -> Any:
    text = json.dumps(document)
    for n, path in enumerate(paths):
        text = text.replace(json.dumps(path)[1:-1], f"<path{n}>")
    return json.loads(text)


@pytest.mark.slow
def test_worker_answers_as_the_cli_does(envlock_env, make_project):
    by_worker = make_project("wk", deps=["tinya"], folder="by-worker")
    by_cli = make_project("wk", deps=["tinya"], folder="by-cli")
    cli_json("sync", "--project", str(by_cli), "--json", cwd=by_cli)
    w = WorkerProcess(by_worker)
    try:
        w.request("sync")

        progress, added, code = w.request("add tinyd")
        assert code == 0
        assert any("resolve" in line for line in progress), progress
        assert any("install" in line for line in progress), progress
        expected, cli_code = cli_json(
            "add", "--project", str(by_cli), "--json", "--", "tinyd", cwd=by_cli
        )
        assert cli_code == 0
        assert {"name": "tinyd", "old": None, "new": "1.1.0", "kind": "added"} in added["changes"]
        assert without_paths(added, added["env"]["path"], str(by_worker)) == without_paths(
            expected, expected["env"]["path"], str(by_cli)
        )

        for command in ("list", "status"):
            _, answer, code = w.request(command)
            same, cli_code = cli_json(command, "--project", str(by_worker), "--json", cwd=by_cli)
            assert (answer, code) == (same, cli_code) and code == 0

        # a user error: the CLI's error document and exit code, and the worker carries on
        _, error, code = w.request("remove nope")
        same, cli_code = cli_json(
            "remove", "--project", str(by_worker), "--json", "--", "nope", cwd=by_cli
        )
        assert (error, code) == (same, cli_code)
        assert code == 2 and error["error"]["type"] == "NotADependency"
        _, bad, code = w.request("add '((('")
        assert code == 2 and bad["error"]["type"] == "RequirementError"
        # the kernel's own project only
        _, other, code = w.request(f"list --project {by_cli}")
        assert code == 2 and "--project is not accepted" in other["error"]["message"]
        _, listing, code = w.request("list")
        assert code == 0
        assert [d["name"] for d in listing["dependencies"]] == ["tinya", "tinyd"]
        assert w.proc.poll() is None
    finally:
        assert w.close() == 0  # EOF on stdin: it exits, cleanly


def test_worker_survives_misuse_and_interrupts_and_exits_on_eof(tmp_path):
    w = WorkerProcess(tmp_path)  # no pyproject.toml there
    try:
        w.send(b"not json\n\n")  # the blank line is skipped, not answered
        _, doc, code = w.answer()
        assert code == 2 and "Not a JSON request" in doc["error"]["message"]
        w.send(b"{}\n")
        _, doc, code = w.answer()
        assert code == 2 and "with a string" in doc["error"]["message"]
        _, doc, code = w.request("kernels install")
        assert code == 2 and "invalid choice: 'kernels'" in doc["error"]["message"]
        _, doc, code = w.request("add")  # argparse
        assert code == 2 and "required: SPEC" in doc["error"]["message"]
        os.kill(w.proc.pid, signal.SIGINT)  # between requests: nothing to stop
        time.sleep(0.2)
        _, doc, code = w.request("list")
        assert code == 2 and doc["error"]["type"] == "ProjectNotFound"
    finally:
        assert w.close() == 0
    assert w.rest == b""


def run_worker(lines: list[bytes]) -> list[dict]:
    channel = io.BytesIO()
    assert worker.Worker(io.BytesIO(b"".join(lines)), channel, "p").serve() == 0
    return [json.loads(line) for line in channel.getvalue().splitlines()]


def test_unexpected_errors_and_interrupts_become_documents(monkeypatch, capsys):
    calls = []

    def dispatch(args: Any, progress: Any = None) -> Result:
        calls.append(args.command)
        if args.command == "status":
            raise RuntimeError("boom")
        if args.command == "sync":
            raise KeyboardInterrupt
        if args.command == "lock":
            return Result({"not json": object()}, "")
        print("stray output")  # must not reach the protocol channel
        return Result({"ok": True}, "ok")

    monkeypatch.setattr(cli, "dispatch", dispatch)
    request = [json.dumps({"line": c}).encode() + b"\n" for c in ("status", "sync", "lock", "list")]
    answers = run_worker(request)
    assert calls == ["status", "sync", "lock", "list"]
    assert answers[0]["exit_code"] == 1
    assert answers[0]["result"]["error"]["message"] == (
        "jupyter_envlock failed unexpectedly: RuntimeError('boom')"
    )
    assert "Traceback" in answers[0]["result"]["error"]["details"]
    assert answers[1]["result"] == {
        "error": {"type": "Interrupted", "message": "interrupted", "details": ""}
    }
    assert answers[1]["exit_code"] == 130
    assert answers[2]["exit_code"] == 1
    assert "not JSON" in answers[2]["result"]["error"]["message"]
    assert answers[3] == {"result": {"ok": True}, "exit_code": 0, "text": "ok", "html": None}
    assert "stray output" in capsys.readouterr().err


# ------------------------------------------------------------------ in a kernel


def kernel_children(pid: int) -> dict[int, str]:
    """pid -> command line of the processes whose parent is `pid` (Linux /proc)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            children[int(entry.name)] = cmdline
    return children


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


async def debug_worker(client: Any) -> dict[str, Any]:
    run = await execute(client, "%dep --debug-worker")
    assert run.ok, run.error or run.text
    return json.loads(run.stdout)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
async def test_one_warm_worker_per_kernel_replaced_when_killed(jp_fetch, jp_serverapp, kernel_env):
    name = "worker-kernel"
    project = copy_project(kernel_env.project, kernel_env.root / name, name=name)
    jp_serverapp.kernel_spec_manager.refresh()
    code, model = await start_session(jp_fetch, f"{name}/nb.ipynb", f"envlock-{name}")
    assert code == 201, model
    kernel_id = model["kernel"]["id"]
    km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        kernel_pid = km.provisioner.process.pid
        # kernel start leaves it alone, and so does the first cell until it has finished
        assert not any("jupyter_envlock.worker" in c for c in kernel_children(kernel_pid).values())
        first = await debug_worker(client)
        assert first["pid"] is None and first["starts"] == 0

        # ... after which it starts in the background, for the first %dep to find it warm
        async def started() -> dict[str, Any]:
            state = await debug_worker(client)
            return state if state["alive"] else {}

        state: dict[str, Any] = {}
        for _ in range(100):
            state = await started()
            if state:
                break
        assert state and state["starts"] == 1, state
        pid = state["pid"]
        assert "jupyter_envlock.worker" in kernel_children(kernel_pid)[pid]

        for spec in ("tinyd", "mixed-case-name"):
            run = await execute(client, f"%dep add {spec}")
            assert run.ok, run.error or run.text
            assert "resolve" in run.text  # progress, streamed from the worker (a display line)
            state = await debug_worker(client)
            assert (state["pid"], state["starts"], state["disabled"]) == (pid, 1, False)
        assert await value(client, "__import__('tinyd').__name__") == "tinyd"

        os.kill(pid, signal.SIGKILL)
        await wait_for(lambda: not running(pid))
        run = await execute(client, "%dep remove tinyd")
        assert run.ok, run.error or run.text
        assert "tinyd" not in (project / "pyproject.toml").read_text()
        state = await debug_worker(client)
        assert state["pid"] != pid and state["alive"] and state["starts"] == 2, state
        assert not state["disabled"]
        # an error from the worker reads as from the CLI: one UsageError, no traceback
        bad = await execute(client, "%dep add 'not a valid spec ((('")
        assert bad.error["ename"] == "UsageError" and "not a valid spec" in bad.stderr
        assert (await debug_worker(client))["pid"] == state["pid"]
        worker_pid = state["pid"]
    finally:
        client.stop_channels()
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    await wait_for(lambda: not running(worker_pid), timeout=30)  # EOF: gone with its kernel


@pytest.mark.slow
async def test_interrupted_dep_rolls_back_and_the_worker_carries_on(
    jp_fetch, jp_serverapp, kernel_env
):
    """An index that accepts connections and never answers holds `%dep add` in uv until the
    user interrupts; the interrupt reaches the worker's command, which rolls back and answers."""
    name = "worker-interrupt"
    project = copy_project(kernel_env.project, kernel_env.root / name, name=name)
    jp_serverapp.kernel_spec_manager.refresh()
    manifest = (project / "pyproject.toml").read_bytes()
    code, model = await start_session(jp_fetch, f"{name}/nb.ipynb", f"envlock-{name}")
    assert code == 201, model
    km = jp_serverapp.kernel_manager.get_kernel(model["kernel"]["id"])
    client = km.client()
    client.start_channels()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/simple"
        try:
            await client.wait_for_ready(timeout=60)
            assert (await execute(client, "%dep list")).ok
            before = await debug_worker(client)
            # a changed environment gets a worker of its own (the old one served another)
            assert (
                await execute(client, f"import os; os.environ['UV_DEFAULT_INDEX'] = {url!r}")
            ).ok
            task = asyncio.ensure_future(execute(client, "%dep add tinyd", timeout=60))
            await asyncio.sleep(2)
            assert not task.done()
            started = time.monotonic()
            await km.interrupt_kernel()
            run = await task
            assert time.monotonic() - started < 20  # the command stopped, no 30 s timeout
            assert run.error and run.error["ename"] == "KeyboardInterrupt", run.error or run.text
            assert (project / "pyproject.toml").read_bytes() == manifest
            state = await debug_worker(client)
            assert state["pid"] != before["pid"] and state["usable"], state
            assert state["starts"] == before["starts"] + 1
            listing = await execute(client, "%dep list")  # same worker, still in step
            assert listing.ok and "tinya" in listing.text and "tinyd" not in listing.text
            assert (await debug_worker(client))["pid"] == state["pid"]
        finally:
            client.stop_channels()


@pytest.mark.slow
async def test_a_worker_that_keeps_dying_falls_back_to_a_process_per_command(
    jp_fetch, jp_serverapp, kernel_env
):
    client = await open_kernel(
        jp_fetch, jp_serverapp, "shared-demo/w.ipynb", kernel_env.kernel_name
    )
    try:
        broken = (
            "import sys, envlock_kernel.transport as t; "
            "t.WORKER_OVERRIDE = [sys.executable, '-c', 'pass']"
        )
        assert (await execute(client, broken)).ok  # the first cell: no worker started yet
        listing = await execute(client, "%dep list")
        assert listing.ok and "tinya" in listing.text, listing.error or listing.text
        state = await debug_worker(client)
        assert state["disabled"] and not state["usable"], state
        assert state["starts"] == 2  # one worker (in the background or not), one restart
        status = await execute(client, "%dep status")  # straight to a process of its own
        assert status.ok and "in-sync" in status.text
        assert (await debug_worker(client))["starts"] == 2
    finally:
        client.stop_channels()
