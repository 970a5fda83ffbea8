"""One scheduler for every DevNamespace's lifecycle deadlines: a heap of (time, uid) and one task that sleeps until
the earliest, then runs an action for each DevNamespace whose time has come, a few at a time.

No Kubernetes and no Kopf here (``handlers_lifecycle`` wires it): ``plan`` is called with each DevNamespace's next
deadline as its watch events arrive, ``run`` is the task. N DevNamespaces cost N heap entries and one task, not N
tasks; nothing runs while nothing is due. A plan replaces the one before it (a TTL extended moves the expiry
later); the action's own answer can only bring a deadline forward (``plan(..., earliest=True)``), so an event that
arrived while it ran is never overwritten by a later time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import logging
import time
from typing import Any, Awaitable, Callable

log = logging.getLogger("devns")

#: uid, name -> the next deadline of that DevNamespace (None: none until it changes)
Action = Callable[[str, str], Awaitable["dt.datetime | None"]]


class Stopped:
    """A stop flag like Kopf's daemon ``stopped``: false until ``set``; ``await wait()`` until then."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def __bool__(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()


class Deadlines:
    """uid -> its next deadline (Unix time), with a heap for the earliest; ``plan``/``forget`` on the event loop
    (``plan_threadsafe`` from a worker thread)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._heap: list[tuple[float, int, str]] = []  # (time, tie-breaker, uid); stale entries skipped lazily
        self._when: dict[str, float] = {}  # uid -> the time that counts
        self._names: dict[str, str] = {}
        self._seq = itertools.count()
        self._changed: asyncio.Event | None = None
        self._running: set[str] = set()
        self._again: set[str] = set()  # due while its action ran: run once more right after

    def __len__(self) -> int:
        return len(self._when)

    def when(self, uid: str) -> float | None:
        return self._when.get(uid)

    def plan(self, uid: str, name: str, when: dt.datetime | None, *, earliest: bool = False) -> None:
        """``uid``'s next deadline is ``when`` (None: none). ``earliest``: keep the planned time if it is earlier."""
        if when is None:
            if not earliest:
                self.forget(uid)
            return
        at = when.timestamp()
        planned = self._when.get(uid)
        if planned == at or (earliest and planned is not None and planned <= at):
            return
        first = self._heap[0][0] if self._heap else None
        self._when[uid], self._names[uid] = at, name
        heapq.heappush(self._heap, (at, next(self._seq), uid))
        if self._changed is not None and (first is None or at < first):
            self._changed.set()  # earlier than what the runner sleeps until

    def plan_threadsafe(self, uid: str, name: str, when: dt.datetime | None) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.plan, uid, name, when)

    def forget(self, uid: str) -> None:
        """The DevNamespace is gone: no deadline (its heap entry is skipped when it comes up)."""
        self._when.pop(uid, None)
        self._names.pop(uid, None)

    def clear(self) -> None:
        """Forget everything (a paused replica: the watch events plan again when it resumes)."""
        self._heap.clear()
        self._when.clear()
        self._names.clear()

    def _pop_due(self, now: float) -> list[tuple[str, str]]:
        due = []
        while self._heap and self._heap[0][0] <= now:
            at, _, uid = heapq.heappop(self._heap)
            if self._when.get(uid) != at:
                continue  # replaced or forgotten since
            name = self._names[uid]
            del self._when[uid]
            if uid in self._running:
                self._again.add(uid)
            else:
                due.append((uid, name))
        return due

    def _next(self) -> float | None:
        while self._heap and self._when.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # stale
        return self._heap[0][0] if self._heap else None

    async def run(self, act: Action, stopped: Any, concurrency: int = 8, retry: float = 5.0) -> None:
        """Until ``stopped`` (anything with ``wait()`` and truthiness, like Kopf's daemon flag): run ``act`` for
        each DevNamespace when its time comes, ``concurrency`` at once; plan what it answers. An action that
        raises is logged and tried again after ``retry`` seconds."""
        self.loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        limit = asyncio.Semaphore(concurrency)
        tasks: set[asyncio.Task] = set()

        async def one(uid: str, name: str) -> None:
            async with limit:
                try:
                    when = await act(uid, name)
                except Exception as exc:  # noqa: BLE001 - one DevNamespace's trouble must not stop the others
                    log.warning(f"lifecycle of devnamespace/{name} failed, retrying in {retry:g} s: {exc}")
                    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=retry)
                finally:
                    self._running.discard(uid)
                if uid in self._again:
                    self._again.discard(uid)
                    when = dt.datetime.now(dt.timezone.utc)
                self.plan(uid, name, when, earliest=True)

        stop = asyncio.ensure_future(stopped.wait())
        try:
            while not stopped:
                self._changed.clear()
                for uid, name in self._pop_due(time.time()):
                    self._running.add(uid)
                    task = asyncio.create_task(one(uid, name))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                nxt = self._next()
                timeout = None if nxt is None else max(0.0, nxt - time.time())
                changed = asyncio.ensure_future(self._changed.wait())
                try:
                    await asyncio.wait([changed, stop], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    changed.cancel()
        finally:
            stop.cancel()
            for task in tasks:
                task.cancel()
            self._running.clear()
            self._again.clear()
