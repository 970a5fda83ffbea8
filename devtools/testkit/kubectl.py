"""kubectl as a subprocess against a kubeconfig: the pinned binary from localk8s, or any on PATH."""

from __future__ import annotations

import subprocess
from os import PathLike


class KubectlError(subprocess.CalledProcessError):
    """kubectl exited non-zero; the message carries its stderr (a CalledProcessError's does not)."""

    def __str__(self) -> str:
        args = " ".join(self.cmd[3:])  # after: kubectl --kubeconfig PATH
        return f"kubectl {args} failed ({self.returncode}): {(self.stderr or '').strip()}"


def kubectl(binary: str | PathLike, kubeconfig: str | PathLike, *args: str, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``binary --kubeconfig kubeconfig ARGS``, output captured as text; with ``check``, a non-zero exit
    raises ``KubectlError``."""
    proc = subprocess.run([str(binary), "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise KubectlError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc
