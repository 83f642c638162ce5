"""Run envlock work inside this process and say where its time went, as one JSON line on stdout.

Started by breakdown.py with the run's environment, never imported:

    python probe.py cli MODULES -- ARGS...
        Import MODULES (a file: the modules the same command imported, in `-X importtime`
        order), timed; then run `jupyter_envlock.cli.main(ARGS)`, timed apart. So a command's
        process splits into interpreter start (measured elsewhere), imports, and the work.
    python probe.py worker PROJECT -- LINE...
        The warm %dep worker's path (`Worker.answer`, as `python -m jupyter_envlock.worker`
        serves a kernel) for each %dep LINE under cProfile, after one pass over the same lines
        (the worker is warm by then, as in a kernel after its first %dep).
    python probe.py kernel-worker LOG
        A kernel's own warm worker (`python -m jupyter_envlock.worker`, as the kernel starts it),
        which also appends one JSON line per request to LOG: its %dep line, the time
        `Worker.answer` took and the processes it started. Set as the kernel's worker argv
        (the transport's WORKER_OVERRIDE), it times the very requests the kernel's rows time.

Every process the work starts is recorded with its wall time (subprocess.Popen, from creation to
the first successful wait). Under cProfile, the envlock, packaging and tomlkit functions that
start no process are listed by cumulative time (inflated by the profiler; the call counts are
exact).
"""

import sys

del sys.path[0]  # this folder's modules must not shadow anything envlock imports

import importlib  # noqa: E402 - after the path fix, and few imports before the timed ones
import os  # noqa: E402
import time  # noqa: E402

PROCESSES: list[dict] = []


def _label(args: object) -> str:
    argv = [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)  # type: ignore[arg-type]
    words = [os.path.basename(str(argv[0]))]
    for arg in argv[1:]:
        text = str(arg)
        if not text.replace("-", "").isalpha() or text.startswith("-") or len(words) == 3:
            break
        words.append(text)
    return " ".join(words)


def record_processes() -> None:
    import subprocess

    init, wait = subprocess.Popen.__init__, subprocess.Popen.wait

    def recording_init(self, args, *rest, **kwargs) -> None:  # noqa: ANN001
        self._bench = [_label(args), time.perf_counter(), False]
        init(self, args, *rest, **kwargs)

    def recording_wait(self, timeout=None):  # noqa: ANN001, ANN202
        code = wait(self, timeout)
        mark = getattr(self, "_bench", None)
        if mark is not None and not mark[2]:
            mark[2] = True
            end = time.perf_counter()
            PROCESSES.append({"label": mark[0], "start": mark[1], "seconds": end - mark[1]})
        return code

    subprocess.Popen.__init__ = recording_init  # type: ignore[method-assign]
    subprocess.Popen.wait = recording_wait  # type: ignore[method-assign]


def import_all(names: list[str]) -> tuple[float, list[str]]:
    start = time.perf_counter()
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - a module of another platform, say
            failed.append(name)
    return time.perf_counter() - start, failed


def cli(modules_file: str, argv: list[str]) -> dict:
    names = open(modules_file).read().split()  # noqa: SIM115
    imports, failed = import_all(names)
    import contextlib
    import io

    from jupyter_envlock.cli import main

    record_processes()
    sink = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = main(argv)
    work = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"{argv} failed ({code}):\n{sink.getvalue()[-3000:]}")
    return {"imports": imports, "work": work, "processes": PROCESSES, "failed": failed}


def worker(project: str, lines: list[str]) -> dict:
    import io
    import json

    from jupyter_envlock.worker import Worker

    server = Worker(io.BytesIO(), io.BytesIO(), project)

    def answer(line: str) -> float:
        start = time.perf_counter()
        outcome = server.answer(json.dumps({"line": line, "cwd": project}).encode())
        if outcome.exit_code != 0:
            raise SystemExit(f"%dep {line} failed ({outcome.exit_code}):\n{outcome.text}")
        return time.perf_counter() - start

    for line in lines:  # warm: caches filled, modules imported, as in a kernel's worker
        answer(line)
    return {"profile": profiled(lambda: [answer(line) for line in lines])}


def kernel_worker(log_path: str) -> int:
    import json

    from jupyter_envlock import worker

    record_processes()
    log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - open while the worker serves
    answer = worker.Worker.answer

    def timed_answer(self, raw: bytes):  # noqa: ANN001, ANN202
        before, start = len(PROCESSES), time.perf_counter()
        try:
            return answer(self, raw)
        finally:
            seconds = time.perf_counter() - start
            line = json.loads(raw).get("line")
            log.write(json.dumps({"line": line, "seconds": seconds,
                                  "processes": PROCESSES[before:]}) + "\n")  # fmt: skip
            log.flush()

    worker.Worker.answer = timed_answer  # type: ignore[method-assign]
    return worker.main()


def profiled(step) -> list[dict]:  # noqa: ANN001
    """Functions that start no process, by cumulative time, under cProfile."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(step)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    spawning = {f for f in stats if f[0].endswith("subprocess.py") and f[2] == "_execute_child"}
    todo = list(spawning)
    while todo:  # every caller, transitively, of a process start
        for caller in stats[todo.pop()][4]:
            if caller not in spawning:
                spawning.add(caller)
                todo.append(caller)
    wanted = ("jupyter_envlock", f"{os.sep}packaging{os.sep}", f"{os.sep}tomlkit{os.sep}")
    rows = []
    for func, (_cc, calls, _tt, cumulative, _callers) in stats.items():
        if func in spawning or not any(w in func[0] for w in wanted) or cumulative < 0.001:
            continue
        where = func[0].split("site-packages" + os.sep)[-1].split("jupyter_envlock" + os.sep)[-1]
        rows.append({"function": f"{where}:{func[2]}", "calls": calls, "seconds": cumulative})
    rows.sort(key=lambda r: -r["seconds"])
    return rows[:12]


def main() -> None:
    mode, rest = sys.argv[1], sys.argv[2:]
    if mode == "kernel-worker":
        raise SystemExit(kernel_worker(rest[0]))
    split = rest.index("--")
    options, words = rest[:split], rest[split + 1 :]
    if mode == "cli":
        result = cli(options[0], words)
    else:
        result = worker(options[0], words)
    import json

    print(json.dumps(result))


main()
