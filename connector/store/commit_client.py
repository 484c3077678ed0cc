"""A web process's side of the host's commit process (``commit_process.py``).

Each request thread keeps one UNIX-socket connection; a write is one request frame and one
answer, sent only after the commit process has committed the group holding it. When the commit
process cannot be reached (not started, restarting, crashed mid-group), the write goes to this
process's own group committer instead, and the commit process is tried again a second later.
Both paths are idempotent: a claim retried after a lost answer finds its own row.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
import time
from typing import Any

from ..errors import StoreUnavailable
from .commit_process import HEADER, encode_frame
from .events import Claim
from .group_commit import GroupCommitter
from .queue_ops import OPS, QueueOp

logger = logging.getLogger("connector.store")
RETRY_AFTER_S = 1.0  # how long to use the local committer after the commit process failed
ANSWER_TIMEOUT_S = 60.0


class CommitClient:
    def __init__(self, path: str, fallback: GroupCommitter) -> None:
        self.path = path
        self.fallback = fallback
        self._local = threading.local()
        self._ids = itertools.count()
        self._down_until = 0.0

    def claim(self, unit: Claim) -> dict[str, Any] | None:
        """None when the row went in, else the row holding its key (see ``Claim``)."""
        ok, holder = self._call({"op": "claim", "row": unit.row, "window_ms": unit.window_ms})
        if not ok:  # the commit process may have committed it before its answer was lost:
            return self.fallback.submit(unit)  # then the holder found is our own row
        return holder

    def queue(self, op: QueueOp) -> Any:
        """A worker's write (see ``queue_ops``), run by the commit process when it can be."""
        ok, data = self._call({"op": "queue", "name": op.name, "args": op.wire()})
        if not ok:
            return self.fallback.submit(op)
        return OPS[op.name].result_in(data)

    def _call(self, request: dict[str, Any]) -> tuple[bool, Any]:
        """(True, the commit process's result), or (False, None) when it could not be
        reached."""
        if time.monotonic() < self._down_until:
            return False, None
        request["id"] = next(self._ids)
        try:
            sock = self._socket()
            sock.sendall(encode_frame(request))
            answer = self._read(sock)
        except OSError as exc:
            self._close()
            self._down_until = time.monotonic() + RETRY_AFTER_S
            logger.warning("commit process unreachable (%s); writing directly", exc)
            return False, None
        if not answer.get("ok"):
            raise StoreUnavailable(
                f"The store could not save this message: {answer.get('error')}", retry_after=5
            )
        return True, answer["result"]

    def _socket(self) -> socket.socket:
        sock: socket.socket | None = getattr(self._local, "sock", None)
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(ANSWER_TIMEOUT_S)
            try:
                sock.connect(self.path)
            except OSError:
                sock.close()
                raise
            self._local.sock = sock
        return sock

    def _read(self, sock: socket.socket) -> dict[str, Any]:
        header = self._exactly(sock, HEADER.size)
        (length,) = HEADER.unpack(header)
        answer: dict[str, Any] = json.loads(self._exactly(sock, length))
        return answer

    @staticmethod
    def _exactly(sock: socket.socket, size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                raise ConnectionResetError("the commit process closed the connection")
            data += chunk
        return bytes(data)

    def _close(self) -> None:
        sock = getattr(self._local, "sock", None)
        if sock is not None:
            sock.close()
            self._local.sock = None
