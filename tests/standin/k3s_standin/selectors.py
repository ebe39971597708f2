"""Label and field selectors with the grammar and matching rules of k8s.io/apimachinery (labels, fields).

Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`, joined by
commas.  Field selectors: `path=v`, `path==v`, `path!=v` over a per-resource set of supported fields.
Parse errors raise `SelectorError`, which the API turns into a 400 BadRequest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_NAME_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class SelectorError(ValueError):
    """A selector that the real apiserver refuses with 400 BadRequest; str() is the message it prints."""


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str                       # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if not present:
            return False
        try:
            have, want = int(str(value)), int(self.values[0])
        except ValueError:
            return False
        return have > want if self.op == "gt" else have < want


def _validate_key(key: str) -> None:
    """Qualified-name rule for label keys: optional DNS-subdomain prefix, then a 63-char name."""
    prefix, slash, name = key.rpartition("/")
    problems: list[str] = []
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        problems.append("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                        "characters, '-' or '.', and must start and end with an alphanumeric character")
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    elif not _NAME_PART.fullmatch(name):
        problems.append("name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
                        "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
                        "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    if problems:
        raise SelectorError(f"unable to parse requirement: key: Invalid value: {_quote(key)}: "
                            + "; ".join(problems))


def _validate_value(index: int, value: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
        raise SelectorError(
            f"unable to parse requirement: values[{index}][{{key}}]: Invalid value: {_quote(value)}: "
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
            "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|>|<|[^\s!=(),<>]+)")


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            break
        tokens.append(match.group(1))
        pos = match.end()
        if not text[pos:].strip():
            break
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.pos += 1
        return token

    def expect_identifier(self, after: str) -> str:
        token = self.take()
        if token is None or token in ("!=", "==", "=", "!", "(", ")", ",", ">", "<"):
            raise SelectorError(f"found '{token or ''}', expected: identifier after '{after}'")
        return token

    def requirement(self) -> Requirement:
        if self.peek() == "!":
            self.take()
            key = self.expect_identifier("!")
            _validate_key(key)
            return Requirement(key, "!")
        key = self.expect_identifier(",") if self.peek() in (None, ",") else str(self.take())
        _validate_key(key)
        op = self.peek()
        if op is None or op == ",":
            return Requirement(key, "exists")
        self.take()
        if op in ("=", "=="):
            return Requirement(key, "=", (self.value(key),))
        if op == "!=":
            return Requirement(key, "!=", (self.value(key),))
        if op in (">", "<"):
            raw = self.value(key)
            if not re.fullmatch(r"-?\d+", raw):
                raise SelectorError(f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be "
                                    f"an integer")
            return Requirement(key, "gt" if op == ">" else "lt", (raw,))
        if op in ("in", "notin"):
            return Requirement(key, op, self.value_set(key))
        raise SelectorError(f"found '{op}', expected: in, notin, =, ==, !=, gt, lt")

    def value(self, key: str) -> str:
        token = self.peek()
        if token is None or token == ",":
            return ""
        if token in ("!=", "==", "=", "!", "(", ")", ">", "<"):
            raise SelectorError(f"found '{token}', expected: identifier")
        self.take()
        _validate_value_for(key, 0, token)
        return token

    def value_set(self, key: str) -> tuple[str, ...]:
        if self.take() != "(":
            raise SelectorError("found '', expected: '('")
        values: list[str] = []
        while True:
            token = self.take()
            if token == ")":
                if not values:
                    values.append("")
                break
            if token == ",":
                if not values:
                    values.append("")
                continue
            if token is None:
                raise SelectorError("found '', expected: ')'")
            _validate_value_for(key, len(values), token)
            values.append(token)
        return tuple(values)


def _validate_value_for(key: str, index: int, value: str) -> None:
    try:
        _validate_value(index, value)
    except SelectorError as err:
        raise SelectorError(str(err).replace("{key}", key)) from None


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(req.matches(labels) for req in self.requirements)


def parse_label_selector(text: str | None) -> LabelSelector:
    if not text or not text.strip():
        return LabelSelector()
    parser = _Parser(text)
    requirements: list[Requirement] = []
    while True:
        requirements.append(parser.requirement())
        token = parser.take()
        if token is None:
            break
        if token != ",":
            raise SelectorError(f"found '{token}', expected: ',' or 'end of string'")
    return LabelSelector(tuple(requirements))


def selector_from_match(spec: Mapping[str, Any] | None) -> LabelSelector:
    """A metav1.LabelSelector ({matchLabels, matchExpressions}) as a LabelSelector."""
    spec = spec or {}
    requirements = [Requirement(k, "=", (str(v),)) for k, v in sorted((spec.get("matchLabels") or {}).items())]
    for expr in spec.get("matchExpressions") or []:
        op = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}.get(expr.get("operator", ""))
        if op:
            requirements.append(Requirement(expr["key"], op, tuple(expr.get("values") or ())))
    return LabelSelector(tuple(requirements))


# Fields each built-in resource accepts in fieldSelector besides metadata.name/metadata.namespace.
EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "events": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
               "reason", "reportingComponent", "source", "type"),
    "secrets": ("type",),
    "nodes": ("spec.unschedulable",),
    "namespaces": ("status.phase",),
    "replicasets": ("status.replicas",),
    "jobs": ("status.successful",),
    "certificatesigningrequests": ("spec.signerName",),
}


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    op: str                         # "=" or "!="
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        actual = _field_value(obj, self.path)
        return (actual == self.value) if self.op == "=" else (actual != self.value)


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return ""
        current = current.get(part)
    if current is None:
        # Unset booleans read as "false" in the field sets the real registries build (spec.unschedulable).
        return "false" if path in ("spec.unschedulable", "spec.hostNetwork") else ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all(req.matches(obj) for req in self.requirements)

    def exact_name(self) -> str | None:
        for req in self.requirements:
            if req.path == "metadata.name" and req.op == "=":
                return req.value
        return None


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == sep:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _unescape(text: str) -> str:
    out, escaped = "", False
    for char in text:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out += char
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out += char
    return out


def parse_field_selector(text: str | None, plural: str = "", custom: bool = False) -> FieldSelector:
    if not text or not text.strip():
        return FieldSelector()
    allowed = ("metadata.name", "metadata.namespace") + EXTRA_FIELDS.get(plural, ())
    requirements: list[FieldRequirement] = []
    for term in _split_unescaped(text, ","):
        term = term.strip()
        if not term:
            continue
        match = re.match(r"^(.*?)(!=|==|=)(.*)$", term)
        if not match:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        path, op, raw = match.group(1).strip(), match.group(2), match.group(3)
        if path not in allowed:
            if custom:
                raise SelectorError(f'"{path}" is not a known field selector: only "metadata.name", '
                                    f'"metadata.namespace"')
            raise SelectorError(f"field label not supported: {path}")
        requirements.append(FieldRequirement(path, "!=" if op == "!=" else "=", _unescape(raw)))
    return FieldSelector(tuple(requirements))
