"""devns.expiry: effective expiry and the expiry timer's plan, with the clock as a parameter."""

import datetime as dt

import pytest
from pydantic import ValidationError

from devns.expiry import Plan, effective_expiry, plan
from devns.models import DevNamespaceSpec
from devns.render import SpecProblem
from devns.settings import Settings

UTC = dt.timezone.utc
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
CREATED = dt.datetime(2026, 11, 14, 10, tzinfo=UTC)
EXPIRES = CREATED + 7 * D
WARN = [("24h", 24 * H), ("1h", H)]  # as Settings().warn_before_deltas gives them


def spec(**fields):
    return DevNamespaceSpec.model_validate({"owners": [{"kind": "User", "name": "alice"}], **fields})


def too_long(settings, **fields) -> SpecProblem:
    with pytest.raises(SpecProblem) as info:
        effective_expiry(spec(**fields), CREATED, settings)
    assert info.value.reason == "TTLTooLong"
    return info.value


# -- effective_expiry ---------------------------------------------------------------------------------------------

def test_default_warn_before_matches_table():
    assert Settings().warn_before_deltas == WARN


@pytest.mark.parametrize("ttl, lifetime", [("7d", 7 * D), ("90m", dt.timedelta(minutes=90)), ("1d12h", 36 * H)])
def test_ttl_counts_from_creation(ttl, lifetime):
    assert effective_expiry(spec(ttl=ttl), CREATED, Settings()) == CREATED + lifetime


def test_expires_at_is_taken_as_is():
    assert effective_expiry(spec(expiresAt="2026-12-01T20:00:00+02:00"), CREATED, Settings()) == \
        dt.datetime(2026, 12, 1, 18, tzinfo=UTC)


def test_never_means_no_expiry():
    assert effective_expiry(spec(ttl="never"), CREATED, Settings(default_ttl="3d")) is None


def test_default_ttl_applies_when_nothing_set():
    assert effective_expiry(spec(), CREATED, Settings(default_ttl="3d")) == CREATED + 3 * D


def test_no_default_ttl_means_no_expiry():
    assert effective_expiry(spec(), CREATED, Settings()) is None


def test_spec_ttl_beats_default_ttl():
    assert effective_expiry(spec(ttl="1h"), CREATED, Settings(default_ttl="3d")) == CREATED + H


@pytest.mark.parametrize("fields", [{"ttl": "2d"}, {"ttl": "1d"}, {"expiresAt": "2026-11-16T10:00:00Z"}])
def test_within_max_ttl_accepted(fields):
    assert effective_expiry(spec(**fields), CREATED, Settings(max_ttl="2d")) is not None


def test_ttl_over_max_ttl_refused_naming_the_limit():
    p = too_long(Settings(max_ttl="2d"), ttl="2d1s")
    assert "ttl 2d1s" in str(p)
    assert "2d1s of lifetime" in str(p)
    assert "maxTTL of 2d" in str(p)


def test_expires_at_over_max_ttl_refused():
    p = too_long(Settings(max_ttl="1w"), expiresAt="2026-12-01T10:00:00Z")
    assert str(p).startswith("expiresAt asks for 2w3d")
    assert "maxTTL of 1w" in str(p)


def test_never_refused_when_max_ttl_set():
    p = too_long(Settings(max_ttl="2d"), ttl="never")
    assert str(p) == "ttl never is not allowed: the operator's maxTTL is 2d; set a ttl of at most that"


def test_no_ttl_and_no_default_refused_when_max_ttl_set():
    assert "the default TTL is not allowed" in str(too_long(Settings(max_ttl="2d")))


def test_default_ttl_over_max_ttl_refused():
    assert str(too_long(Settings(default_ttl="3d", max_ttl="2d"))).startswith("the default TTL asks for 3d")


def test_ttl_past_a_century_is_refused_before_any_date_arithmetic():
    with pytest.raises(ValidationError, match="longer than 5200w"):
        spec(ttl="1000000w")


# -- plan ---------------------------------------------------------------------------------------------------------

def test_far_from_expiry_nothing_due_and_wakes_at_first_warning():
    p = plan(EXPIRES, [], CREATED + D, WARN, CREATED)
    assert p == Plan(expired=False, warn=None, next_wake=EXPIRES - 24 * H, warnings_sent=())


def test_24h_warning_due_once_at_its_moment():
    p = plan(EXPIRES, [], EXPIRES - 24 * H, WARN, CREATED)
    assert p.warn == "24h"
    assert p.warnings_sent == ("24h",)
    assert p.next_wake == EXPIRES - H
    assert not p.expired


def test_sent_warning_not_repeated():
    p = plan(EXPIRES, ["24h"], EXPIRES - 20 * H, WARN, CREATED)
    assert p.warn is None
    assert p.warnings_sent == ("24h",)
    assert p.next_wake == EXPIRES - H


def test_1h_warning_after_24h():
    p = plan(EXPIRES, ["24h"], EXPIRES - H, WARN, CREATED)
    assert p.warn == "1h"
    assert p.warnings_sent == ("24h", "1h")
    assert p.next_wake == EXPIRES


def test_only_most_urgent_sent_when_several_due_and_all_remembered():
    p = plan(EXPIRES, [], EXPIRES - H, WARN, CREATED)
    assert p.warn == "1h"
    assert p.warnings_sent == ("24h", "1h")
    assert p.next_wake == EXPIRES


def test_all_sent_waits_for_expiry():
    p = plan(EXPIRES, ["1h", "24h"], EXPIRES - dt.timedelta(minutes=5), WARN, CREATED)
    assert p == Plan(False, None, EXPIRES, ("24h", "1h"))


def test_lead_times_not_in_future_at_creation_never_sent():
    expires = CREATED + dt.timedelta(minutes=30)
    for now in (CREATED, CREATED + dt.timedelta(minutes=10), expires - dt.timedelta(seconds=1)):
        assert plan(expires, [], now, WARN, CREATED) == Plan(False, None, expires, ())


def test_lead_time_equal_to_lifetime_not_sent():
    expires = CREATED + H
    assert plan(expires, [], CREATED, WARN, CREATED).warn is None


def test_short_ttl_gets_only_the_warnings_that_fit():
    expires = CREATED + 3 * H
    assert plan(expires, [], CREATED, WARN, CREATED).next_wake == expires - H
    p = plan(expires, [], expires - H, WARN, CREATED)
    assert p.warn == "1h"
    assert p.warnings_sent == ("1h",)


def test_extension_forgets_warnings_no_longer_due():
    later = EXPIRES + 7 * D
    p = plan(later, ["24h", "1h"], EXPIRES - dt.timedelta(minutes=30), WARN, CREATED)
    assert p == Plan(False, None, later - 24 * H, ())


def test_small_extension_keeps_still_due_warning_and_rearms_the_other():
    now = EXPIRES - dt.timedelta(minutes=30)
    later = now + 10 * H
    p = plan(later, ["24h", "1h"], now, WARN, CREATED)
    assert p.warn is None
    assert p.warnings_sent == ("24h",)
    assert p.next_wake == later - H


@pytest.mark.parametrize("now", [EXPIRES, EXPIRES + dt.timedelta(seconds=1), EXPIRES + 30 * D])
def test_expired_at_or_after_expiry(now):
    p = plan(EXPIRES, ["24h"], now, WARN, CREATED)
    assert p == Plan(expired=True, warn=None, next_wake=None, warnings_sent=("24h",))


def test_just_before_expiry_not_expired():
    assert not plan(EXPIRES, [], EXPIRES - dt.timedelta(microseconds=1), WARN, CREATED).expired


@pytest.mark.parametrize("sent", [[], ["24h", "1h"]])
def test_no_expiry_means_nothing_ever(sent):
    assert plan(None, sent, CREATED + 1000 * D, WARN, CREATED) == Plan(False, None, None, ())


def test_no_warnings_configured_wakes_at_expiry():
    assert plan(EXPIRES, [], CREATED, [], CREATED) == Plan(False, None, EXPIRES, ())


def test_walk_through_a_lifetime_sends_each_warning_once():
    sent: list[str] = []
    warnings = []
    now = CREATED
    while True:
        p = plan(EXPIRES, sent, now, WARN, CREATED)
        if p.expired:
            break
        if p.warn:
            warnings.append((p.warn, now))
        sent = list(p.warnings_sent)
        assert p.next_wake > now
        now = p.next_wake
    assert warnings == [("24h", EXPIRES - 24 * H), ("1h", EXPIRES - H)]
    assert now == EXPIRES
