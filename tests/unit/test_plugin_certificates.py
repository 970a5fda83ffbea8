"""The pure parts of onboarding's credentials: the user and group checks, keys, CSRs and issued certificates
(plugin/certificates.py), and the kubeconfig file (plugin/kubeconfigs.py): its content, mode 0600 and atomic
replacement. Real cryptography, no cluster."""

from __future__ import annotations

import os
import stat
import sys

import kubernetes
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from credentials_fakes import CLUSTER, CertificateAuthority
from devns.plugin import certificates, kubeconfigs
from devns.plugin.errors import PluginError
from devns.plugin.session import ClusterInfo


# -- who a certificate may be for ---------------------------------------------------------------------------------

@pytest.mark.parametrize("user", ["dana@example.com", "dana", "Dana.Smith@example.com", "u" * 64])
def test_users_a_certificate_may_name(user):
    certificates.check_user(user)


@pytest.mark.parametrize("user, says", [
    ("", 'invalid user ""'),
    ("a b", "no spaces or control characters"),
    ("dana\t", "no spaces or control characters"),
    ("dana\x00", "no spaces or control characters"),
    ("system:admin", "system: users are the cluster's own components"),
    ("SYSTEM:kube-scheduler", "system: users are the cluster's own components"),
    ("u" * 65, "holds at most 64"),
    ("u" * 254, "at most 253 characters"),  # the Owner model's own limit
])
def test_users_refused_with_one_line(user, says):
    with pytest.raises(PluginError) as exc:
        certificates.check_user(user)
    assert says in str(exc.value) and "\n" not in str(exc.value)


def test_long_user_without_a_certificate():
    """--no-credentials: the CN limit does not apply, the owner rules do."""
    certificates.check_user("u" * 100, certificate=False)
    with pytest.raises(PluginError):
        certificates.check_user("system:admin", certificate=False)


@pytest.mark.parametrize("group", ["system:masters", "System:Masters", "system:authenticated", "system:nodes"])
def test_system_groups_never_go_in_a_certificate(group):
    with pytest.raises(PluginError, match="never puts a system: group"):
        certificates.check_groups(("payments-devs", group))


def test_groups_must_be_printable_and_not_empty():
    certificates.check_groups(("payments-devs", "Team A"))
    for bad in ("", "a\nb"):
        with pytest.raises(PluginError, match="invalid --group"):
            certificates.check_groups((bad,))


def test_missing_cryptography_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import fails
    with pytest.raises(PluginError, match=r"pip install 'devns\[kubectl\]'"):
        certificates.require_cryptography()


# -- keys, requests, certificates -----------------------------------------------------------------------------------

def test_keys_are_p256_or_rsa_3072():
    ecdsa = certificates.new_key("ecdsa")
    assert isinstance(ecdsa, ec.EllipticCurvePrivateKey) and ecdsa.curve.name == "secp256r1"
    rsa_key = certificates.new_key("rsa")
    assert isinstance(rsa_key, rsa.RSAPrivateKey) and rsa_key.key_size == 3072
    with pytest.raises(PluginError):
        certificates.new_key("dsa")


def test_key_pem_is_unencrypted_pkcs8_of_the_same_key():
    key = certificates.new_key()
    pem = certificates.key_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = serialization.load_pem_private_key(pem, password=None)
    assert loaded.private_numbers() == key.private_numbers()


def test_csr_names_the_user_and_groups_and_is_signed_by_the_key():
    key = certificates.new_key()
    csr = x509.load_pem_x509_csr(certificates.csr_pem(key, "dana@example.com", ("payments-devs", "oncall")))
    assert csr.is_signature_valid
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["dana@example.com"]
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["payments-devs",
                                                                                                 "oncall"]
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert csr.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)


def test_read_certificate_says_who_and_until_when():
    ca, key = CertificateAuthority(), certificates.new_key()
    pem = ca.sign(certificates.csr_pem(key, "dana@example.com", ("payments-devs",)), 3600)
    issued = certificates.read_certificate(pem + ca.cert.public_bytes(serialization.Encoding.PEM), key)  # a chain
    assert (issued.user, issued.groups) == ("dana@example.com", ("payments-devs",))
    assert issued.not_after == x509.load_pem_x509_certificate(pem).not_valid_after_utc
    assert issued.not_after.tzinfo is not None


def test_read_certificate_refuses_another_key_or_garbage():
    ca, key = CertificateAuthority(), certificates.new_key()
    other = ca.sign(certificates.csr_pem(certificates.new_key(), "dana@example.com"), 3600)
    with pytest.raises(PluginError, match="another key"):
        certificates.read_certificate(other, key)
    with pytest.raises(PluginError, match="not a PEM certificate"):
        certificates.read_certificate(b"hello", key)


# -- the kubeconfig -------------------------------------------------------------------------------------------------

def config() -> dict:
    return kubeconfigs.build(CLUSTER, "dana@example.com", kubeconfigs.client_certificate(b"CERT", b"KEY"),
                             "dana@prod", "dana-payments")


def test_kubeconfig_has_one_cluster_user_and_current_context_in_the_namespace():
    c = config()
    assert c["current-context"] == "dana@prod"
    assert c["clusters"] == [{"name": "prod", "cluster": {"server": CLUSTER.server,
                                                          "certificate-authority-data": CLUSTER.ca_data}}]
    assert c["users"] == [{"name": "dana@example.com", "user": {"client-certificate-data": "Q0VSVA==",
                                                                "client-key-data": "S0VZ"}}]
    assert c["contexts"] == [{"name": "dana@prod", "context": {"cluster": "prod", "user": "dana@example.com",
                                                               "namespace": "dana-payments"}}]


def test_kubeconfig_keeps_an_insecure_cluster_insecure_and_carries_a_token():
    c = kubeconfigs.build(ClusterInfo("dev", "https://h", None, insecure=True), "ci", kubeconfigs.bearer_token("t"),
                          "ci@dev", "ns")
    assert c["clusters"][0]["cluster"] == {"server": "https://h", "insecure-skip-tls-verify": True}
    assert c["users"][0]["user"] == {"token": "t"}


def test_written_kubeconfig_is_0600_and_loads_in_the_official_client(tmp_path):
    path = tmp_path / "dana.kubeconfig"
    path.write_text("old")
    path.chmod(0o644)
    token_config = kubeconfigs.build(CLUSTER, "ci", kubeconfigs.bearer_token("t0ken"), "ci@prod", "dana-payments")
    kubeconfigs.write(str(path), token_config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text()) == token_config
    assert os.listdir(tmp_path) == ["dana.kubeconfig"]  # no temporary file left
    loaded = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(path), client_configuration=loaded)
    assert loaded.host == CLUSTER.server and "Bearer t0ken" in loaded.api_key.values()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "dana.kubeconfig"
    path.write_text("old")

    def broken(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(kubeconfigs.os, "replace", broken)
    with pytest.raises(PluginError, match="No space left on device"):
        kubeconfigs.write(str(path), config())
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["dana.kubeconfig"]


def test_dash_writes_to_stdout(capsys, tmp_path):
    kubeconfigs.write("-", config())
    assert yaml.safe_load(capsys.readouterr().out) == config()


@pytest.mark.parametrize("make, says", [
    (lambda tmp: tmp, "is a directory"),
    (lambda tmp: tmp / "missing" / "x.kubeconfig", "does not exist"),
])
def test_destination_checked_before_anything(tmp_path, make, says):
    with pytest.raises(PluginError, match=says):
        kubeconfigs.check_destination(str(make(tmp_path)))
    kubeconfigs.check_destination(str(tmp_path / "new.kubeconfig"))
    kubeconfigs.check_destination("-")
