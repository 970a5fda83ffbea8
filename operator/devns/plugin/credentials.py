"""Credentials for a developer or a CI job, as kubectl commands: ``onboard`` (a DevNamespace, a client
certificate from the certificates API, a kubeconfig) and ``token`` (a ServiceAccount owner's bound, expiring token
from the TokenRequest API, as a kubeconfig; never a long-lived token Secret).

Here: the flags, their checks (all before anything is created), and what is printed. The order of ``onboard``'s
steps and its undo are in ``onboarding``; keys and certificates in ``certificates``; kubeconfig files in
``kubeconfigs``; CSR calls in ``signing``.
"""

from __future__ import annotations

import datetime as dt

import click
from kubernetes.client.rest import ApiException

from ..units import format_duration, format_time, parse_duration
from . import certificates, kubeconfigs
from .devnamespaces import DevNamespaceApi, default_name, namespace_of, owners_include
from .errors import PluginError
from .onboarding import Onboarding, Request, Result, short_name
from .output import countdown, resource_name
from .session import Session, kube_options, pass_session
from .signing import SIGNER, CsrApi

#: The certificates API's and the TokenRequest API's shortest lifetime (expirationSeconds).
MIN_SECONDS = 600
CERT_TTL, TOKEN_DURATION, TIMEOUT = "30d", "1h", "60s"

ONBOARD_HELP = f"""Onboard a developer: their DevNamespace, a client certificate and a kubeconfig to hand over.

For clusters that trust client certificates. Run by an admin. The private key is made here and never sent anywhere:
it exists only in the kubeconfig written (mode 0600). The certificate comes from the certificates API (signer
{SIGNER} by default), approved by you; the request is deleted afterwards. The DevNamespace
(default name USER-TEAM, or USER-dev) is created owned by User USER, or reused untouched if USER already owns it.
The kubeconfig is written only once the DevNamespace is Ready; a run that fails leaves nothing behind.

Re-running renews the credentials: a new key and certificate, the file overwritten, the DevNamespace untouched.
An earlier certificate stays valid until it expires (Kubernetes cannot revoke client certificates): keep
--cert-ttl short.
"""

ONBOARD_EXAMPLES = """\b
Examples:
  # dana's namespace dana-payments and ./dana.kubeconfig, her certificate valid 30 days
  kubectl devns onboard dana@example.com --team payments

\b
  # A certificate for 7 days in a group RBAC knows, written where you choose
  kubectl devns onboard dana@example.com --team payments --group payments-devs --cert-ttl 7d -f dana.kubeconfig

\b
  # Someone else approves the request (kubectl certificate approve devns-dana-...)
  kubectl devns onboard dana@example.com --no-approve --timeout 10m

\b
  # Clusters with OIDC or another identity provider: only the namespace, no certificate
  kubectl devns onboard dana@example.com --team payments --no-credentials

\b
The developer then checks:
  KUBECONFIG=dana.kubeconfig kubectl auth whoami
  KUBECONFIG=dana.kubeconfig kubectl auth can-i create deployments
"""

TOKEN_HELP = """A kubeconfig for a ServiceAccount that owns a DevNamespace (CI), with a bound, expiring token.

The token comes from the TokenRequest API: it expires after --duration and is stored in no Secret. The
ServiceAccount must exist and be one of the DevNamespace's owners (kind ServiceAccount); its namespace defaults to
the DevNamespace's. The kubeconfig's context is pinned to the DevNamespace's namespace; the file is mode 0600.
"""

TOKEN_EXAMPLES = """\b
Examples:
  # ./deployer.kubeconfig for ServiceAccount deployer in ci-payments' namespace, valid 1 hour
  kubectl devns token ci-payments --service-account deployer

\b
  # A ServiceAccount of another namespace, for 8 hours, printed for a CI secret store
  kubectl devns token ci-payments --service-account ci:runner --duration 8h -f - | ci-secrets put KUBECONFIG
"""

def lifetime_seconds(flag: str, text: str, api: str) -> int:
    """A lifetime flag in seconds: a duration (90m, 30d) of at least 10 minutes, ``api``'s minimum."""
    try:
        seconds = int(parse_duration(text).total_seconds())
    except ValueError as exc:
        raise PluginError(f"{flag}: {exc}") from exc
    if seconds < MIN_SECONDS:
        raise PluginError(f"{flag} {text} is too short: {api} issues nothing shorter than 10m ({MIN_SECONDS} s)")
    return seconds


def seconds_of(flag: str, text: str) -> float:
    try:
        return parse_duration(text).total_seconds()
    except ValueError as exc:
        raise PluginError(f"{flag}: {exc}") from exc


@click.command(help=ONBOARD_HELP, epilog=ONBOARD_EXAMPLES)
@click.argument("user")
@click.option("--team", metavar="TEAM", help="The developer's team: in the DevNamespace's name and spec.team.")
@click.option("--purpose", metavar="TEXT", help="Why the namespace exists (a new DevNamespace's spec.purpose).")
@click.option("--ttl", metavar="DURATION", help="A new DevNamespace's lifetime: 90m, 14d, never (default: the "
              "operator's).")
@click.option("--name", metavar="NAME", help="The DevNamespace's name (default: USER-TEAM, or USER-dev).")
@click.option("--class", "class_", metavar="CLASS", help="A new DevNamespace's DevNamespaceClass (default: the "
              "cluster's default class).")
@click.option("--group", "groups", metavar="GROUP", multiple=True, help="A group to put in the certificate (its "
              "O); repeat for more. Never a system: group.")
@click.option("--cert-ttl", metavar="DURATION", help=f"How long the certificate is valid, at least 10m (default: "
              f"{CERT_TTL}).")
@click.option("-f", "--filename", metavar="PATH", help="Where to write the kubeconfig, - for stdout (default: "
              "./<user>.kubeconfig, <user> the part before @).")
@click.option("--key-type", type=click.Choice(certificates.KEY_TYPES), help="ecdsa (P-256, the default) or rsa "
              f"({certificates.RSA_BITS} bits).")
@click.option("--signer", metavar="NAME", help=f"The CSR's signerName (default: {SIGNER}).")
@click.option("--no-approve", is_flag=True, help="Do not approve the request: wait for someone else to.")
@click.option("--no-credentials", is_flag=True, help="Only the DevNamespace: no key, no certificate, no kubeconfig "
              "(the developer signs in through the cluster's identity provider).")
@click.option("--timeout", metavar="DURATION", default=TIMEOUT, show_default=True,
              help="How long to wait for the certificate, and for the DevNamespace to be Ready.")
@kube_options
@pass_session
def onboard(session: Session, user: str, team: str | None, purpose: str | None, ttl: str | None, name: str | None,
            class_: str | None, groups: tuple[str, ...], cert_ttl: str | None, filename: str | None,
            key_type: str | None, signer: str | None, no_approve: bool, no_credentials: bool, timeout: str) -> None:
    certificates.check_user(user, certificate=not no_credentials)
    if no_credentials:
        given = [flag for flag, value in (("-f", filename), ("--group", groups), ("--cert-ttl", cert_ttl),
                                          ("--key-type", key_type), ("--signer", signer),
                                          ("--no-approve", no_approve)) if value]
        if given:
            raise click.UsageError(f"--no-credentials makes no certificate and no kubeconfig: {', '.join(given)} "
                                   "cannot go with it")
    groups = tuple(dict.fromkeys(groups))
    certificates.check_groups(groups)
    request = Request(
        user=user, name=name or default_name(user, team), path=filename or f"{short_name(user)}.kubeconfig",
        timeout=seconds_of("--timeout", timeout), groups=groups,
        spec={"team": team, "purpose": purpose, "ttl": ttl, "class": class_},
        cert_seconds=None if no_credentials else lifetime_seconds("--cert-ttl", cert_ttl or CERT_TTL,
                                                                  "the certificates API"),
        key_type=key_type or "ecdsa", signer=signer or SIGNER, approve=not no_approve)
    cluster = None
    if request.credentials:
        kubeconfigs.check_destination(request.path)
        certificates.require_cryptography()
        cluster = session.cluster
    note = lambda text: click.echo(text, err=True)  # noqa: E731
    result = Onboarding(request, cluster, DevNamespaceApi(session.api), CsrApi(session.api), note).run()
    click.echo(onboard_report(request, result, dt.datetime.now(dt.timezone.utc)), err=request.path == "-")


def onboard_report(request: Request, result: Result, now: dt.datetime) -> str:
    """What was done, how to hand it over, how the developer checks it."""
    done = "created" if result.created else "unchanged (reused as is)"
    lines = [f"{resource_name(result.name)} {done}: namespace {result.namespace} is Ready, owned by User "
             f"{request.user}"]
    if not result.created and (request.spec.get("purpose") or request.spec.get("ttl")):
        lines.append("note: --purpose and --ttl apply only to a new DevNamespace; change this one with "
                     f"kubectl edit devnamespace {result.name}")
    issued = result.issued
    if issued is None:
        return "\n".join(lines + [
            "No credentials made (--no-credentials): once the developer signs in through the cluster's identity "
            "provider, they set their namespace with:",
            f"  kubectl config set-context --current --namespace {result.namespace}"])
    groups = ", ".join(issued.groups) or "none"
    lines.append(f"certificate for {issued.user} (groups: {groups}) issued, expires {format_time(issued.not_after)} "
                 f"({countdown(issued.not_after, now)})")
    if request.path == "-":
        lines.append(f"kubeconfig printed to stdout: context {result.context}, namespace {result.namespace}")
        where = "<file>"
    else:
        lines.append(f"kubeconfig written to {request.path} (mode 0600): context {result.context}, namespace "
                     f"{result.namespace}")
        where = request.path
    if not result.created:
        lines.append(f"note: a certificate issued to {request.user} before stays valid until it expires (client "
                     "certificates cannot be revoked)")
    return "\n".join(lines + [
        "",
        f"Hand {where} to {request.user} privately: it holds their private key (a direct encrypted message or a",
        "password manager; never a shared channel, a ticket or a repository). They check it with:",
        f"  KUBECONFIG={where} kubectl auth whoami",
        f"  KUBECONFIG={where} kubectl auth can-i create deployments"])


def parse_service_account(text: str) -> tuple[str | None, str]:
    """``[NAMESPACE:]NAME`` -> (namespace or None, name)."""
    namespace, _, name = text.rpartition(":")
    return namespace or None, name


@click.command(help=TOKEN_HELP, epilog=TOKEN_EXAMPLES)
@click.argument("name")
@click.option("--service-account", "service_account", required=True, metavar="[NAMESPACE:]NAME",
              help="The ServiceAccount, an owner of the DevNamespace (namespace: the DevNamespace's by default).")
@click.option("--duration", metavar="DURATION", default=TOKEN_DURATION, show_default=True,
              help="How long the token is valid, at least 10m.")
@click.option("-f", "--filename", metavar="PATH", help="Where to write the kubeconfig, - for stdout (default: "
              "./<service account>.kubeconfig).")
@kube_options
@pass_session
def token(session: Session, name: str, service_account: str, duration: str, filename: str | None) -> None:
    seconds = lifetime_seconds("--duration", duration, "the TokenRequest API")
    sa_namespace, sa = parse_service_account(service_account)
    path = filename or f"{sa}.kubeconfig"
    kubeconfigs.check_destination(path)
    devnamespace = DevNamespaceApi(session.api).require(name)
    namespace = namespace_of(devnamespace)
    sa_namespace = sa_namespace or namespace
    problem = certificates.owner_problem("ServiceAccount", sa, sa_namespace)
    if problem:
        raise PluginError(f'invalid --service-account "{service_account}": {problem}')
    if not owners_include(devnamespace, "ServiceAccount", sa, sa_namespace):
        raise PluginError(f'ServiceAccount {sa_namespace}/{sa} is not an owner of DevNamespace "{name}": '
                                   f"add {{kind: ServiceAccount, name: {sa}, namespace: {sa_namespace}}} to its "
                                   f"spec.owners (kubectl edit devnamespace {name})")
    # Imported here: CoreV1Api is the client's largest module (~0.3 s to load), and onboard never needs it.
    from kubernetes.client import AuthenticationV1TokenRequest, CoreV1Api, V1TokenRequestSpec
    core = CoreV1Api(session.api)
    try:
        core.read_namespaced_service_account(sa, sa_namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise
        raise PluginError(f'serviceaccount "{sa}" not found in namespace "{sa_namespace}": create it with '
                                   f"kubectl create serviceaccount {sa} -n {sa_namespace}") from exc
    review = core.create_namespaced_service_account_token(sa, sa_namespace, AuthenticationV1TokenRequest(
        spec=V1TokenRequestSpec(audiences=[], expiration_seconds=seconds)))
    cluster, context = session.cluster, f"{sa}@{session.cluster.name}"
    kubeconfigs.write(path, kubeconfigs.build(cluster, f"system:serviceaccount:{sa_namespace}:{sa}",
                                              kubeconfigs.bearer_token(review.status.token), context, namespace))
    expires = review.status.expiration_timestamp
    now = dt.datetime.now(dt.timezone.utc)
    where = "stdout" if path == "-" else f"{path} (mode 0600)"
    click.echo(f"kubeconfig for ServiceAccount {sa_namespace}/{sa} written to {where}: context {context}, namespace "
               f"{namespace}\ntoken expires {format_time(expires)} ({countdown(expires, now)}; asked: "
               f"{format_duration(dt.timedelta(seconds=seconds))}): bound to the ServiceAccount, stored in no "
               f"Secret; run this again for a new one", err=path == "-")
