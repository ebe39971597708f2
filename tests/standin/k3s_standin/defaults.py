"""Defaulting that kube-apiserver v1.34 applies to built-in objects (SetDefaults_* plus the admission plugins
K3s enables), for the fields a `kubectl get -o yaml` or a `kubectl diff` of common manifests shows.

Not a complete port: pods, pod templates, workloads, jobs, services, secrets, namespaces and
CustomResourceDefinitions get the defaults users see most; other kinds are stored as sent.
"""
from __future__ import annotations

import base64
from typing import Any, Callable

from .resources import ResourceType


def _setdefault(obj: dict[str, Any], key: str, value: Any) -> None:
    if obj.get(key) is None:
        obj[key] = value


def _image_pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.rsplit(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def default_container(container: dict[str, Any]) -> None:
    _setdefault(container, "terminationMessagePath", "/dev/termination-log")
    _setdefault(container, "terminationMessagePolicy", "File")
    _setdefault(container, "imagePullPolicy", _image_pull_policy(str(container.get("image", ""))))
    _setdefault(container, "resources", {})
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            _setdefault(port, "protocol", "TCP")
    for env in container.get("env") or []:
        field_ref = ((env or {}).get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            _setdefault(field_ref, "apiVersion", "v1")


def default_pod_spec(spec: dict[str, Any]) -> None:
    _setdefault(spec, "restartPolicy", "Always")
    _setdefault(spec, "terminationGracePeriodSeconds", 30)
    _setdefault(spec, "dnsPolicy", "ClusterFirst")
    _setdefault(spec, "securityContext", {})
    _setdefault(spec, "schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                default_container(container)


def _template(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        pod_spec = template.setdefault("spec", {})
        if isinstance(pod_spec, dict):
            default_pod_spec(pod_spec)


def _pod(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    default_pod_spec(spec)
    _setdefault(spec, "enableServiceLinks", True)
    _setdefault(spec, "serviceAccountName", "default")
    _setdefault(spec, "serviceAccount", spec["serviceAccountName"])
    _setdefault(spec, "priority", 0)
    _setdefault(spec, "preemptionPolicy", "PreemptLowerPriority")
    if spec.get("tolerations") is None:
        spec["tolerations"] = [
            {"key": f"node.kubernetes.io/{t}", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300} for t in ("not-ready", "unreachable")]


def _deployment(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    _setdefault(spec, "replicas", 1)
    strategy = spec.setdefault("strategy", {})
    _setdefault(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        _setdefault(rolling, "maxUnavailable", "25%")
        _setdefault(rolling, "maxSurge", "25%")
    _setdefault(spec, "revisionHistoryLimit", 10)
    _setdefault(spec, "progressDeadlineSeconds", 600)
    _template(obj)


def _daemonset(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {})
    _setdefault(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        _setdefault(rolling, "maxUnavailable", 1)
        _setdefault(rolling, "maxSurge", 0)
    _setdefault(spec, "revisionHistoryLimit", 10)
    _template(obj)


def _statefulset(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    _setdefault(spec, "replicas", 1)
    _setdefault(spec, "podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    _setdefault(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        _setdefault(strategy.setdefault("rollingUpdate", {}), "partition", 0)
    _setdefault(spec, "revisionHistoryLimit", 10)
    _setdefault(spec, "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    _template(obj)


def _replicaset(obj: dict[str, Any]) -> None:
    _setdefault(obj.setdefault("spec", {}), "replicas", 1)
    _template(obj)


def _job(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    _setdefault(spec, "parallelism", 1)
    _setdefault(spec, "completions", 1)
    _setdefault(spec, "backoffLimit", 6)
    _setdefault(spec, "completionMode", "NonIndexed")
    _setdefault(spec, "suspend", False)
    _setdefault(spec, "podReplacementPolicy", "TerminatingOrFailed")
    _template(obj)


def _cronjob(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    _setdefault(spec, "concurrencyPolicy", "Allow")
    _setdefault(spec, "suspend", False)
    _setdefault(spec, "successfulJobsHistoryLimit", 3)
    _setdefault(spec, "failedJobsHistoryLimit", 1)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict):
        job_template.setdefault("metadata", {})
        _template(job_template)


def _service(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    _setdefault(spec, "type", "ClusterIP")
    _setdefault(spec, "sessionAffinity", "None")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            _setdefault(port, "protocol", "TCP")
            if spec["type"] != "ExternalName":
                _setdefault(port, "targetPort", port.get("port"))
    if spec["type"] != "ExternalName":
        _setdefault(spec, "internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        _setdefault(spec, "externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        _setdefault(spec, "allocateLoadBalancerNodePorts", True)


def _secret(obj: dict[str, Any]) -> None:
    _setdefault(obj, "type", "Opaque")
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict):
        data = obj.setdefault("data", {}) or {}
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data


def _namespace(obj: dict[str, Any]) -> None:
    name = obj.get("metadata", {}).get("name", "")
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    spec = obj.setdefault("spec", {})
    _setdefault(spec, "finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


def _role_binding(obj: dict[str, Any]) -> None:
    for subject in obj.get("subjects") or []:
        if isinstance(subject, dict) and subject.get("kind") in ("User", "Group"):
            _setdefault(subject, "apiGroup", "rbac.authorization.k8s.io")
    ref = obj.get("roleRef")
    if isinstance(ref, dict):
        _setdefault(ref, "apiGroup", "rbac.authorization.k8s.io")


def _crd(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    _setdefault(spec, "conversion", {"strategy": "None"})
    names = spec.setdefault("names", {})
    if names.get("kind"):
        _setdefault(names, "listKind", names["kind"] + "List")
        _setdefault(names, "singular", names["kind"].lower())


DEFAULTERS: dict[tuple[str, str], Callable[[dict[str, Any]], None]] = {
    ("", "Pod"): _pod,
    ("", "PodTemplate"): lambda o: default_pod_spec(o.setdefault("template", {}).setdefault("spec", {})),
    ("", "ReplicationController"): _replicaset,
    ("apps", "Deployment"): _deployment,
    ("apps", "DaemonSet"): _daemonset,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "ReplicaSet"): _replicaset,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cronjob,
    ("", "Service"): _service,
    ("", "Secret"): _secret,
    ("", "Namespace"): _namespace,
    ("rbac.authorization.k8s.io", "RoleBinding"): _role_binding,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _role_binding,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}


def apply_defaults(rtype: ResourceType, obj: dict[str, Any]) -> None:
    """Default obj in place (built-in kinds only; custom resources are defaulted from their schema)."""
    if rtype.is_custom:
        _schema_defaults(obj, _crd_schema(rtype, obj))
        return
    defaulter = DEFAULTERS.get((rtype.group, rtype.kind))
    if defaulter:
        defaulter(obj)


def _crd_schema(rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    version = str(obj.get("apiVersion", "")).rpartition("/")[2]
    for entry in (rtype.crd or {}).get("spec", {}).get("versions", []):
        if entry.get("name") == version:
            return (entry.get("schema") or {}).get("openAPIV3Schema") or {}
    return {}


def _schema_defaults(value: Any, schema: dict[str, Any]) -> None:
    """`default:` values of a structural schema, applied to present parent objects (as the apiserver does)."""
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name not in value and isinstance(sub, dict) and "default" in sub:
                import copy
                value[name] = copy.deepcopy(sub["default"])
            if name in value and isinstance(sub, dict):
                _schema_defaults(value[name], sub)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _schema_defaults(item, schema["items"])
