"""Manifest edits keep every byte except the requirement changed (issue 2, item 3)."""

from pathlib import Path

import pytest

from jupyter_envlock.core.errors import ManifestError, NotADependency, RequirementError
from jupyter_envlock.core.manifest import Manifest
from jupyter_envlock.core.requirements import parse_requirement

STYLES = {
    "multiline-comments": (
        b'[project]\nname = "x"  # the name\nversion = "1"\n'
        b'dependencies = [\n    "requests>=2",  # http\n    # a comment line\n    "numpy",\n]\n'
        b"\n[tool.other]\nkey = 'single quoted'\n"
    ),
    "inline": b'[project]\nname = "x"\ndependencies = ["requests>=2", "numpy"]\n',
    "empty": b'[project]\nname = "x"\ndependencies = []\n',
    "crlf": b'[project]\r\nname = "x"\r\ndependencies = [\r\n  "requests",\r\n]\r\n',
    "no-trailing-comma": b'[project]\nname = "x"\ndependencies = [\n    "requests",\n    "numpy"\n]\n',
    "blank-line-inside": b'[project]\nname = "x"\ndependencies = [\n    "a",\n\n    "b",\n]\n',
    "trailing-comment": b'[project]\nname = "x"\ndependencies = [\n    "a",\n    # end\n]\n',
    "tabs-and-order": b'[tool.z]\nq = 1\n\n[project]\ndependencies = [\n\t"a",\n]\nname = "x"\n',
    "groups": (
        b'[project]\nname = "x"\ndependencies = []\n\n[dependency-groups]\n'
        b'dev = [\n    "pytest",  # tests\n]\n'
    ),
}


def load(tmp_path: Path, data: bytes) -> Manifest:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(data)
    return Manifest.load(path)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_add_then_remove_gives_back_original_bytes(tmp_path, style):
    original = STYLES[style]
    m = load(tmp_path, original)
    group = "dev" if style == "groups" else None
    edit = m.add(parse_requirement("Pandas>=2"), group)
    assert edit.kind == "added"
    added = m.dumps()
    assert b"Pandas>=2" in added
    if b"\r\n" in original:
        assert added.count(b"\n") == added.count(b"\r\n"), "CRLF kept for every line"
    m2 = Manifest.from_bytes(m.path, added)
    m2.remove("pandas", group)
    assert m2.dumps() == original


def test_add_keeps_everything_else_byte_for_byte(tmp_path):
    original = STYLES["multiline-comments"]
    m = load(tmp_path, original)
    m.add(parse_requirement("scipy"))
    out = m.dumps()
    assert out == original.replace(b'    "numpy",\n]', b'    "numpy",\n    "scipy",\n]')


def test_replace_keeps_position_and_comment(tmp_path):
    m = load(tmp_path, STYLES["multiline-comments"])
    edit = m.add(parse_requirement("Requests>=2.31"))
    assert edit.kind == "replaced"
    assert edit.old == "requests>=2"
    out = m.dumps().decode()
    assert '    "Requests>=2.31",  # http\n    # a comment line\n    "numpy",' in out


def test_names_match_after_normalization(tmp_path):
    m = load(tmp_path, b'[project]\nname = "x"\ndependencies = ["Mixed_Case.Name>=0.1"]\n')
    edit = m.add(parse_requirement("mixed-case-name>=0.2"))
    assert edit.kind == "replaced"
    assert m.pyproject.requirements()[None] == ["mixed-case-name>=0.2"]
    m.remove("MIXED.case_name")
    assert m.pyproject.requirements()[None] == []


def test_same_requirement_is_unchanged(tmp_path):
    m = load(tmp_path, STYLES["inline"])
    assert m.add(parse_requirement("numpy")).kind == "unchanged"
    assert not m.changed


def test_group_is_created_when_missing(tmp_path):
    m = load(tmp_path, STYLES["inline"])
    m.add(parse_requirement("pytest"), "dev")
    assert m.pyproject.requirements()["dev"] == ["pytest"]
    assert m.dumps().startswith(STYLES["inline"])


def test_new_manifest_is_minimal_and_valid(tmp_path):
    m = Manifest.new(tmp_path / "pyproject.toml", "My Notebooks")
    m.add(parse_requirement("tinya"))
    again = Manifest.from_bytes(m.path, m.dumps())
    assert again.pyproject.name == "My-Notebooks"
    assert again.pyproject.requirements()[None] == ["tinya"]
    assert again.pyproject.requires_python == ">=3.10"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "pandas>=",
        "--index-url=https://evil.example/simple",
        "-e .",
        "pandas; os.system('x')",
        "name with spaces",
        "pandas && rm -rf /",
        "pkg @ file:///etc/passwd",
        "x" * 1001,
        "../../etc/passwd",
    ],
)
def test_invalid_requirements_are_refused(text):
    with pytest.raises(RequirementError):
        parse_requirement(text)


def test_dynamic_dependencies_refused(tmp_path):
    original = b'[project]\nname = "x"\ndynamic = ["dependencies"]\n'
    m = load(tmp_path, original)
    with pytest.raises(ManifestError, match="dynamic"):
        m.add(parse_requirement("tinya"))


@pytest.mark.parametrize(
    "data, match",
    [
        (b"[project\nname = 'x'\n", "not valid TOML"),
        (b"\xff\xfe[project]\n", "not UTF-8"),
        (b'[project]\ndependencies = "tinya"\n', "must be an array"),
        (b"[project]\ndependencies = [1, 2]\n", "not a string"),
        (b'project = "x"\n', "must be a table"),
        (b'[project]\nrequires-python = ">=3.x"\n', "requires-python"),
        (b'[dependency-groups]\ndev = "x"\n', "must be an array"),
    ],
)
def test_broken_manifests_are_specific_errors(tmp_path, data, match):
    with pytest.raises(ManifestError, match=match):
        load(tmp_path, data)


def test_remove_of_non_dependency_is_specific(tmp_path):
    m = load(tmp_path, STYLES["inline"])
    with pytest.raises(NotADependency, match="'pandas' is not a direct dependency"):
        m.remove("pandas")
    with pytest.raises(NotADependency, match="dependency group 'dev'"):
        m.remove("numpy", "dev")
    assert not m.changed
