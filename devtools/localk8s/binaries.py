"""Where the control-plane binaries come from, in this order:

1. ``$KUBEBUILDER_ASSETS`` (the envtest convention), for each binary it holds;
2. the per-version cache ``$DEVNS_CACHE_DIR`` or ``~/.cache/devns`` + ``/k8s/v<version>/``;
3. ``go build`` through the Go module proxy: a throw-away module requires ``k8s.io/kubernetes`` and replaces every
   staging module (``k8s.io/api => k8s.io/api v0.X.Y``, ...) with its published twin; etcd comes from
   ``go.etcd.io/etcd/server/v3`` in the same module graph. Runs once per machine, under a file lock;
4. the official release downloads, for machines with internet and without Go.

A warm lookup is a handful of ``stat`` calls.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .versions import BINARIES, ETCD_VERSION, KUBERNETES_VERSION


class BinariesError(RuntimeError):
    """The binaries could not be found, built or downloaded; the message says why and what to do."""


@dataclass(frozen=True)
class Binaries:
    """Absolute paths of the four control-plane programs."""

    kube_apiserver: Path
    kube_controller_manager: Path
    kubectl: Path
    etcd: Path
    source: str

    @property
    def directory(self) -> Path:
        return self.kubectl.parent


def cache_root() -> Path:
    base = os.environ.get("DEVNS_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "devns"


def cache_dir(version: str = KUBERNETES_VERSION) -> Path:
    return cache_root() / "k8s" / f"v{version}"


def _complete(directory: Path) -> bool:
    return (directory / ".complete").is_file() and all(os.access(directory / n, os.X_OK) for n in BINARIES)


def _from_dir(directory: Path, source: str) -> Binaries:
    return Binaries(
        kube_apiserver=directory / "kube-apiserver",
        kube_controller_manager=directory / "kube-controller-manager",
        kubectl=directory / "kubectl",
        etcd=directory / "etcd",
        source=source,
    )


def find_binaries(*, build: bool = True, log=print) -> Binaries:
    """Return the pinned binaries, building (or downloading) them into the cache on first use."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets and all(os.access(Path(assets) / n, os.X_OK) for n in BINARIES):
        return _from_dir(Path(assets).resolve(), f"$KUBEBUILDER_ASSETS={assets}")
    directory = cache_dir()
    if _complete(directory):
        return _from_dir(directory, f"cache {directory}")
    if not build:
        raise BinariesError(f"Kubernetes v{KUBERNETES_VERSION} binaries are not in {directory}; run `make binaries`")
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building right now: wait for it
        if not _complete(directory):
            _obtain(directory, log)
    if assets:  # envtest assets usually lack kube-controller-manager: use what they have, cache for the rest
        a = Path(assets)
        pick = {n: (a / n if os.access(a / n, os.X_OK) else directory / n) for n in BINARIES}
        return Binaries(pick["kube-apiserver"], pick["kube-controller-manager"], pick["kubectl"], pick["etcd"],
                        source=f"$KUBEBUILDER_ASSETS={assets} + cache {directory}")
    return _from_dir(directory, f"built into cache {directory}")


def _obtain(directory: Path, log) -> None:
    errors = []
    if shutil.which("go"):
        try:
            started = time.monotonic()
            _go_build(directory, log)
            _stamp(directory, "go build", time.monotonic() - started)
            return
        except BinariesError as exc:
            errors.append(str(exc))
    else:
        errors.append("no Go toolchain on PATH (install Go >= 1.26 to build the control plane from source)")
    try:
        _download(directory, log)
        _stamp(directory, "release download", 0.0)
        return
    except (OSError, BinariesError) as exc:
        errors.append(f"release download failed: {exc}")
    raise BinariesError(
        f"could not obtain Kubernetes v{KUBERNETES_VERSION} binaries.\n" + "\n".join(f"- {e}" for e in errors)
        + "\nSet KUBEBUILDER_ASSETS to a directory holding kube-apiserver, kube-controller-manager, kubectl and"
        " etcd to use existing binaries."
    )


def _stamp(directory: Path, how: str, seconds: float) -> None:
    info = {"kubernetes": KUBERNETES_VERSION, "etcd": ETCD_VERSION, "how": how, "seconds": round(seconds, 1)}
    (directory / ".complete").write_text(json.dumps(info) + "\n")


def _run(cmd: list[str], cwd: Path, env: dict[str, str], what: str, logfile: Path) -> str:
    with open(logfile, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out.write(proc.stdout)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-25:])
        raise BinariesError(f"{what} failed (exit {proc.returncode}); last lines (full log: {logfile}):\n{tail}")
    return proc.stdout


def _go_build(directory: Path, log) -> None:
    work = directory / ".build"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    logfile = directory / "build.log"
    logfile.write_text("")
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -buildvcs=false", "GOWORK": "off"}
    version = f"v{KUBERNETES_VERSION}"
    log(f"localk8s: building Kubernetes {version} and etcd v{ETCD_VERSION} with `go build` "
        f"(once per machine; ~15-25 min on 2 cores; log: {logfile})")
    info = json.loads(_run(["go", "mod", "download", "-json", f"k8s.io/kubernetes@{version}"],
                           work, env, "downloading k8s.io/kubernetes", logfile))
    if info.get("Error"):
        raise BinariesError(f"the Go module proxy refused k8s.io/kubernetes@{version}: {info['Error']}")
    staging = [line.split()[0] for line in Path(info["GoMod"]).read_text().splitlines()
               if "=> ./staging/" in line]
    minor = KUBERNETES_VERSION.split(".", 1)[1]
    (work / "go.mod").write_text(
        "module devns.local/k8sbuild\n\ngo 1.26.0\n\n"
        f"require (\n\tk8s.io/kubernetes {version}\n\tgo.etcd.io/etcd/server/v3 v{ETCD_VERSION}\n)\n\n"
        "replace (\n" + "".join(f"\t{m} => {m} v0.{minor}\n" for m in staging) + ")\n"
    )
    (work / "tools.go").write_text(
        "//go:build tools\n\npackage tools\n\nimport (\n\t_ \"go.etcd.io/etcd/server/v3\"\n"
        + "".join(f"\t_ \"k8s.io/kubernetes/cmd/{n}\"\n" for n in BINARIES if n != "etcd") + ")\n"
    )
    _run(["go", "mod", "tidy"], work, env, "resolving the module graph (go mod tidy)", logfile)
    major, minor_only = KUBERNETES_VERSION.split(".")[:2]
    ldflags = " ".join([
        "-s -w",
        f"-X k8s.io/component-base/version.gitVersion={version}",
        f"-X k8s.io/component-base/version.gitMajor={major}",
        f"-X k8s.io/component-base/version.gitMinor={minor_only}",
        "-X k8s.io/component-base/version.gitTreeState=clean",
        f"-X k8s.io/client-go/pkg/version.gitVersion={version}",
    ])
    out = work / "out"
    out.mkdir()
    _run(["go", "build", "-trimpath", "-ldflags", ldflags, "-o", str(out) + "/",
          *(f"k8s.io/kubernetes/cmd/{n}" for n in BINARIES if n != "etcd"), "go.etcd.io/etcd/server/v3"],
         work, env, "go build of the control plane", logfile)
    # the etcd main package is the module root `server/v3`: Go names it after the element before `/v3`
    next(p for p in (out / "server", out / "v3") if p.exists()).rename(out / "etcd")
    for name in BINARIES:
        os.replace(out / name, directory / name)
    shutil.rmtree(work, ignore_errors=True)


def _download(directory: Path, log) -> None:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    version = f"v{KUBERNETES_VERSION}"
    log(f"localk8s: downloading Kubernetes {version} release binaries")
    for name in ("kube-apiserver", "kube-controller-manager", "kubectl"):
        _fetch(f"https://dl.k8s.io/release/{version}/bin/linux/{arch}/{name}", directory / name)
        (directory / name).chmod(0o755)
    with tempfile.TemporaryDirectory() as tmp:
        tgz = Path(tmp) / "etcd.tgz"
        base = f"etcd-v{ETCD_VERSION}-linux-{arch}"
        _fetch(f"https://github.com/etcd-io/etcd/releases/download/v{ETCD_VERSION}/{base}.tar.gz", tgz)
        with tarfile.open(tgz) as tar:
            tar.extract(f"{base}/etcd", tmp, filter="data")
        os.replace(Path(tmp) / base / "etcd", directory / "etcd")
        (directory / "etcd").chmod(0o755)


def _fetch(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url, timeout=15) as resp, open(dest, "wb") as out:
        shutil.copyfileobj(resp, out)
