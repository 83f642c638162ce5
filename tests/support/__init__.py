"""Offline test infrastructure: tiny wheels, a real-wheel wheelhouse, and a local PEP 503 index.

Tests never reach a public index (see DESIGN.md, "Tests without the internet"): everything a test
resolves or installs comes from an index served on 127.0.0.1 by :class:`IndexServer`.
"""

from .index import IndexServer, build_simple_index, publish_wheels
from .wheelhouse import ensure_wheelhouse
from .wheels import build_wheel, module_name

__all__ = [
    "IndexServer",
    "build_simple_index",
    "build_wheel",
    "ensure_wheelhouse",
    "module_name",
    "publish_wheels",
]
