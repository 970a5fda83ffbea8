"""``kubectl devns extend``, ``wake`` and ``delete``: a DevNamespace's lifetime.

``wake`` sets the annotation ``devns.io/wake`` to now: a sleeping namespace gets its workloads back, and any
namespace counts it as activity (its idle sleep and deletion move later).

``extend`` rewrites the spec field the lifetime comes from (``extension``: pure arithmetic, the clock passed in);
the API server holds the result to the self-service limits and its refusal is printed as is. ``delete`` asks for
confirmation when a person is at the terminal (the namespace goes with everything in it) and waits until the
operator has let the DevNamespace go.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import click

from ..contract import ANN_WAKE
from ..units import format_duration, format_time, parse_duration, parse_time
from .devnamespaces import DevNamespaceApi, created_at, namespace_of
from .errors import PluginError
from .flags import duration, on_terminal, wait_options
from .output import expires_text, output_option, render, resource_name
from .session import kube_options, pass_session

EXTEND_EXAMPLES = """\b
Examples:
  # Three more days
  kubectl devns extend alice-payments 3d

\b
  # Start the lifetime again from now (the same ttl, counted from now)
  kubectl devns extend alice-payments
"""

DELETE_EXAMPLES = """\b
Examples:
  # Asks first on a terminal; the namespace goes with everything in it
  kubectl devns delete alice-payments

\b
  # No question, and do not wait for the namespace to be gone
  kubectl devns delete alice-payments --yes --no-wait
"""

WAKE_EXAMPLES = """\b
Examples:
  # Back from holiday: workloads as they were, and the idle clock starts again
  kubectl devns wake alice-payments
"""

_MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Extension:
    """The spec change that extends a DevNamespace, and the expiry it gives."""

    patch: dict[str, str]
    expires_at: dt.datetime


def extension(spec: dict[str, Any], created: dt.datetime, effective: dt.datetime | None, now: dt.datetime,
              by: dt.timedelta | None) -> Extension:
    """How to extend a DevNamespace created at ``created`` whose expiry is ``effective`` (its status; None: it
    never expires).

    With ``by``: the expiry moves ``by`` later: spec.ttl becomes ttl + by, spec.expiresAt becomes expiresAt + by
    (neither set, the operator's default TTL applied: spec.ttl becomes that lifetime + by). Without: the lifetime
    starts again now: ttl' = (now - creation) + ttl, rounded up to the minute; a fixed spec.expiresAt has no
    lifetime to restart, so it needs ``by``."""
    ttl, fixed = spec.get("ttl"), spec.get("expiresAt")
    if ttl == "never" or (ttl is None and fixed is None and effective is None):
        raise PluginError("it does not expire: there is nothing to extend")
    if fixed is not None:
        if by is None:
            raise PluginError(f"it expires at a fixed time (spec.expiresAt {fixed}): say how much later, e.g. "
                              "kubectl devns extend NAME 3d")
        moved = parse_time(str(fixed)) + by
        return Extension({"expiresAt": format_time(moved)}, moved)
    lifetime = parse_duration(ttl) if ttl is not None else effective - created
    if by is not None:
        lifetime += by
    else:
        lifetime += now - created
        lifetime = _MINUTE * -(-lifetime // _MINUTE)
    return Extension({"ttl": format_duration(lifetime)}, created + lifetime)


@click.command(epilog=EXTEND_EXAMPLES)
@click.argument("name")
@click.argument("by", metavar="[DURATION]", required=False, callback=duration)
@output_option("yaml", "json", "name", default="a message")
@kube_options
@pass_session
def extend(session, name: str, by: dt.timedelta | None, output: str | None) -> None:
    """Extend a DevNamespace's lifetime: DURATION later (3d, 12h, 1w), or, without DURATION, its ttl counted
    again from now.

    Self-service: the lifetime counted from creation stays within maxTTL; the API server's refusal is shown as
    is. A DevNamespace with a fixed spec.expiresAt needs a DURATION."""
    api = DevNamespaceApi(session.api)
    obj = api.require(name)
    status = obj.get("status") or {}
    if obj["metadata"].get("deletionTimestamp") or status.get("phase") == "Expired":
        raise PluginError(f'DevNamespace "{name}" has expired or is being deleted: create a new one')
    effective = parse_time(status["expiresAt"]) if status.get("expiresAt") else None
    now = dt.datetime.now(dt.timezone.utc)
    try:
        change = extension(obj.get("spec") or {}, created_at(obj), effective, now, by)
    except PluginError as exc:
        raise PluginError(f'cannot extend DevNamespace "{name}": {exc}') from None
    patched = api.patch_spec(name, change.patch)
    if output:
        click.echo(render([patched], output, single=True), nl=False)
        return
    field, value = next(iter(change.patch.items()))
    click.echo(f"{resource_name(name)} extended ({field} {value}): {expires_text(change.expires_at, now)}, at "
               f"{format_time(change.expires_at)}")


@click.command(epilog=DELETE_EXAMPLES)
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (never asked off a terminal).")
@output_option("name", default="a message")
@wait_options("the DevNamespace and its namespace are gone", "2m")
@kube_options
@pass_session
def delete(session, name: str, yes: bool, output: str | None, wait: bool, timeout: dt.timedelta) -> None:
    """Delete a DevNamespace, and with it its namespace and everything in it.

    On a terminal, asks first (--yes does not); in a script, it does not ask, as kubectl delete does not."""
    api = DevNamespaceApi(session.api)
    namespace = namespace_of(api.require(name))
    if not yes and on_terminal():
        question = f'Delete DevNamespace "{name}" and namespace "{namespace}" with everything in it?'
        if not click.confirm(question, default=False, err=True):
            click.echo(f'Not deleted: DevNamespace "{name}" is left as it was.', err=True)
            click.get_current_context().exit(1)
    api.delete(name)
    if wait:
        api.wait_gone(name, timeout.total_seconds())
    kind = resource_name(name).split("/")[0]
    click.echo(resource_name(name) if output == "name" else f'{kind} "{name}" deleted' +
               ("" if wait else f" (namespace {namespace} is being deleted)"))


@click.command(epilog=WAKE_EXAMPLES)
@click.argument("name")
@output_option("name", default="a message")
@wait_options("the namespace is awake", "1m")
@kube_options
@pass_session
def wake(session, name: str, output: str | None, wait: bool, timeout: dt.timedelta) -> None:
    """Wake a sleeping DevNamespace (its Deployments, StatefulSets and CronJobs as they were before it slept), or
    record activity on one that is awake: its idle sleep and deletion (spec.idle) count from now."""
    api = DevNamespaceApi(session.api)
    obj = api.require(name)
    if obj["metadata"].get("deletionTimestamp") or (obj.get("status") or {}).get("phase") == "Expired":
        raise PluginError(f'DevNamespace "{name}" has expired or is being deleted: create a new one')
    asleep = (obj.get("status") or {}).get("phase") == "Sleeping"
    api.annotate(name, {ANN_WAKE: format_time(dt.datetime.now(dt.timezone.utc))})
    if asleep and wait:
        api.wait_awake(name, timeout.total_seconds())
    if output == "name":
        click.echo(resource_name(name))
    elif asleep:
        click.echo(f"{resource_name(name)} woken" if wait else f"{resource_name(name)} is waking up")
    else:
        click.echo(f"{resource_name(name)} was awake: activity recorded, its idle clock starts again")
