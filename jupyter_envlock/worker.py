"""`python -m jupyter_envlock.worker`: the CLI kept warm for one kernel's %dep magics.

Starting the server's Python and importing the CLI costs ~170 ms, paid by every %dep command when
each one is a new process. A project kernel instead starts this worker once and sends it command
lines, one JSON request per line on stdin:

    {"argv": ["add", "--project", "/p", "--json", "--", "tinyd"]}

Each runs in this process through the CLI's own path (`cli.execute`: same parser, same error
mapping and exit codes, same JSON document). Progress comes back as `{"progress": "LINE"}` lines,
then one `{"result": DOCUMENT, "exit_code": N}` line. Requests are handled one at a time, in order.

The worker exits on stdin EOF, so it ends with the kernel that holds the other end of the pipe.
Nothing kills it silently: an unexpected exception becomes an error document (exit code 1), a
misused command line one with exit code 2. Only the protocol is written on stdout: whatever else
would reach it (a stray print, a child process) goes to stderr instead. SIGINT interrupts the
running request (the kernel forwards a user's interrupt) and is ignored between requests.
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

from . import cli
from .core.errors import EnvlockError, UserError
from .core.progress import ProgressEvent

# What a kernel may ask for. `kernels run` would replace this process with a kernel; the rest of
# `kernels` manages kernel specs, nothing a project kernel does.
COMMANDS = frozenset({"add", "remove", "lock", "sync", "status", "list", "python", "export"})


class Worker:
    """Serves requests from `requests` (binary lines) and answers on `channel` (binary)."""

    def __init__(self, requests: IO[bytes], channel: IO[bytes]) -> None:
        self.requests = requests
        self.channel = channel
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
            code, document = self.answer(line)
            try:
                json.dumps(document)
            except (TypeError, ValueError) as e:  # a bug, but an answer all the same
                error = EnvlockError(f"jupyter_envlock answered what is not JSON: {e}")
                code, document = error.exit_code, {"error": error.to_dict()}
            try:
                self.send({"result": document, "exit_code": code})
            except (BrokenPipeError, ValueError):  # nobody is listening any more
                return 0

    def answer(self, line: bytes) -> tuple[int, object]:
        """(exit code, JSON document) for one request line; never raises."""
        captured = io.StringIO()
        try:
            self.busy = True  # first thing in the try: an interrupt from here on is answered
            argv = _argv(line)
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                outcome = cli.execute(argv, self.progress)
            return outcome.exit_code, outcome.document
        except EnvlockError as e:  # a request this worker does not serve
            return e.exit_code, {"error": e.to_dict()}
        except SystemExit as e:  # argparse's misuse message (or --help, --version)
            said = captured.getvalue().strip()
            captured.truncate(0)  # said in the answer, not stray
            if e.code in (0, None):
                return 0, {"output": said}
            error = UserError(said.splitlines()[-1] if said else "invalid command line", said)
            return error.exit_code, {"error": error.to_dict()}
        except KeyboardInterrupt:  # outside the command's own handling (parsing, say)
            return 130, {"error": {"type": "Interrupted", "message": "interrupted", "details": ""}}
        except Exception as e:
            error = EnvlockError(
                f"jupyter_envlock failed unexpectedly: {e!r}", traceback.format_exc()
            )
            return error.exit_code, {"error": error.to_dict()}
        finally:
            self.busy = False
            stray = captured.getvalue()
            if stray:  # not for the kernel, but not lost either
                sys.stderr.write(stray)
                sys.stderr.flush()

    def progress(self, event: ProgressEvent) -> None:
        try:
            self.send({"progress": cli.progress_line(event)})
        except (BrokenPipeError, ValueError):
            pass  # the kernel is gone; the command finishes (or rolls back) on its own


def _argv(line: bytes) -> list[str]:
    try:
        request = json.loads(line)
    except ValueError as e:
        raise UserError(f"Not a JSON request: {e}") from None
    argv = request.get("argv") if isinstance(request, dict) else None
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise UserError('A request is {"argv": ["COMMAND", ...]} with a non-empty list of strings.')
    if argv[0] not in COMMANDS:
        raise UserError(
            f"The worker does not run {argv[0]!r}; it runs: {', '.join(sorted(COMMANDS))}."
        )
    return argv


def main() -> int:
    # The protocol gets a private copy of stdout; fd 1 itself now leads to stderr.
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    worker = Worker(sys.stdin.buffer, channel)
    signal.signal(signal.SIGINT, worker.on_sigint)
    return worker.serve()


if __name__ == "__main__":
    raise SystemExit(main())
