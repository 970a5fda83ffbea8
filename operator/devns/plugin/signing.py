"""Certificate signing requests (certificates.k8s.io/v1) as ``onboard`` uses them: whether the admin may approve,
create, approve through the approval subresource, wait for the signer's certificate (or its refusal), delete.

``issuance`` reads a CSR (as a dict) and says whether it is issued, refused or still waiting: pure, so the waiting
rules are tested without a cluster. The caller deletes every CSR it created, whatever happened.
"""

from __future__ import annotations

import base64
import time
from typing import Any, Callable

import click
from kubernetes.client import (ApiClient, AuthorizationV1Api, CertificatesV1Api, V1ResourceAttributes,
                               V1SelfSubjectAccessReview, V1SelfSubjectAccessReviewSpec)
from kubernetes.client.rest import ApiException

from .devnamespaces import poll
from .errors import PluginError, describe_api_error

#: The signer of client certificates the API server trusts (kube-controller-manager's, with the cluster's CA).
SIGNER = "kubernetes.io/kube-apiserver-client"
GROUP = "certificates.k8s.io"
APPROVED_REASON = "KubectlDevnsOnboard"


def approve_forbidden(signer: str) -> str:
    return (f"you cannot approve certificate signing requests for {signer}: that needs update on "
            f"certificatesigningrequests/approval and approve on signers/{signer} (API group {GROUP}); ask a "
            "cluster admin for them, or pass --no-approve and have someone with them approve")


def _describe(condition: dict[str, Any]) -> str:
    return ": ".join(p for p in (condition.get("reason"), condition.get("message")) if p)


def conditions_text(csr: dict[str, Any]) -> str:
    """``Approved=True (Reason: message), ...``, or that nobody has approved or denied it."""
    found = [f"{c.get('type')}={c.get('status')}" + (f" ({_describe(c)})" if _describe(c) else "")
             for c in (csr.get("status") or {}).get("conditions") or []]
    return ", ".join(found) if found else "none: nobody has approved or denied it"


def issuance(csr: dict[str, Any]) -> bytes | None:
    """The issued certificate (PEM) of a CSR, or None while it waits; a Denied or Failed condition raises
    PluginError with its reason and message."""
    status = csr.get("status") or {}
    name = csr.get("metadata", {}).get("name", "")
    for condition in status.get("conditions") or []:
        if condition.get("type") in ("Denied", "Failed") and condition.get("status", "True") == "True":
            verb = "was denied" if condition["type"] == "Denied" else "failed"
            raise PluginError(f'certificate signing request "{name}" {verb}: {_describe(condition) or "no reason"}')
    certificate = status.get("certificate")
    return base64.b64decode(certificate) if certificate else None


class CsrApi:
    """The CSR calls of onboarding, as the admin running it."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.certs = CertificatesV1Api(api)
        self.authz = AuthorizationV1Api(api)

    def _allowed(self, verb: str, resource: str, subresource: str | None = None, name: str | None = None) -> bool:
        review = V1SelfSubjectAccessReview(spec=V1SelfSubjectAccessReviewSpec(resource_attributes=V1ResourceAttributes(
            group=GROUP, verb=verb, resource=resource, subresource=subresource, name=name)))
        return bool(self.authz.create_self_subject_access_review(review).status.allowed)

    def check_can_approve(self, signer: str) -> None:
        """Ask the API server (SelfSubjectAccessReview) before anything is created; the approval's own 403 is
        reported the same way should the answer change in between. ``approve`` on ``<domain>/*`` also counts."""
        domain_wide = signer.split("/", 1)[0] + "/*"
        if not (self._allowed("update", "certificatesigningrequests", "approval")
                and (self._allowed("approve", "signers", name=signer)
                     or self._allowed("approve", "signers", name=domain_wide))):
            raise PluginError(approve_forbidden(signer))

    def _dict(self, obj: Any) -> dict[str, Any]:
        return self.api.sanitize_for_serialization(obj)

    def create(self, name: str, request_pem: bytes, signer: str, seconds: int) -> dict[str, Any]:
        body = {"apiVersion": f"{GROUP}/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
                "spec": {"request": base64.b64encode(request_pem).decode(), "signerName": signer,
                         "usages": ["client auth"], "expirationSeconds": seconds}}
        return self._dict(self.certs.create_certificate_signing_request(body))

    def approve(self, csr: dict[str, Any], message: str) -> None:
        status = csr.setdefault("status", {})
        status["conditions"] = [*(status.get("conditions") or []),
                                {"type": "Approved", "status": "True", "reason": APPROVED_REASON, "message": message}]
        try:
            self.certs.replace_certificate_signing_request_approval(csr["metadata"]["name"], csr)
        except ApiException as exc:
            if exc.status == 403:
                raise PluginError(approve_forbidden(csr["spec"]["signerName"])) from exc
            raise

    def get(self, name: str) -> dict[str, Any]:
        return self._dict(self.certs.read_certificate_signing_request(name))

    def wait_issued(self, name: str, timeout: float, clock: Callable[[], float] = time.monotonic) -> bytes:
        """The certificate once the signer has issued it (polled every 50 ms, backing off to 0.5 s)."""
        last: dict[str, Any] = {}

        def check() -> bytes | None:
            csr = last["csr"] = self.get(name)
            return issuance(csr)

        def late() -> PluginError:
            csr = last["csr"]
            return PluginError(f'certificate signing request "{name}" has no certificate after {timeout:g} s '
                               f"(conditions: {conditions_text(csr)}); is a signer for "
                               f"{csr.get('spec', {}).get('signerName')} running? (the request is deleted)")
        return poll(check, timeout, late, clock)

    def delete(self, name: str) -> None:
        """Delete the CSR (gone already is fine). A failure is reported on stderr: never hides the real outcome."""
        try:
            self.certs.delete_certificate_signing_request(name)
        except ApiException as exc:
            if exc.status != 404:
                click.echo(f"warning: could not delete certificate signing request {name} "
                           f"({describe_api_error(exc)}): kubectl delete csr {name}", err=True)
