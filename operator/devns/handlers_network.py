"""Kopf wiring of network trust (``trust``): which listed sources of ingress a DevNamespace may admit, and
re-judging them when the DevNamespaces holding those namespaces change. Imported by ``handlers``.

- Two indexes of the DevNamespaces (``informer``, no API call): ``devnamespace_sources`` (namespace -> the
  DevNamespaces naming it, with their owners and state) and ``devnamespace_listeners`` (namespace -> the
  DevNamespaces listing it in ``spec.network.allowFromNamespaces``).
- ``judged`` decides from the first index, so provisioning (``handlers.provision``) and drift repair
  (``handlers.guard``) render the same allow-from policy, and the desired-state cache is keyed by the same list.
- ``sources_changed`` (an event handler on DevNamespaces, on the event loop) compares each DevNamespace's namespace,
  owners and state with what it saw last; when they change it asks ``trust.affected`` which listeners' judgement of
  that namespace changes, and only those get one annotation each (``reconcile.recheck``): an event that changes no
  judgement (a status write, an expiry warning, any other DevNamespace) costs no request. The initial listing after
  a start only records what it sees: on.resume judges every DevNamespace from the complete index anyway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Mapping

import kopf

from . import reconcile, trust
from .contract import GROUP, PLURAL, VERSION
from .events import Poster
from .informer import Index
from .outcome import Outcome
from .reconcile import Context

RESOURCE = (GROUP, VERSION, PLURAL)


class SeenSources(dict[str, trust.Source]):
    """uid -> what trust last saw of each DevNamespace (its namespace, owners, state), to tell which events change
    a judgement. Lives in Kopf's memo as ``memo.seen_sources`` (only the event loop touches it)."""


def devnamespace_sources(body: Mapping[str, Any]) -> dict[str, trust.Source]:
    """namespace -> the DevNamespaces naming it (normally one; more while one of them fails for a conflict)."""
    source = trust.source_of(body)
    return {source.namespace: source}


def devnamespace_listeners(body: Mapping[str, Any]) -> dict[str, trust.Source]:
    """listed namespace -> the DevNamespaces asking ingress from it."""
    names = trust.listed(body)
    if not names:
        return {}
    me = trust.source_of(body)
    return {name: me for name in names}


def judged(ctx: Context, body: Mapping[str, Any], sources: Index) -> trust.Decision:
    """The judgement of ``body``'s listed sources from the index (no API call); empty when it lists none."""
    names = trust.listed(body)
    if not names:
        return trust.Decision()
    return trust.decide(trust.source_of(body), names, lambda name: sources.get(name, ()),
                        ctx.settings.is_trusted_source)


def trusted_sources(ctx: Context, body: Mapping[str, Any], sources: Index) -> tuple[str, ...]:
    """What drift repair renders: the same trusted list as provisioning."""
    return judged(ctx, body, sources).granted


def announce(events: Poster, body: Mapping[str, Any], outcome: Outcome) -> None:
    """The Event of a change of the ``SourcesTrusted`` condition (a Warning naming every refused source)."""
    event = trust.event_of(body.get("status"), outcome.status)
    if event is not None:
        events.post(body, event)


@kopf.on.event(*RESOURCE, id="sources")
async def sources_changed(event: dict[str, Any], memo: kopf.Memo, logger: logging.Logger,
                          **_: Any) -> None:
    """A DevNamespace appeared, changed or went away: re-judge the DevNamespaces listing its namespace, if their
    judgement of it changes (it became Ready, its owners changed, it is being deleted or is gone)."""
    memo.indexes.from_kopf(event)  # first: this event's handlers (and its change handlers after) read the indexes
    obj = event["object"]
    uid = obj["metadata"]["uid"]
    seen: SeenSources = memo.seen_sources
    old = seen.get(uid)
    if event.get("type") == "DELETED":
        old, new = seen.pop(uid, None) or trust.source_of(obj), None
    else:
        new = seen[uid] = trust.source_of(obj)
        if event.get("type") is None and old is None:
            return
    if old == new:
        return
    ctx: Context = memo.ctx
    ix = memo.indexes
    stale = trust.affected(old, new, lambda name: ix.devnamespace_listeners.get(name, ()),
                           lambda name: ix.devnamespace_sources.get(name, ()), ctx.settings.is_trusted_source)
    if stale:
        woken = await asyncio.to_thread(reconcile.recheck, ctx, stale, dt.datetime.now(dt.timezone.utc))
        if woken:
            logger.info(f"namespace {(new or old).namespace} changed hands or state: re-judging the sources of "
                        f"{', '.join(woken)}")
