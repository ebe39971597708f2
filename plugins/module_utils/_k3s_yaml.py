# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a K3s config mapping as YAML that K3s (gopkg.in/yaml.v2, YAML 1.1) reads back unchanged.

YAML 1.1 turns many plain words into other types (yes/no/on/off, 0644, 1_000, 0x10, ~, 1e3), so every
string is written double-quoted; only real booleans and integers are written plain. A hand-written
emitter keeps the output byte-stable across PyYAML versions (a changed file would restart K3s).

Private to edgefleet.k3s. Pure Python (3.8+); see _k3s_findings.py for where it runs.
"""

from __future__ import annotations

import re
import typing as t

_PLAIN_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\+?$")
# Escapes yaml.v2 understands; everything else below 0x20, DEL, and the Unicode line breaks YAML
# would fold are written as \x / \u escapes.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}
_UNICODE_BREAKS = ("\x85", "\u2028", "\u2029", "\ufeff")


def quote(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\x{ord(char):02x}")
        elif char in _UNICODE_BREAKS:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def scalar(value: t.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if value is None:
        return '""'
    if isinstance(value, str):
        return quote(value)
    raise TypeError(f"cannot write a {type(value).__name__} into a K3s config file")


def _key(key: str) -> str:
    return key if _PLAIN_KEY_RE.match(key) else quote(key)


def render(config: t.Mapping[str, t.Any]) -> str:
    """YAML text for a flat mapping of flag -> scalar or list of scalars (the only shapes K3s reads)."""
    if not config:
        return "{}\n"
    lines = []
    for key, value in config.items():
        if isinstance(value, (list, tuple)):
            if not value:
                lines.append(f"{_key(key)}: []")
                continue
            lines.append(f"{_key(key)}:")
            lines.extend(f"  - {scalar(item)}" for item in value)
        else:
            lines.append(f"{_key(key)}: {scalar(value)}")
    return "\n".join(lines) + "\n"
