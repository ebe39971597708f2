"""Shared assertions for the k3s_validate unit tests."""

from __future__ import annotations

import typing as t

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_validate import Report, validate


def run(**params: t.Any) -> Report:
    return validate(params)


def only_problem(report: Report) -> str:
    assert len(report.problems) == 1, report.problems
    return report.problems[0]


def assert_problem(report: Report, *fragments: str) -> str:
    """Exactly one problem contains every fragment; returns it for further checks."""
    matching = [p for p in report.problems if all(f in p for f in fragments)]
    assert len(matching) == 1, f"{fragments!r} not found once in {report.problems!r}"
    return matching[0]


def assert_warning(report: Report, *fragments: str) -> str:
    matching = [w for w in report.warnings if all(f in w for f in fragments)]
    assert len(matching) == 1, f"{fragments!r} not found once in {report.warnings!r}"
    return matching[0]
