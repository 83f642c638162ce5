"""Locking as of a date: `[tool.envlock] exclude-newer` and `lock --exclude-newer DATE`, against
the local index, which serves PEP 700 upload times (each test publishes names of its own)."""

from __future__ import annotations

import pytest
import tomllib

from jupyter_envlock.core import operations
from jupyter_envlock.core.errors import ManifestError
from jupyter_envlock.core.pyproject import PyProject, check_exclude_newer

MAY, JULY = "2026-05-01T00:00:00Z", "2026-07-01T00:00:00Z"


def locked(project) -> dict[str, str]:
    return operations.manager(project).locked_versions()


def lock_table(project) -> dict:
    return tomllib.loads((project / "pylock.toml").read_text())


def publish_may_and_july(local_index, name: str) -> None:
    local_index.add_wheel(name, "1.0.0", upload_time=MAY)
    local_index.add_wheel(name, "2.0.0", upload_time=JULY)


def test_dates_are_checked():
    for good in ("2026-06-01", "2026-06-01T12:00:00Z", "2026-06-01T12:00+02:00"):
        assert check_exclude_newer(good, "x") == good
    for bad in ("June", "2026-13-01", "2026-06-01 12:00", "1 week"):
        with pytest.raises(ManifestError, match="is not a date"):
            check_exclude_newer(bad, "x")


def test_the_manifest_setting_ignores_what_was_published_after_it(
    envlock_env, local_index, make_project
):
    publish_may_and_july(local_index, "tinyasof-a")
    project = make_project("asof", deps=["tinyasof-a"])
    manifest = project / "pyproject.toml"
    manifest.write_text(manifest.read_text() + '\n[tool.envlock]\nexclude-newer = "2026-06-01"\n')

    operations.lock(project)

    assert locked(project)["tinyasof-a"] == "1.0.0"  # 2.0.0 came out in July
    table = lock_table(project)
    assert table["tool"]["envlock"]["exclude-newer"] == "2026-06-01"
    assert "exclude-newer-set-by" not in table["tool"]["envlock"]
    entry = next(p for p in table["packages"] if p["name"] == "tinyasof-a")
    assert str(entry["wheels"][0]["upload-time"]).startswith("2026-05-01")  # PEP 700, recorded

    # Dropping the setting makes the lock stale; re-locking then sees July.
    manifest.write_text(manifest.read_text().replace('exclude-newer = "2026-06-01"\n', ""))
    assert operations.status(project).lock == "stale"
    operations.lock(project, upgrade=True)
    assert locked(project)["tinyasof-a"] == "2.0.0"
    assert "exclude-newer" not in lock_table(project)["tool"]["envlock"]


def test_a_date_given_to_lock_is_kept_by_later_relocks(envlock_env, local_index, make_project):
    publish_may_and_july(local_index, "tinyasof-b")
    publish_may_and_july(local_index, "tinyasof-c")
    project = make_project("asof-cli", deps=["tinyasof-b"])

    operations.lock(project, exclude_newer="2026-06-01")
    assert locked(project)["tinyasof-b"] == "1.0.0"
    assert lock_table(project)["tool"]["envlock"]["exclude-newer-set-by"] == "lock"

    # Months later, an add re-locks as of the same date: the new package comes from before it.
    report = operations.add(project, ["tinyasof-c"], sync=False)
    assert {c.name: c.new for c in report.changes} == {"tinyasof-c": "1.0.0"}
    operations.lock(project, upgrade=True)
    assert locked(project)["tinyasof-b"] == "1.0.0"

    operations.lock(project, upgrade=True, exclude_newer="none")
    assert locked(project)["tinyasof-b"] == "2.0.0"
    assert "exclude-newer" not in lock_table(project)["tool"]["envlock"]


def test_a_date_that_contradicts_the_manifest_is_refused(envlock_env, make_project):
    project = make_project("asof-clash", deps=["tinya"])
    manifest = project / "pyproject.toml"
    manifest.write_text(manifest.read_text() + '\n[tool.envlock]\nexclude-newer = "2026-06-01"\n')
    operations.lock(project)
    before = (project / "pylock.toml").read_bytes()
    with pytest.raises(ManifestError, match="change it there"):
        operations.lock(project, exclude_newer="2026-01-01")
    with pytest.raises(ManifestError, match="is not a date"):
        operations.lock(project, exclude_newer="yesterday")
    assert (project / "pylock.toml").read_bytes() == before
    bad = make_project(
        "asof-bad", text='[project]\nname = "x"\n[tool.envlock]\nexclude-newer = 5\n'
    )
    with pytest.raises(ManifestError, match="must be a string"):
        PyProject.read(bad / "pyproject.toml")
