# syntax=docker/dockerfile:1
# devns-operator image: `docker build -t ghcr.io/devns/devns-operator:0.1.0 .` (or `make image`, see README).
# Two stages: the builder installs the package and its dependencies into a venv (wheels only, no compilers);
# the final image is the base plus that venv, running as an unprivileged numeric user.
#
# BASE is the final stage's image, BUILD_BASE the builder's (default: the same). Both need python3 of the same
# version, the builder's also `python3 -m venv` with pip. The default is the public python:3.12-slim; `make image`
# on a machine without a registry passes bases made from Debian packages (python3.11; localk8s/image.py).
ARG BASE=python:3.12-slim
ARG BUILD_BASE=${BASE}

FROM ${BUILD_BASE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/venv
WORKDIR /src
# The dependencies first, from pyproject.toml alone: a change to the operator or README.md rebuilds only the
# small layer below. kubernetes/aio is the client's asyncio twin (41 MB of 75), which devns never imports.
COPY pyproject.toml ./
RUN /opt/venv/bin/pip install --no-cache-dir $(python3 -c "import tomllib; \
      print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))") \
 && rm -rf /opt/venv/lib/python3*/site-packages/kubernetes/aio
# pyproject.toml names README.md as the readme: the build needs it. Packages are found under operator/.
COPY README.md ./
COPY operator/ ./operator/
# Then pip and setuptools leave the venv, and every module is compiled once (hash-checked, so file times do not
# matter): the root filesystem is read-only, and without .pyc files each start would compile the client again.
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps . \
 && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools \
 && find /opt/venv -depth -name __pycache__ -exec rm -rf {} + \
 && /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv/lib

FROM ${BASE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.source="https://github.com/devns/devns" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.title="devns-operator" \
      org.opencontainers.image.description="Kubernetes operator that gives developers their own safe, self-cleaning namespace on a shared cluster" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Numeric, so that Kubernetes can verify runAsNonRoot; matches the Deployment's runAsUser/runAsGroup.
USER 10001:10001
EXPOSE 8080 8081
ENTRYPOINT ["devns-operator"]
