"""The certificates and keys a local control plane needs, minted fresh for each cluster.

One CA signs the kube-apiserver serving certificate and the client certificates (the admin in
``system:masters``, and ``system:kube-controller-manager``); the service-account key signs and verifies tokens.
EC P-256 keys: fast to make, accepted by every component.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pki:
    """Paths of the PEM files written by :func:`make_pki`."""

    ca_crt: Path
    ca_key: Path
    serving_crt: Path
    serving_key: Path
    admin_crt: Path
    admin_key: Path
    kcm_crt: Path
    kcm_key: Path
    sa_key: Path
    sa_pub: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _sign(subject: x509.Name, key, ca_name: x509.Name, ca_key, *, ca: bool = False, server: bool = False,
          sans: list[x509.GeneralName] | None = None) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def issue_client_cert(pki: Pki, directory: Path, user: str, groups: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """Mint a client certificate for ``user`` in ``groups`` (signed by the cluster CA); returns (crt, key)."""
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    ca_name = x509.load_pem_x509_certificate(pki.ca_crt.read_bytes()).subject
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    subject = x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, user)])
    key = _key()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user)
    crt, keyfile = directory / f"user-{safe}.crt", directory / f"user-{safe}.key"
    crt.write_bytes(_sign(subject, key, ca_name, ca_key).public_bytes(serialization.Encoding.PEM))
    _write_key(key, keyfile)
    return crt, keyfile


def make_pki(directory: Path, *, service_ip: str = "10.0.0.1") -> Pki:
    """Write a fresh CA, serving and client certificates and a service-account key pair into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    p = Pki(*(directory / f for f in ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt",
                                      "admin.key", "kcm.crt", "kcm.key", "sa.key", "sa.pub")))
    ca_key = _key()
    ca_name = _name("localk8s-ca")
    ca_cert = _sign(ca_name, ca_key, ca_name, ca_key, ca=True)
    p.ca_crt.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(ca_key, p.ca_key)

    dns = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
           "kubernetes.default.svc.cluster.local"]
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", service_ip)]
    for crt, keyfile, subject, server in (
        (p.serving_crt, p.serving_key, _name("kube-apiserver"), True),
        (p.admin_crt, p.admin_key, _name("localk8s-admin", "system:masters"), False),
        (p.kcm_crt, p.kcm_key, _name("system:kube-controller-manager"), False),
    ):
        key = _key()
        cert = _sign(subject, key, ca_name, ca_key, server=server, sans=sans if server else None)
        crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, keyfile)

    sa = _key()
    _write_key(sa, p.sa_key)
    p.sa_pub.write_bytes(sa.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    return p
