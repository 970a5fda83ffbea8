"""Fakes for the unit tests of ``kubectl devns onboard``: an in-memory CA that signs CSRs as kube-controller-manager
does (CN and O copied, a chosen lifetime), and the DevNamespace and CSR calls of ``Onboarding`` recorded in a list,
each able to fail the way the API server would."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from devns.plugin.devnamespaces import readiness
from devns.plugin.errors import PluginError
from devns.plugin.session import ClusterInfo
from devns.plugin.signing import issuance

UTC = dt.timezone.utc
CLUSTER = ClusterInfo(name="prod", server="https://10.0.0.1:6443", ca_data=base64.b64encode(b"CA PEM").decode())


class CertificateAuthority:
    """A self-signed CA in memory."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])
        now = dt.datetime.now(UTC)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now)
                     .not_valid_after(now + dt.timedelta(days=1)).sign(self.key, hashes.SHA256()))

    def sign(self, csr_pem: bytes, seconds: int, subject: x509.Name | None = None) -> bytes:
        """A client certificate for the CSR's key, valid ``seconds`` from now; ``subject`` overrides the CSR's."""
        from cryptography.hazmat.primitives import serialization
        csr = x509.load_pem_x509_csr(csr_pem)
        assert csr.is_signature_valid
        now = dt.datetime.now(UTC)
        cert = (x509.CertificateBuilder().subject_name(subject or csr.subject).issuer_name(self.cert.subject)
                .public_key(csr.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + dt.timedelta(seconds=seconds))
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.PEM)


def devnamespace(name: str, user: str = "dana@example.com", phase: str = "Ready", message: str = "",
                 generation: int = 1) -> dict[str, Any]:
    ready = {"type": "Ready", "status": "True" if phase == "Ready" else "False",
             "reason": "Provisioned" if phase == "Ready" else "ReservedNamespace", "message": message}
    return {"metadata": {"name": name, "generation": generation, "resourceVersion": "7"},
            "spec": {"owners": [{"kind": "User", "name": user}]},
            "status": {"observedGeneration": generation, "phase": phase, "namespace": name, "conditions": [ready]}}


class FakeDns:
    """DevNamespaceApi's calls; ``becomes`` is what a created one turns into (Ready by default)."""

    def __init__(self, calls: list, existing: dict | None = None, becomes: str = "Ready") -> None:
        self.calls, self.objects, self.becomes = calls, {}, becomes
        if existing:
            self.objects[existing["metadata"]["name"]] = existing

    def get(self, name):
        self.calls.append(("get", name))
        return self.objects.get(name)

    def create(self, obj):
        self.calls.append(("create", obj["metadata"]["name"]))
        name = obj["metadata"]["name"]
        self.objects[name] = {**devnamespace(name, phase=self.becomes, message="namespace is reserved"),
                              "spec": obj["spec"]}
        return obj

    def patch_spec(self, name, spec):  # never called by onboard: recorded so a test sees it
        self.calls.append(("patch", name))

    def delete(self, name):
        self.calls.append(("delete", name))
        self.objects.pop(name, None)

    def wait_ready(self, name, timeout):
        self.calls.append(("wait_ready", name))
        verdict = readiness(self.objects[name])
        if isinstance(verdict, str):
            raise PluginError(f'DevNamespace "{name}" is not Ready: {verdict}')
        return self.objects[name]


class FakeCsrs:
    """CsrApi's calls, signed by ``ca`` when approved (``answer``: issue, deny, fail, never, or a subject to put in
    the certificate instead of the CSR's)."""

    def __init__(self, calls: list, ca: CertificateAuthority, answer: Any = "issue", may_approve: bool = True):
        self.calls, self.ca, self.answer, self.may_approve = calls, ca, answer, may_approve
        self.csrs: dict[str, dict] = {}

    def check_can_approve(self, signer):
        self.calls.append(("can_approve", signer))
        if not self.may_approve:
            raise PluginError("you cannot approve certificate signing requests")

    def create(self, name, request_pem, signer, seconds):
        self.calls.append(("create_csr", name))
        self.csrs[name] = {"metadata": {"name": name}, "pem": request_pem, "seconds": seconds,
                           "spec": {"signerName": signer}, "status": {}}
        return self.csrs[name]

    def approve(self, csr, message):
        self.calls.append(("approve", csr["metadata"]["name"]))

    def wait_issued(self, name, timeout):
        self.calls.append(("wait_issued", name))
        csr = self.csrs[name]
        if self.answer in ("deny", "fail"):
            kind = "Denied" if self.answer == "deny" else "Failed"
            csr["status"]["conditions"] = [{"type": kind, "status": "True", "reason": "Policy", "message": "no"}]
        elif self.answer == "never":
            raise PluginError(f'certificate signing request "{name}" has no certificate after {timeout:g} s')
        else:
            subject = None if self.answer == "issue" else self.answer
            pem = self.ca.sign(csr["pem"], csr["seconds"], subject)
            csr["status"]["certificate"] = base64.b64encode(pem).decode()
        return issuance(csr)

    def delete(self, name):
        self.calls.append(("delete_csr", name))
        self.csrs.pop(name, None)
