"""Token formats, hash rules and error messages (join_protocol.md §1, pkg/clientaccess/token.go)."""
from __future__ import annotations

import hashlib
import re

import pytest

from k3s_standin import tokens

HASH = "a" * 64


@pytest.mark.parametrize("raw, expected", [
    ("mysecret", tokens.Token("", "", "mysecret")),
    (f"K10{HASH}::server:pw", tokens.Token(HASH, "server", "pw")),
    ("K10::node:pw", tokens.Token("", "node", "pw")),
    ("abcdef.0123456789abcdef", tokens.Token(bootstrap_id="abcdef", bootstrap_secret="0123456789abcdef")),
    (f"K10{HASH}::abcdef.0123456789abcdef",
     tokens.Token(HASH, bootstrap_id="abcdef", bootstrap_secret="0123456789abcdef")),
    ("pass:with:colons", tokens.Token("", "", "pass:with:colons")),
])
def test_parse(raw: str, expected: tokens.Token) -> None:
    assert tokens.parse(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("", "token must not be empty"),
    ("K10abc::server:pw", "invalid token CA hash length"),
    ("K10mysecretpassword", "invalid token format"),  # a short password starting with K10 is misparsed
    (f"K10{HASH}::server:", "invalid token format"),
    (f"K10{HASH}::nocolon", "invalid token format"),
])
def test_parse_errors(raw: str, message: str) -> None:
    with pytest.raises(tokens.TokenError) as err:
        tokens.parse(raw)
    assert str(err.value) == message


def test_with_user_forces_username_but_not_for_bootstrap() -> None:
    assert tokens.parse(f"K10{HASH}::server:pw").with_user("node").username == "node"
    bt = tokens.parse("abcdef.0123456789abcdef")
    assert bt.with_user("node") == bt


def test_password_of_normalizes_and_rejects_bootstrap() -> None:
    assert tokens.password_of(f"K10{HASH}::server:secret") == "secret"
    assert tokens.password_of("plain") == "plain"
    for bad in ("abcdef.0123456789abcdef", "K10x::server:pw"):
        with pytest.raises(tokens.TokenError) as err:
            tokens.password_of(bad)
        assert str(err.value) == tokens.NORMALIZE_ERROR


def test_format_uses_file_bytes_hash() -> None:
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    assert tokens.format_token("server:pw", pem) == f"K10{hashlib.sha256(pem).hexdigest()}::server:pw"
    assert tokens.format_token("", pem) == ""


def test_random_values_have_k3s_shapes() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", tokens.random_password())
    assert tokens.is_bootstrap_token(tokens.random_bootstrap_token())
