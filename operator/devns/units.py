"""The one parser for each unit devns reads: durations (TTLs), Kubernetes quantities, and RFC 3339 times.

Pure functions; every other module calls these instead of parsing by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, localcontext

_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_DURATION = re.compile(r"(?:\d+[smhdw])+")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

#: Regular expressions shared with the CRD schema so admission and pydantic accept exactly the same strings.
DURATION_PATTERN = r"^([0-9]+[smhdw])+$"
#: A decimal exponent has at most two digits: the API server refuses exponents beyond int32 when it parses a quantity,
#: so an unbounded one would pass admission and fail only when the operator creates the ResourceQuota.
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,2}|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$"

_QUANTITY = re.compile(QUANTITY_PATTERN)
_SUFFIX = {
    "": Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}


#: Longest duration accepted (about 100 years): anything longer is a typo, and would overflow datetimes.
MAX_DURATION_SECONDS = 5200 * _UNIT_SECONDS["w"]


def parse_duration(text: str) -> dt.timedelta:
    """Parse ``90m``, ``1d12h``, ``2w``: one or more ``<integer><unit>`` with units s, m, h, d, w.

    Raises ValueError for anything else, including a total of zero (a TTL must be positive) and totals over
    ``MAX_DURATION_SECONDS``. Exactly the strings the CRD's pattern admits, no surrounding spaces.
    """
    if not isinstance(text, str) or not _DURATION.fullmatch(text):
        raise ValueError(f"invalid duration {text!r}: use <number><unit> parts with units s, m, h, d, w "
                         "(e.g. 90m, 1d12h, 2w)")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: must be greater than zero")
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError(f"invalid duration {text!r}: longer than 5200w (100 years)")
    return dt.timedelta(seconds=seconds)


def format_duration(delta: dt.timedelta) -> str:
    """The shortest ``parse_duration`` spelling of a whole number of seconds (``1d12h``)."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit in ("w", "d", "h", "m", "s"):
        n, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)


def parse_quantity(value: str | int | float) -> Decimal:
    """Parse a Kubernetes resource quantity (``500m``, ``2``, ``4Gi``, ``1e3``) into an exact Decimal.

    Negative quantities are refused: every quantity devns handles (quota, limits) is a non-negative amount.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid quantity {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"invalid quantity {value}: must not be negative")
        return Decimal(value)
    if isinstance(value, float):
        value = repr(value)
    match = _QUANTITY.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"invalid quantity {value!r}: use a Kubernetes quantity such as 500m, 2, 4Gi")
    number, suffix = match.group(1), match.group(3) or ""
    # Exact arithmetic: with the default 28 digits, 1.00000000000000000000000000001 would equal 1 here but not in
    # the API server, which would then refuse a LimitRange devns thought ordered (min <= default <= max).
    with localcontext(prec=len(number) + 80):
        if suffix in _SUFFIX:  # includes E (exa) and Ei: only "e<digits>"/"E<digits>" is an exponent
            return Decimal(number) * _SUFFIX[suffix]
        return Decimal(number) * (Decimal(10) ** int(suffix[1:]))


def quantities_equal(a: object, b: object) -> bool:
    """True when two quantity spellings mean the same amount (``1000m`` == ``1``, ``1Gi`` == ``1024Mi``)."""
    try:
        return parse_quantity(a) == parse_quantity(b)  # type: ignore[arg-type]
    except ValueError:
        return False


def parse_time(text: str) -> dt.datetime:
    """Parse an RFC 3339 timestamp with any offset into an aware UTC datetime."""
    if not isinstance(text, str):
        raise ValueError(f"invalid timestamp {text!r}")
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise ValueError(f"invalid timestamp {text!r}: use RFC 3339, e.g. 2026-12-01T18:00:00Z") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"invalid timestamp {text!r}: RFC 3339 needs an offset (Z or +HH:MM)")
    return parsed.astimezone(dt.timezone.utc)


def format_time(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix and whole seconds, as Kubernetes writes timestamps."""
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
