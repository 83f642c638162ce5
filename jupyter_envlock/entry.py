"""The `jupyter-envlock` console script and `python -m jupyter_envlock`: a repeated read-only
command is answered from its record (core/answers.py) before the command line parser and the
core are even imported; everything else runs the CLI (`cli.main`)."""

import sys

TYPE_CHECKING = False  # typing itself costs more than a replayed answer does

if TYPE_CHECKING:  # so do collections and __future__
    from collections.abc import Sequence


def main(argv: "Sequence[str] | None" = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        from ._version import __version__

        print(__version__)
        return 0
    from .core.answers import recorded

    answer = recorded(argv)
    if answer is not None:
        stdout, stderr = answer
        sys.stderr.write(stderr)
        sys.stdout.write(stdout)
        return 0
    from .cli import main as run

    return run(argv)
