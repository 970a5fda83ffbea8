"""localk8s.image's host-side settings, checked without building: the containers.conf it writes (rlimits never
raised, runc) and the pip.conf the build gets (the host's index and CA bundle). The build itself runs in
tests/e2e/test_image.py."""

from __future__ import annotations

import configparser
import resource
import tomllib

from localk8s import image


def test_containers_conf_never_raises_a_limit_and_uses_runc(tmp_path):
    conf = tomllib.loads((image.Podman(tmp_path).workdir / "containers.conf").read_text())
    assert conf["engine"]["runtime"] == "runc"
    limits = dict(entry.split("=", 1) for entry in conf["containers"]["default_ulimits"])
    current = {"nofile": resource.RLIMIT_NOFILE, "nproc": resource.RLIMIT_NPROC}
    assert set(limits) == set(current)
    for name, value in limits.items():
        soft, hard = (int(v) for v in value.split(":"))
        have_soft, have_hard = resource.getrlimit(current[name])
        assert soft <= hard and (have_hard == resource.RLIM_INFINITY or hard <= have_hard), (name, value)


def test_pip_conf_carries_the_hosts_index_and_ca_bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.example.com/simple")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "180")
    parser = configparser.ConfigParser()
    parser.read(image.pip_conf(tmp_path))
    assert parser["global"]["index-url"] == "https://pypi.example.com/simple"
    assert parser["global"]["timeout"] == "180"
    if image.CA_BUNDLE.is_file():
        assert parser["global"]["cert"] == str(image.CA_BUNDLE)


def test_the_base_recipe_is_part_of_the_cache_key(monkeypatch):
    before = image.recipe_key()
    monkeypatch.setattr(image, "RUNTIME_PACKAGES", (*image.RUNTIME_PACKAGES, "tzdata"))
    assert image.recipe_key() != before and image.recipe_key().startswith(f"debian-{image.SUITE}-")
