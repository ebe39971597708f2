"""Just enough schema for merging: which lists are keyed, which maps are atomic, which structs always exist.

Strategic merge patch (Go struct tags `patchStrategy`/`patchMergeKey`) and server-side apply
(`x-kubernetes-list-type`/`-list-map-keys`/`-map-type`) both need to know how a list or map merges.  The
real apiserver reads this from its compiled-in types and OpenAPI; the stand-in keeps a hand-written subset
for the fields manifests commonly set (documented in `typeinfo.DOC`) and derives the rest for custom
resources from their CRD's openAPIV3Schema.  Everything not described is "untyped": maps merge key by key,
lists are atomic (replaced whole), exactly what Kubernetes does for fields without list annotations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

DOC = """
Keyed lists (SSA keys / strategic merge key): containers, initContainers, ephemeralContainers (name);
container ports (containerPort+protocol / containerPort); env (name); volumeMounts (mountPath);
volumeDevices (devicePath); volumes (name); imagePullSecrets (name); hostAliases (ip);
topologySpreadConstraints (topologyKey+whenUnsatisfiable / topologyKey); resourceClaims, schedulingGates
(name); service ports (port+protocol / port); ownerReferences (uid); status conditions (type);
webhooks (name); serviceaccount secrets (name).  Sets: metadata.finalizers, node spec.podCIDRs.
Atomic maps: label selectors, service spec.selector, pod nodeSelector.  Everything else in a list is atomic.
Custom resources: x-kubernetes-list-type map/set/atomic, x-kubernetes-list-map-keys and
x-kubernetes-map-type from the CRD schema of the served version.
"""


@dataclass
class T:
    """Merge behaviour of one node of an object (struct, map, list or scalar)."""

    fields: dict[str, "T"] = field(default_factory=dict)
    elem: "T | None" = None            # list items, or values of a map with arbitrary keys
    list: str = "atomic"               # for lists: "atomic", "map" (keyed) or "set"
    keys: tuple[str, ...] = ()          # SSA list-map keys
    key_defaults: dict[str, Any] = field(default_factory=dict)
    smp_key: str | None = None          # strategic merge patchMergeKey
    smp_merge_primitives: bool = False  # patchStrategy=merge on a list of scalars (finalizers)
    atomic: bool = False                # map/struct replaced whole (x-kubernetes-map-type: atomic)
    retain_keys: bool = False           # patchStrategy=retainKeys
    implicit: bool = False              # a non-pointer Go struct: present (empty) in a zero object
    open: bool = False                  # keys not in `fields` are map keys, not struct fields (SSA "." rule)

    def child(self, name: str) -> "T":
        found = self.fields.get(name) or self.elem
        if found is not None:
            return found
        return UNTYPED_OPEN if self.open else UNTYPED

    def item(self) -> "T":
        return self.elem or UNTYPED


UNTYPED = T()
# Fields of custom resources that their schema does not describe (x-kubernetes-preserve-unknown-fields):
# server-side apply treats their keys as map keys, so applied maps are owned as a whole too.
UNTYPED_OPEN = T(open=True)


def _keyed(*keys: str, elem: T | None = None, smp: str | None = None, **kw: Any) -> T:
    return T(list="map", keys=keys, smp_key=smp or keys[0], elem=elem, **kw)


ATOMIC_MAP = T(atomic=True)
CONDITIONS = _keyed("type")
OBJECT_META = T(implicit=True, fields={
    "finalizers": T(list="set", smp_merge_primitives=True),
    "ownerReferences": _keyed("uid"),
})
CONTAINER = T(fields={
    "ports": _keyed("containerPort", "protocol", key_defaults={"protocol": "TCP"}),
    "env": _keyed("name"),
    "volumeMounts": _keyed("mountPath"),
    "volumeDevices": _keyed("devicePath"),
    "resources": T(implicit=True),
})
POD_SPEC = T(implicit=True, fields={
    "containers": _keyed("name", elem=CONTAINER),
    "initContainers": _keyed("name", elem=CONTAINER),
    "ephemeralContainers": _keyed("name", elem=CONTAINER),
    "volumes": _keyed("name", elem=T(retain_keys=True)),
    "imagePullSecrets": _keyed("name"),
    "hostAliases": _keyed("ip"),
    "topologySpreadConstraints": _keyed("topologyKey", "whenUnsatisfiable"),
    "resourceClaims": _keyed("name"),
    "schedulingGates": _keyed("name"),
    "nodeSelector": ATOMIC_MAP,
})
POD_TEMPLATE = T(implicit=True, fields={"metadata": OBJECT_META, "spec": POD_SPEC})
STATUS_WITH_CONDITIONS = T(implicit=True, fields={"conditions": CONDITIONS})


def _workload(**spec_fields: T) -> T:
    spec = T(implicit=True, fields={"selector": ATOMIC_MAP, "template": POD_TEMPLATE, **spec_fields})
    return T(fields={"metadata": OBJECT_META, "spec": spec, "status": STATUS_WITH_CONDITIONS})


_STRATEGY = T(implicit=True, retain_keys=True)

KIND_TYPES: dict[tuple[str, str], T] = {
    ("", "Pod"): T(fields={"metadata": OBJECT_META, "spec": POD_SPEC, "status": T(implicit=True, fields={
        "conditions": CONDITIONS, "podIPs": _keyed("ip"), "hostIPs": _keyed("ip")})}),
    ("", "PodTemplate"): T(fields={"metadata": OBJECT_META, "template": POD_TEMPLATE}),
    ("", "ReplicationController"): _workload(selector=ATOMIC_MAP),
    ("apps", "Deployment"): _workload(strategy=_STRATEGY),
    ("apps", "DaemonSet"): _workload(updateStrategy=_STRATEGY),
    ("apps", "StatefulSet"): _workload(updateStrategy=_STRATEGY),
    ("apps", "ReplicaSet"): _workload(),
    ("batch", "Job"): _workload(),
    ("batch", "CronJob"): T(fields={"metadata": OBJECT_META, "status": T(implicit=True), "spec": T(
        implicit=True, fields={"jobTemplate": T(implicit=True, fields={
            "metadata": OBJECT_META, "spec": T(implicit=True, fields={"selector": ATOMIC_MAP,
                                                                      "template": POD_TEMPLATE})})})}),
    ("", "Service"): T(fields={"metadata": OBJECT_META, "spec": T(implicit=True, fields={
        "ports": _keyed("port", "protocol", smp="port", key_defaults={"protocol": "TCP"}),
        "selector": ATOMIC_MAP}), "status": STATUS_WITH_CONDITIONS}),
    ("", "Node"): T(fields={"metadata": OBJECT_META, "spec": T(implicit=True, fields={
        "podCIDRs": T(list="set", smp_merge_primitives=True)}), "status": T(implicit=True, fields={
            "conditions": CONDITIONS, "addresses": T(smp_key="type")})}),
    ("", "Namespace"): T(fields={"metadata": OBJECT_META, "spec": T(implicit=True),
                                 "status": STATUS_WITH_CONDITIONS}),
    ("", "ServiceAccount"): T(fields={"metadata": OBJECT_META, "secrets": _keyed("name")}),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): T(fields={
        "metadata": OBJECT_META, "webhooks": _keyed("name")}),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): T(fields={
        "metadata": OBJECT_META, "webhooks": _keyed("name")}),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): T(fields={
        "metadata": OBJECT_META, "spec": T(implicit=True), "status": STATUS_WITH_CONDITIONS}),
    ("apiregistration.k8s.io", "APIService"): T(fields={
        "metadata": OBJECT_META, "spec": T(implicit=True), "status": STATUS_WITH_CONDITIONS}),
    ("policy", "PodDisruptionBudget"): T(fields={"metadata": OBJECT_META, "spec": T(implicit=True, fields={
        "selector": ATOMIC_MAP}), "status": STATUS_WITH_CONDITIONS}),
    ("networking.k8s.io", "NetworkPolicy"): T(fields={"metadata": OBJECT_META, "spec": T(implicit=True, fields={
        "podSelector": ATOMIC_MAP})}),
    ("autoscaling", "HorizontalPodAutoscaler"): T(fields={"metadata": OBJECT_META, "spec": T(implicit=True),
                                                          "status": STATUS_WITH_CONDITIONS}),
}

# Built-in kinds not listed above: a typed object whose spec/status (when present) are plain structs.
BUILTIN_DEFAULT = T(fields={"metadata": OBJECT_META, "spec": T(implicit=True), "status": T(implicit=True)})
CUSTOM_DEFAULT = T(fields={"metadata": OBJECT_META})


def _from_schema(schema: Mapping[str, Any] | None) -> T:
    """Merge behaviour from a CRD structural schema (x-kubernetes-* extensions)."""
    if not isinstance(schema, Mapping):
        return UNTYPED_OPEN
    node = T()
    if schema.get("type") == "array" or "items" in schema:
        node.list = str(schema.get("x-kubernetes-list-type") or "atomic")
        node.keys = tuple(schema.get("x-kubernetes-list-map-keys") or ())
        node.elem = _from_schema(schema.get("items"))
        if node.list == "map" and node.keys:
            node.smp_key = node.keys[0]
        return node
    node.atomic = schema.get("x-kubernetes-map-type") == "atomic"
    node.open = not schema.get("properties") or bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    for name, sub in (schema.get("properties") or {}).items():
        node.fields[name] = _from_schema(sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        node.elem = _from_schema(extra)
    return node


def root_type(group: str, kind: str, crd_version: Mapping[str, Any] | None = None) -> T:
    """The merge behaviour of a whole object; crd_version is the CRD's version entry for custom resources."""
    if crd_version is not None:
        schema = ((crd_version.get("schema") or {}).get("openAPIV3Schema")) or {}
        root = _from_schema(schema)
        root.fields["metadata"] = OBJECT_META
        return root
    return KIND_TYPES.get((group, kind), BUILTIN_DEFAULT)
