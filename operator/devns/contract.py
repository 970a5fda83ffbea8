"""The devns contract: every name devns writes to the cluster or reads back from it, and the one table of kinds.

API group, version and kind of the DevNamespace; labels, annotations, the finalizer, the field manager, the fixed
names of the children; and ``KINDS``: each kind devns calls the API for, where it lives (group, version, plural,
namespaced), whether devns creates and guards objects of it, in which order children are applied, and which maps
hold quantities (how an actual object is compared with the desired one). Every other module, and ``bench/`` and
the tests, import these names from here; nothing spells them again. Imports nothing from devns.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- the API ------------------------------------------------------------------------------------------------------
GROUP = "devns.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "DevNamespace"
PLURAL = "devnamespaces"
SINGULAR = "devnamespace"
SHORT_NAMES = ["devns"]

CLASS_KIND = "DevNamespaceClass"
CLASS_PLURAL = "devnamespaceclasses"
CLASS_SINGULAR = "devnamespaceclass"
CLASS_SHORT_NAMES = ["devnsclass"]

#: The phases of a DevNamespace (``status.phase``).
PHASES = ("Pending", "Ready", "Sleeping", "Failed", "Terminating", "Expiring", "Expired")

# -- who writes ---------------------------------------------------------------------------------------------------
#: Field manager of every write the operator makes (server-side apply and POST).
FIELD_MANAGER = "devns"
#: Holds a DevNamespace until its namespace is gone; added at admission by manifests/base/finalizer-policy.yaml.
FINALIZER = "devns.io/finalizer"

# -- labels and annotations ---------------------------------------------------------------------------------------
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "devns"
#: Server-side selector of everything devns manages (the drift watches, the bench's watches).
MANAGED_SELECTOR = f"{MANAGED_BY}={MANAGER}"
LABEL_DEVNAMESPACE = "devns.io/devnamespace"
LABEL_OWNER = "devns.io/owner"
LABEL_TEAM = "devns.io/team"
ANN_OWNER = "devns.io/owner"
ANN_TEAM = "devns.io/team"
ANN_PURPOSE = "devns.io/purpose"
ANN_CONTACT = "devns.io/contact"
ANN_TTL = "devns.io/ttl"
ANN_EXPIRES_AT = "devns.io/expires-at"
ANN_CREATED_BY = "devns.io/created-by"
ANN_PROOF = "devns.io/proof"
#: On a DevNamespace: who created it, stamped by the API server (manifests/base/requester-policy.yaml), immutable;
#: copied to its namespace.
ANN_REQUESTER = "devns.io/requester"
#: On a DevNamespace created in self-service: how many live DevNamespaces its requester may have, stamped from the
#: self-service limits by the API server (manifests/optional/self-service), immutable.
ANN_MAX_PER_REQUESTER = "devns.io/max-per-requester"
#: On a DevNamespace waiting for room under its requester's limit: set by the operator when room appears, so that
#: it is provisioned again (an annotation change is an update to Kopf).
ANN_RECHECK = "devns.io/recheck"
#: On a DevNamespace: a request to wake its namespace (and count as activity), set to the time by `kubectl devns
#: wake`.
ANN_WAKE = "devns.io/wake"
#: On a Deployment or StatefulSet devns scaled to 0 for sleep: its replicas before; on a CronJob devns suspended:
#: "true". Only what carries these is restored on wake.
ANN_REPLICAS_BEFORE_SLEEP = "devns.io/replicas-before-sleep"
ANN_SUSPENDED_FOR_SLEEP = "devns.io/suspended-for-sleep"
#: On a DevNamespaceClass: "true" makes it the class of every DevNamespace that names none (the IngressClass and
#: StorageClass convention).
ANN_DEFAULT_CLASS = "devns.io/is-default-class"
PSS_PREFIX = "pod-security.kubernetes.io/"
PSS_MODES = ("enforce", "audit", "warn")
#: Set by the API server on every namespace (and used by network policies to select namespaces by name).
LABEL_NAMESPACE_NAME = "kubernetes.io/metadata.name"
#: Label and annotation prefixes and keys only devns (and Pod Security admission) may set on a managed namespace.
RESERVED_PREFIXES = ("devns.io/", PSS_PREFIX)
RESERVED_KEYS = (MANAGED_BY, LABEL_NAMESPACE_NAME)
#: On an object a DevNamespaceClass seeds into a namespace: what it is a copy of, or which class declared it, and at
#: which version (``seeds``).
ANN_SEED_ORIGIN = "devns.io/seed-origin"
#: Labels of the objects devns creates for itself (its namespace, its key Secret).
SELF_LABELS = {"app.kubernetes.io/name": "devns"}


def children_selector(devnamespace: str) -> str:
    """Label selector of the children of one DevNamespace."""
    return f"{LABEL_DEVNAMESPACE}={devnamespace},{MANAGED_SELECTOR}"


# -- fixed object names -------------------------------------------------------------------------------------------
QUOTA_NAME = "devns-quota"
LIMITRANGE_NAME = "devns-limits"
DENY_POLICY = "devns-default-deny"
ALLOW_SAME_NAMESPACE_POLICY = "devns-allow-same-namespace"
ALLOW_DNS_POLICY = "devns-allow-dns"
ALLOW_FROM_NAMESPACES_POLICY = "devns-allow-from-namespaces"
CLUSTER_VIEW_BINDING_PREFIX = "devns-view-"
OWNERS_BINDING_PREFIX = "devns-owners-"

# -- the kinds ----------------------------------------------------------------------------------------------------
LIMIT_QUANTITIES = frozenset({"default", "defaultRequest", "max", "min", "maxLimitRequestRatio"})


@dataclass(frozen=True)
class Kind:
    """One kind devns calls the API for."""

    kind: str
    group: str  # "" for the core group
    version: str
    plural: str
    namespaced: bool
    #: "namespace": the namespace itself; "child": created for a DevNamespace, owned by it; "": only read or
    #: written for devns's own bookkeeping (its DevNamespaces, Events, its key Secret).
    role: str = ""
    #: Keys whose values (at any depth below them) are resource quantities: ``1000m`` equals ``1``.
    quantities: frozenset[str] = frozenset()
    #: Top-level fields kept EXACTLY as declared (after the API server's defaults): a field someone else added
    #: below them is drift too. Metadata is never exact: others may add their own labels and annotations.
    exact: tuple[str, ...] = ()
    #: A DevNamespaceClass may seed objects of this kind into its namespaces (when DEVNS_SEED_KINDS lists it).
    seedable: bool = False
    #: devns may read (list, watch) objects of this kind across the cluster. Secrets it may not: a seeded Secret is
    #: written without being read back (``reconcile.provision``), and its drift is not watched (admission guards it).
    readable: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path_prefix(self) -> str:
        """``/api/v1`` or ``/apis/<group>/<version>``."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def guarded(self) -> bool:
        """Watched for drift (server-side selector ``MANAGED_SELECTOR``) and kept in its declared state."""
        return self.role in ("namespace", "child") and self.readable


_RBAC, _NET, _APPS = "rbac.authorization.k8s.io", "networking.k8s.io", "apps"
_WORKLOAD = frozenset({"requests", "limits"})  # container resources (and a PVC's storage request) are quantities
#: Every kind devns touches. Children are listed in apply order: guardrails first, then what classes seed (in
#: the order one needs the other), access last, so owners never get a namespace without them.
KINDS: dict[str, Kind] = {k.kind: k for k in (
    Kind("Namespace", "", "v1", "namespaces", False, role="namespace"),
    Kind("NetworkPolicy", _NET, "v1", "networkpolicies", True, role="child", exact=("spec",)),
    Kind("ResourceQuota", "", "v1", "resourcequotas", True, role="child", quantities=frozenset({"hard"}),
         exact=("spec",)),
    Kind("LimitRange", "", "v1", "limitranges", True, role="child", quantities=LIMIT_QUANTITIES, exact=("spec",)),
    Kind("ServiceAccount", "", "v1", "serviceaccounts", True, role="child", seedable=True),
    Kind("Secret", "", "v1", "secrets", True, role="child", seedable=True, readable=False),
    Kind("ConfigMap", "", "v1", "configmaps", True, role="child", seedable=True),
    Kind("Role", _RBAC, "v1", "roles", True, role="child", seedable=True),
    Kind("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims", True, role="child", seedable=True,
         quantities=_WORKLOAD),
    Kind("Service", "", "v1", "services", True, role="child", seedable=True),
    Kind("Deployment", _APPS, "v1", "deployments", True, role="child", seedable=True, quantities=_WORKLOAD),
    Kind("StatefulSet", _APPS, "v1", "statefulsets", True, role="child", seedable=True, quantities=_WORKLOAD),
    Kind("ClusterRoleBinding", _RBAC, "v1", "clusterrolebindings", False, role="child",
         exact=("roleRef", "subjects")),
    Kind("RoleBinding", _RBAC, "v1", "rolebindings", True, role="child", exact=("roleRef", "subjects"),
         seedable=True),
    Kind("Event", "", "v1", "events", True),
    # read for activity (``idle``), and scaled or suspended for sleep: the owners' own objects
    Kind("Pod", "", "v1", "pods", True),
    Kind("Job", "batch", "v1", "jobs", True),
    Kind("CronJob", "batch", "v1", "cronjobs", True),
    Kind(KIND, GROUP, VERSION, PLURAL, False),
    Kind(CLASS_KIND, GROUP, VERSION, CLASS_PLURAL, False),
)}
#: Child kinds in apply order.
CHILD_KINDS = tuple(k.kind for k in KINDS.values() if k.role == "child")
#: Kinds only a class's seeds create (devns's own children are of the other child kinds).
SEED_ONLY_KINDS = ("ServiceAccount", "Secret", "ConfigMap", "Role", "PersistentVolumeClaim", "Service",
                   "Deployment", "StatefulSet")
#: Kinds a class may seed (DEVNS_SEED_KINDS chooses among them; its default is all of them).
SEEDABLE_KINDS = tuple(k.kind for k in KINDS.values() if k.seedable)
#: The namespace and devns's own child kinds: what the drift watches always cover (seeds add theirs).
GUARDED_KINDS = tuple(k.kind for k in KINDS.values() if k.guarded and k.kind not in SEED_ONLY_KINDS)


def guarded_kinds(seed_kinds: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
    """The kinds watched for drift when classes may seed ``seed_kinds``: devns's own, and the readable seeds."""
    return GUARDED_KINDS + tuple(k for k in SEED_ONLY_KINDS if k in seed_kinds and KINDS[k].readable)
