"""A developer's client certificate, made on the admin's machine: the checks of the user and group names it is
for, the private key, the certificate signing request (PEM) and what the issued certificate says.

Pure functions. The crypto is the ``cryptography`` library's (never hand-rolled); it is the ``kubectl`` extra
(``pip install 'devns[kubectl]'``), so it is imported only when onboarding makes credentials: every other plugin
command, and ``onboard --no-credentials``, work without it. Keys live in memory only until the kubeconfig is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..apirules import lower_ascii
from ..models import Owner
from .errors import PluginError

KEY_TYPES = ("ecdsa", "rsa")
#: RSA keys are at least this long (NIST: 3072 bits for security beyond 2030); ECDSA keys use P-256.
RSA_BITS = 3072
#: X.509's upper bound for a common name (RFC 5280 ub-common-name): the user name is the CN.
MAX_COMMON_NAME = 64
INSTALL_HINT = "pip install 'devns[kubectl]'"


def require_cryptography() -> None:
    """Fail with the install command when the ``cryptography`` library is missing."""
    try:
        import cryptography  # noqa: F401
    except ImportError as exc:
        raise PluginError(f"making a client certificate needs the cryptography library: {INSTALL_HINT} "
                          "(or use --no-credentials)") from exc


def owner_problem(kind: str, name: str, namespace: str | None = None) -> str | None:
    """What the DevNamespace's owner rules (models.Owner, the same as admission's) say against this owner."""
    try:
        Owner(kind=kind, name=name, namespace=namespace)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
    return None


def check_user(user: str, certificate: bool = True) -> None:
    """A user name a DevNamespace may be owned by and, with ``certificate``, a client certificate's CN may hold:
    not empty, printable, no whitespace, not a system: user, at most 64 characters."""
    if not user:
        raise PluginError('invalid user "": give the name the developer signs in with, e.g. dana@example.com')
    if any(c.isspace() or not c.isprintable() for c in user):
        raise PluginError(f"invalid user {user!r}: a user name has no spaces or control characters "
                          "(e.g. dana@example.com)")
    if lower_ascii(user).startswith("system:"):
        raise PluginError(f'invalid user "{user}": system: users are the cluster\'s own components (system:admin, '
                          "system:kube-scheduler, ...); name a person, e.g. dana@example.com")
    problem = owner_problem("User", user)
    if problem:
        raise PluginError(f'invalid user "{user}": {problem}')
    if certificate and len(user) > MAX_COMMON_NAME:
        raise PluginError(f'invalid user "{user}": {len(user)} characters, but a client certificate\'s common name '
                          f"holds at most {MAX_COMMON_NAME} (use --no-credentials with an identity provider)")


def check_groups(groups: tuple[str, ...]) -> None:
    """Groups a certificate may carry: never a system: group (system:masters is a cluster admin that RBAC cannot
    limit, and no certificate devns mints may be one), printable, not empty."""
    for group in groups:
        if lower_ascii(group).startswith("system:"):
            raise PluginError(f'refusing --group "{group}": kubectl devns never puts a system: group in a '
                              "certificate (system:masters would bypass RBAC entirely); name a team's group")
        if not group or any(not c.isprintable() for c in group):
            raise PluginError(f"invalid --group {group!r}: a group name is printable and not empty")
        problem = owner_problem("Group", group)
        if problem:
            raise PluginError(f'invalid --group "{group}": {problem}')


def new_key(key_type: str = "ecdsa") -> Any:
    """A new private key, in memory: ECDSA P-256 (the default: small and fast) or RSA 3072."""
    if key_type == "rsa":
        from cryptography.hazmat.primitives.asymmetric import rsa
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    if key_type == "ecdsa":
        from cryptography.hazmat.primitives.asymmetric import ec
        return ec.generate_private_key(ec.SECP256R1())
    raise PluginError(f"invalid key type {key_type!r}: use one of {', '.join(KEY_TYPES)}")


def key_pem(key: Any) -> bytes:
    """The private key as unencrypted PKCS#8 PEM, as a kubeconfig's client-key-data holds it."""
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def csr_pem(key: Any, user: str, groups: tuple[str, ...] = ()) -> bytes:
    """A PKCS#10 request signed with ``key``: CN = the user, one O per group (how the API server reads a client
    certificate's user name and groups)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user),
                         *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups)])
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Issued:
    """A certificate the signer issued for our key."""

    pem: bytes  # as the CSR's status.certificate holds it (the leaf first, maybe a chain)
    user: str  # its CN
    groups: tuple[str, ...]  # its O values
    serial: int
    not_after: dt.datetime  # UTC


def read_certificate(pem: bytes, key: Any) -> Issued:
    """What the issued certificate says; refuses one that is not for ``key`` (a signer answering another
    request, or a tampered status)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID
    try:
        cert = x509.load_pem_x509_certificates(pem)[0]
    except ValueError as exc:
        raise PluginError(f"the signer returned something that is not a PEM certificate: {exc}") from exc
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise PluginError("the signer returned a certificate for another key: refusing to use it")
    names = lambda oid: tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(oid))  # noqa: E731
    common = names(NameOID.COMMON_NAME)
    return Issued(pem=pem, user=common[0] if common else "", groups=names(NameOID.ORGANIZATION_NAME),
                  serial=cert.serial_number, not_after=cert.not_valid_after_utc)
