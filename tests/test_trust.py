"""Opening someone else's repository is safe (issue 9), as a user meets it.

Every test runs in a sandbox (tests/support/sandbox.py): a fake HOME with victims around it, every
Jupyter, XDG, uv and envlock folder inside the test's tmp_path. The hostile repositories are
tests/support/hostile.py's, written under the server root. Everything goes through the stable
interfaces: `python -m jupyter_envlock ...` as a process, a real in-process jupyter_server with
the extension (REST, sessions, kernels), and a real `jupyter server` process where signals matter.
After every automatic path and every command the sentinels are byte-for-byte unchanged and no
canary exists (``sandbox.assert_safe()``).

The interfaces these tests use are the ones phase B implements (see /work/notes/trust-findings.md):

- the trust store in ``JUPYTER_ENVLOCK_DATA_DIR`` / platformdirs user_data_dir;
- ``jupyter envlock trust [--project DIR] [--revoke] [--json]``;
- ``status --json`` has ``"trust": {"trusted", "source", "plan": {packages, indexes,
  source_builds, editable}}``;
- an untrusted kernel start from the server: refused before anything runs, with a message
  holding "not trusted", the plan and ``jupyter envlock trust --project ...``: HTTP 403 from
  ``POST /api/kernels``; ``POST /api/sessions`` answers 500 (jupyter_server's sessions handler
  turns every failed kernel start into a 500 carrying the error's text, whatever its status);
- REST: ``status.trust`` in ``GET project``; ``POST project/trust``; 403 ``UntrustedProject`` for
  ``POST project/(add|remove|sync|lock)`` on an untrusted project;
- ``EnvlockApp.trust_all_projects = True`` trusts everything below the root.

Until phase B lands, the tests of behaviour that does not exist yet fail; the module docstring of
each section says which.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kernel_support import execute, start_session
from packaging.markers import Marker, default_environment
from support import hostile
from support.cli import EnvlockRun, run_envlock
from support.sandbox import VICTIM_PACKAGE, Sandbox
from support.server_config import select_traits
from support.server_process import ServerProcess
from test_security import call
from traitlets.config import Config

from jupyter_envlock.core.environment import installed_distributions
from jupyter_envlock.core.trust import TrustStore

pytestmark = pytest.mark.slow

TRUST_HINT = "jupyter envlock trust --project"
# What POST /api/sessions answers for a refused kernel start: jupyter_server's sessions handler
# catches every exception of the start and raises HTTPError(500, str(error)); POST /api/kernels
# passes the provisioner's 403 through (test_direct_kernel_start_is_refused_too).
SESSION_REFUSED = 500


# --------------------------------------------------------------------------- helpers


def envlock(*args: str, cwd: Path | None = None, timeout: float = 300) -> EnvlockRun:
    """`python -m jupyter_envlock ARGS`, as a terminal or a CI job runs it, in the sandbox's
    environment (inherited from os.environ). The working directory is the sandbox's base unless a
    test means the project folder."""
    base = Path(os.environ["JUPYTER_ENVLOCK_CACHE_DIR"]).parent
    return run_envlock(
        *args, cwd=cwd if cwd is not None else base, timeout=timeout, errors="replace"
    )


def envlock_json(*args: str) -> tuple[int, dict[str, Any]]:
    proc = envlock(*args, "--json")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.json()


def trust(project: Path) -> None:
    """What the user types to trust a project."""
    proc = envlock("trust", "--project", str(project))
    assert proc.returncode == 0, proc.stderr


def kernel_name_of(project: Path) -> str:
    """The kernel the committed notebook names (JupyterLab starts it when the notebook opens)."""
    nb = json.loads((project / "analysis.ipynb").read_text())
    return nb["metadata"]["kernelspec"]["name"]


def assert_clean_failure(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """A refusal a user can read: non-zero exit, an `error:` line, no traceback, the needles."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    assert any(line.startswith("error: ") for line in proc.stderr.splitlines()), proc.stderr
    for needle in needles:
        assert needle in proc.stderr, (needle, proc.stderr)


def uv_ran(sb: Sandbox) -> bool:
    """Whether any uv ran with the sandbox's settings: its cache starts empty."""
    return sb.uv_cache.exists() and any(sb.uv_cache.iterdir())


def envs_built(sb: Sandbox) -> list[str]:
    envs = sb.envlock_cache / "envs"
    return sorted(p.name for p in envs.iterdir()) if envs.exists() else []


def machine_packages(project: Path) -> int:
    """How many lock entries apply to this machine and this Python (what a build installs)."""
    import tomllib

    lock = tomllib.loads((project / "pylock.toml").read_text())
    env = default_environment()
    return sum(
        1 for p in lock["packages"] if not p.get("marker") or Marker(p["marker"]).evaluate(env)
    )


def site_packages(env: Path) -> list[Path]:
    return list(env.glob("lib/python*/site-packages"))


def legacy_env(sb: Sandbox, project: Path) -> Path:
    """An env as envlock left it before the trust step existed (its layout as of commit 2130f46:
    ``<cache>/envs/<name>-<sha256(root)[:8]>-pyX.Y`` holding ``.envlock-sync.json``), made here
    with uv so that no envlock code of any later version decides what it looks like."""
    import hashlib

    root = project.resolve()
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    key = hashlib.sha256(str(root).encode()).hexdigest()[:8]
    env = sb.envlock_cache / "envs" / f"{root.name}-{key}-py{minor}"
    subprocess.run([sb.uv, "venv", "--no-config", "--quiet", "--python", sys.executable, str(env)],
                   check=True, capture_output=True)  # fmt: skip
    marker = {"lock-sha256": "0" * 64, "project": str(root), "editable": False, "dists": []}
    (env / ".envlock-sync.json").write_text(json.dumps(marker))
    return env


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def jp_server_config(jp_server_config: Config, request: pytest.FixtureRequest) -> Config:
    """The real extension, as installed (conftest's); `trust_all` turns on
    EnvlockApp.trust_all_projects."""
    return select_traits(
        jp_server_config, request, trust_all={"EnvlockApp": {"trust_all_projects": True}}
    )


@pytest.fixture
def trust_all() -> None:
    """Selects EnvlockApp.trust_all_projects = True for this test's server."""


@pytest.fixture
def server(sandbox: Sandbox, jp_serverapp: Any) -> Any:
    """The in-process server over the sandbox's root (pytest-jupyter's root_dir is the same
    folder), started after the sandbox so that it sees the sandbox's environment."""
    assert Path(jp_serverapp.root_dir) == sandbox.root_dir
    assert jp_serverapp.extension_manager.extension_apps.get("jupyter_envlock")
    # pytest-jupyter wrote its echo kernel spec into the sandbox's data dir when the server
    # came up (after the sandbox's baseline): from here on it is a sentinel like the others.
    sandbox.baseline = sandbox.snapshot()
    return jp_serverapp


def build(sb: Sandbox, name: str) -> Path:
    """A hostile repository from the catalogue under the server root; the first project of a
    pair."""
    result = hostile.SIMPLE_BUILDERS[name](sb.root_dir / name, sb)
    # A builder that locks (a hostile lock is a current one plus its entry) filled the sandbox's
    # uv cache: empty it again, so that `uv_ran` says whether envlock ran uv afterwards.
    shutil.rmtree(sb.uv_cache)
    sb.uv_cache.mkdir()
    return result[0] if isinstance(result, tuple) else result


def refresh(server: Any) -> None:
    server.kernel_spec_manager.refresh()


# Every repository of the catalogue whose first kernel start must be harmless.
AUTOMATIC = sorted(hostile.SIMPLE_BUILDERS)


# =========================================================================== untrusted
# Until trusted, no automatic path creates or changes an env or runs anything from the project.
# Today every kernel start builds: these tests fail until phase B (except the read-only paths).


@pytest.mark.parametrize("name", AUTOMATIC)
async def test_untrusted_kernel_start_is_refused_and_touches_nothing(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any], name: str
) -> None:
    project = build(sandbox, name)
    refresh(server)
    before = sandbox.snapshot(sandbox.root_dir)
    code, body = await start_session(jp_fetch, f"{name}/analysis.ipynb", kernel_name_of(project))
    assert code == SESSION_REFUSED, body
    message = body.get("message", "")
    assert "not trusted" in message, message
    assert TRUST_HINT in message, message
    assert "Traceback" not in message
    sandbox.assert_safe(before, sandbox.root_dir)
    assert not uv_ran(sandbox), "uv ran for an untrusted project"
    assert envs_built(sandbox) == []
    assert server.kernel_manager.list_kernel_ids() == []


@pytest.mark.parametrize("tool", ["uv", "poetry"])
async def test_untrusted_uv_and_poetry_projects_run_no_tool_and_no_code(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any], tool: str
) -> None:
    """A cloned uv or Poetry project (its lock names the tool) whose build backend is its own:
    its kernel start is refused before uv or Poetry runs (they would read the repository's
    settings, make a .venv in it and import its backend), with what building would do."""
    project = hostile.in_tree_backend(sandbox.root_dir / f"{tool}-repo", sandbox)
    if tool == "uv":
        (project / "uv.lock").write_text('version = 1\nrequires-python = ">=3.10"\n')
    else:
        (project / "poetry.lock").write_text('[metadata]\nlock-version = "2.1"\n')
    refresh(server)
    code, listing = await call(jp_fetch, "GET", ("project",), params={"path": f"{tool}-repo"})
    assert code == 200, listing
    assert listing["status"]["project"]["manager"] == tool, listing["status"]["project"]
    assert listing["status"]["trust"]["trusted"] is False
    before = sandbox.snapshot(sandbox.root_dir)
    code, body = await start_session(jp_fetch, f"{tool}-repo/analysis.ipynb",
                                     kernel_name_of(project))  # fmt: skip
    assert code == SESSION_REFUSED, body
    assert "not trusted" in body["message"] and TRUST_HINT in body["message"], body["message"]
    code, refused = await call(jp_fetch, "POST", ("project", "sync"), {"path": f"{tool}-repo"})
    assert code == 403 and refused["error"]["type"] == "UntrustedProject", refused
    sandbox.assert_safe(before, sandbox.root_dir)
    assert not (project / ".venv").exists()
    assert not uv_ran(sandbox)
    assert server.kernel_manager.list_kernel_ids() == []


async def test_untrusted_kernel_start_says_what_building_would_do(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    """The refusal names the plan: packages for this machine, the index, source builds."""
    project = build(sandbox, "lock-sdist")
    refresh(server)
    code, body = await start_session(jp_fetch, "lock-sdist/analysis.ipynb", kernel_name_of(project))
    assert code == SESSION_REFUSED, body
    message = body["message"]
    assert "sdist-helper" in message, message  # built from source
    assert re.search(rf"\b{machine_packages(project)} packages\b", message), message
    assert f"{TRUST_HINT} {project}" in message or f"{TRUST_HINT} lock-sdist" in message, message
    sandbox.assert_safe()


async def test_untrusted_kernel_start_names_the_index_and_the_editable_install(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    project = build(sandbox, "in-tree-backend")
    refresh(server)
    code, body = await start_session(jp_fetch, "in-tree-backend/analysis.ipynb",
                                     kernel_name_of(project))  # fmt: skip
    assert code == SESSION_REFUSED, body
    assert "editable" in body["message"], body["message"]
    assert os.environ["UV_DEFAULT_INDEX"] in body["message"], body["message"]
    sandbox.assert_safe()


async def test_direct_kernel_start_is_refused_too(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    """POST /api/kernels (what "change kernel" uses), not only sessions."""
    project = build(sandbox, "uv-pip-target")
    refresh(server)
    response = await jp_fetch("api", "kernels", method="POST", raise_error=False,
                              body=json.dumps({"name": kernel_name_of(project)}),
                              request_timeout=120)  # fmt: skip
    assert response.code == 403, response.body
    assert "not trusted" in json.loads(response.body)["message"]
    assert server.kernel_manager.list_kernel_ids() == []
    sandbox.assert_safe()


async def test_listing_and_polling_hostile_projects_run_nothing(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    """The background scan, GET projects (the panel's list) and GET project (its poll) on every
    hostile repository at once: reads only (this holds today; it must keep holding)."""
    projects = [build(sandbox, name) for name in AUTOMATIC]
    refresh(server)
    before = sandbox.snapshot(sandbox.root_dir)
    code, listing = await call(jp_fetch, "GET", ("projects",))
    assert code == 200, listing
    assert {p["path"] for p in listing["projects"]} >= {"in-tree-backend", "lock-sdist"}
    for project in projects:
        rel = project.relative_to(sandbox.root_dir).as_posix()
        code, body = await call(jp_fetch, "GET", ("project",), params={"path": rel})
        assert code in (200, 400), (rel, body)
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert "envlock-in-tree-backend" in specs
    sandbox.assert_safe(before, sandbox.root_dir)
    assert not uv_ran(sandbox)


async def test_panel_poll_of_an_untrusted_project_shows_its_trust(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    for name in ("in-tree-backend", "lock-sdist", "env-at-local"):
        build(sandbox, name)
        code, body = await call(jp_fetch, "GET", ("project",), params={"path": name})
        assert code == 200, body
        assert body["status"]["trust"]["trusted"] is False
        assert body["status"]["trust"]["source"] is None
        assert set(body["status"]["trust"]["plan"]) >= {"packages", "indexes", "source_builds",
                                                        "editable"}  # fmt: skip
    sandbox.assert_safe()


ACTIONS = [
    ("add", {"specs": ["tinyd"]}),
    ("remove", {"names": ["tinya"]}),
    ("sync", {}),
    ("lock", {}),
    ("upgrade", {"all": True}),
]


@pytest.mark.parametrize("name", ["in-tree-backend", "uv-pip-target", "env-at-local",
                                  "git-file-requirement", "lock-sdist"])  # fmt: skip
@pytest.mark.parametrize("action, extra", ACTIONS, ids=[a for a, _ in ACTIONS])
async def test_panel_actions_on_an_untrusted_project_are_403(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any], name: str, action: str, extra: dict
) -> None:
    build(sandbox, name)
    before = sandbox.snapshot(sandbox.root_dir)
    code, body = await call(jp_fetch, "POST", ("project", action), {"path": name, **extra})
    assert code == 403, body
    assert body["error"]["type"] == "UntrustedProject", body
    assert TRUST_HINT in body["error"]["message"]
    sandbox.assert_safe(before, sandbox.root_dir)
    assert not uv_ran(sandbox)


@pytest.mark.parametrize("manager", ["server-kernel-manager", "headless-kernel-manager"])
async def test_the_gate_fails_closed_when_no_server_is_found(
    sandbox: Sandbox, manager: str
) -> None:
    """The provisioner finds its server through its kernel manager's parents. A kernel manager
    of jupyter_server's whose server cannot be found (a change upstream) still gets the check,
    with the user's store; a headless client's (nbclient, papermill) is the user's command."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

    from jupyter_envlock.provisioner import EnvlockProvisioner, KernelStartError

    project = hostile.write_manifest(sandbox.root_dir / "lost", "lost")
    kernel_manager = (
        ServerKernelManager() if manager == "server-kernel-manager" else AsyncKernelManager()
    )
    spec = KernelSpec(name="envlock-lost", argv=["python"], display_name="lost", language="python")
    provisioner = EnvlockProvisioner(kernel_id="k1", kernel_spec=spec, parent=kernel_manager,
                                     project_path=str(project))  # fmt: skip
    if manager == "server-kernel-manager":
        with pytest.raises(KernelStartError) as refused:
            await provisioner.require_trust()
        assert refused.value.status_code == 403 and "not trusted" in str(refused.value)
    else:
        await provisioner.require_trust()
    sandbox.assert_safe()


async def test_outdated_of_an_untrusted_project_asks_no_index(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    """GET project/outdated runs uv on the packages the repository names (an sdist may be built
    to read its metadata): refused like an action until trusted; GET project/tree reads files
    only and answers."""
    build(sandbox, "lock-sdist")
    code, body = await call(jp_fetch, "GET", ("project", "outdated"), params={"path": "lock-sdist"})
    assert code == 403, body
    assert body["error"]["type"] == "UntrustedProject", body
    code, body = await call(jp_fetch, "GET", ("project", "tree"), params={"path": "lock-sdist"})
    assert code == 200, body
    assert not uv_ran(sandbox)
    sandbox.assert_safe()


async def test_kernel_specs_list_no_dot_names_and_keep_the_users_python3(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    for kernel_name in ("..", ".", "python3"):
        label = {"..": "dotdot", ".": "dot"}.get(kernel_name, kernel_name)
        hostile.kernel_named(sandbox.root_dir / f"kernel-{label}", sandbox, kernel_name)
    refresh(server)
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert all(re.match(r"^[a-z0-9]", name) for name in specs), sorted(specs)
    assert specs["python3"]["spec"]["display_name"] == "Python 3 (the user's own)"
    sandbox.assert_safe()


# =========================================================================== trusting


def test_trust_command_records_the_project_and_status_shows_it(sandbox: Sandbox) -> None:
    project = build(sandbox, "in-tree-backend")
    code, status = envlock_json("status", "--project", str(project))
    assert code == 0
    assert status["trust"] == {
        "trusted": False,
        "source": None,
        "plan": {"packages": None, "indexes": [os.environ["UV_DEFAULT_INDEX"]],
                 "source_builds": [], "editable": True},
    }  # fmt: skip
    code, doc = envlock_json("trust", "--project", str(project))
    assert code == 0, doc
    store = json.loads((sandbox.envlock_data / "trust.json").read_text())
    assert list(store["projects"]) == [str(project.resolve())]
    assert envlock_json("status", "--project", str(project))[1]["trust"]["source"] == "user"
    code, doc = envlock_json("trust", "--project", str(project), "--revoke")
    assert code == 0, doc
    assert envlock_json("status", "--project", str(project))[1]["trust"]["trusted"] is False
    sandbox.assert_safe()


def test_trust_through_a_symlink_trusts_the_real_folder(sandbox: Sandbox) -> None:
    project = build(sandbox, "uv-pip-target")
    alias = sandbox.root_dir / "alias"
    alias.symlink_to(project)
    trust(alias)
    assert TrustStore(sandbox.envlock_data / "trust.json").is_trusted(project)


@pytest.mark.parametrize(
    "name, plan",
    [
        ("lock-sdist", {"source_builds": ["sdist-helper"], "editable": False}),
        ("lock-directory", {"source_builds": ["dir-helper"], "editable": False}),
        ("lock-vcs", {"source_builds": ["vcs-helper"], "editable": False}),
        ("lock-pth-wheel", {"source_builds": [], "editable": False}),
        ("uv-pip-target", {"packages": None, "source_builds": [], "editable": False}),
    ],
)
def test_status_plan_of_hostile_locks(sandbox: Sandbox, name: str, plan: dict) -> None:
    """A hostile lock is a current one (the kernel's ipykernel and its dependencies) plus the
    entry it wants installed: the plan counts them all and names what builds from source."""
    project = build(sandbox, name)
    code, status = envlock_json("status", "--project", str(project))
    assert code == 0
    got = status["trust"]["plan"]
    if (project / "pylock.toml").exists():
        plan = {**plan, "packages": machine_packages(project)}
    assert {k: got[k] for k in plan} == plan
    sandbox.assert_safe()


def test_the_plan_names_where_files_are_not_the_index_a_lock_claims(sandbox: Sandbox) -> None:
    """A lock entry may say `index = "https://pypi.org/simple"` beside a wheel from anywhere:
    the plan a user reads before trusting names the wheel's host."""
    project = hostile._lock_with(
        sandbox.root_dir / "claims", "claims",
        """
[[packages]]
name = "claimed"
version = "1.0.0"
index = "https://pypi.org/simple"
wheels = [{ name = "claimed-1.0.0-py3-none-any.whl", url = "https://files.evil.example/claimed-1.0.0-py3-none-any.whl", hashes = { sha256 = "%s" } }]
""" % ("0" * 64),
    )  # fmt: skip
    code, status = envlock_json("status", "--project", str(project))
    assert code == 0, status
    indexes = status["trust"]["plan"]["indexes"]
    assert "https://files.evil.example" in indexes and "https://pypi.org/simple" not in indexes
    sandbox.assert_safe()


def test_status_plan_counts_this_machines_packages_and_strips_credentials(
    sandbox: Sandbox,
) -> None:
    url = os.environ["UV_DEFAULT_INDEX"]
    secret_url = url.replace("http://", "http://someone:s3cret@")
    extra = f'[[tool.uv.index]]\nname = "team"\nurl = "{secret_url}"\n'
    project = hostile.locked_project(sandbox.root_dir / "team", "team", ("tinya",), extra)
    proc = envlock("status", "--project", str(project), "--json")
    assert "s3cret" not in proc.stdout + proc.stderr
    plan = json.loads(proc.stdout)["trust"]["plan"]
    assert plan["packages"] == machine_packages(project)
    assert url in plan["indexes"]


def test_a_project_the_user_creates_is_trusted(sandbox: Sandbox) -> None:
    folder = sandbox.root_dir / "fresh"
    folder.mkdir()
    proc = envlock("add", "--project", str(folder), "--no-sync", "tinya")
    assert proc.returncode == 0, proc.stderr
    assert envlock_json("status", "--project", str(folder))[1]["trust"]["source"] == "created"


def test_a_project_whose_env_envlock_built_before_trust_existed_is_trusted(
    sandbox: Sandbox,
) -> None:
    """Upgrading must not ask about every own project: an env envlock built for this user before
    the trust step (today's sync marker in the cache) counts as trusted."""
    project = hostile.write_manifest(sandbox.root_dir / "mine", "mine")
    legacy_env(sandbox, project)
    status = envlock_json("status", "--project", str(project))[1]
    assert status["trust"] == {**status["trust"], "trusted": True, "source": "built-before"}


# --------------------------------------------------------------------------- the server option


async def test_trust_all_projects_trusts_everything_below_the_root(
    trust_all: None, sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    project = hostile.write_manifest(sandbox.root_dir / "binder-demo", "binder-demo")
    refresh(server)
    code, body = await call(jp_fetch, "GET", ("project",), params={"path": "binder-demo"})
    assert code == 200, body
    assert body["status"]["trust"]["trusted"] is True
    assert body["status"]["trust"]["source"] == "server"
    code, model = await start_session(jp_fetch, "binder-demo/analysis.ipynb", "envlock-binder-demo")
    assert code == 201, model
    assert not TrustStore(sandbox.envlock_data / "trust.json").is_trusted(project), (
        "the server option must not write the user's store"
    )
    sandbox.assert_safe()


async def test_trust_over_rest_then_the_kernel_starts(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    """The panel's "Trust and build": POST project/trust, then the notebook's kernel starts."""
    hostile.write_manifest(sandbox.root_dir / "colleague", "colleague")
    refresh(server)
    code, body = await start_session(jp_fetch, "colleague/analysis.ipynb", "envlock-colleague")
    assert code == SESSION_REFUSED, body
    code, body = await call(jp_fetch, "POST", ("project", "trust"), {"path": "colleague"})
    assert code == 200, body
    code, body = await call(jp_fetch, "GET", ("project",), params={"path": "colleague"})
    assert body["status"]["trust"]["source"] == "user"
    code, model = await start_session(jp_fetch, "colleague/analysis.ipynb", "envlock-colleague")
    assert code == 201, model
    sandbox.assert_safe()


async def test_trust_over_rest_stays_inside_the_root(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    outside = hostile.write_manifest(sandbox.base / "outside", "outside")
    for rel in ("../outside", str(outside)):
        code, body = await call(jp_fetch, "POST", ("project", "trust"), {"path": rel})
        assert code == 403, body
    assert not (sandbox.envlock_data / "trust.json").exists()


# =========================================================================== trusted
# Even when trusted, envlock touches only what is its own (issue 9, item 2). Through the server.


REFUSED_EVEN_TRUSTED = [
    "env-at-local", "env-at-pyenv-version", "env-at-victim-venv", "env-at-base",
    "committed-venv-python", "lock-sdist", "lock-directory", "lock-vcs", "git-file-requirement",
]  # fmt: skip
BUILT_WHEN_TRUSTED = [
    "uv-pip-target", "uv-toml-target", "uv-parent-toml-target", "uv-pip-prefix", "uv-broken-config",
]  # fmt: skip


@pytest.mark.parametrize("name", REFUSED_EVEN_TRUSTED + BUILT_WHEN_TRUSTED)
async def test_trusted_kernel_start_builds_only_its_own_env_or_refuses(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any], name: str
) -> None:
    project = build(sandbox, name)
    trust(project)
    refresh(server)
    rel = project.relative_to(sandbox.root_dir).as_posix()
    code, body = await start_session(jp_fetch, f"{rel}/analysis.ipynb", kernel_name_of(project))
    if name in BUILT_WHEN_TRUSTED:
        assert code == 201, body
    else:
        assert code in (400, 403, 500), body  # refused, and says why
        message = body.get("message", "")
        assert message and "Traceback" not in message and "Unhandled error" not in message, body
    sandbox.assert_safe()


async def test_shared_env_of_two_projects_is_refused_for_the_second(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    """env = "../.venv" in two projects: the env belongs to the one envlock built it for."""
    first, second = hostile.shared_dotdot_venv(sandbox.root_dir / "shared", sandbox)
    trust(first)
    trust(second)
    refresh(server)
    code, model = await start_session(
        jp_fetch, "shared/first/analysis.ipynb", "envlock-shared-first"
    )
    assert code == 201, model
    shared_env = sandbox.root_dir / "shared" / ".venv"
    before = installed_distributions(shared_env)
    code, body = await start_session(jp_fetch, "shared/second/analysis.ipynb",
                                     "envlock-shared-second")  # fmt: skip
    assert code == 500, body
    assert "shared-first" in body["message"] or str(first) in body["message"], body["message"]
    assert installed_distributions(shared_env) == before
    sandbox.assert_safe()


async def test_dep_in_a_trusted_kernel_imports_nothing_from_the_project(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    """%dep runs the server's Python: a filelock.py, packaging/ ... at the repository root must not
    shadow its modules (issue 9, item 4)."""
    project = build(sandbox, "shadowing-modules")
    trust(project)
    refresh(server)
    code, model = await start_session(jp_fetch, "shadowing-modules/analysis.ipynb",
                                      "envlock-shadowing")  # fmt: skip
    assert code == 201, model
    client = server.kernel_manager.get_kernel(model["kernel"]["id"]).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        run = await execute(client, "%dep list")
        assert run.ok and "tinya" in run.text, run.text
        run = await execute(client, "%dep add tinyd")
        assert run.ok, run.text
    finally:
        client.stop_channels()
    sandbox.assert_safe()


# =========================================================================== typed commands
# Commands a user types need no trust; the holes stay closed for them too. Today these fail
# (the holes are open); after phase B they must pass.


@pytest.mark.parametrize(
    "name, folder",
    [
        ("env-at-local", lambda sb: sb.local),
        ("env-at-pyenv-version", lambda sb: sb.pyenv_version),
    ],
)
def test_sync_never_deletes_or_fills_a_folder_that_looks_like_a_half_made_env(
    sandbox: Sandbox, name: str, folder: Callable[[Sandbox], Path]
) -> None:
    project = build(sandbox, name)
    proc = envlock("sync", "--project", str(project))
    assert_clean_failure(proc, str(folder(sandbox)))
    sandbox.assert_safe()


@pytest.mark.parametrize("name", ["env-at-victim-venv", "env-at-base"])
def test_sync_into_an_existing_venv_it_did_not_make_shows_what_it_would_remove(
    sandbox: Sandbox, name: str
) -> None:
    project = build(sandbox, name)
    proc = envlock("sync", "--project", str(project))
    assert_clean_failure(proc, VICTIM_PACKAGE)
    sandbox.assert_safe()


def test_sync_of_a_committed_venv_with_a_fake_interpreter_runs_nothing(sandbox: Sandbox) -> None:
    project = build(sandbox, "committed-venv-python")
    for command in ("sync", "lock"):
        proc = envlock(command, "--project", str(project))
        assert_clean_failure(proc, ".venv")
        sandbox.assert_safe()


def test_second_project_sharing_an_env_is_refused(sandbox: Sandbox) -> None:
    first, second = hostile.shared_dotdot_venv(sandbox.root_dir / "shared", sandbox)
    assert envlock("sync", "--project", str(first)).returncode == 0
    shared_env = sandbox.root_dir / "shared" / ".venv"
    before = installed_distributions(shared_env)
    assert "tinya" in before
    proc = envlock("sync", "--project", str(second))
    assert_clean_failure(proc)
    assert installed_distributions(shared_env) == before


@pytest.mark.parametrize(
    "name", ["uv-pip-target", "uv-toml-target", "uv-parent-toml-target", "uv-pip-prefix",
             "uv-pip-python", "uv-broken-config"]
)  # fmt: skip
def test_sync_ignores_the_repositorys_uv_configuration(sandbox: Sandbox, name: str) -> None:
    project = build(sandbox, name)
    code, report = envlock_json("sync", "--project", str(project))
    assert code == 0, report
    env = Path(report["env"]["path"])
    assert env.is_relative_to(sandbox.envlock_cache), env
    assert "tinya" in installed_distributions(env)
    sandbox.assert_safe()


def test_env_files_are_not_linked_as_the_repository_asks(sandbox: Sandbox) -> None:
    project = build(sandbox, "uv-link-mode")
    code, report = envlock_json("sync", "--project", str(project))
    assert code == 0, report
    [site] = site_packages(Path(report["env"]["path"]))
    assert not (site / "tinya" / "__init__.py").is_symlink(), "uv obeyed the repository's link-mode"


def test_user_uv_configuration_still_applies(sandbox: Sandbox) -> None:
    """uv stops reading the repository's settings, not the user's: ~/.config/uv/uv.toml (here in
    XDG_CONFIG_HOME) and UV_* variables keep their effect."""
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "uv" / "uv.toml"
    config.parent.mkdir(parents=True)
    config.write_text('link-mode = "symlink"\n')
    project = hostile.write_manifest(sandbox.root_dir / "plain", "plain")
    code, report = envlock_json("sync", "--project", str(project))
    assert code == 0, report
    [site] = site_packages(Path(report["env"]["path"]))
    assert (site / "tinya" / "__init__.py").is_symlink(), "the user's uv.toml was ignored"


@pytest.mark.parametrize("name, package", [("lock-sdist", "sdist-helper"),
                                           ("lock-directory", "dir-helper"),
                                           ("lock-vcs", "vcs-helper")])  # fmt: skip
def test_sync_of_a_repository_lock_refuses_source_builds(
    sandbox: Sandbox, name: str, package: str
) -> None:
    project = build(sandbox, name)
    proc = envlock("sync", "--project", str(project))
    assert_clean_failure(proc, package)
    sandbox.assert_safe()


def test_the_manifest_can_allow_a_source_build_by_name(sandbox: Sandbox) -> None:
    """The way to ask: [tool.envlock] allow-source-builds names the package; the refusal's
    message says so. Then the sdist builds (its backend runs: the canary says it did) and
    nothing outside the env changes."""
    project = build(sandbox, "lock-sdist")
    proc = envlock("sync", "--project", str(project))
    assert_clean_failure(proc, 'allow-source-builds = ["sdist-helper"]')
    manifest = project / "pyproject.toml"
    text = manifest.read_text()
    # allowing another package's build allows not this one (uv gets --only-binary for the rest)
    manifest.write_text(text + '\n[tool.envlock]\nallow-source-builds = ["tinya"]\n')
    assert_clean_failure(envlock("sync", "--project", str(project)), "sdist-helper")
    sandbox.assert_safe()
    manifest.write_text(text + '\n[tool.envlock]\nallow-source-builds = ["sdist-helper"]\n')
    lock = project / "pylock.toml"  # the setting is not part of the manifest hash: still current
    assert envlock_json("status", "--project", str(project))[1]["lock"] == "in-sync"
    proc = envlock("sync", "--project", str(project))
    assert proc.returncode == 0, proc.stderr
    assert [c.label for c in sandbox.canaries()] == ["backend-sdist-helper"] * len(
        sandbox.canaries()
    ) and sandbox.canaries(), "the allowed sdist was not built"
    assert "sdist-helper" in installed_distributions(
        Path(envlock_json("status", "--project", str(project))[1]["env_path"])
    )
    assert lock.exists()
    sandbox.assert_untouched()


def test_a_package_the_user_adds_may_build_here_and_the_note_says_what_a_lock_needs(
    sandbox: Sandbox, local_index: Any
) -> None:
    """`add NAME` of a package with only an sdist builds it (the user named it, as `pip install
    NAME` would) and says that a sync from the lock builds it only if the manifest allows it;
    the env rebuilt from the lock (another machine) is then refused until it does."""
    from support.index import publish_wheels

    name = "tinysdist-user-added"
    publish_wheels(local_index.root, [hostile.build_sdist(sandbox.base / "dist", sandbox, name)])
    project = hostile.write_manifest(sandbox.root_dir / "mine", "mine")
    proc = envlock("add", "--project", str(project), name)
    assert proc.returncode == 0, proc.stderr
    assert f'allow-source-builds = ["{name}"]' in proc.stdout, proc.stdout
    assert {c.label for c in sandbox.canaries()} == {f"backend-{name}"}
    env = Path(envlock_json("status", "--project", str(project))[1]["env_path"])
    assert name in installed_distributions(env)
    shutil.rmtree(env)  # as on a colleague's machine: only the lock and the manifest
    sandbox.clear_canaries()
    assert_clean_failure(
        envlock("sync", "--project", str(project)), f'allow-source-builds = ["{name}"]'
    )
    sandbox.assert_safe()


def test_removals_from_an_env_envlock_did_not_create_need_a_yes(sandbox: Sandbox) -> None:
    """The user's own .venv in the project, with a package the lock does not list: sync names
    it and stops; with --allow-removals it syncs exactly. An env envlock made needs no yes."""
    project = hostile.locked_project(sandbox.root_dir / "own-venv", "own-venv", ("tinya",))
    venv = project / ".venv"
    subprocess.run([sandbox.uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run([sandbox.uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                    "tinyd"], check=True, capture_output=True)  # fmt: skip
    proc = envlock("sync", "--project", str(project))
    assert_clean_failure(proc, "tinyd 1.1.0", "--allow-removals")
    assert "tinyd" in installed_distributions(venv)
    proc = envlock("sync", "--project", str(project), "--allow-removals")
    assert proc.returncode == 0, proc.stderr
    installed = installed_distributions(venv)
    assert "tinyd" not in installed and "tinya" in installed
    assert envlock_json("status", "--project", str(project))[1]["state"] == "in-sync"
    sandbox.assert_safe()


def test_trust_is_shown_by_status_and_trust_answers_one_document(sandbox: Sandbox) -> None:
    project = build(sandbox, "uv-pip-target")
    proc = envlock("status", "--project", str(project))
    assert re.search(r"^Trust: +not trusted", proc.stdout, re.MULTILINE), proc.stdout
    code, doc = envlock_json("trust", "--project", str(project))
    assert code == 0
    assert doc == {"project": str(project.resolve()), "trust": {**doc["trust"], "trusted": True,
                                                                "source": "user"}}  # fmt: skip
    proc = envlock("trust", "--project", str(project))
    assert proc.returncode == 0 and "Trusted" in proc.stdout, proc.stdout
    assert "Building its environment would" in proc.stdout
    proc = envlock("status", "--project", str(project))
    assert re.search(r"^Trust: +trusted \(you trusted it\)", proc.stdout, re.MULTILINE)
    sandbox.assert_safe()


def test_git_file_requirement_is_refused_like_file(sandbox: Sandbox) -> None:
    project = build(sandbox, "git-file-requirement")
    for args in (["lock"], ["sync"], ["add", "--no-sync", "other @ git+file:///tmp/other"]):
        proc = envlock(args[0], "--project", str(project), *args[1:])
        assert_clean_failure(proc, "local")
        assert proc.returncode == 2
    sandbox.assert_safe()


def test_server_python_ignores_modules_in_the_project_folder(sandbox: Sandbox) -> None:
    """`kernels launch` (the argv of installed specs) runs where the tool runs the kernel: the
    notebook's folder. Nothing there may shadow the server's modules (issue 9, item 4)."""
    project = build(sandbox, "shadowing-modules")
    proc = envlock("kernels", "install", "--project", str(project), "--json")
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((sandbox.kernels_dir / "envlock-shadowing" / "kernel.json").read_text())
    # Run the spec's argv where the tool would (the notebook's folder) until the kernel has
    # written its connection file: by then the server's Python has imported everything, synced
    # and become the kernel (os.execve). Then stop it.
    connection = sandbox.base / "runtime" / "shadowing-conn.json"
    argv = [a.replace("{connection_file}", str(connection)) for a in spec["argv"]]
    proc = subprocess.Popen(argv, cwd=project, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not connection.exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "the kernel did not start"
            time.sleep(0.2)
        assert connection.exists(), f"the kernel exited with {proc.returncode} before starting"
    finally:
        proc.kill()
        proc.wait()
    sandbox.assert_safe()


# --------------------------------------------------------------------------- kernels install


@pytest.mark.parametrize("kernel_name", ["..", "."])
def test_kernels_install_refuses_names_that_leave_the_kernels_folder(
    sandbox: Sandbox, kernel_name: str
) -> None:
    project = hostile.kernel_named(sandbox.root_dir / "k", sandbox, kernel_name)
    proc = envlock("kernels", "install", "--project", str(project))
    assert_clean_failure(proc, "kernel-name")
    assert proc.returncode == 2
    sandbox.assert_safe()


def test_kernels_install_never_replaces_a_spec_it_did_not_write(sandbox: Sandbox) -> None:
    project = hostile.kernel_named(sandbox.root_dir / "k", sandbox, "python3")
    proc = envlock("kernels", "install", "--project", str(project))
    assert_clean_failure(proc, str(sandbox.python3_spec))
    sandbox.assert_safe()


def test_kernels_install_of_a_root_skips_every_bad_name(sandbox: Sandbox) -> None:
    for kernel_name in ("..", ".", "python3"):
        label = {"..": "dotdot", ".": "dot"}.get(kernel_name, kernel_name)
        hostile.kernel_named(sandbox.root_dir / label, sandbox, kernel_name)
    hostile.write_manifest(sandbox.root_dir / "fine", "fine")
    code, doc = envlock_json("kernels", "install", "--root", str(sandbox.root_dir))
    sandbox.assert_safe()
    if code == 0:  # or it stops at the first bad one and says which
        assert [k["name"] for k in doc["installed"]] == ["envlock-fine"], doc
        assert len(doc["skipped"]) == 3, doc


def test_kernels_install_replaces_its_own_spec(sandbox: Sandbox) -> None:
    """What it wrote itself it may rewrite (a second install after a rename is normal)."""
    project = hostile.write_manifest(sandbox.root_dir / "mine", "mine")
    for _ in range(2):
        proc = envlock("kernels", "install", "--project", str(project))
        assert proc.returncode == 0, proc.stderr
    sandbox.assert_safe()


# =========================================================================== locks of the world


def test_crlf_lock_is_current_and_kept_as_it_is(sandbox: Sandbox) -> None:
    project = hostile.crlf_files(sandbox.root_dir / "crlf", sandbox)
    lock = (project / "pylock.toml").read_bytes()
    assert envlock_json("status", "--project", str(project))[1]["lock"] == "in-sync"
    code, first = envlock_json("sync", "--project", str(project))
    assert code == 0 and first["relocked"] is False, first
    code, second = envlock_json("sync", "--project", str(project))
    assert code == 0 and second["env"]["noop"] is True, second
    assert (project / "pylock.toml").read_bytes() == lock


@pytest.mark.parametrize("command", ["status", "list", "sync", "lock", "export"])
def test_a_lock_from_another_tool_with_group_markers_reads_without_traceback(
    sandbox: Sandbox, command: str
) -> None:
    project = hostile.foreign_lock_with_groups(sandbox.root_dir / "foreign", sandbox, sandbox.uv)
    proc = envlock(command, "--project", str(project))
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 2), proc.stderr
    if command == "list":
        assert proc.returncode == 0 and "tinya" in proc.stdout


def test_lock_repairs_a_toml_lock_that_is_not_pep751(sandbox: Sandbox) -> None:
    project = hostile.not_pep751_lock(sandbox.root_dir / "odd", sandbox)
    proc = envlock("status", "--project", str(project))
    assert_clean_failure(proc, "PEP 751")
    proc = envlock("lock", "--project", str(project))
    assert proc.returncode == 0, proc.stderr
    assert envlock_json("status", "--project", str(project))[1]["lock"] == "in-sync"


def test_a_lock_missing_a_direct_requirement_is_stale(sandbox: Sandbox) -> None:
    project = hostile.lying_lock(sandbox.root_dir / "lying", sandbox)
    assert envlock_json("status", "--project", str(project))[1]["lock"] == "stale"
    proc = envlock("sync", "--project", str(project), "--locked")
    assert_clean_failure(proc)
    code, report = envlock_json("sync", "--project", str(project))
    assert code == 0 and report["relocked"] is True, report
    assert "tinyd" in installed_distributions(Path(report["env"]["path"]))


@pytest.mark.parametrize("command", ["status", "list", "lock"])
def test_manifest_with_a_byte_order_mark_is_read_or_refused_in_those_words(
    sandbox: Sandbox, command: str
) -> None:
    project = hostile.bom_manifest(sandbox.root_dir / "bom", sandbox)
    proc = envlock(command, "--project", str(project))
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 0 or "byte-order mark" in proc.stderr, proc.stderr


async def test_large_manifest_is_answered_not_a_500(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    """A 2 MB manifest: the panel's poll answers (a size cap's 400, or the status), never a 500.
    How long it takes is benchmarks/' to measure, not a timed test's."""
    hostile.large_manifest(sandbox.root_dir / "big", sandbox, megabytes=2)
    code, body = await call(jp_fetch, "GET", ("project",), params={"path": "big"})
    assert code in (200, 400), body


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"path": "x", "specs": ["a" * 10]}).replace('"x"', '"' + "x" * 3_000_000 + '"'),
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["huge", "deeply-nested"],
)
async def test_rest_bodies_have_a_cap(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any], body: str
) -> None:
    response = await jp_fetch("jupyter-envlock", "project", "add", method="POST", body=body,
                              raise_error=False, request_timeout=60)  # fmt: skip
    assert response.code in (400, 413), response.body[:300]


async def test_discovery_and_rest_agree_on_symlinked_manifests(
    sandbox: Sandbox, server: Any, jp_fetch: Callable[..., Any]
) -> None:
    outside = hostile.write_manifest(sandbox.base / "outside", "outside-secret")
    inside = hostile.write_manifest(sandbox.root_dir / "real", "real-inside")
    hostile.symlinked_files(sandbox.root_dir / "link-out", sandbox, outside / "pyproject.toml")
    hostile.symlinked_files(sandbox.root_dir / "link-in", sandbox, inside / "pyproject.toml")
    hostile.symlinked_files(sandbox.root_dir / "lock-out", sandbox,
                            lock_target=outside / "pyproject.toml")  # fmt: skip
    refresh(server)
    code, listing = await call(jp_fetch, "GET", ("projects",))
    listed = {p["path"] for p in listing["projects"]}
    assert "outside-secret" not in json.dumps(listing)
    for rel in ("link-out", "link-in", "lock-out", "real"):
        code, body = await call(jp_fetch, "GET", ("project",), params={"path": rel})
        assert (code == 200) == (rel in listed), (rel, code, listed)
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert "envlock-outside-secret" not in specs


# =========================================================================== faults (item 8)


@pytest.fixture
def server_process(sandbox: Sandbox, tmp_path: Path):
    made: list[ServerProcess] = []

    def start(*options: str, **how: Any) -> ServerProcess:
        made.append(ServerProcess(sandbox.root_dir, tmp_path / "server.log", *options, **how))
        return made[-1]

    yield start
    for server in made:
        server.close()


STOPS = [
    ("server", "sigterm", "sync-fails"),
    ("server", "sigterm", "untrusted"),
    ("server", "ctrl-c", "untrusted"),
    ("lab", "sigterm", "untrusted"),
    ("lab", "ctrl-c", "sync-fails"),
]


@pytest.mark.parametrize("app, how, why", STOPS, ids=["-".join(s) for s in STOPS])
def test_server_stops_after_a_kernel_start_failed(
    sandbox: Sandbox, server_process: Callable[..., ServerProcess], app: str, how: str, why: str
) -> None:
    """Item 8: one kernel running, another's start failed (uv could not resolve) or was refused
    (not trusted) in pre_launch; `jupyter server` / `jupyter lab` must stop on SIGTERM and on
    Ctrl-C pressed twice in its terminal (before the fix it answered "Kernel does not exist"
    during shutdown and kept running)."""
    good = hostile.write_manifest(sandbox.root_dir / "good", "good")
    deps = ("no-such-package-anywhere",) if why == "sync-fails" else ("tinya",)
    hostile.write_manifest(sandbox.root_dir / "broken", "broken", deps)
    options: tuple[str, ...] = ()
    if why == "sync-fails":
        options = ("--EnvlockApp.trust_all_projects=True",)
    else:
        TrustStore(sandbox.envlock_data / "trust.json").trust(good)
    server = server_process(*options, app=app, tty=how == "ctrl-c")
    assert server.start_session("good", "envlock-good")[0] == 201
    code, body = server.start_session("broken", "envlock-broken")
    assert code == SESSION_REFUSED, body
    assert ("not trusted" in body["message"]) == (why == "untrusted"), body
    if how == "sigterm":
        stopped = server.stops_on(signal.SIGTERM, within=30)
    else:  # Ctrl-C, then Ctrl-C again instead of answering "Shut down this Jupyter server?"
        stopped = server.stops_on(signal.SIGINT, within=30, times=2)
    assert stopped, server.log_tail()
    assert server.proc.returncode == 0, server.log_tail()
