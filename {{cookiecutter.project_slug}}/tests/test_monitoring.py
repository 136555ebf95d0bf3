"""The alerting rules and the Grafana dashboard (``deploy/``) ask only for metrics served.

A metric renamed or dropped in the code would leave a rule that never fires and a
panel that stays empty: each expression's metric names are checked against the
metrics the app registers.
"""

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }}.core.config import Settings
from tests.conftest import app_of

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
# The series of each kind of metric, after its name.
SERIES_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum"),
}
# What an expression holds besides metric names: label matchers, ranges, groupings.
MATCHERS = re.compile(r"\{[^}]*\}|\[[^\]]*\]")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
NAME = re.compile(r"[a-zA-Z_:][\w:]*")
OPERATORS = frozenset({"and", "or", "unless", "bool", "offset"})


def served_series(app: FastAPI) -> set[str]:
    return {
        family.name + suffix
        for family in app.state.metrics.registry.collect()
        for suffix in SERIES_SUFFIXES[family.type]
    }


def metric_names(expression: str) -> set[str]:
    """The metrics a PromQL expression reads: the names that are not functions' or keywords."""
    text = GROUPING.sub(" ", MATCHERS.sub(" ", expression))
    return {
        match.group()
        for match in NAME.finditer(text)
        if not text[match.end() :].lstrip().startswith("(") and match.group() not in OPERATORS
    }


def alert_expressions() -> list[str]:
    rules = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    return re.findall(r"^ +expr: (.+)$", rules, flags=re.MULTILINE)


def dashboard_expressions() -> list[str]:
    [path] = (DEPLOY / "grafana").glob("*.json")
    dashboard = json.loads(path.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_metric_names_are_read_out_of_expressions() -> None:
    expression = 'sum by (job) (rate(a_total{status=~"5.."}[5m])) / on (job) max(b) > 0 and c'

    assert metric_names(expression) == {"a_total", "b", "c"}


@pytest.mark.parametrize(
    "expressions", [alert_expressions, dashboard_expressions], ids=["alerts", "dashboard"]
)
def test_every_expression_reads_metrics_the_service_serves(
    settings: Settings, expressions: Callable[[], list[str]]
) -> None:
    served = served_series(app_of(settings))

    assert expressions()
    for expression in expressions():
        names = metric_names(expression)
        assert names, expression
        assert names <= served, f"{sorted(names - served)} in {expression}"
