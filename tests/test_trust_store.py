"""The trust store (core/trust.py): per user and machine, keyed by real path, written atomically,
never silently reset.

Unit tests on a store in tmp_path; the CLI, REST and kernel behaviour built on it is
tests/test_trust.py's.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_envlock.core import atomic, trust
from jupyter_envlock.core.trust import TrustStore, TrustStoreError


@pytest.fixture
def store(tmp_path: Path) -> TrustStore:
    return TrustStore(tmp_path / "data" / "trust.json")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repos" / "analysis"
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "analysis"\n')
    return root


def test_nothing_is_trusted_before_the_first_decision(store: TrustStore, project: Path) -> None:
    assert store.load() == {}
    assert not store.is_trusted(project)
    assert store.source(project) is None
    assert not store.path.exists(), "reading must not create the store"


def test_trust_is_recorded_by_real_path_with_its_reason(store: TrustStore, project: Path) -> None:
    grant = store.trust(project)
    assert grant.path == os.path.realpath(project)
    assert grant.source == "user"
    assert grant.granted.endswith("Z")
    assert store.is_trusted(project)
    assert store.source(project) == "user"
    document = json.loads(store.path.read_text())
    assert document == {
        "version": 1,
        "projects": {str(project.resolve()): {"source": "user", "granted": grant.granted}},
    }


def test_other_folders_are_not_trusted_by_it(store: TrustStore, project: Path, tmp_path: Path):
    store.trust(project)
    inner = project / "notebooks"
    inner.mkdir()
    clone = tmp_path / "elsewhere" / "analysis"
    clone.mkdir(parents=True)
    for other in (inner, project.parent, clone):
        assert not store.is_trusted(other), other


def test_two_names_for_one_folder_share_one_decision(store: TrustStore, project: Path, tmp_path):
    alias = tmp_path / "alias"
    alias.symlink_to(project)
    store.trust(alias)
    assert store.is_trusted(project)
    assert list(store.load()) == [os.path.realpath(project)]
    assert store.revoke(project)
    assert not store.is_trusted(alias)


def test_a_second_trust_keeps_the_first_grant(store: TrustStore, project: Path) -> None:
    first = store.trust(project, "created")
    again = store.trust(project, "user")
    assert again == first
    assert store.source(project) == "created"


def test_revoke(store: TrustStore, project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    store.trust(project)
    store.trust(other, "built-before")
    assert store.revoke(project) is True
    assert store.revoke(project) is False
    assert not store.is_trusted(project)
    assert store.source(other) == "built-before"


def test_unknown_source_is_refused(store: TrustStore, project: Path) -> None:
    with pytest.raises(ValueError, match="server"):
        store.trust(project, "server")  # type: ignore[arg-type]
    assert not store.path.exists()


def test_default_location_follows_the_override_and_platformdirs(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("JUPYTER_ENVLOCK_DATA_DIR", str(tmp_path / "override"))
    assert TrustStore().path == tmp_path / "override" / "trust.json"
    monkeypatch.delenv("JUPYTER_ENVLOCK_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert TrustStore().path == tmp_path / "xdg" / "jupyter-envlock" / "trust.json"


@pytest.mark.parametrize(
    "content, match",
    [
        (b"{not json", "not valid JSON"),
        (b'{"version": 1}', "no 'projects'"),
        (b'{"version": 2, "projects": {}}', "version 2"),
        (b'{"version": 1, "projects": {"/p": {"source": "anyone", "granted": "x"}}}', "bad entry"),
        (b"\xff\xfe", "not valid JSON"),
    ],
    ids=["broken-json", "no-projects", "newer-version", "bad-source", "not-utf8"],
)
def test_an_unreadable_store_is_an_error_and_is_never_overwritten(
    store: TrustStore, project: Path, content: bytes, match: str
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content)
    for action in (store.is_trusted, store.trust, store.revoke):
        with pytest.raises(TrustStoreError, match=match):
            action(project)
    assert store.path.read_bytes() == content


def test_a_failed_write_leaves_the_old_store(
    store: TrustStore, project: Path, tmp_path, monkeypatch
):
    store.trust(tmp_path)
    before = store.path.read_bytes()

    def disk_full(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", disk_full)
    with pytest.raises(TrustStoreError, match="No space left"):
        store.trust(project)
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["trust.json", "trust.json.lock"]
    assert not store.is_trusted(project)


def test_concurrent_trusts_all_land(store: TrustStore, tmp_path: Path) -> None:
    """Read-modify-write under a file lock: eight processes at once, eight grants."""
    folders = [tmp_path / f"p{i}" for i in range(8)]
    code = (
        "import sys; from pathlib import Path; from jupyter_envlock.core.trust import TrustStore;"
        "TrustStore(Path(sys.argv[1])).trust(sys.argv[2])"
    )
    procs = []
    for folder in folders:
        folder.mkdir()
        procs.append(subprocess.Popen([sys.executable, "-c", code, str(store.path), str(folder)]))
    assert [p.wait(timeout=60) for p in procs] == [0] * 8
    assert set(store.load()) == {os.path.realpath(f) for f in folders}


def test_core_trust_imports_nothing_of_jupyter() -> None:
    code = (
        "import sys, jupyter_envlock.core.trust;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('jupyter_server', 'jupyter_client', 'tornado', 'traitlets')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert trust.SOURCES == ("user", "created", "built-before")
