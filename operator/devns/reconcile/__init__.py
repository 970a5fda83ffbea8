"""Make the cluster match each DevNamespace: one module per trigger, all through the same desired state.

- ``context``: the ``Context`` every path gets (API, settings, key, the desired-state cache, reports already
  posted) and the helpers several paths share (``is_ours``, Events in a namespace, ``recheck``: waking a
  DevNamespace whose situation changed with one annotation).
- ``bootstrap``: the signing key at start-up (never a new one while namespaces carry proofs: see ``KeyProblem``).
- ``provision``: create/update/resume a DevNamespace (``reconcile``; ``resumed_unchanged``: a resume the status
  proves needs nothing) and delete its namespace (``finalize``).
- ``lifecycle``: expiry warnings, expiry and retention (``expiry_due`` pure, ``expiry_step``), its one status
  writer; and idle namespaces' sleep, wake and expiry for inactivity (``idling``: the listing, scaling and
  suspending they take).
- ``drift``: put a changed or deleted managed object back (``drifted`` pure, ``repair``).
- ``seeding``: what writing a class's seeds adds to provisioning, and copies following their source (``follow``).
- ``sources``: what the API tells about sources of ingress (``look_up``).
- ``orphans``: collect a namespace (or cluster-view binding) devns created whose DevNamespace is gone, or report
  a look-alike.

Every path computes what should be with ``desired.desired_for`` (cached per DevNamespace version), reads what
is, writes only the difference and returns an ``outcome.Outcome``; nothing here posts Kopf Events or counts
metrics (the handlers do, from the outcome). These modules are the only ones that call the API (``kube``).
"""

from .bootstrap import SigningKey, load_signing_key
from .context import Context, KeyProblem, Retry, is_ours, recheck
from .drift import drifted, guarded, repair
from .lifecycle import Action, ExpiryDue, Step, expiry_due, expiry_step
from .orphans import collect_orphan, collect_orphan_binding
from .provision import budgeted, finalize, make_room, peer_for, reconcile, resumed_unchanged
from .seeding import follow
from .sources import look_up

__all__ = ["Action", "budgeted", "Context", "ExpiryDue", "KeyProblem", "Retry", "SigningKey", "Step", "collect_orphan",
           "collect_orphan_binding", "drifted", "expiry_due", "expiry_step", "finalize", "follow", "guarded",
           "is_ours", "load_signing_key", "look_up", "make_room", "peer_for", "recheck", "reconcile", "repair",
           "resumed_unchanged"]
