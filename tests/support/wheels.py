"""Build tiny, valid, byte-for-byte reproducible pure-Python wheels.

Tests need packages with known names, versions and dependencies to resolve and install without the
internet; a wheel is only a zip with METADATA, WHEEL and RECORD, so we write them directly. The bytes
are deterministic (fixed timestamps, sorted entries) so hashes pinned in a lock stay valid when the
same wheel is rebuilt.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

_EPOCH = (1980, 1, 1, 0, 0, 0)  # earliest timestamp a zip can hold: fixed so bytes never vary


def module_name(name: str) -> str:
    """The importable module a tiny wheel provides: ``Mixed_Case.Name`` -> ``mixed_case_name``."""
    return canonicalize_name(name).replace("-", "_")


def wheel_filename(name: str, version: str) -> str:
    """The wheel file name for ``name``/``version`` (binary distribution format escaping)."""
    return f"{_escaped(name)}-{Version(version)}-py3-none-any.whl"


def _escaped(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def build_wheel(
    dest_dir: Path | str,
    name: str,
    version: str,
    requires: Iterable[str] = (),
    requires_python: str | None = None,
    extra_files: Mapping[str, str | bytes] | None = None,
) -> Path:
    """Write a ``py3-none-any`` wheel for ``name==version`` into ``dest_dir`` and return its path.

    The wheel holds ``<module>/__init__.py`` defining ``__version__`` so tests can check which
    version got installed; ``requires`` become ``Requires-Dist`` lines; ``extra_files`` maps
    archive paths to contents (e.g. a second module, or data a test wants to find).
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    norm_version = str(Version(version))
    mod = module_name(name)
    dist_info = f"{_escaped(name)}-{norm_version}.dist-info"

    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {norm_version}"]
    metadata.append(f"Summary: Tiny test package {name} {norm_version}")
    if requires_python:
        metadata.append(f"Requires-Python: {requires_python}")
    metadata.extend(f"Requires-Dist: {req}" for req in requires)
    wheel_meta = [
        "Wheel-Version: 1.0",
        "Generator: jupyter-envlock-tests",
        "Root-Is-Purelib: true",
        "Tag: py3-none-any",
    ]

    files: dict[str, bytes] = {
        f"{mod}/__init__.py": f'"""Tiny test package."""\n__version__ = "{norm_version}"\n'.encode(),
    }
    for arc, content in (extra_files or {}).items():
        files[arc] = content.encode() if isinstance(content, str) else content
    files[f"{dist_info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{dist_info}/WHEEL"] = ("\n".join(wheel_meta) + "\n").encode()

    record_path = f"{dist_info}/RECORD"
    record = [f"{arc},{_record_hash(data)},{len(data)}" for arc, data in files.items()]
    record.append(f"{record_path},,")
    files[record_path] = ("\n".join(record) + "\n").encode()

    path = dest / wheel_filename(name, norm_version)
    tmp = path.with_suffix(".whl.part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        # dist-info last, RECORD last of all, as the wheel spec recommends.
        for arc, data in files.items():
            info = zipfile.ZipInfo(arc, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever machine builds it
            zf.writestr(info, data)
    tmp.replace(path)
    return path


_FAILING_BACKEND = '''"""A build backend whose metadata is fine and whose build always fails, as a C extension's does
on a Python it has no wheel for."""
import os
import sys

NAME, VERSION, REASON = {name!r}, {version!r}, {reason!r}


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = os.path.join(metadata_directory, f"{{NAME}}-{{VERSION}}.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write(f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n")
    return os.path.basename(info)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    for n in range(40):
        print(f"building extension module {{n}} ...", file=sys.stderr)
    raise RuntimeError(REASON)
'''


def build_failing_sdist(dest_dir: Path | str, name: str, version: str, reason: str) -> Path:
    """An sdist of ``name==version`` (no wheel) whose build fails with ``reason`` after forty lines
    of output; its in-tree backend needs nothing from an index."""
    import io
    import tarfile

    base = f"{_escaped(name)}-{Version(version)}"
    files = {
        "pyproject.toml": (
            '[build-system]\nrequires = []\nbuild-backend = "failing_backend"\n'
            f'backend-path = ["."]\n\n[project]\nname = "{name}"\nversion = "{version}"\n'
        ),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "failing_backend.py": _FAILING_BACKEND.format(name=name, version=version, reason=reason),
    }
    path = Path(dest_dir) / f"{base}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for arc, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{base}/{arc}")
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return path
