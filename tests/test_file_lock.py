"""The file lock every change takes (core/atomic.file_lock): exclusive across processes, the same
lock filelock takes (an envlock of another version waits for it), gone with a killed holder."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_envlock.core.atomic import LockTimeout, file_lock, is_busy

HOLD = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "{take}\n"
    "with lock:\n"
    "    print('held', flush=True)\n"
    "    time.sleep(60)\n"
)
OURS = "from jupyter_envlock.core.atomic import file_lock; lock = file_lock(Path(sys.argv[1]))"
FILELOCK = "from filelock import FileLock; lock = FileLock(sys.argv[1])"


def holder(take: str, path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(take=take), str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.parametrize("take", [OURS, FILELOCK], ids=["envlock", "filelock"])
def test_a_held_lock_makes_the_next_one_wait_and_time_out(tmp_path, take):
    path = tmp_path / "project.lock"
    proc = holder(take, path)
    try:
        assert is_busy(path)
        started = time.monotonic()
        with pytest.raises(LockTimeout), file_lock(path, timeout=0.3):
            pass
        assert time.monotonic() - started >= 0.3
    finally:
        proc.kill()
        proc.communicate()
    # the killed holder's lock went with it
    assert not is_busy(path)
    with file_lock(path, timeout=5):
        pass
