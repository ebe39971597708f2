# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find variables that look like ours but that no role reads: typos and leftovers.

Ansible silently ignores a variable nobody reads, so `k3s_verison: v1.33.5+k3s1` in group_vars
installs the default version without a word. Every name defined for the host that starts with one of
the collection's prefixes must be one the roles know.

Private to edgefleet.k3s. Pure Python (3.8+); see _k3s_findings.py for where it runs.
"""

from __future__ import annotations

import typing as t

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_findings import Findings, closest

DEFAULT_PREFIXES = ("k3s_", "edgefleet_")


def unknown_variables(host_variables: t.Iterable[str], known_variables: t.Iterable[str],
                      prefixes: t.Sequence[str]) -> t.List[str]:
    """Names with one of `prefixes` (any case) that are not in `known_variables`, sorted."""
    known = set(known_variables)
    lowered = tuple(p.lower() for p in prefixes if p)
    return sorted({name for name in host_variables
                   if isinstance(name, str) and name.lower().startswith(lowered) and name not in known})


def check_variables(host_variables: t.Optional[t.Iterable[str]], known_variables: t.Optional[t.Iterable[str]],
                    prefixes: t.Sequence[str], strict: bool, findings: Findings) -> t.List[str]:
    """Report unknown prefixed names; with `strict` false they are warnings instead of problems.

    Without a list of known names nothing can be judged, so the check is skipped.
    """
    if not known_variables or host_variables is None:
        return []
    known = sorted(set(known_variables))
    names = unknown_variables(host_variables, known, prefixes)
    report = findings.problem if strict else findings.warn
    for name in names:
        match = closest(name.lower(), known, cutoff=0.8)
        if match:
            fix = f"Did you mean '{match}'?"
        else:
            fix = "Check the spelling against the role documentation, or remove it"
        report(name, "is not a variable of edgefleet.k3s, so it has no effect", fix)
    return names
