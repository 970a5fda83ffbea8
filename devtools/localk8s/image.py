"""The operator's container image, built on this machine: the command behind `make image` and the e2e image test.

With a working Docker engine (``docker info`` answers) it is a plain ``docker build`` of the repository's
Dockerfile on its default public base. Otherwise podman builds it (daemonless, no registry needed) on bases made
from Debian packages with mmdebstrap: a runtime base (python3 and what dpkg needs to install it) and a build base
(Debian's Essential set plus python3-venv), built once per machine into ``$DEVNS_CACHE_DIR`` or ``~/.cache/devns`` +
``/image/<recipe>/`` (like the Kubernetes binaries, under a file lock) and imported into podman's storage when it
is not there. The host's quirks are handled here, never in the Dockerfile: builds use chroot isolation and
containers run with runc (crun cannot start them on mixed cgroup v1/v2 hosts), a containers.conf sets the
rlimits explicitly, never above this process's (podman would raise them, which some sandboxes refuse), and pip
inside the build sees the host's CA bundle and index settings, mounted read-only.

Either way the image is then exported as an OCI archive (``build/devns-operator.oci.tar``) to load anywhere.

    python -m localk8s.image [--tag T] [--archive build/devns-operator.oci.tar | --no-archive] [--engine E]
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .binaries import cache_root

#: The repository root (devtools/localk8s/image.py, installed editable).
ROOT = Path(__file__).resolve().parents[2]
TAG = "localhost/devns-operator:dev"
ARCHIVE = ROOT / "build" / "devns-operator.oci.tar"

#: Debian's release whose python3 the local bases carry (bookworm: Python 3.11, the oldest devns supports).
SUITE = "bookworm"
MIRRORS = (f"deb http://deb.debian.org/debian {SUITE} main",
           f"deb http://deb.debian.org/debian {SUITE}-updates main",
           f"deb http://deb.debian.org/debian-security {SUITE}-security main")
#: The runtime base: what dpkg needs to install packages (its maintainer scripts call these), then python3. No apt,
#: no perl. The build base is Debian's Essential set (python3-venv's debconf needs perl) plus python3-venv.
RUNTIME_PACKAGES = ("base-files", "base-passwd", "usr-is-merged", "dash", "coreutils", "diffutils", "libc-bin",
                    "sed", "grep", "findutils", "debianutils", "tar", "dpkg", "python3")
BUILD_PACKAGES = ("usr-is-merged", "python3", "python3-venv")
#: No manuals, docs (but the copyright files), translations: the image never shows them.
DPKG_EXCLUDES = ("path-exclude=/usr/share/man/*", "path-exclude=/usr/share/doc/*",
                 "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/locale/*",
                 "path-exclude=/usr/share/info/*")
#: Processes a container may have: plenty for pip and the operator, and low enough to be a lowering anywhere.
NPROC = 4096
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
#: pip settings passed to the build, from the host's environment (its config files are read by `pip config`).
PIP_ENV = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT", "PIP_RETRIES")
PIP_KEEP = ("index-url", "extra-index-url", "trusted-host", "timeout", "retries")


class ImageError(RuntimeError):
    """The image could not be built; the message says why and what to do."""


@dataclass(frozen=True)
class Built:
    """An image built: its name, the engine, how long it took, its size unpacked, and the archive (if exported)."""

    tag: str
    engine: str
    seconds: float
    size_bytes: int
    archive: Path | None


def recipe_key() -> str:
    """The cache key of the local bases: a new package list or mirror set builds new ones."""
    text = json.dumps([SUITE, MIRRORS, RUNTIME_PACKAGES, BUILD_PACKAGES, DPKG_EXCLUDES])
    return f"debian-{SUITE}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def base_tags() -> tuple[str, str]:
    """(runtime base, build base) as podman names them."""
    key = recipe_key()
    return f"localhost/devns-base:{key}", f"localhost/devns-build-base:{key}"


def docker_works() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


def missing_tools() -> list[str]:
    """The programs a podman build needs that are not on PATH (Debian's package names are the same)."""
    return [t for t in ("podman", "mmdebstrap", "runc") if not shutil.which(t)]


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None, log=None) -> str:
    """Run ``cmd``; its output (stderr after stdout) goes to ``log``, its stdout is returned."""
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    if log is not None and output:
        log(output.rstrip())
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-30:])
        raise ImageError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stdout


class Podman:
    """podman with this host's settings: its own containers.conf (runc, rlimits this process may set)."""

    def __init__(self, workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        conf = workdir / "containers.conf"
        # Explicit, never above what this process has: podman would otherwise raise them, which is refused here.
        ulimits = [f"nofile={soft}:{hard}", f"nproc={NPROC}:{NPROC}"]
        conf.write_text(f"[containers]\ndefault_ulimits = {json.dumps(ulimits)}\n\n[engine]\nruntime = \"runc\"\n")
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}
        self.workdir = workdir

    def __call__(self, *args: str, what: str = "podman", log=None) -> str:
        return _run(["podman", *args], what, env=self.env, log=log)

    def has(self, tag: str) -> bool:
        return subprocess.run(["podman", "image", "exists", tag], env=self.env).returncode == 0


def _mmdebstrap(variant: str, packages: tuple[str, ...], out: Path, log) -> None:
    cmd = ["mmdebstrap", f"--variant={variant}", "--mode=auto", "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
           f"--include={','.join(packages)}", *(f"--dpkgopt={o}" for o in DPKG_EXCLUDES), SUITE, str(out),
           *MIRRORS]
    _run(cmd, f"mmdebstrap of {out.name}", log=None)
    log(f"image: {out.name} built ({out.stat().st_size / 2**20:.0f} MiB)")


def local_bases(podman: Podman, log=print) -> tuple[str, str]:
    """The runtime and build bases in podman's storage: imported from the cache, built into it on first use."""
    runtime, build = base_tags()
    directory = cache_root() / "image" / recipe_key()
    if (directory / ".complete").is_file() and podman.has(runtime) and podman.has(build):
        return runtime, build  # (deleting the cache directory builds fresh bases: Debian's updates)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building them right now: wait for it
        fresh = False
        if not (directory / ".complete").is_file():
            started = time.monotonic()
            log(f"image: building the Debian {SUITE} bases once for this machine into {directory} (~1 min)")
            _mmdebstrap("custom", RUNTIME_PACKAGES, directory / "runtime.tar", log)
            _mmdebstrap("essential", BUILD_PACKAGES, directory / "build.tar", log)
            (directory / ".complete").write_text(json.dumps({"seconds": round(time.monotonic() - started, 1)}))
            fresh = True
        for tag, name in ((runtime, "runtime.tar"), (build, "build.tar")):
            if fresh or not podman.has(tag):
                podman("import", "--change", "CMD [\"python3\"]", "--change", "ENV LANG=C.UTF-8",
                       str(directory / name), tag, what=f"podman import {name}")
    return runtime, build


def pip_conf(directory: Path) -> Path:
    """A pip.conf for the build: the host's index settings (config files and PIP_* variables), and the host's CA
    bundle (mounted at the same path) for TLS to the index."""
    settings: dict[str, str] = {}
    pip = [sys.executable, "-m", "pip", "config", "list"]
    proc = subprocess.run(pip, capture_output=True, text=True)
    for line in proc.stdout.splitlines() if proc.returncode == 0 else []:
        key, _, value = line.partition("=")
        name = key.split(".", 1)[-1]
        if name in PIP_KEEP:
            settings[name] = value.strip().strip("'\"")
    for var in PIP_ENV:
        if os.environ.get(var):
            settings[var[4:].lower().replace("_", "-").replace("default-", "")] = os.environ[var]
    if CA_BUNDLE.is_file():
        settings["cert"] = str(CA_BUNDLE)
    path = directory / "pip.conf"
    path.write_text("[global]\n" + "".join(f"{k} = {v}\n" for k, v in sorted(settings.items())))
    return path


def image_size(engine: list[str], tag: str, env: dict[str, str] | None = None) -> int:
    out = subprocess.run([*engine, "image", "inspect", "--format", "{{.Size}}", tag], capture_output=True,
                         text=True, env=env, check=True).stdout
    return int(out.strip())


def podman() -> Podman:
    """podman as this module runs it (its containers.conf in the cache), for callers that run the image."""
    return Podman(cache_root() / "image")


def _export(engine: list[str], tag: str, archive: Path, env: dict[str, str] | None) -> None:
    """Save the image to ``archive`` unless it already holds this image (its ID is kept next to it): compressing
    the layers takes ~25 s on two cores."""
    image_id = subprocess.run([*engine, "image", "inspect", "--format", "{{.Id}}", tag], capture_output=True,
                              text=True, env=env, check=True).stdout.strip()
    stamp = archive.with_name(archive.name + ".id")
    if archive.is_file() and stamp.is_file() and stamp.read_text().strip() == image_id:
        return
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.unlink(missing_ok=True)
    stamp.unlink(missing_ok=True)
    fmt = ["--format", "oci-archive"] if engine[0] == "podman" else []  # docker save: an OCI layout since v25
    _run([*engine, "save", *fmt, "-o", str(archive), tag], f"{engine[0]} save", env=env)
    stamp.write_text(image_id + "\n")


def build(tag: str = TAG, archive: Path | None = ARCHIVE, engine: str | None = None, log=print) -> Built:
    """Build the image and export it to ``archive`` (None: do not). ``engine``: "docker" or "podman"; by default
    docker if its engine answers, else podman on the local bases."""
    started = time.monotonic()
    engine = engine or ("docker" if docker_works() else "podman")
    if engine == "docker":
        _run(["docker", "build", "-t", tag, str(ROOT)], "docker build", log=log)
        if archive is not None:
            _export(["docker"], tag, archive, None)
        return Built(tag, "docker", time.monotonic() - started, image_size(["docker"], tag), archive)
    missing = missing_tools()
    if missing:
        raise ImageError(f"no working docker, and {', '.join(missing)} not found: install them "
                         f"(Debian: `make tools`, or apt-get install {' '.join(missing)}) or start a Docker engine")
    pod = podman()
    runtime, build_base = local_bases(pod, log)
    with tempfile.TemporaryDirectory(prefix="devns-image-") as tmp:
        mounts = ["-v", f"{pip_conf(Path(tmp))}:/etc/pip.conf:ro"]
        if CA_BUNDLE.is_file():
            mounts += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
        pod("build", "--isolation", "chroot", "--network", "host", "--layers", *mounts,
            "--build-arg", f"BASE={runtime}", "--build-arg", f"BUILD_BASE={build_base}",
            "-t", tag, str(ROOT), what="podman build", log=log)
    if archive is not None:
        _export(["podman"], tag, archive, pod.env)
    return Built(tag, "podman", time.monotonic() - started, image_size(["podman"], tag, pod.env), archive)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localk8s.image", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tag", default=TAG, help=f"the image's name (default {TAG})")
    parser.add_argument("--archive", type=Path, default=ARCHIVE, help="where the OCI archive goes")
    parser.add_argument("--no-archive", action="store_true", help="do not export the archive")
    parser.add_argument("--engine", choices=("docker", "podman"), help="default: docker if it works, else podman")
    parser.add_argument("--quiet", action="store_true", help="no build output, only the result")
    args = parser.parse_args(argv)
    log = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    try:
        built = build(args.tag, None if args.no_archive else args.archive, args.engine, log=log)
    except ImageError as exc:
        print(f"image: {exc}", file=sys.stderr)
        return 1
    where = f", saved to {built.archive}" if built.archive else ""
    print(f"{built.tag}: {built.size_bytes / 1e6:.0f} MB, built with {built.engine} in {built.seconds:.1f}s{where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
