"""Patch formats of the Kubernetes API: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and a faithful
subset of strategic merge patch.

Strategic merge patch subset (what kubectl's client-side apply, `kubectl patch` and controllers send):
* maps merge key by key; `null` deletes a key; atomic maps (label selectors ...) are replaced whole;
* lists with a patch merge key (see `typeinfo.DOC`) merge item by item on that key, new items appended;
  `{"$patch": "delete", <key>: ...}` items delete, a `{"$patch": "replace"}` item replaces the whole list;
* primitive lists with patchStrategy=merge (metadata.finalizers) take the union;
  `$deleteFromPrimitiveList/<field>` removes values from them;
* `$setElementOrder/<field>` reorders a merged list (listed items first, in that order, then the rest);
* `$retainKeys` drops the keys of a map that the list does not name (deployment strategy, volumes);
* `$patch: replace` / `$patch: delete` inside a map replace or delete that map;
* every other list is replaced whole, as for fields without patch strategy in Kubernetes.
"""
from __future__ import annotations

import copy
import json
from typing import Any

from .typeinfo import T

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
ALL_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)


class PatchError(ValueError):
    """A patch that cannot be applied; `status` is the HTTP code the apiserver answers with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------- JSON patch
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer must be empty or start with a \"/\": {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], op: str, path: str) -> tuple[Any, str]:
    """The container holding the last element of `parts`, and that element's key."""
    current = doc
    for part in parts[:-1]:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise PatchError(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return current, parts[-1]


def _list_index(container: list[Any], key: str, op: str, path: str, allow_end: bool) -> int:
    if key == "-" and allow_end:
        return len(container)
    if not key.isdigit() and not (key.startswith("-") and key[1:].isdigit()):
        raise PatchError(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    index = int(key)
    limit = len(container) if allow_end else len(container) - 1
    if index < 0 or index > limit:
        raise PatchError(f"{op} operation does not apply: doc is missing path: \"{path}\": "
                         f"unable to access invalid index: {index}")
    return index


def _get(doc: Any, path: str, op: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    container, key = _walk(doc, parts, op, path)
    if isinstance(container, dict) and key in container:
        return container[key]
    if isinstance(container, list):
        return container[_list_index(container, key, op, path, False)]
    raise PatchError(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")


def _add(doc: Any, path: str, value: Any, op: str = "add") -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    container, key = _walk(doc, parts, op, path)
    if isinstance(container, dict):
        container[key] = value
    elif isinstance(container, list):
        container.insert(_list_index(container, key, op, path, True), value)
    else:
        raise PatchError(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return doc


def _remove(doc: Any, path: str, op: str = "remove") -> Any:
    parts = _pointer(path)
    container, key = _walk(doc, parts, op, path)
    if isinstance(container, dict) and key in container:
        del container[key]
    elif isinstance(container, list):
        del container[_list_index(container, key, op, path, False)]
    else:
        raise PatchError(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return doc


def json_patch(doc: Any, operations: Any) -> Any:
    """Apply an RFC 6902 patch to a copy of doc."""
    if not isinstance(operations, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400)
    doc = copy.deepcopy(doc)
    for operation in operations:
        if not isinstance(operation, dict):
            raise PatchError("json: cannot unmarshal into Go value of type jsonpatch.Operation", 400)
        op = operation.get("op")
        path = operation.get("path", "")
        if not isinstance(path, str):
            raise PatchError(f"{op} operation does not apply: doc is missing path: \"\"")
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            doc = _remove(doc, path)
        elif op == "replace":
            _get(doc, path, "replace")
            doc = _remove(doc, path, "replace") if _pointer(path) else doc
            doc = _add(doc, path, copy.deepcopy(operation.get("value")), "replace")
        elif op == "move":
            value = _get(doc, operation.get("from", ""), "move")
            doc = _remove(doc, operation.get("from", ""), "move")
            doc = _add(doc, path, value, "move")
        elif op == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, operation.get("from", ""), "copy")), "copy")
        elif op == "test":
            if _get(doc, path, "test") != operation.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {op}")
    return doc


# ---------------------------------------------------------------------------------------- JSON merge patch
def merge_patch(doc: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ------------------------------------------------------------------------------------ strategic merge patch
_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList/"


def strategic_merge_patch(doc: Any, patch: Any, rtype: T) -> Any:
    """Apply a strategic merge patch to a copy of doc, following rtype's merge keys."""
    if not isinstance(patch, dict):
        raise PatchError("unable to find api field in struct Unstructured for the json field \"\"", 400)
    result = _smp_map(copy.deepcopy(doc) if isinstance(doc, dict) else {}, patch, rtype)
    return {} if result is _DELETE else result


_DELETE = object()


def _smp_map(original: dict[str, Any], patch: dict[str, Any], rtype: T) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive}, Patch: {json.dumps(patch)}", 400)
    if rtype.atomic:
        return {k: copy.deepcopy(v) for k, v in patch.items() if v is not None and not k.startswith("$")}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        child = rtype.child(key)
        if value is None:
            original.pop(key, None)
        elif isinstance(value, list):
            original[key] = _smp_list(original.get(key), value, child)
        elif isinstance(value, dict) and isinstance(original.get(key), dict):
            merged = _smp_map(original[key], value, child)
            if merged is _DELETE:
                original.pop(key, None)
            else:
                original[key] = merged
        elif isinstance(value, dict):
            merged = _smp_map({}, value, child)
            if merged is not _DELETE:
                original[key] = _strip_nulls(merged)
        else:
            original[key] = copy.deepcopy(value)
    for key, value in patch.items():
        if key.startswith(_DELETE_PRIMITIVES) and isinstance(value, list):
            name = key[len(_DELETE_PRIMITIVES):]
            if isinstance(original.get(name), list):
                original[name] = [v for v in original[name] if v not in value]
        elif key.startswith(_SET_ORDER) and isinstance(value, list):
            name = key[len(_SET_ORDER):]
            if isinstance(original.get(name), list):
                original[name] = _reorder(original[name], value, rtype.child(name))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        for key in list(original):
            if key not in retain:
                del original[key]
    return original


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    return value


def _item_key(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None


def _smp_list(original: Any, patch: list[Any], rtype: T) -> list[Any]:
    items = [p for p in patch if not (isinstance(p, dict) and p.get("$patch") == "replace" and len(p) == 1)]
    if len(items) != len(patch):
        return [_strip_directives(p) for p in items]
    if not isinstance(original, list):
        original = []
    if rtype.smp_key and all(isinstance(p, dict) for p in items):
        return _smp_keyed_list(copy.deepcopy(original), items, rtype)
    if rtype.smp_merge_primitives and all(not isinstance(p, (dict, list)) for p in items):
        merged = list(original)
        merged.extend(p for p in items if p not in merged)
        return merged
    return copy.deepcopy(items)


def _strip_directives(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: v for k, v in item.items() if not k.startswith("$")}
    return item


def _smp_keyed_list(original: list[Any], patch: list[dict[str, Any]], rtype: T) -> list[Any]:
    key = rtype.smp_key or ""
    for item in patch:
        wanted = item.get(key)
        match = next((i for i, o in enumerate(original) if _item_key(o, key) == wanted), None)
        if item.get("$patch") == "delete":
            original = [o for o in original if _item_key(o, key) != wanted]
        elif match is None:
            merged = _smp_map({}, item, rtype.item())
            if merged is not _DELETE:
                original.append(_strip_nulls(merged))
        else:
            merged = _smp_map(original[match], item, rtype.item())
            if merged is _DELETE:
                del original[match]
            else:
                original[match] = merged
    return original


def _reorder(items: list[Any], order: list[Any], rtype: T) -> list[Any]:
    key = rtype.smp_key
    def ident(value: Any) -> Any:
        return json.dumps(_item_key(value, key) if key else value, sort_keys=True)
    wanted = [ident(o) for o in order]
    ordered = sorted((i for i in items if ident(i) in wanted), key=lambda i: wanted.index(ident(i)))
    return ordered + [i for i in items if ident(i) not in wanted]


# -------------------------------------------------------------------------------------- three-way merge
def three_way_merge(last_applied: Any, desired: Any, live: Any) -> Any:
    """What a declarative applier (kubectl client-side apply, wrangler) makes of live: fields it set before
    and no longer wants are removed, fields it wants are set, fields others set are kept."""
    if not (isinstance(desired, dict) and isinstance(live, dict)):
        return copy.deepcopy(desired)
    result = copy.deepcopy(live)
    last = last_applied if isinstance(last_applied, dict) else {}
    for key in last:
        if key not in desired:
            result.pop(key, None)
    for key, value in desired.items():
        if isinstance(value, dict) and isinstance(live.get(key), dict):
            result[key] = three_way_merge(last.get(key), value, live[key])
        else:
            result[key] = copy.deepcopy(value)
    return result
