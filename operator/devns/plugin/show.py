"""``kubectl devns status``: one DevNamespace in full (conditions, Events, quota usage, access, limits).

Everything is read with the reader's own rights and what they may not read is said, not failed on: an owner sees
their namespace's quota, LimitRange and Events; the DevNamespace's own Events live in ``default`` (where
``kubectl describe`` finds them), which developers usually may not read. "My access" is what the API server
answers to SelfSubjectAccessReviews in the namespace (what ``kubectl auth can-i`` asks).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from kubernetes.client import (ApiClient, AuthorizationV1Api, V1ResourceAttributes, V1SelfSubjectAccessReview,
                               V1SelfSubjectAccessReviewSpec)
from kubernetes.client.rest import ApiException

from ..contract import LIMITRANGE_NAME, QUOTA_NAME
from ..units import format_time, parse_time
from .devnamespaces import DevNamespaceApi, expiry_of, namespace_of, owner_text
from .events import devnamespace_events, namespace_events, recent
from .output import age, countdown, output_option, render, table, usage
from .quota import LIMIT_FIELDS, read_limit_range, read_usage
from .session import kube_options, pass_session

EXAMPLES = """\b
Examples:
  # Conditions, quota usage, limits, my access and recent Events
  kubectl devns status alice-payments

\b
  # The same as data, for a script
  kubectl devns status alice-payments -o json
"""

#: What "my access" asks: (verb, resource, API group).
ACCESS = (("create", "deployments", "apps"), ("create", "pods", ""), ("get", "secrets", ""),
          ("create", "rolebindings", "rbac.authorization.k8s.io"))
DEVNAMESPACE_EVENTS_HIDDEN = "(Events of the DevNamespace need read access to Events in the default namespace)"


def can_i(api: ApiClient, namespace: str) -> dict[str, bool]:
    """``"create deployments" -> True`` for each of ``ACCESS``, as the API server answers for me."""
    authz = AuthorizationV1Api(api)
    answers = {}
    for verb, resource, group in ACCESS:
        review = V1SelfSubjectAccessReview(spec=V1SelfSubjectAccessReviewSpec(resource_attributes=V1ResourceAttributes(
            namespace=namespace, verb=verb, resource=resource, group=group)))
        answers[f"{verb} {resource}"] = bool(authz.create_self_subject_access_review(review).status.allowed)
    return answers


def gather(api: ApiClient, obj: dict[str, Any]) -> dict[str, Any]:
    """The report: the DevNamespace's own facts, then what its namespace holds, each None when not readable."""
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    namespace, expires = namespace_of(obj), expiry_of(obj)
    notes = []
    try:
        own = devnamespace_events(api, obj)
    except ApiException as exc:
        if exc.status != 403:
            raise
        own = []
        notes.append(DEVNAMESPACE_EVENTS_HIDDEN)
    try:
        inside = namespace_events(api, namespace)
    except ApiException as exc:
        if exc.status not in (403, 404):
            raise
        inside = []
        notes.append(f"(Events of namespace {namespace} are not readable for you)")
    usage_ = read_usage(api, namespace)
    return {
        "name": meta["name"], "namespace": namespace, "phase": status.get("phase") or "Pending",
        "owners": spec.get("owners") or [], "team": spec.get("team"), "purpose": spec.get("purpose"),
        "created": meta.get("creationTimestamp"), "expiresAt": format_time(expires) if expires else None,
        "conditions": status.get("conditions") or [], "warningsSent": status.get("warningsSent") or [],
        "quota": None if usage_ is None else {r: {"used": u, "hard": h} for r, u, h in usage_.rows()},
        "limits": read_limit_range(api, namespace), "access": can_i(api, namespace),
        "events": recent(own, inside), "notes": notes,
    }


def _section(title: str, header: tuple[str, ...], rows: list[list[str]], empty: str) -> list[str]:
    if not rows:
        return [f"{title}: {empty}"]
    return [f"{title}:"] + ["  " + line for line in table(header, rows).splitlines()]


def text(report: dict[str, Any], now: dt.datetime) -> str:
    """The report as ``kubectl describe``-style text."""
    since = lambda stamp: age(parse_time(stamp), now) if stamp else "-"  # noqa: E731
    expires = report["expiresAt"]
    lines = [f"{label + ':':<15}{value}" for label, value in (
        ("Name", report["name"]), ("Namespace", report["namespace"]), ("Phase", report["phase"]),
        ("Owners", ", ".join(owner_text(o) for o in report["owners"]) or "-"), ("Team", report["team"] or "-"),
        ("Purpose", report["purpose"] or "-"), ("Created", f"{report['created']} ({since(report['created'])} ago)"),
        ("Expires", f"{expires} ({countdown(parse_time(expires), now)})" if expires else "never"),
        ("Warnings sent", ", ".join(report["warningsSent"]) or "none"))]
    lines += _section("Conditions", ("TYPE", "STATUS", "REASON", "AGE", "MESSAGE"),
                      [[c.get("type", ""), c.get("status", ""), c.get("reason", ""),
                        since(c.get("lastTransitionTime")), c.get("message", "")] for c in report["conditions"]],
                      "none yet")
    quota = report["quota"]
    lines += _section(f"Quota (ResourceQuota {QUOTA_NAME})", ("RESOURCE", "USED/HARD"),
                      [[r, usage(v["used"], v["hard"], width=10)] for r, v in (quota or {}).items()],
                      "not there, or not readable for you" if quota is None else "none")
    limits = report["limits"]
    lines += _section(f"Limits per container (LimitRange {LIMITRANGE_NAME})",
                      ("RESOURCE", *(h for _, h in LIMIT_FIELDS)),
                      [[res, *(entry[f].get(res, "-") for f, _ in LIMIT_FIELDS)] for entry in limits or []
                       for res in sorted({r for f, _ in LIMIT_FIELDS for r in entry[f]})],
                      "not there, or not readable for you" if limits is None else "none")
    lines += _section(f"My access in namespace {report['namespace']}", ("CAN I", "ANSWER"),
                      [[what, "yes" if allowed else "no"] for what, allowed in report["access"].items()], "-")
    lines += _section("Events", ("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"),
                      [[since(e["lastSeen"]), e["type"], e["reason"], e["object"], e["message"]]
                       for e in report["events"]], "none")
    lines += [f"  {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


@click.command(epilog=EXAMPLES)
@click.argument("name")
@output_option("yaml", "json", default="text")
@kube_options
@pass_session
def status(session, name: str, output: str | None) -> None:
    """Show a DevNamespace: phase, owners, expiry, conditions, warnings sent, quota usage, the limits per
    container, what I may do in its namespace, and recent Events of the DevNamespace and its namespace.

    -o yaml|json prints the same report as data (kubectl get devnamespace NAME -o yaml prints the object)."""
    report = gather(session.api, DevNamespaceApi(session.api).require(name))
    if output:
        click.echo(render([report], output, single=True), nl=False)
    else:
        click.echo(text(report, dt.datetime.now(dt.timezone.utc)), nl=False)
