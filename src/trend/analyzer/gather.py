"""allGather among the tasks of one barrier stage, through a small TCP server on the driver.

Spark's own ``BarrierTaskContext.allGather`` checks for its answer once a second (the JVM side
sleeps 1 s between checks), so a round costs ~1 s where a K-means pass over a partition held in
memory costs ~0.2 s. The barrier stage still does what only Spark can: it starts every task of
the stage together, or none. The rounds go through a ``Rendezvous`` instead (the pattern of
XGBoost's tracker on the driver):

- the driver opens it for one stage (``with Rendezvous(parts, host) as rendezvous``) and ships
  its ``address`` and ``secret`` in the task closure;
- each task connects (``Member``) with the secret and its partition id; once every partition has
  connected, the group starts: per round each task sends one payload and gets every partition's
  payload back, in partition order;
- a task that fails or finishes closes its connection; the server then ends the group and closes
  the others' connections, so no task waits on a peer that is gone. When Spark retries the stage
  its tasks connect again: a partition that connects twice before its group is complete replaces
  the waiting connections (they belong to the failed attempt).

Messages are length-prefixed bytes; a connection that does not start with the secret is dropped.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import socket
import struct
import threading

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("<Q")
_HEADER = struct.Struct("<I")  # partition id
SECRET_BYTES = 16
TIMEOUT_SECONDS = 600.0  # the longest a task waits for its peers' round (a pass at 1M takes seconds)
HEADER_TIMEOUT_SECONDS = 30.0  # a connection must name itself this soon


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_LENGTH.pack(len(payload)) + payload)


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    """``size`` bytes, or None when the peer closed the connection before sending any."""
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            if got == 0:
                return None
            raise ConnectionError(f"connection closed after {got} of {size} bytes")
        got += n
    return bytes(buffer)


def _recv(sock: socket.socket) -> bytes | None:
    head = _recv_exactly(sock, _LENGTH.size)
    if head is None:
        return None
    (size,) = _LENGTH.unpack(head)
    return b"" if size == 0 else _recv_exactly(sock, size)


def _pack(payloads: list[bytes]) -> bytes:
    return b"".join(_LENGTH.pack(len(p)) + p for p in payloads)


def _unpack(message: bytes) -> list[bytes]:
    out, at = [], 0
    while at < len(message):
        (size,) = _LENGTH.unpack_from(message, at)
        at += _LENGTH.size
        out.append(message[at : at + size])
        at += size
    return out


class Rendezvous:
    """The driver's side: groups the ``parts`` tasks of a stage and relays their rounds."""

    def __init__(self, parts: int, host: str, bind: str | None = None):
        if parts < 1:
            raise ValueError("a rendezvous needs at least one part")
        self.parts = parts
        self.secret = secrets.token_bytes(SECRET_BYTES)
        self._server = socket.create_server((bind if bind is not None else host, 0))
        self.address = (host, self._server.getsockname()[1])
        self._waiting: dict[int, socket.socket] = {}  # partition -> connection, until all have come
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, name="rendezvous-accept", daemon=True).start()

    def __enter__(self) -> Rendezvous:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections = list(self._open)
        self._server.close()
        for conn in connections:
            conn.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:  # closed
                return
            conn.settimeout(HEADER_TIMEOUT_SECONDS)
            try:
                header = _recv(conn)
            except OSError:
                header = None
            conn.settimeout(TIMEOUT_SECONDS)
            if (
                header is None
                or len(header) != SECRET_BYTES + _HEADER.size
                or not hmac.compare_digest(header[:SECRET_BYTES], self.secret)
            ):
                log.warning("rendezvous: dropped a connection without the stage's secret")
                conn.close()
                continue
            (partition,) = _HEADER.unpack(header[SECRET_BYTES:])
            if partition >= self.parts:
                log.warning("rendezvous: dropped partition %d of a %d-part stage", partition, self.parts)
                conn.close()
                continue
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self._open.add(conn)
                if partition in self._waiting:  # a retried stage: the waiting ones are the failed attempt's
                    for stale in self._waiting.values():
                        self._open.discard(stale)
                        stale.close()
                    self._waiting = {}
                self._waiting[partition] = conn
                ready = self._waiting if len(self._waiting) == self.parts else None
                if ready is not None:
                    self._waiting = {}
            if ready is not None:
                members = [ready[p] for p in range(self.parts)]
                threading.Thread(target=self._relay, args=(members,), name="rendezvous-relay", daemon=True).start()

    def _relay(self, members: list[socket.socket]) -> None:
        """Round after round: every member's payload, then all of them (partition order) to each."""
        try:
            while True:
                payloads = [_recv(conn) for conn in members]
                if any(p is None for p in payloads):  # a member finished or failed: the group is over
                    return
                reply = _pack([p for p in payloads if p is not None])
                for conn in members:
                    _send(conn, reply)
        except OSError as exc:
            log.info("rendezvous: a group ended on %s", exc)
        finally:
            with self._lock:
                for conn in members:
                    self._open.discard(conn)
                    conn.close()


class Member:
    """A task's side: ``gather(payload)`` → every partition's payload of this round, in partition order."""

    def __init__(self, address: tuple[str, int], secret: bytes, partition: int):
        self._sock = socket.create_connection(address, timeout=TIMEOUT_SECONDS)
        _send(self._sock, secret + _HEADER.pack(partition))

    def __enter__(self) -> Member:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def gather(self, payload: bytes) -> list[bytes]:
        _send(self._sock, payload)
        reply = _recv(self._sock)
        if reply is None:
            raise ConnectionError("the rendezvous ended the round: a peer task failed or the driver closed it")
        return _unpack(reply)

    def close(self) -> None:
        self._sock.close()
