"""The in-process Jupyter server (pytest-jupyter's ``jp_serverapp``), configured in one place.

``conftest.py``'s ``jp_server_config`` is :func:`envlock_server_config`: the real extension, loaded
as `pip install` loads it through jupyter_server_config.d. A module that needs a variation
overrides that fixture, takes the shared one as its argument and sets only its own traits, most
often through :func:`select_traits` (traits a test selects by asking for a named fixture).
:func:`kernel_world_root_dir` is the ``jp_root_dir`` of the modules whose server serves the
session's shared kernel project: they import it under that name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

Traits = Mapping[str, Mapping[str, Any]]  # section ("ServerApp", "EnvlockApp") -> trait -> value


def envlock_server_config(**sections: Mapping[str, Any]) -> Config:
    """A server config with jupyter_envlock enabled, merged with ``sections``
    (``EnvlockApp={"manage_kernel_specs": False}``)."""
    config = Config({"ServerApp": {"jpserver_extensions": {"jupyter_envlock": True}}})
    config.merge(Config({section: dict(traits) for section, traits in sections.items()}))
    return config


def select_traits(config: Config, request: pytest.FixtureRequest, **by_fixture: Traits) -> Config:
    """``config`` with the traits of every fixture in ``by_fixture`` that the test asks for merged
    in: ``select_traits(jp_server_config, request, trust_all={"EnvlockApp": {...}})``."""
    for fixture, traits in by_fixture.items():
        if fixture in request.fixturenames:
            config.merge(Config({section: dict(values) for section, values in traits.items()}))
    return config


@pytest.fixture
def kernel_world_root_dir(kernel_world: Any) -> Path:
    """The server root is the kernel world's: its shared project, env built once a session.
    Import it as ``jp_root_dir``."""
    return Path(kernel_world.root)
