"""A sparse registry on 127.0.0.1 for tests (cargo's registry-index protocol)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Dict, List, Optional, Type


def index_path(name: str) -> str:
    n = name.lower()
    if len(n) <= 2:
        return f"{len(n)}/{n}"
    if len(n) == 3:
        return f"3/{n[0]}/{n}"
    return f"{n[0:2]}/{n[2:4]}/{n}"


#: The longest a held download waits (so that no server thread outlives a forgotten hold).
HOLD_AT_MOST = 600.0


class Registry:
    """Serves `config.json`, index files and `.crate` downloads from memory."""

    def __init__(self) -> None:
        self.files: Dict[str, bytes] = {}
        files = self.files
        #: Every request path, in arrival order.
        self.requests: List[str] = []
        requests = self.requests
        #: Seconds each `.crate` download waits before it is answered.
        self.download_delay = 0.0
        #: Cleared while downloads are held (`hold_downloads`).
        self._downloads_open = threading.Event()
        self._downloads_open.set()
        #: Set once a download is waiting on `hold_downloads`.
        self.download_held = threading.Event()
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                requests.append(self.path)
                if self.path.startswith("/dl/"):
                    if not registry._downloads_open.is_set():
                        registry.download_held.set()
                        registry._downloads_open.wait(timeout=HOLD_AT_MOST)
                    if registry.download_delay:
                        time.sleep(registry.download_delay)
                body = files.get(self.path.split("?", 1)[0])
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        files["/index/config.json"] = json.dumps(
            {"dl": self.base + "/dl/{crate}/{version}/download"}
        ).encode()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def hold_downloads(self) -> None:
        """Make `.crate` downloads wait (answering nothing) until `release_downloads`: a test
        holds a request for as long as it needs instead of guessing a delay. The first held
        request sets `download_held`."""
        self.download_held.clear()
        self._downloads_open.clear()

    def release_downloads(self) -> None:
        self._downloads_open.set()

    @property
    def index_url(self) -> str:
        return "sparse+" + self.base + "/index/"

    def publish(
        self,
        name: str,
        version: str,
        data: bytes,
        cksum: Optional[str] = None,
        yanked: bool = False,
    ) -> None:
        line = {
            "name": name,
            "vers": version,
            "deps": [],
            "cksum": cksum or hashlib.sha256(data).hexdigest(),
            "features": {},
            "yanked": yanked,
        }
        key = "/index/" + index_path(name)
        self.files[key] = self.files.get(key, b"") + json.dumps(line).encode() + b"\n"
        self.files[f"/dl/{name}/{version}/download"] = data

    def __enter__(self) -> "Registry":
        self.thread.start()
        return self

    def __exit__(
        self,
        t: Optional[Type[BaseException]],
        v: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.release_downloads()
        self.server.shutdown()
        self.server.server_close()
