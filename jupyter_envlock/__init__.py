"""jupyter_envlock: one locked environment and kernel per notebook project."""

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_server_extension_points() -> list[dict]:
    from .app import EnvlockApp

    return [{"module": "jupyter_envlock", "app": EnvlockApp}]


def _jupyter_labextension_paths() -> list[dict]:
    return [{"src": "labextension", "dest": "jupyter-envlock"}]
