"""Sample DevNamespaces and a client-less Context for the unit tests of the reconcile paths' pure parts (a
Context without a client: any API call would fail the test)."""

import datetime as dt

from devns.contract import API_VERSION, KIND
from devns.reconcile import Context
from devns.settings import Settings
from devns.units import format_time

UTC = dt.timezone.utc
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
CREATED = dt.datetime(2026, 11, 14, 10, tzinfo=UTC)
UID = "0b5c4e4e-1f2a-4d8e-9c3b-7a6d5e4f3a21"
KEY = b"k" * 32


def ctx(**settings) -> Context:
    return Context(kube=None, settings=Settings(**settings), key=KEY)


def devnamespace(status=None, deleting=False, resource_version="1", generation=1, **spec) -> dict:
    """A DevNamespace named alice as the API returns it, owned by alice@example.com, with ``spec`` on top."""
    meta = {"name": "alice", "uid": UID, "creationTimestamp": format_time(CREATED),
            "resourceVersion": resource_version, "generation": generation}
    if deleting:
        meta["deletionTimestamp"] = format_time(CREATED + H)
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta,
            "spec": {"owners": [{"kind": "User", "name": "alice@example.com"}], **spec}, "status": status or {}}
