"""Waiting for a condition: the one polling loop shared by the e2e tests and the benchmark."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from kubernetes.client.rest import ApiException

T = TypeVar("T")

#: What ``check`` may raise while the condition is not met yet (an object not there, a field not filled in, an
#: assertion inside the check): the poll goes on, and the last one is reported on a time-out.
TOLERATED = (ApiException, AssertionError, KeyError, TypeError)


def wait_for(check: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> T:
    """Call ``check`` every ``interval`` seconds until it returns something truthy, and return that.

    Errors in ``TOLERATED`` count as "not yet"; any other error propagates at once (a process that died, say).
    After ``timeout`` seconds, raise ``AssertionError`` naming ``what`` and the last value or error, so that a
    test fails (rather than errors) and the benchmark stops with the reason."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except TOLERATED as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last: {last!r}")
        time.sleep(interval)
