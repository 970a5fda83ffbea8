"""`kubectl devns create` without a cluster: the self-service limits as read from their ConfigMap, the name patterns
filled in as the admission policy fills them, the prompts (a fake person answers) and their checks, owners from
--owner and from who I am, and the client-side check with the operator's model. A client dry run with --owner and
NAME makes no API call at all: the kubeconfig it is given does not even exist."""

from __future__ import annotations

import datetime as dt

import click
import pytest
from click.testing import CliRunner

from devns.plugin.app import cli
from devns.plugin.create import Fields, ask, check_name, check_ttl, checked_body, parse_owner
from devns.plugin.devnamespaces import default_name, owner_for, slug
from devns.plugin.errors import PluginError
from devns.plugin.limits import (Limits, default_ttl, describe, name_allowed, name_patterns, parse_limits,
                                 suggest_name)
from devns.plugin.session import Identity, Session

#: As manifests/optional/self-service/self-service-limits.yaml ships them (the keys create reads).
SHIPPED = {"maxTTL": "14d", "namespaceNames": "{user}-*,{group}-*", "maxPerRequester": "5",
           "quota.requests.cpu": "4", "quota.requests.memory": "8Gi", "quota.pods": "50",
           "quota.requests.nvidia.com_gpu": "1", "adminGroups": "devns:admins"}
ALICE = Identity("alice.smith@example.com", ("team-a", "system:authenticated"))


def test_the_limits_configmap_is_parsed_with_its_spelling():
    limits = parse_limits(SHIPPED)
    assert limits.max_ttl == "14d" and limits.max_ttl_delta == dt.timedelta(days=14)
    assert limits.names == ("{user}-*", "{group}-*")
    assert limits.quota == {"pods": "50", "requests.cpu": "4", "requests.memory": "8Gi",
                            "requests.nvidia.com/gpu": "1"}
    assert limits.max_per_requester == "5"
    assert parse_limits(None) == Limits() and Limits(max_ttl="forever").max_ttl_delta is None


def test_name_patterns_are_filled_in_as_the_policy_does():
    assert name_patterns(("{user}-*", "{group}-*"), ALICE.username, ALICE.groups) == ["alice-smith-*", "team-a-*"]
    # a ServiceAccount is <namespace>-<name>; system: groups never count; a group keeps what follows '@'
    assert name_patterns(("{user}-*", "{group}-*"), "system:serviceaccount:ci:deployer",
                         ("system:serviceaccounts", "Ops@Example.com")) == ["ci-deployer-*", "ops-example-com-*"]
    assert name_patterns(("dev-{user}-*", "*"), "bob", ()) == ["dev-bob-*", "*"]
    assert name_patterns(("{group}-*", "bad pattern!"), "bob", ()) == []


@pytest.mark.parametrize("name, allowed", [("alice-smith-x", True), ("alice-smith-", True), ("team-a-ci", True),
                                           ("alice-smithy", False), ("bob-x", False), ("xalice-smith-1", False)])
def test_a_name_is_allowed_when_it_matches_a_pattern(name, allowed):
    assert name_allowed(name, ["alice-smith-*", "team-a-*"]) is allowed


def test_the_name_offered_follows_the_patterns():
    assert suggest_name("alice-smith-a", ["alice-smith-*"], "a") == "alice-smith-a"
    assert suggest_name("alice-smith-a", ["dev-alice-smith-*"], "a") == "dev-alice-smith-a"
    assert suggest_name("alice-smith-dev", [], "dev") == "alice-smith-dev"
    assert suggest_name("x-dev", ["fixed"], "dev") == "fixed"


def test_with_other_patterns_the_default_name_is_one_they_allow():
    person = Person("payments", "", "", "")
    limits = parse_limits({**SHIPPED, "namespaceNames": "dev-{user}-*"})
    assert ask(Fields(), limits, ALICE, prompt=person, echo=lambda _: None).name == "dev-alice-smith-payments"
    assert person.asked[1] == ("name (must match dev-alice-smith-*)", "dev-alice-smith-payments")


def test_slug_default_name_and_owner_for_people_and_service_accounts():
    assert slug("alice.smith@example.com") == "alice-smith"
    assert slug("system:serviceaccount:ci:deployer") == "ci-deployer"
    assert default_name("system:serviceaccount:ci:deployer", None) == "ci-deployer-dev"
    assert default_name(ALICE.username, "Payments") == "alice-smith-payments"
    assert owner_for("system:serviceaccount:ci:deployer") == {"kind": "ServiceAccount", "name": "deployer",
                                                              "namespace": "ci"}
    assert owner_for(ALICE.username) == {"kind": "User", "name": ALICE.username}


def test_describe_names_every_limit_a_person_must_respect():
    limits = parse_limits(SHIPPED)
    assert describe(limits, ["alice-smith-*"]) == [
        "lifetime: at most 14d", "names: alice-smith-*",
        "quota at most: pods 50, requests.cpu 4, requests.memory 8Gi, requests.nvidia.com/gpu 1",
        "DevNamespaces per developer: at most 5"]
    assert describe(Limits(), []) == ["lifetime: no maximum"]


def test_the_ttl_offered_is_a_week_or_the_maximum_when_shorter():
    assert default_ttl(parse_limits(SHIPPED)) == "7d"
    assert default_ttl(Limits(max_ttl="2d")) == "2d"
    assert default_ttl(Limits()) is None and default_ttl(None) is None


@pytest.mark.parametrize("text, owner", [
    ("User:alice@example.com", {"kind": "User", "name": "alice@example.com"}),
    ("group:team-a", {"kind": "Group", "name": "team-a"}),
    ("User:oidc:alice", {"kind": "User", "name": "oidc:alice"}),
    ("ServiceAccount:ci:deployer", {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}),
    ("sa:ci:deployer", {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}),
])
def test_owner_flags(text, owner):
    assert parse_owner(text) == owner


@pytest.mark.parametrize("text", ["alice", "Robot:x", "User:", "ServiceAccount:deployer"])
def test_bad_owner_flags(text):
    with pytest.raises(ValueError, match="User:NAME|ServiceAccount:NAMESPACE:NAME"):
        parse_owner(text)


class Person:
    """Answers prompts in order like click.prompt does: Enter takes the default, a refused answer is asked again."""

    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.asked: list[tuple[str, str]] = []  # (prompt, default shown)
        self.errors: list[str] = []

    def __call__(self, text, default=None, show_default=True, value_proc=None, err=False):
        assert err, "prompts go to stderr, so that -o yaml on stdout stays clean"
        while True:
            self.asked.append((text, default if show_default else ""))
            answer = self.answers.pop(0) or default
            try:
                return value_proc(answer)
            except click.BadParameter as exc:
                self.errors.append(exc.message)


def test_prompts_show_the_limits_and_ask_for_what_is_missing():
    person, shown = Person("payments", "", "checkout demo", "20d", "never", "3d"), []
    fields = ask(Fields(), parse_limits(SHIPPED), ALICE, prompt=person, echo=shown.append)
    assert fields == Fields(name="alice-smith-payments", team="payments", purpose="checkout demo", ttl="3d")
    assert shown[0] == "Self-service limits (devns-system/devns-self-service):"
    assert "  lifetime: at most 14d" in shown and "  names: alice-smith-*, team-a-*" in shown
    assert [text for text, _ in person.asked] == [
        "team (optional, Enter to skip)", "name (must match alice-smith-*, team-a-*)",
        "purpose (optional, Enter to skip)", "ttl (at most 14d)", "ttl (at most 14d)", "ttl (at most 14d)"]
    assert person.asked[1][1] == "alice-smith-payments" and person.asked[3][1] == "7d"
    assert person.errors == ["20d is longer than the maximum of 14d", "ttl never is not allowed: the maximum is 14d"]


def test_enter_skips_the_optional_prompts_and_a_bad_name_is_asked_again():
    person = Person("", "bob-x", "Alice-Smith-X", "alice-smith-x", "", "")
    fields = ask(Fields(), parse_limits(SHIPPED), ALICE, prompt=person, echo=lambda _: None)
    assert fields == Fields(name="alice-smith-x", team=None, purpose=None, ttl="7d")
    assert person.errors[0] == "bob-x does not match alice-smith-*, team-a-*"
    assert person.errors[1].startswith("a DevNamespace (and its namespace) name is at most 63 lower-case letters")


def test_fields_given_on_the_command_line_are_not_asked():
    person = Person("3d")
    fields = ask(Fields(name="alice-smith-x", team="a", purpose="p"), parse_limits(SHIPPED), ALICE, prompt=person,
                 echo=lambda _: None)
    assert [text for text, _ in person.asked] == ["ttl (at most 14d)"] and fields.ttl == "3d"


def test_without_readable_limits_it_still_asks_and_says_why_there_are_no_hints():
    person, shown = Person("", "", "", ""), []
    fields = ask(Fields(), None, ALICE, prompt=person, echo=shown.append)
    assert "are not readable for you; the API server still applies them" in shown[0]
    assert person.asked[1] == ("name", "alice-smith-dev")
    assert person.asked[3][0] == "ttl (e.g. 90m, 3d, 2w; Enter for the platform's default)"
    assert fields == Fields(name="alice-smith-dev")


def test_a_team_the_model_refuses_is_asked_again():
    person = Person("not a team!", "ok", "", "", "")
    assert ask(Fields(), parse_limits(SHIPPED), ALICE, prompt=person, echo=lambda _: None).team == "ok"
    assert person.errors[0].startswith("spec.team:")


def test_checks_without_limits():
    assert check_ttl(None)("never") is None and check_ttl(None)("99d") is None
    assert check_ttl(None)("3x").startswith("spec.ttl: invalid duration '3x'")
    assert check_name([])("anything-goes") is None


def test_checked_body_refuses_what_the_operator_would_refuse():
    owners = [owner_for(ALICE.username)]
    obj = checked_body("alice-smith-x", owners, Fields(team="a", ttl="3d"))
    assert obj["spec"] == {"owners": owners, "team": "a", "ttl": "3d"}
    assert checked_body("alice-smith-x", owners, Fields(class_="team"))["spec"]["class"] == "team"
    with pytest.raises(PluginError, match=r"spec.class: String should match pattern"):
        checked_body("alice-smith-x", owners, Fields(class_="Not A Class"))
    with pytest.raises(PluginError, match=r"invalid DevNamespace alice-smith-x: spec.ttl: invalid duration '3x'"):
        checked_body("alice-smith-x", owners, Fields(ttl="3x"))
    with pytest.raises(PluginError, match='invalid name "Alice"'):
        checked_body("Alice", owners, Fields())
    with pytest.raises(PluginError, match="owners cannot be system: users"):
        checked_body("x", [owner_for("system:admin")], Fields())


def test_a_client_dry_run_with_owner_and_name_calls_no_api(tmp_path):
    missing = tmp_path / "no-such-kubeconfig"
    result = CliRunner().invoke(cli, ["create", "alice-smith-x", "--owner", "User:alice@example.com", "--ttl", "3d",
                                      "--team", "a", "--dry-run=client", "-o", "json"],
                                obj=Session(kubeconfig=str(missing)))
    assert result.exit_code == 0, result.output
    assert '"ttl": "3d"' in result.output and '"name": "alice-smith-x"' in result.output
    plain = CliRunner().invoke(cli, ["create", "x", "--owner", "Group:team-a", "--dry-run=client"],
                               obj=Session(kubeconfig=str(missing)))
    assert plain.output == "devnamespace.devns.io/x created (dry run)\n"
