"""Misplaced or misspelled variables (peers.md #11)."""

from __future__ import annotations

from ..helpers import assert_problem, assert_warning, run

KNOWN = ["k3s_version", "k3s_token", "k3s_config", "k3s_server_url", "edgefleet_site"]


def test_misspelled_variable_is_reported_with_suggestion():
    report = run(known_variables=KNOWN, host_variables=["k3s_verison", "k3s_version", "ansible_host"])
    problem = assert_problem(report, "k3s_verison: is not a variable of edgefleet.k3s, so it has no effect")
    assert problem.endswith("Did you mean 'k3s_version'?")
    assert report.values["unknown_variables"] == ["k3s_verison"]


def test_other_prefix_and_case():
    report = run(known_variables=KNOWN, host_variables=["EdgeFleet_site", "edgefleet_sit"])
    assert len(report.problems) == 2
    assert_problem(report, "edgefleet_sit:", "Did you mean 'edgefleet_site'?")


def test_unrelated_and_internal_names_are_ignored():
    report = run(known_variables=KNOWN, host_variables=["ansible_user", "_k3s_internal", "mysql_k3s_thing"])
    assert report.problems == []


def test_without_suggestion():
    assert_problem(run(known_variables=KNOWN, host_variables=["k3s_zzzzzz"]), "Check the spelling")


def test_no_known_list_skips_the_check():
    assert run(host_variables=["k3s_verison"]).problems == []


def test_non_strict_mode_warns():
    report = run(known_variables=KNOWN, host_variables=["k3s_verison"], strict_variables=False)
    assert report.problems == []
    assert_warning(report, "k3s_verison")


def test_custom_prefixes():
    report = run(known_variables=KNOWN, host_variables=["k3s_verison", "site_x"], variable_prefixes=["site_"])
    assert [p.split(":")[0] for p in report.problems] == ["site_x"]
