"""Sources of ingress (``trust``): what only the API can tell about them, and waking the DevNamespaces whose
trusted sources changed.

Which listed namespaces are trusted depends on the DevNamespaces alone (the handlers judge them from a Kopf index,
``trust.decide``); this module adds the two API calls around that decision: ``look_up`` reads the listed namespaces
no DevNamespace holds, so the refusal says whether they exist (one GET each, only for those), and ``recheck``
touches a DevNamespace whose judgement changed (one annotation, like the limit per requester does), so it is
reconciled again without polling.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from ..contract import ANN_RECHECK, KIND
from ..kube import ApiError
from ..trust import Decision, Source
from .context import Context


def look_up(ctx: Context, decision: Decision) -> Decision:
    """``decision`` with its ``UNKNOWN`` refusals made precise: does not exist, is being deleted, or exists but is
    neither devns's nor trusted by the platform. Refused either way: a failed read keeps them ``UNKNOWN``."""
    found = {}
    for name in decision.unknown:
        try:
            found[name] = ctx.kube.get("Namespace", name)
        except ApiError:
            continue
    return decision.resolved(found)


def recheck(ctx: Context, sources: Iterable[Source], now: dt.datetime) -> list[str]:
    """Touch each DevNamespace (one annotation each, only that uid) so it is reconciled again; the names touched.
    The value has microseconds: two wakes in one second must both change the object."""
    touched = []
    for source in sources:
        try:
            ctx.kube.annotate(KIND, source.name, {ANN_RECHECK: now.astimezone(dt.timezone.utc).isoformat()},
                              uid=source.uid)
            touched.append(source.name)
        except ApiError as exc:
            if exc.status not in (404, 409):  # gone or replaced meanwhile
                raise
    return touched
