"""devns: a Kubernetes operator that gives developers their own safe, self-cleaning namespace.

Modules, from the top of the import graph down (each imports only modules below it; tests/unit/test_layers.py
checks it):

- ``cli`` (``devns-operator``), ``crd`` (generates the CRD from the models)
- ``handlers``: Kopf wiring; outcomes -> Events, metrics, logs, retries; ``handlers_network``: the indexes and event
  handler that re-judge ingress sources; ``handlers_lifecycle``: the one deadline scheduler (``deadlines``);
  ``informer``: devns's indexes of the DevNamespaces; ``memories``: what Kopf keeps per object
- ``metrics``: Prometheus metrics, counted from outcomes
- ``reconcile``: one module per trigger (provision, lifecycle, drift, orphans, sources, bootstrap): read, compare,
  write
- ``kube``: the API calls (dict bodies)
- ``desired``: ``desired_for`` (validated spec, namespace, expiry, rendered objects) and its per-version cache
- ``expiry``: TTL rules and the warning plan (pure, ``now`` passed in)
- ``render``: spec -> namespace and children (pure)
- ``gc`` (proof of authorship), ``diff`` (does an object need an apply or a replace), ``status`` (conditions),
  ``outcome`` (typed results and what each means), ``requesters`` (the limit per requester), ``trust`` (which
  ingress sources a DevNamespace may admit): pure helpers
- ``settings``: the DEVNS_* settings
- ``models``: the API as pydantic models (the CRD's source); ``apirules``: what the API server accepts for names,
  keys and values, as CEL and in Python
- ``units`` (durations, quantities, times) and ``contract`` (every label, annotation and name; the kinds table)
"""
