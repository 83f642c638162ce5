"""A notebook run headless, as a CI job or a colleague runs one: nbclient starts the kernel its
metadata names, found through the kernel specs on JUPYTER_PATH (no server, no spec manager of
ours), in the notebook's folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode


def run_notebook(folder: Path, kernel: str, cells: Sequence[str]) -> NotebookNode:
    """A new notebook of code ``cells`` naming ``kernel``, executed in ``folder``; it holds the
    outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    NotebookClient(
        nb, timeout=120, startup_timeout=120, resources={"metadata": {"path": str(folder)}}
    ).execute()
    return nb
