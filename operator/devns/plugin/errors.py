"""How the plugin fails: one ``error: ...`` line on stderr and a non-zero exit, as kubectl does.

``PluginError`` is a failure the plugin explains itself; ``describe_api_error`` turns the API server's Status into
kubectl's ``Error from server (Reason): message`` line, so an admission policy's refusal reads exactly as written.
"""

from __future__ import annotations

import json

from kubernetes.client.rest import ApiException


class PluginError(Exception):
    """A failure with a message for the user; ``exit_code`` is what the process exits with."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def describe_api_error(exc: ApiException) -> str:
    """``Error from server (Forbidden): <the Status message>``, or the HTTP reason when the body is not a
    Status."""
    try:
        status = json.loads(exc.body)
        return f"Error from server ({status.get('reason') or exc.reason}): {status['message']}"
    except (TypeError, ValueError, KeyError):
        return f"Error from server ({exc.reason}): {exc.body or exc.status}"
