# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shape of K3s join tokens (join_protocol.md §1), checked without ever repeating the secret.

The collection writes a token only into a 0600 file that K3s reads with --token-file, so any
character is safe (+ / % * $ ' " \\ spaces ...). The only rejections here are the ones K3s itself makes:
empty, a line break inside, a malformed K10 token; plus a bootstrap token given to a server.

Private to edgefleet.k3s. Pure Python (3.8+); see _k3s_findings.py for where it runs.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_findings import Findings, a_type

_BOOTSTRAP_RE = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
_HEX64_RE = re.compile(r"^[0-9a-fA-F]{64}$")
TOKEN_FILE_HINT = "copy the whole line of /var/lib/rancher/k3s/server/token from the first server"
TOKEN_FILE_FIX = "Copy the whole line of /var/lib/rancher/k3s/server/token from the first server"


class TokenShape(t.NamedTuple):
    kind: str  # short | secure | bootstrap | secure-bootstrap
    ca_hash: t.Optional[str]  # sha256 of the cluster CA; public, safe to return


def _check_k10(token: str, label: str, findings: Findings) -> t.Optional[TokenShape]:
    """`K10<hash>::<user>:<password>` or `K10<hash>::<id>.<secret>`; the hash may be empty."""
    ca_hash, sep, credentials = token[3:].partition("::")
    if not sep:
        findings.problem(
            label,
            "starts with 'K10', so K3s reads it as a full token K10<CA hash>::<user>:<password>, but it has "
            "no '::' (K3s fails with 'invalid token CA hash length')",
            f"A plain password must not begin with 'K10'; for a full token {TOKEN_FILE_HINT}",
        )
        return None
    if len(ca_hash) not in (0, 64):
        findings.problem(
            label,
            f"the CA hash between 'K10' and '::' has {len(ca_hash)} characters, K3s needs exactly 64 hex "
            "characters (K3s fails with 'invalid token CA hash length')",
            f"The token was cut or mistyped; {TOKEN_FILE_HINT}",
        )
        return None
    if ca_hash and not _HEX64_RE.match(ca_hash):
        findings.problem(label, "the CA hash between 'K10' and '::' is not hexadecimal, so it can never "
                         "match the cluster CA", TOKEN_FILE_FIX)
        return None
    if _BOOTSTRAP_RE.match(credentials):
        return TokenShape("secure-bootstrap" if ca_hash else "bootstrap", ca_hash.lower() or None)
    _user, colon, password = credentials.partition(":")
    if not colon or not password:
        findings.problem(label, "the part after '::' must be <user>:<password> or a bootstrap token "
                         "<6>.<16> (K3s fails with 'invalid token format')", TOKEN_FILE_FIX)
        return None
    if ca_hash != ca_hash.lower():
        findings.warn(label, "the CA hash is upper-case hex; K3s computes it in lower case",
                      TOKEN_FILE_FIX)
    return TokenShape("secure" if ca_hash else "short", ca_hash.lower() or None)


def check_token(value: t.Any, variable: str, role: t.Optional[str], joining: bool,
                findings: Findings) -> t.Optional[TokenShape]:
    """Classify a token; `joining` means the node joins an existing server (it has a server URL)."""
    label = f"{variable} (hidden)"
    if value is None:
        return None
    if not isinstance(value, str):
        # Never print the value: an all-digit password is still a password.
        findings.problem(label, f"is {a_type(value)}, not a string; YAML converts unquoted numbers and "
                         "words like yes, so the token may no longer be what you typed",
                         "Quote the token in YAML (or keep it in a vault-encrypted string)")
        return None
    if not value.strip():
        findings.problem(label, "is empty (K3s refuses it: 'token must not be empty')",
                         "Set a token, for example from a vault-encrypted variable")
        return None
    if "\n" in value.strip() or "\r" in value.strip():
        findings.problem(label, "contains a line break; K3s reads the token file as one line",
                         "Remove the line break (a vault or lookup may have added it)")
        return None
    if value != value.strip():
        findings.warn(label, "has leading or trailing whitespace, which K3s strips when it reads the token file",
                      "Remove it so that every node sees the same token")
    token = value.strip()
    if token.startswith("K10"):
        shape = _check_k10(token, label, findings)
    elif _BOOTSTRAP_RE.match(token):
        shape = TokenShape("bootstrap", None)
    else:
        shape = TokenShape("short", None)
    if shape is None:
        return None
    if role == "server" and shape.kind in ("bootstrap", "secure-bootstrap"):
        findings.problem(
            label,
            "is a bootstrap token (from 'k3s token create'); servers refuse it ('failed to normalize server "
            "token; must be in format K10<CA-HASH>::<USERNAME>:<PASSWORD> or <PASSWORD>')",
            "Bootstrap tokens only join agents; give servers the server token",
        )
    if joining and shape.ca_hash is None:
        findings.warn(
            label,
            "has no CA hash, so the joining node cannot check that it talks to the right cluster (K3s warns "
            "'the token does not include a CA hash')",
            f"Use the full K10... token: {TOKEN_FILE_HINT}",
        )
    return shape
