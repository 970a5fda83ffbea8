"""What ``kubectl devns onboard`` does, in order, and how it undoes a half-done run.

Everything is checked before anything is created (the names, the destination file, whether an existing
DevNamespace may be reused, whether the admin may approve). Then: create the DevNamespace (or reuse it untouched),
make the key in memory, create, approve and wait for the CSR while the operator provisions the namespace, delete the
CSR on every path, wait until the DevNamespace is Ready and only then write the kubeconfig. A failure after this run
created the DevNamespace deletes it again. The API calls go through ``DevNamespaceApi`` and ``CsrApi`` (fakes in the
unit tests).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from kubernetes.client.rest import ApiException

from . import certificates, kubeconfigs
from .devnamespaces import body, namespace_of, owner_text, owners_include, readiness, slug
from .errors import PluginError, describe_api_error
from .session import ClusterInfo


def short_name(user: str) -> str:
    """The user's short name, in file, CSR and context names: dana for dana@example.com."""
    return slug(user) or "user"


@dataclass(frozen=True)
class Request:
    """A checked ``onboard`` command line."""

    user: str
    name: str  # the DevNamespace
    path: str  # where the kubeconfig goes ("-": stdout)
    timeout: float  # seconds, for each wait
    groups: tuple[str, ...] = ()
    spec: dict[str, Any] = field(default_factory=dict)  # team, purpose, ttl of a new DevNamespace
    cert_seconds: int | None = None  # None: --no-credentials
    key_type: str = "ecdsa"
    signer: str = "kubernetes.io/kube-apiserver-client"
    approve: bool = True

    @property
    def credentials(self) -> bool:
        return self.cert_seconds is not None

    @property
    def short(self) -> str:
        return short_name(self.user)


@dataclass(frozen=True)
class Result:
    """What a successful run did."""

    name: str
    namespace: str
    created: bool  # False: an existing DevNamespace was reused, untouched
    issued: certificates.Issued | None = None
    context: str | None = None


class Onboarding:
    """One run of ``onboard``. ``note`` prints progress to stderr (stdout carries the result)."""

    def __init__(self, request: Request, cluster: ClusterInfo | None, dns: Any, csrs: Any,
                 note: Callable[[str], None]) -> None:
        self.request, self.cluster, self.dns, self.csrs, self.note = request, cluster, dns, csrs, note

    def run(self) -> Result:
        req = self.request
        existing = self.dns.get(req.name)
        if existing is not None:
            self._check_reusable(existing)
        if req.credentials and req.approve:
            self.csrs.check_can_approve(req.signer)
        if existing is None:
            self.dns.create(body(req.name, [{"kind": "User", "name": req.user}], **req.spec))
        try:
            issued, key = self._issue() if req.credentials else (None, None)
            ready = self.dns.wait_ready(req.name, req.timeout)
            namespace = namespace_of(ready)
            context = None
            if issued is not None:
                context = f"{req.short}@{self.cluster.name}"
                kubeconfigs.write(req.path, kubeconfigs.build(
                    self.cluster, req.user, kubeconfigs.client_certificate(issued.pem, certificates.key_pem(key)),
                    context, namespace))
        except BaseException as exc:
            if existing is not None:
                raise
            replacement = self._undo(exc)
            if replacement is None:
                raise
            raise replacement from exc
        return Result(name=req.name, namespace=namespace, created=existing is None, issued=issued, context=context)

    def _check_reusable(self, obj: dict[str, Any]) -> None:
        """An existing DevNamespace is reused as is only if it is the user's and can become Ready."""
        req = self.request
        if not owners_include(obj, "User", req.user):
            listed = ", ".join(owner_text(o) for o in (obj.get("spec") or {}).get("owners") or []) or "none"
            raise PluginError(f'DevNamespace "{req.name}" exists and is not owned by User "{req.user}" (owners: '
                              f"{listed}); pick another name with --name, or add the owner to it first")
        if obj["metadata"].get("deletionTimestamp"):
            raise PluginError(f'DevNamespace "{req.name}" is being deleted: run onboard again once it is gone')
        verdict = readiness(obj)
        if isinstance(verdict, str):
            raise PluginError(f'DevNamespace "{req.name}" is not Ready: {verdict} (nothing was changed; see '
                              f"kubectl describe devnamespace {req.name})")

    def _issue(self) -> tuple[certificates.Issued, Any]:
        """A certificate for a new key: CSR created, approved (or left to someone else), waited for, deleted."""
        req = self.request
        key = certificates.new_key(req.key_type)
        name = f"devns-{req.short}-{secrets.token_hex(3)}"
        try:
            csr = self.csrs.create(name, certificates.csr_pem(key, req.user, req.groups), req.signer,
                                   req.cert_seconds)
            if req.approve:
                self.csrs.approve(csr, f"kubectl devns onboard: a client certificate for {req.user}")
            else:
                self.note(f"waiting up to {req.timeout:g} s for someone to approve it: "
                          f"kubectl certificate approve {name}")
            pem = self.csrs.wait_issued(name, req.timeout)
        finally:
            self.csrs.delete(name)
        issued = certificates.read_certificate(pem, key)
        if issued.user != req.user or set(issued.groups) != set(req.groups):
            raise PluginError(f"the signer issued a certificate for user {issued.user!r} in groups "
                              f"{list(issued.groups)}, not what was asked: refusing to use it")
        return issued, key

    def _undo(self, exc: BaseException) -> Exception | None:
        """Delete the DevNamespace this run created; the error to raise instead (it says so), or None to re-raise
        ``exc`` as it is (after a note on stderr)."""
        name = self.request.name
        try:
            self.dns.delete(name)
            done = f"deleted DevNamespace {name} again (this run had created it)"
        except ApiException as failure:
            if failure.status == 404:
                done = f"DevNamespace {name} is gone"
            else:
                done = (f"could not delete DevNamespace {name} that this run created ({describe_api_error(failure)}):"
                        f" kubectl delete devnamespace {name}")
        if isinstance(exc, PluginError):
            return PluginError(f"{exc}; {done}", exc.exit_code)
        if isinstance(exc, ApiException):
            return PluginError(f"{describe_api_error(exc)}; {done}")
        self.note(done)
        return None
