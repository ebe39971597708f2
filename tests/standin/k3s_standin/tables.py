"""Server-side printing (`meta.k8s.io/v1 Table`), which is what `kubectl get` shows as columns.

Columns follow kube-apiserver v1.34's printers (pkg/printers/internalversion) for the resources the
collection looks at; custom resources use their CRD's additionalPrinterColumns (or Name + Age); anything else
gets the default Name + Created At table, exactly like resources without a printer in the real apiserver.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Callable

from .resources import ResourceType, crd_version_entry

NAME_DESC = ("Name must be unique within a namespace. Is required when creating resources, although some "
             "resources may allow a client to request the generation of an appropriate name automatically. "
             "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
             "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
CREATED_DESC = ("CreationTimestamp is a timestamp representing the server time when this object was created. "
                "It is not guaranteed to be set in happens-before order across separate operations. Clients may "
                "not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. "
                "Read-only. Null for lists. More info: "
                "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata")


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    secs = int(seconds)
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    minutes = secs // 60
    if minutes < 10:
        rest = secs % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = secs // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if rest == 0 else f"{hours // 24 // 365}y{rest}d"
    return f"{hours // 24 // 365}y"


def _since(timestamp: Any, now: float) -> str:
    if not timestamp:
        return "<unknown>"
    try:
        then = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return "<invalid>"
    return human_duration(now - then)


def _age(obj: dict[str, Any], now: float) -> str:
    return _since(obj.get("metadata", {}).get("creationTimestamp"), now)


Column = tuple[str, str, str, int, Callable[[dict[str, Any], float], Any]]  # name, type, description, priority, cell


def _col(name: str, cell: Callable[[dict[str, Any], float], Any], desc: str = "", priority: int = 0,
         kind: str = "string") -> Column:
    return (name, kind, desc, priority, cell)


def _name(obj: dict[str, Any], _now: float) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


NAME = _col("Name", _name, NAME_DESC)
AGE = _col("Age", _age, CREATED_DESC)


def _node_status(obj: dict[str, Any], _now: float) -> str:
    conditions = (obj.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    status = "Unknown" if ready is None else ("Ready" if ready.get("status") == "True" else "NotReady")
    if ready is not None and ready.get("status") == "Unknown":
        status = "NotReady"
    if (obj.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    return status


def _node_roles(obj: dict[str, Any], _now: float) -> str:
    roles = set()
    for key, value in (obj.get("metadata", {}).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            roles.add(key.split("/", 1)[1])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(r for r in roles if r)) or "<none>"


def _node_address(kind: str) -> Callable[[dict[str, Any], float], str]:
    def cell(obj: dict[str, Any], _now: float) -> str:
        for address in (obj.get("status") or {}).get("addresses") or []:
            if address.get("type") == kind:
                return str(address.get("address"))
        return "<none>"
    return cell


def _node_info(key: str) -> Callable[[dict[str, Any], float], str]:
    return lambda obj, _now: str(((obj.get("status") or {}).get("nodeInfo") or {}).get(key, ""))


def _pod_ready(obj: dict[str, Any], _now: float) -> str:
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    total = len((obj.get("spec") or {}).get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(obj: dict[str, Any], _now: float) -> str:
    status = obj.get("status") or {}
    if obj.get("metadata", {}).get("deletionTimestamp"):
        return "Terminating"
    return str(status.get("reason") or status.get("phase") or "Pending")


def _pod_restarts(obj: dict[str, Any], _now: float) -> int:
    return sum(int(s.get("restartCount", 0)) for s in (obj.get("status") or {}).get("containerStatuses") or [])


def _svc_ports(obj: dict[str, Any], _now: float) -> str:
    parts = []
    for port in (obj.get("spec") or {}).get("ports") or []:
        text = f"{port.get('port')}"
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        parts.append(f"{text}/{port.get('protocol', 'TCP')}")
    return ",".join(parts) or "<none>"


def _svc_external(obj: dict[str, Any], _now: float) -> str:
    spec = obj.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return str(spec.get("externalName", ""))
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ips = [i.get("ip") or i.get("hostname") for i in ingress] + list(spec.get("externalIPs") or [])
    if ips:
        return ",".join(str(i) for i in ips)
    return "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"


def _count(path: str) -> Callable[[dict[str, Any], float], int]:
    def cell(obj: dict[str, Any], _now: float) -> int:
        value = obj.get(path) or {}
        return len(value)
    return cell


def _status_int(key: str) -> Callable[[dict[str, Any], float], int]:
    return lambda obj, _now: int((obj.get("status") or {}).get(key, 0) or 0)


def _ready_of(desired_key: str) -> Callable[[dict[str, Any], float], str]:
    def cell(obj: dict[str, Any], _now: float) -> str:
        ready = int((obj.get("status") or {}).get("readyReplicas", 0) or 0)
        desired = int((obj.get("spec") or {}).get(desired_key, 0) or 0)
        return f"{ready}/{desired}"
    return cell


def _job_status(obj: dict[str, Any], _now: float) -> str:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("status") == "True" and condition.get("type") in ("Complete", "Failed", "Suspended"):
            return str(condition["type"])
    return "Running"


def _job_completions(obj: dict[str, Any], _now: float) -> str:
    succeeded = int((obj.get("status") or {}).get("succeeded", 0) or 0)
    completions = (obj.get("spec") or {}).get("completions")
    return f"{succeeded}/{completions if completions is not None else 1}"


def _event_object(obj: dict[str, Any], _now: float) -> str:
    ref = obj.get("involvedObject") or {}
    return f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}"


def _event_last_seen(obj: dict[str, Any], now: float) -> str:
    return _since(obj.get("lastTimestamp") or obj.get("eventTime") or obj.get("metadata", {}).get(
        "creationTimestamp"), now)


def _field(*path: str, default: Any = "<none>") -> Callable[[dict[str, Any], float], Any]:
    def cell(obj: dict[str, Any], _now: float) -> Any:
        current: Any = obj
        for part in path:
            current = current.get(part) if isinstance(current, dict) else None
        return default if current in (None, "") else current
    return cell


def _storage_class_name(obj: dict[str, Any], _now: float) -> str:
    annotations = obj.get("metadata", {}).get("annotations") or {}
    default = "true" in (annotations.get("storageclass.kubernetes.io/is-default-class"),
                         annotations.get("storageclass.beta.kubernetes.io/is-default-class"))
    return _name(obj, _now) + (" (default)" if default else "")


def _role_ref(obj: dict[str, Any], _now: float) -> str:
    ref = obj.get("roleRef") or {}
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


def _apiservice_service(obj: dict[str, Any], _now: float) -> str:
    service = (obj.get("spec") or {}).get("service")
    return f"{service.get('namespace')}/{service.get('name')}" if service else "Local"


def _apiservice_available(obj: dict[str, Any], _now: float) -> str:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Available":
            status = str(condition.get("status"))
            return status if status == "True" else f"{status} ({condition.get('reason', '')})"
    return "Unknown"


def _ingress_hosts(obj: dict[str, Any], _now: float) -> str:
    hosts = [r.get("host") for r in (obj.get("spec") or {}).get("rules") or [] if r.get("host")]
    return ",".join(hosts) or "*"


PRINTERS: dict[tuple[str, str], list[Column]] = {
    ("storage.k8s.io", "storageclasses"): [
        _col("Name", _storage_class_name, NAME_DESC),
        _col("Provisioner", _field("provisioner", default=""), "Indicates the type of the provisioner."),
        _col("ReclaimPolicy", _field("reclaimPolicy", default="Delete"), "Indicates the type of the reclaim "
             "policy."),
        _col("VolumeBindingMode", _field("volumeBindingMode", default="Immediate"), "Indicates when volume "
             "binding will occur"),
        _col("AllowVolumeExpansion", lambda o, n: bool(o.get("allowVolumeExpansion")), "Indicates whether the "
             "storageclass allow volume expand", kind="boolean"), AGE],
    ("batch", "cronjobs"): [
        NAME, _col("Schedule", _field("spec", "schedule", default=""), "The schedule for running the job."),
        _col("Timezone", _field("spec", "timeZone"), "The time zone the job is scheduled in."),
        _col("Suspend", lambda o, n: bool((o.get("spec") or {}).get("suspend")), "Whether the job is suspended.",
             kind="boolean"),
        _col("Active", lambda o, n: len((o.get("status") or {}).get("active") or []), "Number of active jobs.",
             kind="integer"),
        _col("Last Schedule", lambda o, n: _since((o.get("status") or {}).get("lastScheduleTime"), n),
             "The last time the job was scheduled."), AGE],
    ("scheduling.k8s.io", "priorityclasses"): [
        NAME, _col("Value", _field("value", default=0), "Value of the priority class", kind="integer"),
        _col("Global-Default", lambda o, n: bool(o.get("globalDefault")), "Whether this is the default",
             kind="boolean"), AGE,
        _col("PreemptionPolicy", _field("preemptionPolicy", default="PreemptLowerPriority"),
             "The preemption policy", priority=0)],
    ("node.k8s.io", "runtimeclasses"): [NAME, _col("Handler", _field("handler", default=""), "The handler"), AGE],
    ("rbac.authorization.k8s.io", "rolebindings"): [NAME, _col("Role", _role_ref, "Role referenced"), AGE],
    ("rbac.authorization.k8s.io", "clusterrolebindings"): [NAME, _col("Role", _role_ref, "Role referenced"), AGE],
    ("apiregistration.k8s.io", "apiservices"): [
        NAME, _col("Service", _apiservice_service, "The reference to the service that hosts this API endpoint."),
        _col("Available", _apiservice_available, "Whether this service is available."), AGE],
    ("networking.k8s.io", "ingresses"): [
        NAME, _col("Class", _field("spec", "ingressClassName"), "The name of the IngressClass resource"),
        _col("Hosts", _ingress_hosts, "Hosts that incoming requests are matched against"),
        _col("Address", lambda o, n: ",".join(i.get("ip") or i.get("hostname") or "" for i in (
            ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [])), "Address of the ingress"),
        _col("Ports", lambda o, n: "80, 443" if (o.get("spec") or {}).get("tls") else "80", "Ports of TLS "
             "configurations that open"), AGE],
    ("", "namespaces"): [NAME, _col("Status", _field("status", "phase", default=""),
                                    "The status of the namespace"), AGE],
    ("", "nodes"): [NAME, _col("Status", _node_status, "The status of the node"),
                    _col("Roles", _node_roles, "The roles of the node"), AGE,
                    _col("Version", _node_info("kubeletVersion"), "Kubelet Version reported by the node."),
                    _col("Internal-IP", _node_address("InternalIP"), "List of internal IPs.", 1),
                    _col("External-IP", _node_address("ExternalIP"), "List of external IPs.", 1),
                    _col("OS-Image", _node_info("osImage"), "OS Image reported by the node.", 1),
                    _col("Kernel-Version", _node_info("kernelVersion"), "Kernel version reported by the node.", 1),
                    _col("Container-Runtime", _node_info("containerRuntimeVersion"),
                         "Container Runtime Version reported by the node.", 1)],
    ("", "pods"): [NAME, _col("Ready", _pod_ready, "The aggregate readiness state of this pod for accepting "
                              "traffic."),
                   _col("Status", _pod_status, "The aggregate status of the containers in this pod."),
                   _col("Restarts", _pod_restarts, "The number of times the containers in this pod have been "
                        "restarted and when the last container in this pod has restarted.", kind="string"),
                   AGE, _col("IP", _field("status", "podIP"), "IP address allocated to the pod.", 1),
                   _col("Node", _field("spec", "nodeName"), "Name of the node where the pod is scheduled.", 1)],
    ("", "services"): [NAME, _col("Type", _field("spec", "type", default="ClusterIP"), "The type of service."),
                       _col("Cluster-IP", _field("spec", "clusterIP"), "The cluster IP of the service."),
                       _col("External-IP", _svc_external, "The external IP of the service."),
                       _col("Port(s)", _svc_ports, "The ports of the service."), AGE],
    ("", "configmaps"): [NAME, _col("Data", lambda o, n: len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                                    "Number of data items", kind="integer"), AGE],
    ("", "secrets"): [NAME, _col("Type", _field("type", default=""), "The type of the secret"),
                      _col("Data", _count("data"), "The number of data items in the secret", kind="integer"), AGE],
    ("", "serviceaccounts"): [NAME, _col("Secrets", _count("secrets"), "The number of secrets", kind="integer"),
                              AGE],
    ("", "events"): [_col("Last Seen", _event_last_seen, "Last time the event was seen"),
                     _col("Type", _field("type", default=""), "The type of the event"),
                     _col("Reason", _field("reason", default=""), "The reason of the event"),
                     _col("Object", _event_object, "The object the event is about"),
                     _col("Message", _field("message", default=""), "The message of the event")],
    ("apps", "deployments"): [NAME, _col("Ready", _ready_of("replicas"), "Number of the pod with ready state"),
                              _col("Up-to-date", _status_int("updatedReplicas"), "Total number of non-terminated "
                                   "pods targeted by this deployment that have the desired template spec.",
                                   kind="integer"),
                              _col("Available", _status_int("availableReplicas"), "Total number of available "
                                   "pods (ready for at least minReadySeconds) targeted by this deployment.",
                                   kind="integer"), AGE],
    ("apps", "statefulsets"): [NAME, _col("Ready", _ready_of("replicas"), "Number of the pod with ready state"),
                               AGE],
    ("apps", "replicasets"): [NAME, _col("Desired", _field("spec", "replicas", default=0), "Number of desired "
                                         "pods", kind="integer"),
                              _col("Current", _status_int("replicas"), "Number of actually running pods",
                                   kind="integer"),
                              _col("Ready", _status_int("readyReplicas"), "Number of ready pods", kind="integer"),
                              AGE],
    ("apps", "daemonsets"): [NAME] + [
        _col(title, _status_int(key), title, kind="integer") for title, key in (
            ("Desired", "desiredNumberScheduled"), ("Current", "currentNumberScheduled"),
            ("Ready", "numberReady"), ("Up-to-date", "updatedNumberScheduled"),
            ("Available", "numberAvailable"))] + [
        _col("Node Selector", lambda o, n: ",".join(f"{k}={v}" for k, v in sorted(
            (((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector", {}).items()))
            or "<none>", "The node selector of the daemonset"), AGE],
    ("batch", "jobs"): [NAME, _col("Status", _job_status, "Status of the job."),
                        _col("Completions", _job_completions, "The completion status of the job."),
                        _col("Duration", lambda o, n: "", "Time required to complete the job."), AGE],
    ("coordination.k8s.io", "leases"): [NAME, _col("Holder", _field("spec", "holderIdentity", default=""),
                                                   "The holder of the lease"), AGE],
}


def _jsonpath_value(obj: dict[str, Any], expression: str) -> Any:
    """The simple `.a.b.c` JSONPaths additionalPrinterColumns use."""
    current: Any = obj
    for part in [p for p in expression.strip().lstrip(".").split(".") if p]:
        current = current.get(part) if isinstance(current, dict) else None
    return current


def _crd_columns(rtype: ResourceType, version: str | None) -> list[Column]:
    entry = crd_version_entry(rtype.crd or {}, version or rtype.versions[0])
    declared = entry.get("additionalPrinterColumns") or []
    if not declared:
        return [NAME, _col("Age", _age, CREATED_DESC, kind="date")]
    columns = [NAME]
    for spec in declared:
        path, kind = str(spec.get("jsonPath", "")), str(spec.get("type", "string"))
        def cell(obj: dict[str, Any], now: float, path: str = path, kind: str = kind) -> Any:
            value = _jsonpath_value(obj, path)
            if kind == "date":
                return _since(value, now) if value else None
            return value
        columns.append(_col(str(spec.get("name", "")), cell, str(spec.get("description", "")),
                            int(spec.get("priority", 0)), kind))
    return columns


def columns_for(rtype: ResourceType, version: str | None) -> list[Column]:
    if rtype.is_custom:
        return _crd_columns(rtype, version)
    return PRINTERS.get((rtype.group, rtype.plural)) or [
        NAME, _col("Created At", lambda o, n: o.get("metadata", {}).get("creationTimestamp"), CREATED_DESC,
                   kind="date")]


def _row_object(rtype: ResourceType, version: str | None, obj: dict[str, Any], include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        # Rows carry whole objects with their type (items of typed lists do not), or clients cannot decode them.
        return {"kind": rtype.kind, "apiVersion": rtype.api_version(version),
                **{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}}
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def to_table(rtype: ResourceType, version: str | None, objects: list[dict[str, Any]], *,
             resource_version: str = "", include_object: str = "Metadata", now: float | None = None,
             table_version: str = "v1") -> dict[str, Any]:
    now = time.time() if now is None else now
    columns = columns_for(rtype, version)
    definitions = []
    for name, kind, desc, priority, _cell in columns:
        definition = {"name": name, "type": kind, "format": "name" if name == "Name" and _cell is _name else "",
                      "description": desc, "priority": priority}
        definitions.append(definition)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": [cell(obj, now) for *_rest, cell in columns]}
        embedded = _row_object(rtype, version, obj, include_object)
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    metadata = {"resourceVersion": resource_version} if resource_version else {}
    return {"kind": "Table", "apiVersion": f"meta.k8s.io/{table_version}", "metadata": metadata,
            "columnDefinitions": definitions, "rows": rows}
