"""A protocol-v2 smart-HTTP git server on 127.0.0.1 that answers every fetch with a given pack,
for hostile-pack tests (SECURITY.md R7 through the bindings, B6). A port of the responder in
provenance-core/tests/security_repo.rs (`v2_server`), plus helpers to build packs by hand."""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import zlib
from types import TracebackType
from typing import List, Optional, Tuple, Type


def pkt(data: bytes) -> bytes:
    """One pkt-line."""
    return b"%04x" % (len(data) + 4) + data


def band1(data: bytes) -> bytes:
    """`data` as side-band channel 1 pkt-lines."""
    out = b""
    for i in range(0, len(data), 65515):
        chunk = data[i : i + 65515]
        out += b"%04x" % (len(chunk) + 5) + b"\x01" + chunk
    return out


def object_id(kind: str, data: bytes) -> str:
    """The git object id of `kind` `data`."""
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


def entry_header(ty: int, size: int) -> bytes:
    """A pack entry header: object type `ty`, declared (inflated) `size`."""
    out = bytearray()
    byte = (ty << 4) | (size & 0x0F)
    size >>= 4
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def pack_of(entries: List[bytes], count: Optional[int] = None) -> bytes:
    """A pack: header (declaring `count` objects, default the real number), entries, trailer."""
    p = b"PACK" + struct.pack(">II", 2, len(entries) if count is None else count)
    p += b"".join(entries)
    return p + hashlib.sha1(p).digest()


def commit_entries(blob: bytes) -> Tuple[str, List[bytes]]:
    """A commit whose tree holds `Cargo.toml` = `blob` (not included): (tip, pack entries)."""
    tree = b"100644 Cargo.toml\0" + bytes.fromhex(object_id("blob", blob))
    commit = (
        f"tree {object_id('tree', tree)}\n"
        "author A <a@example.org> 1700000000 +0000\n"
        "committer A <a@example.org> 1700000000 +0000\n\nhostile\n"
    ).encode()
    return object_id("commit", commit), [
        entry_header(1, len(commit)) + zlib.compress(commit),
        entry_header(2, len(tree)) + zlib.compress(tree),
    ]


class HostileGitServer:
    """Advertises `refs/heads/main` at `tip` and answers every `fetch` with `pack`."""

    def __init__(self, tip: str, pack: bytes) -> None:
        self.tip, self.pack = tip, pack
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        #: The request line of every request, in arrival order.
        self.requests: List[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hostile.git"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            f = conn.makefile("rb")
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                b = f.read(1)
                if not b:
                    return
                head += b
            text = head.decode("latin-1")
            self.requests.append(text.split("\r\n", 1)[0])
            length = 0
            for line in text.split("\r\n"):
                k, _, v = line.partition(":")
                if k.lower() == "content-length":
                    length = int(v)
            body = f.read(length) if length else b""
            if text.startswith("GET"):
                kind = "advertisement"
                payload = pkt(b"# service=git-upload-pack\n") + b"0000"
                for cap in [b"version 2\n", b"agent=hostile\n", b"ls-refs\n", b"fetch=shallow\n"]:
                    payload += pkt(cap)
                payload += pkt(b"object-format=sha1\n") + b"0000"
            elif b"command=ls-refs" in body:
                kind = "result"
                t = self.tip.encode()
                payload = pkt(t + b" HEAD symref-target:refs/heads/main\n")
                payload += pkt(t + b" refs/heads/main\n") + b"0000"
            else:
                kind = "result"
                payload = pkt(b"packfile\n") + band1(self.pack) + b"0000"
            conn.sendall(
                f"HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-{kind}\r\n"
                "Connection: close\r\n\r\n".encode()
                + payload
            )

    def __enter__(self) -> "HostileGitServer":
        self.thread.start()
        return self

    def __exit__(
        self,
        t: Optional[Type[BaseException]],
        v: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        # Wake the accept loop and wait for it before closing: closing the socket while another
        # thread is about to call accept() on its descriptor lets that thread accept on whatever
        # socket reuses the number next (it stole a later test's registry requests).
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(timeout=5)
        self.sock.close()
