"""devns.status: conditions and minimal status patches."""

import datetime as dt

from devns.status import set_condition, status_patch

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 21, 10, tzinfo=UTC)
T1 = T0 + dt.timedelta(minutes=5)


def ready(status, reason="Applied", message="ok", generation=1, now=T0, conditions=()):
    return set_condition(list(conditions), type="Ready", status=status, reason=reason, message=message,
                         generation=generation, now=now)


# -- set_condition --------------------------------------------------------------------------------------------------

def test_new_condition_appended_with_now():
    other = {"type": "Expiring", "status": "False", "reason": "X", "message": "", "lastTransitionTime": "t"}
    out = ready("True", conditions=[other])
    assert out == [other, {"type": "Ready", "status": "True", "reason": "Applied", "message": "ok",
                           "lastTransitionTime": "2026-11-21T10:00:00Z", "observedGeneration": 1}]


def test_same_status_keeps_last_transition_time():
    first = ready("True", now=T0)
    second = ready("True", reason="StillFine", message="still ok", generation=2, now=T1, conditions=first)
    (cond,) = second
    assert cond["lastTransitionTime"] == "2026-11-21T10:00:00Z"
    assert (cond["reason"], cond["message"], cond["observedGeneration"]) == ("StillFine", "still ok", 2)


def test_flipped_status_moves_last_transition_time():
    first = ready("True", now=T0)
    (cond,) = ready("False", reason="Failed", now=T1, conditions=first)
    assert cond["status"] == "False"
    assert cond["lastTransitionTime"] == "2026-11-21T10:05:00Z"


def test_condition_replaced_in_place_others_untouched():
    a = {"type": "A", "status": "True", "reason": "r", "message": "", "lastTransitionTime": "ta"}
    b = {"type": "B", "status": "True", "reason": "r", "message": "", "lastTransitionTime": "tb"}
    start = [a, *ready("True"), b]
    out = ready("False", now=T1, conditions=start)
    assert [c["type"] for c in out] == ["A", "Ready", "B"]
    assert out[0] is a and out[2] is b


def test_input_list_not_mutated():
    start = ready("True")
    snapshot = [dict(c) for c in start]
    ready("False", now=T1, conditions=start)
    assert start == snapshot


def test_last_transition_time_is_rfc3339_utc():
    (cond,) = ready("True", now=dt.datetime(2026, 11, 21, 12, 0, 0, 123, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    assert cond["lastTransitionTime"] == "2026-11-21T10:00:00Z"


# -- status_patch ---------------------------------------------------------------------------------------------------

def test_patch_contains_only_changed_keys():
    current = {"phase": "Pending", "namespace": "alice", "observedGeneration": 1}
    desired = {"phase": "Ready", "namespace": "alice", "observedGeneration": 2}
    assert status_patch(current, desired) == {"phase": "Ready", "observedGeneration": 2}


def test_patch_none_when_nothing_changed():
    status = {"phase": "Ready", "namespace": "alice", "conditions": [{"type": "Ready", "status": "True"}]}
    assert status_patch(status, dict(status)) is None


def test_patch_from_no_status_has_everything_but_nones():
    assert status_patch(None, {"phase": "Pending", "expiresAt": None}) == {"phase": "Pending"}


def test_patch_none_deletes_an_existing_key():
    assert status_patch({"phase": "Ready", "expiresAt": "x"}, {"phase": "Ready", "expiresAt": None}) == \
        {"expiresAt": None}


def test_patch_ignores_keys_not_desired():
    assert status_patch({"phase": "Ready", "warningsSent": ["24h"]}, {"phase": "Ready"}) is None


def test_patch_compares_nested_values():
    current = {"conditions": [{"type": "Ready", "status": "True"}]}
    desired = {"conditions": [{"type": "Ready", "status": "False"}]}
    assert status_patch(current, desired) == desired
