"""What Kopf remembers per object, trimmed to what devns's handlers need.

Kopf keeps a ``ResourceMemory`` for every object of every watched resource until it is deleted: a copy of the
operator's memo, an error throttler, indexing and daemon bookkeeping. devns watches every managed child (about ten
per DevNamespace: 100,000 objects at the cluster's limit of 10,000 namespaces) only with ``on.event`` handlers
(``handlers.guard``), which use none of that between events. So only the kinds with state-keeping handlers
(DevNamespaces: change handlers, indexes; DevNamespaceClasses: indexes, a daemon; the peering object: the
lifecycle's daemon) are remembered; for any other kind Kopf gets a fresh memory per event, as it does itself for
admission requests (its ``ephemeral`` memories).

``kopf.operator(memories=...)`` takes this container; the base class is Kopf's own (``ResourceMemories``, not
re-exported at Kopf's top level), and ``tests/unit/test_memories.py`` pins the behaviour it relies on.
"""

from __future__ import annotations

from typing import Any

from kopf._core.reactor.inventory import ResourceMemories, ResourceMemory

from .contract import CLASS_KIND, KIND

#: Kinds whose objects keep a memory across events.
REMEMBERED_KINDS = frozenset({KIND, CLASS_KIND, "ClusterKopfPeering"})


class DevnsMemories(ResourceMemories):
    """Kopf's per-object memories, kept only for ``REMEMBERED_KINDS``."""

    async def recall(self, raw_body: Any, *, memobase: Any = None, noticed_by_listing: bool = False,
                     ephemeral: bool = False) -> ResourceMemory:
        ephemeral = ephemeral or raw_body.get("kind") not in REMEMBERED_KINDS
        return await super().recall(raw_body=raw_body, memobase=memobase, noticed_by_listing=noticed_by_listing,
                                    ephemeral=ephemeral)

    def __len__(self) -> int:
        return len(self._items)
