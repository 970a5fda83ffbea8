"""What the plugin prints: ``-o yaml|json|name|wide`` as kubectl prints them, kubectl-style tables, countdowns,
ages and quota bars (pure functions; colour is added by click only when the output is a terminal)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Iterable, Sequence

import click
import yaml

from ..contract import GROUP, SINGULAR
from ..units import parse_quantity

#: The ``-o`` values every printing command takes (tables are the default).
FORMATS = ("yaml", "json", "name", "wide")


def output_option(*formats: str, default: str = "a table"):
    """``-o/--output`` taking ``formats`` (the commands that print no table take fewer than ``FORMATS``)."""
    listed = ", ".join(formats[:-1]) + f" or {formats[-1]}" if len(formats) > 1 else formats[0]
    return click.option("-o", "--output", type=click.Choice(formats), default=None,
                        help=f"Output format: {listed} (default: {default}).")


OUTPUT_OPTION = output_option(*FORMATS)


def resource_name(name: str) -> str:
    """``devnamespace.devns.io/NAME``, as kubectl's ``-o name`` and its messages spell a DevNamespace."""
    return f"{SINGULAR}.{GROUP}/{name}"


def as_list(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Several objects as kubectl prints them with -o yaml/json: one ``v1 List``."""
    return {"apiVersion": "v1", "kind": "List", "items": list(items), "metadata": {"resourceVersion": ""}}


def render(objects: Sequence[dict[str, Any]], fmt: str, single: bool) -> str:
    """One object (``single``) or several, as yaml, json or name."""
    if fmt == "name":
        return "".join(resource_name(o["metadata"]["name"]) + "\n" for o in objects)
    doc: Any = objects[0] if single else as_list(objects)
    if fmt == "json":
        return json.dumps(doc, indent=4) + "\n"
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns padded to the widest cell with three spaces between, as kubectl's tabwriter prints. Cells may hold
    click colour codes: widths count the visible characters only."""
    rows = [list(header)] + [list(r) for r in rows]
    widths = [max(len(click.unstyle(r[i])) for r in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [cell + " " * (widths[i] - len(click.unstyle(cell))) if i < len(row) - 1 else cell
                 for i, cell in enumerate(row)]
        lines.append("   ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def human_duration(delta: dt.timedelta) -> str:
    """The two largest units of a duration, kubectl-age style: ``3d4h``, ``5h12m``, ``42s``."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, seconds = divmod(seconds, size)
        if n or parts:
            parts.append(f"{n}{unit}")
        if len(parts) == 2:
            break
    return "".join(p for p in parts if not p.startswith("0"))


def countdown(expires_at: dt.datetime | None, now: dt.datetime) -> str:
    """``in 3d4h``, ``expired 2h ago``, or ``never``. Time left is rounded up to the minute (a 7d lifetime reads
    ``in 7d`` right after creation, not ``in 6d23h``); time past is truncated, like an age."""
    if expires_at is None:
        return "never"
    left = expires_at - now
    if left.total_seconds() <= 0:
        return f"expired {human_duration(-left)} ago"
    if left >= dt.timedelta(minutes=1):
        left = dt.timedelta(minutes=-(-left // dt.timedelta(minutes=1)))
    return f"in {human_duration(left)}"


def expires_text(expires_at: dt.datetime | None, now: dt.datetime) -> str:
    """``expires in 7d``, ``expired 5m ago``, ``never expires``: the countdown in a sentence."""
    if expires_at is None:
        return "never expires"
    text = countdown(expires_at, now)
    return text if text.startswith("expired") else f"expires {text}"


def age(since: dt.datetime | None, now: dt.datetime) -> str:
    """How long ago, kubectl-age style (``5m``, ``3d4h``); ``<unknown>`` without a time."""
    return human_duration(now - since) if since is not None else "<unknown>"


def bar(used: Decimal, hard: Decimal, width: int = 8) -> str:
    """A compact usage bar: ``[###-----]``; full when over."""
    if hard <= 0:
        return "[" + ("#" if used > 0 else "-") * width + "]"
    filled = min(width, int((used / hard) * width + Decimal("0.5")))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def usage(used: str | None, hard: str | None, width: int = 5) -> str:
    """A quota cell: ``1/4 [#----]`` (used/hard as the ResourceQuota's status spells them), ``-`` when the
    resource has no hard limit or a value is no quantity."""
    if hard is None:
        return "-"
    try:
        drawn = bar(parse_quantity(used or "0"), parse_quantity(hard), width)
    except ValueError:
        return "-"
    return f"{used or '0'}/{hard} {drawn}"
