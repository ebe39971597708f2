"""Token shapes (join_protocol.md §1); the token is never repeated in any output."""

from __future__ import annotations

import json

import pytest

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_validate import to_result

from ..helpers import assert_problem, assert_warning, run

HASH = "a" * 64
SERVER_URL = "https://10.0.0.10:6443"


def _assert_hidden(report, token):
    text = json.dumps(to_result(report, "edge-1"))
    assert token not in text


# Users keep reporting tokens with regex or shell characters breaking tools (peers.md #2).
@pytest.mark.parametrize("token", [
    "pa+ss/word", "100%*sure", "$HOME'quoted'", 'dbl"quote\\back', "with spaces inside", "ünïcödé+€",
    f"K10{HASH}::server:p+a/s%s*$'w\"d \\x",
])
def test_special_characters_are_accepted_unchanged(token):
    report = run(token=token, role="server")
    assert report.problems == []
    _assert_hidden(report, token)


@pytest.mark.parametrize("token, kind, ca_hash", [
    ("mysecret", "short", None),
    (f"K10{HASH}::server:mysecret", "secure", HASH),
    (f"K10{HASH}::node:mysecret", "secure", HASH),
    ("K10::server:mysecret", "short", None),
    ("abcdef.0123456789abcdef", "bootstrap", None),
    (f"K10{HASH}::abcdef.0123456789abcdef", "secure-bootstrap", HASH),
])
def test_token_kinds(token, kind, ca_hash):
    report = run(token=token, role="agent", server_url=SERVER_URL)
    assert report.problems == []
    assert (report.values["token_kind"], report.values["token_ca_hash"]) == (kind, ca_hash)


def test_empty_token():
    assert_problem(run(token=""), "k3s_token (hidden): is empty (K3s refuses it: 'token must not be empty')")


def test_newline_inside_token():
    token = "first\nsecond"
    report = run(token=token)
    assert_problem(report, "k3s_token (hidden): contains a line break")
    _assert_hidden(report, "second")


def test_k10_with_short_hash():
    token = "K10" + "b" * 63 + "::server:topsecret"
    report = run(token=token)
    assert_problem(report, "k3s_token (hidden): the CA hash between 'K10' and '::' has 63 characters",
                   "'invalid token CA hash length'")
    _assert_hidden(report, "topsecret")


def test_password_starting_with_k10():
    assert_problem(run(token="K10isnotahash"), "starts with 'K10'", "no '::'",
                   "A plain password must not begin with 'K10'")


def test_k10_without_password():
    assert_problem(run(token=f"K10{HASH}::server:"), "'invalid token format'")


def test_token_as_number_is_rejected_without_echo():
    report = run(token=420)
    problem = assert_problem(report, "k3s_token (hidden): is an integer, not a string")
    assert "420" not in problem


def test_bootstrap_token_on_server():
    assert_problem(run(token="abcdef.0123456789abcdef", role="server"),
                   "is a bootstrap token", "failed to normalize server token")


def test_joining_with_short_token_warns_about_ca_hash():
    assert_warning(run(token="mysecret", role="agent", server_url=SERVER_URL),
                   "k3s_token (hidden): has no CA hash")


def test_surrounding_whitespace_warns():
    assert_warning(run(token=" secret "), "K3s strips")


def test_agent_token_uses_its_own_variable_name():
    assert_problem(run(agent_token=""), "k3s_agent_token (hidden): is empty")
