# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The URL a joining node uses to reach a K3s server, normalised to `https://<host>:<port>`.

K3s only accepts https and trims one trailing '/' (join_protocol.md §2 step 5). Users write the
address many ways (`host`, `host:port`, `https://host/`, `[fd00::1]:6443`); the collection renders one.
The URL is parsed by hand because urllib accepts (and silently reinterprets) several of the mistakes
this module exists to report.

Private to edgefleet.k3s. Pure Python (3.8+); see _k3s_findings.py for where it runs.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_findings import Findings, a_type

DEFAULT_PORT = 6443
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_DNS_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


class _Parts(t.NamedTuple):
    scheme: str
    userinfo: bool
    host: str
    bracketed: bool
    port: str
    rest: str  # path, query and fragment as written


def _split(text: str) -> _Parts:
    scheme_match = _SCHEME_RE.match(text)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    remainder = text[scheme_match.end():] if scheme_match else text
    cut = min([i for i in (remainder.find(c) for c in "/?#") if i >= 0] or [len(remainder)])
    authority, rest = remainder[:cut], remainder[cut:]
    userinfo = "@" in authority
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):
        host, _bracket, after = authority[1:].partition("]")
        return _Parts(scheme, userinfo, host, True, after[1:] if after.startswith(":") else after, rest)
    if authority.count(":") > 1:
        # An unbracketed IPv6 address: its port cannot be told apart, the caller reports it.
        return _Parts(scheme, userinfo, authority, False, "", rest)
    host, _colon, port = authority.partition(":")
    return _Parts(scheme, userinfo, host, False, port if _colon else "", rest)


def _display(parts: _Parts, original: str) -> str:
    """The URL as given, but without credentials: a user:password must never reach the log."""
    if not parts.userinfo:
        return original
    return re.sub(r"(://|^)[^/?#]*@", r"\1***@", original, count=1)


def _host_problem(host: str) -> t.Optional[str]:
    if not host:
        return "has no host name"
    if re.match(r"^[0-9.]+$", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"'{host}' is not a valid IPv4 address"
        return None
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_DNS_LABEL_RE.match(label) for label in labels):
        return f"'{host}' is not a valid host name"
    return None


def _port_number(port: str) -> t.Optional[int]:
    if port == "":
        return DEFAULT_PORT
    if port.isdigit() and 0 < int(port) < 65536:
        return int(port)
    return None


def _format(host: str, bracketed: bool, port: t.Optional[int]) -> str:
    shown = f"[{host}]" if bracketed else host
    return f"https://{shown}:{port or DEFAULT_PORT}"


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(value: t.Any, variable: str, role: t.Optional[str],
                     findings: Findings) -> t.Optional[str]:
    """Return the normalised URL, or None after reporting why K3s could not use it."""
    if value is None:
        return None
    if not isinstance(value, str):
        findings.problem(variable, f"is {a_type(value)}, not a URL", "Write it as 'https://<server>:6443'")
        return None
    text = value.strip()
    if not text:
        findings.problem(variable, "is empty", "Give the address of a K3s server, e.g. 'https://10.0.0.10:6443'")
        return None
    parts = _split(text)
    shown = _display(parts, text)
    before = len(findings.problems)

    if parts.userinfo:
        findings.problem(variable, f"'{shown}' carries credentials before '@'; K3s authenticates with the token",
                         "Remove the user and password from the URL")
    if not parts.bracketed and parts.host.count(":") > 1:
        findings.problem(variable, f"'{shown}' has an IPv6 address without brackets",
                         f"Write it as '{_format(parts.host, True, None)}'")
        return None
    port = _port_number(parts.port)
    if port is None:
        findings.problem(variable, f"'{shown}' has the port '{parts.port}', which is not a number from 1 to 65535",
                         f"Use e.g. '{_format(parts.host, parts.bracketed, DEFAULT_PORT)}'")
    fixed = _format(parts.host, parts.bracketed, port)
    if parts.scheme and parts.scheme != "https":
        # The wording K3s itself logs, so that a search for it finds this check too.
        findings.problem(variable, f"'{shown}' uses {parts.scheme}:// (K3s: 'only https:// URLs are supported, "
                         f"invalid scheme: {shown}')", f"Use '{fixed}'")
    if parts.rest not in ("", "/"):
        findings.problem(variable, f"'{shown}' has the path or query '{parts.rest}'; K3s joins at the server's "
                         "root URL", f"Use '{fixed}'")
    if parts.bracketed:
        try:
            ipaddress.IPv6Address(parts.host)
        except ValueError:
            findings.problem(variable, f"'[{parts.host}]' is not a valid IPv6 address",
                             "Brackets are only for IPv6 addresses, e.g. 'https://[fd00::10]:6443'")
    else:
        reason = _host_problem(parts.host)
        if reason:
            findings.problem(variable, f"'{shown}' {reason}", "Use e.g. 'https://k3s.example.internal:6443'")
    if len(findings.problems) > before:
        return None
    host = parts.host.lower()
    if role == "agent" and _is_loopback(host):
        findings.warn(variable, f"'{fixed}' points at the agent itself",
                      "Use an address of a server that the agent can reach")
    return _format(host, parts.bracketed, port)
