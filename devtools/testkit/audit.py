"""The kube-apiserver audit log of a dev cluster (JSON lines, Metadata level): who sent which requests.

localk8s writes it with the RequestReceived stage omitted, so a request has one line when it completes, or two
when it streams (ResponseStarted, then ResponseComplete). Each request is counted once, by its auditID, and
placed in time by when the API server received it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

from .waiting import wait_for

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
READ_VERBS = ("get", "list", "watch")  # in the order reports show them


class Mark(NamedTuple):
    """Where a window of the log starts: the file's size, and the wall time (requests received before it are
    not in the window even when they complete after it)."""

    offset: int
    time: float


@dataclass(frozen=True)
class Request:
    """One API request, as the audit log tells it."""

    audit_id: str
    user: str
    verb: str
    resource: str  # "" for a non-resource URL such as /metrics
    subresource: str
    namespace: str
    name: str
    received: float  # wall time (Unix seconds) the API server received it

    @classmethod
    def of(cls, entry: dict) -> "Request":
        ref = entry.get("objectRef") or {}
        return cls(entry.get("auditID", ""), entry.get("user", {}).get("username", ""), entry.get("verb", ""),
                   ref.get("resource", ""), ref.get("subresource", ""), ref.get("namespace", ""),
                   ref.get("name", ""), parse_time(entry["requestReceivedTimestamp"]))

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS

    @property
    def action(self) -> str:
        """'patch devnamespaces/status', 'create namespaces': the verb and what it acted on."""
        sub = f"/{self.subresource}" if self.subresource else ""
        return f"{self.verb} {self.resource or '?'}{sub}"

    def touches(self, names: Iterable[str]) -> bool:
        """Whether the object is named in ``names`` or lives in a namespace named there."""
        names = set(names)
        return self.name in names or self.namespace in names

    def __str__(self) -> str:
        where = "/".join(part for part in (self.namespace, self.name) if part)
        return self.action + (f" {where}" if where else "")


def parse_time(value: str) -> float:
    """An audit timestamp (RFC 3339, microseconds, Z) as a Unix time."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def writes_among(requests: Iterable[Request], touching: Iterable[str] | None = None) -> list[Request]:
    """The writes among ``requests``, optionally only those that touch one of the names in ``touching`` (objects
    of that name, or anything in namespaces of that name)."""
    names = None if touching is None else set(touching)
    return [r for r in requests if r.is_write and (names is None or r.touches(names))]


def describe_writes(requests: list[Request], limit: int = 5) -> str:
    """'patch devnamespaces/status x, create events default/y (+3 more)': the first few, for a message."""
    more = f" (+{len(requests) - limit} more)" if len(requests) > limit else ""
    return ", ".join(str(r) for r in requests[:limit]) + more


class AuditLog:
    """Reads the audit log at ``path`` incrementally (following one rotation) and counts each request once.

    ``mark()`` starts a window; ``requests``/``writes`` list what a user sent in it. One instance also follows the
    log to know when each user last wrote, so ``wait_quiet`` costs nothing when the user has been quiet a while.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._offset = 0
        self._last_write: dict[str, float] = {}

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def mark(self) -> Mark:
        """Now: where a window starts."""
        return Mark(self._size(), time.time())

    def _read_since(self, offset: int) -> tuple[bytes, int]:
        """Complete lines written since ``offset`` (following one rotation) and the offset after them."""
        chunks = []
        if self._size() < offset:  # rotated since: the rest of the old file, then the new one from its start
            rotated = sorted(self.path.parent.glob(f"{self.path.stem}-*{self.path.suffix}"),
                             key=lambda p: p.stat().st_mtime)
            if rotated:
                with open(rotated[-1], "rb") as f:
                    f.seek(offset)
                    chunks.append(f.read())
            offset = 0
        with open(self.path, "rb") as f:
            f.seek(offset)
            data = f.read()
        complete = data.rfind(b"\n") + 1  # leave a line being written for the next read
        chunks.append(data[:complete])
        return b"".join(chunks), offset + complete

    @staticmethod
    def _entries(data: bytes) -> Iterator[dict]:
        for line in data.splitlines():
            try:
                yield json.loads(line)
            except ValueError:
                continue

    def requests(self, since: Mark, user: str, *, until: float | None = None) -> list[Request]:
        """Every request by ``user`` received from the mark on (and up to ``until``, a wall time), once each, in
        the order they were logged."""
        offset, start = since
        seen: dict[str, Request] = {}
        data, _ = self._read_since(offset)
        for entry in self._entries(data):
            if entry.get("user", {}).get("username") != user or entry.get("auditID") in seen:
                continue
            request = Request.of(entry)
            if request.received >= start and (until is None or request.received <= until):
                seen[request.audit_id] = request
        return list(seen.values())

    def writes(self, since: Mark, user: str, *, until: float | None = None,
               touching: Iterable[str] | None = None) -> list[Request]:
        """``user``'s writes from the mark on; with ``touching``, only those on objects of those names or in
        namespaces of those names."""
        return writes_among(self.requests(since, user, until=until), touching)

    def wait_logged(self, since: Mark, user: str, action: str, name: str, timeout: float = 10.0) -> None:
        """Wait until ``user``'s ``action`` ('patch devnamespaces/status') on ``name`` is in the log. The API server
        logs a request after answering it, so a reader can see a change before the line that wrote it."""
        wait_for(lambda: any(r.action == action and r.name == name for r in self.requests(since, user)),
                 timeout=timeout, interval=0.1, what=f"{action} {name} by {user} in the audit log")

    @staticmethod
    def by_verb(requests: Iterable[Request]) -> Counter:
        """verb -> count."""
        return Counter(r.verb for r in requests)

    @staticmethod
    def by_resource(requests: Iterable[Request]) -> Counter:
        """'patch devnamespaces', 'patch devnamespaces/status', ... -> count."""
        return Counter(r.action for r in requests)

    def _follow(self) -> None:
        data, self._offset = self._read_since(self._offset)
        for entry in self._entries(data):
            if entry.get("verb") in WRITE_VERBS:
                user = entry.get("user", {}).get("username", "")
                received = parse_time(entry["requestReceivedTimestamp"])
                self._last_write[user] = max(self._last_write.get(user, 0.0), received)

    def last_write(self, user: str) -> float:
        """Wall time of ``user``'s latest write logged so far (0 if none)."""
        self._follow()
        return self._last_write.get(user, 0.0)

    def wait_quiet(self, user: str, quiet_for: float = 5.0, timeout: float = 120.0) -> float:
        """Wait until ``user``'s last write is ``quiet_for`` seconds old; return how long that took. After
        ``timeout`` seconds of writes, ``AssertionError`` (see ``wait_for``)."""
        started = time.monotonic()
        wait_for(lambda: time.time() - self.last_write(user) >= quiet_for, timeout=timeout, interval=0.2,
                 what=f"{user} to make no write for {quiet_for:g} s")
        return time.monotonic() - started
