"""The verification after a start-up (``handlers_lifecycle.verify``): nothing it was given is lost to an API
failure."""

import asyncio

import kopf

from devns import handlers_lifecycle


def test_the_verification_tries_again_later_what_the_api_failed_for(monkeypatch):
    """A DevNamespace whose verification hit an API failure (an API server restarting) is not dropped: it goes to
    the back of the queue, after a pause."""
    monkeypatch.setattr(handlers_lifecycle, "VERIFY_BACKOFF", 0.01)
    tried: list[str] = []

    class Lanes:
        async def run(self, lane, fn, memo, name, action):
            tried.append(name)
            return not (name == "flaky" and tried.count("flaky") == 1)  # the API fails its first try only

    async def run() -> None:
        stopped = handlers_lifecycle.Stopped()
        memo = kopf.Memo(verify=handlers_lifecycle.Verification(), lanes=Lanes(),
                         ctx=kopf.Memo(settings=kopf.Memo(verify_rate=1000)))
        for name in ("flaky", "fine"):
            memo.verify.add(name)
        task = asyncio.create_task(handlers_lifecycle.verify(memo, stopped))
        while len(tried) < 3:
            await asyncio.sleep(0.01)
        stopped.set()
        await task

    asyncio.run(run())
    assert tried == ["flaky", "fine", "flaky"]
