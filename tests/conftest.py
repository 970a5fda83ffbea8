"""Shared pytest set-up: make `operator/` importable when the package is not installed (it always is via make),
and let SIGTERM (a CI time-out, `timeout`) unwind like Ctrl-C, so session fixtures stop the control plane and the
operator instead of leaving them running."""

import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "operator") not in sys.path:
    sys.path.insert(0, str(ROOT / "operator"))

signal.signal(signal.SIGTERM, signal.default_int_handler)
