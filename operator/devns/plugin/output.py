"""What the plugin prints: ``-o yaml|json|name|wide`` as kubectl prints them, kubectl-style tables, countdowns
and quota bars (pure functions; colour is added by click only when the output is a terminal)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Iterable, Sequence

import click
import yaml

from ..contract import GROUP, PLURAL

#: The ``-o`` values every printing command takes (tables are the default).
FORMATS = ("yaml", "json", "name", "wide")
OUTPUT_OPTION = click.option("-o", "--output", type=click.Choice(FORMATS), default=None,
                             help="Output format: yaml, json, name or wide (default: a table).")


def as_list(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Several objects as kubectl prints them with -o yaml/json: one ``v1 List``."""
    return {"apiVersion": "v1", "kind": "List", "items": list(items), "metadata": {"resourceVersion": ""}}


def render(objects: Sequence[dict[str, Any]], fmt: str, single: bool) -> str:
    """One object (``single``) or several, as yaml, json or name."""
    if fmt == "name":
        return "".join(f"{PLURAL[:-1]}.{GROUP}/{o['metadata']['name']}\n" for o in objects)
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
    """``in 3d4h``, ``expired 2h ago``, or ``never``."""
    if expires_at is None:
        return "never"
    left = expires_at - now
    return f"in {human_duration(left)}" if left.total_seconds() > 0 else f"expired {human_duration(-left)} ago"


def bar(used: Decimal, hard: Decimal, width: int = 8) -> str:
    """A compact usage bar: ``[###-----]``; full when over."""
    if hard <= 0:
        return "[" + ("#" if used > 0 else "-") * width + "]"
    filled = min(width, int((used / hard) * width + Decimal("0.5")))
    return "[" + "#" * filled + "-" * (width - filled) + "]"
