"""``kubectl devns create``: a DevNamespace for me (self-service), prompting for what the platform requires.

The owner is who the API server says I am (SelfSubjectReview) unless ``--owner`` names others; the name defaults to
``<me>-<team>`` (``<me>-dev``). On a terminal, when NAME or ``--ttl`` is missing, it asks for each field not given on
the command line, showing the self-service limits that apply (the devns-system/devns-self-service ConfigMap) and
checking each answer against them; elsewhere it sends what it has and prints the API server's refusal as is. The
spec is checked with the operator's own model before anything is sent, then created and waited on until Ready.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Callable

import click
from pydantic import ValidationError

from ..apirules import DNS_LABEL, matches
from ..models import DevNamespaceSpec, explain_validation_error
from ..units import parse_duration
from .devnamespaces import DevNamespaceApi, body, default_name, expiry_of, namespace_of, owner_for, slug
from .errors import PluginError
from .flags import on_terminal, wait_options
from .limits import (LIMITS_NAME, LIMITS_NAMESPACE, Limits, default_ttl, describe, name_allowed, name_patterns,
                     read_limits, suggest_name)
from .output import expires_text, output_option, render, resource_name
from .session import Identity, kube_options, pass_session, whoami

EXAMPLES = """\b
Examples:
  # Mine, answering what is missing (on a terminal: team, name, purpose, ttl)
  kubectl devns create

\b
  # For a team, for three days, without prompts
  kubectl devns create alice-payments --team payments --ttl 3d --purpose "checkout demo"

\b
  # The DevNamespace as YAML for GitOps: nothing is sent to the cluster
  kubectl devns create alice-demo --ttl 3d --owner User:alice@example.com --dry-run=client -o yaml

\b
  # Owned by a group and a CI ServiceAccount; ask the API server whether it would be accepted
  kubectl devns create team-a-ci --ttl 14d --owner Group:team-a --owner ServiceAccount:ci:deployer --dry-run=server
"""

_KINDS = {"user": "User", "group": "Group", "serviceaccount": "ServiceAccount", "sa": "ServiceAccount"}


def parse_owner(text: str) -> dict[str, str]:
    """``User:alice@example.com``, ``Group:team-a``, ``ServiceAccount:NAMESPACE:NAME`` as an owner entry."""
    kind, _, name = text.partition(":")
    if kind.lower() not in _KINDS or not name:
        raise ValueError(f"{text!r}: use User:NAME, Group:NAME or ServiceAccount:NAMESPACE:NAME")
    kind = _KINDS[kind.lower()]
    if kind != "ServiceAccount":
        return {"kind": kind, "name": name}
    namespace, _, account = name.partition(":")
    if not namespace or not account:
        raise ValueError(f"{text!r}: a ServiceAccount owner is ServiceAccount:NAMESPACE:NAME")
    return {"kind": kind, "name": account, "namespace": namespace}


def _owners(_ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        return [parse_owner(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


@dataclass(frozen=True)
class Fields:
    """What a person chooses for a new DevNamespace (None: not chosen, the default applies)."""

    name: str | None = None
    team: str | None = None
    purpose: str | None = None
    ttl: str | None = None
    class_: str | None = None  # the DevNamespaceClass (None: the default class)


def spec_problem(**spec: Any) -> str | None:
    """Why the operator's model refuses these spec fields (with a placeholder owner), or None."""
    try:
        DevNamespaceSpec.model_validate({"owners": [{"kind": "User", "name": "placeholder"}], **spec})
    except ValidationError as exc:
        return explain_validation_error(exc)
    return None


def _checker(check: Callable[[str], str | None], optional: bool) -> Callable[[str], str]:
    """A click ``value_proc``: the answer stripped, or ``BadParameter`` (click asks again) with the problem."""
    def proc(value: str) -> str:
        value = value.strip()
        if not value and optional:
            return ""
        problem = check(value) if value else "an answer is required"
        if problem:
            raise click.BadParameter(problem)
        return value
    return proc


def check_name(patterns: list[str]) -> Callable[[str], str | None]:
    def check(name: str) -> str | None:
        if not matches(DNS_LABEL, name) or len(name) > 63:
            return ("a DevNamespace (and its namespace) name is at most 63 lower-case letters, digits and '-', "
                    "starting and ending with a letter or digit")
        if patterns and not name_allowed(name, patterns):
            return f"{name} does not match {', '.join(patterns)}"
        return None
    return check


def check_ttl(limits: Limits | None) -> Callable[[str], str | None]:
    cap = limits.max_ttl_delta if limits is not None else None

    def check(ttl: str) -> str | None:
        if ttl == "never" and cap:
            return f"ttl never is not allowed: the maximum is {limits.max_ttl}"
        problem = spec_problem(ttl=ttl)
        if not problem and cap and ttl != "never" and parse_duration(ttl) > cap:
            problem = f"{ttl} is longer than the maximum of {limits.max_ttl}"
        return problem
    return check


def ask(given: Fields, limits: Limits | None, me: Identity, prompt: Callable[..., str] = click.prompt,
        echo: Callable[[str], None] = lambda line: click.echo(line, err=True)) -> Fields:
    """Ask for each field not given, showing ``limits`` (None: they could not be read) and checking each answer
    against them: team and purpose are optional (Enter skips), the name defaults to ``<me>-<team>``, the ttl is
    required when the limits set a maximum (offered: 7d, or the maximum when shorter)."""
    patterns = name_patterns(limits.names, me.username, me.groups) if limits is not None else []
    if limits is None:
        echo(f"(The self-service limits in ConfigMap {LIMITS_NAMESPACE}/{LIMITS_NAME} are not readable for you; "
             "the API server still applies them.)")
    else:
        echo(f"Self-service limits ({LIMITS_NAMESPACE}/{LIMITS_NAME}):")
        for line in describe(limits, patterns):
            echo(f"  {line}")

    def optional(label: str, check: Callable[[str], str | None]) -> str | None:
        return prompt(f"{label} (optional, Enter to skip)", default="", show_default=False,
                      value_proc=_checker(check, optional=True), err=True) or None

    team = given.team if given.team is not None else optional("team", lambda t: spec_problem(team=t))
    name = given.name or prompt("name" + (f" (must match {', '.join(patterns)})" if patterns else ""),
                                default=suggest_name(default_name(me.username, team), patterns,
                                                     slug(team) if team else "dev"),
                                value_proc=_checker(check_name(patterns), optional=False), err=True)
    purpose = given.purpose if given.purpose is not None else optional("purpose", lambda p: spec_problem(purpose=p))
    ttl = given.ttl
    if ttl is None and default_ttl(limits) is not None:
        ttl = prompt(f"ttl (at most {limits.max_ttl})", default=default_ttl(limits),
                     value_proc=_checker(check_ttl(limits), optional=False), err=True)
    elif ttl is None:
        ttl = prompt("ttl (e.g. 90m, 3d, 2w; Enter for the platform's default)", default="", show_default=False,
                     value_proc=_checker(check_ttl(limits), optional=True), err=True) or None
    return replace(given, name=name, team=team, purpose=purpose, ttl=ttl)


def checked_body(name: str, owners: list[dict[str, str]], fields: Fields) -> dict[str, Any]:
    """The DevNamespace to send, refused here already when the operator's model would refuse it."""
    problem = check_name([])(name)
    if problem:
        raise PluginError(f'invalid name "{name}": {problem}')
    obj = body(name, owners, team=fields.team, purpose=fields.purpose, ttl=fields.ttl, **{"class": fields.class_})
    problem = spec_problem(**obj["spec"])
    if problem:
        raise PluginError(f"invalid DevNamespace {name}: {problem}")
    return obj


@click.command(epilog=EXAMPLES)
@click.argument("name", required=False)
@click.option("--team", help="Owning team (also the default name's suffix: <me>-<team>).")
@click.option("--purpose", help="Why the namespace exists.")
@click.option("--ttl", metavar="DURATION", help="Lifetime from now: 90m, 3d, 2w (self-service: at most maxTTL).")
@click.option("--class", "class_", metavar="CLASS", help="The DevNamespaceClass (default: the cluster's default "
              "class; kubectl get devnamespaceclasses).")
@click.option("--owner", "owners", multiple=True, metavar="KIND:NAME", callback=_owners,
              help="An owner instead of me: User:NAME, Group:NAME or ServiceAccount:NAMESPACE:NAME (repeatable).")
@click.option("--dry-run", type=click.Choice(["none", "client", "server"]), default="none", show_default=True,
              help="client: only print it (no API call but who am I); server: ask the API server without saving.")
@output_option("yaml", "json", "name", default="a message")
@wait_options("the DevNamespace is Ready", "1m")
@kube_options
@pass_session
def create(session, name: str | None, team: str | None, purpose: str | None, ttl: str | None, class_: str | None,
           owners: list[dict[str, str]], dry_run: str, output: str | None, wait: bool, timeout: dt.timedelta) -> None:
    """Create a DevNamespace: my own namespace, with its quota, limits and network rules, that expires.

    NAME defaults to <me>-<team> (or <me>-dev). On a terminal, when NAME or --ttl is missing, asks for each
    field not given, showing the self-service limits that apply. Then waits until the namespace is Ready."""
    fields = Fields(name=name, team=team, purpose=purpose, ttl=ttl, class_=class_)
    interactive = on_terminal() and (name is None or ttl is None)
    me = whoami(session.api) if interactive or not owners or name is None else None
    if interactive:
        fields = ask(fields, read_limits(session.api), me)
    name = fields.name or default_name(me.username, fields.team)
    obj = checked_body(name, owners or [owner_for(me.username)], fields)
    if dry_run == "client":
        click.echo(render([obj], output, single=True) if output else f"{resource_name(name)} created (dry run)",
                   nl=not output)
        return
    api = DevNamespaceApi(session.api)
    created = api.create(obj, dry_run=dry_run == "server")
    if dry_run == "server" or not wait:
        note = " (server dry run)" if dry_run == "server" else f"; follow it with: kubectl devns status {name}"
        click.echo(render([created], output, single=True) if output else f"{resource_name(name)} created{note}",
                   nl=not output)
        return
    ready = api.wait_ready(name, timeout.total_seconds())
    if output:
        click.echo(render([ready], output, single=True), nl=False)
        return
    namespace = namespace_of(ready)
    click.echo(f"{resource_name(name)} created: namespace {namespace} is Ready "
               f"({expires_text(expiry_of(ready), dt.datetime.now(dt.timezone.utc))})")
    click.echo(f"Make it your default namespace: kubectl config set-context --current --namespace {namespace}")
