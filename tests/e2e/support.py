"""Helpers shared by the e2e tests: waiting for a condition, API clients, impersonation, the operator process."""

from __future__ import annotations

import json
import time
from typing import Callable, TypeVar

import kubernetes
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException

T = TypeVar("T")


def wait_for(check: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; fail with the last value (or error) after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except (ApiException, AssertionError, KeyError, TypeError) as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def client(kubeconfig: str, *, user: str | None = None, groups: tuple[str, ...] = ()) -> ApiClient:
    """An API client for the kubeconfig's identity, or impersonating ``user`` (and at most one group)."""
    api = kubernetes.config.new_client_from_config(config_file=kubeconfig)
    if user:
        api.set_default_header("Impersonate-User", user)
        for group in groups[:1]:  # the client sends one value per header name
            api.set_default_header("Impersonate-Group", group)
    return api


def status_of(call: Callable[[], object]) -> int:
    """Run an API call and return its HTTP status (2xx as 200)."""
    try:
        call()
        return 200
    except ApiException as exc:
        return exc.status


def error_of(call: Callable[[], object]) -> ApiException:
    """Run an API call that must fail and return the exception, its Status message as ``exc.message``."""
    try:
        call()
    except ApiException as exc:
        try:
            exc.message = json.loads(exc.body)["message"]
        except (TypeError, ValueError, KeyError):
            exc.message = str(exc.body)
        return exc
    raise AssertionError("the call succeeded but was expected to fail")


def gone(read: Callable[[], object]) -> bool:
    """True once ``read`` answers 404."""
    return status_of(read) == 404
