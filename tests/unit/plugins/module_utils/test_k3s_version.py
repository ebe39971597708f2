"""K3s version tags (release_artifacts.md §1) and supported release lines."""

from __future__ import annotations

import pytest

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_version import parse_release

from ..helpers import assert_problem, assert_warning, only_problem, run


@pytest.mark.parametrize("tag", ["v1.34.3+k3s1", "v1.32.10+k3s1", "v1.33.0+k3s2", "v1.32.4-rc1+k3s1"])
def test_release_tags_are_accepted(tag):
    report = run(version=tag)
    assert report.problems == []
    assert report.values["version"] == tag


def test_version_info_is_split():
    info = run(version="v1.32.4-rc1+k3s2").values["version_info"]
    assert info == {"major": 1, "minor": 32, "patch": 4, "rc": 1, "build": 2, "minor_line": "1.32"}


def test_version_without_v_suggests_the_tag():
    problem = only_problem(run(version="1.34.3+k3s1"))
    assert problem == "k3s_version: '1.34.3+k3s1' has no leading 'v'. Use 'v1.34.3+k3s1'"


@pytest.mark.parametrize("given, fragment, suggestion", [
    ("v1.34.3-k3s1", "container image tag spelling", "Use 'v1.34.3+k3s1'"),
    ("v1.34.3%2Bk3s1", "URL-encoded", "Use 'v1.34.3+k3s1'"),
    ("v1.34.3", "is a Kubernetes version", "Use 'v1.34.3+k3s1'"),
    ("1.33.5", "has no leading 'v'", "Use 'v1.33.5+k3s1'"),
    ("latest", "is not a K3s release tag", "Use 'v1.34.3+k3s1'"),
    ("v1.34.3+k3s-abcdef12", "untagged development build", "Use 'v1.34.3+k3s1'"),
])
def test_malformed_versions_explain_and_suggest(given, fragment, suggestion):
    assert_problem(run(version=given), "k3s_version:", fragment, suggestion)


def test_unquoted_float_version():
    assert_problem(run(version=1.34), "k3s_version: is a float (1.34), not a release tag",
                   "Quote a full K3s release tag such as 'v1.34.3+k3s1'")


def test_empty_version():
    assert_problem(run(version=""), "k3s_version: is empty")


def test_unsupported_minor_lists_supported_lines():
    assert_problem(run(version="v1.31.4+k3s1"),
                   "K3s 1.31 ('v1.31.4+k3s1') is not a release line this collection supports "
                   "(supported: 1.32, 1.33, 1.34)")


def test_supported_minors_are_configurable():
    assert run(version="v1.31.4+k3s1", supported_minors=["1.31", "1.32"]).problems == []
    assert_problem(run(version="v1.34.3+k3s1", supported_minors=["1.32"]), "supported: 1.32")


def test_bad_supported_minor_entry():
    assert_problem(run(supported_minors=["1.32", "v1.33"]), "k3s_supported_minors: 'v1.33' is not a minor release line")


def test_line_outside_the_flag_table_warns():
    assert_warning(run(version="v1.35.0+k3s1", supported_minors=["1.35"]), "the flag table covers K3s 1.32, 1.33, 1.34")


def test_release_candidate_warns():
    assert_warning(run(version="v1.34.3-rc1+k3s1"), "is a release candidate")


def test_parse_release_rejects_leading_zeros():
    assert parse_release("v1.034.3+k3s1") is None
