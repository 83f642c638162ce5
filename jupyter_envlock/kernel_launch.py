"""How a project kernel is described and started: its kernel.json, its argv and environment, and
the server's own Python when the kernel calls back into it.

Shared by the kernel spec manager, the provisioner (kernel start from the server) and
`jupyter envlock kernels ...` (spec folders for headless tools). No Jupyter imports.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

KERNEL_SIDE = Path(__file__).resolve().parent / "kernel_side"
BOOTSTRAP = KERNEL_SIDE / "bootstrap.py"

# The kernel side reads these (kernel_side/envlock_kernel/transport.py names them too).
ENV_PROJECT = "JUPYTER_ENVLOCK_PROJECT"
ENV_SERVER_COMMAND = "JUPYTER_ENVLOCK_SERVER_COMMAND"
ENV_SERVER_PYTHONPATH = "JUPYTER_ENVLOCK_SERVER_PYTHONPATH"
ENV_KERNEL_LAYER = "JUPYTER_ENVLOCK_KERNEL_LAYER"  # kernel_side/bootstrap.py names it too

# `python -m` puts the working directory first on sys.path, and a kernel's working directory is
# the project folder: a `filelock.py` there would run inside the server's Python. -P (3.11+)
# leaves it out; on 3.10 a bootstrap drops it before anything else is imported.
_RUN_MODULE_310 = (
    "import runpy, sys; del sys.path[0]; "
    "runpy.run_module(sys.argv[1], run_name='__main__', alter_sys=True)"
)


def server_python(module: str) -> list[str]:
    """argv that runs `module` in the server's Python, blind to the working directory."""
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", module]
    return [sys.executable, "-c", _RUN_MODULE_310, module]


def kernel_command(python: Path | str, connection_file: str) -> list[str]:
    """ipykernel in the project env, through the bootstrap that loads the %dep magics."""
    return [str(python), str(BOOTSTRAP), "-f", connection_file]


def kernel_environment(
    base: Mapping[str, str], env_dir: Path, project_root: Path, layer: Path | None = None
) -> dict[str, str]:
    """The kernel's environment: the project env first on PATH and as VIRTUAL_ENV, so `!pip` and
    `!python` reach it; the server's PYTHONPATH kept out of it (it would import the server's
    packages into the project) but passed along for the magics' calls back into the server;
    the kernel layer, when the env has no ipykernel of its own, named for the bootstrap alone."""
    env = dict(base)
    env.pop(ENV_KERNEL_LAYER, None)
    if layer is not None:
        env[ENV_KERNEL_LAYER] = str(layer)
    server_pythonpath = env.pop("PYTHONPATH", None)
    for key in ("PYTHONHOME", "PYTHONEXECUTABLE", "__PYVENV_LAUNCHER__"):
        env.pop(key, None)
    if server_pythonpath:
        env[ENV_SERVER_PYTHONPATH] = server_pythonpath
    else:
        env.pop(ENV_SERVER_PYTHONPATH, None)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    env["VIRTUAL_ENV"] = str(env_dir)
    env["PATH"] = os.pathsep.join(p for p in (str(bin_dir), env.get("PATH", "")) if p)
    env[ENV_PROJECT] = str(project_root)
    env[ENV_SERVER_COMMAND] = json.dumps(server_python("jupyter_envlock.worker"))
    return env


PROVISIONER_NAME = "envlock-provisioner"
PROVISIONER_TARGET = "jupyter_envlock.provisioner:EnvlockProvisioner"


def launch_argv(project_root: Path | str) -> list[str]:
    """A kernel command that works even for tools that ignore provisioners (VS Code, old clients):
    the server's Python syncs the env, then replaces itself with the project kernel."""
    return [
        *server_python("jupyter_envlock"),
        "kernels",
        "launch",
        "--project",
        str(project_root),
        "-f",
        "{connection_file}",
    ]


def spec_dict(
    kernel_name: str, display_name: str, project_root: Path | str, envlock_metadata: dict[str, Any]
) -> dict[str, Any]:
    """The kernel.json content shared by discovered specs and `kernels install`."""
    return {
        "argv": launch_argv(project_root),
        "display_name": display_name,
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {
            "debugger": True,
            "kernel_provisioner": {
                "provisioner_name": PROVISIONER_NAME,
                "config": {"project_path": str(project_root)},
            },
            "envlock": {"kernel_name": kernel_name, **envlock_metadata},
        },
    }


def is_envlock_spec_dir(folder: Path | str) -> bool:
    """Whether a spec folder was written by `jupyter envlock kernels install`."""
    try:
        data = json.loads((Path(folder) / "kernel.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "envlock" in (data.get("metadata") or {})
