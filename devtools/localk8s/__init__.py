"""localk8s: a real Kubernetes control plane on loopback, built from upstream sources.

devns is proven against a real kube-apiserver, kube-controller-manager and etcd, never a mock. This package
finds (or builds from the Go module proxy) the pinned upstream binaries and runs them on free loopback ports:

- `versions`: the one place the Kubernetes release is pinned.
- `binaries`: where the binaries come from ($KUBEBUILDER_ASSETS, cache, `go build`, release download).
- `pki`: the CA, serving and client certificates and the service-account key the processes need.
- `cluster`: start, wait for readiness, stop; detached (`make cluster`) or in-process (pytest fixture); and
  `free_port`, the one free-loopback-port finder (testkit uses it for the operator's ports too).
- `cli`: the `localk8s` command behind the Make targets.
- `image`: the operator's container image built on this machine (`make image`, tests/e2e/test_image.py): docker,
  or podman on bases made from Debian packages, cached like the binaries.

It is a development and test tool in the devns-devtools distribution (devtools/), never in the operator's wheel
or image: the devns operator never imports it.
"""
