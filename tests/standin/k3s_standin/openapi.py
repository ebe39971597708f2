"""OpenAPI v3 discovery (`/openapi/v3` and `/openapi/v3/<api|apis/group>/<version>`).

kubectl needs it for every `apply`/`diff`/`create`: its validator asks whether the PATCH operation of the
object's kind takes the `fieldValidation` query parameter (server-side field validation) and refuses to run
("failed to download openapi") when the documents are missing.  The documents here describe every served
path with its operations, parameters, request content types and `x-kubernetes-group-version-kind`, as
kube-apiserver's do, but carry no object schemas: kubectl then computes strategic merge patches from its
compiled-in types (the same merge keys the real schemas declare) and `kubectl explain` has nothing to show.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .resources import Registry, ResourceType

_PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json", "application/apply-patch+yaml")


def _param(name: str, description: str, schema_type: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description,
            "schema": {"type": schema_type, "uniqueItems": True}}


DRY_RUN = _param("dryRun", "When present, indicates that modifications should not be persisted. An invalid or "
                 "unrecognized dryRun directive will result in an error response and no further processing of the "
                 "request. Valid values are: - All: all dry run stages will be processed")
FIELD_MANAGER = _param("fieldManager", "fieldManager is a name associated with the actor or entity that is "
                       "making these changes.")
FIELD_VALIDATION = _param("fieldValidation", "fieldValidation instructs the server on how to handle objects in "
                          "the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: "
                          "- Ignore - Warn - Strict")
FORCE = _param("force", "Force is going to \"force\" Apply requests.", "boolean")
PRETTY = _param("pretty", "If 'true', then the output is pretty printed.")
LIST_PARAMS = [_param(n, n, t) for n, t in (
    ("allowWatchBookmarks", "boolean"), ("continue", "string"), ("fieldSelector", "string"),
    ("labelSelector", "string"), ("limit", "integer"), ("resourceVersion", "string"),
    ("resourceVersionMatch", "string"), ("sendInitialEvents", "boolean"), ("timeoutSeconds", "integer"),
    ("watch", "boolean"))]


def _type_name(rtype: ResourceType, version: str) -> str:
    if rtype.is_custom:
        parts = rtype.group.split(".")
        return ".".join(reversed(parts)) + f".{version}.{rtype.kind}"
    group = rtype.group.split(".")[0] if rtype.group else "core"
    return f"io.k8s.api.{group}.{version}.{rtype.kind}"


def _operation(rtype: ResourceType, version: str, action: str, verb_id: str, params: list[dict[str, Any]],
               body_types: tuple[str, ...] = (), schema_ref: str = "") -> dict[str, Any]:
    scope = "Namespaced" if rtype.namespaced else ""
    group_id = "".join(p.capitalize() for p in (rtype.group or "core").split(".")[:1])
    op: dict[str, Any] = {
        "tags": [f"{rtype.group or 'core'}_{version}"],
        "operationId": f"{verb_id}{group_id}{version.capitalize()}{scope}{rtype.kind}",
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"$ref": schema_ref}}}}, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rtype.group, "kind": rtype.kind, "version": version},
    }
    if body_types:
        op["requestBody"] = {"content": {t: {"schema": {"$ref": schema_ref}} for t in body_types}, "required": True}
    return op


def _paths_for(rtype: ResourceType, version: str) -> dict[str, Any]:
    prefix = f"/apis/{rtype.group}/{version}" if rtype.group else f"/api/{version}"
    base = f"{prefix}/namespaces/{{namespace}}/{rtype.plural}" if rtype.namespaced else f"{prefix}/{rtype.plural}"
    ref = f"#/components/schemas/{_type_name(rtype, version)}"
    patch_ref = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
    patch_types = tuple(t for t in _PATCH_TYPES if not (rtype.is_custom and "strategic" in t))
    write = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION]
    item: dict[str, Any] = {
        "get": _operation(rtype, version, "get", "read", [PRETTY], schema_ref=ref),
        "put": _operation(rtype, version, "put", "replace", write, ("*/*",), ref),
        "patch": _operation(rtype, version, "patch", "patch", write + [FORCE], patch_types, patch_ref),
        "delete": _operation(rtype, version, "delete", "delete", [DRY_RUN], ("*/*",), ref),
        "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
    }
    collection: dict[str, Any] = {
        "get": _operation(rtype, version, "list", "list", LIST_PARAMS, schema_ref=ref + "List"),
        "post": _operation(rtype, version, "post", "create", write, ("*/*",), ref),
    }
    if rtype.virtual:
        return {base: {"post": collection["post"]}}
    paths = {base: collection, f"{base}/{{name}}": item}
    if rtype.status:
        status_item = {k: v for k, v in item.items() if k in ("get", "put", "patch", "parameters")}
        paths[f"{base}/{{name}}/status"] = status_item
    return paths


def gv_document(registry: Registry, group: str, version: str, server_version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"io.k8s.apimachinery.pkg.apis.meta.v1.Patch": {
        "type": "object", "description": "Patch is provided to give a concrete name and type to the Kubernetes "
                                         "PATCH request body."}}
    for rtype in registry.in_group_version(group, version):
        paths.update(_paths_for(rtype, version))
        for suffix in ("", "List"):
            schemas[_type_name(rtype, version) + suffix] = {"type": "object", "description": f"{rtype.kind}{suffix}"}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": server_version},
            "paths": paths, "components": {"schemas": schemas}}


def _gv_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def root_document(registry: Registry, server_version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    gvs = [("", "v1")] + [(g, v) for g, versions in registry.groups() for v in versions]
    for group, version in gvs:
        doc = gv_document(registry, group, version, server_version)
        digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:128].upper()
        paths[_gv_key(group, version)] = {"serverRelativeURL": f"/openapi/v3/{_gv_key(group, version)}?hash={digest}"}
    return {"paths": paths}
