"""devns: a Kubernetes operator that gives developers their own safe, self-cleaning namespace.

Modules, in import order (each imports only those before it):
``units`` (parsing) -> ``models`` (the API) -> ``settings`` -> ``render`` (spec -> desired objects, pure) ->
``expiry`` (TTL logic, pure) -> ``diff``/``status`` (pure comparison) -> ``kube`` (API calls) -> ``reconcile``
(read, compare, apply) -> ``metrics`` -> ``handlers`` (Kopf wiring) -> ``cli``. ``crd`` generates the CRD.
"""
