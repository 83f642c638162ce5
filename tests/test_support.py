"""The offline test infrastructure works: wheels, wheelhouse, local index, env fixtures.

Everything else in the suite trusts these pieces, so prove them: tiny wheels install and import,
the index survives uv-style parallel fetches and really goes away when stopped, and a universal
kernel-env lock resolves against the local index alone (no PyPI).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import wheelhouse as wheelhouse_mod
from support.index import IndexServer
from support.wheelhouse import loads_toml
from support.wheels import build_wheel

KERNEL_REQUIREMENTS = ("ipykernel", "pip")


def _fetch(url: str, timeout: float = 10) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read()


def _venv(env, path: Path, python: str | os.PathLike[str] = sys.executable) -> Path:
    env.run_uv("venv", "--no-config", "--quiet", "--python", os.fspath(python), str(path))
    return path / "bin" / "python"


def _run_python(python: Path, code: str) -> str:
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def _compile(env, requirements: tuple[str, ...], tmp_path: Path, *extra: str) -> Path:
    req = tmp_path / "requirements.in"
    req.write_text("\n".join(requirements) + "\n")
    out = tmp_path / "pylock.toml"
    env.run_uv(
        "pip", "compile", "--no-config", "--quiet", "--format", "pylock.toml",
        *extra, "-o", str(out), str(req),
    )  # fmt: skip
    return out


def _locked_versions(pylock: Path) -> dict[str, list[str]]:
    versions: dict[str, list[str]] = {}
    for pkg in loads_toml(pylock.read_text())["packages"]:
        versions.setdefault(pkg["name"], []).append(pkg["version"])
    return versions


# --------------------------------------------------------------------------- wheels


def test_build_wheel_is_valid_and_deterministic(tmp_path: Path) -> None:
    first = build_wheel(
        tmp_path / "a", "Mixed_Case.Name", "0.1", ["tinya>=1"], ">=3.10", {"extra/data.txt": "hi"}
    )
    second = build_wheel(
        tmp_path / "b", "Mixed_Case.Name", "0.1", ["tinya>=1"], ">=3.10", {"extra/data.txt": "hi"}
    )
    assert first.name == "mixed_case_name-0.1-py3-none-any.whl"
    assert first.read_bytes() == second.read_bytes()

    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        assert "mixed_case_name/__init__.py" in names
        assert zf.read("mixed_case_name/__init__.py").decode().endswith('__version__ = "0.1"\n')
        metadata = zf.read("mixed_case_name-0.1.dist-info/METADATA").decode()
        assert "Name: Mixed_Case.Name\n" in metadata
        assert "Requires-Dist: tinya>=1\n" in metadata
        assert "Requires-Python: >=3.10\n" in metadata
        assert "Tag: py3-none-any" in zf.read("mixed_case_name-0.1.dist-info/WHEEL").decode()
        record = zf.read("mixed_case_name-0.1.dist-info/RECORD").decode().splitlines()
        assert names[-1] == "mixed_case_name-0.1.dist-info/RECORD"
        recorded = {line.split(",")[0]: line.split(",")[1:] for line in record}
        assert set(recorded) == set(names)
        for name in names:
            if name.endswith("RECORD"):
                continue
            data = zf.read(name)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert recorded[name] == [f"sha256={digest}", str(len(data))]


def test_tiny_wheels_catalogue(tiny_wheels) -> None:
    assert sorted(tiny_wheels["tinya"]) == ["1.0.0", "1.1.0", "2.0.0"]
    assert (
        tiny_wheels.path("Mixed_Case.Name", "0.1.0").name
        == "mixed_case_name-0.1.0-py3-none-any.whl"
    )
    assert "mixed-case-name" in tiny_wheels and "MIXED_CASE_NAME" in tiny_wheels
    assert all(p.parent == tiny_wheels.directory for v in tiny_wheels.values() for p in v.values())


def test_tiny_wheels_install_and_import(envlock_env, tmp_path: Path) -> None:
    python = _venv(envlock_env, tmp_path / "venv")
    envlock_env.run_uv(
        "pip", "install", "--no-config", "--quiet", "--python", str(python),
        "tinyb", "tinyd==1.0.0", "mixed-case-name",
    )  # fmt: skip
    versions = _run_python(
        python,
        "import tinya, tinyb, tinyd, mixed_case_name as m;"
        "print(tinya.__version__, tinyb.__version__, tinyd.__version__, m.__version__)",
    )
    assert versions == "2.0.0 1.0.0 1.0.0 0.1.0"


def test_tiny_wheel_dependency_shapes(envlock_env, tmp_path: Path) -> None:
    conflict = tmp_path / "conflict"
    conflict.mkdir()
    req = conflict / "requirements.in"
    req.write_text("tinyb\ntinyc\n")
    proc = envlock_env.run_uv("pip", "compile", "--no-config", str(req), check=False)
    assert proc.returncode != 0
    assert "unsatisfiable" in proc.stderr

    old = tmp_path / "py311"
    old.mkdir()
    (old / "requirements.in").write_text("tinypy313\n")
    proc = envlock_env.run_uv(
        "pip", "compile", "--no-config", "--python-version", "3.11",
        str(old / "requirements.in"), check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    new = tmp_path / "py313"
    new.mkdir()
    versions = _locked_versions(
        _compile(envlock_env, ("tinypy313",), new, "--python-version", "3.13")
    )
    assert versions == {"tinypy313": ["1.0.0"]}


# --------------------------------------------------------------------------- index and server


def test_index_pages(local_index, tiny_wheels) -> None:
    root_page = _fetch(local_index.url + "/").decode()
    for project in ("tinya", "mixed-case-name", "ipykernel", "hatchling"):
        assert f'href="{project}/"' in root_page

    page = _fetch(local_index.url + "/tinya/").decode()
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        wheel = tiny_wheels.path("tinya", version)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert f'href="{wheel.name}#sha256={digest}"' in page
    assert 'data-requires-python="&gt;=3.13"' in local_index.project_page("tinypy313")

    # PEP 658: metadata served beside the wheel, its hash in the page.
    wheel = tiny_wheels.path("tinyb", "1.0.0")
    metadata = _fetch(f"{local_index.url}/tinyb/{wheel.name}.metadata")
    assert b"Requires-Dist: tinya>=1.1" in metadata
    assert f'data-core-metadata="sha256={hashlib.sha256(metadata).hexdigest()}"' in (
        local_index.project_page("tinyb")
    )
    # A directory without its slash redirects, so relative links keep working.
    assert _fetch(local_index.url + "/tinya") == page.encode()


def test_index_pages_in_json_carry_upload_times(local_index) -> None:
    """PEP 691 by content negotiation, with PEP 700's upload-time (what --exclude-newer reads)."""
    local_index.add_wheel("tinyjson", "1.0.0", upload_time="2026-05-01T00:00:00Z")
    local_index.add_wheel("tinyjson", "2.0.0")
    request = urllib.request.Request(
        local_index.url + "/tinyjson/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.01"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.headers["Content-Type"] == "application/vnd.pypi.simple.v1+json"
        page = json.loads(resp.read())
    assert page["meta"]["api-version"] == "1.1" and page["versions"] == ["1.0.0", "2.0.0"]
    times = {f["filename"]: f["upload-time"] for f in page["files"]}
    assert times["tinyjson-1.0.0-py3-none-any.whl"] == "2026-05-01T00:00:00Z"
    assert times["tinyjson-2.0.0-py3-none-any.whl"] > "2026-05-01T00:00:00Z"  # now
    assert all(f["hashes"]["sha256"] and f["size"] > 0 for f in page["files"])
    # The wheelhouse and tiny wheels were "uploaded" long before any date a test locks as of.
    tinya = json.loads((local_index.root / "simple" / "tinya" / "index.json").read_text())
    assert {f["upload-time"] for f in tinya["files"]} == {"2024-01-01T00:00:00Z"}
    assert b"<html>" in _fetch(local_index.url + "/tinyjson/")  # no Accept: HTML, as before


def test_server_survives_parallel_fetches(local_index, tiny_wheels) -> None:
    urls = []
    expected = {}
    projects = ["tinya", "tinyb", "tinyc", "tinyd", "mixed-case-name", "ipykernel", "pyzmq", "pip"]
    for i in range(50):
        if i % 2:
            project = projects[i % len(projects)]
            url = f"{local_index.url}/{project}/"
            path = local_index.root / "simple" / project / "index.html"
        else:
            wheel = sorted(p for v in tiny_wheels.values() for p in v.values())[i % 9]
            project = wheel.name.split("-")[0].replace("_", "-")
            url = f"{local_index.url}/{project}/{wheel.name}"
            path = wheel
        urls.append(url)
        expected[url] = path.read_bytes()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        bodies = list(pool.map(_fetch, urls))
    elapsed = time.monotonic() - started
    assert [expected[url] == body for url, body in zip(urls, bodies, strict=True)] == [True] * 50
    # A 5-connection backlog would drop some and cost ~1 s retries; this must be quick.
    assert elapsed < 5


def test_stopped_server_refuses_fetches(local_index) -> None:
    server = local_index.extra_server()
    with server:
        assert b"tinya" in _fetch(server.url + "/")
        assert server.requests == ["/simple/"]
        server.fail_status = 503
        with pytest.raises(urllib.error.HTTPError) as info:
            _fetch(server.url + "/tinya/")
        assert info.value.code == 503
        info.value.close()  # an HTTPError holds the response (and its socket) open
    assert not server.running
    with pytest.raises(urllib.error.URLError):
        _fetch(server.url + "/", timeout=5)
    # The session index is unaffected.
    assert b"tinya" in _fetch(local_index.url + "/")


def test_revalidation_uses_etag(local_index) -> None:
    url = local_index.url + "/tinya/"
    with urllib.request.urlopen(url) as resp:
        etag = resp.headers["ETag"]
        assert resp.headers["Cache-Control"] == "max-age=0, must-revalidate"
        assert resp.headers["Last-Modified"] is None
    request = urllib.request.Request(url, headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request)
    assert info.value.code == 304
    info.value.close()  # an HTTPError holds the response (and its socket) open


def test_published_version_is_seen_through_uv_cache(envlock_env, local_index, tmp_path) -> None:
    local_index.add_wheel("tinypub-support", "1.0.0")
    first = tmp_path / "first"
    first.mkdir()
    assert _locked_versions(_compile(envlock_env, ("tinypub-support",), first)) == {
        "tinypub-support": ["1.0.0"]
    }
    # Same uv cache (UV_CACHE_DIR is session-wide): the rewritten page must be refetched.
    local_index.add_wheel("tinypub-support", "1.1.0", requires=["tinyd<1.1"])
    second = tmp_path / "second"
    second.mkdir()
    assert _locked_versions(_compile(envlock_env, ("tinypub-support",), second)) == {
        "tinypub-support": ["1.1.0"],
        "tinyd": ["1.0.0"],
    }
    assert sorted(local_index.published["tinypub-support"]) == ["1.0.0", "1.1.0"]
    # Republishing identical bytes is fine; different bytes for a published version are not.
    local_index.add_wheel("tinypub-support", "1.0.0")
    with pytest.raises(ValueError, match="different contents"):
        local_index.add_wheel("tinypub-support", "1.0.0", requires=["tinya"])


# --------------------------------------------------------------------------- wheelhouse


def test_wheelhouse_is_complete_small_and_reused(wheelhouse: Path, monkeypatch) -> None:
    record = wheelhouse_mod.read_marker(wheelhouse)
    assert record is not None
    files = list(wheelhouse_mod.iter_distributions(wheelhouse))
    assert sum(p.stat().st_size for p in files) < 100_000_000
    names = {p.name.split("-")[0].lower() for p in files}
    assert {"ipykernel", "pip", "hatchling", "pyzmq", "debugpy"} <= names

    def no_network(*args, **kwargs):
        raise AssertionError("a complete wheelhouse must not be fetched again")

    monkeypatch.setattr(wheelhouse_mod, "_resolve", no_network)
    monkeypatch.setattr(wheelhouse_mod, "_download", no_network)
    assert wheelhouse_mod.ensure_wheelhouse(wheelhouse, quiet=True) == wheelhouse


def test_wheel_selection_rules() -> None:
    def wheel(filename: str, size: int) -> dict:
        url = f"https://files.example/{filename}"
        return {"url": url, "size": size, "hashes": {"sha256": "0" * 64}}

    lock = {
        "packages": [
            {  # pure + compiled wheels: the pure one serves every Python
                "name": "speedy",
                "version": "1.0",
                "wheels": [
                    wheel("speedy-1.0-py3-none-any.whl", 500),
                    wheel("speedy-1.0-cp311-cp311-manylinux_2_34_x86_64.whl", 400),
                ],
            },
            {  # only needed on 3.10: only the cp310 build, and the oldest-glibc one
                "name": "compiled",
                "version": "2.0",
                "marker": "python_full_version == '3.10.*'",
                "wheels": [
                    wheel("compiled-2.0-cp310-cp310-manylinux_2_28_x86_64.whl", 10),
                    wheel(
                        "compiled-2.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                        10,
                    ),
                    wheel("compiled-2.0-cp311-cp311-manylinux_2_17_x86_64.whl", 10),
                    wheel("compiled-2.0-cp310-cp310-musllinux_1_2_x86_64.whl", 10),
                    wheel("compiled-2.0-cp310-cp310-win_amd64.whl", 10),
                ],
            },
            {  # Windows-only: one wheel, the smallest, for its metadata
                "name": "winonly",
                "version": "3.0",
                "marker": "sys_platform == 'win32'",
                "wheels": [
                    wheel("winonly-3.0-cp310-abi3-win_amd64.whl", 900),
                    wheel("winonly-3.0-cp310-abi3-win32.whl", 800),
                ],
            },
            {  # PyPy-only with only CPython builds: the smallest per Python, for uv's tag check
                "name": "pypyonly",
                "version": "4.0",
                "marker": "implementation_name == 'pypy'",
                "wheels": [
                    wheel(f"pypyonly-4.0-cp3{minor}-cp3{minor}-{plat}.whl", size)
                    for minor in (10, 11, 12, 13, 14)
                    for plat, size in (("win32", 100 + minor), ("manylinux_2_17_x86_64", 900))
                ],
            },
        ]
    }
    files, metadata_only = wheelhouse_mod.select_files(lock)
    assert sorted(f.filename for f in files) == [
        "compiled-2.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "pypyonly-4.0-cp310-cp310-win32.whl",
        "pypyonly-4.0-cp311-cp311-win32.whl",
        "pypyonly-4.0-cp312-cp312-win32.whl",
        "pypyonly-4.0-cp313-cp313-win32.whl",
        "speedy-1.0-py3-none-any.whl",
        "winonly-3.0-cp310-abi3-win32.whl",
    ]
    assert metadata_only == ["winonly 3.0", "pypyonly 4.0"]


def test_universal_lock_against_local_index_only(envlock_env, local_index, tmp_path) -> None:
    """The kernel env set resolves universally from the local index, with no PyPI fallback."""
    timings = {}
    for label, extra in (("cold", ("--cache-dir", str(tmp_path / "cold-cache"))), ("warm", ())):
        work = tmp_path / label
        work.mkdir()
        started = time.monotonic()
        pylock = _compile(
            envlock_env,
            KERNEL_REQUIREMENTS,
            work,
            "--universal",
            "--python-version",
            "3.10",
            *extra,
        )
        timings[label] = time.monotonic() - started
    print(f"universal lock of {' '.join(KERNEL_REQUIREMENTS)} against the local index: "
          f"cold {timings['cold']:.2f} s, warm {timings['warm']:.2f} s")  # fmt: skip

    lock = loads_toml(pylock.read_text())
    versions = _locked_versions(pylock)
    assert {"ipykernel", "pip", "pyzmq", "tornado", "jupyter-client"} <= set(versions)
    urls = [w["url"] for pkg in lock["packages"] for w in pkg.get("wheels", [])]
    urls += [pkg["sdist"]["url"] for pkg in lock["packages"] if "sdist" in pkg]
    assert urls and all(u.startswith(local_index.server.base_url + "/") for u in urls)
    assert timings["cold"] < 30


@pytest.mark.slow
@pytest.mark.parametrize("minor", ["3.10", "3.11", "3.12", "3.13"])
def test_kernel_env_installs_from_local_lock(envlock_env, tmp_path, minor) -> None:
    """The universal lock installs and imports ipykernel on every CPython these machines have."""
    python = envlock_env.pythons.get(minor)
    if python is None:
        pytest.skip(f"no pyenv Python {minor} here")
    pylock = _compile(
        envlock_env, KERNEL_REQUIREMENTS, tmp_path, "--universal", "--python-version", "3.10"
    )
    venv_python = _venv(envlock_env, tmp_path / "venv", python)
    envlock_env.run_uv(
        "pip", "sync", "--no-config", "--quiet", "--python", str(venv_python), str(pylock)
    )
    out = _run_python(
        venv_python, "import sys, ipykernel, zmq, debugpy; print(sys.version_info[:2])"
    )
    assert out == f"({minor.replace('.', ', ')})"


def test_editable_install_builds_with_local_hatchling(envlock_env, make_project, tmp_path) -> None:
    """A project with a build system builds in isolation using hatchling from the local index."""
    project = make_project("editable-demo", deps=["tinya<2"], build_system=True)
    python = _venv(envlock_env, tmp_path / "venv")
    envlock_env.run_uv(
        "pip", "install", "--no-config", "--quiet", "--python", str(python), "-e", str(project)
    )
    assert _run_python(python, "import editable_demo, tinya; print(tinya.__version__)") == "1.1.0"


# --------------------------------------------------------------------------- environment fixtures


def test_envlock_env_scrubs_machine_settings(monkeypatch, request, local_index, tmp_path) -> None:
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///opt/pypi/simple")
    monkeypatch.setenv("UV_INDEX_URL", "https://example.invalid/simple")
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    monkeypatch.setenv("VIRTUAL_ENV", "/somewhere")
    monkeypatch.setenv("JUPYTER_ENVLOCK_SOMETHING", "x")
    env = request.getfixturevalue("envlock_env")

    assert {k for k in os.environ if k.startswith("PIP_")} == {"PIP_CONFIG_FILE"}
    assert os.environ["PIP_CONFIG_FILE"] == os.devnull
    assert {k for k in os.environ if k.startswith("UV_")} == {
        "UV_CACHE_DIR", "UV_DEFAULT_INDEX", "UV_PYTHON_DOWNLOADS", "UV_NO_PROGRESS",
    }  # fmt: skip
    assert "VIRTUAL_ENV" not in os.environ
    assert {k for k in os.environ if k.startswith("JUPYTER_ENVLOCK_")} == {
        "JUPYTER_ENVLOCK_CACHE_DIR", "JUPYTER_ENVLOCK_DATA_DIR",
    }  # fmt: skip
    # the trust store too is the test's own, never the user's
    assert os.environ["JUPYTER_ENVLOCK_DATA_DIR"] == str(tmp_path / "envlock-cache-data")
    assert os.environ["UV_DEFAULT_INDEX"] == env.index_url == local_index.url
    assert os.environ["UV_CACHE_DIR"] == str(env.uv_cache_dir)
    assert os.environ["JUPYTER_ENVLOCK_CACHE_DIR"] == str(tmp_path / "envlock-cache")
    if env.pythons:
        assert os.environ["PYENV_VERSION"] == env.pyenv_version
        current = f"{sys.version_info.major}.{sys.version_info.minor}."
        assert env.pyenv_version.startswith(current)
        assert len(env.pyenv_version.split(":")) == len(env.pythons)


def test_pyenv_shims_resolve_every_python(envlock_env) -> None:
    if not envlock_env.pythons:
        pytest.skip("no pyenv here")
    for minor in envlock_env.pythons:
        out = subprocess.run(
            [f"python{minor}", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert out == minor


def test_make_project(make_project, tmp_path: Path) -> None:
    plain = make_project()
    assert plain == tmp_path / "demo"
    data = loads_toml((plain / "pyproject.toml").read_text())
    assert data == {
        "project": {
            "name": "demo",
            "version": "0.1.0",
            "requires-python": ">=3.10",
            "dependencies": [],
        }
    }
    assert make_project() == tmp_path / "demo-2"

    full = make_project(
        "sales", deps=["tinya>=1", 'tinyd; python_version >= "3.10"'],
        groups={"dev": ["tinyb"]}, build_system=True, folder="nested/sales-project",
    )  # fmt: skip
    assert full == tmp_path / "nested" / "sales-project"
    data = loads_toml((full / "pyproject.toml").read_text())
    assert data["project"]["dependencies"] == ["tinya>=1", 'tinyd; python_version >= "3.10"']
    assert data["dependency-groups"] == {"dev": ["tinyb"]}
    assert data["build-system"]["build-backend"] == "hatchling.build"
    assert (full / "sales" / "__init__.py").is_file()

    raw = make_project(text="not = 'checked'\n", folder=tmp_path / "raw")
    assert (raw / "pyproject.toml").read_text() == "not = 'checked'\n"


def test_index_server_standalone(tmp_path: Path) -> None:
    """IndexServer works on any folder, without the session fixtures."""
    (tmp_path / "simple").mkdir()
    (tmp_path / "simple" / "index.html").write_text("<html></html>")
    with IndexServer(tmp_path) as server:
        assert server.url == f"http://127.0.0.1:{server.port}/simple"
        assert _fetch(server.url + "/") == b"<html></html>"
        with pytest.raises(urllib.error.HTTPError):
            _fetch(server.url + "/missing/")
