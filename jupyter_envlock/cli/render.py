"""What a result looks like: plain text for a terminal and a notebook, HTML for a notebook.

Rendered once, here, for the CLI and the %dep magic alike (the magic's kernel side only displays
what it is given).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..core.results import (
    BuildPlan,
    ChangeReportDict,
    DependencyDict,
    MissingImportDict,
    OutdatedDict,
    ProjectDict,
    StatusDict,
    TreeDict,
    TreePackageDict,
    TrustDict,
)

SYMBOLS = {"added": "+", "removed": "-", "upgraded": "↑", "downgraded": "↓"}
TRUST_REASONS = {
    "user": "trusted (you trusted it)",
    "created": "trusted (you created it with envlock)",
    "built-before": "trusted (envlock built its environment before the trust step existed)",
    "server": "trusted (the server trusts every project below its root)",
}
STATE_HINTS = {
    "no-lock": "Run `jupyter envlock lock`.",
    "lock-out-of-date": "pyproject.toml changed since the lock: run `jupyter envlock lock`.",
    "no-env": "Run `jupyter envlock sync` to build the environment.",
    "env-out-of-date": "Run `jupyter envlock sync` to make the environment match the lock.",
}


# Who owns a project, as shown (the lock file says where the versions live).
MANAGER_LABELS = {
    "pylock": "envlock (pylock.toml)",
    "uv": "uv (uv.lock)",
    "poetry": "Poetry (poetry.lock)",
    "pdm": "PDM (its pylock.toml)",
    "hatch": "Hatch (its pylock.toml)",
}


def project_line(project: ProjectDict) -> str:
    """Which project a command acted on: nested and neighbouring projects are told apart."""
    manager = MANAGER_LABELS.get(project["manager"], project["manager"])
    return f"{project['name']} ({project['path']}), managed by {manager}"


@dataclass(frozen=True)
class Rendered:
    text: str
    html: str | None = None


# html.escape's table: `import html` also loads html.entities (8 ms at every command's start)
# for the unescaping this module never does.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def escape(text: str) -> str:
    """Text as HTML, exactly as html.escape(text) gives it."""
    return text.translate(_ESCAPES)


def table_html(headers: Sequence[str] | None, rows: Sequence[Sequence[object]]) -> str:
    """A small left-aligned table; `headers` None for a key/value table."""
    cell = "<td style='text-align:left'>{}</td>"
    head = ""
    if headers:
        head = "<thead><tr>{}</tr></thead>".format(
            "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in headers)
        )
    body = "".join(
        "<tr>{}</tr>".format("".join(cell.format(escape(str(c))) for c in row)) for row in rows
    )
    return f"<table class='envlock-table'>{head}<tbody>{body}</tbody></table>"


def table_text(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """The same table as plain text lines, columns padded."""
    cells = [[str(c) for c in row] for row in (headers, *rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]


def _paragraph(lines: Sequence[str]) -> str:
    return "<div>{}</div>".format("<br>".join(escape(line) for line in lines))


def changes(report: ChangeReportDict) -> Rendered:
    """Manifest edits, locked versions that changed, and what the env sync did."""
    edits = []
    for edit in report["edits"]:
        if edit["kind"] == "replaced":
            edits.append(f"pyproject.toml: {edit['old']} -> {edit['new']}")
        elif edit["kind"] == "added":
            edits.append(f"pyproject.toml: + {edit['new']}")
        elif edit["kind"] == "removed":
            edits.append(f"pyproject.toml: - {edit['old']}")
    moved = []
    rows = []
    for change in report["changes"]:
        symbol, name, old, new = (
            SYMBOLS[change["kind"]],
            change["name"],
            change["old"],
            change["new"],
        )
        if change["kind"] == "added":
            moved.append(f"  {symbol} {name} {new}")
        elif change["kind"] == "removed":
            moved.append(f"  {symbol} {name} {old}")
        else:
            moved.append(f"  {symbol} {name} {old} -> {new}")
        rows.append((symbol, name, old or "", new or "", change["kind"]))
    footer = []
    if not report["changes"]:
        footer.append(
            "Lock is up to date; no versions changed."
            if report["relocked"]
            else "No locked version changed."
        )
    env = report["env"]
    if env:
        if env["noop"]:
            footer.append(f"Environment up to date ({env['path']}).")
        else:
            footer.append(
                f"Environment synced: {len(env['installed'])} installed, "
                f"{len(env['removed'])} removed (Python {env['python']}, {env['path']})."
            )
    footer += report.get("notes", [])
    header = [f"Project {project_line(report['project'])}"] if report.get("project") else []
    text = "\n".join(header + edits + moved + footer)
    markup = _paragraph(header) if header else ""
    if edits:
        markup += _paragraph(edits)
    if rows:
        markup += table_html(("", "package", "before", "after", "change"), rows)
    if footer:
        markup += _paragraph(footer)
    return Rendered(text, markup)


def status(status: StatusDict) -> Rendered:
    p = status["project"]
    rows: list[tuple[str, str]] = [
        ("Project", f"{p['name']} ({p['path']})"),
        ("Manager", MANAGER_LABELS.get(p["manager"], p["manager"])),
        ("Kernel", p["kernel_name"]),
        ("Python", status["python"] or "-"),
        ("Env", status["env_path"] or "-"),
        ("Lock", status["lock"]),
        ("Env sync", status["env"]),
        ("State", status["state"]),
    ]
    trust = status["trust"]
    if trust is not None:
        rows.append(("Trust", trust_line(trust)))
    drift = status["drift"]
    rows += [("missing", f"{i['name']} {i['locked']}") for i in drift["missing"]]
    rows += [("extra", f"{i['name']} {i['installed']} (not in the lock)") for i in drift["extra"]]
    rows += [
        ("changed", f"{i['name']} {i['installed']} (lock: {i['locked']})") for i in drift["changed"]
    ]
    lines = [f"{key + ':':<9} {value}" for key, value in rows]
    first = list(status.get("notes") or [])  # what must happen before anything works
    notes = first + [f"Warning: {w['message']}" for w in status["warnings"]]
    hint = STATE_HINTS.get(status["state"]) if not first else None
    if hint:
        notes.append(hint)
    lines += notes
    markup = table_html(None, rows) + (_paragraph(notes) if notes else "")
    return Rendered("\n".join(lines), markup)


def trust_line(trust: TrustDict) -> str:
    if trust["source"] is not None:
        return TRUST_REASONS.get(trust["source"], "trusted")
    return "not trusted: kernel starts from the server and the panel will not build it"


def trust_decision(project: str, trust: TrustDict, revoked: bool) -> str:
    """What `jupyter envlock trust` says: the decision, and what building will do."""
    if revoked:
        return (
            f"No longer trusted: {project}. Kernel starts from the server and the panel will not "
            "build or run it."
        )
    return f"Trusted {project}. {BuildPlan(**trust['plan']).describe()}"


def dependencies(deps: Sequence[DependencyDict], project: ProjectDict | None = None) -> Rendered:
    header = [f"Project {project_line(project)}"] if project else []
    if not deps:
        return Rendered("\n".join([*header, "No direct dependencies. Add one with `add NAME`."]))
    width = max(len(d["requirement"]) for d in deps)
    lines = [
        f"{d['requirement']:<{width}}  {d['locked'] or '(not locked)':<12} "
        + (f"[{d['group']}]" if d["group"] else "")
        + (f"[extra: {d['extra']}]" if d.get("extra") else "")
        for d in deps
    ]
    rows = [
        (d["requirement"], d["group"] or (f"extra: {d['extra']}" if d.get("extra") else ""),
         d["locked"] or "(not locked)")
        for d in deps
    ]  # fmt: skip
    return Rendered(
        "\n".join([*header, *(line.rstrip() for line in lines)]),
        (_paragraph(header) if header else "")
        + table_html(("requirement", "group", "locked"), rows),
    )


def _why(package: TreePackageDict) -> str:
    """Why a package is in the env, in a few words: direct (where), the kernel, or who needs it."""
    reasons = [
        "pyproject.toml" if group is None else f"group {group}" for group in package["groups"]
    ]
    if package["kernel"]:
        reasons.append("the kernel")
    reasons += package["required_by"]
    return ", ".join(reasons) or "-"


def tree(document: TreeDict) -> Rendered:
    """The direct dependencies (and the kernel's) with what each pulls in, as `uv tree` prints
    it (a package shown before is marked (*)); HTML: one row per package with its "required by"."""
    packages = document["packages"]
    if not packages:
        return Rendered("Nothing is locked yet: run `lock` (or `add NAME`).")
    by_name = {p["name"]: p for p in packages}
    children: dict[str, list[str]] = {}
    for p in packages:
        for parent in p["required_by"]:
            children.setdefault(parent, []).append(p["name"])
    roots = [p["name"] for p in packages if p["direct"]]
    roots += [p["name"] for p in packages if p["kernel"]]
    roots += [p["name"] for p in packages if p["name"] not in roots and not p["required_by"]]
    lines: list[str] = []
    shown: set[str] = set()

    def label(name: str) -> str:
        p = by_name[name]
        tags = [f"[{g}]" for g in p["groups"] if g is not None]
        if p["kernel"]:
            tags.append("(kernel)")
        return " ".join([name, p["version"], *tags])

    def walk(name: str, prefix: str, path: tuple[str, ...]) -> None:
        kids = sorted(children.get(name, ()))
        for i, child in enumerate(kids):
            last = i == len(kids) - 1
            branch, indent = ("└── ", "    ") if last else ("├── ", "│   ")
            repeated = child in shown or child in path
            lines.append(prefix + branch + label(child) + (" (*)" if repeated else ""))
            if not repeated:
                shown.add(child)
                walk(child, prefix + indent, (*path, child))

    for root in roots:
        lines.append(label(root) + (" (*)" if root in shown else ""))
        if root not in shown:
            shown.add(root)
            walk(root, "", (root,))
    if not document["required_by_known"]:
        lines.append(
            "(What requires what is read from the environment, which is not built yet: run `sync`.)"
        )
    rows = [(p["name"], p["version"], _why(p)) for p in packages]
    return Rendered("\n".join(lines), table_html(("package", "version", "required by"), rows))


def outdated(document: OutdatedDict) -> Rendered:
    """Per direct dependency with something newer: locked, newest allowed, newest overall."""
    if not document["checked"]:
        return Rendered(document["message"] or "Cannot check for newer versions.")
    entries = document["outdated"]
    if not entries:
        return Rendered("Every direct dependency is at the newest version its requirement allows.")
    headers = ("package", "group", "requirement", "locked", "allowed", "latest")
    rows = [
        (
            e["name"],
            e["group"] or "",
            e["requirement"],
            e["locked"],
            e["allowed"] or "-",
            e["latest"] or "-",
        )
        for e in entries
    ]
    lines = table_text(headers, rows)
    held = [e["name"] for e in entries if e["allowed"] != e["latest"] and e["latest"]]
    hints = ["`upgrade NAME` moves one package to its allowed version; `upgrade --all` moves all."]
    if held:
        hints.append(
            "Newer than allowed: change the requirement in pyproject.toml (`add "
            f'"{held[0]}>=..."`) to go past it.'
        )
    return Rendered("\n".join(lines + hints), table_html(headers, rows) + _paragraph(hints))


def pre(text: str) -> str:
    """Plain text as HTML, kept as it was laid out."""
    return f"<pre>{escape(text)}</pre>" if text else ""


def relative_project(project_root: str, cwd: str | None) -> str:
    """The project as a notebook in `cwd` sees it: "." for its own folder, "../sales", ...;
    the absolute path when there is no common root (another drive)."""
    if not cwd:
        return project_root
    try:
        return os.path.relpath(project_root, cwd)
    except ValueError:
        return project_root


def is_inside(cwd: str, project_root: str) -> bool:
    try:
        root = os.path.realpath(project_root)
        return os.path.commonpath([os.path.realpath(cwd), root]) == root
    except ValueError:
        return False


def project_header(name: str, project_root: str, cwd: str | None) -> Rendered:
    """ "Project: REL (name)", and a warning when the notebook lies outside that project (its
    kernel then edits a pyproject.toml that is not beside or above the notebook)."""
    rel = relative_project(project_root, cwd)
    lines = [f"Project: {rel} ({name})"]
    if cwd and not is_inside(cwd, project_root):
        lines.append(
            f"Warning: this notebook's folder ({cwd}) is outside the kernel's project "
            f"({project_root}); %dep changes that project. Pick the kernel of the notebook's "
            "own project, or start one there (`jupyter envlock add NAME` in its folder)."
        )
    return Rendered("\n".join(lines), _paragraph(lines))


def missing_import(hint: MissingImportDict) -> Rendered:
    """The line under a ModuleNotFoundError's traceback."""
    from packaging.utils import canonicalize_name

    module, dist = hint["module"], hint["distribution"]
    if hint["action"] == "sync":
        text = (
            f"{dist} (which provides {module}) is locked but not installed in this environment: "
            f"{hint['command']}"
        )
    elif canonicalize_name(module) == dist:
        text = f"{dist} is on the project's package index: {hint['command']}"
    else:
        text = f"{dist} provides {module}: {hint['command']}"
    return Rendered(text)
