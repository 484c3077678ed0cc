"""The host's commit process: one writer for every web process of a ``serve``.

A web process's request threads are busy parsing JSON most of the time; a writer thread among
them must win the interpreter lock back after every database call, and under load it waits far
longer for the lock than for the disk (measured: a group of 15 inserts took 25 ms instead of 1).
So ``serve`` starts this process beside gunicorn: it does nothing but take the rows of waiting
requests from every web process (a UNIX socket, one JSON frame each), insert them in one
transaction, commit (one flush to disk), and answer each request. Groups grow with the load, and
the web processes never hold the store's write lock.

It owns the hot writes only (new events, and the settling of inline sends). Web processes fall
back to their own group committer whenever this process cannot be reached, so it is a speed-up,
never a single point of failure; ``serve`` restarts it if it exits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import signal
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from .engine import Database
from .events import Claim
from .group_commit import commit_group
from .queue_ops import OPS, QueueOp

logger = logging.getLogger("connector.store")
HEADER = struct.Struct("!I")  # each frame: its length, then UTF-8 JSON
MAX_FRAME = 4 * 1024 * 1024


def encode_frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    return HEADER.pack(len(body)) + body


def unit_of(request: dict[str, Any]) -> Callable[[Connection], Any]:
    """A request frame as the unit of work the group runs."""
    op = request["op"]
    if op == "claim":
        return Claim(request["row"], request["window_ms"])
    if op == "queue":
        return QueueOp.from_wire(request["name"], request["args"]).unit()
    raise ValueError(f"unknown operation {op!r}")


def result_of(request: dict[str, Any], result: Any) -> Any:
    op = request["op"]
    if op == "claim":  # None (inserted) or the row holding the key, JSON columns decoded
        return result
    return OPS[request["name"]].result_out(result)


@dataclass
class Peer:
    sock: socket.socket
    inbox: bytearray = field(default_factory=bytearray)
    outbox: bytearray = field(default_factory=bytearray)


class CommitServer:
    def __init__(self, db: Database, path: str) -> None:
        self.db = db
        self.path = path
        self.selector = selectors.DefaultSelector()
        self.running = True
        if os.path.exists(path):
            os.unlink(path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o077)  # only this user may connect
        try:
            self.listener.bind(path)
        finally:
            os.umask(old)
        self.listener.listen(1024)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, None)

    def serve_forever(self) -> None:
        while self.running:
            requests: list[tuple[Peer, dict[str, Any]]] = []
            for key, mask in self.selector.select(timeout=0.5):
                if key.data is None:
                    self._accept()
                elif mask & selectors.EVENT_READ:
                    requests.extend((key.data, r) for r in self._read(key.data))
                if key.data is not None and mask & selectors.EVENT_WRITE:
                    self._flush(key.data)
            if requests:
                self._commit(requests)
        self.listener.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def stop(self, *_: object) -> None:
        self.running = False

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, Peer(sock))

    def _read(self, peer: Peer) -> list[dict[str, Any]]:
        try:
            data = peer.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            data = b""
        if not data:
            self._drop(peer)
            return []
        peer.inbox += data
        frames = []
        while len(peer.inbox) >= HEADER.size:
            (length,) = HEADER.unpack_from(peer.inbox)
            if length > MAX_FRAME:
                self._drop(peer)
                return []
            if len(peer.inbox) < HEADER.size + length:
                break
            frames.append(json.loads(peer.inbox[HEADER.size : HEADER.size + length]))
            del peer.inbox[: HEADER.size + length]
        return frames

    def _commit(self, requests: list[tuple[Peer, dict[str, Any]]]) -> None:
        units: list[Callable[[Connection], Any]] = []
        answers: list[dict[str, Any] | None] = []
        for _, request in requests:
            try:
                units.append(unit_of(request))
                answers.append(None)
            except (KeyError, TypeError, ValueError) as exc:
                answers.append({"ok": False, "error": f"bad request: {exc}"})
        outcomes = iter(commit_group(self.db, units) if units else [])
        for (peer, request), answer in zip(requests, answers, strict=True):
            if answer is None:
                ok, result = next(outcomes)
                answer = (
                    {"ok": True, "result": result_of(request, result)}
                    if ok
                    else {"ok": False, "error": f"{type(result).__name__}: {result}"}
                )
            answer["id"] = request.get("id")
            peer.outbox += encode_frame(answer)
            self._flush(peer)

    def _flush(self, peer: Peer) -> None:
        if peer.sock.fileno() == -1:  # dropped: its requests were committed, nobody listens
            return
        try:
            sent = peer.sock.send(peer.outbox)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._drop(peer)
            return
        del peer.outbox[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if peer.outbox else 0)
        self.selector.modify(peer.sock, events, peer)

    def _drop(self, peer: Peer) -> None:
        try:
            self.selector.unregister(peer.sock)
        except (KeyError, ValueError):
            pass
        peer.sock.close()


def run(database_url: str, path: str) -> None:
    """``lto-connector commit-process``: serve until SIGTERM."""
    db = Database(database_url)
    server = CommitServer(db, path)
    signal.signal(signal.SIGTERM, server.stop)
    signal.signal(signal.SIGINT, server.stop)
    try:
        server.serve_forever()
    finally:
        db.dispose()
