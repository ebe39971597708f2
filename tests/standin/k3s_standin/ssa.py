"""Field ownership (managedFields) and server-side apply, after sigs.k8s.io/structured-merge-diff.

Paths are tuples of path elements: ("f", field name), ("k", canonical JSON of a list item's keys),
("v", canonical JSON of a set member) or ("i", index).  A field set is a Python set of paths; it is
serialised to and from the FieldsV1 notation (`f:`/`k:`/`v:`/`i:` keys, `.` for "this node itself").

Semantics kept from the real implementation:
* Apply: the manager's set becomes exactly the applied configuration's field set; the configuration is
  merged into the live object (keyed lists by key, sets by value, atomic lists/maps replaced); fields the
  manager applied before and no longer applies are removed unless another manager still owns them;
  values changed against another manager's fields are conflicts (409) unless force, which takes them over.
* Update (create/PUT/PATCH): fields added or modified by the request move to the requesting manager (its
  set accumulates), fields removed drop out of every set; an operation that changes nothing leaves
  managedFields and the object untouched.
* Identity of an entry: manager + operation + subresource, plus apiVersion for Update entries.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from .typeinfo import T

Path = tuple[tuple[str, Any], ...]
MISSING: Any = object()

# Paths the apiserver never records ownership of (stripMetaManager).
_STRIPPED: set[Path] = {
    (("f", "apiVersion"),), (("f", "kind"),), (("f", "metadata"),),
    *((("f", "metadata"), ("f", name)) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
        "managedFields", "resourceVersion")),
}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------------------------------------ list items
def item_element(item: Any, rtype: T) -> tuple[str, Any] | None:
    """The path element of a list item: by keys for associative lists, by value for sets."""
    if rtype.list == "map" and isinstance(item, dict):
        key = {}
        for name in rtype.keys:
            if name in item:
                key[name] = item[name]
            elif name in rtype.key_defaults:
                key[name] = rtype.key_defaults[name]
        return ("k", _canonical(key))
    if rtype.list == "set":
        return ("v", _canonical(item))
    return None


def _is_granular_list(value: Any, rtype: T) -> bool:
    return isinstance(value, list) and rtype.list in ("map", "set")


# ------------------------------------------------------------------------------------------- field sets
def field_set(obj: Any, rtype: T, path: Path = ()) -> set[Path]:
    """Every path an applied configuration sets (structured-merge-diff ToFieldSet)."""
    out: set[Path] = set()
    if isinstance(obj, dict):
        if rtype.atomic:
            return {path}
        for key, value in obj.items():
            child_path = path + (("f", key),)
            child_type = rtype.child(key)
            out |= field_set(value, child_type, child_path)
            if value is None or value == {} or (rtype.open and key not in rtype.fields):
                out.add(child_path)
        return out
    if isinstance(obj, list):
        if not _is_granular_list(obj, rtype):
            return {path}
        for item in obj:
            element = item_element(item, rtype)
            item_path = path + (element,) if element else path
            if isinstance(item, dict) and rtype.list == "map":
                out |= field_set(item, rtype.item(), item_path)
            out.add(item_path)
        return out
    return {path} if path else set()


def strip_unowned(paths: set[Path]) -> set[Path]:
    return {p for p in paths if p and p not in _STRIPPED}


def path_string(path: Path) -> str:
    """fieldpath.Path.String(): `.spec.containers[name="c"].image`."""
    out = ""
    for kind, value in path:
        if kind == "f":
            out += "." + value
        elif kind == "k":
            key = json.loads(value)
            out += "[" + ",".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in key.items()) + "]"
        elif kind == "v":
            out += "[=" + value + "]"
        else:
            out += f"[{value}]"
    return out


def _element_sort_key(element: tuple[str, Any]) -> tuple[int, str]:
    order = {"f": 0, "k": 1, "v": 2, "i": 3}
    value = element[1]
    return (order[element[0]], f"{value:010d}" if isinstance(value, int) else str(value))


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """Serialise a field set in FieldsV1 notation (`.` first, then children in SMD's element order)."""
    tree: dict[tuple[str, Any], Any] = {}
    members: set[Path] = set(paths)
    for path in members:
        node = tree
        for element in path:
            node = node.setdefault(element, {})

    def render(node: dict[tuple[str, Any], Any], prefix: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if prefix in members and node:
            out["."] = {}
        for element in sorted(node, key=_element_sort_key):
            out[f"{element[0]}:{element[1]}"] = render(node[element], prefix + (element,))
        return out

    return render(tree, ())


def from_fields_v1(fields: Any, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    if not isinstance(fields, dict):
        return out
    if prefix and not fields:
        out.add(prefix)
    for key, child in fields.items():
        if key == ".":
            if prefix:
                out.add(prefix)
            continue
        kind, _, value = key.partition(":")
        if kind not in ("f", "k", "v", "i"):
            continue
        element: tuple[str, Any] = (kind, int(value) if kind == "i" and value.isdigit() else value)
        out |= from_fields_v1(child, prefix + (element,))
    return out


# ----------------------------------------------------------------------------------------- comparison
@dataclass
class Comparison:
    added: set[Path] = field(default_factory=set)
    modified: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)

    @property
    def changed(self) -> set[Path]:
        return self.added | self.modified


def compare(old: Any, new: Any, rtype: T) -> Comparison:
    result = Comparison()
    _compare(old, new, rtype, (), result)
    return result


def _note_item(old: Any, new: Any, child_type: T, path: Path, result: Comparison) -> None:
    """The post-item rule: a whole map field or list item appearing/disappearing is itself a change,
    except for structs that Go always serialises (they exist, empty, in a zero object)."""
    if child_type.implicit:
        return
    if old is MISSING and new is not MISSING:
        result.added.add(path)
    elif new is MISSING and old is not MISSING:
        result.removed.add(path)


def _compare(old: Any, new: Any, rtype: T, path: Path, result: Comparison) -> None:
    sample = new if new is not MISSING else old
    old_ok = old is MISSING or isinstance(old, type(sample))
    if isinstance(sample, dict) and not rtype.atomic and old_ok and (new is MISSING or isinstance(new, dict)):
        old_map = old if isinstance(old, dict) else {}
        new_map = new if isinstance(new, dict) else {}
        for key in list(old_map) + [k for k in new_map if k not in old_map]:
            child_path = path + (("f", key),)
            child_type = rtype.child(key)
            old_value, new_value = old_map.get(key, MISSING), new_map.get(key, MISSING)
            _compare(old_value, new_value, child_type, child_path, result)
            _note_item(old_value, new_value, child_type, child_path, result)
        return
    if _is_granular_list(sample, rtype) and old_ok and (new is MISSING or isinstance(new, list)):
        old_items = _index_items(old if isinstance(old, list) else [], rtype)
        new_items = _index_items(new if isinstance(new, list) else [], rtype)
        for element in list(old_items) + [e for e in new_items if e not in old_items]:
            item_path = path + (element,)
            old_value, new_value = old_items.get(element, MISSING), new_items.get(element, MISSING)
            if rtype.list == "map":
                _compare(old_value, new_value, rtype.item(), item_path, result)
            _note_item(old_value, new_value, T(), item_path, result)
        return
    if not path:
        return
    if old is MISSING:
        result.added.add(path)
    elif new is MISSING:
        result.removed.add(path)
    elif old != new:
        result.modified.add(path)


def _index_items(items: list[Any], rtype: T) -> dict[tuple[str, Any], Any]:
    out: dict[tuple[str, Any], Any] = {}
    for item in items:
        element = item_element(item, rtype)
        if element is not None:
            out[element] = item
    return out


# --------------------------------------------------------------------------------------------- merging
def merge(live: Any, config: Any, rtype: T) -> Any:
    """The applied configuration merged into the live object."""
    if isinstance(config, dict) and isinstance(live, dict) and not rtype.atomic:
        result = copy.deepcopy(live)
        for key, value in config.items():
            result[key] = merge(live.get(key, MISSING), value, rtype.child(key))
        return result
    if _is_granular_list(config, rtype) and isinstance(live, list):
        return _merge_list(live, config, rtype)
    return copy.deepcopy(config)


def _merge_list(live: list[Any], config: list[Any], rtype: T) -> list[Any]:
    """Items shared by both lists follow the configuration's order; live-only items keep their place."""
    lhs = _index_items(live, rtype)
    rhs = _index_items(config, rtype)
    l_keys, r_keys = list(lhs), list(rhs)
    shared = [k for k in r_keys if k in lhs]
    out: list[Any] = []

    def take_rhs(element: tuple[str, Any]) -> None:
        if element in lhs and rtype.list == "map":
            out.append(merge(lhs[element], rhs[element], rtype.item()))
        else:
            out.append(copy.deepcopy(rhs[element]))
        if shared and shared[0] == element:
            shared.pop(0)

    li = ri = 0
    while li < len(l_keys) or ri < len(r_keys):
        if li < len(l_keys):
            element = l_keys[li]
            if ri < len(r_keys) and element == r_keys[ri]:
                take_rhs(element)
                li, ri = li + 1, ri + 1
                continue
            if element not in rhs:
                out.append(copy.deepcopy(lhs[element]))
                li += 1
                continue
            if ri >= len(r_keys) or (shared and element != shared[0]):
                li += 1
                continue
        take_rhs(r_keys[ri])
        ri += 1
    return out


# ----------------------------------------------------------------------------------------- removal
def remove_path(obj: Any, path: Path, rtype: T) -> None:
    """Delete one path from obj in place (a field, a keyed item or a set member)."""
    if not path:
        return
    parent: Any = obj
    parent_type = rtype
    for element in path[:-1]:
        parent, parent_type = _descend(parent, parent_type, element)
        if parent is MISSING:
            return
    kind, value = path[-1]
    if kind == "f" and isinstance(parent, dict):
        parent.pop(value, None)
    elif kind in ("k", "v") and isinstance(parent, list):
        parent[:] = [i for i in parent if item_element(i, parent_type) != (kind, value)]


def _descend(node: Any, rtype: T, element: tuple[str, Any]) -> tuple[Any, T]:
    kind, value = element
    if kind == "f":
        if isinstance(node, dict) and value in node:
            return node[value], rtype.child(value)
        return MISSING, rtype
    if isinstance(node, list):
        for item in node:
            if item_element(item, rtype) == element:
                return item, rtype.item()
    return MISSING, rtype


def drop_empty_containers(obj: Any, before: Any) -> Any:
    """Maps and lists that pruning emptied disappear, as omitempty fields of Go types do."""
    if isinstance(obj, dict):
        for key in list(obj):
            old = before.get(key) if isinstance(before, dict) else None
            drop_empty_containers(obj[key], old)
            if obj[key] in ({}, []) and old not in ({}, [], None):
                del obj[key]
    return obj


# ---------------------------------------------------------------------------------------- managers
@dataclass
class Manager:
    manager: str
    operation: str                   # "Apply" or "Update"
    api_version: str
    time: str | None
    fields: set[Path]
    subresource: str = ""

    @property
    def identity(self) -> tuple[str, str, str, str]:
        version = "" if self.operation == "Apply" else self.api_version
        return (self.manager, self.operation, self.subresource, version)

    def describe(self) -> str:
        """How conflict messages name a manager (printManager in the apiserver)."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text


def decode_managed_fields(entries: Any) -> list[Manager]:
    managers: list[Manager] = []
    for entry in entries or []:
        if not isinstance(entry, dict) or not entry.get("manager") and not entry.get("operation"):
            continue
        managers.append(Manager(
            manager=str(entry.get("manager", "")), operation=str(entry.get("operation", "Update")),
            api_version=str(entry.get("apiVersion", "")), time=entry.get("time"),
            fields=from_fields_v1(entry.get("fieldsV1") or {}), subresource=str(entry.get("subresource", ""))))
    return managers


def encode_managed_fields(managers: list[Manager]) -> list[dict[str, Any]]:
    """Entries sorted like the apiserver does: Apply before Update, then by time, manager, version."""
    ordered = sorted(managers, key=lambda m: (m.operation, m.time or "", m.manager, m.api_version,
                                              m.subresource))
    out: list[dict[str, Any]] = []
    for entry in ordered:
        if not entry.fields:
            continue
        encoded: dict[str, Any] = {"manager": entry.manager, "operation": entry.operation,
                                   "apiVersion": entry.api_version}
        if entry.time:
            encoded["time"] = entry.time
        encoded["fieldsType"] = "FieldsV1"
        encoded["fieldsV1"] = to_fields_v1(entry.fields)
        if entry.subresource:
            encoded["subresource"] = entry.subresource
        out.append(encoded)
    return out


class ApplyConflict(Exception):
    """Server-side apply conflicts; message and causes as the apiserver's NewConflictError renders them."""

    def __init__(self, conflicts: list[tuple[Manager, Path]]) -> None:
        self.conflicts = conflicts
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if len(self.conflicts) == 1:
            manager, path = self.conflicts[0]
            return f"Apply failed with 1 conflict: conflict with {manager.describe()}: {path_string(path)}"
        by_manager: dict[str, list[str]] = {}
        for manager, path in self.conflicts:
            by_manager.setdefault(manager.describe(), []).append(path_string(path))
        lines: list[str] = []
        for described in sorted(by_manager):
            lines.append(f"conflicts with {described}:")
            lines.extend(f"- {p}" for p in by_manager[described])
        return f"Apply failed with {len(self.conflicts)} conflicts: " + "\n".join(lines)

    @property
    def causes(self) -> list[dict[str, str]]:
        return [{"reason": "FieldManagerConflict", "message": f"conflict with {m.describe()}",
                 "field": path_string(p)} for m, p in self.conflicts]


def _sorted_paths(paths: Iterable[Path]) -> list[Path]:
    return sorted(paths, key=path_string)


def _take_changes(managers: list[Manager], skip: Manager | None, comparison: Comparison,
                  force: bool) -> list[Manager]:
    """Other managers lose fields the operation changed (conflicts unless force) and fields it removed."""
    conflicts: list[tuple[Manager, Path]] = []
    changed = comparison.changed
    for entry in managers:
        if entry is skip:
            continue
        for path in _sorted_paths(entry.fields & changed):
            conflicts.append((entry, path))
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    kept: list[Manager] = []
    for entry in managers:
        if entry is not skip:
            entry.fields = entry.fields - changed - comparison.removed
        if entry.fields or entry is skip:
            kept.append(entry)
    return kept


def record_update(old: dict[str, Any], new: dict[str, Any], rtype: T, managers: list[Manager],
                  manager: str, api_version: str, now: str, subresource: str = "",
                  ignored: set[Path] | None = None) -> list[Manager]:
    """Managed fields after a non-apply write by `manager` turning old into new."""
    comparison = compare(old, new, rtype)
    ignored = ignored or set()
    comparison.added = strip_unowned(_without_prefixes(comparison.added, ignored))
    comparison.modified = strip_unowned(_without_prefixes(comparison.modified, ignored))
    managers = _take_changes([copy.copy(m) for m in managers], None, comparison, True)
    changed = comparison.changed
    if not changed:
        return managers
    identity = (manager, "Update", subresource, api_version)
    for entry in managers:
        if entry.identity == identity:
            entry.fields = entry.fields | changed
            entry.time = now
            return managers
    managers.append(Manager(manager, "Update", api_version, now, set(changed), subresource))
    return managers


def _without_prefixes(paths: set[Path], prefixes: set[Path]) -> set[Path]:
    return {p for p in paths if not any(p[:len(q)] == q for q in prefixes)}


def _owned_or_ancestor(path: Path, owned: set[Path]) -> bool:
    if path in owned:
        return True
    size = len(path)
    return any(len(o) > size and o[:size] == path for o in owned)


@dataclass
class ApplyResult:
    obj: dict[str, Any]
    managers: list[Manager]
    changed: bool


def apply(live: dict[str, Any], config: dict[str, Any], rtype: T, managers: list[Manager], manager: str,
          api_version: str, force: bool, now: str, subresource: str = "",
          ignored: set[Path] | None = None) -> ApplyResult:
    """Server-side apply of config (already stripped of ignored fields) onto live."""
    ignored = ignored or set()
    managers = [copy.copy(m) for m in managers]
    applier = next((m for m in managers if m.identity == (manager, "Apply", subresource, "")), None)
    last_set = set(applier.fields) if applier else set()
    new_set = strip_unowned(_without_prefixes(field_set(config, rtype), ignored))
    if applier is None:
        applier = Manager(manager, "Apply", api_version, None, new_set, subresource)
        managers.append(applier)
    applier.fields, applier.api_version = new_set, api_version

    merged = merge(live, config, rtype)
    owned: set[Path] = set().union(*(m.fields for m in managers))
    removed: list[Path] = []
    # Shortest first: a list item goes as a whole (its key fields must not be removed before it).
    for path in sorted(last_set - owned, key=len):
        if any(path[:len(r)] == r for r in removed) or _owned_or_ancestor(path, owned):
            continue
        remove_path(merged, path, rtype)
        removed.append(path)
    drop_empty_containers(merged, live)

    comparison = compare(live, merged, rtype)
    comparison.added = strip_unowned(_without_prefixes(comparison.added, ignored))
    comparison.modified = strip_unowned(_without_prefixes(comparison.modified, ignored))
    managers = _take_changes(managers, applier, comparison, force)
    changed = merged != live
    if changed:
        applier.time = now
    elif applier.time is None:
        applier.time = now
    return ApplyResult(merged, [m for m in managers if m.fields], changed)
