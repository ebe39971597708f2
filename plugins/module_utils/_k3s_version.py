# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""K3s release tags: `v<major>.<minor>.<patch>[-rcN]+k3s<N>` (release_artifacts.md §1).

Private to edgefleet.k3s. Pure Python (3.8+); see _k3s_findings.py for where it runs.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_findings import Findings, a_type

EXAMPLE_RELEASE = "v1.34.3+k3s1"

_RELEASE_RE = re.compile(
    r"^v(?P<major>0|[1-9][0-9]*)\.(?P<minor>0|[1-9][0-9]*)\.(?P<patch>0|[1-9][0-9]*)"
    r"(?:-rc(?P<rc>[1-9][0-9]*))?\+k3s(?P<build>[1-9][0-9]*)$"
)
_MINOR_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
# `v1.34.3+k3s-abcdef12[-dirty]`: what an untagged build reports; nothing can download it.
_DEV_BUILD_RE = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+\+k3s-[0-9a-f]{8}(-dirty)?$")
_KUBERNETES_ONLY_RE = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+$")


class K3sVersion(t.NamedTuple):
    major: int
    minor: int
    patch: int
    rc: t.Optional[int]
    build: int

    @property
    def minor_line(self) -> str:
        return f"{self.major}.{self.minor}"

    def __str__(self) -> str:
        rc = f"-rc{self.rc}" if self.rc is not None else ""
        return f"v{self.major}.{self.minor}.{self.patch}{rc}+k3s{self.build}"

    def as_dict(self) -> t.Dict[str, t.Any]:
        return {"major": self.major, "minor": self.minor, "patch": self.patch, "rc": self.rc,
                "build": self.build, "minor_line": self.minor_line}


def parse_release(text: str) -> t.Optional[K3sVersion]:
    match = _RELEASE_RE.match(text)
    if not match:
        return None
    rc = match.group("rc")
    return K3sVersion(int(match.group("major")), int(match.group("minor")), int(match.group("patch")),
                      int(rc) if rc else None, int(match.group("build")))


def _repair(text: str) -> t.Tuple[str, str]:
    """Guess what the user meant, and say what was wrong, for the usual slips.

    Returns (diagnosis, repaired text); the repaired text is only offered when it parses.
    """
    if _DEV_BUILD_RE.match(text):
        return ("is an untagged development build (+k3s-<commit>); only release tags can be downloaded", "")
    candidate, reasons = text, []
    if "%2b" in candidate.lower():
        candidate = re.sub("%2b", "+", candidate, flags=re.IGNORECASE)
        reasons.append("is URL-encoded (%2B stands for '+')")
    if candidate[:1] == "V":
        candidate = "v" + candidate[1:]
        reasons.append("starts with a capital 'V'")
    elif candidate[:1].isdigit():
        candidate = "v" + candidate
        reasons.append("has no leading 'v'")
    if re.search(r"-k3s[0-9]+$", candidate):
        candidate = re.sub(r"-k3s([0-9]+)$", r"+k3s\1", candidate)
        reasons.append("uses '-k3s<N>', the container image tag spelling; the release tag has '+k3s<N>'")
    if _KUBERNETES_ONLY_RE.match(candidate):
        candidate += "+k3s1"
        reasons.append("is a Kubernetes version; K3s release tags end in '+k3s<N>'")
    if not reasons:
        reasons.append("is not a K3s release tag of the form v<major>.<minor>.<patch>[-rc<N>]+k3s<N>")
    return "; ".join(reasons), candidate if parse_release(candidate) else ""


def check_supported_minors(minors: t.Sequence[t.Any], variable: str, findings: Findings) -> t.List[str]:
    valid = []
    for minor in minors:
        if isinstance(minor, str) and _MINOR_RE.match(minor.strip()):
            valid.append(minor.strip())
        else:
            findings.problem(variable, f"'{minor}' is not a minor release line", "Write lines as '1.34'")
    return valid


def check_version(value: t.Any, variable: str, supported_minors: t.Sequence[str],
                  findings: Findings) -> t.Optional[K3sVersion]:
    """Parse the version the user asked for; report why it cannot be installed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        findings.problem(variable, "is empty", f"Set it to a K3s release tag such as '{EXAMPLE_RELEASE}'")
        return None
    if not isinstance(value, str):
        # An unquoted 1.34 in YAML arrives as a float: say so, the user never typed "float".
        findings.problem(variable, f"is {a_type(value)} ({value}), not a release tag",
                         f"Quote a full K3s release tag such as '{EXAMPLE_RELEASE}'")
        return None
    text = value.strip()
    version = parse_release(text)
    if version is None:
        diagnosis, repaired = _repair(text)
        findings.problem(variable, f"'{text}' {diagnosis}",
                         f"Use '{repaired or EXAMPLE_RELEASE}'")
        return None
    if supported_minors and version.minor_line not in supported_minors:
        findings.problem(
            variable,
            f"K3s {version.minor_line} ('{text}') is not a release line this collection supports "
            f"(supported: {', '.join(supported_minors)})",
            f"Pick a release of a supported line, e.g. '{EXAMPLE_RELEASE}'",
        )
    if version.rc is not None:
        findings.warn(variable, f"'{text}' is a release candidate", "Use a final release on production nodes")
    return version
