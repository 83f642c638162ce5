"""Hostile repositories of issue 9, each written by one function under a given folder.

Every builder takes the folder to write (a project root, usually below the server root) and the
test's :class:`~support.sandbox.Sandbox` (whose victims it aims at and whose canary its code
writes), and returns the project folder. What needs building -- sdists, git repositories, wheels
-- is built here, locally and offline. Builders marked *needs the index* resolve through uv, so
call them with the sandbox's environment in place (the ``sandbox`` fixture sets it).

What each repository would make envlock do is in its docstring; tests/test_trust.py states what
envlock must do instead. Nothing here is imported by jupyter_envlock.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from .sandbox import Sandbox, canary_code, canary_shell
from .wheelhouse import sha256_file
from .wheels import build_wheel

HEADER = '[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
_EPOCH = 315532800  # 1980-01-01: fixed times, so built files hash the same every run


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def write_manifest(
    root: Path, name: str, deps: Sequence[str] = ("tinya",), extra: str = ""
) -> Path:
    """A plain project manifest, plus `extra` TOML appended verbatim; returns `root`."""
    root.mkdir(parents=True, exist_ok=True)
    text = HEADER.format(name=name) + f"dependencies = {_toml_list(deps)}\n"
    if extra:
        text += "\n" + extra.strip("\n") + "\n"
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    return root


def write_notebook(root: Path, kernel_name: str, name: str = "analysis.ipynb") -> Path:
    """The notebook a colleague committed: its metadata names the project kernel, so opening it
    in JupyterLab starts that kernel by itself."""
    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
                   "outputs": [], "source": ["import tinya"]}],
        "metadata": {"kernelspec": {"name": kernel_name, "display_name": "Python",
                                    "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    path = root / name
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    return path


def _toml_path(path: Path | str) -> str:
    return json.dumps(str(path))


# --------------------------------------------------------------------------- env settings


def env_at(root: Path, sb: Sandbox, target: str, name: str = "env-elsewhere") -> Path:
    """``[tool.envlock] env = TARGET``: the repository chooses the folder envlock builds (and
    exact-syncs, or deletes when it looks half-made) for it."""
    write_manifest(root, name, extra=f"[tool.envlock]\nenv = {json.dumps(target)}\n")
    write_notebook(root, f"envlock-{name}")
    return root


def env_at_local(root: Path, sb: Sandbox) -> Path:
    """env = "~/.local": bin/ lib/ share/ look like a half-made env, so today it is rmtree'd."""
    return env_at(root, sb, "~/.local", "env-at-local")


def env_at_pyenv_version(root: Path, sb: Sandbox) -> Path:
    """env = a pyenv version folder (bin include lib share): rmtree'd as a half-made env."""
    return env_at(root, sb, str(sb.pyenv_version), "env-at-pyenv")


def env_at_victim_venv(root: Path, sb: Sandbox) -> Path:
    """env = "~/.venv", someone's existing venv: the exact sync uninstalls what the lock lacks."""
    return env_at(root, sb, "~/.venv", "env-at-venv")


def env_at_base(root: Path, sb: Sandbox) -> Path:
    """env = the stand-in base interpreter's prefix: its site-packages get exact-synced."""
    return env_at(root, sb, str(sb.base_env), "env-at-base")


def shared_dotdot_venv(root: Path, sb: Sandbox) -> tuple[Path, Path]:
    """Two projects side by side, both with env = "../.venv" and different dependencies: each
    start exact-syncs the shared env to its own lock, uninstalling the other's packages. The
    shared env is made beforehand, as the first project's start would; returns both roots."""
    first = write_manifest(root / "first", "shared-first", ("tinya",),
                           '[tool.envlock]\nenv = "../.venv"\n')  # fmt: skip
    second = write_manifest(root / "second", "shared-second", ("tinyd",),
                            '[tool.envlock]\nenv = "../.venv"\n')  # fmt: skip
    write_notebook(first, "envlock-shared-first")
    write_notebook(second, "envlock-shared-second")
    return first, second


# --------------------------------------------------------------------------- uv configuration


def uv_pip_target(root: Path, sb: Sandbox) -> Path:
    """``[tool.uv.pip] target`` in pyproject.toml: uv, run in the project folder, sends the exact
    sync into the victim target folder and removes the packages it finds there."""
    extra = f"[tool.uv.pip]\ntarget = {_toml_path(sb.victim_target)}\n"
    write_manifest(root, "uv-pip-target", extra=extra)
    write_notebook(root, "envlock-uv-pip-target")
    return root


def uv_toml_target(root: Path, sb: Sandbox) -> Path:
    """``uv.toml`` with ``[pip] target``: the same redirect from a file envlock never reads."""
    write_manifest(root, "uv-toml-target")
    (root / "uv.toml").write_text(f"[pip]\ntarget = {_toml_path(sb.victim_target)}\n")
    write_notebook(root, "envlock-uv-toml-target")
    return root


def uv_parent_toml_target(root: Path, sb: Sandbox) -> Path:
    """A repository of several projects with one ``uv.toml`` at its top: uv finds it by walking
    up from the project folder. Returns the project (``root/project``)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "uv.toml").write_text(f"[pip]\ntarget = {_toml_path(sb.victim_target)}\n")
    project = write_manifest(root / "project", "uv-parent-target")
    write_notebook(project, "envlock-uv-parent-target")
    return project


def uv_pip_prefix(root: Path, sb: Sandbox) -> Path:
    """``[tool.uv.pip] prefix = ~/.local``: the exact sync lands in ~/.local/lib/pythonX.Y
    /site-packages, where the user's ``pip install --user`` packages live."""
    extra = f"[tool.uv.pip]\nprefix = {_toml_path(sb.local)}\n"
    write_manifest(root, "uv-pip-prefix", extra=extra)
    write_notebook(root, "envlock-uv-pip-prefix")
    return root


def uv_pip_python(root: Path, sb: Sandbox) -> Path:
    """``[tool.uv.pip] python`` naming the stand-in base interpreter (envlock passes --python,
    which wins today: a regression guard)."""
    extra = f"[tool.uv.pip]\npython = {_toml_path(sb.base_python)}\n"
    write_manifest(root, "uv-pip-python", extra=extra)
    write_notebook(root, "envlock-uv-pip-python")
    return root


def uv_link_mode_symlink(root: Path, sb: Sandbox) -> Path:
    """``[tool.uv] link-mode = "symlink"``: read by ``uv venv`` and ``uv pip sync`` run in the
    project folder; the env's files become symlinks into the uv cache (harmless alone, but it
    shows whose configuration uv obeys)."""
    write_manifest(root, "uv-link-mode", extra='[tool.uv]\nlink-mode = "symlink"\n')
    write_notebook(root, "envlock-uv-link-mode")
    return root


def uv_broken_config(root: Path, sb: Sandbox) -> Path:
    """A ``uv.toml`` with a key uv does not know: every uv run in the folder fails to parse it
    ("Failed to parse: uv.toml"), so a project envlock could build (it never reads uv.toml
    itself) cannot be built. (An unknown key under ``[tool.uv]`` is only a warning.)"""
    write_manifest(root, "uv-broken-config")
    (root / "uv.toml").write_text("not-a-uv-setting = 1\n")
    write_notebook(root, "envlock-uv-broken-config")
    return root


# --------------------------------------------------------------------------- code that runs


_BACKEND = '''\
"""An in-tree PEP 517 backend that records that it ran (the canary), then builds a wheel."""
{canary}
import base64 as _b64, hashlib as _hl, os as _os, tarfile as _tar, zipfile as _zip

NAME = {name!r}
VERSION = {version!r}
_MOD = NAME.replace("-", "_")
_DIST = _MOD + "-" + VERSION


def _hash(data):
    return "sha256=" + _b64.urlsafe_b64encode(_hl.sha256(data).digest()).rstrip(b"=").decode()


def _wheel(directory, files):
    files = dict(files)
    info = _DIST + ".dist-info/"
    files[info + "METADATA"] = "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (NAME, VERSION)
    files[info + "WHEEL"] = "Wheel-Version: 1.0\\nGenerator: hostile\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    record = ["%s,%s,%d" % (k, _hash(v.encode()), len(v.encode())) for k, v in files.items()]
    files[info + "RECORD"] = "\\n".join(record + [info + "RECORD,,"]) + "\\n"
    name = _DIST + "-py3-none-any.whl"
    with _zip.ZipFile(_os.path.join(directory, name), "w") as zf:
        for arc, text in files.items():
            zf.writestr(arc, text)
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_editable = get_requires_for_build_sdist = get_requires_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {{_MOD + "/__init__.py": "VERSION = %r\\n" % VERSION}})


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    here = _os.path.dirname(_os.path.abspath(__file__))
    return _wheel(wheel_directory, {{"_" + _MOD + ".pth": here + "\\n"}})


def build_sdist(sdist_directory, config_settings=None):
    here = _os.path.dirname(_os.path.abspath(__file__))
    name = _DIST + ".tar.gz"
    with _tar.open(_os.path.join(sdist_directory, name), "w:gz") as tf:
        for entry in ("pyproject.toml", "hostile_backend.py"):
            tf.add(_os.path.join(here, entry), _DIST + "/" + entry)
    return name
'''

_BACKEND_PYPROJECT = """\
[build-system]
requires = []
build-backend = "hostile_backend"
backend-path = ["."]

[project]
name = "{name}"
version = "{version}"
"""


def write_backend_package(folder: Path, sb: Sandbox, name: str, version: str = "1.0.0") -> Path:
    """A source tree whose own build backend writes the canary labelled ``backend-NAME``."""
    folder.mkdir(parents=True, exist_ok=True)
    code = canary_code(sb.canary_dir, f"backend-{name}")
    backend = _BACKEND.format(canary=code, name=name, version=version)
    (folder / "hostile_backend.py").write_text(backend, encoding="utf-8")
    (folder / "pyproject.toml").write_text(_BACKEND_PYPROJECT.format(name=name, version=version))
    return folder


def in_tree_backend(root: Path, sb: Sandbox) -> Path:
    """The project itself has a ``[build-system]`` with ``backend-path = ["."]``: envlock installs
    it editable at sync time, which imports the repository's backend (canary ``backend-...``)."""
    write_backend_package(root, sb, "in-tree-backend", "0.1.0")
    text = (
        (root / "pyproject.toml")
        .read_text()
        .replace(
            'version = "0.1.0"\n',
            'version = "0.1.0"\nrequires-python = ">=3.10"\ndependencies = ["tinya"]\n',
        )
    )
    (root / "pyproject.toml").write_text(text)
    write_notebook(root, "envlock-in-tree-backend")
    return root


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "hostile", "GIT_AUTHOR_EMAIL": "h@example.invalid",
        "GIT_COMMITTER_NAME": "hostile", "GIT_COMMITTER_EMAIL": "h@example.invalid",
        "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
    }  # fmt: skip
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def git_repository(folder: Path, sb: Sandbox, name: str) -> tuple[str, str]:
    """A local git repository holding a package with the canary backend: (file:// URL, commit)."""
    write_backend_package(folder, sb, name)
    _git(folder, "init", "-q", "-b", "main")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "hostile package")
    return folder.as_uri(), _git(folder, "rev-parse", "HEAD")


def build_sdist(dest: Path, sb: Sandbox, name: str, version: str = "1.0.0") -> Path:
    """``NAME-VERSION.tar.gz`` whose build backend writes the canary ``backend-NAME`` (built
    here with tarfile, byte for byte the same every time)."""
    source = write_backend_package(dest / f".src-{name}", sb, name, version)
    dest.mkdir(parents=True, exist_ok=True)
    dist = f"{name.replace('-', '_')}-{version}"
    path = dest / f"{dist}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        members = {
            "pyproject.toml": (source / "pyproject.toml").read_bytes(),
            "hostile_backend.py": (source / "hostile_backend.py").read_bytes(),
            "PKG-INFO": pkg_info,
        }
        for arc, data in members.items():
            info = tarfile.TarInfo(f"{dist}/{arc}")
            info.size, info.mtime, info.mode = len(data), _EPOCH, 0o644
            tf.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    for entry in sorted(source.iterdir()):
        entry.unlink()
    source.rmdir()
    return path


def _lock_with(root: Path, name: str, packages: str) -> Path:
    """A lock envlock would take as current (*needs the index*): what envlock itself locks for
    the manifest (the kernel's ipykernel and pip; a lock without them is stale and would be
    re-locked, which would drop the hostile entry), plus `packages` (TOML text), as a repository
    that wants them installed would commit it."""
    from jupyter_envlock.core import operations

    write_manifest(root, name, deps=())
    operations.lock(root)
    lock = root / "pylock.toml"
    text = lock.read_text(encoding="utf-8")
    head, sep, tail = text.partition("\n[tool.envlock]\n")
    assert sep, "envlock's lock ends with its [tool.envlock] table"
    lock.write_text(head.rstrip("\n") + "\n\n" + packages.strip("\n") + "\n" + sep + tail,
                    encoding="utf-8")  # fmt: skip
    write_notebook(root, f"envlock-{name}")
    return root


def lock_with_directory(root: Path, sb: Sandbox) -> Path:
    """A lock entry ``directory = {path = "vendor/helper"}``: PEP 751 needs no hash for it, and
    installing it runs the folder's build backend (canary ``backend-dir-helper``)."""
    write_backend_package(root / "vendor" / "helper", sb, "dir-helper")
    return _lock_with(
        root,
        "lock-directory",
        """
[[packages]]
name = "dir-helper"
version = "1.0.0"
directory = { path = "vendor/helper", editable = false }
""",
    )


def lock_with_vcs(root: Path, sb: Sandbox) -> Path:
    """A lock entry ``vcs = {type = "git", url = "file://...", commit-id = ...}``: no hash, and
    installing it clones and builds it (canary ``backend-vcs-helper``)."""
    url, commit = git_repository(sb.base / "sandbox" / "repos" / "vcs-helper", sb, "vcs-helper")
    return _lock_with(
        root,
        "lock-vcs",
        f"""
[[packages]]
name = "vcs-helper"
version = "1.0.0"
vcs = {{ type = "git", url = "{url}", commit-id = "{commit}" }}
""",
    )


def lock_with_sdist(root: Path, sb: Sandbox) -> Path:
    """A lock entry with only an sdist (hash and all): uv builds it at sync time, running its
    build backend (canary ``backend-sdist-helper``)."""
    sdist = build_sdist(root / "dist", sb, "sdist-helper")
    rel = sdist.relative_to(root).as_posix()
    return _lock_with(
        root,
        "lock-sdist",
        f"""
[[packages]]
name = "sdist-helper"
version = "1.0.0"
sdist = {{ name = "{sdist.name}", path = "{rel}", hashes = {{ sha256 = "{sha256_file(sdist)}" }} }}
""",
    )


def lock_with_pth_wheel(root: Path, sb: Sandbox) -> Path:
    """A lock entry for a wheel shipped in the repository, holding a ``.pth`` file: nothing runs
    at install, but every interpreter started in the env runs it (canary ``pth-wheel``). This is
    why trust must come before the build, not only before source builds."""
    line = "import sys; exec(" + repr(canary_code(sb.canary_dir, "pth-wheel")) + ")\n"
    wheel = build_wheel(root / "wheels", "pth-helper", "1.0.0",
                        extra_files={"pth_helper.pth": line})  # fmt: skip
    rel = wheel.relative_to(root).as_posix()
    return _lock_with(
        root,
        "lock-pth-wheel",
        f"""
[[packages]]
name = "pth-helper"
version = "1.0.0"
wheels = [{{ name = "{wheel.name}", path = "{rel}", hashes = {{ sha256 = "{sha256_file(wheel)}" }} }}]
""",
    )


def git_file_requirement(root: Path, sb: Sandbox) -> Path:
    """``dependencies = ["helper @ git+file:///..."]``: a local-file URL that is not refused like
    ``file:``; locking clones and builds it (canary ``backend-git-helper``)."""
    url, _ = git_repository(sb.base / "sandbox" / "repos" / "git-helper", sb, "git-helper")
    write_manifest(root, "git-file-req", deps=(f"git-helper @ git+{url}",))
    write_notebook(root, "envlock-git-file-req")
    return root


def committed_venv_python(root: Path, sb: Sandbox) -> Path:
    """A committed ``.venv`` whose ``bin/python`` is a script: it writes the canary
    ``venv-python`` and execs the stand-in base interpreter. envlock takes an in-project .venv as
    the project's env, uv runs the script to ask what it is, then exact-syncs the base
    interpreter's site-packages; the kernel runs the script too."""
    write_manifest(root, "committed-venv")
    venv = root / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "lib").mkdir()
    (venv / "pyvenv.cfg").write_text(
        f"home = {sb.base_python.parent}\ninclude-system-site-packages = false\n"
        "version_info = 3.11.7\n"
    )
    script = "#!/bin/sh\n" + canary_shell(sb.canary_dir, "venv-python")
    script += f'exec {json.dumps(str(sb.base_python))} "$@"\n'
    python = venv / "bin" / "python"
    python.write_text(script)
    python.chmod(0o755)
    for alias in ("python3", "python3.11"):
        (venv / "bin" / alias).symlink_to("python")
    write_notebook(root, "envlock-committed-venv")
    return root


def kernel_named(root: Path, sb: Sandbox, kernel_name: str) -> Path:
    """``[tool.envlock] kernel-name = KERNEL_NAME``: ``..`` or ``.`` make ``kernels install``
    delete the Jupyter data folder or every spec; ``python3`` replaces the user's own spec."""
    label = {"..": "dotdot", ".": "dot"}.get(kernel_name, kernel_name)
    extra = f"[tool.envlock]\nkernel-name = {json.dumps(kernel_name)}\n"
    write_manifest(root, f"kernel-{label}", extra=extra)
    write_notebook(root, kernel_name)
    return root


# Modules the server's Python imports for `python -m jupyter_envlock` (and the worker): with the
# project as working directory, sys.path[0] is the project, so a file of that name runs first.
SHADOWED_MODULES = (
    "jupyter_envlock", "filelock", "packaging", "tomlkit", "platformdirs", "uv", "json",
)  # fmt: skip
_PACKAGES = ("jupyter_envlock", "packaging")  # shadowed as folders, the others as .py files


def shadowing_modules(root: Path, sb: Sandbox, names: Sequence[str] = SHADOWED_MODULES) -> Path:
    """``filelock.py``, ``packaging/``, ``tomlkit.py`` ... at the repository root, each writing
    the canary ``shadow-NAME`` when imported (then failing, as a clumsy attacker would)."""
    write_manifest(root, "shadowing")
    for name in names:
        code = canary_code(sb.canary_dir, f"shadow-{name}")
        if name in _PACKAGES:
            (root / name).mkdir()
            (root / name / "__init__.py").write_text(code)
            (root / name / "__main__.py").write_text(code)
        else:
            (root / f"{name}.py").write_text(code)
    write_notebook(root, "envlock-shadowing")
    return root


# --------------------------------------------------------------------------- locks of the world


def locked_project(
    root: Path, name: str, deps: Sequence[str] = ("tinya",), extra: str = ""
) -> Path:
    """A project locked by envlock itself (*needs the index*)."""
    from jupyter_envlock.core import operations

    write_manifest(root, name, deps, extra)
    operations.lock(root)
    write_notebook(root, f"envlock-{name}")
    return root


def crlf_files(root: Path, sb: Sandbox) -> Path:
    """A locked project as git on Windows checks it out (``core.autocrlf``): manifest and lock
    with CRLF line endings (*needs the index*)."""
    locked_project(root, "crlf")
    for name in ("pyproject.toml", "pylock.toml"):
        path = root / name
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    return root


def foreign_lock_with_groups(root: Path, sb: Sandbox, uv: str) -> Path:
    """A valid PEP 751 lock made by another tool, with ``'dev' in dependency_groups`` markers as
    PDM writes them: exported with ``uv export --format pylock.toml`` (uv 0.13.9 writes no group
    markers itself), then marked up as a multi-use lock (*needs the index*)."""
    write_manifest(root, "foreign-lock", ("tinya",),
                   '[dependency-groups]\ndev = ["tinyd"]\n')  # fmt: skip
    for args in (["lock"], ["export", "--format", "pylock.toml", "-o", "pylock.toml", "--quiet"]):
        proc = subprocess.run([uv, *args], cwd=root, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"uv {' '.join(args)} failed: {proc.stderr}")
    lock = root / "pylock.toml"
    text = lock.read_text(encoding="utf-8").replace(
        'requires-python = ">=3.10"\n',
        'requires-python = ">=3.10"\ndependency-groups = ["dev"]\ndefault-groups = []\n',
        1,
    )
    text = text.replace(
        'name = "tinyd"\n', 'name = "tinyd"\nmarker = "\'dev\' in dependency_groups"\n'
    )
    lock.write_text(text, encoding="utf-8")
    (root / "uv.lock").unlink()
    write_notebook(root, "envlock-foreign-lock")
    return root


def not_pep751_lock(root: Path, sb: Sandbox) -> Path:
    """A ``pylock.toml`` that is TOML but not PEP 751 (no lock-version, a package without a
    version or files): never to be handed to uv as the previous lock's preferences."""
    write_manifest(root, "not-pep751")
    (root / "pylock.toml").write_text(
        'created-by = "someone"\n\n[[packages]]\nname = "tinya"\nwheels = "not a list"\n'
    )
    write_notebook(root, "envlock-not-pep751")
    return root


def lying_lock(root: Path, sb: Sandbox) -> Path:
    """A lock whose recorded manifest hash matches the manifest, but which lacks one of its direct
    requirements (tinyd): it was made for ``["tinya"]`` and its hash line edited (*needs the
    index*)."""
    from jupyter_envlock.core.lockfile import manifest_hash
    from jupyter_envlock.core.pyproject import PyProject

    locked_project(root, "lying-lock", ("tinya",))
    write_manifest(root, "lying-lock", ("tinya", "tinyd"))
    digest = manifest_hash(PyProject.read(root / "pyproject.toml"))
    lock = root / "pylock.toml"
    text = lock.read_text(encoding="utf-8")
    start = text.index('manifest-hash = "') + len('manifest-hash = "')
    lock.write_text(text[:start] + digest + text[start + 64 :], encoding="utf-8")
    return root


def bom_manifest(root: Path, sb: Sandbox) -> Path:
    """A ``pyproject.toml`` starting with a UTF-8 byte-order mark (Windows editors)."""
    write_manifest(root, "bom-manifest")
    path = root / "pyproject.toml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    write_notebook(root, "envlock-bom-manifest")
    return root


def large_manifest(root: Path, sb: Sandbox, megabytes: float = 4.0) -> Path:
    """A manifest of `megabytes` MB (a huge ``[tool.other]`` table): status, list and discovery
    must still parse it cheaply."""
    write_manifest(root, "large-manifest")
    line = 'key{:07d} = "' + "x" * 40 + '"\n'
    count = int(megabytes * 1_000_000 / len(line.format(0)))
    with (root / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write("\n[tool.other]\n")
        f.writelines(line.format(i) for i in range(count))
    write_notebook(root, "envlock-large-manifest")
    return root


def symlinked_files(
    root: Path, sb: Sandbox, manifest_target: Path | None = None, lock_target: Path | None = None
) -> Path:
    """``pyproject.toml`` and/or ``pylock.toml`` as symlinks to the given files (inside the root,
    or outside it): discovery and REST must agree on them."""
    root.mkdir(parents=True, exist_ok=True)
    if manifest_target is not None:
        (root / "pyproject.toml").symlink_to(manifest_target)
    else:
        write_manifest(root, "symlinked")
    if lock_target is not None:
        (root / "pylock.toml").symlink_to(lock_target)
    return root


# --------------------------------------------------------------------------- the catalogue

#: builders that need nothing but the sandbox, by the id tests use
SIMPLE_BUILDERS: Mapping[str, object] = {
    "env-at-local": env_at_local,
    "env-at-pyenv-version": env_at_pyenv_version,
    "env-at-victim-venv": env_at_victim_venv,
    "env-at-base": env_at_base,
    "uv-pip-target": uv_pip_target,
    "uv-toml-target": uv_toml_target,
    "uv-parent-toml-target": uv_parent_toml_target,
    "uv-pip-prefix": uv_pip_prefix,
    "uv-pip-python": uv_pip_python,
    "uv-link-mode": uv_link_mode_symlink,
    "uv-broken-config": uv_broken_config,
    "in-tree-backend": in_tree_backend,
    "lock-directory": lock_with_directory,
    "lock-vcs": lock_with_vcs,
    "lock-sdist": lock_with_sdist,
    "lock-pth-wheel": lock_with_pth_wheel,
    "git-file-requirement": git_file_requirement,
    "committed-venv-python": committed_venv_python,
    "shadowing-modules": shadowing_modules,
}
