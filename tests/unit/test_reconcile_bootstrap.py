"""devns.reconcile.bootstrap: the signing key at start-up, against a fake API. A new key only on a first install;
a missing or wrong key while namespaces carry proofs is a ``KeyProblem``, never a new key; two replicas racing
to create it end up with the same one."""

import base64

import pytest

from devns import gc
from devns.kube import ApiError
from devns.reconcile import load_signing_key
from devns.settings import Settings

KEY, OTHER = b"k" * 32, b"x" * 32


class FakeKube:
    """Secrets and namespaces in memory; ``create`` of the Secret can be made to lose a race."""

    def __init__(self, secret_key=None, namespaces=(), race_with=None):
        self.objects = {}
        if secret_key is not None:
            self.objects["Secret", "devns-gc-key"] = secret(secret_key)
        self.namespaces, self.race_with, self.created = list(namespaces), race_with, []

    def get(self, kind, name, namespace=None):
        return self.objects.get((kind, name))

    def list(self, kind, namespace=None, selector=None, fields=None):
        assert (kind, selector) == ("Namespace", "app.kubernetes.io/managed-by=devns")
        return self.namespaces

    def create(self, obj, *, parse=True):
        key = (obj["kind"], obj["metadata"]["name"])
        if key == ("Secret", "devns-gc-key") and self.race_with is not None:
            self.objects[key] = secret(self.race_with)  # the other replica was first
        if key in self.objects:
            raise ApiError(409, "AlreadyExists", "exists", "POST", "/")
        self.objects[key] = obj
        self.created.append(key)
        return obj


def secret(key: bytes) -> dict:
    return {"kind": "Secret", "metadata": {"name": "devns-gc-key"}, "data": {"key": base64.b64encode(key).decode()}}


def proved(name: str, key: bytes = KEY, uid: str = "ns-uid") -> dict:
    return {"metadata": {"name": name, "uid": uid, "labels": {"app.kubernetes.io/managed-by": "devns"},
                         "annotations": {"devns.io/created-by": f"{name}/dn-uid",
                                         "devns.io/proof": gc.proof_for(key, name, uid, "dn-uid")}}}


def test_first_install_creates_the_key_and_the_namespace():
    kube = FakeKube()
    signing = load_signing_key(kube, Settings())
    assert signing.problem is None and len(signing.key) == 32
    assert kube.created == [("Namespace", "devns-system"), ("Secret", "devns-gc-key")]
    assert base64.b64decode(kube.objects["Secret", "devns-gc-key"]["data"]["key"]) == signing.key


def test_a_replica_that_loses_the_race_uses_the_winners_key():
    kube = FakeKube(race_with=OTHER)
    assert load_signing_key(kube, Settings()).key == OTHER


def test_an_existing_key_is_read_and_checked_against_the_proofs():
    signing = load_signing_key(FakeKube(KEY, [proved("a"), proved("b", OTHER)]), Settings())
    assert signing.key == KEY and signing.problem is None
    assert signing.check.verified == 1 and signing.foreign == 1  # b: reported at start-up, treated as a look-alike


@pytest.mark.parametrize("stored", [None, b""])
def test_a_missing_key_with_proofs_around_is_a_problem_not_a_new_key(stored):
    kube = FakeKube(stored, [proved("a")])
    if stored is not None:
        kube.objects["Secret", "devns-gc-key"]["data"] = {}
    signing = load_signing_key(kube, Settings())
    assert signing.key is None and signing.problem.reason == "SigningKeyMissing" and signing.problem.missing
    assert "restore Secret devns-gc-key in devns-system from your backup" in signing.problem.message
    assert kube.created == []


def test_a_key_that_made_none_of_the_proofs_is_a_problem():
    signing = load_signing_key(FakeKube(OTHER, [proved("a"), proved("b")]), Settings())
    assert signing.key is None and signing.problem.reason == "SigningKeyMismatch" and not signing.problem.missing
    assert gc.key_id(OTHER) in signing.problem.message and gc.key_id(KEY) in signing.problem.message
    assert signing.foreign == 2
