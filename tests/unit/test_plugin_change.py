"""`kubectl devns extend`'s arithmetic, with the clock passed in: which spec field changes and to what, for a ttl,
a fixed expiresAt, the operator's default TTL, and what cannot be extended; and `delete`'s question, asked only on
a terminal (a fake API records what is deleted)."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from devns.plugin import change
from devns.plugin.app import cli
from devns.plugin.change import Extension, extension
from devns.plugin.errors import PluginError
from devns.plugin.session import Session

CREATED = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def test_a_duration_moves_a_ttl_later():
    assert extension({"ttl": "7d"}, CREATED, CREATED + 7 * DAY, CREATED + 2 * DAY, 3 * DAY) == \
        Extension({"ttl": "1w3d"}, CREATED + 10 * DAY)
    assert extension({"ttl": "90m"}, CREATED, None, CREATED, dt.timedelta(minutes=30)).patch == {"ttl": "2h"}


def test_a_duration_moves_a_fixed_expiry_later():
    moved = extension({"expiresAt": "2026-12-05T18:00:00+02:00"}, CREATED, None, CREATED, dt.timedelta(hours=12))
    assert moved == Extension({"expiresAt": "2026-12-06T04:00:00Z"},
                               dt.datetime(2026, 12, 6, 4, 0, tzinfo=dt.timezone.utc))


def test_without_a_duration_the_ttl_counts_again_from_now_rounded_up_to_the_minute():
    now = CREATED + 2 * DAY + dt.timedelta(hours=3, seconds=1)
    moved = extension({"ttl": "3d"}, CREATED, CREATED + 3 * DAY, now, None)
    assert moved.patch == {"ttl": "5d3h1m"}
    assert moved.expires_at == CREATED + dt.timedelta(days=5, hours=3, minutes=1)
    assert moved.expires_at - now == 3 * DAY + dt.timedelta(seconds=59)  # at least the ttl from now
    exact = extension({"ttl": "3d"}, CREATED, None, CREATED + DAY, None)
    assert exact.patch == {"ttl": "4d"}


def test_the_operators_default_ttl_is_extended_as_a_ttl():
    """No ttl or expiresAt in the spec: the status's expiry says how long the default lifetime is."""
    assert extension({}, CREATED, CREATED + 7 * DAY, CREATED + DAY, DAY).patch == {"ttl": "1w1d"}
    assert extension({}, CREATED, CREATED + 7 * DAY, CREATED + DAY, None).patch == {"ttl": "1w1d"}


@pytest.mark.parametrize("spec, effective", [({"ttl": "never"}, None), ({}, None)])
def test_what_never_expires_cannot_be_extended(spec, effective):
    with pytest.raises(PluginError, match="does not expire"):
        extension(spec, CREATED, effective, CREATED, DAY)


def test_a_fixed_expiry_needs_a_duration():
    with pytest.raises(PluginError, match="expires at a fixed time .* say how much later"):
        extension({"expiresAt": "2026-12-05T00:00:00Z"}, CREATED, None, CREATED, None)


# -- delete's question ----------------------------------------------------------------------------------------------

class FakeApi:
    """DevNamespaceApi as delete uses it, without a cluster."""

    deleted: list[str] = []

    def __init__(self, _api):
        pass

    def require(self, name):
        return {"metadata": {"name": name}, "status": {"namespace": f"{name}-ns"}}

    def delete(self, name):
        FakeApi.deleted.append(name)

    def wait_gone(self, name, timeout):
        assert name in FakeApi.deleted


@pytest.fixture
def fake_delete(monkeypatch):
    """`kubectl devns delete` against FakeApi, stdin a terminal or not."""
    monkeypatch.setattr(change, "DevNamespaceApi", FakeApi)
    monkeypatch.setattr(Session, "api", None)
    FakeApi.deleted = []

    def run(*args, terminal: bool, answer: str = ""):
        monkeypatch.setattr(change, "on_terminal", lambda: terminal)
        return CliRunner().invoke(cli, ["delete", *args], input=answer, obj=Session())
    return run


def test_on_a_terminal_delete_asks_and_no_leaves_it(fake_delete):
    declined = fake_delete("mine", terminal=True, answer="n\n")
    assert 'Delete DevNamespace "mine" and namespace "mine-ns" with everything in it? [y/N]' in declined.output
    assert declined.exit_code == 1 and "Not deleted" in declined.output and FakeApi.deleted == []
    accepted = fake_delete("mine", terminal=True, answer="y\n")
    assert accepted.exit_code == 0 and FakeApi.deleted == ["mine"]
    assert accepted.output.endswith('devnamespace.devns.io "mine" deleted\n')


def test_yes_or_no_terminal_deletes_without_asking(fake_delete):
    assert fake_delete("a", "--yes", terminal=True).output == 'devnamespace.devns.io "a" deleted\n'
    assert fake_delete("b", "-o", "name", "--no-wait", terminal=False).output == "devnamespace.devns.io/b\n"
    assert FakeApi.deleted == ["a", "b"]
