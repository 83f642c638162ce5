"""How this kernel reaches the server side of %dep: a warm worker in the server's Python.

`<server python> -m jupyter_envlock.worker` (the exact argv is in JUPYTER_ENVLOCK_SERVER_COMMAND,
set by the provisioner), started once per kernel: in the background after the first cell has run,
or by the first %dep if that comes first; never while the kernel starts. It runs one request at a
time and exits when this kernel does (EOF on its stdin). A worker that died is restarted once;
failing that, each command gets a worker process of its own (one request, then EOF).

The words of a magic line travel unparsed; what comes back is the answer to display.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

ENV_PROJECT = "JUPYTER_ENVLOCK_PROJECT"
ENV_SERVER_COMMAND = "JUPYTER_ENVLOCK_SERVER_COMMAND"
ENV_SERVER_PYTHONPATH = "JUPYTER_ENVLOCK_SERVER_PYTHONPATH"
INTERRUPT_GRACE = 30  # seconds an interrupted command gets to roll back before it is killed

# The warm worker's argv, when not the server's (a test points it at a process that dies).
WORKER_OVERRIDE: list[str] | None = None

Progress = Callable[[dict[str, Any], str], None]  # (event, its line)


class TransportError(Exception):
    """The server side could not be reached; the message is for the user."""


class WorkerGone(Exception):
    """The worker ended, or its pipe broke, before it answered."""


def server_command() -> list[str]:
    """The worker's argv, from the environment the provisioner gave this kernel."""
    raw = os.environ.get(ENV_SERVER_COMMAND)
    try:
        command = json.loads(raw) if raw else None
    except ValueError:
        command = None
    if not os.environ.get(ENV_PROJECT) or not isinstance(command, list) or not command:
        raise TransportError(
            "%dep only works in a project kernel started by jupyter-envlock "
            "(kernel names envlock-...); this kernel has no project."
        )
    return [str(part) for part in command]


def subprocess_env() -> dict[str, str]:
    """The worker's environment: this kernel's, as the server's Python needs it."""
    env = dict(os.environ)
    server_path = env.get(ENV_SERVER_PYTHONPATH)
    if server_path:
        env["PYTHONPATH"] = server_path
    else:
        env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)  # the server's Python is not this env's
    # ipykernel sets FORCE_COLOR for `!cmd`; uv would then color the lines envlock parses.
    for key in ("FORCE_COLOR", "CLICOLOR_FORCE"):
        env.pop(key, None)
    env["NO_COLOR"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


class Worker:
    """One worker process, and the requests it answers."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.key = (tuple(command), tuple(sorted(env.items())))  # what it was started for
        # Its own session: an interrupt meant for a cell must not reach it (and end it between
        # requests); an interrupted %dep forwards the signal (_interrupt).
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=env.get(ENV_PROJECT),
            start_new_session=os.name != "nt",
        )
        self.usable = True
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        for target in (self._read_stdout, self._read_stderr):
            threading.Thread(target=target, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        try:
            for raw in self.proc.stdout:
                self.lines.put(raw)
        except (OSError, ValueError):
            pass
        finally:
            self.proc.stdout.close()
        self.lines.put(None)

    def _read_stderr(self) -> None:  # drained so the worker never blocks on it
        assert self.proc.stderr is not None
        try:
            for raw in self.proc.stderr:
                self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip())
        except (OSError, ValueError):
            pass
        finally:
            self.proc.stderr.close()

    def serves(self, key: object) -> bool:
        return self.usable and self.key == key and self.proc.poll() is None

    def retire(self) -> None:
        """No more requests: its stdin closes, so it exits once done with what it is doing."""
        self.usable = False
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass

    def _next(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message; None at EOF. Waits in short slices so an interrupt gets through."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            if wait <= 0:
                raise queue.Empty
            try:
                raw = self.lines.get(timeout=wait)
            except queue.Empty:
                continue
            if raw is None:
                return None
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if isinstance(message, dict):
                return message

    def _interrupt(self) -> None:
        if os.name == "nt":
            return  # no signal to forward; it gets the grace period, then is killed
        try:
            os.killpg(self.proc.pid, signal.SIGINT)  # the worker and its uv, as a cell's ^C
        except OSError:
            pass

    def request(
        self, payload: dict[str, Any], on_progress: Progress, started: Callable[[], None]
    ) -> dict:
        """The answer to one request (a magic line, a missing import); progress passed on as it
        comes. Raises WorkerGone when the worker is not there to answer."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(payload).encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            self.retire()
            raise WorkerGone() from None
        answered = False
        try:
            started()
            while True:
                message = self._next()
                if message is None:
                    raise WorkerGone()
                if "progress" in message:
                    on_progress(message.get("progress") or {}, str(message.get("line") or ""))
                elif "result" in message:
                    answered = True
                    return message
        except KeyboardInterrupt:
            self._interrupt()
            deadline = time.monotonic() + INTERRUPT_GRACE
            try:
                while True:  # let the command roll back, as a process of its own would
                    message = self._next(timeout=deadline - time.monotonic())
                    if message is None or "result" in message:
                        answered = message is not None
                        break
            except queue.Empty:
                self.proc.kill()
            raise
        finally:
            if not answered:  # whatever it says next would be taken for the next answer
                self.retire()


class Channel:
    """This kernel's way to the server side: the warm worker and its fallbacks."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # one request at a time; guards the fields below
        self.worker: Worker | None = None
        self.disabled = False  # a restarted worker failed too: one process per command
        self.starts = 0

    def _warm(self, command: list[str], env: dict[str, str]) -> Worker | None:
        """This kernel's worker for (command, env), started if need be. Lock held."""
        key = (tuple(command), tuple(sorted(env.items())))
        if self.worker is not None and not self.worker.serves(key):
            self.worker.retire()  # gone, or the environment it runs with changed
            self.worker = None
        if self.worker is None:
            try:
                self.worker = Worker(command, env)
            except OSError:
                return None
            self.starts += 1
        return self.worker

    def send(self, line: str, on_progress: Progress, started: Callable[[], None]) -> dict:
        """The answer to the magic `line`. `started` runs once the command is under way: it needs
        well over 100 ms before it touches the env, time enough for a snapshot of it."""
        return self.ask({"line": line, "cwd": _cwd()}, on_progress, started)

    def missing_import(self, module: str) -> dict:
        """The hint for a failed `import module` (its "result" is null when there is none)."""
        return self.ask({"missing_import": module, "cwd": _cwd()}, _no_progress, _nothing)

    def ask(
        self, payload: dict[str, Any], on_progress: Progress, started: Callable[[], None]
    ) -> dict:
        command, env = server_command(), subprocess_env()
        pending = [started]

        def once() -> None:
            while pending:
                pending.pop()()

        with self.lock:
            answer = self._in_warm_worker(
                WORKER_OVERRIDE or command, env, payload, on_progress, once
            )
            if answer is not None:
                return answer
            try:
                one_shot = Worker(command, env)
            except OSError as e:
                raise TransportError(
                    f"%dep could not start the Jupyter server's Python ({command[0]}): {e}"
                ) from None
            try:
                return one_shot.request(payload, on_progress, once)
            except WorkerGone:
                tail = "\n".join(one_shot.stderr_tail)
                raise TransportError(
                    "%dep: the Jupyter server's Python ended without answering"
                    + (":\n" + tail if tail else ".")
                ) from None
            finally:
                one_shot.retire()

    def _in_warm_worker(self, command, env, payload, on_progress, started):  # noqa: ANN001, ANN202
        """The answer from the warm worker, restarted once if it died (or its pipe broke); None
        when the restarted one failed too, and from then on."""
        if self.disabled:
            return None
        failures = 0
        while failures < 2:
            if self.worker is not None and self.worker.proc.poll() is not None:
                failures += 1  # died between requests (killed, say)
            worker = self._warm(command, env) if failures < 2 else None
            if worker is None:
                break
            try:
                return worker.request(payload, on_progress, started)
            except WorkerGone:
                failures += 1
                self.worker = None
        self.disabled = True
        return None

    def prestart(self) -> None:
        """Start the worker now, unless a %dep (which starts it) is already running."""
        try:
            command, env = WORKER_OVERRIDE or server_command(), subprocess_env()
        except TransportError:
            return
        with self.lock:
            if self.worker is None and not self.disabled:
                self._warm(command, env)

    def state(self) -> dict[str, Any]:
        """A snapshot for `%dep --debug-worker` (without the lock: it never waits)."""
        worker = self.worker
        alive = worker is not None and worker.proc.poll() is None
        return {
            "pid": worker.proc.pid if worker is not None else None,
            "alive": alive,
            "usable": bool(worker is not None and worker.usable and alive),
            "starts": self.starts,
            "disabled": self.disabled,
            "stderr": list(worker.stderr_tail) if worker is not None else [],
        }


def _cwd() -> str | None:
    """The kernel's folder: the notebook's, as the server started it there."""
    try:
        return os.getcwd()
    except OSError:
        return None


def _no_progress(event: dict[str, Any], line: str) -> None:
    """A request without progress."""


def _nothing() -> None:
    """Nothing to do once a request is under way."""


CHANNEL = Channel()
