"""TTL logic, pure: the clock is a parameter (``now``), so every rule is testable without sleeping.

- ``effective_expiry``: spec.ttl / spec.expiresAt / settings.defaultTTL -> the moment a DevNamespace expires,
  refusing lifetimes over settings.maxTTL.
- ``plan``: given the expiry, the warnings already sent and ``now``: which warning is due, when to wake next,
  and whether the namespace must go.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .models import DevNamespaceSpec
from .render import SpecProblem
from .settings import Settings
from .units import format_duration, parse_duration


def effective_expiry(spec: DevNamespaceSpec, created: dt.datetime, settings: Settings,
                     policy: str = "the operator's") -> dt.datetime | None:
    """When the DevNamespace expires (UTC), or None for never. Raises SpecProblem past settings.maxTTL;
    ``policy`` names whose maximum that is (the operator's, or a class's)."""
    if spec.expires_at is not None:
        expires: dt.datetime | None = spec.expires_at
        asked = "expiresAt"
    elif spec.ttl == "never":
        expires, asked = None, "ttl never"
    elif spec.ttl:
        expires, asked = created + parse_duration(spec.ttl), f"ttl {spec.ttl}"
    else:
        default = settings.default_ttl_delta
        expires, asked = (created + default if default else None), "the default TTL"
    cap = settings.max_ttl_delta
    if cap is not None:
        if expires is None:
            raise SpecProblem("TTLTooLong", f"{asked} is not allowed: {policy} maxTTL is "
                                            f"{settings.max_ttl}; set a ttl of at most that")
        if expires - created > cap:
            raise SpecProblem("TTLTooLong", f"{asked} asks for {format_duration(expires - created)} of "
                                            f"lifetime, more than {policy} maxTTL of {settings.max_ttl}")
    return expires


@dataclass(frozen=True)
class Plan:
    """What the expiry timer should do now."""

    expired: bool
    warn: str | None  # the lead-time label of a warning due now (the shortest one due)
    next_wake: dt.datetime | None  # the next moment something becomes due; None = nothing ever
    warnings_sent: tuple[str, ...]  # the remembered warnings after this step


def plan(expires: dt.datetime | None, warnings_sent: list[str], now: dt.datetime,
         warn_before: list[tuple[str, dt.timedelta]], created: dt.datetime) -> Plan:
    """Decide, at ``now``, whether to expire, which warning to send and when to look again.

    A warning is due once ``now >= expires - lead``; only lead times that were still in the future when the
    DevNamespace was created (or its expiry moved) count, and each is sent once: ``warnings_sent`` remembers
    them on the object so a restart does not repeat one. Warnings remembered for lead times that are no longer
    due (the expiry was extended) are forgotten, so an extension re-arms them.
    """
    if expires is None:
        return Plan(False, None, None, ())
    if now >= expires:
        return Plan(True, None, None, tuple(warnings_sent))
    applicable = [(label, lead) for label, lead in warn_before if expires - lead > created]
    due = [label for label, lead in applicable if now >= expires - lead]
    kept = tuple(w for w in warnings_sent if w in due)
    unsent = [label for label in due if label not in kept]
    warn = unsent[-1] if unsent else None  # the shortest lead time due: one message, the most urgent one
    sent = tuple(sorted({*kept, *unsent}, key=lambda w: parse_duration(w), reverse=True))
    future = [expires - lead for _, lead in applicable if now < expires - lead]
    return Plan(False, warn, min([*future, expires]), sent)
