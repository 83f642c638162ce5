"""%pip still works in a project kernel, with a warning that it is not recorded in the lock."""

from __future__ import annotations

import shlex
import sys

# pip options that consume the next argument (so it is not taken for a package name)
_VALUE_OPTIONS = frozenset(
    """-r --requirement -c --constraint -e --editable -i --index-url --extra-index-url
    -f --find-links -t --target --prefix --root --platform --python-version --implementation
    --abi --upgrade-strategy --progress-bar --src --no-binary --only-binary -C --config-settings
    --global-option --python --trusted-host --cert --client-cert --log --proxy --retries
    --timeout --exists-action --cache-dir --report --group""".split()
)


def pip_requirements(args: list[str]) -> list[str]:
    """The package arguments of a `pip install/uninstall` command line (options skipped)."""
    names = []
    skip = False
    for word in args:
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            if word in _VALUE_OPTIONS:
                skip = True
            continue
        names.append(word)
    return names


def pip_warning(line: str) -> str | None:
    """The warning for a %pip line that changes the env behind the lock's back (or None)."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if not words or words[0] not in ("install", "uninstall"):
        return None
    packages = pip_requirements(words[1:])
    if words[0] == "install":
        record = "%dep add " + " ".join(shlex.quote(p) for p in packages) if packages else None
        text = (
            "Warning: %pip install is not recorded in pyproject.toml or the lock. The package "
            "is missing from the next fresh build (a colleague's machine, CI) and the next %dep "
            "or sync may remove it."
        )
    else:
        record = "%dep remove " + " ".join(shlex.quote(p) for p in packages) if packages else None
        text = (
            "Warning: %pip uninstall is not recorded in pyproject.toml or the lock; the next "
            "sync puts the package back."
        )
    if record:
        text += " To record it instead, run:\n    " + record
    return text


def wrap_pip(ip) -> None:  # noqa: ANN001 - an IPython shell
    original = ip.find_line_magic("pip")
    if original is None or getattr(original, "_envlock_wrapped", False):
        return

    def pip(line: str):  # noqa: ANN202 - whatever %pip returns
        warning = pip_warning(line)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        return original(line)

    pip.__doc__ = original.__doc__
    pip._envlock_wrapped = True  # type: ignore[attr-defined]
    ip.register_magic_function(pip, "line", "pip")
