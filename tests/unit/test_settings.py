"""devns.settings: operator configuration from DEVNS_* environment variables."""

import datetime as dt

import pytest
from pydantic import ValidationError

from devns.settings import Settings, optional_duration


# -- defaults and validation --------------------------------------------------------------------------------------

def test_defaults_are_valid():
    s = Settings()
    assert s.operator_namespace == "devns-system"
    assert s.allowed_roles == ["edit", "view"]
    assert s.default_role == "edit"
    assert s.allow_privileged is False
    assert s.default_quota["services.nodeports"] == "0"
    assert s.default_quota["services.loadbalancers"] == "0"
    assert s.warn_before == ["24h", "1h"]


def test_default_role_not_in_allowed_roles_refused():
    with pytest.raises(ValidationError, match="default_role 'admin' is not in allowed_roles"):
        Settings(default_role="admin")


def test_default_role_in_custom_allowed_roles_accepted():
    assert Settings(allowed_roles=["admin"], default_role="admin").default_role == "admin"


@pytest.mark.parametrize("field", [
    {"default_ttl": "soon"}, {"max_ttl": "0s"}, {"warn_before": ["24h", "1 day"]}, {"expired_retention": "-1h"},
    {"stuck_terminating_after": "5 minutes"},
    {"default_quota": {"pods": "lots"}}, {"default_limits": {"max": {"cpu": "2 cores"}}}, {"worker_limit": 0},
])
def test_invalid_values_refused(field):
    with pytest.raises(ValidationError):
        Settings(**field)


def test_settings_are_frozen():
    s = Settings()
    with pytest.raises(ValidationError):
        s.dry_run = True


# -- reserved namespaces ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public", "kube-anything", "devns-system"])
def test_always_reserved(namespace):
    assert Settings().is_reserved(namespace)


@pytest.mark.parametrize("namespace", ["alice", "kube", "kubernetes", "default2", "devns-system2", "alice-monitoring",
                                       "system", "payments-dev"])
def test_ordinary_namespaces_not_reserved(namespace):
    assert not Settings().is_reserved(namespace)


@pytest.mark.parametrize("namespace", ["argocd", "cert-manager", "ingress-nginx", "monitoring", "flux-system",
                                       "gatekeeper-system", "istio-system", "istio-ingress", "openshift-config",
                                       "cattle-system", "kubernetes-dashboard", "my-kube-system", "velero"])
def test_commonly_installed_namespaces_reserved_by_default(namespace):
    assert Settings().is_reserved(namespace)
    assert not Settings(reserved_namespaces=[]).is_reserved(namespace)  # a value replaces the default


def test_operator_namespace_follows_setting():
    s = Settings(operator_namespace="platform-devns", reserved_namespaces=[])
    assert s.is_reserved("platform-devns")
    assert not s.is_reserved("devns-system")


@pytest.mark.parametrize("namespace, reserved", [
    ("protected-db", True), ("protected-", True), ("protected", False), ("unprotected-db", False),
    ("billing", True), ("billing-2", False), ("x-prod", True), ("prod", False), ("a.b", True), ("axb", False),
])
def test_reserved_glob_patterns(namespace, reserved):
    s = Settings(reserved_namespaces=["protected-*", "billing", "*-prod", "a.b"])
    assert s.is_reserved(namespace) is reserved


# -- environment ----------------------------------------------------------------------------------------------------

def test_json_list_from_env(monkeypatch):
    monkeypatch.setenv("DEVNS_ALLOWED_ROLES", '["edit","view","admin"]')
    assert Settings().allowed_roles == ["edit", "view", "admin"]


def test_scalars_and_maps_from_env(monkeypatch):
    monkeypatch.setenv("DEVNS_ALLOW_PRIVILEGED", "true")
    monkeypatch.setenv("DEVNS_MAX_TTL", "30d")
    monkeypatch.setenv("DEVNS_WORKER_LIMIT", "7")
    monkeypatch.setenv("DEVNS_DEFAULT_QUOTA", '{"pods": "5"}')
    monkeypatch.setenv("DEVNS_RESERVED_NAMESPACES", '["protected-*"]')
    s = Settings()
    assert s.allow_privileged is True
    assert s.max_ttl_delta == dt.timedelta(days=30)
    assert s.worker_limit == 7
    assert s.default_quota == {"pods": "5"}
    assert s.is_reserved("protected-x")


def test_invalid_env_refused(monkeypatch):
    monkeypatch.setenv("DEVNS_DEFAULT_ROLE", "admin")
    with pytest.raises(ValidationError):
        Settings()


def test_env_list_with_bad_duration_refused(monkeypatch):
    monkeypatch.setenv("DEVNS_WARN_BEFORE", '["1h","soon"]')
    with pytest.raises(ValidationError):
        Settings()


# -- derived values -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("none", None), ("never", None), ("None", None), (" none ", None), ("7d", dt.timedelta(days=7)),
])
def test_optional_duration(value, expected):
    assert optional_duration(value) == expected


def test_default_ttl_delta():
    assert Settings().default_ttl_delta is None
    assert Settings(default_ttl="never").default_ttl_delta is None
    assert Settings(default_ttl="7d").default_ttl_delta == dt.timedelta(days=7)


def test_max_ttl_delta():
    assert Settings().max_ttl_delta is None
    assert Settings(max_ttl="2w").max_ttl_delta == dt.timedelta(weeks=2)


def test_warn_before_deltas_sorted_longest_first():
    s = Settings(warn_before=["1h", "3d", "30m", "24h"])
    assert s.warn_before_deltas == [("3d", dt.timedelta(days=3)), ("24h", dt.timedelta(hours=24)),
                                    ("1h", dt.timedelta(hours=1)), ("30m", dt.timedelta(minutes=30))]


def test_warn_before_may_be_empty():
    assert Settings(warn_before=[]).warn_before_deltas == []


@pytest.mark.parametrize("value, expected", [
    ("24h", dt.timedelta(hours=24)), ("0s", dt.timedelta(0)), ("0", dt.timedelta(0)),
    ("none", dt.timedelta(0)), ("never", dt.timedelta(0)), ("1w", dt.timedelta(weeks=1)),
])
def test_expired_retention_delta(value, expected):
    assert Settings(expired_retention=value).expired_retention_delta == expected


def test_stuck_terminating_delta():
    assert Settings().stuck_terminating_delta == dt.timedelta(minutes=5)


@pytest.mark.parametrize("value", ["0s", "0", "none"])
def test_accepted_stuck_terminating_after_is_usable(value):
    try:
        s = Settings(stuck_terminating_after=value)
    except ValidationError:
        return  # refusing it at start-up would be fine too
    assert isinstance(s.stuck_terminating_delta, dt.timedelta)
