"""Packaging: `python -m build` makes an sdist and a wheel with no Node.js on PATH, and the wheel,
installed where JupyterLab is but Node.js and jupyter_envlock are not, enables both extensions.

The "machine" is a fresh venv made from the test runner's base interpreter. A .pth file shows it the
runner's installed packages (Jupyter Server, JupyterLab, uv...), so nothing is downloaded, but not
jupyter_envlock: PYTHONPATH is cleared, and an editable install's own .pth file is not processed in a
folder that is itself added by a .pth line. pip installs the built wheel with --no-deps --no-index.
`jupyter server extension list` and `jupyter labextension list` run as `python -m jupyter_server` and
`python -m jupyterlab.labextensions`: the same entry points, started by the venv's own interpreter
(the `jupyter` scripts in the runner's bin folder would start the runner's interpreter instead).

The build needs the lab extension already built (scripts/setup does it with jlpm) and the build
requirements importable, since `--no-isolation` is the only way to build without an index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
BUILT_ASSET = REPO / "jupyter_envlock" / "labextension" / "static" / "style.js"
PACKAGE_JSON = REPO / "labextension" / "package.json"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --------------------------------------------------------------------------- building


def _load_toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomlkit

        return tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    return tomllib.loads(path.read_text(encoding="utf-8"))


def missing_build_requirements() -> list[str]:
    """`build` and pyproject.toml's build requirements that this Python lacks (or has too old)."""
    requires = _load_toml(REPO / "pyproject.toml")["build-system"]["requires"]
    missing = []
    for text in ["build", *requires]:
        req = Requirement(text)
        try:
            found = version(req.name)
        except PackageNotFoundError:
            missing.append(text)
            continue
        if not req.specifier.contains(found, prereleases=True):
            missing.append(f"{text} (found {found})")
    return missing


def skip_unless_buildable() -> None:
    """Skip, saying exactly what is missing, when the build cannot run offline here."""
    if not BUILT_ASSET.exists():
        pytest.skip(
            f"the lab extension is not built ({BUILT_ASSET.relative_to(REPO)} is missing): "
            "scripts/setup builds it with jlpm; a build without node needs the built assets"
        )
    missing = missing_build_requirements()
    if missing:
        pytest.skip(
            "`python -m build --no-isolation` needs the build requirements in the test "
            f"environment; missing: {', '.join(missing)}"
        )


def path_without_node(*first: Path) -> str:
    """PATH with `first` in front and no folder that holds a node executable."""
    dirs = [str(d) for d in first]
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not entry or entry in dirs:
            continue
        if any(Path(entry, exe).exists() for exe in ("node", "nodejs", "node.exe")):
            continue
        dirs.append(entry)
    path = os.pathsep.join(dirs)
    assert shutil.which("node", path=path) is None
    return path


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path
    log: str


def build_distributions(out_dir: Path) -> Dists:
    """`python -m build` of the repository (sdist, then the wheel from the sdist), without node
    on PATH; done once per folder, so several test modules can share one build."""
    done = out_dir / "build.log"
    if not done.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHONPATH"))}
        env["PATH"] = path_without_node()
        proc = subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out_dir), str(REPO)],
            cwd=out_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        log = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"python -m build failed:\n{log[-6000:]}"
        done.write_text(log, encoding="utf-8")
    sdists = sorted(out_dir.glob("jupyter_envlock-*.tar.gz"))
    wheels = sorted(out_dir.glob("jupyter_envlock-*-py3-none-any.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out_dir.iterdir())
    return Dists(sdists[0], wheels[0], done.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- a Jupyter machine


@dataclass
class HostPython:
    """A venv that has the runner's Jupyter but not jupyter_envlock, with its own Jupyter dirs."""

    root: Path
    home: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def environ(self, **extra: str) -> dict[str, str]:
        """os.environ without anything that would leak the runner's Python or Jupyter setup."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "VIRTUAL_ENV")
            and not k.startswith("PIP_")
            and not (k.startswith("JUPYTER_") and not k.startswith("JUPYTER_ENVLOCK_"))
        }
        env.update(
            PATH=path_without_node(self.bin),
            PYTHONNOUSERSITE="1",
            PIP_CONFIG_FILE=os.devnull,
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_DATA_DIR=str(self.home / "data"),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
        )
        env.update(extra)
        return env

    def run(
        self, *args: str, cwd: Path | None = None, check: bool = True, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.python), *args],
            cwd=cwd or self.home,
            env=self.environ(**extra),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def has_module(self, name: str) -> bool:
        code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
        return self.run("-c", code, check=False).returncode == 0


def make_host_python(dest: Path) -> HostPython:
    """A fresh venv from the runner's base interpreter that sees the runner's site-packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True)
    host = HostPython(dest, dest.parent / f"{dest.name}-home")
    for sub in ("config", "data", "runtime"):
        (host.home / sub).mkdir(parents=True, exist_ok=True)
    purelib = subprocess.run(
        [str(host.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    runner_sites = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(purelib, "_runner_site_packages.pth").write_text(
        "".join(f"{p}\n" for p in runner_sites), encoding="utf-8"
    )
    return host


def install_wheel(host: HostPython, wheel: Path) -> None:
    """What `pip install jupyter-envlock` does on that machine, minus dependency downloads.

    --ignore-installed: pip sees the runner's site-packages (maybe an editable jupyter-envlock)
    and must neither skip the install nor try to uninstall anything outside this venv."""
    host.run(
        "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed",
        "--no-warn-conflicts", "--quiet", str(wheel),
    )  # fmt: skip


def package_json_version() -> str:
    return str(Version(json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["version"]))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    skip_unless_buildable()
    return build_distributions(tmp_path_factory.getbasetemp() / "envlock-dists")


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory, dists: Dists) -> HostPython:
    """The machine: JupyterLab and Jupyter Server importable, no node, no jupyter_envlock; then
    the wheel installed."""
    host = make_host_python(tmp_path_factory.mktemp("machine") / "venv")
    assert host.has_module("jupyterlab") and host.has_module("jupyter_server")
    assert not host.has_module("jupyter_envlock"), "the runner's jupyter_envlock leaked in"
    assert shutil.which("node", path=host.environ()["PATH"]) is None
    install_wheel(host, dists.wheel)
    return host


# --------------------------------------------------------------------------- tests


def test_build_gives_an_sdist_and_a_wheel_without_node(dists: Dists):
    with tarfile.open(dists.sdist) as sdist:
        top = dists.sdist.name.removesuffix(".tar.gz")
        members = {name.removeprefix(top + "/") for name in sdist.getnames()}
    for needed in (
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "labextension/package.json",
        "jupyter-config/jupyter_server_config.d/jupyter_envlock.json",
        "jupyter_envlock/labextension/static/style.js",  # the wheel builds from it without node
        "jupyter_envlock/labextension/package.json",
    ):
        assert needed in members, f"{needed} missing from the sdist"
    assert not any("node_modules" in name for name in members)

    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
        metadata = wheel.read(f"{info}/METADATA").decode()
    data = info.replace(".dist-info", ".data") + "/data/"
    for needed in (
        "etc/jupyter/jupyter_server_config.d/jupyter_envlock.json",
        "share/jupyter/labextensions/jupyter-envlock/package.json",
        "share/jupyter/labextensions/jupyter-envlock/install.json",
        "share/jupyter/labextensions/jupyter-envlock/static/style.js",
    ):
        assert data + needed in names, f"{needed} missing from the wheel's shared data"
    assert "jupyter_envlock/kernel_side/bootstrap.py" in names
    assert "jupyter_envlock/events/env-build.yaml" in names
    assert "envlock-provisioner = jupyter_envlock.provisioner:EnvlockProvisioner" in entry_points
    assert "jupyter-envlock = jupyter_envlock.entry:main" in entry_points
    assert re.search(r"^License-Expression: BSD-3-Clause$", metadata, re.MULTILINE)
    assert "Building wheel from sdist" in dists.log  # the sdist alone is enough to build


def test_installed_wheel_enables_both_extensions_without_node(host: HostPython):
    server = host.run("-m", "jupyter_server", "extension", "list")
    text = _ANSI.sub("", server.stdout + server.stderr)
    # Enabled by the config file the wheel put in this venv's etc/jupyter, and valid.
    section = _section(text, f"Config dir: {host.root / 'etc' / 'jupyter'}", "Config dir:")
    assert re.search(r"^\s*jupyter_envlock enabled\s*$", section, re.MULTILINE), text
    assert re.search(r"^\s*jupyter_envlock \S+ OK\s*$", section, re.MULTILINE), text

    lab = host.run("-m", "jupyterlab.labextensions", "list")
    text = _ANSI.sub("", lab.stdout + lab.stderr)
    section = _section(text, str(host.root / "share" / "jupyter" / "labextensions"), "/")
    assert re.search(
        r"^\s*jupyter-envlock v\S+ enabled OK \(python, jupyter-envlock\)\s*$",
        section,
        re.MULTILINE,
    ), text


def test_one_version_everywhere(host: HostPython, dists: Dists):
    """labextension/package.json's version is the wheel's, the package's and the extension's."""
    expected = package_json_version()
    assert dists.wheel.name.split("-")[1] == expected
    assert dists.sdist.name == f"jupyter_envlock-{expected}.tar.gz"
    code = "import jupyter_envlock; print(jupyter_envlock.__version__, jupyter_envlock.__file__)"
    reported, location = host.run("-c", code).stdout.split()
    assert reported == expected
    assert Path(location).is_relative_to(host.root), "imported from outside the installed wheel"
    cli = subprocess.run(
        [str(host.bin / "jupyter-envlock"), "--version"],
        env=host.environ(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert cli.stdout.strip() == expected
    built = host.root / "share" / "jupyter" / "labextensions" / "jupyter-envlock" / "package.json"
    assert str(Version(json.loads(built.read_text())["version"])) == expected


def _section(text: str, header: str, next_header: str) -> str:
    """The lines after the line starting with `header`, up to the next line starting with
    `next_header` (a config dir or labextensions dir block of the list commands)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(header):
            block = []
            for following in lines[i + 1 :]:
                if following.strip().startswith(next_header):
                    break
                block.append(following)
            return "\n".join(block)
    raise AssertionError(f"no {header!r} block in:\n{text}")
