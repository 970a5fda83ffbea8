"""``kubectl devns onboard`` and ``token`` without a cluster: the order of onboarding's steps and that a failed run
leaves nothing (plugin/onboarding.py, with the fakes of credentials_fakes.py), the CSR rules (plugin/signing.py),
and the command line (plugin/credentials.py): every bad input refused with one line before any API call."""

from __future__ import annotations

import base64
import datetime as dt
import stat

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException

from credentials_fakes import CLUSTER, UTC, CertificateAuthority, FakeCsrs, FakeDns, devnamespace
from devns.plugin import app, credentials, signing
from devns.plugin.errors import PluginError
from devns.plugin.onboarding import Onboarding, Request

USER = "dana@example.com"


@pytest.fixture
def calls():
    return []


def run(tmp_path, calls, existing=None, becomes="Ready", answer="issue", may_approve=True, notes=None, **request):
    """One onboarding of dana into dana-payments with fakes; the kubeconfig goes to tmp_path/dana.kubeconfig."""
    fields = {"user": USER, "name": "dana-payments", "path": str(tmp_path / "dana.kubeconfig"), "timeout": 5.0,
              "cert_seconds": 3600, "spec": {"team": "payments"}, **request}
    dns = FakeDns(calls, existing, becomes)
    csrs = FakeCsrs(calls, CertificateAuthority(), answer, may_approve)
    return Onboarding(Request(**fields), CLUSTER, dns, csrs, (notes if notes is not None else []).append).run()


def verbs(calls):
    return [c[0] for c in calls]


def nothing_written(tmp_path):
    return not list(tmp_path.iterdir())


# -- the order of the steps, and what a success leaves ------------------------------------------------------------

def test_from_nothing(tmp_path, calls):
    result = run(tmp_path, calls)
    assert verbs(calls) == ["get", "can_approve", "create", "create_csr", "approve", "wait_issued", "delete_csr",
                            "wait_ready"]
    csr_name = calls[3][1]
    assert csr_name.startswith("devns-dana-") and ("delete_csr", csr_name) in calls
    assert result.created and result.namespace == "dana-payments" and result.context == "dana@prod"
    path = tmp_path / "dana.kubeconfig"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    assert config["contexts"][0]["context"]["namespace"] == "dana-payments"
    user = config["users"][0]["user"]
    assert set(user) == {"client-certificate-data", "client-key-data"}
    cert = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == USER
    assert cert.serial_number == result.issued.serial
    assert abs(result.issued.not_after - dt.datetime.now(UTC) - dt.timedelta(hours=1)) < dt.timedelta(minutes=1)


def test_rerun_reuses_the_devnamespace_untouched(tmp_path, calls):
    result = run(tmp_path, calls, existing=devnamespace("dana-payments"))
    assert "create" not in verbs(calls) and "patch" not in verbs(calls) and "delete" not in verbs(calls)
    assert not result.created and (tmp_path / "dana.kubeconfig").exists()


def test_no_approve_leaves_approval_to_someone_else(tmp_path, calls):
    notes = []
    run(tmp_path, calls, approve=False, notes=notes)
    assert "approve" not in verbs(calls) and "can_approve" not in verbs(calls)
    assert any("kubectl certificate approve devns-dana-" in n for n in notes)


def test_no_credentials_makes_only_the_devnamespace(tmp_path, calls):
    result = run(tmp_path, calls, cert_seconds=None)
    assert verbs(calls) == ["get", "create", "wait_ready"]
    assert result.issued is None and nothing_written(tmp_path)


# -- refused before anything is created -----------------------------------------------------------------------------

def test_someone_elses_devnamespace_is_refused_before_anything(tmp_path, calls):
    with pytest.raises(PluginError, match='not owned by User "dana@example.com" .owners: User bob@example.com.'):
        run(tmp_path, calls, existing=devnamespace("dana-payments", user="bob@example.com"))
    assert verbs(calls) == ["get"] and nothing_written(tmp_path)


def test_an_existing_failed_devnamespace_is_reported_before_any_csr(tmp_path, calls):
    failed = devnamespace("dana-payments", phase="Failed", message="namespace 'dana-payments' is reserved")
    with pytest.raises(PluginError, match="is not Ready: ReservedNamespace: namespace 'dana-payments' is reserved"):
        run(tmp_path, calls, existing=failed)
    assert verbs(calls) == ["get"] and nothing_written(tmp_path)


def test_no_permission_to_approve_is_found_before_anything(tmp_path, calls):
    with pytest.raises(PluginError, match="cannot approve"):
        run(tmp_path, calls, may_approve=False)
    assert verbs(calls) == ["get", "can_approve"] and nothing_written(tmp_path)


# -- failures after the DevNamespace was created: all undone ------------------------------------------------------

@pytest.mark.parametrize("answer, says", [
    ("deny", "was denied: Policy: no"),
    ("fail", "failed: Policy: no"),
    ("never", "has no certificate after 5 s"),
    (x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mallory")]), "issued a certificate for user 'mallory'"),
])
def test_csr_failures_delete_the_csr_and_the_new_devnamespace(tmp_path, calls, answer, says):
    with pytest.raises(PluginError) as exc:
        run(tmp_path, calls, answer=answer)
    assert says in str(exc.value) and "deleted DevNamespace dana-payments again" in str(exc.value)
    csr = next(name for verb, name in calls if verb == "create_csr")
    assert ("delete_csr", csr) in calls and ("delete", "dana-payments") in calls
    assert "wait_ready" not in verbs(calls) and nothing_written(tmp_path)


def test_failed_devnamespace_created_by_this_run_is_deleted_again(tmp_path, calls):
    with pytest.raises(PluginError, match="is not Ready: ReservedNamespace.*deleted DevNamespace dana-payments"):
        run(tmp_path, calls, becomes="Failed")
    assert verbs(calls)[-2:] == ["wait_ready", "delete"] and "delete_csr" in verbs(calls)
    assert nothing_written(tmp_path)


def test_a_reused_devnamespace_is_never_deleted(tmp_path, calls):
    with pytest.raises(PluginError, match="denied"):
        run(tmp_path, calls, existing=devnamespace("dana-payments"), answer="deny")
    assert "delete" not in verbs(calls) and "delete_csr" in verbs(calls)


def test_an_api_error_after_creation_is_one_line_that_says_what_was_undone(tmp_path, calls, monkeypatch):
    def forbidden(*args):
        raise ApiException(status=403, reason="Forbidden")
    monkeypatch.setattr(FakeCsrs, "create", forbidden)
    with pytest.raises(PluginError, match=r"Error from server \(Forbidden\).*deleted DevNamespace dana-payments"):
        run(tmp_path, calls)
    assert ("delete", "dana-payments") in calls


def test_interrupted_run_still_deletes_the_csr_and_the_devnamespace(tmp_path, calls, monkeypatch):
    def interrupted(self, name, timeout):
        raise KeyboardInterrupt
    monkeypatch.setattr(FakeCsrs, "wait_issued", interrupted)
    notes = []
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, calls, notes=notes)
    assert {"delete_csr", "delete"} <= set(verbs(calls)) and "deleted DevNamespace dana-payments" in notes[-1]


# -- the CSR's answer -------------------------------------------------------------------------------------------

def csr(*conditions, certificate=None):
    return {"metadata": {"name": "devns-dana-1"}, "spec": {"signerName": signing.SIGNER},
            "status": {"conditions": list(conditions), **({"certificate": certificate} if certificate else {})}}


APPROVED = {"type": "Approved", "status": "True", "reason": "KubectlDevnsOnboard", "message": "ok"}


def test_issuance_reads_the_certificate_or_the_refusal():
    assert signing.issuance(csr()) is None
    assert signing.issuance(csr(APPROVED)) is None
    assert signing.issuance(csr(APPROVED, certificate="UEVN")) == b"PEM"
    with pytest.raises(PluginError, match='"devns-dana-1" was denied: Nope: not dana'):
        signing.issuance(csr({"type": "Denied", "status": "True", "reason": "Nope", "message": "not dana"}))
    with pytest.raises(PluginError, match="failed: SignerValidationFailure"):
        signing.issuance(csr(APPROVED, {"type": "Failed", "status": "True", "reason": "SignerValidationFailure"}))


def test_a_timeout_lists_the_conditions(monkeypatch):
    api = signing.CsrApi(ApiClient())
    monkeypatch.setattr(api, "get", lambda name: csr(APPROVED))
    monkeypatch.setattr("devns.plugin.devnamespaces.time.sleep", lambda s: None)
    ticks = iter(range(100))
    with pytest.raises(PluginError) as exc:
        api.wait_issued("devns-dana-1", 3, clock=lambda: next(ticks))
    assert str(exc.value) == (
        'certificate signing request "devns-dana-1" has no certificate after 3 s (conditions: Approved=True '
        "(KubectlDevnsOnboard: ok)); is a signer for kubernetes.io/kube-apiserver-client running? (the request is "
        "deleted)")
    assert signing.conditions_text(csr()) == "none: nobody has approved or denied it"


def test_a_403_on_approval_names_the_missing_permissions(monkeypatch):
    api = signing.CsrApi(ApiClient())

    def forbidden(name, body):
        raise ApiException(status=403, reason="Forbidden")
    monkeypatch.setattr(api.certs, "replace_certificate_signing_request_approval", forbidden)
    with pytest.raises(PluginError) as exc:
        api.approve(csr(), "why")
    assert ("update on certificatesigningrequests/approval and approve on signers/kubernetes.io/kube-apiserver-client "
            "(API group certificates.k8s.io)") in str(exc.value)


@pytest.mark.parametrize("granted, ok", [
    ({("update", "approval", None), ("approve", None, signing.SIGNER)}, True),
    ({("update", "approval", None), ("approve", None, "kubernetes.io/*")}, True),
    ({("approve", None, signing.SIGNER)}, False),
    ({("update", "approval", None)}, False),
])
def test_check_can_approve_asks_for_both_permissions(monkeypatch, granted, ok):
    api = signing.CsrApi(ApiClient())
    monkeypatch.setattr(api, "_allowed", lambda verb, resource, subresource=None, name=None:
                        (verb, subresource, name) in granted)
    if ok:
        api.check_can_approve(signing.SIGNER)
    else:
        with pytest.raises(PluginError, match="cannot approve"):
            api.check_can_approve(signing.SIGNER)


# -- the command line -------------------------------------------------------------------------------------------

def cli(capsys, *args):
    """``kubectl devns ARGS`` against a kubeconfig that does not exist: any API call would fail differently."""
    code = app.main(["--kubeconfig", "/nonexistent/kubeconfig", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args, says", [
    (["onboard", "system:admin"], 'error: invalid user "system:admin"'),
    (["onboard", ""], 'error: invalid user ""'),
    (["onboard", "a b"], "error: invalid user 'a b'"),
    (["onboard", USER, "--group", "system:masters"], 'error: refusing --group "system:masters"'),
    (["onboard", USER, "--cert-ttl", "5m"], "error: --cert-ttl 5m is too short: the certificates API issues "
                                            "nothing shorter than 10m (600 s)"),
    (["onboard", USER, "--cert-ttl", "1y"], "error: --cert-ttl: invalid duration '1y'"),
    (["onboard", USER, "--timeout", "soon"], "error: --timeout: invalid duration 'soon'"),
    (["onboard", USER, "-f", "/nonexistent/dir/x.kubeconfig"], "error: cannot write the kubeconfig"),
    (["token", "dev", "--service-account", "deployer", "--duration", "9m"], "error: --duration 9m is too short"),
    (["token", "dev", "--service-account", "deployer", "-f", "/nonexistent/dir/x"], "error: cannot write the"),
])
def test_bad_input_is_one_line_before_any_api_call(capsys, args, says):
    code, out, err = cli(capsys, *args)
    assert code == 1 and out == "" and err.startswith(says) and err.count("\n") == 1, err


def test_no_credentials_refuses_certificate_flags(capsys):
    code, _, err = cli(capsys, "onboard", USER, "--no-credentials", "--group", "devs", "-f", "x")
    assert code == 2 and "--no-credentials makes no certificate and no kubeconfig: -f, --group cannot go" in err


@pytest.mark.parametrize("command", ["onboard", "token"])
def test_help_has_examples(capsys, command):
    code, out, _ = cli(capsys, command, "--help")
    assert code == 0 and "Examples:" in out and f"kubectl devns {command} " in out


def test_parse_service_account():
    assert credentials.parse_service_account("deployer") == (None, "deployer")
    assert credentials.parse_service_account("ci:deployer") == ("ci", "deployer")


def test_report_says_expiry_handover_and_checks(tmp_path, calls):
    result = run(tmp_path, calls)
    request = Request(user=USER, name="dana-payments", path="dana.kubeconfig", timeout=5, cert_seconds=3600)
    text = credentials.onboard_report(request, result, dt.datetime.now(UTC))
    expires = result.issued.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"expires {expires} (in 1h)" in text
    assert "privately" in text and "private key" in text
    assert "KUBECONFIG=dana.kubeconfig kubectl auth whoami" in text
    assert "KUBECONFIG=dana.kubeconfig kubectl auth can-i create deployments" in text
    no_creds = run(tmp_path, [], cert_seconds=None, name="dana-dev")
    text = credentials.onboard_report(request, no_creds, dt.datetime.now(UTC))
    assert "kubectl config set-context --current --namespace dana-dev" in text
