"""``kubectl devns list``: DevNamespaces with countdowns and quota usage; ``--mine`` for mine and my groups'.

Kubernetes has no filtered list of cluster-scoped objects, so ``--mine`` lists every DevNamespace the reader may
list and keeps those whose owners name them (as a User, as the ServiceAccount they are, or one of their groups).
What a developer needs: ``list`` on devnamespaces cluster-wide (the self-service ClusterRole grants it) and, for
the quota columns, ``get`` on ResourceQuotas in their namespaces (the namespace role, edit or view, includes it);
a quota they may not read shows as ``-``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from .devnamespaces import DevNamespaceApi, created_at, expiry_of, namespace_of, owned_by, owner_ref
from .output import OUTPUT_OPTION, age, countdown, render, table, usage
from .quota import COLUMNS, Usage, usages
from .session import kube_options, pass_session, whoami

EXAMPLES = """\b
Examples:
  # Every DevNamespace I may see, with time left and quota usage
  kubectl devns list

\b
  # Only mine and my groups', with owners, team and age
  kubectl devns list --mine -o wide

\b
  # Names only, for a script
  kubectl devns list --mine -o name
"""

HEADER = ("NAME", "NAMESPACE", "PHASE", "EXPIRES", *(h for h, _ in COLUMNS))
WIDE = ("OWNERS", "TEAM", "CLASS", "AGE")


def warned(obj: dict[str, Any]) -> bool:
    """Whether its owners have been warned of the expiry (the first warning went out, or it is Expiring)."""
    status = obj.get("status") or {}
    return bool(status.get("warningsSent")) or status.get("phase") in ("Expiring", "Expired")


def row(obj: dict[str, Any], quota: Usage | None, now: dt.datetime, wide: bool = False) -> list[str]:
    """One line of the table: EXPIRES in red once the owners were warned (click drops colour off a terminal)."""
    status, spec = obj.get("status") or {}, obj.get("spec") or {}
    expires = countdown(expiry_of(obj), now)
    if warned(obj):
        expires = click.style(expires, fg="red")
    cells = [obj["metadata"]["name"], namespace_of(obj), status.get("phase") or "Pending", expires]
    cells += [usage(quota.used.get(r), quota.hard.get(r)) if quota else "-" for _, r in COLUMNS]
    if wide:
        cells += [",".join(owner_ref(o) for o in spec.get("owners") or []) or "-",
                  spec.get("team") or "-", status.get("class") or spec.get("class") or "-", age(created_at(obj), now)]
    return cells


@click.command("list", epilog=EXAMPLES)
@click.option("--mine", is_flag=True, help="Only DevNamespaces whose owners name me or one of my groups.")
@click.option("-A", "--all-namespaces", "all_", is_flag=True,
              help="Accepted from kubectl habit: DevNamespaces are cluster-wide, so every list is across all.")
@OUTPUT_OPTION
@kube_options
@pass_session
def list_(session, mine: bool, all_: bool, output: str | None) -> None:
    """List DevNamespaces: namespace, phase, time left (red once a warning went out), and quota used/hard of CPU
    requests, memory requests and pods.

    Lists every DevNamespace you may list (with self-service: all of them); --mine keeps yours and your groups'."""
    del all_  # every list is cluster-wide already
    objects = DevNamespaceApi(session.api).list()
    if mine:
        me = whoami(session.api)
        objects = [o for o in objects if owned_by(o, me.username, me.groups)]
    objects.sort(key=lambda o: o["metadata"]["name"])
    if output in ("yaml", "json"):
        click.echo(render(objects, output, single=False), nl=False)
        return
    if not objects:
        click.echo("No DevNamespaces found.", err=True)
        return
    if output == "name":
        click.echo(render(objects, output, single=False), nl=False)
        return
    quotas = usages(session.api, [namespace_of(o) for o in objects])
    now = dt.datetime.now(dt.timezone.utc)
    wide = output == "wide"
    click.echo(table(HEADER + (WIDE if wide else ()),
                     [row(o, quotas.get(namespace_of(o)), now, wide) for o in objects]), nl=False)
