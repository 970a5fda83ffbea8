"""testkit: what the e2e tests (tests/e2e) and the benchmark (bench/) share, one module per concern.

- `waiting`: ``wait_for``, the one polling loop (a condition with a time-out, never a fixed sleep).
- `clients`: ``client``, an API client for a kubeconfig, optionally impersonating, with a pool size.
- `kubectl`: ``kubectl``, the pinned kubectl as a subprocess, failing with its stderr.
- `install`: the files a platform admin applies for devns to work on a dev cluster, and applying them
  (``python -m testkit.install`` is what ``make run`` calls).
- `operator_process`: ``OperatorProcess``, `python -m devns` (or the image's command) as a real subprocess:
  start, health, restart, kill, metrics, memory, log.
- `audit`: ``AuditLog``, the kube-apiserver audit log read incrementally: who sent which requests since a mark.

Free ports come from ``localk8s.cluster.free_port``, the control plane's own. Nothing here is in the operator's
wheel or image: testkit ships in the devns-devtools distribution (devtools/), beside localk8s.
"""
