"""The stand-in's datastore: every API object, resourceVersions, watch history, JSON persistence.

It plays the part of kube-apiserver's registry + etcd: it assigns uid/creationTimestamp/resourceVersion/
generation, records managedFields, validates, defaults, cascades deletions (namespaces, CRDs, owner
references) and keeps a bounded history of watch events.  After each mutation the whole state is written to
`state_file` atomically (write a temp file, fsync, rename), so a restarted server keeps its objects the
way K3s keeps its datastore.

All public methods take and return plain dicts (deep copies) and are thread-safe; failures raise
`ApiError`, which `kubeapi` renders as a Kubernetes `Status`.
"""
from __future__ import annotations

import builtins
import copy
import ipaddress
import json
import os
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from . import defaults, fieldcheck, patching, ssa, typeinfo, validation
from .resources import K3S_CRDS, Registry, ResourceType, crd_storage_version, crd_version_entry, type_from_crd
from .selectors import FieldSelector, LabelSelector, SelectorError, parse_field_selector, parse_label_selector

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
DEFAULT_MANAGER = "k3s"
HISTORY_SIZE = 20000
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


class ApiError(Exception):
    """A failed request, carrying what the apiserver puts in its Status object."""

    def __init__(self, status: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details

    def status_object(self) -> dict[str, Any]:
        status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": self.message, "reason": self.reason}
        if self.details is not None:
            status["details"] = self.details
        status["code"] = self.status
        return status


def _details(name: str = "", group: str = "", kind: str = "", **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for key, value in (("name", name), ("group", group), ("kind", kind)):
        if value:
            details[key] = value
    details.update({k: v for k, v in extra.items() if v})
    return details


def not_found(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rtype.qualified} "{name}" not found',
                    _details(name, rtype.group, rtype.plural))


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(404, "NotFound", f'namespaces "{namespace}" not found', _details(namespace, "", "namespaces"))


def already_exists(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{rtype.qualified} "{name}" already exists',
                    _details(name, rtype.group, rtype.plural))


def conflict(rtype: ResourceType, name: str, why: str) -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {rtype.qualified} "{name}": {why}',
                    _details(name, rtype.group, rtype.plural))


MODIFIED_WHY = "the object has been modified; please apply your changes to the latest version and try again"


def invalid(rtype: ResourceType, name: str, errors: list[validation.FieldError]) -> ApiError:
    causes = [{"reason": e.reason, "message": e.body, "field": e.field} for e in errors]
    return ApiError(422, "Invalid", f'{rtype.qualified_kind} "{name}" is invalid: {validation.aggregate(errors)}',
                    _details(name, rtype.group, rtype.kind, causes=causes))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unknown_resource() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def _strip_nulls(value: Any) -> Any:
    """Nulls disappear on the way into storage, as with Go's omitempty fields and pruned CR nulls."""
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


@dataclass
class WatchEvent:
    rv: int
    type: str                           # ADDED, MODIFIED, DELETED
    group: str
    plural: str
    namespace: str
    obj: dict[str, Any]
    old: dict[str, Any] | None = None   # previous state, so selector watches can see objects leave


def _matches(obj: dict[str, Any] | None, labels: LabelSelector, fields: FieldSelector) -> bool:
    if obj is None:
        return False
    return labels.matches((obj.get("metadata") or {}).get("labels")) and fields.matches(obj)


class Store:
    """Thread-safe object store.  See the module docstring; signatures are the contract with server.py."""

    def __init__(self, state_file: Path | None = None, *, clock: Callable[[], float] = time.time,
                 bootstrap: bool = True, root_ca_pem: str | None = None,
                 service_cidr: str = "10.43.0.0/16", event_ttl: float = 3600.0) -> None:
        self.state_file = Path(state_file) if state_file else None
        self.event_ttl = event_ttl
        self.registry = Registry()
        self.clock = clock
        self.root_ca_pem = root_ca_pem
        self.service_network = ipaddress.ip_network(service_cidr)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._objects: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = {}
        self._uids: dict[str, tuple[str, str, str, str]] = {}
        self._rv = 0
        self._history: deque[WatchEvent] = deque(maxlen=HISTORY_SIZE)
        self._history_floor = 0
        self._load()
        if bootstrap:
            self.bootstrap()

    # ------------------------------------------------------------------------------------------ basics
    def now(self) -> str:
        return datetime.fromtimestamp(self.clock(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def resource_version(self) -> str:
        with self._lock:
            return str(self._rv)

    def resolve(self, api_version: str, kind: str) -> ResourceType:
        rtype = self.registry.by_kind(api_version, kind)
        if rtype is None:
            raise ApiError(404, "NotFound", f'no matches for kind "{kind}" in version "{api_version}"', {})
        return rtype

    def _bucket(self, rtype: ResourceType) -> dict[tuple[str, str], dict[str, Any]]:
        return self._objects.setdefault((rtype.group, rtype.plural), {})

    def _key(self, rtype: ResourceType, namespace: str | None, name: str) -> tuple[str, str]:
        return ((namespace or "") if rtype.namespaced else "", name)

    def _present(self, rtype: ResourceType, obj: dict[str, Any], version: str | None) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        out["apiVersion"] = rtype.api_version(version or str(obj.get("apiVersion", "")).rpartition("/")[2]
                                              or None)
        out["kind"] = rtype.kind
        return out

    def _type_info(self, rtype: ResourceType, version: str | None = None) -> typeinfo.T:
        if rtype.crd is None:
            return typeinfo.root_type(rtype.group, rtype.kind)
        entry = crd_version_entry(rtype.crd, version or crd_storage_version(rtype.crd))
        return typeinfo.root_type(rtype.group, rtype.kind, entry or {})

    # ----------------------------------------------------------------------------------- persistence
    def _load(self) -> None:
        if not self.state_file or not self.state_file.exists():
            return
        state = json.loads(self.state_file.read_text())
        self._rv = int(state.get("resourceVersion", 0))
        self._history_floor = self._rv
        objects = state.get("objects", [])
        for obj in objects:
            if obj.get("kind") == "CustomResourceDefinition":
                self.registry.add(type_from_crd(obj))
        for obj in objects:
            rtype = self.registry.by_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            if rtype is None:
                continue
            meta = obj["metadata"]
            self._bucket(rtype)[self._key(rtype, meta.get("namespace"), meta["name"])] = obj
            self._uids[meta["uid"]] = (rtype.group, rtype.plural, meta.get("namespace", ""), meta["name"])

    def _persist(self) -> None:
        if not self.state_file:
            return
        objects = [obj for bucket in self._objects.values() for obj in bucket.values()]
        payload = json.dumps({"resourceVersion": self._rv, "objects": objects}, separators=(",", ":"))
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(f".{self.state_file.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, payload.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.state_file)

    # ------------------------------------------------------------------------------------ bootstrap
    def bootstrap(self) -> None:
        """What a starting K3s server makes sure exists: system namespaces, the `kubernetes` service and
        K3s's CRDs (re-applied at every start, like K3s does)."""
        with self._lock:
            ns_type = self.resolve("v1", "Namespace")
            for name in SYSTEM_NAMESPACES:
                if (("", name)) not in self._bucket(ns_type):
                    self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            svc_type = self.resolve("v1", "Service")
            if ("default", "kubernetes") not in self._bucket(svc_type):
                self.create({"apiVersion": "v1", "kind": "Service", "metadata": {
                    "name": "kubernetes", "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"}},
                    "spec": {"clusterIP": str(self.service_network.network_address + 1),
                             "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}})
            for crd in K3S_CRDS:
                self.apply(copy.deepcopy(crd), DEFAULT_MANAGER, force=True)

    # ------------------------------------------------------------------------------------------ reads
    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        rtype = self.resolve(api_version, kind)
        return self.get_resource(rtype, api_version.rpartition("/")[2], namespace, name)

    def get_resource(self, rtype: ResourceType, version: str | None, namespace: str | None,
                     name: str) -> dict[str, Any]:
        with self._lock:
            obj = self._bucket(rtype).get(self._key(rtype, namespace, name))
            if obj is None:
                raise not_found(rtype, name)
            return self._present(rtype, obj, version)

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str = "",
             field_selector: str = "") -> dict[str, Any]:
        rtype = self.resolve(api_version, kind)
        return self.list_resource(rtype, api_version.rpartition("/")[2], namespace, label_selector,
                                  field_selector)

    def _selectors(self, rtype: ResourceType, label_selector: str, field_selector: str
                   ) -> tuple[LabelSelector, FieldSelector]:
        try:
            return (parse_label_selector(label_selector),
                    parse_field_selector(field_selector, rtype.plural, rtype.is_custom))
        except SelectorError as err:
            raise bad_request(str(err)) from None

    def list_resource(self, rtype: ResourceType, version: str | None, namespace: str | None = None,
                      label_selector: str = "", field_selector: str = "") -> dict[str, Any]:
        labels, fields = self._selectors(rtype, label_selector, field_selector)
        with self._lock:
            items = []
            for (ns, _name), obj in sorted(self._bucket(rtype).items()):
                if namespace and rtype.namespaced and ns != namespace:
                    continue
                if _matches(obj, labels, fields):
                    item = self._present(rtype, obj, version)
                    if not rtype.is_custom:
                        # Typed lists of the real apiserver carry no per-item apiVersion/kind.
                        item.pop("apiVersion", None)
                        item.pop("kind", None)
                    items.append(item)
            list_kind = (rtype.crd or {}).get("spec", {}).get("names", {}).get("listKind") or rtype.kind + "List"
            return {"kind": list_kind, "apiVersion": rtype.api_version(version),
                    "metadata": {"resourceVersion": str(self._rv)}, "items": items}

    def exists(self, rtype: ResourceType, namespace: str | None, name: str) -> bool:
        with self._lock:
            return self._key(rtype, namespace, name) in self._bucket(rtype)

    # ----------------------------------------------------------------------------------------- writes
    def _record(self, rtype: ResourceType, event: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Assign the next resourceVersion, store, index, log the watch event, persist, wake watchers."""
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        meta = obj["metadata"] = _order_metadata(obj["metadata"])
        key = self._key(rtype, meta.get("namespace"), meta["name"])
        if event == "DELETED":
            self._bucket(rtype).pop(key, None)
            self._uids.pop(meta.get("uid", ""), None)
        else:
            self._bucket(rtype)[key] = obj
            self._uids[meta["uid"]] = (rtype.group, rtype.plural, key[0], key[1])
        self._history.append(WatchEvent(self._rv, event, rtype.group, rtype.plural, key[0], copy.deepcopy(obj),
                                        copy.deepcopy(old) if old else None))
        self._persist()
        self._changed.notify_all()

    def _require_namespace(self, rtype: ResourceType, namespace: str | None) -> str:
        if not rtype.namespaced:
            return ""
        if not namespace:
            raise bad_request("the namespace of the object is required")
        if ("", namespace) not in self._objects.get(("", "namespaces"), {}):
            raise namespace_not_found(namespace)
        return namespace

    def _ignored_paths(self, rtype: ResourceType, subresource: str, obj: dict[str, Any]) -> set[ssa.Path]:
        """Fields a write through this endpoint may not change (the apiserver's reset fields)."""
        if subresource == "status":
            return {(("f", k),) for k in obj if k not in ("status", "metadata", "apiVersion", "kind")}
        if rtype.status:
            return {(("f", "status"),)}
        return set()

    def _validate(self, rtype: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        errors = validation.validate_object(rtype, obj, old) + fieldcheck.schema_errors(rtype, obj)
        if errors:
            raise invalid(rtype, obj["metadata"].get("name", ""), errors)

    def _allocate_cluster_ip(self, obj: dict[str, Any]) -> None:
        spec = obj.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            return
        if not spec.get("clusterIP"):
            used = {(s.get("spec") or {}).get("clusterIP") for s in self._objects.get(("", "services"), {}).values()}
            for address in self.service_network.hosts():
                if int(address) - int(self.service_network.network_address) < 11:
                    continue  # .1 is the apiserver's and .10 the DNS service's (K3s defaults)
                if str(address) not in used:
                    spec["clusterIP"] = str(address)
                    break
        if spec["clusterIP"] != "None":
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        else:
            spec.setdefault("clusterIPs", ["None"])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            used_ports = {p.get("nodePort") for s in self._objects.get(("", "services"), {}).values()
                          for p in (s.get("spec") or {}).get("ports") or []}
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    port["nodePort"] = next(n for n in range(30000, 32768) if n not in used_ports)
                    used_ports.add(port["nodePort"])
        obj.setdefault("status", {}).setdefault("loadBalancer", {})

    def _prepare_create(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        """Strategy PrepareForCreate: status starts empty except where the real registries keep it."""
        if rtype.status and (rtype.group, rtype.kind) not in (("", "Node"),):
            obj.pop("status", None)
        if (rtype.group, rtype.kind) == ("", "Pod"):
            obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        if (rtype.group, rtype.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            finalizers = obj["metadata"].setdefault("finalizers", [])
            if CRD_FINALIZER not in finalizers:
                finalizers.append(CRD_FINALIZER)

    def create(self, obj: dict[str, Any], dry_run: bool = False, field_manager: str = DEFAULT_MANAGER
               ) -> dict[str, Any]:
        rtype = self.resolve(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        return self.create_resource(rtype, None, obj, field_manager=field_manager, dry_run=dry_run)

    def create_resource(self, rtype: ResourceType, version: str | None, obj: dict[str, Any], *,
                        namespace: str | None = None, field_manager: str = DEFAULT_MANAGER,
                        dry_run: bool = False, managers: builtins.list[ssa.Manager] | None = None,
                        field_validation: str = "Ignore",
                        warnings: builtins.list[str] | None = None) -> dict[str, Any]:
        """Create; `managers` is passed by server-side apply (its field set), otherwise an Update entry
        for field_manager is recorded.  field_validation: Ignore/Warn/Strict for undeclared fields."""
        new = _strip_nulls(copy.deepcopy(obj))
        version = version or str(new.get("apiVersion", "")).rpartition("/")[2] or rtype.versions[0]
        new["apiVersion"], new["kind"] = rtype.api_version(version), rtype.kind
        if managers is None:
            check_unknown_fields(rtype, new, field_validation, warnings, _decode_prefix(rtype, version))
        meta = new.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        with self._lock:
            meta["namespace"] = self._require_namespace(rtype, namespace or meta.get("namespace"))
            if not meta["namespace"]:
                meta.pop("namespace")
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = str(meta["generateName"])[:58] + "".join(
                    random.choice(_GENERATE_ALPHABET) for _ in range(5))
            for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink",
                        "managedFields"):
                meta.pop(key, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = self.now()
            if rtype.generation:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            self._prepare_create(rtype, new)
            defaults.apply_defaults(rtype, new)
            if (rtype.group, rtype.kind) == ("", "Service"):
                self._allocate_cluster_ip(new)
            self._validate(rtype, new, None)
            if self._key(rtype, meta.get("namespace"), meta["name"]) in self._bucket(rtype):
                raise already_exists(rtype, meta["name"])
            if (rtype.group, rtype.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
                self._accept_crd(new)
            now = self.now()
            if managers is None:
                managers = ssa.record_update({}, new, self._type_info(rtype, version), [], field_manager,
                                             new["apiVersion"], now,
                                             ignored=self._ignored_paths(rtype, "", new))
            meta["managedFields"] = ssa.encode_managed_fields(managers)
            meta = _order_metadata(meta)
            new["metadata"] = meta
            if dry_run:
                return self._present(rtype, new, version)
            self._record(rtype, "ADDED", new, None)
            self._after_create(rtype, new)
            if (rtype.group, rtype.kind) == ("", "Event"):
                self._expire_events(rtype)
            return self._present(rtype, new, version)

    def _expire_events(self, rtype: ResourceType) -> None:
        """Events live for --event-ttl (1 h) after their last update, like their etcd leases in K3s."""
        horizon = self.clock() - self.event_ttl
        for event in list(self._bucket(rtype).values()):
            stamp = event.get("lastTimestamp") or event["metadata"].get("creationTimestamp")
            try:
                seen = datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
            except ValueError:
                continue
            if seen < horizon:
                self._record(rtype, "DELETED", copy.deepcopy(event), event)

    def _after_create(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        """Controllers that react immediately in a real cluster (registration, per-namespace objects)."""
        if (rtype.group, rtype.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            self.registry.add(type_from_crd(obj))
        elif (rtype.group, rtype.kind) == ("", "Namespace"):
            name = obj["metadata"]["name"]
            self.create({"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": {"name": "default", "namespace": name}})
            if self.root_ca_pem:
                self.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "kube-root-ca.crt", "namespace": name,
                                          "annotations": {"kubernetes.io/description": (
                                              "Contains a CA bundle that can be used to verify the "
                                              "kube-apiserver when using internal endpoints such as the "
                                              "internal service IP or kubernetes.default.svc. No other usage "
                                              "is guaranteed across distributions of Kubernetes clusters.")}},
                             "data": {"ca.crt": self.root_ca_pem}})

    def _accept_crd(self, crd: dict[str, Any]) -> None:
        """What the apiextensions controllers report once a CRD's names are accepted and it is served."""
        spec = crd.get("spec") or {}
        names = copy.deepcopy(spec.get("names") or {})
        now = self.now()
        crd["status"] = {
            "acceptedNames": names,
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts",
                 "message": "no conflicts found"},
                {"type": "Established", "status": "True", "lastTransitionTime": now, "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted"},
            ],
            "storedVersions": [crd_storage_version(crd)],
        }

    def update(self, obj: dict[str, Any], dry_run: bool = False, field_manager: str = DEFAULT_MANAGER,
               subresource: str = "") -> dict[str, Any]:
        rtype = self.resolve(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        meta = obj.get("metadata") or {}
        return self.update_resource(rtype, None, meta.get("namespace"), str(meta.get("name", "")), obj,
                                    field_manager=field_manager, dry_run=dry_run, subresource=subresource)

    def update_resource(self, rtype: ResourceType, version: str | None, namespace: str | None, name: str,
                        obj: dict[str, Any], *, field_manager: str = DEFAULT_MANAGER, dry_run: bool = False,
                        subresource: str = "", managers: builtins.list[ssa.Manager] | None = None,
                        field_validation: str = "Ignore", warnings: builtins.list[str] | None = None,
                        _from_patch: bool = False) -> dict[str, Any]:
        with self._lock:
            current = self._bucket(rtype).get(self._key(rtype, namespace, name))
            if current is None:
                raise not_found(rtype, name)
            old = copy.deepcopy(current)
            new = _strip_nulls(copy.deepcopy(obj))
            version = version or str(new.get("apiVersion", "")).rpartition("/")[2] or rtype.versions[0]
            new["apiVersion"], new["kind"] = rtype.api_version(version), rtype.kind
            if managers is None:
                check_unknown_fields(rtype, new, field_validation, warnings,
                                     "" if _from_patch else _decode_prefix(rtype, version))
            meta = new.setdefault("metadata", {})
            wanted_rv = meta.get("resourceVersion")
            if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
                raise conflict(rtype, name, MODIFIED_WHY)
            new = self._carry_over(rtype, old, new, subresource)
            defaults.apply_defaults(rtype, new)
            if (rtype.group, rtype.kind) == ("", "Service"):
                self._allocate_cluster_ip(new)
            self._bump_generation(rtype, old, new)
            self._validate(rtype, new, old)
            incoming_managed = obj.get("metadata", {}).get("managedFields")
            if managers is None:
                base = ssa.decode_managed_fields(old["metadata"].get("managedFields"))
                if incoming_managed and incoming_managed != old["metadata"].get("managedFields"):
                    base = ssa.decode_managed_fields(incoming_managed)
                managers = ssa.record_update(_without_managed(old), _without_managed(new),
                                             self._type_info(rtype, version), base, field_manager,
                                             new["apiVersion"], self.now(), subresource,
                                             ignored=self._ignored_paths(rtype, subresource, new))
            new["metadata"]["managedFields"] = ssa.encode_managed_fields(managers)
            new["metadata"] = _order_metadata(new["metadata"])
            if _same_content(old, new):
                return self._present(rtype, old, version)
            if (rtype.group, rtype.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
                self._accept_crd(new)
            if dry_run:
                return self._present(rtype, new, version)
            self._record(rtype, "MODIFIED", new, old)
            if (rtype.group, rtype.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
                self.registry.add(type_from_crd(new))
            if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                self._remove(rtype, new, "Background")
            return self._present(rtype, new, version)

    def _carry_over(self, rtype: ResourceType, old: dict[str, Any], new: dict[str, Any],
                    subresource: str) -> dict[str, Any]:
        """Fields a client cannot change through this endpoint keep their stored values."""
        meta, old_meta = new["metadata"], old["metadata"]
        for key in ("name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp",
                    "deletionGracePeriodSeconds"):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        meta.pop("selfLink", None)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if subresource == "status":
            merged = copy.deepcopy(old)
            merged["apiVersion"] = new["apiVersion"]
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            return merged
        if rtype.status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        return new

    def _bump_generation(self, rtype: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> None:
        if not rtype.generation:
            return
        skip = {"metadata", "apiVersion", "kind"} | ({"status"} if rtype.status else set())
        def content(obj: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in obj.items() if k not in skip}
        if content(old) != content(new):
            new["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1

    # ------------------------------------------------------------------------------------------ patch
    def patch(self, api_version: str, kind: str, namespace: str | None, name: str, patch_type: str,
              patch: Any, field_manager: str = DEFAULT_MANAGER, force: bool = False, dry_run: bool = False,
              subresource: str = "") -> dict[str, Any]:
        rtype = self.resolve(api_version, kind)
        return self.patch_resource(rtype, api_version.rpartition("/")[2], namespace, name, patch_type, patch,
                                   field_manager=field_manager, force=force, dry_run=dry_run,
                                   subresource=subresource)

    def patch_resource(self, rtype: ResourceType, version: str | None, namespace: str | None, name: str,
                       patch_type: str, patch: Any, *, field_manager: str = DEFAULT_MANAGER,
                       force: bool = False, dry_run: bool = False, subresource: str = "",
                       field_validation: str = "Ignore", warnings: builtins.list[str] | None = None) -> dict[str, Any]:
        """Patch with one of patching.ALL_PATCH_TYPES; `patch` is the decoded body."""
        if patch_type == patching.APPLY_PATCH:
            config = patch if isinstance(patch, dict) else {}
            return self.apply_resource(rtype, version, namespace, name, config, field_manager=field_manager,
                                       force=force, dry_run=dry_run, subresource=subresource)
        with self._lock:
            current = self._bucket(rtype).get(self._key(rtype, namespace, name))
            if current is None:
                raise not_found(rtype, name)
            doc = self._present(rtype, current, version)
            try:
                if patch_type == patching.JSON_PATCH:
                    patched = patching.json_patch(doc, patch)
                elif patch_type == patching.MERGE_PATCH:
                    patched = patching.merge_patch(doc, patch)
                elif patch_type == patching.STRATEGIC_MERGE_PATCH and not rtype.is_custom:
                    patched = patching.strategic_merge_patch(doc, patch, self._type_info(rtype, version))
                else:
                    raise unsupported_patch(rtype)
            except patching.PatchError as err:
                if err.status == 400:
                    raise bad_request(str(err)) from None
                raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request",
                               {"causes": [{"message": str(err)}]}) from None
            if not isinstance(patched, dict):
                raise bad_request("the patched object is not a JSON object")
            patched.setdefault("metadata", {})
            if not isinstance(patched["metadata"], dict):
                raise bad_request("metadata must be an object")
            patched["metadata"]["name"] = name
            return self.update_resource(rtype, version, namespace, name, patched, field_manager=field_manager,
                                        dry_run=dry_run, subresource=subresource, field_validation=field_validation,
                                        warnings=warnings, _from_patch=True)

    # ------------------------------------------------------------------------------------------ apply
    def apply(self, obj: dict[str, Any], field_manager: str, force: bool = False, dry_run: bool = False,
              subresource: str = "") -> dict[str, Any]:
        rtype = self.resolve(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        meta = obj.get("metadata") or {}
        return self.apply_resource(rtype, None, meta.get("namespace"), str(meta.get("name", "")), obj,
                                   field_manager=field_manager, force=force, dry_run=dry_run,
                                   subresource=subresource)

    def apply_resource(self, rtype: ResourceType, version: str | None, namespace: str | None, name: str,
                       config: dict[str, Any], *, field_manager: str, force: bool = False, dry_run: bool = False,
                       subresource: str = "") -> dict[str, Any]:
        """Server-side apply of config by field_manager (creates the object when it does not exist)."""
        if not field_manager:
            raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                           'is required for apply patch', _details("", "meta.k8s.io", "PatchOptions", causes=[
                               {"reason": "FieldValueRequired", "message": "Required value: is required for apply "
                                "patch", "field": "fieldManager"}]))
        config = _strip_nulls(copy.deepcopy(config))
        self._check_apply_config(rtype, config, name)
        version = version or str(config["apiVersion"]).rpartition("/")[2]
        self._check_apply_fields(rtype, version, config, namespace)
        meta = config.setdefault("metadata", {})
        if rtype.namespaced:
            meta["namespace"] = namespace or meta.get("namespace")
        else:
            meta.pop("namespace", None)
        with self._lock:
            current = self._bucket(rtype).get(self._key(rtype, meta.get("namespace"), name))
            ignored = self._ignored_paths(rtype, subresource, config)
            effective = {k: v for k, v in config.items() if (("f", k),) not in ignored}
            wanted_rv = meta.get("resourceVersion")
            effective_meta = effective["metadata"] = {k: v for k, v in meta.items() if k != "resourceVersion"}
            if current is None:
                if subresource:
                    raise not_found(rtype, name)
                if wanted_rv:
                    raise conflict(rtype, name, MODIFIED_WHY)
                self._require_namespace(rtype, effective_meta.get("namespace"))
                live = {"apiVersion": config["apiVersion"], "kind": rtype.kind, "metadata": {"name": name}}
                result = self._run_apply(rtype, live, effective, [], field_manager, version, force, ignored,
                                         subresource)
                return self.create_resource(rtype, version, result.obj, field_manager=field_manager,
                                            dry_run=dry_run, managers=result.managers)
            if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
                raise conflict(rtype, name, MODIFIED_WHY)
            live = _without_managed(self._present(rtype, current, version))
            managers = ssa.decode_managed_fields(current["metadata"].get("managedFields"))
            result = self._run_apply(rtype, live, effective, managers, field_manager, version, force, ignored,
                                     subresource)
            merged = result.obj
            if field_manager == "kubectl" and LAST_APPLIED in ((live["metadata"].get("annotations")) or {}):
                merged["metadata"].setdefault("annotations", {})[LAST_APPLIED] = _last_applied(config)
            return self.update_resource(rtype, version, meta.get("namespace"), name, merged,
                                        field_manager=field_manager, dry_run=dry_run, subresource=subresource,
                                        managers=result.managers)

    def _check_apply_config(self, rtype: ResourceType, config: dict[str, Any], name: str) -> None:
        if not config.get("kind"):
            raise bad_request(f"Object 'Kind' is missing in '{json.dumps(config, separators=(',', ':'))}'")
        if not config.get("apiVersion"):
            raise bad_request(f"Object 'apiVersion' is missing in '{json.dumps(config, separators=(',', ':'))}'")
        group, _, version = str(config["apiVersion"]).rpartition("/")
        if config["kind"] != rtype.kind or group != rtype.group or version not in rtype.versions:
            raise bad_request(f"error decoding patch: the body of the request was in an unknown format - "
                              f"{config['apiVersion']}, Kind={config['kind']} is not {rtype.api_version()}, "
                              f"Kind={rtype.kind}")
        meta = config.get("metadata")
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if meta.get("name") and name and meta["name"] != name:
            raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
        meta["name"] = name or meta.get("name", "")

    def _check_apply_fields(self, rtype: ResourceType, version: str, config: dict[str, Any],
                            namespace: str | None) -> None:
        """Server-side apply converts the configuration to a typed value first; undeclared fields fail that
        conversion whatever fieldValidation says (a plain error, so a 500 without a reason)."""
        found = fieldcheck.unknown_fields(rtype, copy.deepcopy(config))
        if not found:
            return
        meta = config.get("metadata") or {}
        where = f"{namespace or meta.get('namespace') or ''}/{meta.get('name', '')}" if rtype.namespaced \
            else f"/{meta.get('name', '')}"
        paths = [_smd_path(config, path, self._type_info(rtype, version)) for path in found]
        detail = paths[0] if len(paths) == 1 else "errors:\n  " + "\n  ".join(paths)
        raise ApiError(500, "", f"failed to create typed patch object ({where}; {rtype.group}/{version}, "
                                f"Kind={rtype.kind}): {detail}")

    def _run_apply(self, rtype: ResourceType, live: dict[str, Any], config: dict[str, Any],
                   managers: builtins.list[ssa.Manager], field_manager: str, version: str, force: bool,
                   ignored: set[ssa.Path], subresource: str) -> ssa.ApplyResult:
        rtype_info = self._type_info(rtype, version)
        try:
            return ssa.apply(live, config, rtype_info, managers, field_manager, rtype.api_version(version), force,
                             self.now(), subresource, ignored)
        except ssa.ApplyConflict as err:
            conflicts = err.conflicts
            if field_manager == "kubectl":
                # kubectl's first server-side apply after client-side applies may take over the fields its
                # last-applied annotation holds with the live values (the apiserver's lastAppliedManager).
                allowed = _allowed_from_last_applied(live, rtype_info, rtype.api_version(version))
                conflicts = [(m, p) for m, p in conflicts if p not in allowed]
                if not conflicts:
                    return ssa.apply(live, config, rtype_info, managers, field_manager, rtype.api_version(version),
                                     True, self.now(), subresource, ignored)
            final = ssa.ApplyConflict(conflicts)
            raise ApiError(409, "Conflict", final.message, {"causes": final.causes}) from None

    # ----------------------------------------------------------------------------------------- delete
    def delete(self, api_version: str, kind: str, namespace: str | None, name: str, dry_run: bool = False,
               propagation: str = "Background") -> dict[str, Any]:
        rtype = self.resolve(api_version, kind)
        return self.delete_resource(rtype, api_version.rpartition("/")[2], namespace, name, dry_run=dry_run,
                                    propagation=propagation)

    def delete_resource(self, rtype: ResourceType, version: str | None, namespace: str | None, name: str, *,
                        dry_run: bool = False, propagation: str | None = None,
                        preconditions: dict[str, Any] | None = None) -> dict[str, Any]:
        """Delete; returns the object (pods, custom resources, namespaces, objects held by finalizers) or a
        Success Status, like the real registries."""
        propagation = propagation or "Background"
        with self._lock:
            current = self._bucket(rtype).get(self._key(rtype, namespace, name))
            if current is None:
                raise not_found(rtype, name)
            meta = current["metadata"]
            preconditions = preconditions or {}
            if preconditions.get("uid") and preconditions["uid"] != meta["uid"]:
                raise conflict(rtype, name, f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                                            f"UID in object meta: {meta['uid']}")
            if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != meta["resourceVersion"]:
                raise conflict(rtype, name, "Precondition failed: ResourceVersion in precondition: "
                                            f"{preconditions['resourceVersion']}, ResourceVersion in object meta: "
                                            f"{meta['resourceVersion']}")
            terminating = copy.deepcopy(current)
            terminating["metadata"].setdefault("deletionTimestamp", self.now())
            terminating["metadata"].setdefault("deletionGracePeriodSeconds", 0)
            is_ns = (rtype.group, rtype.kind) == ("", "Namespace")
            is_crd = (rtype.group, rtype.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition")
            if is_ns:
                terminating["status"] = {"phase": "Terminating"}
            if dry_run:
                if is_ns or is_crd or meta.get("finalizers") or rtype.is_custom or rtype.kind == "Pod":
                    return self._present(rtype, terminating, version)
                return self._deleted_status(rtype, current)
            if is_ns or is_crd:
                if not meta.get("deletionTimestamp"):
                    self._record(rtype, "MODIFIED", terminating, current)
                self._empty(rtype, terminating)
                result = self._present(rtype, self._bucket(rtype).get(self._key(rtype, namespace, name))
                                       or terminating, version)
                self._remove(rtype, copy.deepcopy(terminating), propagation, drop_finalizers=True)
                return result
            if meta.get("finalizers"):
                if not meta.get("deletionTimestamp"):
                    self._record(rtype, "MODIFIED", terminating, current)
                return self._present(rtype, self._bucket(rtype)[self._key(rtype, namespace, name)], version)
            removed = self._remove(rtype, copy.deepcopy(current), propagation)
            if rtype.is_custom or rtype.kind == "Pod":
                return self._present(rtype, removed, version)
            return self._deleted_status(rtype, current)

    def _deleted_status(self, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": _details(obj["metadata"]["name"], rtype.group, rtype.plural, uid=obj["metadata"]["uid"])}

    def _empty(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        """Namespace controller / CRD finalizer: remove what lives inside before the container goes."""
        name = obj["metadata"]["name"]
        if rtype.kind == "Namespace":
            for child_type in self.registry.all():
                if not child_type.namespaced:
                    continue
                for (ns, child), child_obj in sorted(self._bucket(child_type).items()):
                    if ns == name:
                        self._remove(child_type, copy.deepcopy(child_obj), "Background", drop_finalizers=True)
            return
        spec = obj.get("spec") or {}
        custom = self.registry.by_plural(spec.get("group", ""), None, (spec.get("names") or {}).get("plural", ""))
        if custom is not None and custom.is_custom:
            for child_obj in list(self._bucket(custom).values()):
                self._remove(custom, copy.deepcopy(child_obj), "Background", drop_finalizers=True)
            self.registry.remove(custom.group, custom.plural)
            self._objects.pop((custom.group, custom.plural), None)

    def _remove(self, rtype: ResourceType, obj: dict[str, Any], propagation: str,
                drop_finalizers: bool = False) -> dict[str, Any]:
        """Delete one stored object, then let the garbage collector handle its dependents."""
        if drop_finalizers:
            obj["metadata"].pop("finalizers", None)
        key = self._key(rtype, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        previous = self._bucket(rtype).get(key)
        if previous is None:
            return obj
        self._record(rtype, "DELETED", obj, previous)
        uid = obj["metadata"]["uid"]
        if propagation == "Orphan":
            self._orphan_dependents(uid)
        else:
            self.collect_garbage()
        return obj

    def _orphan_dependents(self, owner_uid: str) -> None:
        for rtype in self.registry.all():
            for obj in list(self._bucket(rtype).values()):
                refs = obj["metadata"].get("ownerReferences") or []
                if any(r.get("uid") == owner_uid for r in refs):
                    updated = copy.deepcopy(obj)
                    kept = [r for r in refs if r.get("uid") != owner_uid]
                    if kept:
                        updated["metadata"]["ownerReferences"] = kept
                    else:
                        updated["metadata"].pop("ownerReferences")
                    self._record(rtype, "MODIFIED", updated, obj)

    def collect_garbage(self) -> int:
        """Delete objects all of whose owners are gone (the garbage collector's background policy);
        returns how many objects were deleted."""
        deleted = 0
        with self._lock:
            while True:
                victims = []
                for rtype in self.registry.all():
                    for obj in self._bucket(rtype).values():
                        refs = obj["metadata"].get("ownerReferences") or []
                        if refs and not any(r.get("uid") in self._uids for r in refs):
                            victims.append((rtype, obj))
                if not victims:
                    return deleted
                for rtype, obj in victims:
                    self._record(rtype, "DELETED", copy.deepcopy(obj), obj)
                    deleted += 1

    # ------------------------------------------------------------------------------------------ watch
    def watch(self, api_version: str, kind: str, namespace: str | None = None, resource_version: str = "",
              label_selector: str = "", field_selector: str = "", timeout: float = 1800.0
              ) -> Iterator[dict[str, Any] | None]:
        rtype = self.resolve(api_version, kind)
        return self.watch_resource(rtype, api_version.rpartition("/")[2], namespace, resource_version,
                                   label_selector, field_selector, timeout)

    def watch_resource(self, rtype: ResourceType, version: str | None, namespace: str | None = None,
                       resource_version: str = "", label_selector: str = "", field_selector: str = "",
                       timeout: float = 1800.0, send_initial_events: bool = False,
                       allow_bookmarks: bool = False) -> Iterator[dict[str, Any] | None]:
        """Watch events as dicts ({"type", "object"}); yields None at least every second while idle so that
        the caller can notice a vanished client and the deadline."""
        labels, fields = self._selectors(rtype, label_selector, field_selector)
        if resource_version and not resource_version.isdigit():
            raise bad_request(f'invalid resource version: "{resource_version}"')
        return self._watch_iter(rtype, version, namespace, resource_version, labels, fields, timeout,
                                send_initial_events, allow_bookmarks)

    def _watch_iter(self, rtype: ResourceType, version: str | None, namespace: str | None, resource_version: str,
                    labels: LabelSelector, fields: FieldSelector, timeout: float, send_initial_events: bool,
                    allow_bookmarks: bool) -> Iterator[dict[str, Any] | None]:
        deadline = time.monotonic() + timeout
        with self._lock:
            initial: builtins.list[dict[str, Any]] = []
            if resource_version in ("", "0") or send_initial_events:
                cursor = self._rv
                for (ns, _), obj in sorted(self._bucket(rtype).items()):
                    if (not namespace or not rtype.namespaced or ns == namespace) and _matches(obj, labels, fields):
                        initial.append(self._present(rtype, obj, version))
            else:
                cursor = int(resource_version)
                oldest = self._history[0].rv - 1 if self._history else self._rv
                oldest = max(oldest, self._history_floor)
                if cursor < oldest:
                    yield {"type": "ERROR", "object": ApiError(
                        410, "Expired", f"too old resource version: {cursor} ({oldest})").status_object()}
                    return
        for obj in initial:
            yield {"type": "ADDED", "object": obj}
        if send_initial_events and allow_bookmarks:
            yield {"type": "BOOKMARK", "object": {
                "kind": rtype.kind, "apiVersion": rtype.api_version(version),
                "metadata": {"resourceVersion": str(cursor),
                             "annotations": {"k8s.io/initial-events-end": "true"}}}}
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with self._lock:
                pending = [e for e in self._history if e.rv > cursor]
                if not pending:
                    self._changed.wait(timeout=min(1.0, remaining))
                    pending = [e for e in self._history if e.rv > cursor]
                if self.registry.by_plural(rtype.group, None, rtype.plural) is None:
                    return
            if not pending:
                yield None
                continue
            for event in pending:
                cursor = event.rv
                translated = self._translate(rtype, version, namespace, event, labels, fields)
                if translated:
                    yield translated

    def _translate(self, rtype: ResourceType, version: str | None, namespace: str | None, event: WatchEvent,
                   labels: LabelSelector, fields: FieldSelector) -> dict[str, Any] | None:
        if (event.group, event.plural) != (rtype.group, rtype.plural):
            return None
        if namespace and rtype.namespaced and event.namespace != namespace:
            return None
        now_matches = _matches(event.obj, labels, fields)
        was_matching = _matches(event.old, labels, fields)
        kind = event.type
        if kind == "MODIFIED":
            if now_matches and not was_matching:
                kind = "ADDED"
            elif was_matching and not now_matches:
                kind = "DELETED"
            elif not now_matches:
                return None
        elif not now_matches:
            return None
        return {"type": kind, "object": self._present(rtype, event.obj, version)}


def check_unknown_fields(rtype: ResourceType, obj: dict[str, Any], mode: str, warnings: list[str] | None,
                         prefix: str) -> None:
    """Drop undeclared fields like decoding does; Strict rejects them, Warn reports them."""
    found = fieldcheck.unknown_fields(rtype, obj, prune=mode != "Strict")
    if not found:
        return
    listed = ", ".join(f'unknown field "{path}"' for path in found)
    if mode == "Strict":
        raise bad_request(f"{prefix}strict decoding error: {listed}")
    if mode == "Warn" and warnings is not None:
        warnings.extend(f'unknown field "{path}"' for path in found)


def unsupported_patch(rtype: ResourceType) -> ApiError:
    accepted = [patching.JSON_PATCH, patching.MERGE_PATCH]
    if not rtype.is_custom:
        accepted.append(patching.STRATEGIC_MERGE_PATCH)
    accepted.append(patching.APPLY_PATCH)
    return ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted "
                    "media types include: " + ", ".join(accepted), {})


def _without_managed(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out.get("metadata", {}).pop("managedFields", None)
    return out


def _same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return old == new


def _decode_prefix(rtype: ResourceType, version: str) -> str:
    return f'{rtype.kind} in version "{version}" cannot be handled as a {rtype.kind}: '


def _smd_path(obj: dict[str, Any], dotted: str, rtype_info: typeinfo.T) -> str:
    """`spec.containers[0].imagee` as structured-merge-diff prints it: `.spec.containers[name="c"].imagee:
    field not declared in schema`."""
    import re
    out, node_type = "", rtype_info
    node: Any = obj
    for part in dotted.split("."):
        match = re.fullmatch(r"(.*?)((?:\[\d+\])*)", part)
        name, indexes = (match.group(1), match.group(2)) if match else (part, "")
        out += "." + name
        node = node.get(name) if isinstance(node, dict) else None
        node_type = node_type.child(name)
        for index in re.findall(r"\[(\d+)\]", indexes):
            item = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
            element = ssa.item_element(item, node_type)
            out += ssa.path_string((element,)) if element else f"[{index}]"
            node, node_type = item, node_type.item()
    return f"{out}: field not declared in schema"


def _allowed_from_last_applied(live: dict[str, Any], rtype_info: typeinfo.T, api_version: str) -> set[ssa.Path]:
    """Fields of the last-applied annotation whose values the live object still has."""
    text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        last = json.loads(text) if text else None
    except json.JSONDecodeError:
        return set()
    if not isinstance(last, dict) or last.get("apiVersion") != api_version:
        return set()
    comparison = ssa.compare(last, live, rtype_info)
    return ssa.field_set(last, rtype_info) - comparison.modified - comparison.added - comparison.removed


def _last_applied(config: dict[str, Any]) -> str:
    applied = copy.deepcopy(config)
    annotations = applied.get("metadata", {}).get("annotations") or {}
    annotations.pop(LAST_APPLIED, None)
    if not annotations:
        applied.get("metadata", {}).pop("annotations", None)
    return json.dumps(applied, separators=(",", ":"), sort_keys=True) + "\n"


_META_ORDER = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
               "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
               "ownerReferences", "finalizers", "managedFields")


def _order_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """ObjectMeta in Go field order, so JSON output reads like the real apiserver's."""
    ordered = {k: meta[k] for k in _META_ORDER if k in meta}
    ordered.update({k: v for k, v in meta.items() if k not in ordered})
    return ordered
