"""The developer commands of `kubectl devns` (create, list, status, extend, delete) run as a developer runs them:
through kubectl's plugin discovery, with a client-certificate kubeconfig of their own and only the rights the
self-service component grants (manifests/optional/self-service, applied for this module by the ``self_service``
fixture) plus the namespace role devns gives owners. Prompts and confirmations are driven through a
pseudo-terminal (pexpect), as a person at a keyboard would answer them; from a script nothing is asked.

Each test has developers of its own (unique user names, so their name patterns and per-developer limits do not
meet); every DevNamespace they create is named in ``created`` and deleted at the end of the module.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from dataclasses import dataclass

import pexpect
import pytest
import yaml

from devns.plugin.devnamespaces import slug
from devns.plugin.show import DEVNAMESPACE_EVENTS_HIDDEN
from devns.units import format_time, parse_duration, parse_time
from support import devns_cli, devns_pty, gone, unique
from testkit.audit import AuditLog
from testkit.waiting import wait_for

pytestmark = pytest.mark.usefixtures("self_service")

HEADER = ["NAME", "NAMESPACE", "PHASE", "EXPIRES", "CPU", "MEMORY", "PODS"]
#: What the namespace role devns gives owners (edit) allows of what status asks.
OWNER_ACCESS = {"create deployments": True, "create pods": True, "get secrets": True, "create rolebindings": False}


@dataclass(frozen=True)
class Developer:
    user: str
    kubeconfig: str

    @property
    def slug(self) -> str:
        """What the self-service name patterns call {user}: their DevNamespaces' names start with it."""
        return slug(self.user)


@pytest.fixture(scope="module")
def developer(cluster):
    """A new developer: a unique user name, in ``groups``, with a client-certificate kubeconfig of their own."""
    def make(prefix: str, groups: tuple[str, ...] = ()) -> Developer:
        user = f"{unique(prefix)}@example.com"
        return Developer(user, str(cluster.kubeconfig_for(user, groups)))
    return make


@pytest.fixture
def run(binaries):
    """``kubectl devns ARGS`` as ``dev``, from a script (stdin is no terminal)."""
    return lambda dev, *args: devns_cli(binaries, dev.kubeconfig, *args)


def one_error(proc: subprocess.CompletedProcess, *says: str) -> None:
    """It failed with one line on stderr holding every text of ``says``, and printed nothing on stdout."""
    assert proc.returncode != 0 and proc.stdout == "", (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and all(s in lines[0] for s in says), proc.stderr


def cells(line: str) -> list[str]:
    """The cells of a table line (columns are three spaces or more apart; a quota cell holds one space)."""
    return re.split(r" {3,}", line.strip())


def create(run, dev: Developer, created: list[str], name: str, *args: str) -> None:
    created.append(name)
    proc = run(dev, "create", name, *args)
    assert proc.returncode == 0, proc.stderr


def finished(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


# -- create -------------------------------------------------------------------------------------------------------

def test_create_on_a_terminal_shows_the_limits_and_asks_for_what_is_missing(binaries, developer, dns, created):
    dev = developer("erin", groups=("team-e",))
    name = f"{dev.slug}-payments"
    created.append(name)
    child = devns_pty(binaries, dev.kubeconfig, "create")
    child.expect_exact("Self-service limits (devns-system/devns-self-service):")
    child.expect_exact("lifetime: at most 14d")
    child.expect_exact(f"names: {dev.slug}-*, team-e-*")
    child.expect_exact("quota at most: limits.cpu 8, limits.memory 16Gi, pods 50, requests.cpu 4, requests.memory 8Gi")
    child.expect_exact("DevNamespaces per developer: at most 5")
    child.expect_exact("team (optional, Enter to skip): ")
    child.sendline("payments")
    child.expect_exact(f"name (must match {dev.slug}-*, team-e-*) [{name}]: ")  # the default follows the team
    child.sendline("")
    child.expect_exact("purpose (optional, Enter to skip): ")
    child.sendline("plugin e2e")
    child.expect_exact("ttl (at most 14d) [7d]: ")
    child.sendline("30d")
    child.expect_exact("Error: 30d is longer than the maximum of 14d")
    child.expect_exact("ttl (at most 14d) [7d]: ")
    child.sendline("2d")
    child.expect_exact(f"devnamespace.devns.io/{name} created: namespace {name} is Ready (expires in 2d)")
    child.expect_exact(f"kubectl config set-context --current --namespace {name}")
    assert finished(child) == 0
    obj = dns.get(name)
    assert {k: obj["spec"].get(k) for k in ("owners", "team", "purpose", "ttl")} == {
        "owners": [{"kind": "User", "name": dev.user}], "team": "payments", "purpose": "plugin e2e", "ttl": "2d"}
    assert obj["status"]["phase"] == "Ready"


def test_from_a_script_create_asks_nothing_and_prints_the_refusal_as_is(developer, run, dns):
    dev = developer("finn")
    one_error(run(dev, "create"), "Error from server (Forbidden): ",
              "self-service DevNamespaces must expire: set spec.ttl (at most 14d) or spec.expiresAt")
    one_error(run(dev, "create", "--ttl", "30d"), "ttl 30d is longer than the self-service maximum of 14d")
    one_error(run(dev, "create", "finn-of-someone-else", "--ttl", "1d"),
              "namespace finn-of-someone-else does not follow the self-service naming rule")
    assert gone(lambda: dns.get(f"{dev.slug}-dev"))


def test_a_client_dry_run_writes_nothing_and_kubectl_apply_takes_it(binaries, cluster, developer, run, dns, created):
    dev = developer("gwen")
    name = f"{dev.slug}-gitops"
    audit = AuditLog(cluster.audit_log)
    mark = audit.mark()
    proc = run(dev, "create", name, "--ttl", "1d", "--team", "gitops", "--dry-run=client", "-o", "yaml")
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout) == {
        "apiVersion": "devns.io/v1alpha1", "kind": "DevNamespace", "metadata": {"name": name},
        "spec": {"owners": [{"kind": "User", "name": dev.user}], "team": "gitops", "ttl": "1d"}}
    sent = wait_for(lambda: audit.requests(mark, dev.user), what=f"{dev.user}'s requests in the audit log")
    assert [r.action for r in sent] == ["create selfsubjectreviews"], "only who am I: no DevNamespace write"
    assert gone(lambda: dns.get(name))

    created.append(name)
    applied = subprocess.run([str(binaries.kubectl), "--kubeconfig", dev.kubeconfig, "apply", "-f", "-"],
                             input=proc.stdout, capture_output=True, text=True, timeout=60)
    assert applied.returncode == 0 and f"devnamespace.devns.io/{name} created" in applied.stdout, applied.stderr
    dns.wait_phase(name, "Ready")


def test_a_server_dry_run_is_judged_by_admission_and_saves_nothing(developer, run, dns):
    dev = developer("hugo")
    name = f"{dev.slug}-probe"
    proc = run(dev, "create", name, "--ttl", "1d", "--dry-run=server")
    assert proc.returncode == 0 and proc.stdout == f"devnamespace.devns.io/{name} created (server dry run)\n"
    one_error(run(dev, "create", name, "--ttl", "15d", "--dry-run=server"),
              "ttl 15d is longer than the self-service maximum of 14d")
    assert gone(lambda: dns.get(name))


# -- list -----------------------------------------------------------------------------------------------------------

def test_list_mine_shows_each_developer_only_theirs_with_quota_usage(developer, run, created):
    hana, ivan = developer("hana"), developer("ivan")
    for dev in (hana, ivan):
        create(run, dev, created, f"{dev.slug}-dev", "--ttl", "1d")
    for me, other in ((hana, ivan), (ivan, hana)):
        proc = run(me, "list", "--mine")
        assert proc.returncode == 0, proc.stderr
        header, *rows = proc.stdout.splitlines()
        assert cells(header) == HEADER
        assert [cells(r) for r in rows] == [[f"{me.slug}-dev", f"{me.slug}-dev", "Ready", "in 1d", "0/2 [-----]",
                                             "0/4Gi [-----]", "0/50 [-----]"]]
        everyone = {cells(r)[0]: cells(r) for r in run(me, "list").stdout.splitlines()[1:]}
        assert everyone[f"{other.slug}-dev"][4:] == ["-", "-", "-"], "another developer's quota is not mine to read"
        assert everyone[f"{me.slug}-dev"][4] == "0/2 [-----]"


def test_list_output_formats(developer, run, created):
    jack = developer("jack")
    name = f"{jack.slug}-dev"
    create(run, jack, created, name, "--ttl", "1d", "--team", "formats")
    as_json = json.loads(run(jack, "list", "--mine", "-o", "json").stdout)
    assert as_json["kind"] == "List" and [o["metadata"]["name"] for o in as_json["items"]] == [name]
    as_yaml = yaml.safe_load(run(jack, "list", "--mine", "-o", "yaml").stdout)
    assert [o["spec"]["team"] for o in as_yaml["items"]] == ["formats"]
    assert run(jack, "list", "--mine", "-o", "name").stdout == f"devnamespace.devns.io/{name}\n"
    header, row = run(jack, "list", "--mine", "-A", "-o", "wide").stdout.splitlines()
    assert cells(header) == HEADER + ["OWNERS", "TEAM", "CLASS", "AGE"]
    assert cells(row)[7:9] == [f"User:{jack.user}", "formats"]

    nobody = developer("kim")
    empty = run(nobody, "list", "--mine")
    assert (empty.returncode, empty.stdout, empty.stderr) == (0, "", "No DevNamespaces found.\n")
    assert json.loads(run(nobody, "list", "--mine", "-o", "json").stdout)["items"] == []


# -- status ---------------------------------------------------------------------------------------------------------

def test_status_shows_conditions_quota_limits_access_and_events(binaries, kubeconfig, developer, run, created):
    dev = developer("lola")
    name = f"{dev.slug}-dev"
    create(run, dev, created, name, "--ttl", "1d", "--purpose", "status e2e")
    def settled() -> dict | None:
        """The report once RBAC answers with the owners' role (edit), moments after the operator's RoleBinding."""
        report = json.loads(run(dev, "status", name, "-o", "json").stdout)
        return report if report["access"] == OWNER_ACCESS else None

    report = wait_for(settled, what="the owner's access in the namespace")
    assert report["phase"] == "Ready" and report["purpose"] == "status e2e"
    assert report["quota"]["requests.cpu"]["hard"] == "2" and report["quota"]["pods"]["hard"] == "50"
    assert report["limits"][0]["default"]["cpu"] == "500m"
    assert report["notes"] == [DEVNAMESPACE_EVENTS_HIDDEN]

    out = run(dev, "status", name).stdout.splitlines()
    assert "Phase:         Ready" in out and f"Owners:        User {dev.user}" in out
    assert f"Expires:       {report['expiresAt']} (in 1d)" in out
    assert any(re.fullmatch(r"  Ready +True +Provisioned +\S+ +namespace \S+ is ready", line) for line in out), out
    assert any(re.fullmatch(r"  requests\.cpu +0/2 \[-{10}\]", line) for line in out), out
    assert "  create deployments    yes" in out and "  create rolebindings   no" in out
    assert f"  {DEVNAMESPACE_EVENTS_HIDDEN}" in out

    # An admin also reads the DevNamespace's own Events: those kubectl describe shows (posted in the background).
    admin = lambda: json.loads(devns_cli(binaries, kubeconfig, "status", name, "-o", "json").stdout)  # noqa: E731
    wait_for(lambda: any(e["object"] == f"DevNamespace/{name}" and e["reason"] == "Provisioned"
                         for e in admin()["events"]), what="the Provisioned Event in the admin's status")


# -- extend and delete ------------------------------------------------------------------------------------------------

def test_extend_within_the_limit_and_the_policys_refusal_beyond_it(developer, run, dns, created):
    dev = developer("milo")
    name = f"{dev.slug}-dev"
    create(run, dev, created, name, "--ttl", "2d")
    born = parse_time(dns.get(name)["metadata"]["creationTimestamp"])

    more = run(dev, "extend", name, "1d")
    assert more.returncode == 0, more.stderr
    assert more.stdout == (f"devnamespace.devns.io/{name} extended (ttl 3d): expires in 3d, at "
                           f"{format_time(born + dt.timedelta(days=3))}\n")
    wait_for(lambda: dns.get(name)["status"]["expiresAt"] == format_time(born + dt.timedelta(days=3)),
             what="the operator's new expiry")

    one_error(run(dev, "extend", name, "12d"), "Error from server (Forbidden): ",
              "ttl 2w1d is longer than the self-service maximum of 14d")
    assert dns.get(name)["spec"]["ttl"] == "3d"

    again = run(dev, "extend", name)  # the lifetime counted again from now: 3d + the time since creation
    assert again.returncode == 0, again.stderr
    ttl = dns.get(name)["spec"]["ttl"]
    assert dt.timedelta(days=3) < parse_duration(ttl) <= dt.timedelta(days=3, minutes=5), ttl
    assert f"extended (ttl {ttl}): expires in 3d" in again.stdout


def test_delete_asks_on_a_terminal_and_only_owners_may(binaries, developer, run, dns, created):
    nina, omar = developer("nina"), developer("omar")
    name = f"{nina.slug}-dev"
    create(run, nina, created, name, "--ttl", "1d")

    child = devns_pty(binaries, nina.kubeconfig, "delete", name)
    child.expect_exact(f'Delete DevNamespace "{name}" and namespace "{name}" with everything in it? [y/N]: ')
    child.sendline("n")
    child.expect_exact(f'Not deleted: DevNamespace "{name}" is left as it was.')
    assert finished(child) == 1
    assert "deletionTimestamp" not in dns.get(name)["metadata"] and dns.core.read_namespace(name)

    one_error(run(omar, "delete", name, "--yes"), f"{omar.user} is not an owner of DevNamespace {name}: only its "
                                                  "owners or a devns admin may delete it")

    proc = run(nina, "delete", name, "--yes")
    assert (proc.returncode, proc.stdout) == (0, f'devnamespace.devns.io "{name}" deleted\n'), proc.stderr
    assert gone(lambda: dns.get(name)) and gone(lambda: dns.core.read_namespace(name)), "it waited until gone"


# -- bad input --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (("create", "--ttl", "3x"), "error: invalid DevNamespace {me}-dev: spec.ttl: invalid duration '3x'"),
    (("create", "{me}-Caps", "--ttl", "1d"), 'error: invalid name "{me}-Caps"'),
    (("status", "{missing}"), 'error: DevNamespace "{missing}" not found'),
    (("extend", "{missing}", "1d"), 'error: DevNamespace "{missing}" not found'),
    (("delete", "{missing}", "--yes"), 'error: DevNamespace "{missing}" not found'),
], ids=["bad-ttl", "bad-name", "status-unknown", "extend-unknown", "delete-unknown"])
def test_bad_input_is_one_clear_line_and_a_non_zero_exit(developer, run, dns, args, says):
    dev = developer("pia")
    values = {"me": dev.slug, "missing": unique("no-such")}
    one_error(run(dev, *(a.format(**values) for a in args)), says.format(**values))
    assert gone(lambda: dns.get(f"{dev.slug}-dev"))
