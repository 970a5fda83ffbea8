#!/usr/bin/env bash
# The system tools the tests need beyond Python and Go, from Debian's packages (`make tools`; `make test` runs it).
#
# TOOLS below is the one list: a command the tests run and the Debian package that provides it. What is already
# on PATH is left alone. The missing ones are installed with apt-get when this runs as root on a machine with
# apt (CI and the dev machines); anywhere else it stops with one line naming what to install.
#
# Installing never starts a service: a package's postinst may start its daemon (prometheus would take port 9090),
# so unless the machine already has a policy-rc.d, one that forbids starting services is put in place for the
# install and removed afterwards.
set -euo pipefail

# command  package
TOOLS=(
  "promtool   prometheus"  # promtool test rules (tests/unit/test_alerts.py); prometheus for the scrape e2e test
  "prometheus prometheus"
  "podman     podman"      # the operator's image (localk8s/image.py, make image, tests/e2e/test_image.py)
  "mmdebstrap mmdebstrap"  # its local base images, from Debian's packages
  "runc       runc"        # the container runtime podman is told to use (crun fails on mixed cgroups)
  # what the machine CI runs on has beside podman (installed with it there): a fresh machine gets the same set
  "buildah        buildah"
  "newuidmap      uidmap"
  "fuse-overlayfs fuse-overlayfs"
  "slirp4netns    slirp4netns"
)

missing=()
for entry in "${TOOLS[@]}"; do
  read -r command package <<<"$entry"
  if ! command -v "$command" >/dev/null 2>&1; then
    [[ " ${missing[*]-} " == *" $package "* ]] || missing+=("$package")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "devns: missing tools: install the Debian/Ubuntu packages ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "devns: installing ${missing[*]} from Debian's packages"
guard=/usr/sbin/policy-rc.d
if [[ ! -e $guard ]]; then
  printf '#!/bin/sh\n# devtools/install-tools.sh: start no service while it installs packages\nexit 101\n' >"$guard"
  chmod 755 "$guard"
  trap 'rm -f "$guard"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
