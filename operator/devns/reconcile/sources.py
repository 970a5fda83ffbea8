"""Sources of ingress (``trust``): what only the API can tell about them, and waking the DevNamespaces whose
trusted sources changed.

Which listed namespaces are trusted depends on the DevNamespaces alone (the handlers judge them from an index,
``trust.decide``); this module adds the two API calls around that decision: ``look_up`` reads the listed namespaces
no DevNamespace holds, so the refusal says whether they exist (one GET each, only for those). A DevNamespace whose
judgement changed is woken with ``context.recheck`` (one annotation, as for the limit per requester).
"""

from __future__ import annotations

from ..kube import ApiError
from ..trust import Decision
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
