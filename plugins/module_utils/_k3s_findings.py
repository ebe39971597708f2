# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collects problems and warnings while the K3s settings of one host are checked.

Private to edgefleet.k3s. Pure Python (3.8+): imported on the controller by the k3s_validate action,
and on the target only when the module runs without its action plugin.
"""

from __future__ import annotations

import difflib
import typing as t


class Findings:
    """Every check appends here instead of raising, so that a run reports all mistakes at once.

    A message reads ``<variable>: <what is wrong>. <how to fix it>`` so that a user can act on a
    single line without reading the collection's code.
    """

    def __init__(self) -> None:
        self.problems: t.List[str] = []
        self.warnings: t.List[str] = []

    @staticmethod
    def _compose(variable: str, what: str, fix: str) -> str:
        text = f"{variable}: {what}"
        if fix:
            text = f"{text}. {fix}"
        return text

    def problem(self, variable: str, what: str, fix: str = "") -> None:
        self.problems.append(self._compose(variable, what, fix))

    def warn(self, variable: str, what: str, fix: str = "") -> None:
        self.warnings.append(self._compose(variable, what, fix))


def closest(word: str, candidates: t.Iterable[str], cutoff: float = 0.75) -> t.Optional[str]:
    """Best "did you mean" candidate, or None when nothing is close enough to be a plausible typo."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: t.Iterable[str], cutoff: float = 0.75) -> str:
    """Sentence fragment for messages; empty when there is no good suggestion."""
    match = closest(word, candidates, cutoff)
    return f"did you mean '{match}'?" if match else ""


def type_name(value: t.Any) -> str:
    """Name of a value's kind in YAML words, for messages about wrongly typed input."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, t.Mapping):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def a_type(value: t.Any) -> str:
    """type_name with its article: 'an integer', 'a mapping'."""
    name = type_name(value)
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"
