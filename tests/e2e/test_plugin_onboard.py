"""``kubectl devns onboard`` and ``kubectl devns token`` on the real control plane, run as a user runs them
(kubectl's plugin discovery), with kube-controller-manager signing the certificates.

An admin onboards a developer from nothing; with only the kubeconfig written, the developer works in their
namespace and nowhere else. Re-running renews the certificate and touches nothing else. A ServiceAccount owner gets
a bound, expiring token, never a Secret. Every failure (bad input, a system: group, no right to approve, a denied
request, a signer that never answers, a DevNamespace that goes Failed) is one line and a non-zero exit, and leaves
nothing: no CSR, no kubeconfig, no new DevNamespace.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from kubernetes.client import AppsV1Api, CertificatesV1Api, RbacAuthorizationV1Api
from kubernetes.client.rest import ApiException

from devns.plugin.devnamespaces import default_name, slug
from devns.plugin.session import whoami
from support import devns_cli, gone, kubectl, unique
from testkit.audit import AuditLog
from testkit.clients import client
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")

CERT_TTL = dt.timedelta(hours=1)
#: kube-controller-manager backdates a certificate's validity by up to 5 minutes (for clock skew), and takes it off
#: the end too: notAfter lies between issue + ttl - 5m and issue + ttl.
BACKDATE = dt.timedelta(minutes=5)
SLACK = dt.timedelta(seconds=5)
IMAGE = "registry.k8s.io/pause:3.10"


# -- helpers --------------------------------------------------------------------------------------------------

def email(prefix: str) -> str:
    return f"{unique(prefix)}@example.com"


def devns_csrs(api) -> list[str]:
    """The CSRs onboard makes (devns-<user>-<random>) that exist now."""
    return [c.metadata.name for c in CertificatesV1Api(api).list_certificate_signing_request().items
            if c.metadata.name.startswith("devns-")]


def devnamespace_names(dns) -> set[str]:
    return {o["metadata"]["name"] for o in dns.custom.list_cluster_custom_object("devns.io", "v1alpha1",
                                                                                 "devnamespaces")["items"]}


def certificate_of(path: Path) -> x509.Certificate:
    user = yaml.safe_load(path.read_text())["users"][0]["user"]
    return x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))


def public_key_of(path: Path) -> bytes:
    user = yaml.safe_load(path.read_text())["users"][0]["user"]
    key = serialization.load_pem_private_key(base64.b64decode(user["client-key-data"]), password=None)
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def one_error(proc, says: str) -> None:
    """A failed run: non-zero exit, nothing on stdout, and exactly one ``error:`` line on stderr saying ``says``
    (besides, at most, the note that a --no-approve run waits for someone)."""
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("waiting up to ")]
    assert proc.returncode != 0 and proc.stdout == "", (proc.returncode, proc.stdout, proc.stderr)
    assert len(errors) == 1 and errors[0].startswith("error: ") and says in errors[0], proc.stderr


def delete_and_wait_gone(dns, *names: str) -> None:
    for name in names:
        with contextlib.suppress(ApiException):
            dns.delete(name)
    for name in names:
        wait_for(lambda n=name: gone(lambda: dns.get(n)), timeout=60, what=f"DevNamespace {name} gone")


def nothing_left(api, dns, folder: Path, before: set[str], deleted: list[str]) -> None:
    """No CSR, no file in ``folder``, no DevNamespace besides those in ``before`` but one this run created and
    deleted again: that one goes once the operator has deleted its namespace (``deleted`` waits for it at the
    module's end)."""
    assert devns_csrs(api) == []
    assert list(folder.iterdir()) == []
    items = dns.custom.list_cluster_custom_object("devns.io", "v1alpha1", "devnamespaces")["items"]
    new = [o["metadata"] for o in items if o["metadata"]["name"] not in before]
    assert all(meta.get("deletionTimestamp") for meta in new), [meta["name"] for meta in new]
    deleted.extend(meta["name"] for meta in new)


@pytest.fixture(scope="module")
def deleted(dns):
    """DevNamespaces this module deleted: waited for until gone at its end, all together (the operator deletes
    each namespace and everything in it first, which takes a few seconds)."""
    names: list[str] = []
    yield names
    delete_and_wait_gone(dns, *names)


@pytest.fixture
def created(dns, deleted):
    """DevNamespaces a test creates: deleted at its end."""
    names: list[str] = []
    yield names
    for name in names:
        with contextlib.suppress(ApiException):
            dns.delete(name)
    deleted.extend(names)


# -- onboarding from nothing ------------------------------------------------------------------------------------

@dataclass
class Onboarded:
    user: str
    name: str  # the DevNamespace, and its namespace
    kubeconfig: Path
    proc: object
    started: dt.datetime
    finished: dt.datetime


@pytest.fixture(scope="module")
def dana(binaries, kubeconfig, operator, dns, deleted, tmp_path_factory):
    """An admin onboards dana (team payments, group payments-devs, certificate for 1h) from nothing, in an empty
    folder, with the default file name."""
    home = tmp_path_factory.mktemp("dana-home")
    user = email("dana")
    name = default_name(user, "payments")
    started = dt.datetime.now(dt.timezone.utc)
    with contextlib.chdir(home):
        proc = devns_cli(binaries, kubeconfig, "onboard", user, "--team", "payments", "--group", "payments-devs",
                         "--cert-ttl", "1h")
    finished = dt.datetime.now(dt.timezone.utc)
    assert proc.returncode == 0, proc.stderr
    yield Onboarded(user, name, home / f"{slug(user)}.kubeconfig", proc, started, finished)
    dns.delete(name)
    deleted.append(name)


def test_onboarding_writes_only_a_0600_kubeconfig_and_leaves_no_csr(dana, api, dns):
    assert list(dana.kubeconfig.parent.iterdir()) == [dana.kubeconfig]  # no key file beside it
    assert stat.S_IMODE(dana.kubeconfig.stat().st_mode) == 0o600
    assert devns_csrs(api) == []
    config = yaml.safe_load(dana.kubeconfig.read_text())
    context = config["contexts"][0]
    assert config["current-context"] == context["name"] and context["context"]["namespace"] == dana.name
    assert dns.get(dana.name)["spec"]["owners"] == [{"kind": "User", "name": dana.user}]
    cert = certificate_of(dana.kubeconfig)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == dana.user
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["payments-devs"]
    assert dana.started + CERT_TTL - BACKDATE - SLACK <= cert.not_valid_after_utc <= dana.finished + CERT_TTL + SLACK
    out = dana.proc.stdout
    assert f"created: namespace {dana.name} is Ready" in out
    assert f"expires {cert.not_valid_after_utc.strftime('%Y-%m-%dT%H:%M:%SZ')}" in out
    assert "privately" in out and f"KUBECONFIG={dana.kubeconfig.name} kubectl auth whoami" in out


def test_the_developer_works_in_her_namespace_with_only_that_kubeconfig(dana, binaries, dns, api, created):
    mine = str(dana.kubeconfig)
    kubectl(binaries, mine, "create", "deployment", "web", f"--image={IMAGE}")  # no -n: the context's namespace
    kubectl(binaries, mine, "create", "service", "clusterip", "web", "--tcp=80:8080")
    assert AppsV1Api(api).read_namespaced_deployment("web", dana.name).spec.template.spec.containers[0].image == IMAGE
    assert dns.core.read_namespaced_service("web", dana.name).spec.ports[0].port == 80

    other = unique("other")
    created.append(other)
    dns.create(other, owners=[{"kind": "User", "name": email("bob")}])
    dns.wait_phase(other, "Ready")
    for args in (["create", "configmap", "x", "-n", other], ["get", "pods", "-n", other],
                 ["create", "namespace", unique("mine")], ["get", "secrets", "-n", "kube-system"],
                 ["get", "devnamespaces"]):
        refused = kubectl(binaries, mine, *args, check=False)
        assert refused.returncode != 0 and "forbidden" in refused.stderr, (args, refused.stderr)

    who = json.loads(kubectl(binaries, mine, "auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert who["username"] == dana.user and set(who["groups"]) == {"payments-devs", "system:authenticated"}
    assert kubectl(binaries, mine, "auth", "can-i", "create", "deployments").stdout.strip() == "yes"


#: All an onboarding run writes (as the admin): the CSR, its approval, its deletion, and the access reviews.
CSR_WRITES = {"create selfsubjectaccessreviews", "create certificatesigningrequests",
              "update certificatesigningrequests/approval", "delete certificatesigningrequests"}


def test_rerun_renews_the_certificate_and_touches_nothing_else(dana, binaries, kubeconfig, dns, api, cluster):
    mine = str(dana.kubeconfig)
    kubectl(binaries, mine, "create", "deployment", "keep", f"--image={IMAGE}")
    deployment = AppsV1Api(api).read_namespaced_deployment("keep", dana.name)
    before = dns.get(dana.name)
    old_cert, old_key = certificate_of(dana.kubeconfig), public_key_of(dana.kubeconfig)
    audit, admin = AuditLog(cluster.audit_log), whoami(api).username
    mark = audit.mark()

    with contextlib.chdir(dana.kubeconfig.parent):
        proc = devns_cli(binaries, kubeconfig, "onboard", dana.user, "--team", "payments", "--group",
                         "payments-devs", "--cert-ttl", "1h")
    assert proc.returncode == 0, proc.stderr
    assert "unchanged (reused as is)" in proc.stdout and "before stays valid until it expires" in proc.stdout

    new_cert = certificate_of(dana.kubeconfig)
    assert new_cert.serial_number != old_cert.serial_number and public_key_of(dana.kubeconfig) != old_key
    assert stat.S_IMODE(dana.kubeconfig.stat().st_mode) == 0o600
    assert list(dana.kubeconfig.parent.iterdir()) == [dana.kubeconfig] and devns_csrs(api) == []
    # The run wrote the CSR and nothing else: not the DevNamespace, not the namespace (the operator and the
    # deployment controller write status there on their own, so resourceVersions alone would not tell).
    writes = wait_for(lambda: {r.action for r in audit.writes(mark, admin)} >= {"delete certificatesigningrequests"}
                      and audit.writes(mark, admin), what="the rerun's requests in the audit log")
    assert {r.action for r in writes} <= CSR_WRITES, [str(r) for r in writes]
    assert not any(r.touches({dana.name}) for r in audit.requests(mark, admin) if r.is_write)
    after = dns.get(dana.name)
    assert after["spec"] == before["spec"] and after["metadata"]["generation"] == before["metadata"]["generation"]
    still = AppsV1Api(api).read_namespaced_deployment("keep", dana.name)
    assert (still.metadata.uid, still.metadata.generation) == (deployment.metadata.uid, deployment.metadata.generation)
    who = json.loads(kubectl(binaries, mine, "auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert who["username"] == dana.user


# -- a ServiceAccount's token -------------------------------------------------------------------------------------

def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_token_is_a_bound_expiring_kubeconfig_and_no_secret(binaries, kubeconfig, dns, created, tmp_path):
    name = unique("ci")
    created.append(name)
    dns.create(name, owners=[{"kind": "User", "name": email("dana")},
                             {"kind": "ServiceAccount", "name": "deployer", "namespace": name}])
    dns.wait_phase(name, "Ready")
    missing = devns_cli(binaries, kubeconfig, "token", name, "--service-account", "deployer", "-f",
                        str(tmp_path / "ci.kubeconfig"))
    one_error(missing, f"kubectl create serviceaccount deployer -n {name}")
    dns.core.create_namespaced_service_account(name, {"metadata": {"name": "deployer"}})
    not_owner = devns_cli(binaries, kubeconfig, "token", name, "--service-account", "builder")
    one_error(not_owner, f"add {{kind: ServiceAccount, name: builder, namespace: {name}}} to its spec.owners")
    assert list(tmp_path.iterdir()) == []
    secrets_before = {s.metadata.name for s in dns.core.list_namespaced_secret(name).items}
    tokens_before = len(dns.core.list_secret_for_all_namespaces(
        field_selector="type=kubernetes.io/service-account-token").items)

    asked = time.time()
    proc = devns_cli(binaries, kubeconfig, "token", name, "--service-account", "deployer", "--duration", "1h",
                     "-f", str(tmp_path / "ci.kubeconfig"))
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "ci.kubeconfig"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    claims = jwt_claims(config["users"][0]["user"]["token"])
    assert claims["exp"] - claims["iat"] == 3600 and asked - 5 <= claims["iat"] <= time.time() + 5
    expires = dt.datetime.fromtimestamp(claims["exp"], dt.timezone.utc)
    assert f"token expires {expires:%Y-%m-%dT%H:%M:%SZ}" in proc.stdout

    kubectl(binaries, str(path), "create", "configmap", "from-ci", "--from-literal=built=yes")  # no -n
    assert dns.core.read_namespaced_config_map("from-ci", name).data == {"built": "yes"}
    who = json.loads(kubectl(binaries, str(path), "auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert who["username"] == f"system:serviceaccount:{name}:deployer"
    assert {s.metadata.name for s in dns.core.list_namespaced_secret(name).items} == secrets_before
    assert len(dns.core.list_secret_for_all_namespaces(
        field_selector="type=kubernetes.io/service-account-token").items) == tokens_before


# -- failures: one line, non-zero, nothing left ---------------------------------------------------------------

@pytest.mark.parametrize("user, says", [
    ("system:admin", 'invalid user "system:admin"'),
    ("", 'invalid user ""'),
    ("a b", "invalid user 'a b': a user name has no spaces"),
])
def test_bad_users_are_refused_before_any_api_call(binaries, kubeconfig, api, dns, deleted, cluster, tmp_path, user,
                                                   says):
    before, audit = devnamespace_names(dns), AuditLog(cluster.audit_log)
    mark = audit.mark()
    with contextlib.chdir(tmp_path):
        proc = devns_cli(binaries, kubeconfig, "onboard", user, "--team", "payments")
    ended = time.time()
    one_error(proc, says)
    nothing_left(api, dns, tmp_path, before, deleted)
    assert audit.requests(mark, whoami(api).username, until=ended) == []


def test_attack_a_system_masters_certificate_is_never_requested(binaries, kubeconfig, api, dns, deleted, cluster,
                                                                tmp_path):
    before, audit = devnamespace_names(dns), AuditLog(cluster.audit_log)
    mark = audit.mark()
    proc = devns_cli(binaries, kubeconfig, "onboard", email("mallory"), "--group", "system:masters",
                     "-f", str(tmp_path / "root.kubeconfig"))
    ended = time.time()
    one_error(proc, 'refusing --group "system:masters"')
    nothing_left(api, dns, tmp_path, before, deleted)
    assert audit.requests(mark, whoami(api).username, until=ended) == []  # not even a CSR created and deleted


@pytest.fixture
def helpdesk(cluster, api):
    """An admin who may create, read and delete CSRs and DevNamespaces, but not approve CSRs."""
    user, rbac = unique("helpdesk"), RbacAuthorizationV1Api(api)
    rbac.create_cluster_role({"metadata": {"name": user}, "rules": [
        {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"],
         "verbs": ["create", "get", "list", "watch", "delete"]},
        {"apiGroups": ["devns.io"], "resources": ["devnamespaces"], "verbs": ["get", "list", "create", "delete"]}]})
    rbac.create_cluster_role_binding({"metadata": {"name": user}, "roleRef": {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": user},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})
    path = cluster.kubeconfig_for(user)
    mine = client(path)
    wait_for(lambda: CertificatesV1Api(mine).list_certificate_signing_request(), what="the helpdesk's RBAC in effect")
    yield user, str(path)
    rbac.delete_cluster_role_binding(user)
    rbac.delete_cluster_role(user)


def test_no_right_to_approve_names_the_permission_and_creates_nothing(helpdesk, binaries, api, dns, deleted, cluster,
                                                                      tmp_path):
    user, path = helpdesk
    before, audit = devnamespace_names(dns), AuditLog(cluster.audit_log)
    mark = audit.mark()
    proc = devns_cli(binaries, path, "onboard", email("dana"), "-f", str(tmp_path / "x.kubeconfig"))
    one_error(proc, "update on certificatesigningrequests/approval and approve on "
                    "signers/kubernetes.io/kube-apiserver-client (API group certificates.k8s.io)")
    nothing_left(api, dns, tmp_path, before, deleted)
    writes = [str(r) for r in audit.writes(mark, user) if r.resource != "selfsubjectaccessreviews"]
    assert writes == []  # found out before anything was created


def deny_when_it_appears(api, prefix: str) -> str:
    certs = CertificatesV1Api(api)
    name = wait_for(lambda: next((n for n in devns_csrs(api) if n.startswith(prefix)), None), timeout=30,
                    interval=0.05, what=f"a CSR {prefix}*")
    body = api.sanitize_for_serialization(certs.read_certificate_signing_request(name))
    body.setdefault("status", {})["conditions"] = [{"type": "Denied", "status": "True", "reason": "NotOnTheList",
                                                    "message": "no such developer"}]
    certs.replace_certificate_signing_request_approval(name, body)
    return name


def test_a_denied_request_leaves_nothing(binaries, kubeconfig, api, dns, deleted, tmp_path):
    user, before = email("dana"), devnamespace_names(dns)
    with ThreadPoolExecutor(1) as pool:
        run = pool.submit(devns_cli, binaries, kubeconfig, "onboard", user, "--no-approve", "--timeout", "30s",
                          "-f", str(tmp_path / "x.kubeconfig"))
        denied = deny_when_it_appears(api, f"devns-{slug(user)}-")
        proc = run.result()
    one_error(proc, f'certificate signing request "{denied}" was denied: NotOnTheList: no such developer; '
                    f"deleted DevNamespace {default_name(user, None)} again")
    nothing_left(api, dns, tmp_path, before, deleted)


def test_a_signer_that_never_answers_times_out_with_the_conditions(binaries, kubeconfig, api, dns, deleted, tmp_path):
    before = devnamespace_names(dns)
    proc = devns_cli(binaries, kubeconfig, "onboard", email("dana"), "--signer", "example.com/nobody",
                     "--timeout", "3s", "-f", str(tmp_path / "x.kubeconfig"))
    one_error(proc, "has no certificate after 3 s (conditions: Approved=True (KubectlDevnsOnboard")
    assert "is a signer for example.com/nobody running?" in proc.stderr
    nothing_left(api, dns, tmp_path, before, deleted)


def test_a_devnamespace_that_goes_failed_is_deleted_again(binaries, kubeconfig, api, dns, deleted, tmp_path):
    before, name = devnamespace_names(dns), unique("protected")  # protected-*: reserved in the e2e operator
    proc = devns_cli(binaries, kubeconfig, "onboard", email("dana"), "--name", name, "-f",
                     str(tmp_path / "x.kubeconfig"))
    one_error(proc, f'DevNamespace "{name}" is not Ready: ReservedNamespace')
    assert f"deleted DevNamespace {name} again" in proc.stderr
    nothing_left(api, dns, tmp_path, before, deleted)


def test_an_existing_failed_devnamespace_is_reported_and_left_as_is(binaries, kubeconfig, api, dns, created, deleted,
                                                                     tmp_path):
    user = email("dana")
    name = default_name(user, "payments")
    created.append(name)
    dns.create(name, owners=[{"kind": "User", "name": user}], role="cluster-admin")  # not an allowed role
    version = dns.wait_phase(name, "Failed")["metadata"]["resourceVersion"]
    before = devnamespace_names(dns)
    proc = devns_cli(binaries, kubeconfig, "onboard", user, "--team", "payments", "-f", str(tmp_path / "x"))
    one_error(proc, f'DevNamespace "{name}" is not Ready: RoleNotAllowed')
    nothing_left(api, dns, tmp_path, before, deleted)
    assert dns.get(name)["metadata"]["resourceVersion"] == version


def test_someone_elses_devnamespace_is_refused_and_left_as_is(binaries, kubeconfig, api, dns, created, deleted,
                                                              tmp_path):
    user, bob = email("dana"), email("bob")
    name = default_name(user, None)
    created.append(name)
    dns.create(name, owners=[{"kind": "User", "name": bob}])
    version = dns.wait_phase(name, "Ready")["metadata"]["resourceVersion"]
    before = devnamespace_names(dns)
    proc = devns_cli(binaries, kubeconfig, "onboard", user, "-f", str(tmp_path / "x"))
    one_error(proc, f'DevNamespace "{name}" exists and is not owned by User "{user}" (owners: User {bob})')
    nothing_left(api, dns, tmp_path, before, deleted)
    assert dns.get(name)["metadata"]["resourceVersion"] == version
