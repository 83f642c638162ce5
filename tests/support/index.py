"""A PEP 503 simple index on disk, and a small HTTP server for it on 127.0.0.1.

Each page is written twice, as PEP 503 HTML and as PEP 691 JSON (with PEP 700's `upload-time` and
`size`), and served by content negotiation, as PyPI does: uv and pip ask for JSON first, and uv's
`--exclude-newer` only sees a file's upload time there. Files published when the index is built
were "uploaded" at DEFAULT_UPLOAD_TIME; files published later, now (or at the time given).

Tests lock and install against this index only. Locks made against it pin its URLs, which is the
point: a lock made against PyPI would not install from a local folder (DESIGN.md). The server has
a large listen backlog because Python's stock ``http.server`` accepts only 5 pending connections,
and uv's parallel fetches overflow that: each dropped connection costs a 1 s retry.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import json
import os
import shutil
import threading
import zipfile
from collections.abc import Iterable
from email.parser import HeaderParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from .wheelhouse import sha256_file

_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")
_publish_lock = threading.Lock()
DEFAULT_UPLOAD_TIME = "2024-01-01T00:00:00Z"  # before any date a test locks "as of"
UPLOAD_TIMES = "upload-times.json"  # per project folder: file name -> its upload time
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_PAGE_TYPES = {
    JSON_TYPE: "index.json",
    "application/vnd.pypi.simple.v1+html": "index.html",
    "text/html": "index.html",
}


def upload_time_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _project_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return canonicalize_name(parse_wheel_filename(filename)[0])
    return canonicalize_name(parse_sdist_filename(filename)[0])


def _is_dist(path: Path) -> bool:
    return path.is_file() and path.name.endswith(_DIST_SUFFIXES)


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step, so the server never serves a half-written page."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _extract_metadata(wheel: Path) -> bytes | None:
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                return zf.read(name)
    return None


def _upload_times(project_dir: Path) -> dict[str, str]:
    try:
        return dict(json.loads((project_dir / UPLOAD_TIMES).read_text()))
    except (OSError, ValueError):
        return {}


def _place(src: Path, project_dir: Path, upload_time: str) -> Path:
    """Put a distribution file in its project folder (a hard link when possible: wheels are big)."""
    target = project_dir / src.name
    if target.exists():
        if target.stat().st_size == src.stat().st_size and sha256_file(target) == sha256_file(src):
            return target
        raise ValueError(f"{src.name} is already published with different contents")
    project_dir.mkdir(parents=True, exist_ok=True)
    times = _upload_times(project_dir)
    times[src.name] = upload_time
    _write_atomic(project_dir / UPLOAD_TIMES, json.dumps(times, indent=1).encode())
    try:
        os.link(src, target)
    except OSError:
        shutil.copy2(src, target)
    if target.name.endswith(".whl"):
        metadata = _extract_metadata(target)
        if metadata is not None:  # PEP 658: resolvers read this instead of the whole wheel
            _write_atomic(project_dir / f"{target.name}.metadata", metadata)
    return target


def _page(title: str, links: list[str]) -> bytes:
    body = "\n".join(f"    {link}<br/>" for link in links)
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        '    <meta name="pypi:repository-version" content="1.0">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{body}\n  </body>\n</html>\n"
    ).encode()


def _version_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return str(parse_wheel_filename(filename)[1])
    return str(parse_sdist_filename(filename)[1])


def _write_project_page(project_dir: Path) -> None:
    links = []
    files = []
    times = _upload_times(project_dir)
    for dist in sorted(p for p in project_dir.iterdir() if _is_dist(p)):
        digest = sha256_file(dist)
        attrs = [f'href="{html.escape(dist.name)}#sha256={digest}"']
        entry: dict[str, object] = {
            "filename": dist.name,
            "url": dist.name,
            "hashes": {"sha256": digest},
            "size": dist.stat().st_size,
            "upload-time": times.get(dist.name, DEFAULT_UPLOAD_TIME),
        }
        meta_path = project_dir / f"{dist.name}.metadata"
        if meta_path.is_file():
            meta = meta_path.read_bytes()
            requires_python = HeaderParser().parsestr(meta.decode("utf-8", "replace"))[
                "Requires-Python"
            ]
            if requires_python:
                attrs.append(f'data-requires-python="{html.escape(requires_python.strip())}"')
                entry["requires-python"] = requires_python.strip()
            meta_hash = hashlib.sha256(meta).hexdigest()
            attrs.append(f'data-dist-info-metadata="sha256={meta_hash}"')
            attrs.append(f'data-core-metadata="sha256={meta_hash}"')
            entry["core-metadata"] = {"sha256": meta_hash}
        links.append(f"<a {' '.join(attrs)}>{html.escape(dist.name)}</a>")
        files.append(entry)
    _write_atomic(project_dir / "index.html", _page(f"Links for {project_dir.name}", links))
    page = {
        "meta": {"api-version": "1.1"},
        "name": project_dir.name,
        "versions": sorted({_version_of(str(f["filename"])) for f in files}),
        "files": files,
    }
    _write_atomic(project_dir / "index.json", json.dumps(page, indent=1).encode())


def _write_root_page(simple: Path) -> None:
    projects = sorted(p.name for p in simple.iterdir() if p.is_dir())
    links = [f'<a href="{html.escape(name)}/">{html.escape(name)}</a>' for name in projects]
    _write_atomic(simple / "index.html", _page("Simple index", links))
    page = {"meta": {"api-version": "1.1"}, "projects": [{"name": name} for name in projects]}
    _write_atomic(simple / "index.json", json.dumps(page).encode())


def publish_wheels(root: Path, files: Iterable[Path], upload_time: str | None = None) -> set[str]:
    """Add distribution files to the index at ``root`` and rewrite the pages that list them.

    Works while the index is being served, which is how tests "publish" a new version. A file
    already published with the same bytes is fine (it keeps its upload time); with other bytes it
    is an error, as on PyPI. New files get ``upload_time`` (RFC 3339, default now). Returns the
    normalized names of the projects touched.
    """
    simple = Path(root) / "simple"
    when = upload_time or upload_time_now()
    with _publish_lock:
        touched: set[str] = set()
        for src in files:
            project = _project_of(src.name)
            _place(Path(src), simple / project, when)
            touched.add(project)
        for project in sorted(touched):
            _write_project_page(simple / project)
        simple.mkdir(parents=True, exist_ok=True)
        _write_root_page(simple)
    return touched


def build_simple_index(wheel_dirs: list[Path], out: Path) -> Path:
    """Lay out every wheel/sdist found in ``wheel_dirs`` as a PEP 503 index under ``out/simple``.

    Each file link carries ``#sha256=``, ``data-requires-python`` when the wheel declares it, and
    PEP 658/714 metadata (``<file>.metadata``) so resolvers need not fetch whole wheels. Returns
    ``out``, the folder to serve with :class:`IndexServer`.
    """
    out = Path(out)
    (out / "simple").mkdir(parents=True, exist_ok=True)
    files = [p for d in wheel_dirs for p in sorted(Path(d).iterdir()) if _is_dist(p)]
    publish_wheels(out, files, DEFAULT_UPLOAD_TIME)
    return out


class _Handler(BaseHTTPRequestHandler):
    """Serve files under the index root, with ETag revalidation instead of Last-Modified.

    Pages change when a test publishes a version; mtimes have 1 s resolution, so If-Modified-Since
    could wrongly answer 304 after a quick rewrite. An ETag from (inode, mtime_ns, size) cannot,
    since pages are replaced atomically. Pages must be revalidated; files are immutable.
    """

    server: _HTTPServer
    server_version = "envlock-test-index/1"
    protocol_version = "HTTP/1.0"  # one request per connection: stop() really stops

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silent: tests should not print a line per request."""

    def do_GET(self) -> None:  # noqa: N802
        self._serve(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        owner = self.server.owner
        url_path = unquote(urlsplit(self.path).path)
        owner._record(url_path)
        if owner.fail_status is not None:
            self.send_error(owner.fail_status)
            return
        root = owner.root.resolve()
        path = (root / url_path.lstrip("/")).resolve()
        if path != root and root not in path.parents:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        content_type = "application/octet-stream"
        if path.is_dir():
            if not url_path.endswith("/"):  # relative links in the page need the slash
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", url_path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content_type = _negotiate(self.headers.get("Accept", ""))
            if not (path / _PAGE_TYPES[content_type]).is_file():
                content_type = "text/html"  # a folder written by hand holds only HTML
            path = path / _PAGE_TYPES[content_type]
        try:
            fh = path.open("rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        with fh:
            st = os.fstat(fh.fileno())
            etag = f'"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"'
            is_page = path.name in ("index.html", "index.json")
            if path.name == "index.html":
                content_type = "text/html; charset=utf-8"
            if etag in self.headers.get("If-None-Match", ""):
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type)
            if is_page:
                self.send_header("Vary", "Accept")
            self.send_header("Content-Length", str(st.st_size))
            self.send_header("ETag", etag)
            self.send_header(
                "Cache-Control",
                "max-age=0, must-revalidate" if is_page else "max-age=31536000, immutable",
            )
            self.end_headers()
            if body:
                try:
                    shutil.copyfileobj(fh, self.wfile, 1 << 16)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up; nothing to report


def _negotiate(accept: str) -> str:
    """The page type a client prefers (PEP 691 content negotiation); HTML when it names none."""
    best, best_q = "text/html", 0.0
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if kind in _PAGE_TYPES and q > best_q:
            best, best_q = kind, q
    return best


class _HTTPServer(ThreadingHTTPServer):
    request_queue_size = 128  # stock 5 drops uv's parallel connections (1 s retry each)
    daemon_threads = True
    owner: IndexServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Silent: a client hanging up mid-response is not a test failure."""


class IndexServer:
    """Serve ``root_dir`` (holding ``simple/``) over HTTP on 127.0.0.1, on an ephemeral port.

    ``url`` is the simple index URL to give uv. Tests can set ``fail_status`` (e.g. 503) to make
    every request fail, or ``stop()`` the server so that fetches are refused; ``requests`` lists
    the paths asked for, to check what a command fetched.
    """

    def __init__(self, root_dir: Path | str) -> None:
        self.root = Path(root_dir)
        self.fail_status: int | None = None
        self.requests: list[str] = []
        self._requests_lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    def _record(self, path: str) -> None:
        with self._requests_lock:
            self.requests.append(path)

    @property
    def port(self) -> int:
        """The port being listened on (kept after stop, so the old URL stays meaningful)."""
        if self._port is None:
            raise RuntimeError("IndexServer has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` without the ``/simple`` suffix."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The PEP 503 index URL: ``http://127.0.0.1:PORT/simple``."""
        return f"{self.base_url}/simple"

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._httpd is not None

    def start(self) -> IndexServer:
        """Start serving in a background thread; returns self."""
        if self._httpd is not None:
            return self
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"index-server-{self._port}",
            daemon=True,
        )
        self._httpd = httpd
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket: later fetches get "connection refused"."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
