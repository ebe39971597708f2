"""Unknown-field detection and pruning: what decoding into Go structs (built-ins) or structural-schema
pruning (custom resources) does to fields the type does not declare.

The apiserver always drops unknown fields; `fieldValidation=Strict` turns them into a 400, `Warn` (the
default) into `Warning` headers.  Built-in coverage: top-level fields of every served kind, ObjectMeta,
and the structs manifests nest most (pod templates, pod spec, containers and their ports/env/mounts,
workload/job/cron/service specs, label selectors, RBAC rules/subjects/roleRef).  Structs not listed are
not checked below their top level.  Custom resources: properties of the CRD version's openAPIV3Schema,
honouring x-kubernetes-preserve-unknown-fields and additionalProperties.
"""
from __future__ import annotations

import json
from typing import Any

from .resources import ResourceType, crd_version_entry
from .validation import FieldError

# struct name -> {field: child struct name, "[]Name" for lists of structs, "{}Name" for maps of structs, or None}
Struct = dict[str, "str | None"]

_META = ("name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp "
         "deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields").split()


def _leaves(names: str, **children: str) -> Struct:
    fields: Struct = {name: None for name in names.split()}
    fields.update(children)
    return fields


STRUCTS: dict[str, Struct] = {
    "ObjectMeta": {name: None for name in _META},
    "LabelSelector": _leaves("matchLabels matchExpressions"),
    "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
    "PodSpec": _leaves(
        "volumes restartPolicy terminationGracePeriodSeconds activeDeadlineSeconds dnsPolicy nodeSelector "
        "serviceAccountName serviceAccount automountServiceAccountToken nodeName hostNetwork hostPID hostIPC "
        "shareProcessNamespace securityContext imagePullSecrets hostname subdomain affinity schedulerName "
        "tolerations hostAliases priorityClassName priority dnsConfig readinessGates runtimeClassName "
        "enableServiceLinks preemptionPolicy overhead topologySpreadConstraints setHostnameAsFQDN os hostUsers "
        "schedulingGates resourceClaims resources hostnameOverride",
        containers="[]Container", initContainers="[]Container", ephemeralContainers="[]Container"),
    "Container": _leaves(
        "name image command args workingDir envFrom resources resizePolicy restartPolicy restartPolicyRules "
        "volumeDevices livenessProbe readinessProbe startupProbe lifecycle terminationMessagePath "
        "terminationMessagePolicy imagePullPolicy securityContext stdin stdinOnce tty targetContainerName",
        ports="[]ContainerPort", env="[]EnvVar", volumeMounts="[]VolumeMount"),
    "ContainerPort": _leaves("name hostPort containerPort protocol hostIP"),
    "EnvVar": _leaves("name value valueFrom"),
    "VolumeMount": _leaves("name readOnly recursiveReadOnly mountPath subPath mountPropagation subPathExpr"),
    "DeploymentSpec": _leaves("replicas strategy minReadySeconds revisionHistoryLimit paused progressDeadlineSeconds",
                              selector="LabelSelector", template="PodTemplateSpec"),
    "DaemonSetSpec": _leaves("updateStrategy minReadySeconds revisionHistoryLimit", selector="LabelSelector",
                             template="PodTemplateSpec"),
    "StatefulSetSpec": _leaves("replicas volumeClaimTemplates serviceName podManagementPolicy updateStrategy "
                               "revisionHistoryLimit minReadySeconds persistentVolumeClaimRetentionPolicy ordinals",
                               selector="LabelSelector", template="PodTemplateSpec"),
    "ReplicaSetSpec": _leaves("replicas minReadySeconds", selector="LabelSelector", template="PodTemplateSpec"),
    "JobSpec": _leaves("parallelism completions activeDeadlineSeconds podFailurePolicy successPolicy backoffLimit "
                       "backoffLimitPerIndex maxFailedIndexes manualSelector ttlSecondsAfterFinished "
                       "completionMode suspend podReplacementPolicy managedBy", selector="LabelSelector",
                       template="PodTemplateSpec"),
    "CronJobSpec": _leaves("schedule timeZone startingDeadlineSeconds concurrencyPolicy suspend "
                           "successfulJobsHistoryLimit failedJobsHistoryLimit", jobTemplate="JobTemplateSpec"),
    "JobTemplateSpec": {"metadata": "ObjectMeta", "spec": "JobSpec"},
    "ServiceSpec": _leaves("selector clusterIP clusterIPs type externalIPs sessionAffinity loadBalancerIP "
                           "loadBalancerSourceRanges externalName externalTrafficPolicy healthCheckNodePort "
                           "publishNotReadyAddresses sessionAffinityConfig ipFamilies ipFamilyPolicy "
                           "allocateLoadBalancerNodePorts loadBalancerClass internalTrafficPolicy "
                           "trafficDistribution", ports="[]ServicePort"),
    "ServicePort": _leaves("name protocol appProtocol port targetPort nodePort"),
    "PolicyRule": _leaves("verbs apiGroups resources resourceNames nonResourceURLs"),
    "Subject": _leaves("kind apiGroup name namespace"),
    "RoleRef": _leaves("apiGroup kind name"),
}

_SPEC_STATUS = _leaves("spec status")
TOP_LEVEL: dict[tuple[str, str], Struct] = {
    ("", "ConfigMap"): _leaves("data binaryData immutable"),
    ("", "Secret"): _leaves("data stringData type immutable"),
    ("", "ServiceAccount"): _leaves("secrets imagePullSecrets automountServiceAccountToken"),
    ("", "Event"): _leaves("involvedObject reason message source firstTimestamp lastTimestamp count type eventTime "
                           "series action related reportingComponent reportingInstance"),
    ("", "Endpoints"): _leaves("subsets"),
    ("", "PodTemplate"): {"template": "PodTemplateSpec"},
    ("", "Pod"): {"spec": "PodSpec", "status": None},
    ("", "Service"): {"spec": "ServiceSpec", "status": None},
    ("apps", "Deployment"): {"spec": "DeploymentSpec", "status": None},
    ("apps", "DaemonSet"): {"spec": "DaemonSetSpec", "status": None},
    ("apps", "StatefulSet"): {"spec": "StatefulSetSpec", "status": None},
    ("apps", "ReplicaSet"): {"spec": "ReplicaSetSpec", "status": None},
    ("apps", "ControllerRevision"): _leaves("data revision"),
    ("batch", "Job"): {"spec": "JobSpec", "status": None},
    ("batch", "CronJob"): {"spec": "CronJobSpec", "status": None},
    ("rbac.authorization.k8s.io", "Role"): {"rules": "[]PolicyRule"},
    ("rbac.authorization.k8s.io", "ClusterRole"): {"rules": "[]PolicyRule", "aggregationRule": None},
    ("rbac.authorization.k8s.io", "RoleBinding"): {"subjects": "[]Subject", "roleRef": "RoleRef"},
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): {"subjects": "[]Subject", "roleRef": "RoleRef"},
    ("storage.k8s.io", "StorageClass"): _leaves("provisioner parameters reclaimPolicy mountOptions "
                                                "allowVolumeExpansion volumeBindingMode allowedTopologies"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): _leaves("webhooks"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): _leaves("webhooks"),
    ("discovery.k8s.io", "EndpointSlice"): _leaves("addressType endpoints ports"),
    ("scheduling.k8s.io", "PriorityClass"): _leaves("value globalDefault description preemptionPolicy"),
    ("node.k8s.io", "RuntimeClass"): _leaves("handler overhead scheduling"),
    ("networking.k8s.io", "NetworkPolicy"): _leaves("spec"),
    ("networking.k8s.io", "IngressClass"): _leaves("spec"),
    ("storage.k8s.io", "CSIDriver"): _leaves("spec"),
    ("storage.k8s.io", "CSINode"): _leaves("spec"),
    ("", "LimitRange"): _leaves("spec"),
}
ALWAYS = ("apiVersion", "kind")


def _root_struct(rtype: ResourceType) -> Struct:
    fields: Struct = {name: None for name in ALWAYS}
    fields["metadata"] = "ObjectMeta"
    fields.update(TOP_LEVEL.get((rtype.group, rtype.kind), _SPEC_STATUS))
    return fields


def _walk_struct(value: Any, struct: Struct, path: str, found: list[str], prune: bool) -> None:
    if not isinstance(value, dict):
        return
    for key in list(value):
        if key not in struct:
            found.append(f"{path}{key}")
            if prune:
                del value[key]
            continue
        child = struct[key]
        if child is None:
            continue
        if child.startswith("[]"):
            items = value[key] if isinstance(value[key], list) else []
            for index, item in enumerate(items):
                _walk_struct(item, STRUCTS[child[2:]], f"{path}{key}[{index}].", found, prune)
        else:
            _walk_struct(value[key], STRUCTS[child], f"{path}{key}.", found, prune)


def _walk_schema(value: Any, schema: dict[str, Any], path: str, found: list[str], prune: bool) -> None:
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key in list(value):
            if key in properties:
                _walk_schema(value[key], properties[key], f"{path}{key}.", found, prune)
            elif isinstance(extra, dict):
                _walk_schema(value[key], extra, f"{path}{key}.", found, prune)
            elif extra is not True:
                # A structural schema keeps only what it declares (an object without properties keeps nothing).
                found.append(f"{path}{key}")
                if prune:
                    del value[key]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _walk_schema(item, schema["items"], f"{path[:-1]}[{index}].", found, prune)


def unknown_fields(rtype: ResourceType, obj: dict[str, Any], prune: bool = False) -> list[str]:
    """Dotted paths of undeclared fields (`spec.replicass`, `spec.template.spec.containers[0].imagee`);
    with prune=True they are also removed from obj."""
    found: list[str] = []
    if rtype.crd is None:
        _walk_struct(obj, _root_struct(rtype), "", found, prune)
        return found
    if isinstance(obj.get("metadata"), dict):
        _walk_struct(obj["metadata"], STRUCTS["ObjectMeta"], "metadata.", found, prune)
    version = str(obj.get("apiVersion", "")).rpartition("/")[2]
    schema = (crd_version_entry(rtype.crd, version).get("schema") or {}).get("openAPIV3Schema") or {}
    if schema:
        root = dict(schema)
        root["properties"] = {**(schema.get("properties") or {}), **{
            name: {"x-kubernetes-preserve-unknown-fields": True} for name in (*ALWAYS, "metadata")}}
        _walk_schema(obj, root, "", found, prune)
    return found


# ------------------------------------------------------------------------- custom resource validation
_JSON_TYPES = {"string": (str,), "boolean": (bool,), "object": (dict,), "array": (list,)}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


def _type_ok(value: Any, wanted: str) -> bool:
    actual = _json_type(value)
    if wanted == "number":
        return actual in ("integer", "number")
    return actual == wanted


def _schema_errors(value: Any, schema: dict[str, Any], path: str, out: list[FieldError]) -> None:
    if not isinstance(schema, dict):
        return
    wanted = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if _json_type(value) not in ("integer", "string"):
            out.append(FieldError(path, "Invalid", f"{path} in body must be of type integer,string: "
                                                   f'"{_json_type(value)}"', _json_type(value)))
        return
    if isinstance(wanted, str) and not _type_ok(value, wanted):
        out.append(FieldError(path, "Invalid", f'{path} in body must be of type {wanted}: "{_json_type(value)}"',
                              _json_type(value)))
        return
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(v) for v in schema["enum"])
        out.append(FieldError(path, "NotSupported", f"supported values: {allowed}", value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(FieldError(path, "Invalid", f"{path} in body should be greater than or equal to "
                                                   f"{schema['minimum']}", value))
        if "maximum" in schema and value > schema["maximum"]:
            out.append(FieldError(path, "Invalid", f"{path} in body should be less than or equal to "
                                                   f"{schema['maximum']}", value))
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                out.append(FieldError(f"{path}.{name}" if path else name, "Required"))
        extra = schema.get("additionalProperties")
        for key, child in value.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                _schema_errors(child, sub, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _schema_errors(item, schema["items"], f"{path}[{index}]", out)


def schema_errors(rtype: ResourceType, obj: dict[str, Any]) -> list[FieldError]:
    """OpenAPI v3 validation of a custom resource against its CRD version schema (types, enum, required,
    minimum/maximum), worded like the apiextensions apiserver."""
    if rtype.crd is None:
        return []
    version = str(obj.get("apiVersion", "")).rpartition("/")[2]
    schema = (crd_version_entry(rtype.crd, version).get("schema") or {}).get("openAPIV3Schema") or {}
    out: list[FieldError] = []
    properties = schema.get("properties") or {}
    for key, value in obj.items():
        if key not in ("apiVersion", "kind", "metadata") and isinstance(properties.get(key), dict):
            _schema_errors(value, properties[key], key, out)
    for name in schema.get("required") or []:
        if name not in obj:
            out.append(FieldError(name, "Required"))
    return out
