"""DevNamespaceClasses made by a test module and removed after it (with the DevNamespaces made of them): what the
``classes`` fixture (conftest.py) gives the class and seed modules."""

from __future__ import annotations

from kubernetes.client import CustomObjectsApi

from devns.contract import ANN_DEFAULT_CLASS, CLASS_PLURAL, GROUP, VERSION
from support import unique


class Classes:
    def __init__(self, api):
        self.custom = CustomObjectsApi(api)
        self.made: list[str] = []

    def create(self, name: str, spec: dict, default: bool = False) -> dict:
        meta = {"name": name, **({"annotations": {ANN_DEFAULT_CLASS: "true"}} if default else {})}
        self.made.append(name)
        return self.custom.create_cluster_custom_object(GROUP, VERSION, CLASS_PLURAL, {
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "DevNamespaceClass", "metadata": meta, "spec": spec})

    def get(self, name: str) -> dict:
        return self.custom.get_cluster_custom_object(GROUP, VERSION, CLASS_PLURAL, name)

    def patch(self, name: str, body: dict) -> dict:
        return self.custom.patch_cluster_custom_object(GROUP, VERSION, CLASS_PLURAL, name, body)

    def delete(self, name: str) -> None:
        self.custom.delete_cluster_custom_object(GROUP, VERSION, CLASS_PLURAL, name)


def create(dns, classes: Classes, prefix: str, **spec) -> str:
    name = unique(prefix)
    classes.devnamespaces.append(name)
    dns.create(name, **spec)
    return name


