"""devns.outcome: every result has one meaning for Events and logs, and the docs list every metric label value."""

from pathlib import Path

import pytest

from devns.outcome import EFFECTS, RECONCILE_RESULTS, Outcome, Result, event_of

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_result_has_an_effect():
    assert set(EFFECTS) == set(Result)


def test_created_event_lists_what_was_created():
    o = Outcome(Result.CREATED, "Ready", "Provisioned", "", applied=["Namespace/a", "RoleBinding/b"], namespace="a")
    assert event_of(o) == ("Normal", "Provisioned", "namespace a created: Namespace/a, RoleBinding/b")


def test_updated_event_lists_applied_and_removed():
    o = Outcome(Result.UPDATED, "Ready", "Provisioned", "", applied=["ResourceQuota/q"], removed=["RoleBinding/r"])
    assert event_of(o) == ("Normal", "Updated", "applied ResourceQuota/q; removed RoleBinding/r")


@pytest.mark.parametrize("result", [Result.FAILED, Result.RETRY])
def test_problems_are_announced_only_when_news(result):
    known = Outcome(result, "Failed", "RoleNotAllowed", "role 'x' is not allowed")
    assert event_of(known) is None  # a restart re-checking a known failure posts nothing
    news = Outcome(result, "Failed", "RoleNotAllowed", "role 'x' is not allowed", status={"phase": "Failed"})
    assert event_of(news) == ("Warning", "RoleNotAllowed", "role 'x' is not allowed")


@pytest.mark.parametrize("result, reason", [(Result.WARNED, "ExpiringSoon"), (Result.EXPIRED, "Expired"),
                                            (Result.WOULD_EXPIRE, "WouldExpire"),
                                            (Result.REPAIRED, "DriftRepaired")])
def test_lifecycle_and_drift_events(result, reason):
    assert event_of(Outcome(result, "Ready", "x", "what happened"))[1:] == (reason, "what happened")


def test_silent_results_post_nothing():
    for result in (Result.UNCHANGED, Result.SKIPPED, Result.DELETING, Result.DELETED, Result.REMOVED):
        assert event_of(Outcome(result, "Ready", "x", "m", status={"phase": "Ready"})) is None


def test_orphan_results_are_not_devnamespace_reconciles():
    assert not {"orphan-deleted", "would-delete-orphan", "lookalike"} & set(RECONCILE_RESULTS)


def test_readme_and_metric_help_list_every_reconcile_result():
    from devns.metrics import RECONCILES
    row = next(line for line in README.read_text().splitlines() if line.startswith("| `devns_reconciles_total`"))
    for value in RECONCILE_RESULTS:
        assert value in row, f"README's metrics table does not list result {value!r}"
        assert value in RECONCILES._documentation
