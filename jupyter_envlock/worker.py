"""`python -m jupyter_envlock.worker`: the server side of one kernel's %dep magics, kept warm.

Starting the server's Python and importing envlock costs ~170 ms, paid by every %dep command when
each one is a new process. A project kernel instead starts this worker once (in the server's
Python, with the kernel's environment: `JUPYTER_ENVLOCK_PROJECT` names the kernel's project) and
sends it magic lines, one JSON request per line on stdin:

    {"line": "add pandas 'scikit-learn>=1.5'", "cwd": "/the/kernel's/folder"}
    {"missing_import": "sklearn", "cwd": "/the/kernel's/folder"}

A line is answered by `cli.magic.answer` (the CLI's parser, handlers and error mapping); a
missing import (a cell failed with "No module named X") by `cli.magic.missing_import`, whose
result is the hint to show, or null. `cwd` (optional) is where the notebook is. Progress
comes back as `{"progress": {...event...}, "line": "TEXT"}` lines, then one
`{"result": DOCUMENT, "exit_code": N, "text": TEXT, "html": HTML-or-null}` line. Requests are
handled one at a time, in order; the worker exits on stdin EOF (so it ends with its kernel, and a
kernel that cannot keep a worker runs one per command: a request, then EOF).

Nothing kills it silently: an unexpected exception becomes an error answer (exit code 1). Only
the protocol is written on stdout: whatever else would reach it (a stray print, a child process)
goes to stderr instead. SIGINT interrupts the running request (the kernel forwards a user's
interrupt) and is ignored between requests.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
import traceback
from typing import IO, Any

from .cli import Outcome, error_outcome, progress_line
from .core.errors import EnvlockError, UserError
from .core.progress import ProgressEvent
from .kernel_launch import ENV_PROJECT


class Worker:
    """Serves requests from `requests` (binary lines) for `project`, answering on `channel`."""

    def __init__(self, requests: IO[bytes], channel: IO[bytes], project: str) -> None:
        self.requests = requests
        self.channel = channel
        self.project = project
        self.busy = False

    def send(self, message: dict[str, Any]) -> None:
        self.channel.write(json.dumps(message).encode("ascii") + b"\n")
        self.channel.flush()

    def on_sigint(self, signum: int, frame: object) -> None:
        # One interrupt per request stops the command (which rolls back); more of them, or
        # one between requests, have nothing left to stop and must not end the worker.
        if self.busy:
            self.busy = False
            raise KeyboardInterrupt

    def serve(self) -> int:
        while True:
            line = self.requests.readline()
            if not line:
                return 0  # EOF: the kernel is gone (or done with us)
            if not line.strip():
                continue
            outcome = self.answer(line)
            message = _as_message(outcome)
            try:
                json.dumps(message)
            except (TypeError, ValueError) as e:  # a bug, but an answer all the same
                error = EnvlockError(f"jupyter_envlock answered what is not JSON: {e}")
                message = _as_message(error_outcome(error, False))
            try:
                self.send(message)
            except (BrokenPipeError, ValueError):  # nobody is listening any more
                return 0

    def answer(self, raw: bytes) -> Outcome:
        """The outcome of one request line; never raises."""
        from .cli import magic

        captured = io.StringIO()
        try:
            self.busy = True  # first thing in the try: an interrupt from here on is answered
            request = _request(raw)
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                if "missing_import" in request:
                    return magic.missing_import(
                        request["missing_import"], self.project, request["cwd"]
                    )
                return magic.answer(request["line"], self.project, self.progress, request["cwd"])
        except EnvlockError as e:  # a request this worker does not serve
            return error_outcome(e, False)
        except KeyboardInterrupt:  # outside the command's own handling (parsing, say)
            error = {"type": "Interrupted", "message": "interrupted", "details": ""}
            return Outcome(130, {"error": error}, "interrupted", False)
        except Exception as e:
            failure = EnvlockError(
                f"jupyter_envlock failed unexpectedly: {e!r}", traceback.format_exc()
            )
            return error_outcome(failure, False)
        finally:
            self.busy = False
            stray = captured.getvalue()
            if stray:  # not for the kernel, but not lost either
                sys.stderr.write(stray)
                sys.stderr.flush()

    def progress(self, event: ProgressEvent) -> None:
        try:
            self.send({"progress": event.to_dict(), "line": progress_line(event)})
        except (BrokenPipeError, ValueError):
            pass  # the kernel is gone; the command finishes (or rolls back) on its own


def _as_message(outcome: Outcome) -> dict[str, Any]:
    return {
        "result": outcome.document,
        "exit_code": outcome.exit_code,
        "text": outcome.text,
        "html": outcome.html,
    }


def _request(raw: bytes) -> dict[str, Any]:
    """{"line": str} or {"missing_import": str}, each with an optional "cwd": str."""
    try:
        request = json.loads(raw)
    except ValueError as e:
        raise UserError(f"Not a JSON request: {e}") from None
    if not isinstance(request, dict):
        request = {}
    cwd = request.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise UserError('A request\'s "cwd" is a string.')
    module = request.get("missing_import")
    if isinstance(module, str):
        return {"missing_import": module, "cwd": cwd}
    line = request.get("line")
    if not isinstance(line, str):
        raise UserError('A request is {"line": "%dep words"} with a string.')
    return {"line": line, "cwd": cwd}


def main() -> int:
    project = os.environ.get(ENV_PROJECT)
    if not project:
        print(f"jupyter_envlock.worker: {ENV_PROJECT} names no project", file=sys.stderr)
        return 2
    # The protocol gets a private copy of stdout; fd 1 itself now leads to stderr.
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    worker = Worker(sys.stdin.buffer, channel, project)
    signal.signal(signal.SIGINT, worker.on_sigint)
    return worker.serve()


if __name__ == "__main__":
    raise SystemExit(main())
