"""The benchmark harness's parts (issue 11): numbers, the world a run works in, the tools'
projects, kernels, a Jupyter server, where-the-time-goes breakdowns and the report.

Importing it puts the test suite's helpers (tests/support: the local index, the wheel selection,
Poetry) and the repository itself on sys.path, as `benchmarks/bench.py` runs from a checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _path in (REPO / "tests", REPO):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
