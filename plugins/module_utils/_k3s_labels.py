# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node labels and taints a K3s node registers itself with (`node-label`, `node-taint`).

K3s hands them to its embedded kubelet (`--node-labels`, `--register-with-taints`), which refuses to
start on a bad one; K3s then retries forever and the node never joins. The rules below are the
kubelet's (Kubernetes `ValidateKubeletFlags`, `IsQualifiedName`, `IsValidLabelValue`):

* key: optional DNS-subdomain prefix (<= 253) + '/' + name (<= 63, alphanumeric at both ends,
  '-', '_', '.' inside); value: empty or the same shape as a name (<= 63).
* labels in the kubernetes.io / k8s.io namespaces (and their sub-domains) are refused unless they are
  one of the well-known labels the kubelet sets itself or sit under kubelet.kubernetes.io or
  node.kubernetes.io. So `node-role.kubernetes.io/worker` cannot be self-set: label such nodes with
  kubectl after they joined, or use an own prefix.
* taint: key[=value]:effect with effect NoSchedule, PreferNoSchedule or NoExecute.

Private to edgefleet.k3s. Pure Python (3.8+); see _k3s_findings.py for where it runs.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_findings import Findings, a_type, did_you_mean

_NAME_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

# Labels a kubelet may set on its own node although they are in the kubernetes.io namespace.
KUBELET_LABELS = frozenset((
    "kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os",
    "beta.kubernetes.io/arch", "beta.kubernetes.io/os", "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
    "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
))
KUBELET_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
RESERVED_DOMAINS = ("kubernetes.io", "k8s.io")


def _in_domain(namespace: str, domain: str) -> bool:
    return namespace == domain or namespace.endswith("." + domain)


def kubelet_refuses(key: str) -> bool:
    """True for keys the kubelet will not set on its own node (it exits instead)."""
    namespace = key.rpartition("/")[0] if "/" in key else ""
    if not any(_in_domain(namespace, domain) for domain in RESERVED_DOMAINS):
        return False
    if key in KUBELET_LABELS:
        return False
    return not any(_in_domain(namespace, allowed) for allowed in KUBELET_NAMESPACES)


def key_problem(key: str) -> t.Optional[str]:
    """Why `key` is not a Kubernetes qualified name, or None."""
    prefix, slash, name = key.rpartition("/")
    if not slash:
        prefix, name = "", key
    if slash and (not prefix or len(prefix) > 253 or not _SUBDOMAIN_RE.match(prefix)):
        return f"the prefix '{prefix}' must be a lower-case DNS name of at most 253 characters"
    if not name:
        return "the name part is empty"
    if len(name) > 63:
        return f"the name part has {len(name)} characters (at most 63)"
    if not _NAME_RE.match(name):
        return ("the name part may only hold letters, digits, '-', '_' and '.', and must start and end with "
                "a letter or digit")
    return None


def value_problem(value: str) -> t.Optional[str]:
    if value == "":
        return None
    if len(value) > 63:
        return f"the value has {len(value)} characters (at most 63)"
    if not _NAME_RE.match(value):
        return ("the value may only hold letters, digits, '-', '_' and '.', and must start and end with a "
                "letter or digit")
    return None


def _label_text(value: t.Any) -> str:
    """A label value as YAML delivered it, in the text the kubelet will see."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _label_items(value: t.Any, where: str, findings: Findings) -> t.List[str]:
    if isinstance(value, t.Mapping):
        items = []
        for key, item in value.items():
            if isinstance(item, bool):
                findings.warn(f"{where}['{key}']", f"YAML read the value as the boolean {str(item).lower()}, so the "
                              f"label becomes {key}={_label_text(item)}", "Quote the value if you meant another word")
            items.append(f"{key}={_label_text(item)}")
        return items
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [item if isinstance(item, str) else _label_text(item) for item in value]
    findings.problem(where, f"is {a_type(value)}", "Give labels as a list of 'key=value' or a mapping")
    return []


def check_labels(value: t.Any, where: str, findings: Findings) -> t.List[str]:
    """Validate node labels; returns them as 'key=value' strings in the given order."""
    if value is None:
        return []
    labels: t.List[str] = []
    seen: t.Dict[str, str] = {}
    for item in _label_items(value, where, findings):
        pieces = item.split(",")
        if len(pieces) > 1:
            findings.warn(where, f"'{item}' contains ',', and K3s joins labels with ',' for the kubelet, so it "
                          f"becomes {len(pieces)} labels", "Give each label as its own list item")
        for piece in pieces:
            key, equals, text = piece.strip().partition("=")
            if not equals:
                findings.problem(where, f"'{piece}' has no '='; a node label is key=value",
                                 f"Write '{key}=<value>' (an empty value is allowed: '{key}=')")
                continue
            reason = key_problem(key) or value_problem(text)
            if reason:
                findings.problem(where, f"'{piece}' is not a valid label: {reason}",
                                 "Fix the label (see Kubernetes label syntax)")
                continue
            if kubelet_refuses(key):
                findings.problem(
                    where,
                    f"'{key}' is in the kubernetes.io / k8s.io namespace, which a node may not set on itself "
                    f"(the kubelet exits: \"unknown 'kubernetes.io' or 'k8s.io' labels specified with "
                    f"--node-labels: [{key}]\")",
                    "Use your own prefix (e.g. 'edgefleet.io/role=worker') or set the label with kubectl "
                    "after the node joined",
                )
                continue
            if key in seen and seen[key] != text:
                findings.warn(where, f"sets the label '{key}' twice ('{seen[key]}' and '{text}'); the last wins",
                              "Keep one")
            seen[key] = text
            labels.append(f"{key}={text}")
    return labels


def check_taints(value: t.Any, where: str, findings: Findings) -> t.List[str]:
    """Validate node taints `key[=value]:Effect`; returns them normalised."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        findings.problem(where, f"is {a_type(value)}", "Give taints as a list of 'key[=value]:Effect'")
        return []
    taints = []
    for item in value:
        if not isinstance(item, str):
            findings.problem(where, f"has {a_type(item)} item", "Write each taint as 'key[=value]:Effect'")
            continue
        body, colon, effect = item.strip().rpartition(":")
        if not colon:
            findings.problem(where, f"'{item}' has no effect", f"Write '{item}:NoSchedule' (or PreferNoSchedule, "
                             "NoExecute)")
            continue
        if effect not in TAINT_EFFECTS:
            hint = did_you_mean(effect, TAINT_EFFECTS, cutoff=0.6) or f"use one of {', '.join(TAINT_EFFECTS)}"
            fixed = next((e for e in TAINT_EFFECTS if e.lower() == effect.lower()), None)
            if fixed:
                hint = f"did you mean '{fixed}'? (effects are case-sensitive)"
            findings.problem(where, f"'{item}' has the effect '{effect}', which Kubernetes does not know",
                             hint[0].upper() + hint[1:])
            continue
        key, _equals, text = body.partition("=")
        reason = key_problem(key) or value_problem(text)
        if reason:
            findings.problem(where, f"'{item}' is not a valid taint: {reason}", "Fix the taint key or value")
            continue
        taints.append(item.strip())
    return taints
