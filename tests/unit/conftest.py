"""Unit tests are pure: no DEVNS_* variable from the runner's environment may change Settings()."""

import os

import pytest


@pytest.fixture(autouse=True)
def _no_devns_env(monkeypatch):
    for key in list(os.environ):
        if key.upper().startswith("DEVNS_"):
            monkeypatch.delenv(key)
