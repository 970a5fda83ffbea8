"""Kopf keeps a memory per object only for the kinds whose handlers need one (DevNamespaces, classes, the peering
object): the ~10 managed children of each DevNamespace, watched by on.event handlers only, get a fresh one per
event. Pins the Kopf behaviour ``devns.memories`` relies on (``recall`` with ``ephemeral``)."""

import asyncio

from devns.memories import DevnsMemories


def body(kind: str, uid: str) -> dict:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": uid, "uid": uid}}


def test_children_are_not_remembered_and_devnamespaces_are():
    async def main():
        memories = DevnsMemories()
        child = await memories.recall(body("NetworkPolicy", "c1"))
        again = await memories.recall(body("NetworkPolicy", "c1"))
        dn = await memories.recall(body("DevNamespace", "d1"), noticed_by_listing=True)
        dn_again = await memories.recall(body("DevNamespace", "d1"))
        cls = await memories.recall(body("DevNamespaceClass", "k1"))
        peering = await memories.recall(body("ClusterKopfPeering", "p1"))
        return memories, child, again, dn, dn_again, cls, peering
    memories, child, again, dn, dn_again, cls, peering = asyncio.run(main())
    assert child is not again  # a fresh memory per event
    assert dn is dn_again and dn.noticed_by_listing  # kept: resume and change handlers read it
    assert len(memories) == 3 and {id(m) for m in memories.iter_all_memories()} == {id(dn), id(cls), id(peering)}
