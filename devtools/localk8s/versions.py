"""The one place the Kubernetes release used for development and tests is pinned.

KUBERNETES_VERSION is the newest patch release whose module builds with the installed Go and whose module zip
the Go module proxy serves (1.37.2 is listed but the proxy refuses its zip). ETCD_VERSION is the etcd server
that release's go.mod requires, so etcd builds from the same module graph.
"""

KUBERNETES_VERSION = "1.37.1"
ETCD_VERSION = "3.7.0"

#: The four programs a local control plane needs, as named on disk.
BINARIES = ("kube-apiserver", "kube-controller-manager", "kubectl", "etcd")
