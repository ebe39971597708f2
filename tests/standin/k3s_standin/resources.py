"""Resource types the stand-in's Kubernetes API serves: built-ins of Kubernetes v1.34 plus K3s's CRDs.

A `ResourceType` carries what discovery, routing, validation and the field-ownership code need to know about
one resource (plural, kind, scope, verbs, which subresources exist, how names are validated).  The
`Registry` holds the built-ins and the types registered from CustomResourceDefinition objects; it is owned
by the `Store`, because CRDs are objects in the store.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

STANDARD_VERBS: tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_COLLECTION_DELETE: tuple[str, ...] = ("create", "delete", "get", "list", "patch", "update", "watch")
STATUS_VERBS: tuple[str, ...] = ("get", "patch", "update")

# How metadata.name is validated; the values name the Kubernetes validators.
NAME_SUBDOMAIN = "subdomain"      # RFC 1123 subdomain (most resources)
NAME_LABEL = "label"              # RFC 1123 label (namespaces)
NAME_DNS1035 = "dns1035"          # RFC 1035 label (services)
NAME_PATH_SEGMENT = "path"        # any path segment (RBAC objects, events use subdomain)


@dataclass
class ResourceType:
    """One served resource (all its served versions share one storage, as with the real apiserver)."""

    group: str
    versions: list[str]                 # served versions, preferred first
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = STANDARD_VERBS
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status: bool = False                # has a /status subresource
    generation: bool = False            # metadata.generation tracks non-metadata, non-status changes
    name_rule: str = NAME_SUBDOMAIN
    crd: dict[str, Any] | None = None   # the CRD object for custom resources (schema, printer columns)
    extra_subresources: tuple[str, ...] = ()  # "scale" where the resource has a /scale subresource
    virtual: bool = False               # create-only review resources answered without storage

    @property
    def is_custom(self) -> bool:
        return self.crd is not None

    @property
    def qualified(self) -> str:
        """`plural.group` (or just `plural` for the core group), as errors.NewNotFound prints it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """`Kind.group` (or `Kind`), as errors.NewInvalid prints it."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def api_version(self, version: str | None = None) -> str:
        version = version or self.versions[0]
        return f"{self.group}/{version}" if self.group else version

    def storage_version_hash(self, version: str) -> str:
        # Same formula as k8s.io/apiserver/pkg/endpoints/discovery.StorageVersionHash.
        digest = hashlib.sha256(f"{self.group}/{version}/{self.kind}".encode()).digest()
        return base64.b64encode(digest[:8]).decode()


def _t(group: str, versions: str, plural: str, kind: str, namespaced: bool = True, **kw: Any) -> ResourceType:
    singular = kw.pop("singular", kind.lower())
    return ResourceType(group=group, versions=versions.split(","), plural=plural, singular=singular, kind=kind,
                        namespaced=namespaced, **kw)


# Built-in resources served by kube-apiserver v1.34 that kubectl and the collection touch.  Order within a
# group follows the real discovery output (alphabetical by plural).
BUILTIN_TYPES: list[ResourceType] = [
    _t("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    _t("", "v1", "endpoints", "Endpoints", short_names=("ep",), singular="endpoints"),
    _t("", "v1", "events", "Event", short_names=("ev",)),
    _t("", "v1", "limitranges", "LimitRange", short_names=("limits",)),
    _t("", "v1", "namespaces", "Namespace", False, verbs=NO_COLLECTION_DELETE, short_names=("ns",),
       status=True, name_rule=NAME_LABEL),
    _t("", "v1", "nodes", "Node", False, short_names=("no",), status=True),
    _t("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",), status=True),
    _t("", "v1", "persistentvolumes", "PersistentVolume", False, short_names=("pv",), status=True),
    _t("", "v1", "pods", "Pod", short_names=("po",), categories=("all",), status=True, generation=True),
    _t("", "v1", "podtemplates", "PodTemplate"),
    _t("", "v1", "replicationcontrollers", "ReplicationController", short_names=("rc",), categories=("all",),
       status=True, generation=True, extra_subresources=("scale",)),
    _t("", "v1", "resourcequotas", "ResourceQuota", short_names=("quota",), status=True),
    _t("", "v1", "secrets", "Secret"),
    _t("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    _t("", "v1", "services", "Service", verbs=NO_COLLECTION_DELETE + ("deletecollection",),
       short_names=("svc",), categories=("all",), status=True, name_rule=NAME_DNS1035),
    _t("apiregistration.k8s.io", "v1", "apiservices", "APIService", False, categories=("api-extensions",),
       status=True),
    _t("apps", "v1", "controllerrevisions", "ControllerRevision"),
    _t("apps", "v1", "daemonsets", "DaemonSet", short_names=("ds",), categories=("all",), status=True,
       generation=True),
    _t("apps", "v1", "deployments", "Deployment", short_names=("deploy",), categories=("all",), status=True,
       generation=True, extra_subresources=("scale",)),
    _t("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",), categories=("all",), status=True,
       generation=True, extra_subresources=("scale",)),
    _t("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",), categories=("all",), status=True,
       generation=True, extra_subresources=("scale",)),
    _t("autoscaling", "v2,v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", short_names=("hpa",),
       categories=("all",), status=True, generation=True),
    _t("batch", "v1", "cronjobs", "CronJob", short_names=("cj",), categories=("all",), status=True,
       generation=True),
    _t("batch", "v1", "jobs", "Job", categories=("all",), status=True, generation=True),
    _t("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", False,
       short_names=("csr",), status=True),
    _t("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False, generation=True),
    _t("networking.k8s.io", "v1", "ingresses", "Ingress", short_names=("ing",), status=True, generation=True),
    _t("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",), generation=True),
    _t("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short_names=("pdb",), status=True,
       generation=True),
    _t("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False,
       name_rule=NAME_PATH_SEGMENT),
    _t("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, name_rule=NAME_PATH_SEGMENT),
    _t("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", name_rule=NAME_PATH_SEGMENT),
    _t("rbac.authorization.k8s.io", "v1", "roles", "Role", name_rule=NAME_PATH_SEGMENT),
    _t("storage.k8s.io", "v1", "csidrivers", "CSIDriver", False),
    _t("storage.k8s.io", "v1", "csinodes", "CSINode", False),
    _t("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, short_names=("sc",)),
    _t("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", False, status=True),
    _t("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration",
       False, categories=("api-extensions",), generation=True),
    _t("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
       "ValidatingWebhookConfiguration", False, categories=("api-extensions",), generation=True),
    _t("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False,
       short_names=("crd", "crds"), categories=("api-extensions",), status=True, generation=True),
    _t("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, short_names=("pc",)),
    _t("coordination.k8s.io", "v1", "leases", "Lease"),
    _t("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", False),
    _t("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"),
    _t("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False, verbs=("create",),
       virtual=True),
    _t("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview", verbs=("create",),
       virtual=True),
    _t("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False,
       verbs=("create",), virtual=True),
    _t("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False,
       verbs=("create",), virtual=True),
    _t("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False, verbs=("create",),
       virtual=True),
]

# Order of groups in /apis, as kube-apiserver's group priorities put them; CRD groups follow, sorted.
GROUP_ORDER: list[str] = [
    "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
    "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io", "policy", "rbac.authorization.k8s.io",
    "storage.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
    "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io",
]


def _crd(group: str, plural: str, kind: str, namespaced: bool, *, short_names: list[str] | None = None,
         status: bool = True, printer_columns: list[dict[str, Any]] | None = None,
         schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A CRD object like the ones K3s registers at start (wrangler-generated, preserve-unknown-fields)."""
    version: dict[str, Any] = {
        "name": "v1", "served": True, "storage": True,
        "schema": {"openAPIV3Schema": schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    if status:
        version["subresources"] = {"status": {}}
    if printer_columns:
        version["additionalPrinterColumns"] = printer_columns
    names: dict[str, Any] = {"kind": kind, "listKind": kind + "List", "plural": plural, "singular": kind.lower()}
    if short_names:
        names["shortNames"] = short_names
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "names": names, "scope": "Namespaced" if namespaced else "Cluster",
                 "versions": [version], "conversion": {"strategy": "None"}},
    }


def _obj_schema(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props}


_PRESERVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_LOCAL_REF = _obj_schema({"name": _STR})
_SECRET_SPEC = _obj_schema({"name": _STR, "keys": {"type": "array", "items": _STR}, "ignoreUpdates": _BOOL})


def _k3s_schema(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"apiVersion": _STR, "kind": _STR, "metadata": {"type": "object"},
                             "spec": _obj_schema(spec)}
    if status is not None:
        props["status"] = _obj_schema(status)
    return _obj_schema(props)


# The CRDs K3s v1.34 registers before its controllers start (pkg/crd, helm-controller v0.16), with the
# fields of their Go types, so unknown fields are pruned or rejected as on a real server.
K3S_CRDS: list[dict[str, Any]] = [
    _crd("k3s.cattle.io", "addons", "Addon", True,
         printer_columns=[{"name": "Source", "type": "string", "jsonPath": ".spec.source"},
                          {"name": "Checksum", "type": "string", "jsonPath": ".spec.checksum"}],
         schema=_k3s_schema({"checksum": _STR, "source": _STR}, {})),
    _crd("k3s.cattle.io", "etcdsnapshotfiles", "ETCDSnapshotFile", False, short_names=["etcdsnapshot"],
         printer_columns=[{"name": "SnapshotName", "type": "string", "jsonPath": ".spec.snapshotName"},
                          {"name": "Node", "type": "string", "jsonPath": ".spec.nodeName"},
                          {"name": "Location", "type": "string", "jsonPath": ".spec.location"},
                          {"name": "Size", "type": "string", "jsonPath": ".status.size"},
                          {"name": "CreationTime", "type": "date", "jsonPath": ".status.creationTime"}],
         schema=_k3s_schema(
             {"snapshotName": _STR, "nodeName": _STR, "location": _STR,
              "metadata": {"type": "object", "additionalProperties": _STR},
              "s3": _obj_schema({k: _STR for k in ("endpoint", "endpointCA", "bucket", "region", "prefix")}
                                | {"skipSSLVerify": _BOOL, "insecure": _BOOL})},
             {"size": {"x-kubernetes-int-or-string": True}, "creationTime": {"type": "string", "format": "date-time"},
              "readyToUse": _BOOL, "error": _obj_schema({"time": _STR, "message": _STR})})),
    _crd("helm.cattle.io", "helmchartconfigs", "HelmChartConfig", True, status=False,
         schema=_k3s_schema({"valuesContent": _STR, "valuesSecrets": {"type": "array", "items": _SECRET_SPEC},
                             "failurePolicy": _STR})),
    _crd("helm.cattle.io", "helmcharts", "HelmChart", True,
         printer_columns=[{"name": "Job", "type": "string", "jsonPath": ".status.jobName"},
                          {"name": "Chart", "type": "string", "jsonPath": ".spec.chart"},
                          {"name": "TargetNamespace", "type": "string", "jsonPath": ".spec.targetNamespace"},
                          {"name": "Version", "type": "string", "jsonPath": ".spec.version"},
                          {"name": "Repo", "type": "string", "jsonPath": ".spec.repo"},
                          {"name": "HelmVersion", "type": "string", "jsonPath": ".spec.helmVersion"},
                          {"name": "Bootstrap", "type": "string", "jsonPath": ".spec.bootstrap"}],
         schema=_k3s_schema(
             {"targetNamespace": _STR, "createNamespace": _BOOL, "chart": _STR, "version": _STR, "repo": _STR,
              "repoCA": _STR, "repoCAConfigMap": _LOCAL_REF,
              "set": {"type": "object", "additionalProperties": {"x-kubernetes-int-or-string": True}},
              "valuesContent": _STR, "valuesSecrets": {"type": "array", "items": _SECRET_SPEC},
              "helmVersion": _STR, "bootstrap": _BOOL, "chartContent": _STR, "jobImage": _STR,
              "backOffLimit": {"type": "integer", "format": "int32"}, "timeout": _STR, "failurePolicy": _STR,
              "authSecret": _LOCAL_REF, "authPassCredentials": _BOOL, "insecureSkipTLSVerify": _BOOL,
              "plainHTTP": _BOOL, "dockerRegistrySecret": _LOCAL_REF, "podSecurityContext": _PRESERVE,
              "securityContext": _PRESERVE},
             {"jobName": _STR, "conditions": {"type": "array", "items": _obj_schema(
                 {"type": _STR, "status": _STR, "reason": _STR, "message": _STR})}})),
]


def crd_storage_version(crd: dict[str, Any]) -> str:
    for version in crd.get("spec", {}).get("versions", []):
        if version.get("storage"):
            return str(version["name"])
    return str(crd["spec"]["versions"][0]["name"])


def crd_version_entry(crd: dict[str, Any], version: str) -> dict[str, Any]:
    for entry in crd.get("spec", {}).get("versions", []):
        if entry.get("name") == version:
            return entry
    return {}


def _version_priority(name: str) -> tuple[int, int, int, str]:
    """Kubernetes version ordering (v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > anything else)."""
    import re
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", name)
    if not match:
        return (0, 0, 0, name)
    stability = {"alpha": 1, "beta": 2, None: 3}[match.group(2)]
    return (stability, int(match.group(1)), int(match.group(3) or 0), "")


def type_from_crd(crd: dict[str, Any]) -> ResourceType:
    """The ResourceType a CRD defines (served versions sorted the way discovery orders them)."""
    spec = crd["spec"]
    names = spec["names"]
    served = [v["name"] for v in spec.get("versions", []) if v.get("served", True)]
    served.sort(key=_version_priority, reverse=True)
    has_status = any("status" in (v.get("subresources") or {}) for v in spec.get("versions", []))
    has_scale = any("scale" in (v.get("subresources") or {}) for v in spec.get("versions", []))
    return ResourceType(
        group=spec["group"], versions=served, plural=names["plural"],
        singular=names.get("singular") or names["kind"].lower(), kind=names["kind"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
        status=has_status, generation=True, crd=copy.deepcopy(crd),
        extra_subresources=("scale",) if has_scale else (),
    )


@dataclass
class Registry:
    """Lookup of resource types by (group, plural) and (group, kind); thread-safe for CRD changes."""

    _types: dict[tuple[str, str], ResourceType] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        for rtype in BUILTIN_TYPES:
            self._types[(rtype.group, rtype.plural)] = rtype

    def add(self, rtype: ResourceType) -> None:
        with self._lock:
            self._types[(rtype.group, rtype.plural)] = rtype

    def remove(self, group: str, plural: str) -> None:
        with self._lock:
            self._types.pop((group, plural), None)

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def by_plural(self, group: str, version: str | None, plural: str) -> ResourceType | None:
        with self._lock:
            rtype = self._types.get((group, plural))
        if rtype is None or (version is not None and version not in rtype.versions):
            return None
        return rtype

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        with self._lock:
            for rtype in self._types.values():
                if rtype.group == group and rtype.kind == kind and version in rtype.versions:
                    return rtype
        return None

    def groups(self) -> list[tuple[str, list[str]]]:
        """(group, served versions preferred first) for every non-core group, in /apis order."""
        with self._lock:
            versions: dict[str, list[str]] = {}
            for rtype in self._types.values():
                if not rtype.group:
                    continue
                known = versions.setdefault(rtype.group, [])
                for version in rtype.versions:
                    if version not in known:
                        known.append(version)
        for known in versions.values():
            known.sort(key=_version_priority, reverse=True)
        builtin = [g for g in GROUP_ORDER if g in versions]
        custom = sorted(g for g in versions if g not in GROUP_ORDER)
        return [(g, versions[g]) for g in builtin + custom]

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        with self._lock:
            found = [t for t in self._types.values() if t.group == group and version in t.versions]
        return sorted(found, key=lambda t: t.plural)


def iter_builtin_kinds() -> Iterable[tuple[str, str]]:
    for rtype in BUILTIN_TYPES:
        yield rtype.api_version(), rtype.kind
