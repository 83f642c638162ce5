"""The %dep magics: change a project's dependencies from inside its running kernel.

`%dep add pandas "scikit-learn>=1.5"` edits pyproject.toml, re-locks and installs the difference
into this kernel's env; the next cell can import the package. The work is done by the *server's*
Python (`<server python> -m jupyter_envlock <cmd> --project P --json -- ARGS`), whose path the
provisioner puts in JUPYTER_ENVLOCK_SERVER_PYTHON, so jupyter_envlock never has to be installed in
the project env. It runs as an argument list (never a shell), with `--` before user arguments so
none can be taken for an option; the core serializes concurrent calls with a per-project lock.

Starting that Python and importing the CLI costs ~170 ms, so the same command lines go to a warm
worker (`<server python> -m jupyter_envlock.worker`, same environment and folder), started once per
kernel: in the background after the first cell has run, or by the first %dep if that comes first;
never while the kernel starts. It runs one request at a time and exits when this kernel does (EOF
on its stdin). A worker that died is restarted once; failing that, the command runs as its own
process as before.

Standard library + IPython only; must parse on Python 3.10 (the oldest env Python).
"""

import argparse
import collections
import html
import importlib
import importlib.metadata
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import sysconfig
import threading
import time

from IPython.core.error import UsageError
from IPython.display import display

ENV_PROJECT = "JUPYTER_ENVLOCK_PROJECT"
ENV_SERVER_PYTHON = "JUPYTER_ENVLOCK_SERVER_PYTHON"
ENV_SERVER_PYTHONPATH = "JUPYTER_ENVLOCK_SERVER_PYTHONPATH"
SYMBOLS = {"added": "+", "removed": "-", "upgraded": "↑", "downgraded": "↓"}

HELP = """\
%dep: manage this project's dependencies (pyproject.toml + pylock.toml + this kernel's env).

  %dep                          list direct dependencies with their locked versions
  %dep list                     the same
  %dep add SPEC... [--group G]  add requirements, re-lock, install into this kernel
  %dep remove NAME... [--group G]
                                remove direct dependencies, re-lock, uninstall
  %dep status                   manifest vs lock vs environment drift
  %dep sync                     make the env match the lock exactly
  %dep lock [--upgrade] [--upgrade-package NAME]
                                re-lock (keeps versions unless asked), then sync
  %dep --help                   this text

add/remove/lock also take --no-sync (only edit and lock). SPEC is a PEP 508 requirement,
e.g. "pandas>=2" (quote it when it holds < or >). The same commands exist in a terminal as
`jupyter envlock add|remove|list|status|sync|lock`.
"""

# pip options that consume the next argument (so it is not taken for a package name)
_PIP_VALUE_OPTIONS = frozenset(
    """-r --requirement -c --constraint -e --editable -i --index-url --extra-index-url
    -f --find-links -t --target --prefix --root --platform --python-version --implementation
    --abi --upgrade-strategy --progress-bar --src --no-binary --only-binary -C --config-settings
    --global-option --python --trusted-host --cert --client-cert --log --proxy --retries
    --timeout --exists-action --cache-dir --report --group""".split()
)


class DepError(Exception):
    """A message for the user; shown as one UsageError, never a traceback."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # noqa: ANN001, ANN201 - argparse's signature
        raise DepError("%dep: {}\n\n{}".format(message, HELP))

    def exit(self, status=0, message=None):  # noqa: ANN001, ANN201
        raise DepError(message or HELP)


def _parser():  # noqa: ANN202
    parser = _Parser(prog="%dep", add_help=False)
    parser.add_argument("-h", "--help", action="store_true")
    parser.add_argument("--debug-worker", action="store_true")  # not in HELP: for tests, bugs
    sub = parser.add_subparsers(dest="command")
    for name in ("add", "remove"):
        p = sub.add_parser(name, add_help=False)
        p.add_argument("items", nargs="*")
        p.add_argument("--group", "-g")
        p.add_argument("--no-sync", action="store_true")
        p.add_argument("-h", "--help", action="store_true")
    p = sub.add_parser("lock", add_help=False)
    p.add_argument("--upgrade", "-U", action="store_true")
    p.add_argument("--upgrade-package", "-P", action="append", default=[])
    p.add_argument("--no-sync", action="store_true")
    p.add_argument("-h", "--help", action="store_true")
    for name in ("list", "status", "sync", "help"):
        p = sub.add_parser(name, add_help=False)
        p.add_argument("-h", "--help", action="store_true")
    return parser


# ---------------------------------------------------------------- running the server's CLI


def _context():  # noqa: ANN202
    project = os.environ.get(ENV_PROJECT)
    python = os.environ.get(ENV_SERVER_PYTHON)
    if not project or not python:
        raise DepError(
            "%dep only works in a project kernel started by jupyter-envlock "
            "(kernel names envlock-...); this kernel has no project."
        )
    return project, python


def _subprocess_env():  # noqa: ANN202
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


def run_cli(command, options=(), positionals=(), echo=True, while_starting=None):  # noqa: ANN001, ANN201
    """Run `jupyter_envlock COMMAND --project P --json OPTIONS -- ARGS` in the server's Python:
    in this kernel's warm worker, else as a process of its own.

    Progress lines are printed as they come; the JSON document is returned. `while_starting`
    runs once the command is under way: it needs well over 100 ms (resolution, and imports for a
    new process) before it touches the env, time enough for a snapshot of the env that would
    otherwise add to the wait. An error document raises DepError with its message and details.
    """
    project, python = _context()
    args = [command, "--project", project, "--json"] + list(options)
    if positionals:
        args += ["--", *positionals]
    env = _subprocess_env()
    pending = [while_starting] if while_starting is not None else []

    def started():  # noqa: ANN202 - once, whichever way the command runs
        while pending:
            pending.pop()()

    with _worker_lock:
        answer = _run_in_worker(python, project, env, args, echo, started)
        if answer is None:
            answer = _run_process(python, project, env, args, echo, started)
    returncode, doc, out = answer
    if isinstance(doc, dict) and "error" in doc:
        err = doc["error"] or {}
        message = err.get("message") or "envlock failed"
        details = (err.get("details") or "").strip()
        raise DepError(message + ("\n\n" + details if details else ""))
    if returncode != 0 or not isinstance(doc, dict):
        raise DepError(
            "`jupyter envlock {}` failed (exit code {}){}".format(
                command, returncode, ":\n" + out[-2000:] if out else "."
            )
        )
    return doc


def _run_process(python, project, env, args, echo, started):  # noqa: ANN001, ANN202
    """The command as a process of its own: (exit code, JSON document or None, stdout)."""
    argv = [python, "-m", "jupyter_envlock", *args]
    try:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=project,
        )
    except OSError as e:
        raise DepError(
            "%dep could not run the Jupyter server's Python ({}): {}".format(python, e)
        ) from None
    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    started()
    try:
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if echo and line:
                print(line.strip(), flush=True)
        proc.wait()
    except KeyboardInterrupt:
        # The interrupt reached the whole process group; let the command finish its rollback.
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    reader.join()
    out = b"".join(chunks).decode("utf-8", "replace").strip()
    try:
        doc = json.loads(out) if out else None
    except ValueError:
        doc = None
    return proc.returncode, doc, out


# ---------------------------------------------------------------- the warm worker

_WORKER = ("-m", "jupyter_envlock.worker")
_INTERRUPT_GRACE = 30  # seconds an interrupted command gets to roll back before it is killed
_worker_lock = threading.Lock()  # one request at a time; guards the three below
_worker = None
_worker_disabled = False  # a new worker failed too: commands run as their own processes
_worker_starts = 0


class _WorkerGone(Exception):
    """The worker ended, or its pipe broke, before it answered."""


class _Worker:
    """`<server python> -m jupyter_envlock.worker`, and the requests it answers."""

    def __init__(self, python, project, env):  # noqa: ANN001, ANN204
        self.key = (python, project, env)  # a worker serves only what it was started for
        # Its own session: an interrupt meant for a cell must not reach it (and end it between
        # requests); an interrupted %dep forwards the signal (_interrupt).
        self.proc = subprocess.Popen(
            [python, *_WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=project,
            start_new_session=os.name != "nt",
        )
        self.usable = True
        self.lines = queue.Queue()
        self.stderr_tail = collections.deque(maxlen=40)  # for --debug-worker
        for target in (self._read_stdout, self._read_stderr):
            threading.Thread(target=target, daemon=True).start()

    def _read_stdout(self):  # noqa: ANN202
        try:
            for raw in self.proc.stdout:
                self.lines.put(raw)
        except (OSError, ValueError):
            pass
        self.lines.put(None)

    def _read_stderr(self):  # noqa: ANN202 - drained so the worker never blocks on it
        try:
            for raw in self.proc.stderr:
                self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip())
        except (OSError, ValueError):
            pass

    def serves(self, key):  # noqa: ANN001, ANN202
        return self.usable and self.key == key and self.proc.poll() is None

    def retire(self):  # noqa: ANN202
        """No more requests: its stdin closes, so it exits once done with what it is doing."""
        self.usable = False
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def _next(self, timeout=None):  # noqa: ANN001, ANN202
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

    def _interrupt(self):  # noqa: ANN202
        if os.name == "nt":
            return  # no signal to forward; it gets the grace period, then is killed
        try:
            os.killpg(self.proc.pid, signal.SIGINT)  # the worker and its uv, as a cell's ^C
        except OSError:
            pass

    def request(self, args, echo, started):  # noqa: ANN001, ANN202
        """(exit code, document, document as text) for one command line; progress printed as
        it comes. Raises _WorkerGone when the worker is not there to answer."""
        try:
            self.proc.stdin.write(json.dumps({"argv": args}).encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            self.retire()
            raise _WorkerGone() from None
        answered = False
        try:
            started()
            while True:
                message = self._next()
                if message is None:
                    raise _WorkerGone()
                if "progress" in message:
                    if echo and message["progress"]:
                        print(str(message["progress"]).strip(), flush=True)
                elif "result" in message:
                    answered = True
                    code = message.get("exit_code")
                    result = message["result"]
                    return code if isinstance(code, int) else 1, result, json.dumps(result)
        except KeyboardInterrupt:
            self._interrupt()
            deadline = time.monotonic() + _INTERRUPT_GRACE
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


def _run_in_worker(python, project, env, args, echo, started):  # noqa: ANN001, ANN202
    """The command in the warm worker, restarted once if it died (or its pipe broke); None when
    the restarted one failed too, and from then on: commands run as processes of their own."""
    global _worker, _worker_disabled
    if _worker_disabled:
        return None
    failures = 0
    while True:
        if _worker is not None and _worker.proc.poll() is not None:
            failures += 1  # died between requests (killed, say)
        worker = _ensure_worker(python, project, env) if failures < 2 else None
        if worker is None:
            break
        try:
            return worker.request(args, echo, started)
        except _WorkerGone:
            failures += 1
            _worker = None
    _worker_disabled = True
    return None


def _ensure_worker(python, project, env):  # noqa: ANN001, ANN202
    """This kernel's worker for (python, project, env), started if need be; None if it cannot
    be. Call with _worker_lock held."""
    global _worker, _worker_starts
    key = (python, project, env)
    if _worker is not None and not _worker.serves(key):
        _worker.retire()  # gone, or the environment it runs with changed
        _worker = None
    if _worker is None:
        try:
            _worker = _Worker(python, project, env)
        except OSError:
            return None
        _worker_starts += 1
    return _worker


def _prestart_worker():  # noqa: ANN202
    """Start the worker now (in a background thread); after a %dep that is already running,
    which will have started it."""
    try:
        project, python = _context()
    except DepError:
        return
    with _worker_lock:
        try:
            if _worker is None and not _worker_disabled:
                _ensure_worker(python, project, _subprocess_env())
        except Exception:
            pass  # the first %dep starts one (or runs as a process of its own)


def _worker_state():  # noqa: ANN202 - a snapshot, without the lock: it never waits
    worker = _worker
    alive = worker is not None and worker.proc.poll() is None
    return {
        "pid": worker.proc.pid if worker is not None else None,
        "alive": alive,
        "usable": bool(worker is not None and worker.usable and alive),
        "starts": _worker_starts,
        "disabled": _worker_disabled,
        "stderr": list(worker.stderr_tail) if worker is not None else [],
    }


# ---------------------------------------------------------------- what is loaded in this kernel


def _top_level_modules():  # noqa: ANN202
    """Normalized distribution name -> the top-level modules it provides, from the env's
    metadata (computed before a change too, since a removed distribution loses its metadata)."""
    mapping = {}
    try:
        for module, dists in importlib.metadata.packages_distributions().items():
            for dist in dists:
                mapping.setdefault(_normalize(dist), set()).add(module)
    except Exception:
        pass
    return mapping


def _normalize(name):  # noqa: ANN001, ANN202
    return re.sub(r"[-_.]+", "-", name).lower()


def loaded_modules(changes, before, after):  # noqa: ANN001, ANN201
    """Changed or removed distributions whose modules are already imported here:
    [(dist name, kind, [modules])]."""
    stale = []
    for change in changes:
        if change.get("kind") == "added":
            continue
        name = _normalize(change["name"])
        modules = set(before.get(name, ())) | set(after.get(name, ()))
        if not modules:
            modules = {name.replace("-", "_")}
        imported = sorted(m for m in modules if m in sys.modules)
        if imported:
            stale.append((change["name"], change.get("kind", "changed"), imported))
    return stale


def _site_packages():  # noqa: ANN202
    try:
        return sysconfig.get_paths()["purelib"]
    except Exception:
        return None


def _pth_files(site_dir):  # noqa: ANN001, ANN202
    try:
        return {n for n in os.listdir(site_dir) if n.endswith(".pth")} if site_dir else set()
    except OSError:
        return set()


def _activate_new_pth(site_dir, before):  # noqa: ANN001, ANN202
    """New .pth files (editable installs, namespace packages) take effect without a restart."""
    import site

    for name in sorted(_pth_files(site_dir) - before):
        try:
            site.addpackage(site_dir, name, set(sys.path))
        except Exception:
            pass


# ---------------------------------------------------------------- rendering


def _table(headers, rows):  # noqa: ANN001, ANN202
    """(text/plain, text/html) of a small table; `headers` None for a key/value table."""
    columns = len(headers) if headers else len(rows[0]) if rows else 0
    widths = [len(h) for h in headers] if headers else [0] * columns
    for row in rows:
        widths = [max(w, len(str(c))) for w, c in zip(widths, row, strict=False)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    lines = (
        [fmt.format(*headers).rstrip(), fmt.format(*("-" * w for w in widths))] if headers else []
    )
    lines += [fmt.format(*(str(c) for c in row)).rstrip() for row in rows]
    cell = "<td style='text-align:left'>{}</td>"
    head = ""
    if headers:
        head = "<thead><tr>{}</tr></thead>".format(
            "".join("<th style='text-align:left'>{}</th>".format(html.escape(h)) for h in headers)
        )
    body = "".join(
        "<tr>{}</tr>".format("".join(cell.format(html.escape(str(c))) for c in row)) for row in rows
    )
    markup = "<table class='envlock-table'>{}<tbody>{}</tbody></table>".format(head, body)
    return "\n".join(lines), markup


def _show(text, markup=None):  # noqa: ANN001, ANN202
    if markup is None:
        print(text)
    else:
        display({"text/plain": text, "text/html": markup}, raw=True)


def render_changes(report):  # noqa: ANN001, ANN201
    """(text, html) for a ChangeReport: manifest edits, version changes, env summary."""
    notes = []
    for edit in report.get("edits") or []:
        kind = edit.get("kind")
        if kind == "added":
            notes.append("pyproject.toml: + {}".format(edit.get("new")))
        elif kind == "removed":
            notes.append("pyproject.toml: - {}".format(edit.get("old")))
        elif kind == "replaced":
            notes.append("pyproject.toml: {} -> {}".format(edit.get("old"), edit.get("new")))
    changes = report.get("changes") or []
    env = report.get("env")
    footer = []
    if not changes:
        footer.append("No locked version changed.")
    if env:
        if env.get("noop"):
            footer.append("Environment up to date.")
        else:
            footer.append(
                "Environment synced: {} installed, {} removed (Python {}).".format(
                    len(env.get("installed") or []),
                    len(env.get("removed") or []),
                    env.get("python"),
                )
            )
    rows = [
        (SYMBOLS.get(c["kind"], "?"), c["name"], c.get("old") or "", c.get("new") or "", c["kind"])
        for c in changes
    ]
    parts_text, parts_html = [], []
    if notes:
        parts_text.append("\n".join(notes))
        parts_html.append("<div>{}</div>".format("<br>".join(html.escape(n) for n in notes)))
    if rows:
        text, markup = _table(("", "package", "before", "after", "change"), rows)
        parts_text.append(text)
        parts_html.append(markup)
    if footer:
        parts_text.append(" ".join(footer))
        parts_html.append("<div>{}</div>".format(html.escape(" ".join(footer))))
    return "\n".join(parts_text), "".join(parts_html)


def render_list(deps):  # noqa: ANN001, ANN201
    if not deps:
        return "No direct dependencies. Add one with %dep add NAME.", None
    rows = [
        (d["requirement"], d.get("group") or "", d.get("locked") or "(not locked)") for d in deps
    ]
    return _table(("requirement", "group", "locked"), rows)


def render_status(status):  # noqa: ANN001, ANN201
    project = status.get("project") or {}
    rows = [
        ("project", "{} ({})".format(project.get("name"), project.get("path"))),
        ("kernel", project.get("kernel_name")),
        ("python", status.get("python") or "-"),
        ("environment", status.get("env_path") or "-"),
        ("lock", status.get("lock")),
        ("env", status.get("env")),
        ("state", status.get("state")),
    ]
    drift = status.get("drift") or {}
    for item in drift.get("missing") or []:
        rows.append(("missing", "{} {}".format(item["name"], item["locked"])))
    for item in drift.get("extra") or []:
        rows.append(("not in lock", "{} {}".format(item["name"], item["installed"])))
    for item in drift.get("changed") or []:
        rows.append(
            ("changed", "{} {} (lock: {})".format(item["name"], item["installed"], item["locked"]))
        )
    return _table(None, rows)


# ---------------------------------------------------------------- the magics


def _changing(command, options, positionals):  # noqa: ANN001, ANN202
    """Run a command that may change the env, then make this kernel see the change."""
    before = {}
    site_dir = _site_packages()
    pth_before = _pth_files(site_dir)
    report = run_cli(
        command, options, positionals, while_starting=lambda: before.update(_top_level_modules())
    )
    importlib.invalidate_caches()
    _activate_new_pth(site_dir, pth_before)
    return report, before


def _after_change(report, before):  # noqa: ANN001, ANN202
    text, markup = render_changes(report)
    _show(text, markup)
    changes = report.get("changes") or []
    unknown = [
        c for c in changes if c.get("kind") != "added" and _normalize(c["name"]) not in before
    ]
    after = _top_level_modules() if unknown else {}  # only for dists the snapshot missed
    stale = loaded_modules(changes, before, after)
    if stale:
        described = "; ".join(
            "{} ({}: imported as {})".format(name, kind, ", ".join(mods))
            for name, kind, mods in stale
        )
        print(
            "Restart the kernel to use the new versions: already imported in this kernel: "
            + described
            + ".",
            file=sys.stderr,
            flush=True,
        )


def dep(line):  # noqa: ANN001, ANN201
    """%dep: add, remove, list and lock this project's dependencies (`%dep --help`)."""
    try:
        _dep(line)
    except DepError as e:
        raise UsageError(str(e)) from None
    except (KeyboardInterrupt, UsageError):
        raise
    except Exception as e:  # a bug here must still read as one message, not a traceback
        raise UsageError("%dep failed unexpectedly: {!r}".format(e)) from None


def _dep(line):  # noqa: ANN001, ANN202
    try:
        words = shlex.split(line, posix=os.name != "nt")
    except ValueError as e:
        raise DepError("%dep: cannot parse {!r}: {}".format(line, e)) from None
    if not words:
        words = ["list"]
    args = _parser().parse_args(words)
    if args.debug_worker:
        print(json.dumps(_worker_state()))
        return
    if args.help or args.command == "help":
        print(HELP)
        return
    command = args.command or "list"
    if command == "list":
        doc = run_cli("list", echo=False)
        text, markup = render_list(doc.get("dependencies") or [])
        _show(text, markup)
    elif command == "status":
        text, markup = render_status(run_cli("status", echo=False))
        _show(text, markup)
    elif command in ("add", "remove"):
        if not args.items:
            raise DepError(
                "%dep {}: name at least one {}.".format(
                    command, "requirement" if command == "add" else "dependency"
                )
            )
        options = []
        if args.group:
            options += ["--group", args.group]
        if args.no_sync:
            options.append("--no-sync")
        report, before = _changing(command, options, args.items)
        _after_change(report, before)
    elif command == "sync":
        report, before = _changing("sync", [], [])
        _after_change(report, before)
    elif command == "lock":
        options = ["--upgrade"] if args.upgrade else []
        for name in args.upgrade_package:
            options += ["--upgrade-package", name]
        locked = run_cli("lock", options)
        if args.no_sync:
            text, markup = render_changes(locked)
            _show(text, markup)
            return
        synced, before = _changing("sync", [], [])
        _after_change(dict(locked, env=synced.get("env")), before)


# ---------------------------------------------------------------- %pip, still allowed


def pip_requirements(args):  # noqa: ANN001, ANN201
    """The package arguments of a `pip install/uninstall` command line (options skipped)."""
    names = []
    skip = False
    for word in args:
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            if word in _PIP_VALUE_OPTIONS:
                skip = True
            continue
        names.append(word)
    return names


def pip_warning(line):  # noqa: ANN001, ANN201
    """The warning for a %pip line that changes the env behind the lock's back (or None)."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if not words or words[0] not in ("install", "uninstall"):
        return None
    packages = pip_requirements(words[1:])
    if words[0] == "install":
        record = "%dep add " + " ".join(shlex.quote(p) for p in packages) if packages else None
        text = (
            "Warning: %pip install is not recorded in pyproject.toml or pylock.toml. The package "
            "is missing from the next fresh build (a colleague's machine, CI) and the next %dep "
            "or sync may remove it."
        )
    else:
        record = "%dep remove " + " ".join(shlex.quote(p) for p in packages) if packages else None
        text = (
            "Warning: %pip uninstall is not recorded in pyproject.toml or pylock.toml; the next "
            "sync puts the package back."
        )
    if record:
        text += " To record it instead, run:\n    " + record
    return text


def _wrap_pip(ip):  # noqa: ANN001, ANN202
    original = ip.find_line_magic("pip")
    if original is None or getattr(original, "_envlock_wrapped", False):
        return

    def pip(line):  # noqa: ANN001, ANN202
        warning = pip_warning(line)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        return original(line)

    pip.__doc__ = original.__doc__
    pip._envlock_wrapped = True
    ip.register_magic_function(pip, "line", "pip")


def _prestart_after_first_cell(ip):  # noqa: ANN001, ANN202
    """After the first cell has run (never during kernel start), start the worker in the
    background, so that the first %dep finds it warm."""
    done = []

    def post_run_cell(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if done:
            return
        done.append(True)
        try:
            ip.events.unregister("post_run_cell", post_run_cell)
        except ValueError:
            pass
        threading.Thread(target=_prestart_worker, name="envlock-worker-start", daemon=True).start()

    ip.events.register("post_run_cell", post_run_cell)


def load_ipython_extension(ip):  # noqa: ANN001, ANN201
    """Register %dep (and the %pip warning) in this kernel."""
    ip.register_magic_function(dep, "line", "dep")
    _wrap_pip(ip)
    if os.environ.get(ENV_PROJECT) and os.environ.get(ENV_SERVER_PYTHON):
        _prestart_after_first_cell(ip)
