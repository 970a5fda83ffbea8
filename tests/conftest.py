"""Shared pytest set-up: make `operator/` (devns) and `devtools/` (localk8s, testkit) importable when they are not
installed (they always are via make), and let SIGTERM (a CI time-out, `timeout`) unwind like Ctrl-C, so session
fixtures stop the control plane and the operator instead of leaving them running."""

import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for source in ("operator", "devtools"):  # folders holding packages, never packages themselves
    if str(ROOT / source) not in sys.path:
        sys.path.insert(0, str(ROOT / source))

signal.signal(signal.SIGTERM, signal.default_int_handler)
