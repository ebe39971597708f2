"""Decoding of `application/vnd.kubernetes.protobuf` request bodies.

kubectl's typed commands (`kubectl create namespace|configmap|secret|serviceaccount|role|rolebinding|
clusterrole|clusterrolebinding|deployment|service|job|cronjob|priorityclass|quota`, `kubectl run`,
`kubectl auth can-i|whoami`) send protobuf, not JSON, and a real apiserver
accepts both.  The stand-in
decodes those kinds (field numbers of k8s.io/api's generated.proto) into the JSON form the rest of the API
works with; responses stay JSON, which the same clients also accept.  Other kinds in protobuf get 415.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"


class ProtobufError(ValueError):
    pass


# A schema maps field number -> (JSON name, kind, sub-schema).  Kinds: str, bytes (base64 in JSON), int, bool,
# msg, time (metav1.Time), raw (FieldsV1: JSON bytes), int_or_string, map_ss / map_sb / map_sq
# (map<string, string|bytes|Quantity>); a "[]" suffix marks repeated fields.  Fields not listed are skipped:
# only what kubectl's generators fill in is decoded (defaults fill the rest, as for JSON bodies).
Schema = dict[int, tuple[str, str, Any]]

TIME: Schema = {1: ("seconds", "int", None), 2: ("nanos", "int", None)}
OWNER_REFERENCE: Schema = {1: ("kind", "str", None), 3: ("name", "str", None), 4: ("uid", "str", None),
                           5: ("apiVersion", "str", None), 6: ("controller", "bool", None),
                           7: ("blockOwnerDeletion", "bool", None)}
MANAGED_FIELDS: Schema = {1: ("manager", "str", None), 2: ("operation", "str", None), 3: ("apiVersion", "str", None),
                          4: ("time", "time", None), 6: ("fieldsType", "str", None), 7: ("fieldsV1", "raw", None),
                          8: ("subresource", "str", None)}
OBJECT_META: Schema = {
    1: ("name", "str", None), 2: ("generateName", "str", None), 3: ("namespace", "str", None),
    4: ("selfLink", "str", None), 5: ("uid", "str", None), 6: ("resourceVersion", "str", None),
    7: ("generation", "int", None), 8: ("creationTimestamp", "time", None), 9: ("deletionTimestamp", "time", None),
    10: ("deletionGracePeriodSeconds", "int", None), 11: ("labels", "map_ss", None),
    12: ("annotations", "map_ss", None), 13: ("ownerReferences", "msg[]", OWNER_REFERENCE),
    14: ("finalizers", "str[]", None), 17: ("managedFields", "msg[]", MANAGED_FIELDS),
}
OBJECT_REFERENCE: Schema = {1: ("kind", "str", None), 2: ("namespace", "str", None), 3: ("name", "str", None),
                            4: ("uid", "str", None), 5: ("apiVersion", "str", None),
                            6: ("resourceVersion", "str", None), 7: ("fieldPath", "str", None)}
LOCAL_OBJECT_REFERENCE: Schema = {1: ("name", "str", None)}
POLICY_RULE: Schema = {1: ("verbs", "str[]", None), 2: ("apiGroups", "str[]", None), 3: ("resources", "str[]", None),
                       4: ("resourceNames", "str[]", None), 5: ("nonResourceURLs", "str[]", None)}
SUBJECT: Schema = {1: ("kind", "str", None), 2: ("apiGroup", "str", None), 3: ("name", "str", None),
                   4: ("namespace", "str", None)}
ROLE_REF: Schema = {1: ("apiGroup", "str", None), 2: ("kind", "str", None), 3: ("name", "str", None)}
LABEL_SELECTOR_REQ: Schema = {1: ("key", "str", None), 2: ("operator", "str", None), 3: ("values", "str[]", None)}
LABEL_SELECTOR: Schema = {1: ("matchLabels", "map_ss", None), 2: ("matchExpressions", "msg[]", LABEL_SELECTOR_REQ)}

INT_OR_STRING: Schema = {1: ("type", "int", None), 2: ("intVal", "int", None), 3: ("strVal", "str", None)}
CONTAINER_PORT: Schema = {1: ("name", "str", None), 2: ("hostPort", "int", None), 3: ("containerPort", "int", None),
                          4: ("protocol", "str", None), 5: ("hostIP", "str", None)}
ENV_VAR: Schema = {1: ("name", "str", None), 2: ("value", "str", None)}
CONTAINER: Schema = {1: ("name", "str", None), 2: ("image", "str", None), 3: ("command", "str[]", None),
                     4: ("args", "str[]", None), 5: ("workingDir", "str", None), 6: ("ports", "msg[]", CONTAINER_PORT),
                     7: ("env", "msg[]", ENV_VAR), 13: ("terminationMessagePath", "str", None),
                     14: ("imagePullPolicy", "str", None), 20: ("terminationMessagePolicy", "str", None)}
POD_SPEC: Schema = {2: ("containers", "msg[]", CONTAINER), 3: ("restartPolicy", "str", None),
                    6: ("dnsPolicy", "str", None), 7: ("nodeSelector", "map_ss", None),
                    8: ("serviceAccountName", "str", None), 10: ("nodeName", "str", None),
                    19: ("schedulerName", "str", None), 20: ("initContainers", "msg[]", CONTAINER),
                    24: ("priorityClassName", "str", None)}
POD_TEMPLATE: Schema = {1: ("metadata", "msg", OBJECT_META), 2: ("spec", "msg", POD_SPEC)}
JOB_SPEC: Schema = {1: ("parallelism", "int", None), 2: ("completions", "int", None),
                    3: ("activeDeadlineSeconds", "int", None), 4: ("selector", "msg", LABEL_SELECTOR),
                    6: ("template", "msg", POD_TEMPLATE), 7: ("backoffLimit", "int", None),
                    8: ("ttlSecondsAfterFinished", "int", None), 9: ("completionMode", "str", None)}
SERVICE_PORT: Schema = {1: ("name", "str", None), 2: ("protocol", "str", None), 3: ("port", "int", None),
                        4: ("targetPort", "int_or_string", INT_OR_STRING), 5: ("nodePort", "int", None),
                        6: ("appProtocol", "str", None)}
QUANTITY: Schema = {1: ("string", "str", None)}

RESOURCE_ATTRIBUTES: Schema = {1: ("namespace", "str", None), 2: ("verb", "str", None), 3: ("group", "str", None),
                               4: ("version", "str", None), 5: ("resource", "str", None),
                               6: ("subresource", "str", None), 7: ("name", "str", None)}
ACCESS_REVIEW_SPEC: Schema = {1: ("resourceAttributes", "msg", RESOURCE_ATTRIBUTES),
                              2: ("nonResourceAttributes", "msg", {1: ("path", "str", None), 2: ("verb", "str", None)})}

KINDS: dict[tuple[str, str], Schema] = {
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): {1: ("metadata", "msg", OBJECT_META),
                                                             2: ("spec", "msg", ACCESS_REVIEW_SPEC)},
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): {1: ("metadata", "msg", OBJECT_META),
                                                            2: ("spec", "msg", {1: ("namespace", "str", None)})},
    ("authentication.k8s.io/v1", "SelfSubjectReview"): {1: ("metadata", "msg", OBJECT_META)},
    ("v1", "Namespace"): {1: ("metadata", "msg", OBJECT_META),
                          2: ("spec", "msg", {1: ("finalizers", "str[]", None)}),
                          3: ("status", "msg", {1: ("phase", "str", None)})},
    ("v1", "ConfigMap"): {1: ("metadata", "msg", OBJECT_META), 2: ("data", "map_ss", None),
                          3: ("binaryData", "map_sb", None), 4: ("immutable", "bool", None)},
    ("v1", "Secret"): {1: ("metadata", "msg", OBJECT_META), 2: ("data", "map_sb", None), 3: ("type", "str", None),
                       4: ("stringData", "map_ss", None), 5: ("immutable", "bool", None)},
    ("v1", "ServiceAccount"): {1: ("metadata", "msg", OBJECT_META), 2: ("secrets", "msg[]", OBJECT_REFERENCE),
                               3: ("imagePullSecrets", "msg[]", LOCAL_OBJECT_REFERENCE),
                               4: ("automountServiceAccountToken", "bool", None)},
    ("v1", "Pod"): {1: ("metadata", "msg", OBJECT_META), 2: ("spec", "msg", POD_SPEC)},
    ("v1", "Service"): {1: ("metadata", "msg", OBJECT_META), 2: ("spec", "msg", {
        1: ("ports", "msg[]", SERVICE_PORT), 2: ("selector", "map_ss", None), 3: ("clusterIP", "str", None),
        4: ("type", "str", None), 10: ("externalName", "str", None)})},
    ("v1", "ResourceQuota"): {1: ("metadata", "msg", OBJECT_META), 2: ("spec", "msg", {
        1: ("hard", "map_sq", None), 2: ("scopes", "str[]", None)})},
    ("apps/v1", "Deployment"): {1: ("metadata", "msg", OBJECT_META), 2: ("spec", "msg", {
        1: ("replicas", "int", None), 2: ("selector", "msg", LABEL_SELECTOR), 3: ("template", "msg", POD_TEMPLATE),
        4: ("strategy", "msg", {1: ("type", "str", None)}), 5: ("minReadySeconds", "int", None),
        6: ("revisionHistoryLimit", "int", None), 9: ("progressDeadlineSeconds", "int", None)})},
    ("batch/v1", "Job"): {1: ("metadata", "msg", OBJECT_META), 2: ("spec", "msg", JOB_SPEC)},
    ("batch/v1", "CronJob"): {1: ("metadata", "msg", OBJECT_META), 2: ("spec", "msg", {
        1: ("schedule", "str", None), 2: ("startingDeadlineSeconds", "int", None),
        3: ("concurrencyPolicy", "str", None), 4: ("suspend", "bool", None),
        5: ("jobTemplate", "msg", {1: ("metadata", "msg", OBJECT_META), 2: ("spec", "msg", JOB_SPEC)}),
        6: ("successfulJobsHistoryLimit", "int", None), 7: ("failedJobsHistoryLimit", "int", None),
        8: ("timeZone", "str", None)})},
    ("scheduling.k8s.io/v1", "PriorityClass"): {1: ("metadata", "msg", OBJECT_META), 2: ("value", "int", None),
                                                3: ("globalDefault", "bool", None), 4: ("description", "str", None),
                                                5: ("preemptionPolicy", "str", None)},
    ("rbac.authorization.k8s.io/v1", "Role"): {1: ("metadata", "msg", OBJECT_META),
                                               2: ("rules", "msg[]", POLICY_RULE)},
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): {
        1: ("metadata", "msg", OBJECT_META), 2: ("rules", "msg[]", POLICY_RULE),
        3: ("aggregationRule", "msg", {1: ("clusterRoleSelectors", "msg[]", LABEL_SELECTOR)})},
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): {1: ("metadata", "msg", OBJECT_META),
                                                      2: ("subjects", "msg[]", SUBJECT),
                                                      3: ("roleRef", "msg", ROLE_REF)},
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): {1: ("metadata", "msg", OBJECT_META),
                                                             2: ("subjects", "msg[]", SUBJECT),
                                                             3: ("roleRef", "msg", ROLE_REF)},
}
UNKNOWN: Schema = {1: ("typeMeta", "msg", {1: ("apiVersion", "str", None), 2: ("kind", "str", None)}),
                   2: ("raw", "bytes_raw", None), 3: ("contentEncoding", "str", None), 4: ("contentType", "str", None)}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("unexpected EOF")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) triples; value is an int or bytes."""
    out: list[tuple[int, int, Any]] = []
    pos = 0
    value: Any
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _time(data: bytes) -> str | None:
    parts = decode_message(data, TIME)
    seconds = int(parts.get("seconds", 0))
    if not seconds:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _map_entry(data: bytes, kind: str) -> tuple[str, str]:
    """One map entry: string values, bytes values (base64 in JSON) or resource.Quantity values."""
    key, value = "", b""
    for number, _wire, raw in _fields(data):
        if number == 1:
            key = raw.decode()
        elif number == 2:
            value = raw
    if kind == "map_sb":
        return key, base64.b64encode(value).decode()
    if kind == "map_sq":
        return key, str(decode_message(value, QUANTITY).get("string", ""))
    return key, value.decode()


def decode_message(data: bytes, schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, _wire, raw in _fields(data):
        if number not in schema:
            continue
        name, kind, sub = schema[number]
        repeated = kind.endswith("[]")
        base = kind[:-2] if repeated else kind
        if base == "str":
            value: Any = raw.decode()
        elif base == "bytes_raw":
            value = raw
        elif base == "int":
            value = _signed(raw)
        elif base == "bool":
            value = bool(raw)
        elif base == "msg":
            value = decode_message(raw, sub)
        elif base == "time":
            value = _time(raw)
        elif base == "raw":
            inner = decode_message(raw, {1: ("raw", "bytes_raw", None)}).get("raw", b"{}")
            value = json.loads(inner or b"{}")
        elif base == "int_or_string":
            parts = decode_message(raw, sub)
            value = parts.get("strVal", "") if parts.get("type") == 1 else parts.get("intVal", 0)
            out[name] = value
            continue
        elif base in ("map_ss", "map_sb", "map_sq"):
            key, entry = _map_entry(raw, base)
            out.setdefault(name, {})[key] = entry
            continue
        else:
            continue
        if repeated:
            out.setdefault(name, []).append(value)
        elif value not in ("", 0, None, {}) or base == "bool":
            out[name] = value
    return out


def decode_object(body: bytes) -> dict[str, Any]:
    """A protobuf-encoded object as its JSON dict; ProtobufError for unknown kinds or bad data."""
    if not body.startswith(MAGIC):
        raise ProtobufError("provided data does not appear to be a protobuf message, expected prefix "
                            "[107 56 115 0]")
    envelope = decode_message(body[len(MAGIC):], UNKNOWN)
    type_meta = envelope.get("typeMeta", {})
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    schema = KINDS.get((api_version, kind))
    if schema is None:
        raise ProtobufError(f"no protobuf decoding for {api_version}, Kind={kind} in the stand-in")
    obj = decode_message(envelope.get("raw", b""), schema)
    return {"apiVersion": api_version, "kind": kind, **obj}
