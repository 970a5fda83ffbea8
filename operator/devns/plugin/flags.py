"""Flags and arguments several commands share: durations (devns.units spelling), ``--wait/--no-wait`` with
``--timeout``, and whether a person is at the keyboard (prompts and confirmations only then, as kubectl does)."""

from __future__ import annotations

import datetime as dt
import sys

import click

from ..units import parse_duration


def duration(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.timedelta | None:
    """A click callback: ``90m``, ``3d``, ``1w2d`` as a timedelta (None stays None)."""
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def wait_options(what: str, timeout: str):
    """``--wait/--no-wait`` (default: wait) and ``--timeout DURATION`` (default ``timeout``)."""
    def decorate(command):
        command = click.option("--timeout", default=timeout, show_default=True, metavar="DURATION",
                               callback=duration, help=f"How long to wait until {what}.")(command)
        return click.option("--wait/--no-wait", default=True, show_default=True,
                            help=f"Wait until {what}.")(command)
    return decorate


def on_terminal() -> bool:
    """Whether stdin is a terminal: a person who can answer a prompt (never in a pipe, a script or CI)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False
