"""Project kernel specs: discovery, the spec's content, background refresh, the link-time swap,
the event schema, and `jupyter envlock kernels install|list|prune`. No env is built here."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_events import EventLogger
from jupyter_server.services.kernelspecs.handlers import kernelspec_model
from support.server_config import envlock_server_config, select_traits
from traitlets.config import Config

from jupyter_envlock import cli, kernel_launch, provisioner, scan
from jupyter_envlock.app import EVENT_SCHEMA, EnvlockApp
from jupyter_envlock.kernelspecs import KERNEL_SIDE, EnvlockKernelSpecManager
from jupyter_envlock.scan import ProjectScanner


def project(folder: Path, name: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "0.1"\ndependencies = []\n{extra}'
    )
    return folder


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A server root: projects at several depths, plus folders that must be skipped."""
    root = tmp_path / "root"
    project(root / "sales", "Sales_Forecast")
    project(root / "team" / "churn", "churn")
    project(root / "a" / "b" / "c" / "too-deep", "too-deep")  # depth 4 > 3
    project(root / "node_modules" / "pkg", "ignored-pkg")
    project(root / ".hidden" / "secret", "secret")
    project(root / "venvlike" / "inner", "in-venv")
    (root / "venvlike" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    project(root / "custom", "custom", '[tool.envlock]\nkernel-name = "my-kernel"\n')
    project(root / "zz-dup", "churn")  # same name as team/churn: first one wins
    (root / "broken").mkdir()
    (root / "broken" / "pyproject.toml").write_text("[project\nname=")
    return root


def spec_manager(
    root: Path, interval: float = 3600, log: logging.Logger | None = None
) -> EnvlockKernelSpecManager:
    """The spec manager as the server extension sets it up: with a scanner of `root`."""
    return EnvlockKernelSpecManager(scanner=ProjectScanner(root, interval=interval, log=log))


@pytest.fixture
def ksm(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EnvlockKernelSpecManager:
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    manager = spec_manager(tree)
    yield manager
    manager.stop()


def test_one_spec_per_project_next_to_python3(ksm: EnvlockKernelSpecManager, tree: Path):
    specs = ksm.find_kernel_specs()
    assert "python3" in specs
    ours = {name for name in specs if name != "python3"}
    assert ours == {"envlock-sales-forecast", "envlock-churn", "my-kernel"}
    assert specs["envlock-churn"] == str(KERNEL_SIDE)
    assert ksm.projects()["envlock-churn"].relative == "team/churn"
    all_specs = ksm.get_all_specs()
    assert set(all_specs) == set(specs)


def test_spec_content(ksm: EnvlockKernelSpecManager, tree: Path):
    spec = ksm.get_kernel_spec("envlock-sales-forecast")
    assert spec.display_name == "Python (sales-forecast)"
    assert spec.language == "python"
    assert spec.metadata["envlock"]["project"] == "sales"
    assert spec.metadata["kernel_provisioner"] == {
        "provisioner_name": "envlock-provisioner",
        "config": {"project_path": str(tree.resolve() / "sales")},
    }
    assert (Path(spec.resource_dir) / "logo-64x64.png").read_bytes().startswith(b"\x89PNG")
    assert (Path(spec.resource_dir) / "logo-svg.svg").read_text().startswith("<svg")
    root_spec = EnvlockKernelSpecManager(root_dir=str(tree / "sales")).get_kernel_spec(
        "envlock-sales-forecast"
    )
    assert root_spec.metadata["envlock"]["project"] == "."


def test_duplicates_and_broken_manifests_warn_once(tree: Path, caplog: pytest.LogCaptureFixture):
    manager = spec_manager(tree, log=logging.getLogger("ksm-test"))
    with caplog.at_level(logging.WARNING, logger="ksm-test"):
        manager.scanner.start()
        manager.refresh()
        manager.refresh()
    manager.stop()
    duplicate = [r for r in caplog.records if "both want kernel 'envlock-churn'" in r.message]
    broken = [r for r in caplog.records if "broken" in r.message]
    assert len(duplicate) == 1 and len(broken) == 1


def test_lookups_read_the_cache_and_never_scan(ksm: EnvlockKernelSpecManager, monkeypatch):
    ksm.scanner.start()
    scans = []
    real_scan = ksm.scanner.scan
    monkeypatch.setattr(ksm.scanner, "scan", lambda: scans.append(1) or real_scan())
    started = time.perf_counter()
    for _ in range(200):
        ksm.get_kernel_spec("envlock-churn")
    elapsed = time.perf_counter() - started
    ksm.find_kernel_specs()
    assert scans == []
    assert elapsed < 1.0  # 200 lookups; each is a dict read plus the stock spec-dir check


def test_new_project_appears_in_the_background(tree: Path):
    manager = spec_manager(tree, interval=0.05)
    try:
        manager.scanner.start()
        project(tree / "later", "later")
        deadline = time.monotonic() + 5
        while "envlock-later" not in manager.find_kernel_specs():
            assert time.monotonic() < deadline, "the background scan did not pick it up"
            time.sleep(0.02)
        (tree / "later" / "pyproject.toml").unlink()
        deadline = time.monotonic() + 5
        while "envlock-later" in manager.find_kernel_specs():
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        manager.stop()


def test_unknown_envlock_name_wakes_the_scanner(ksm: EnvlockKernelSpecManager, tree: Path):
    ksm.scanner.start()
    project(tree / "brand-new", "brand-new")
    spec = ksm.get_kernel_spec("envlock-brand-new")  # rescan_interval is an hour
    assert spec.metadata["envlock"]["project"] == "brand-new"
    with pytest.raises(NoSuchKernel):
        ksm.get_kernel_spec("envlock-not-there")


def test_installed_specs_stay_unless_envlock_wrote_them(
    ksm: EnvlockKernelSpecManager, tmp_path: Path, tree: Path
):
    kernels = tmp_path / "jupyter" / "kernels"
    foreign = kernels / "envlock-churn"
    foreign.mkdir(parents=True)
    (foreign / "kernel.json").write_text(
        json.dumps({"argv": ["x"], "display_name": "Someone else's", "language": "python"})
    )
    cli.main(
        ["kernels", "install", "--project", str(tree / "sales"), "--prefix", str(tmp_path / "p")]
    )
    # an envlock-written spec of the same name is the same project kernel: ours replaces it
    (kernels / "envlock-sales-forecast").mkdir()
    written = tmp_path / "p" / "share" / "jupyter" / "kernels" / "envlock-sales-forecast"
    (kernels / "envlock-sales-forecast" / "kernel.json").write_text(
        (written / "kernel.json").read_text()
    )
    assert ksm.get_kernel_spec("envlock-churn").display_name == "Someone else's"
    assert ksm.find_kernel_specs()["envlock-churn"] == str(foreign)
    assert ksm.find_kernel_specs()["envlock-sales-forecast"] == str(KERNEL_SIDE)


def test_event_schema_registers_and_validates():
    logger = EventLogger()
    logger.register_event_schema(EVENT_SCHEMA)
    assert provisioner.SCHEMA_ID in logger.schemas.schema_ids
    seen = []
    logger.register_handler(logging.NullHandler())
    logger.add_modifier(
        schema_id=provisioner.SCHEMA_ID, modifier=lambda schema_id, data: seen.append(data) or data
    )
    event = {
        "project": "sales",
        "kernel_name": "envlock-sales",
        "kernel_id": None,
        "phase": "install",
        "message": "Installed pandas 2.2.3",
        "done": 1,
        "total": 3,
        "state": "running",
    }
    logger.emit(schema_id=provisioner.SCHEMA_ID, data=event)
    assert seen and seen[0]["message"] == "Installed pandas 2.2.3"
    with pytest.raises(Exception, match="state"):
        logger.emit(schema_id=provisioner.SCHEMA_ID, data={**event, "state": "exploded"})


def test_kernel_environment_points_at_the_project_env(tmp_path: Path):
    env = kernel_launch.kernel_environment(
        {"PATH": "/usr/bin", "PYTHONPATH": "/server/src", "PYTHONHOME": "/x", "HOME": "/h"},
        tmp_path / "env",
        tmp_path / "proj",
    )
    assert env["VIRTUAL_ENV"] == str(tmp_path / "env")
    assert env["PATH"].split(os.pathsep) == [str(tmp_path / "env" / "bin"), "/usr/bin"]
    assert "PYTHONPATH" not in env and "PYTHONHOME" not in env
    assert env["JUPYTER_ENVLOCK_SERVER_PYTHONPATH"] == "/server/src"
    assert env["JUPYTER_ENVLOCK_PROJECT"] == str(tmp_path / "proj")
    assert env["HOME"] == "/h"
    server = json.loads(env["JUPYTER_ENVLOCK_SERVER_COMMAND"])
    assert Path(server[0]).exists() and server[-1] == "jupyter_envlock.worker"


# ------------------------------------------------------------------ kernels install/list/prune


def run_cli(*args: str, capsys: pytest.CaptureFixture) -> tuple[int, dict]:
    code = cli.main([*args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_kernels_install_list_prune(tree: Path, tmp_path: Path, monkeypatch, capsys):
    prefix = tmp_path / "prefix"
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    code, result = run_cli(
        "kernels", "install", "--root", str(tree), "--prefix", str(prefix), capsys=capsys
    )
    assert code == 0
    names = {k["name"] for k in result["installed"]}
    assert names == {"envlock-sales-forecast", "envlock-churn", "my-kernel"}
    spec_dir = prefix / "share" / "jupyter" / "kernels" / "envlock-churn"
    data = json.loads((spec_dir / "kernel.json").read_text())
    assert data["display_name"] == "Python (churn)"
    assert data["metadata"]["kernel_provisioner"]["config"]["project_path"] == str(
        tree.resolve() / "team" / "churn"
    )
    assert data["argv"][-2:] == ["-f", "{connection_file}"]
    assert (spec_dir / "logo-64x64.png").exists()
    # a plain KernelSpecManager (nbclient, papermill) resolves it
    assert KernelSpecManager().get_kernel_spec("envlock-churn").display_name == "Python (churn)"

    code, listed = run_cli("kernels", "list", capsys=capsys)
    assert {k["name"] for k in listed["kernels"]} == names
    assert all(k["project_exists"] for k in listed["kernels"])

    (tree / "team" / "churn" / "pyproject.toml").unlink()
    code, pruned = run_cli("kernels", "prune", "--prefix", str(prefix), "--dry-run", capsys=capsys)
    assert [k["name"] for k in pruned["removed"]] == ["envlock-churn"] and spec_dir.exists()
    code, pruned = run_cli("kernels", "prune", "--prefix", str(prefix), capsys=capsys)
    assert [k["name"] for k in pruned["removed"]] == ["envlock-churn"]
    assert not spec_dir.exists()
    assert (prefix / "share" / "jupyter" / "kernels" / "envlock-sales-forecast").exists()


def test_kernels_install_of_a_missing_project_is_a_user_error(tmp_path: Path, capsys):
    code, result = run_cli("kernels", "install", "--project", str(tmp_path), capsys=capsys)
    assert code == 2
    assert result["error"]["type"] == "ProjectNotFound"


# ------------------------------------------------------------------ the server extension


def test_extension_swaps_the_spec_manager_and_registers_events(jp_configurable_serverapp, tree):
    app = jp_configurable_serverapp(config=envlock_server_config(), root_dir=tree)
    ksm = app.kernel_spec_manager
    assert isinstance(ksm, EnvlockKernelSpecManager)
    assert Path(ksm.root_dir) == tree
    assert "envlock-churn" in ksm.projects()
    assert provisioner.SCHEMA_ID in app.event_logger.schemas.schema_ids


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_configured_spec_manager_is_respected(jp_configurable_serverapp, tree, monkeypatch):
    config = envlock_server_config(
        ServerApp={"kernel_spec_manager_class": "jupyter_client.kernelspec.KernelSpecManager"}
    )
    records = Records()
    link = EnvlockApp._link_jupyter_server_extension

    def listen_then_link(self: EnvlockApp, serverapp: Any) -> None:
        # pytest-jupyter's server log has no handler while extensions link: listen ourselves
        serverapp.log.addHandler(records)
        link(self, serverapp)

    monkeypatch.setattr(EnvlockApp, "_link_jupyter_server_extension", listen_then_link)
    app = jp_configurable_serverapp(config=config, root_dir=tree)
    assert type(app.kernel_spec_manager) is KernelSpecManager
    assert any("kernel_spec_manager_class is configured" in m for m in records.messages)


def test_manage_kernel_specs_off(jp_configurable_serverapp, tree):
    config = envlock_server_config(EnvlockApp={"manage_kernel_specs": False})
    app = jp_configurable_serverapp(config=config, root_dir=tree)
    assert type(app.kernel_spec_manager) is KernelSpecManager


def test_watch_folders_off_has_every_listing_walk_the_root(
    jp_configurable_serverapp, tree, monkeypatch
):
    config = envlock_server_config(EnvlockApp={"watch_folders": False})
    app = jp_configurable_serverapp(config=config, root_dir=tree)
    scanner = app.kernel_spec_manager.scanner
    for _ in range(3):
        scanner.project_states()
    walks: list[int] = []
    real_walk = scan.walk
    monkeypatch.setattr(scan, "walk", lambda *a, **k: walks.append(1) or real_walk(*a, **k))
    scanner.project_states()
    assert walks  # with the watch, an unchanged root would not be walked again


# ------------------------------------------------------------------ GET /api/kernelspecs


@pytest.fixture
def jp_root_dir(tree: Path) -> Path:
    """The REST tests' server serves the tree of projects."""
    return tree


@pytest.fixture
def jp_server_config(jp_server_config: Config, request: pytest.FixtureRequest) -> Config:
    """The real extension (conftest's); `plain_spec_manager` has the user choose jupyter_client's
    own spec manager."""
    return select_traits(
        jp_server_config,
        request,
        plain_spec_manager={
            "ServerApp": {
                "kernel_spec_manager_class": "jupyter_client.kernelspec.KernelSpecManager"
            }
        },
        two_allowed={"KernelSpecManager": {"allowed_kernelspecs": ["python3", "envlock-churn"]}},
    )


@pytest.fixture
def plain_spec_manager() -> None:
    """Selects ServerApp.kernel_spec_manager_class = jupyter_client's for this test's server."""


@pytest.fixture
def two_allowed() -> None:
    """Selects KernelSpecManager.allowed_kernelspecs = python3 and envlock-churn."""


def jupyter_servers_answer(app: Any) -> dict[str, Any]:
    """What jupyter_server's own handler answers, from the spec manager's lookups one by one."""
    ksm, handler = app.kernel_spec_manager, SimpleNamespace(base_url=app.base_url)
    specs = {}
    for name, resource_dir in ksm.find_kernel_specs().items():
        spec = ksm.get_kernel_spec(name)
        specs[name] = kernelspec_model(handler, name, spec.to_dict(), resource_dir)
    return {"default": app.kernel_manager.default_kernel_name, "kernelspecs": specs}


async def test_the_listing_is_jupyter_servers_answer(jp_fetch, jp_serverapp, tree):
    ksm = jp_serverapp.kernel_spec_manager
    assert isinstance(ksm, EnvlockKernelSpecManager)
    ksm.refresh()
    answer = json.loads((await jp_fetch("api", "kernelspecs")).body)
    assert {"python3", "envlock-sales-forecast", "envlock-churn", "my-kernel"} <= set(
        answer["kernelspecs"]
    )
    assert answer == jupyter_servers_answer(jp_serverapp)
    # ...answered from each project's JSON, encoded once and kept (the handler of kernelspecs_api)
    assert "json_member" in vars(ksm.project_models()["envlock-churn"])
    logos = answer["kernelspecs"]["envlock-churn"]["resources"]
    assert set(logos) == {"logo-64x64", "logo-svg"}
    assert (await jp_fetch(*logos["logo-64x64"].strip("/").split("/")[1:])).code == 200


async def test_a_rescan_lists_changes_and_keeps_the_rest_encoded(jp_fetch, jp_serverapp, tree):
    ksm = jp_serverapp.kernel_spec_manager
    ksm.refresh()
    await jp_fetch("api", "kernelspecs")
    before = ksm.project_models()
    manifest = tree / "sales" / "pyproject.toml"
    manifest.write_text(manifest.read_text().replace("Sales_Forecast", "Sales_Plan"))
    project(tree / "fresh", "fresh-one")
    ksm.refresh()
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert specs["envlock-sales-plan"]["spec"]["display_name"] == "Python (sales-plan)"
    assert specs["envlock-fresh-one"]["spec"]["metadata"]["envlock"]["project"] == "fresh"
    assert "envlock-sales-forecast" not in specs
    after = ksm.project_models()
    assert after["envlock-churn"] is before["envlock-churn"]  # unchanged: not built again
    assert after["envlock-sales-plan"] is not before["envlock-sales-forecast"]


async def test_another_spec_manager_gets_jupyter_servers_listing(
    jp_fetch, jp_serverapp, plain_spec_manager
):
    assert type(jp_serverapp.kernel_spec_manager) is KernelSpecManager
    answer = json.loads((await jp_fetch("api", "kernelspecs")).body)
    assert "python3" in answer["kernelspecs"]
    assert not any(name.startswith("envlock-") for name in answer["kernelspecs"])
    assert answer == jupyter_servers_answer(jp_serverapp)


async def test_allowed_kernelspecs_hide_the_other_projects(jp_fetch, jp_serverapp, two_allowed):
    jp_serverapp.kernel_spec_manager.refresh()
    answer = json.loads((await jp_fetch("api", "kernelspecs")).body)
    assert set(answer["kernelspecs"]) == {"python3", "envlock-churn"}
    assert answer == jupyter_servers_answer(jp_serverapp)


async def test_a_users_spec_of_a_projects_name_is_listed_instead(
    jp_fetch, jp_serverapp, jp_data_dir
):
    mine = jp_data_dir / "kernels" / "envlock-churn"
    mine.mkdir(parents=True)
    (mine / "kernel.json").write_text(
        json.dumps({"argv": ["python", "-m", "mine"], "display_name": "Mine", "language": "python"})
    )
    jp_serverapp.kernel_spec_manager.refresh()
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert specs["envlock-churn"]["spec"]["display_name"] == "Mine"
    assert specs["envlock-sales-forecast"]["spec"]["metadata"]["envlock"]["project"] == "sales"
    assert specs == jupyter_servers_answer(jp_serverapp)["kernelspecs"]
