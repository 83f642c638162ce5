"""The arrows that must never exist (docs/architecture.md), checked on the source itself."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

from jupyter_envlock.core import operations

PACKAGE = Path(__file__).resolve().parents[1] / "jupyter_envlock"
JUPYTER = ("jupyter_server", "jupyter_client", "jupyter_core", "tornado", "traitlets", "IPython")


def modules_under(folder: Path) -> list[str]:
    root = PACKAGE.parent
    return sorted(
        ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for p in folder.rglob("*.py")
    )


def test_core_imports_nothing_of_jupyter():
    """Every core module, imported in a fresh interpreter, pulls in no Jupyter package."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules_under(PACKAGE / 'core')!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{JUPYTER!r})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


def _imports(path: Path) -> list[tuple[str, int]]:
    """(module, level) of every import statement in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def test_kernel_side_never_imports_server_code_and_parses_on_310():
    """It runs in the project's env, where jupyter_envlock is not installed, on Pythons as old
    as 3.10."""
    kernel_side = PACKAGE / "kernel_side"
    for path in kernel_side.rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 10))
        depth = len(path.relative_to(kernel_side).parts) - 1  # folders below kernel_side/
        for module, level in _imports(path):
            assert not module.startswith("jupyter_envlock"), (path, module)
            assert level <= depth, f"{path}: a relative import leaves kernel_side ({module})"


def test_one_subprocess_choke_point_in_the_core():
    """Tools run through core/runner.py only (pythons.py asks an interpreter its version)."""
    allowed = {"runner.py", "pythons.py"}
    for path in (PACKAGE / "core").rglob("*.py"):
        if path.name in allowed:
            continue
        names = {module for module, _ in _imports(path)}
        assert "subprocess" not in names, f"{path} starts processes outside core/runner.py"


# Imports where they are needed (issue 11): what a command that answers from a few file reads
# must not import. A no-op pays for every module it loads, at every shell prompt and kernel start.
ANY_COMMAND_SKIPS = ("tomlkit", "filelock", "packaging.pylock", *JUPYTER)
NOOP_SKIPS = (
    *ANY_COMMAND_SKIPS,
    "packaging.requirements",
    "packaging.markers",
    "packaging.tags",
    "jupyter_envlock.core.manifest",
    "jupyter_envlock.core.runner",
    "jupyter_envlock.core.index_query",
    "jupyter_envlock.core.pythons",
)


def modules_of_command(argv: list[str], cwd: Path) -> set[str]:
    """The modules `jupyter envlock ARGV` has loaded when it is done, run in a fresh interpreter
    as the console script runs it."""
    code = (
        "import sys\n"
        "from jupyter_envlock.cli import main\n"
        f"code = main({argv!r})\n"
        "sys.stdout.flush()\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
        "raise SystemExit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    )
    return set(proc.stderr.split())


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_version_imports_no_core(tmp_path):
    modules = modules_of_command(["--version"], tmp_path)
    assert loaded(modules, ("jupyter_envlock.core.operations", "jupyter_envlock.cli.commands",
                            "packaging", *ANY_COMMAND_SKIPS)) == []  # fmt: skip


def test_noop_commands_import_only_what_answers_them(envlock_env, make_project):
    """`status`, `sync` and `lock` of an in-sync project, and `python`, read the manifest, the
    lock, the env's marker and its package list: no requirement or marker parser, no tomlkit,
    no uv runner, no interpreter search, no Jupyter. `list` reads the lock's versions
    (packaging's parsers) but no more."""
    project = make_project("quick", deps=["tinyd"])
    operations.sync(project)
    for argv in (["status"], ["sync"], ["lock"], ["python"], ["status", "--json"]):
        assert loaded(modules_of_command(argv, project), NOOP_SKIPS) == [], argv
    assert loaded(modules_of_command(["list"], project), ANY_COMMAND_SKIPS) == []


def test_a_build_from_a_current_lock_edits_nothing_and_imports_no_editor(envlock_env, make_project):
    """A rebuild (a fresh clone, CI, an env deleted) reads the manifest with the plain reader:
    tomlkit and the manifest editor are for changes (and html's entity table for nobody: the
    rendering escapes without it)."""
    project = make_project("rebuilt", deps=["tinyd"])
    operations.sync(project)
    env_dir = operations.environment_python(project).parents[1]
    shutil.rmtree(env_dir)
    modules = modules_of_command(["sync"], project)
    assert operations.environment_python(project).exists()  # it did build the env
    assert loaded(modules, ("tomlkit", "jupyter_envlock.core.manifest", "html")) == []
