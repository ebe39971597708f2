"""Validation with the wording of k8s.io/apimachinery/pkg/util/validation and the built-in validators.

Only rules a manifest author hits in practice are implemented: object names per resource, label keys and
values, required fields of pods/workloads/services, workload selectors matching their template, immutable
Secrets/ConfigMaps, CRD naming.  Each failure is a `FieldError`; the store aggregates them into the 422
Invalid Status that kube-apiserver returns.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .resources import NAME_DNS1035, NAME_LABEL, NAME_PATH_SEGMENT, ResourceType

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
               "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
               "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
QUALIFIED_NAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                      "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                      "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                   "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                   "'my_value',  or '12345', regex used for validation is "
                   "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def go_quote(value: Any) -> str:
    """Values the way field.Error prints them (%q for strings, %v otherwise)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items()))
        return "map[string]string{" + inner + "}"
    return str(value)


@dataclass
class FieldError:
    """One entry of a field.ErrorList."""

    field: str
    kind: str              # "Invalid", "Required", "Forbidden", "Duplicate", "NotSupported", "TooLong"
    detail: str = ""
    value: Any = None

    @property
    def reason(self) -> str:
        return {"Invalid": "FieldValueInvalid", "Required": "FieldValueRequired", "Forbidden": "FieldValueForbidden",
                "Duplicate": "FieldValueDuplicate", "NotSupported": "FieldValueNotSupported",
                "TooLong": "FieldValueTooLong"}[self.kind]

    @property
    def body(self) -> str:
        if self.kind == "Invalid":
            text = f"Invalid value: {go_quote(self.value)}"
        elif self.kind == "Required":
            text = "Required value"
        elif self.kind == "Forbidden":
            text = "Forbidden"
        elif self.kind == "Duplicate":
            text = f"Duplicate value: {go_quote(self.value)}"
        elif self.kind == "NotSupported":
            text = f"Unsupported value: {go_quote(self.value)}"
        else:
            text = "Too long"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"


def aggregate(errors: list[FieldError]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message alone, several in brackets."""
    if len(errors) == 1:
        return str(errors[0])
    return "[" + ", ".join(str(e) for e in errors) + "]"


def name_problems(rule: str, name: str) -> list[str]:
    if rule == NAME_PATH_SEGMENT:
        if name in (".", ".."):
            return [f"may not be '{name}'"]
        return [f"may not contain '{c}'" for c in "/%" if c in name]
    problems: list[str] = []
    if rule == NAME_LABEL:
        if len(name) > 63:
            problems.append("must be no more than 63 characters")
        if not DNS1123_LABEL.fullmatch(name):
            problems.append(LABEL_MSG)
    elif rule == NAME_DNS1035:
        if len(name) > 63:
            problems.append("must be no more than 63 characters")
        if not DNS1035_LABEL.fullmatch(name):
            problems.append(DNS1035_MSG)
    else:
        if len(name) > 253:
            problems.append("must be no more than 253 characters")
        if not DNS1123_SUBDOMAIN.fullmatch(name):
            problems.append(SUBDOMAIN_MSG)
    return problems


def qualified_name_problems(key: str) -> list[str]:
    prefix, slash, name = key.rpartition("/")
    problems: list[str] = []
    if slash:
        if not prefix:
            problems.append("prefix part must be non-empty")
        elif len(prefix) > 253 or not DNS1123_SUBDOMAIN.fullmatch(prefix):
            problems.append("prefix part " + SUBDOMAIN_MSG)
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    elif not QUALIFIED_NAME.fullmatch(name):
        problems.append(QUALIFIED_NAME_MSG)
    return problems


def validate_metadata(rtype: ResourceType, meta: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    name = meta.get("name") or ""
    if not name:
        if not meta.get("generateName"):
            errors.append(FieldError("metadata.name", "Required", "name or generateName is required"))
    else:
        errors += [FieldError("metadata.name", "Invalid", p, name) for p in name_problems(rtype.name_rule, name)]
    for key, value in sorted((meta.get("labels") or {}).items()):
        errors += [FieldError("metadata.labels", "Invalid", p, key) for p in qualified_name_problems(key)]
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.fullmatch(value):
            detail = "must be no more than 63 characters" if isinstance(value, str) and len(value) > 63 \
                else LABEL_VALUE_MSG
            errors.append(FieldError("metadata.labels", "Invalid", detail, value))
    for key in sorted(meta.get("annotations") or {}):
        errors += [FieldError("metadata.annotations", "Invalid", p, key) for p in qualified_name_problems(key)]
    return errors


def _pod_spec_errors(spec: Any, path: str) -> list[FieldError]:
    if not isinstance(spec, Mapping):
        return [FieldError(f"{path}.containers", "Required")]
    errors: list[FieldError] = []
    containers = spec.get("containers") or []
    if not containers:
        errors.append(FieldError(f"{path}.containers", "Required"))
    seen: set[str] = set()
    for index, container in enumerate(containers):
        cpath = f"{path}.containers[{index}]"
        name = container.get("name") if isinstance(container, Mapping) else None
        if not name:
            errors.append(FieldError(f"{cpath}.name", "Required"))
        elif name in seen:
            errors.append(FieldError(f"{cpath}.name", "Duplicate", value=name))
        else:
            seen.add(name)
            errors += [FieldError(f"{cpath}.name", "Invalid", p, name) for p in name_problems(NAME_LABEL, name)]
        if isinstance(container, Mapping) and not container.get("image"):
            errors.append(FieldError(f"{cpath}.image", "Required"))
    return errors


def _selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    from .selectors import selector_from_match
    return selector_from_match(selector if isinstance(selector, Mapping) else {}).matches(labels)


def _workload_errors(obj: Mapping[str, Any], selector_required: bool) -> list[FieldError]:
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    errors: list[FieldError] = []
    selector = spec.get("selector")
    if selector_required and not selector:
        errors.append(FieldError("spec.selector", "Required"))
    elif selector and not (selector.get("matchLabels") or selector.get("matchExpressions")):
        errors.append(FieldError("spec.selector", "Invalid", "empty selector is invalid for deployment",
                                 selector))
    if selector and not _selector_matches(selector, labels):
        errors.append(FieldError("spec.template.metadata.labels", "Invalid",
                                 "`selector` does not match template `labels`", labels))
    errors += _pod_spec_errors(template.get("spec"), "spec.template.spec")
    return errors


def validate_object(rtype: ResourceType, obj: Mapping[str, Any], old: Mapping[str, Any] | None) -> list[FieldError]:
    """Kind-specific rules on top of metadata validation."""
    errors = validate_metadata(rtype, obj.get("metadata") or {})
    kind, group = rtype.kind, rtype.group
    if (group, kind) == ("", "Pod"):
        errors += _pod_spec_errors(obj.get("spec"), "spec")
    elif (group, kind) in (("apps", "Deployment"), ("apps", "DaemonSet"), ("apps", "StatefulSet"),
                           ("apps", "ReplicaSet")):
        errors += _workload_errors(obj, selector_required=True)
    elif (group, kind) == ("batch", "Job"):
        errors += _pod_spec_errors(((obj.get("spec") or {}).get("template") or {}).get("spec"),
                                   "spec.template.spec")
    elif (group, kind) == ("", "Service"):
        spec = obj.get("spec") or {}
        headless = spec.get("clusterIP") == "None" or spec.get("type") == "ExternalName"
        if not spec.get("ports") and not headless:
            errors.append(FieldError("spec.ports", "Required"))
    elif (group, kind) in (("", "Secret"), ("", "ConfigMap")) and old is not None and old.get("immutable"):
        for fld in ("data", "binaryData"):
            if (obj.get(fld) or {}) != (old.get(fld) or {}):
                errors.append(FieldError(fld, "Forbidden", "field is immutable when `immutable` is set"))
        if not obj.get("immutable"):
            errors.append(FieldError("immutable", "Forbidden", "field is immutable when `immutable` is set"))
    elif (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        errors += _crd_errors(obj)
    return errors


def _crd_errors(obj: Mapping[str, Any]) -> list[FieldError]:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    errors: list[FieldError] = []
    name = (obj.get("metadata") or {}).get("name", "")
    if name != f"{names.get('plural', '')}.{spec.get('group', '')}":
        errors.append(FieldError("metadata.name", "Invalid", 'must be spec.names.plural+"."+spec.group', name))
    if not spec.get("group"):
        errors.append(FieldError("spec.group", "Required"))
    if not names.get("plural"):
        errors.append(FieldError("spec.names.plural", "Required"))
    if not names.get("kind"):
        errors.append(FieldError("spec.names.kind", "Required"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        errors.append(FieldError("spec.scope", "NotSupported", 'supported values: "Cluster", "Namespaced"',
                                 spec.get("scope", "")))
    versions = spec.get("versions") or []
    if not versions:
        errors.append(FieldError("spec.versions", "Invalid", "must have exactly one version marked as storage "
                                 "version", versions))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        errors.append(FieldError("spec.versions", "Invalid", "must have exactly one version marked as storage "
                                 "version", versions))
    return errors
