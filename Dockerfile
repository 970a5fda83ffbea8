# syntax=docker/dockerfile:1
# devns-operator image: `docker build -t ghcr.io/devns/devns-operator:0.1.0 .`
# Two stages: the builder installs the package and its dependencies into a venv (wheels only, no compilers);
# the final image is python:3.12-slim plus that venv, running as an unprivileged numeric user.

FROM python:3.12-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# pyproject.toml names README.md as the readme: the build needs it. Packages are found under operator/.
COPY pyproject.toml README.md ./
COPY operator/ ./operator/
RUN pip install --no-cache-dir .

FROM python:3.12-slim
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
