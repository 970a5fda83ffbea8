"""What `kubectl devns` prints, as pure functions: countdowns and ages, quota bars and cells, kubectl-style tables
(colour codes not counted in the widths), `-o name`, and the -o option each command takes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click
import pytest
from click.testing import CliRunner

from devns.plugin.output import (age, bar, countdown, expires_text, human_duration, output_option, render,
                                 resource_name, table, usage)
from devns.units import parse_quantity

NOW = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (42, "42s"), (60, "1m"), (100, "1m40s"), (3600, "1h"), (5 * 3600 + 12 * 60 + 5, "5h12m"),
    (3 * 86400 + 4 * 3600 + 59, "3d4h"), (7 * 86400, "7d"), (86400 + 59, "1d"), (-5, "0s"),
])
def test_human_duration_shows_the_two_largest_units(seconds, text):
    assert human_duration(dt.timedelta(seconds=seconds)) == text


@pytest.mark.parametrize("left, text", [
    (dt.timedelta(days=7) - dt.timedelta(seconds=2), "in 7d"),  # just created with ttl 7d: not "in 6d23h"
    (dt.timedelta(days=3, hours=4, minutes=30), "in 3d4h"),
    (dt.timedelta(minutes=4, seconds=1), "in 5m"),
    (dt.timedelta(seconds=30), "in 30s"),
    (dt.timedelta(seconds=0), "expired 0s ago"),
    (-dt.timedelta(minutes=5, seconds=59), "expired 5m59s ago"),
    (-dt.timedelta(days=2, hours=1), "expired 2d1h ago"),
])
def test_countdown_rounds_time_left_up_to_the_minute_and_truncates_time_past(left, text):
    assert countdown(NOW + left, NOW) == text


def test_countdown_and_its_sentence_for_what_never_expires():
    assert countdown(None, NOW) == "never"
    assert expires_text(None, NOW) == "never expires"
    assert expires_text(NOW + dt.timedelta(days=7), NOW) == "expires in 7d"
    assert expires_text(NOW - dt.timedelta(minutes=5), NOW) == "expired 5m ago"


def test_age():
    assert age(NOW - dt.timedelta(hours=26), NOW) == "1d2h"
    assert age(None, NOW) == "<unknown>"


@pytest.mark.parametrize("used, hard, width, drawn", [
    ("0", "4", 8, "[--------]"), ("1", "4", 8, "[##------]"), ("4", "4", 4, "[####]"), ("9", "4", 4, "[####]"),
    ("500m", "2", 4, "[#---]"), ("1Gi", "4Gi", 4, "[#---]"), ("0", "0", 3, "[---]"), ("1", "0", 3, "[###]"),
])
def test_bar_fills_in_proportion_and_stays_full_when_over(used, hard, width, drawn):
    assert bar(parse_quantity(used), parse_quantity(hard), width) == drawn


def test_bar_rounds_to_the_nearest_cell():
    assert bar(Decimal("1"), Decimal("16"), 8) == "[#-------]"  # 0.5 cell rounds up
    assert bar(Decimal("1"), Decimal("17"), 8) == "[--------]"


def test_usage_cell_spells_quantities_as_the_quota_does():
    assert usage("250m", "2") == "250m/2 [#----]"
    assert usage(None, "4Gi") == "0/4Gi [-----]"
    assert usage("1", None) == "-"
    assert usage("x", "4") == "-"


def test_table_pads_columns_as_kubectl_does_and_ignores_colour_codes_in_widths():
    red = click.style("in 5m", fg="red")
    out = table(("NAME", "EXPIRES", "PODS"), [["a", red, "1/50"], ["longer-name", "never", "-"]])
    lines = click.unstyle(out).splitlines()
    assert lines == ["NAME          EXPIRES   PODS",
                     "a             in 5m     1/50",
                     "longer-name   never     -"]
    assert "\x1b[31m" in out  # the colour is there for a terminal; click.echo drops it elsewhere


def test_table_leaves_no_trailing_spaces():
    assert table(("A", "B"), [["x", ""]]).splitlines()[1] == "x"


def test_render_name_and_list():
    objs = [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]
    assert resource_name("a") == "devnamespace.devns.io/a"
    assert render(objs, "name", single=False) == "devnamespace.devns.io/a\ndevnamespace.devns.io/b\n"
    assert '"kind": "List"' in render(objs, "json", single=False)
    assert render(objs[:1], "yaml", single=True).startswith("metadata:")


def test_output_option_takes_only_the_formats_given():
    @click.command()
    @output_option("yaml", "json", default="text")
    def cmd(output):
        click.echo(output)

    runner = CliRunner()
    assert runner.invoke(cmd, ["-o", "json"]).output == "json\n"
    refused = runner.invoke(cmd, ["-o", "wide"])
    assert refused.exit_code == 2 and "'wide' is not one of 'yaml', 'json'" in refused.output
    assert "Output format: yaml or json (default: text)." in runner.invoke(cmd, ["--help"]).output
