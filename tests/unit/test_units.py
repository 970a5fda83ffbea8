"""devns.units: durations, quantities and RFC 3339 times."""

import datetime as dt
from decimal import Decimal

import pytest

from devns.units import (format_duration, format_time, parse_duration, parse_quantity, parse_time,
                         quantities_equal)

UTC = dt.timezone.utc
H = dt.timedelta(hours=1)


# -- durations ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("90m", dt.timedelta(minutes=90)),
    ("1d12h", dt.timedelta(days=1, hours=12)),
    ("2w", dt.timedelta(weeks=2)),
    ("1s", dt.timedelta(seconds=1)),
    ("1h30m15s", dt.timedelta(hours=1, minutes=30, seconds=15)),
    ("0h30m", dt.timedelta(minutes=30)),
    ("01h", H),
])
def test_parse_duration_accepts_unit_parts(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "-1h", "0s", "0h0m", "1y", "1.5h", "1H", "h", "1", "1 h", "never", "   "])
def test_parse_duration_refuses_malformed_or_zero(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("value", [None, 3600, 1.5, dt.timedelta(hours=1), b"1h"])
def test_parse_duration_refuses_non_strings(value):
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize("text", [" 1h", "1h\n", "1h "])
def test_parse_duration_refuses_surrounding_whitespace_like_the_crd_pattern(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_parse_duration_error_names_the_input():
    with pytest.raises(ValueError, match="'1y'"):
        parse_duration("1y")


@pytest.mark.parametrize("text", ["1h30m", "1d12h", "2w", "1s", "1w2d3h4m5s", "59s", "23h59m"])
def test_format_duration_round_trips_canonical_spellings(text):
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("delta, expected", [
    (dt.timedelta(minutes=90), "1h30m"),
    (dt.timedelta(hours=36), "1d12h"),
    (dt.timedelta(days=14), "2w"),
    (dt.timedelta(seconds=1.9), "1s"),
    (dt.timedelta(0), "0s"),
    (-H, "0s"),
])
def test_format_duration_is_the_shortest_spelling(delta, expected):
    assert format_duration(delta) == expected


@pytest.mark.parametrize("seconds", [1, 59, 61, 3599, 3601, 86399, 86401, 7 * 86400 + 1, 1234567])
def test_format_then_parse_is_identity(seconds):
    delta = dt.timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


def test_parse_duration_refuses_huge_values_with_value_error():
    with pytest.raises(ValueError):
        parse_duration("99999999999w")


# -- quantities ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("500m", Decimal("0.5")),
    ("2", Decimal(2)),
    ("4Gi", Decimal(4 * 2**30)),
    ("1e3", Decimal(1000)),
    ("1E3", Decimal(1000)),
    ("1e-3", Decimal("0.001")),
    (".5", Decimal("0.5")),
    ("5.", Decimal(5)),
    ("1.5Gi", Decimal(1536 * 2**20)),
    ("1k", Decimal(1000)),
    ("1Ki", Decimal(1024)),
    ("100n", Decimal("1e-7")),
    ("3u", Decimal("3e-6")),
    ("2M", Decimal(2 * 10**6)),
    ("1P", Decimal(10**15)),
    ("0", Decimal(0)),
    (0, Decimal(0)),
    (7, Decimal(7)),
    (1.5, Decimal("1.5")),
])
def test_parse_quantity_values(value, expected):
    assert parse_quantity(value) == expected


def test_parse_quantity_is_exact_for_binary_and_decimal_suffixes():
    assert parse_quantity("1.5Gi") == parse_quantity("1536Mi")
    assert parse_quantity("0.1") + parse_quantity("0.2") == parse_quantity("300m")


@pytest.mark.parametrize("value", ["-1", -1, "lots", "4GB", "", "1.2.3", "1e", "Gi", "1 Gi", "0x10", True, False,
                                   None, [1], -1.0, float("nan"), float("inf")])
def test_parse_quantity_refuses(value):
    with pytest.raises(ValueError):
        parse_quantity(value)


def test_parse_quantity_negative_int_message_says_negative():
    with pytest.raises(ValueError, match="negative"):
        parse_quantity(-5)


@pytest.mark.parametrize("value, expected", [("1E", Decimal(10**18)), ("2Ei", Decimal(2 * 2**60))])
def test_parse_quantity_exa_suffixes(value, expected):
    assert parse_quantity(value) == expected


def test_parse_quantity_huge_exponent_is_a_value_error():
    with pytest.raises(ValueError):
        parse_quantity("1e1000000")


@pytest.mark.parametrize("a, b", [
    ("1000m", "1"), ("1Gi", "1024Mi"), ("1", 1), ("1k", "1e3"), ("0.5", "500m"), ("1536Mi", "1.5Gi"), ("0", 0),
])
def test_quantities_equal_by_value(a, b):
    assert quantities_equal(a, b)
    assert quantities_equal(b, a)


@pytest.mark.parametrize("a, b", [
    ("1", "2"), ("1G", "1Gi"), ("1k", "1Ki"), ("lots", "lots"), ("1", "lots"), (None, None), (True, 1), ("-1", "-1"),
])
def test_quantities_not_equal_or_invalid_is_false(a, b):
    assert quantities_equal(a, b) is False


# -- times --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "2026-11-21T10:00:00Z",
    "2026-11-21T10:00:00z",
    "2026-11-21T12:00:00+02:00",
    "2026-11-21T05:30:00-04:30",
    "2026-11-21T10:00:00+00:00",
    " 2026-11-21T10:00:00Z ",
])
def test_parse_time_normalises_to_utc(text):
    parsed = parse_time(text)
    assert parsed == dt.datetime(2026, 11, 21, 10, tzinfo=UTC)
    assert parsed.utcoffset() == dt.timedelta(0)
    assert parsed.tzinfo is UTC


def test_parse_time_keeps_fractional_seconds():
    assert parse_time("2026-11-21T10:00:00.250Z").microsecond == 250000


@pytest.mark.parametrize("text", ["2026-11-21T10:00:00", "2026-11-21"])
def test_parse_time_refuses_naive(text):
    with pytest.raises(ValueError, match="offset"):
        parse_time(text)


@pytest.mark.parametrize("text", ["garbage", "", "2026-13-01T00:00:00Z", "tomorrow", "2026-11-21T25:00:00Z"])
def test_parse_time_refuses_garbage(text):
    with pytest.raises(ValueError):
        parse_time(text)


@pytest.mark.parametrize("value", [None, 1700000000, dt.datetime(2026, 1, 1, tzinfo=UTC)])
def test_parse_time_refuses_non_strings(value):
    with pytest.raises(ValueError):
        parse_time(value)


@pytest.mark.parametrize("moment, expected", [
    (dt.datetime(2026, 11, 21, 10, tzinfo=UTC), "2026-11-21T10:00:00Z"),
    (dt.datetime(2026, 11, 21, 12, tzinfo=dt.timezone(2 * H)), "2026-11-21T10:00:00Z"),
    (dt.datetime(2026, 11, 21, 10, 0, 0, 999999, tzinfo=UTC), "2026-11-21T10:00:00Z"),
    (dt.datetime(2026, 1, 1, 0, 30, tzinfo=dt.timezone(H)), "2025-12-31T23:30:00Z"),
])
def test_format_time_is_utc_z_whole_seconds(moment, expected):
    assert format_time(moment) == expected


def test_format_then_parse_time_round_trips():
    moment = dt.datetime(2026, 11, 21, 10, 11, 12, tzinfo=UTC)
    assert parse_time(format_time(moment)) == moment
