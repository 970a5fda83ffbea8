"""The lifecycle's one scheduler: deadlines run in time order, replaced plans move them, forgotten ones never run,
an action never runs twice at once for one DevNamespace, failures are retried, and stopping stops."""

import asyncio
import datetime as dt

from devns.deadlines import Deadlines, Stopped


def soon(ms: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(milliseconds=ms)


def scheduled(deadlines: Deadlines, act, plans, *, until_calls: int, calls: list, retry: float = 5.0):
    """Run the scheduler with ``act`` (which appends to ``calls``), make the ``plans`` once it waits, and stop it
    when ``calls`` has ``until_calls`` entries; returns what ``plans`` returned."""
    async def main():
        stopped = Stopped()
        runner = asyncio.create_task(deadlines.run(act, stopped, retry=retry))
        await asyncio.sleep(0)  # the runner waits: plans made now must wake it
        made = plans()
        while len(calls) < until_calls:
            await asyncio.sleep(0.005)
        stopped.set()
        await asyncio.wait_for(runner, 1.0)
        return made
    return asyncio.run(asyncio.wait_for(main(), 5.0))


def test_deadlines_run_in_time_order_and_answers_are_planned_again():
    d, calls = Deadlines(), []

    async def act(uid, name):
        calls.append(name)
        return soon(30) if calls == ["a"] else None  # a once more, after b

    def plans():
        d.plan("u2", "b", soon(20))
        d.plan("u1", "a", soon(5))
    scheduled(d, act, plans, until_calls=3, calls=calls)
    assert calls == ["a", "b", "a"]
    assert len(d) == 0  # every later answer was None: nothing left planned


def test_a_new_plan_replaces_the_old_and_a_forgotten_one_never_runs():
    d, calls = Deadlines(), []

    async def act(uid, name):
        calls.append((name, dt.datetime.now(dt.timezone.utc)))

    def plans():
        d.plan("u1", "moved", soon(10))
        d.plan("u1", "moved", soon(60))  # extended: later than planned
        d.plan("u2", "gone", soon(10))
        d.forget("u2")
        d.plan("u3", "last", soon(80))
        return soon(40)
    planned = scheduled(d, act, plans, until_calls=2, calls=calls)
    assert [name for name, _ in calls] == ["moved", "last"]
    assert calls[0][1] >= planned  # not at the first plan's time


def test_an_answer_only_brings_a_deadline_forward():
    d = Deadlines()
    d.plan("u", "x", soon(10_000))
    d.plan("u", "x", soon(60_000), earliest=True)
    assert d.when("u") < soon(20_000).timestamp()
    d.plan("u", "x", soon(1_000), earliest=True)
    assert d.when("u") < soon(2_000).timestamp()
    d.plan("u", "x", None, earliest=True)  # "none" from an action does not drop a plan made meanwhile
    assert d.when("u") is not None
    d.plan("u", "x", None)
    assert d.when("u") is None


def test_due_again_while_running_runs_once_more_after_and_never_twice_at_once():
    d, running, overlaps, calls = Deadlines(), set(), [], []

    async def act(uid, name):
        overlaps.append(uid in running)
        running.add(uid)
        if not calls:
            d.plan(uid, name, soon(0))  # an event during the action: due again now
            await asyncio.sleep(0.05)
        calls.append(name)
        running.discard(uid)

    scheduled(d, act, lambda: d.plan("u", "x", soon(1)), until_calls=2, calls=calls)
    assert calls == ["x", "x"] and overlaps == [False, False]


def test_a_failing_action_is_retried_and_the_others_go_on():
    d, calls = Deadlines(), []

    async def act(uid, name):
        calls.append(name)
        if calls.count("bad") == 1 and name == "bad":
            raise RuntimeError("API down")

    def plans():
        d.plan("u1", "bad", soon(1))
        d.plan("u2", "good", soon(5))
    scheduled(d, act, plans, until_calls=3, calls=calls, retry=0.05)
    assert sorted(calls) == ["bad", "bad", "good"]


def test_stopping_ends_the_runner_with_deadlines_left_and_clear_forgets_them():
    d = Deadlines()
    scheduled(d, None, lambda: d.plan("u", "x", soon(60_000)), until_calls=0, calls=[])
    assert len(d) == 1
    d.clear()
    assert len(d) == 0 and d.when("u") is None
