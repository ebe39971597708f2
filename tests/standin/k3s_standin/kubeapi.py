"""The Kubernetes API of the stand-in: routing, discovery, CRUD verbs, patches, apply, watch, Status errors.

`KubeAPI.handle(ApiRequest) -> ApiResponse` is transport-free: the supervisor (`supervisor.py`, behind the
HTTPS listener of `server.py`) authenticates the client and hands every request that is not a supervisor
route to it, with `user=None` when no credentials were accepted.  Responses are JSON shaped like kube-apiserver
v1.34's (object field order included); `kubectl get` receives server-side Tables.  Watch responses have an
iterator body: newline-terminated JSON events, plus `b""` ticks at least every second while idle, which the
transport must not write (an empty chunk would end a chunked body) but may use to check that the client is
still connected.
"""
from __future__ import annotations

import json
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

from . import buildinfo, openapi, patching, protobuf, tables
from .resources import ResourceType
from .store import ApiError, Store, _details, bad_request, unknown_resource

READ_VERBS = {"GET": "get", "HEAD": "get"}
ACCEPTED_BODY_TYPES = "application/json, application/yaml, application/vnd.kubernetes.protobuf"
PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")
BOOTSTRAP_USER_PREFIX = "system:bootstrap:"
# What Kubernetes' default RBAC grants a bootstrap-token user (groups system:bootstrappers[:...] and
# system:authenticated): system:discovery and system:public-info-viewer (non-resource GETs) and
# system:basic-user (create the self reviews). K3s binds nothing more to system:bootstrappers on the API
# (agents join through the supervisor's /v1-k3s routes, not through the apiserver).
BOOTSTRAP_NONRESOURCE = ("/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/openapi/v2", "/openapi/v3")
BOOTSTRAP_SELF_REVIEWS = {("authentication.k8s.io", "selfsubjectreviews"),
                          ("authorization.k8s.io", "selfsubjectaccessreviews"),
                          ("authorization.k8s.io", "selfsubjectrulesreviews")}


@dataclass
class UserInfo:
    name: str
    groups: list[str] = field(default_factory=list)


@dataclass
class ApiRequest:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)   # lower-case keys
    body: bytes = b""
    user: UserInfo | None = None


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes | Iterator[bytes]


# ------------------------------------------------------------------------------------------ version info
def version_info(git_version: str, git_commit: str, go_version: str, arch: str,
                 build_date: str = buildinfo.DEFAULT_BUILD_DATE) -> dict[str, str]:
    """The /version document of another build than this installation's (tests)."""
    return buildinfo.version_info(buildinfo.BuildInfo(git_version, git_commit, go_version, arch, build_date))


# -------------------------------------------------------------------------------------------- rendering
_TOP_ORDER = ("kind", "apiVersion", "metadata")


def order_object(obj: Any, custom: bool) -> Any:
    """Typed objects print kind/apiVersion/metadata first; custom resources are maps, so Go sorts them."""
    if not isinstance(obj, dict):
        return obj
    if custom:
        return _sorted_keys(obj)
    ordered = {k: obj[k] for k in _TOP_ORDER if k in obj}
    ordered.update({k: v for k, v in obj.items() if k not in ordered})
    return ordered


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _go_json_error(err: json.JSONDecodeError) -> str:
    """Python's JSON error as encoding/json words it (for the common cases)."""
    if err.pos >= len(err.doc.rstrip()):
        return "unexpected end of JSON input"
    char = err.doc[err.pos]
    if err.msg.startswith("Expecting property name"):
        return f"invalid character '{char}' looking for beginning of object key string"
    if err.msg.startswith("Expecting ',' delimiter"):
        return f"invalid character '{char}' after object key:value pair"
    if err.msg.startswith("Expecting ':' delimiter"):
        return f"invalid character '{char}' after object key"
    if err.msg.startswith("Extra data"):
        return f"invalid character '{char}' after top-level value"
    return f"invalid character '{char}' looking for beginning of value"


def _summary(body: bytes) -> str:
    if not body:
        return "<empty>"
    if body[:1] == b"{":
        text = body.decode(errors="replace")
        return text[:30] + " ..." if len(text) > 30 else text
    return body[:30].hex() + (" ..." if len(body) > 30 else "")


@dataclass
class Target:
    """A parsed resource URL."""

    rtype: ResourceType
    version: str
    namespace: str | None
    name: str | None
    subresource: str
    watch_path: bool


@dataclass
class Negotiated:
    kind: str            # "json", "table", "partial"
    version: str = "v1"


def _accept(headers: dict[str, str]) -> Negotiated:
    for clause in headers.get("accept", "").split(","):
        params = dict(p.strip().split("=", 1) for p in clause.split(";")[1:] if "=" in p)
        media = clause.split(";")[0].strip()
        if params.get("g") == "meta.k8s.io" and params.get("as") == "Table":
            return Negotiated("table", params.get("v", "v1"))
        if params.get("g") == "meta.k8s.io" and params.get("as") in ("PartialObjectMetadata",
                                                                    "PartialObjectMetadataList"):
            return Negotiated("partial", params.get("v", "v1"))
        if media in ("application/json", "*/*", "application/*", "") and "as" not in params:
            return Negotiated("json")
    return Negotiated("json")


class KubeAPI:
    """Kubernetes API over a Store.  version_info is the /version document (default: buildinfo.version_info()).

    anonymous_auth is kube-apiserver's --anonymous-auth: with the upstream default (True) a request without
    a user is "system:anonymous" and reaches only the public-info paths; K3s runs kube-apiserver with
    --anonymous-auth=false, so the server passes False and such a request gets 401 Unauthorized.
    """

    def __init__(self, store: Store, version_info: dict[str, str] | None = None, *,
                 server_address: str = "127.0.0.1:6443", clock: Any = time.time,
                 anonymous_auth: bool = True) -> None:
        self.store = store
        self.anonymous_auth = anonymous_auth
        self.version_info = version_info or buildinfo.version_info()
        self.server_address = server_address
        self.clock = clock

    # ---------------------------------------------------------------------------------------- entry
    def handle(self, req: ApiRequest) -> ApiResponse:
        try:
            return self._route(req)
        except ApiError as err:
            return self._status(err)
        except Exception as err:  # a stand-in bug must still answer like apiserver's NewInternalError
            traceback.print_exc(file=sys.stderr)
            return self._status(ApiError(500, "InternalError", f"Internal error occurred: {err}",
                                         {"causes": [{"message": str(err)}]}))

    def _status(self, err: ApiError) -> ApiResponse:
        return self._respond(err.status, err.status_object())

    def _respond(self, status: int, body: Any, content_type: str = "application/json") -> ApiResponse:
        headers = {"Content-Type": content_type, "Cache-Control": "no-cache, private", "Audit-Id": str(uuid.uuid4())}
        payload = body if isinstance(body, bytes) else _json(body)
        headers["Content-Length"] = str(len(payload))
        return ApiResponse(status, headers, payload)

    def _route(self, req: ApiRequest) -> ApiResponse:
        path = "/" + req.path.split("?", 1)[0].strip("/")
        self._authorize(req, path)
        parts = [p for p in path.split("/") if p]
        if path == "/version":
            return self._respond(200, self.version_info)
        if parts and parts[0] in ("healthz", "livez", "readyz"):
            return self._health(req, parts)
        if not parts:
            return self._respond(200, {"paths": sorted(["/api", "/api/v1", "/apis", "/healthz", "/livez",
                                                        "/readyz", "/version"] + [
                f"/apis/{g}" for g, _ in self.store.registry.groups()])})
        if parts[:2] == ["openapi", "v3"]:
            return self._openapi_v3(parts[2:])
        if parts[0] == "api":
            return self._route_group(req, "", parts[1:])
        if parts[0] == "apis":
            if len(parts) == 1:
                return self._respond(200, self._group_list())
            return self._route_group(req, parts[1], parts[2:])
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def _authorize(self, req: ApiRequest, path: str) -> None:
        """Without anonymous auth a request without a user is 401 Unauthorized. With it, anonymous clients
        only reach the public-info paths (system:public-info-viewer). Every authenticated user is allowed
        everything (K3s's admin, server and node identities)."""
        user = req.user
        if user is not None and user.name.startswith(BOOTSTRAP_USER_PREFIX):
            _authorize_bootstrapper(req, path, user)
            return
        if user is not None and user.name != "system:anonymous":
            return
        if not self.anonymous_auth:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if path in PUBLIC_PATHS or path.startswith(("/healthz/", "/livez/", "/readyz/")):
            return
        raise ApiError(403, "Forbidden", f'forbidden: User "system:anonymous" cannot {req.method.lower()} path '
                       f'"{path}"', {})

    def _health(self, req: ApiRequest, parts: list[str]) -> ApiResponse:
        if "verbose" in req.query:
            checks = ["ping", "log", "etcd", "poststarthook/start-apiextensions-controllers",
                      "poststarthook/crd-informer-synced"]
            text = "".join(f"[+]{c} ok\n" for c in checks) + f"{parts[0]} check passed\n"
            return self._respond(200, text.encode(), "text/plain; charset=utf-8")
        return self._respond(200, b"ok", "text/plain; charset=utf-8")

    # ------------------------------------------------------------------------------------ discovery
    def _openapi_v3(self, rest: list[str]) -> ApiResponse:
        registry, server_version = self.store.registry, self.version_info["gitVersion"]
        if not rest:
            return self._respond(200, openapi.root_document(registry, server_version))
        if rest[0] == "api" and rest[1:] == ["v1"]:
            return self._respond(200, openapi.gv_document(registry, "", "v1", server_version))
        if rest[0] == "apis" and len(rest) == 3 and rest[2] in dict(registry.groups()).get(rest[1], []):
            return self._respond(200, openapi.gv_document(registry, rest[1], rest[2], server_version))
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def _group_list(self) -> dict[str, Any]:
        groups = []
        for name, versions in self.store.registry.groups():
            groups.append(self._group(name, versions))
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    @staticmethod
    def _group(name: str, versions: list[str]) -> dict[str, Any]:
        entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        return {"name": name, "versions": entries, "preferredVersion": entries[0]}

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        resources: list[dict[str, Any]] = []
        for rtype in self.store.registry.in_group_version(group, version):
            entry: dict[str, Any] = {"name": rtype.plural, "singularName": rtype.singular,
                                     "namespaced": rtype.namespaced, "kind": rtype.kind, "verbs": list(rtype.verbs)}
            if rtype.short_names:
                entry["shortNames"] = list(rtype.short_names)
            if rtype.categories:
                entry["categories"] = list(rtype.categories)
            if not rtype.virtual:
                entry["storageVersionHash"] = rtype.storage_version_hash(version)
            resources.append(entry)
            if "scale" in rtype.extra_subresources:
                resources.append({"name": f"{rtype.plural}/scale", "singularName": "", "namespaced": rtype.namespaced,
                                  "group": "autoscaling", "version": "v1", "kind": "Scale",
                                  "verbs": ["get", "patch", "update"]})
            if rtype.status:
                resources.append({"name": f"{rtype.plural}/status", "singularName": "",
                                  "namespaced": rtype.namespaced, "kind": rtype.kind, "verbs": ["get", "patch",
                                                                                               "update"]})
        listing: dict[str, Any] = {"kind": "APIResourceList"}
        if group:
            listing["apiVersion"] = "v1"
        listing["groupVersion"] = f"{group}/{version}" if group else version
        listing["resources"] = resources
        return listing

    def _route_group(self, req: ApiRequest, group: str, rest: list[str]) -> ApiResponse:
        if not group and not rest:
            return self._respond(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address}]})
        versions = dict(self.store.registry.groups()).get(group) if group else ["v1"]
        if not versions:
            raise unknown_resource()
        if not rest:
            return self._respond(200, {"kind": "APIGroup", "apiVersion": "v1", **self._group(group, versions)})
        version, rest = rest[0], rest[1:]
        if version not in versions:
            raise unknown_resource()
        if not rest:
            if req.method not in ("GET", "HEAD"):
                raise method_not_allowed()
            return self._respond(200, self._resource_list(group, version))
        target = self._target(group, version, rest)
        return self._dispatch(req, target)

    def _target(self, group: str, version: str, rest: list[str]) -> Target:
        watch_path = bool(rest) and rest[0] == "watch"
        if watch_path:
            rest = rest[1:]
        namespace: str | None = None
        name: str | None
        if not group and len(rest) == 3 and rest[0] == "namespaces" and rest[2] in ("status", "finalize"):
            plural, name, sub = "namespaces", rest[1], rest[2]
        elif rest and rest[0] == "namespaces" and len(rest) >= 3:
            namespace, plural = rest[1], rest[2]
            name = rest[3] if len(rest) > 3 else None
            sub = rest[4] if len(rest) > 4 else ""
            if len(rest) > 5:
                raise unknown_resource()
        elif rest:
            plural = rest[0]
            name = rest[1] if len(rest) > 1 else None
            sub = rest[2] if len(rest) > 2 else ""
            if len(rest) > 3:
                raise unknown_resource()
        else:
            raise unknown_resource()
        rtype = self.store.registry.by_plural(group, version, plural)
        if rtype is None or (namespace is not None and not rtype.namespaced):
            raise unknown_resource()
        if rtype.namespaced and name is not None and namespace is None:
            raise unknown_resource()
        if sub and not (sub == "status" and rtype.status) and not (sub == "finalize" and plural == "namespaces") \
                and not (sub == "scale" and "scale" in rtype.extra_subresources):
            raise unknown_resource()
        return Target(rtype, version, namespace, name, sub, watch_path)

    # ------------------------------------------------------------------------------------- dispatch
    def _dispatch(self, req: ApiRequest, target: Target) -> ApiResponse:
        method = req.method.upper()
        verb = self._verb(method, target, req)
        if verb not in target.rtype.verbs and not (target.subresource and verb in ("get", "update", "patch")):
            raise method_not_allowed()
        if target.subresource == "scale":
            return self._do_scale(req, target, verb)
        if target.rtype.virtual:
            return self._do_review(req, target)
        handler = getattr(self, f"_do_{verb}")
        return handler(req, target)

    def _verb(self, method: str, target: Target, req: ApiRequest) -> str:
        if method in ("GET", "HEAD"):
            if target.name is None:
                return "watch" if target.watch_path or _flag(req, "watch") else "list"
            if target.watch_path:
                return "watch"
            return "get"
        if target.watch_path:
            raise method_not_allowed()
        if method == "POST" and target.name is None:
            return "create"
        if method == "PUT" and target.name is not None:
            return "update"
        if method == "PATCH" and target.name is not None:
            return "patch"
        if method == "DELETE":
            return "delete" if target.name is not None else "deletecollection"
        raise method_not_allowed()

    def _do_get(self, req: ApiRequest, target: Target) -> ApiResponse:
        obj = self.store.get_resource(target.rtype, target.version, target.namespace, target.name or "")
        return self._render_objects(req, target, [obj], single=True)

    def _do_list(self, req: ApiRequest, target: Target) -> ApiResponse:
        listing = self.store.list_resource(target.rtype, target.version, target.namespace,
                                           _param(req, "labelSelector"), _param(req, "fieldSelector"))
        negotiated = _accept(req.headers)
        if negotiated.kind == "json":
            listing["items"] = [order_object(i, target.rtype.is_custom) for i in listing["items"]]
            return self._respond(200, order_object(listing, False))
        return self._render_objects(req, target, listing["items"], single=False,
                                    resource_version=listing["metadata"]["resourceVersion"])

    def _render_objects(self, req: ApiRequest, target: Target, objects: list[dict[str, Any]], *, single: bool,
                        resource_version: str = "", status: int = 200) -> ApiResponse:
        negotiated = _accept(req.headers)
        if negotiated.kind == "table" and not target.subresource:
            table = tables.to_table(target.rtype, target.version, objects, resource_version=resource_version,
                                    include_object=_param(req, "includeObject") or "Metadata", now=self.clock(),
                                    table_version=negotiated.version)
            return self._respond(status, table)
        if negotiated.kind == "partial":
            partial = [{"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{negotiated.version}",
                        "metadata": o.get("metadata", {})} for o in objects]
            if single:
                return self._respond(status, partial[0])
            return self._respond(status, {"kind": "PartialObjectMetadataList",
                                          "apiVersion": f"meta.k8s.io/{negotiated.version}",
                                          "metadata": {"resourceVersion": resource_version},
                                          "items": [{"metadata": p["metadata"]} for p in partial]})
        return self._respond(status, order_object(objects[0], target.rtype.is_custom))

    def _object_response(self, req: ApiRequest, target: Target, obj: dict[str, Any], status: int) -> ApiResponse:
        if obj.get("kind") == "Status":
            return self._respond(status, obj)
        return self._respond(status, order_object(obj, target.rtype.is_custom))

    # --------------------------------------------------------------------------------------- writes
    @staticmethod
    def _validation_mode(req: ApiRequest) -> str:
        """fieldValidation; the apiserver's default is Warn."""
        return _param(req, "fieldValidation") or "Warn"

    @staticmethod
    def _with_warnings(response: ApiResponse, warnings: list[str]) -> ApiResponse:
        if warnings:
            response.headers["Warning"] = ", ".join('299 - ' + json.dumps(w) for w in warnings)
        return response

    def _write_options(self, req: ApiRequest, kind: str) -> tuple[bool, str]:
        """dryRun / fieldManager / fieldValidation validation, as the *Options validators word it."""
        errors: list[tuple[str, str, str]] = []
        dry_run = req.query.get("dryRun", [])
        if any(v != "All" for v in dry_run):
            bad = ", ".join(json.dumps(v) for v in dry_run)
            errors.append(("FieldValueNotSupported", f'Unsupported value: []string{{{bad}}}: supported values: "All"',
                           "dryRun"))
        validation = _param(req, "fieldValidation")
        if validation not in ("", "Ignore", "Warn", "Strict"):
            errors.append(("FieldValueNotSupported", f'Unsupported value: {json.dumps(validation)}: supported '
                           'values: "", "Ignore", "Strict", "Warn"', "fieldValidation"))
        manager = _param(req, "fieldManager")
        if len(manager) > 128:
            errors.append(("FieldValueTooLong", "Too long: may not be more than 128 bytes", "fieldManager"))
        elif any(not c.isprintable() for c in manager):
            errors.append(("FieldValueInvalid", f"Invalid value: {json.dumps(manager)}: must only contain "
                           "printable characters", "fieldManager"))
        if errors:
            text = errors[0][2] + ": " + errors[0][1] if len(errors) == 1 else "[" + ", ".join(
                f"{f}: {m}" for _r, m, f in errors) + "]"
            raise ApiError(422, "Invalid", f'{kind}.meta.k8s.io "" is invalid: {text}', {
                "group": "meta.k8s.io", "kind": kind,
                "causes": [{"reason": r, "message": m, "field": f} for r, m, f in errors]})
        return bool(dry_run), manager or self._default_manager(req)

    @staticmethod
    def _default_manager(req: ApiRequest) -> str:
        """managerOrUserAgent: the user agent up to its first '/', as the apiserver names unnamed writers."""
        agent = req.headers.get("user-agent", "")
        return "".join(c for c in agent.split("/", 1)[0] if c.isprintable())[:128]

    def _decode_body(self, req: ApiRequest, target: Target) -> dict[str, Any]:
        content_type = req.headers.get("content-type", "application/json").split(";")[0].strip()
        if content_type in ("application/yaml", "application/apply-patch+yaml"):
            return self._decode_yaml(req.body)
        if content_type == protobuf.CONTENT_TYPE:
            try:
                return protobuf.decode_object(req.body)
            except protobuf.ProtobufError as err:
                raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                               f"accepted media types include: {ACCEPTED_BODY_TYPES} ({err})", {}) from None
        if content_type not in ("application/json", ""):
            raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                           f"accepted media types include: {ACCEPTED_BODY_TYPES}", {})
        try:
            obj = json.loads(req.body or b"null")
        except json.JSONDecodeError as err:
            raise bad_request(f"the object provided is unrecognized (must be of type {target.rtype.kind}): "
                              f"couldn't get version/kind; json parse error: {_go_json_error(err)} "
                              f"({_summary(req.body)})") from None
        except UnicodeDecodeError:
            raise bad_request("the object provided is unrecognized: invalid UTF-8 in body") from None
        if not isinstance(obj, dict):
            raise bad_request(f"the object provided is unrecognized (must be of type {target.rtype.kind}): "
                              f"couldn't get version/kind; json parse error: json: cannot unmarshal "
                              f"{_go_type(obj)} into Go value of type struct {{ APIVersion string "
                              f"\"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }} "
                              f"({_summary(req.body)})")
        return obj

    @staticmethod
    def _decode_yaml(body: bytes) -> dict[str, Any]:
        try:
            obj = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            try:
                import yaml
                obj = yaml.safe_load(body)
            except Exception as err:  # PyYAML's errors have no common base worth naming here
                raise bad_request(f"error decoding YAML: {err}") from None
        if not isinstance(obj, dict):
            raise bad_request("error decoding YAML: the body is not a YAML object")
        return obj

    def _check_body(self, target: Target, obj: dict[str, Any], name: str | None) -> None:
        rtype = target.rtype
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if (kind and kind != rtype.kind) or (api_version and api_version != rtype.api_version(target.version)):
            found = api_version or rtype.api_version(target.version)
            raise bad_request(f'{kind or rtype.kind} in version "{found.rpartition("/")[2]}" cannot be handled as a '
                              f'{rtype.kind}: no kind "{kind or rtype.kind}" is registered for version "{found}"')
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request(f"{rtype.kind} in version \"{target.version}\" cannot be handled as a {rtype.kind}: "
                              "json: cannot unmarshal into Go struct field ObjectMeta")
        body_ns = meta.get("namespace")
        if rtype.namespaced and body_ns and target.namespace and body_ns != target.namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the "
                              "request")
        if name is not None and meta.get("name") and meta["name"] != name:
            raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")

    def _do_create(self, req: ApiRequest, target: Target) -> ApiResponse:
        dry_run, manager = self._write_options(req, "CreateOptions")
        obj = self._decode_body(req, target)
        self._check_body(target, obj, None)
        warnings: list[str] = []
        created = self.store.create_resource(target.rtype, target.version, obj, namespace=target.namespace,
                                             field_manager=manager, dry_run=dry_run,
                                             field_validation=self._validation_mode(req), warnings=warnings)
        return self._with_warnings(self._object_response(req, target, created, 201), warnings)

    def _do_update(self, req: ApiRequest, target: Target) -> ApiResponse:
        dry_run, manager = self._write_options(req, "UpdateOptions")
        obj = self._decode_body(req, target)
        self._check_body(target, obj, target.name)
        obj["metadata"]["name"] = target.name
        if target.subresource == "finalize":
            target = Target(target.rtype, target.version, target.namespace, target.name, "", False)
        warnings: list[str] = []
        updated = self.store.update_resource(target.rtype, target.version, target.namespace, target.name or "",
                                             obj, field_manager=manager, dry_run=dry_run,
                                             subresource=target.subresource,
                                             field_validation=self._validation_mode(req), warnings=warnings)
        return self._with_warnings(self._object_response(req, target, updated, 200), warnings)

    def _do_patch(self, req: ApiRequest, target: Target) -> ApiResponse:
        patch_type = req.headers.get("content-type", "").split(";")[0].strip()
        if patch_type not in patching.ALL_PATCH_TYPES or (patch_type == patching.STRATEGIC_MERGE_PATCH
                                                          and target.rtype.is_custom):
            from .store import unsupported_patch
            raise unsupported_patch(target.rtype)
        force_param = req.query.get("force")
        if force_param and patch_type != patching.APPLY_PATCH:
            raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be '
                           'specified for non-apply patch', {"group": "meta.k8s.io", "kind": "PatchOptions",
                                                             "causes": [{"reason": "FieldValueForbidden",
                                                                         "message": "Forbidden: may not be specified "
                                                                         "for non-apply patch", "field": "force"}]})
        dry_run, manager = self._write_options(req, "PatchOptions")
        if patch_type == patching.APPLY_PATCH:
            body = self._decode_yaml(req.body)
            manager = _param(req, "fieldManager")
            existed = self.store.exists(target.rtype, target.namespace, target.name or "")
            result = self.store.apply_resource(target.rtype, target.version, target.namespace, target.name or "",
                                               body, field_manager=manager, force=_flag(req, "force"),
                                               dry_run=dry_run, subresource=target.subresource)
            return self._object_response(req, target, result, 200 if existed else 201)
        try:
            patch = json.loads(req.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise bad_request("Invalid JSON Patch" if patch_type != patching.JSON_PATCH else
                              "invalid character in JSON patch") from None
        if patch_type != patching.JSON_PATCH and not isinstance(patch, dict):
            raise bad_request("Invalid JSON Patch")
        warnings: list[str] = []
        result = self.store.patch_resource(target.rtype, target.version, target.namespace, target.name or "",
                                           patch_type, patch, field_manager=manager, dry_run=dry_run,
                                           subresource=target.subresource,
                                           field_validation=self._validation_mode(req), warnings=warnings)
        return self._with_warnings(self._object_response(req, target, result, 200), warnings)

    def _delete_options(self, req: ApiRequest) -> tuple[bool, str | None, dict[str, Any]]:
        options: dict[str, Any] = {}
        if req.body.strip():
            try:
                options = json.loads(req.body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise bad_request("the body of the request was in an unknown format") from None
            if not isinstance(options, dict):
                options = {}
        dry_run = bool(req.query.get("dryRun") or options.get("dryRun"))
        propagation = _param(req, "propagationPolicy") or options.get("propagationPolicy")
        orphan = _param(req, "orphanDependents") or options.get("orphanDependents")
        if propagation is None and orphan in (True, "true"):
            propagation = "Orphan"
        if propagation not in (None, "Orphan", "Background", "Foreground"):
            raise ApiError(422, "Invalid", f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: '
                           f'Unsupported value: "{propagation}": supported values: "Foreground", "Background", '
                           f'"Orphan", "nil"', {"group": "meta.k8s.io", "kind": "DeleteOptions"})
        return dry_run, propagation, options.get("preconditions") or {}

    def _do_delete(self, req: ApiRequest, target: Target) -> ApiResponse:
        dry_run, propagation, preconditions = self._delete_options(req)
        result = self.store.delete_resource(target.rtype, target.version, target.namespace, target.name or "",
                                            dry_run=dry_run, propagation=propagation, preconditions=preconditions)
        return self._object_response(req, target, result, 200)

    def _do_deletecollection(self, req: ApiRequest, target: Target) -> ApiResponse:
        dry_run, propagation, _ = self._delete_options(req)
        listing = self.store.list_resource(target.rtype, target.version, target.namespace,
                                           _param(req, "labelSelector"), _param(req, "fieldSelector"))
        deleted = []
        for item in listing["items"]:
            meta = item["metadata"]
            try:
                deleted.append(self.store.delete_resource(target.rtype, target.version, meta.get("namespace"),
                                                          meta["name"], dry_run=dry_run, propagation=propagation))
            except ApiError as err:
                if err.status != 404:
                    raise
        listing["items"] = [order_object(i, target.rtype.is_custom) for i in deleted if i.get("kind") != "Status"]
        return self._respond(200, listing)

    # ------------------------------------------------------------------------------ scale, reviews
    def _scale_paths(self, rtype: ResourceType) -> tuple[str, str, str]:
        """(spec replicas, status replicas, label selector) paths, from the CRD for custom resources."""
        if rtype.crd is not None:
            for version in rtype.crd.get("spec", {}).get("versions", []):
                scale = (version.get("subresources") or {}).get("scale")
                if scale:
                    return (scale.get("specReplicasPath", ".spec.replicas"),
                            scale.get("statusReplicasPath", ".status.replicas"), scale.get("labelSelectorPath", ""))
        return ".spec.replicas", ".status.replicas", ".spec.selector"

    def _scale_doc(self, target: Target, obj: dict[str, Any]) -> dict[str, Any]:
        spec_path, status_path, selector_path = self._scale_paths(target.rtype)
        meta = obj["metadata"]
        selector = _dig(obj, selector_path) if selector_path else None
        status: dict[str, Any] = {"replicas": int(_dig(obj, status_path) or 0)}
        if isinstance(selector, dict):
            status["selector"] = _selector_string(selector)
        elif isinstance(selector, str) and selector:
            status["selector"] = selector
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in meta},
                "spec": {"replicas": int(_dig(obj, spec_path) or 0)}, "status": status}

    def _do_scale(self, req: ApiRequest, target: Target, verb: str) -> ApiResponse:
        """autoscaling/v1 Scale over a workload's replicas (kubectl scale patches it)."""
        rtype, name = target.rtype, target.name or ""
        obj = self.store.get_resource(rtype, target.version, target.namespace, name)
        if verb == "get":
            return self._respond(200, self._scale_doc(target, obj))
        dry_run, manager = self._write_options(req, "UpdateOptions" if verb == "update" else "PatchOptions")
        current = self._scale_doc(target, obj)
        if verb == "update":
            wanted = self._decode_yaml(req.body) if req.body else {}
            if (wanted.get("metadata") or {}).get("resourceVersion") not in (None, "",
                                                                             obj["metadata"]["resourceVersion"]):
                from .store import MODIFIED_WHY, conflict
                raise conflict(rtype, name, MODIFIED_WHY)
        else:
            patch_type = req.headers.get("content-type", "").split(";")[0].strip()
            try:
                body = json.loads(req.body or b"null")
                if patch_type == patching.JSON_PATCH:
                    wanted = patching.json_patch(current, body)
                elif patch_type in (patching.MERGE_PATCH, patching.STRATEGIC_MERGE_PATCH):
                    wanted = patching.merge_patch(current, body)
                else:
                    from .store import unsupported_patch
                    raise unsupported_patch(rtype)
            except (json.JSONDecodeError, patching.PatchError) as err:
                raise bad_request(str(err)) from None
        replicas = (wanted.get("spec") or {}).get("replicas", current["spec"]["replicas"])
        spec_path = self._scale_paths(rtype)[0]
        _set(obj, spec_path, replicas)
        updated = self.store.update_resource(rtype, target.version, target.namespace, name, obj,
                                             field_manager=manager, dry_run=dry_run)
        return self._respond(200, self._scale_doc(target, updated))

    def _do_review(self, req: ApiRequest, target: Target) -> ApiResponse:
        """Access and identity reviews: answered, never stored.  The stand-in authorizes every
        authenticated user (see _authorize), so access reviews are allowed."""
        body = self._decode_body(req, target)
        kind = target.rtype.kind
        review: dict[str, Any] = {"kind": kind, "apiVersion": target.rtype.api_version(target.version),
                                  "metadata": {"creationTimestamp": None}}
        user = req.user or UserInfo("system:anonymous", ["system:unauthenticated"])
        if kind == "SelfSubjectReview":
            review["status"] = {"userInfo": {"username": user.name, "groups": list(user.groups)}}
        elif kind == "SelfSubjectRulesReview":
            review["spec"] = body.get("spec") or {}
            review["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                                "incomplete": False}
        else:
            review["spec"] = body.get("spec") or {}
            review["status"] = {"allowed": True}
        return self._respond(201, review)

    # ---------------------------------------------------------------------------------------- watch
    def _do_watch(self, req: ApiRequest, target: Target) -> ApiResponse:
        if target.watch_path and target.name is not None:
            field_selector = f"metadata.name={target.name}"
        else:
            field_selector = _param(req, "fieldSelector")
        timeout_text = _param(req, "timeoutSeconds")
        timeout = float(timeout_text) if timeout_text.isdigit() else 1800.0
        events = self.store.watch_resource(
            target.rtype, target.version, target.namespace, _param(req, "resourceVersion"),
            _param(req, "labelSelector"), field_selector, timeout, _flag(req, "sendInitialEvents"),
            _flag(req, "allowWatchBookmarks"))
        negotiated = _accept(req.headers)
        include = _param(req, "includeObject") or "Metadata"

        def stream() -> Iterator[bytes]:
            for event in events:
                if event is None:
                    yield b""
                    continue
                obj = event["object"]
                if negotiated.kind == "table" and event["type"] not in ("ERROR", "BOOKMARK"):
                    obj = tables.to_table(target.rtype, target.version, [obj], include_object=include,
                                          now=self.clock(), table_version=negotiated.version)
                elif event["type"] != "ERROR":
                    obj = order_object(obj, target.rtype.is_custom)
                yield _json({"type": event["type"], "object": obj})

        headers = {"Content-Type": "application/json", "Cache-Control": "no-cache, private",
                   "Audit-Id": str(uuid.uuid4())}
        return ApiResponse(200, headers, stream())


def _dig(obj: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _set(obj: dict[str, Any], path: str, value: Any) -> None:
    parts = [p for p in path.split(".") if p]
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    obj[parts[-1]] = value


def _selector_string(selector: dict[str, Any]) -> str:
    """metav1.LabelSelector in the text form LabelSelectorAsSelector(...).String() prints."""
    parts: list[tuple[str, str]] = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator"), ",".join(sorted(expr.get("values") or []))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                "DoesNotExist": f"!{key}"}.get(str(op), key)
        parts.append((key, text))
    return ",".join(text for _key, text in sorted(parts))


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def _param(req: ApiRequest, name: str) -> str:
    values = req.query.get(name) or [""]
    return values[0]


def _flag(req: ApiRequest, name: str) -> bool:
    return _param(req, name).lower() in ("true", "1")


def _go_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "null"


def _resource_attributes(req: ApiRequest, path: str) -> dict[str, str] | None:
    """kube-apiserver's RequestInfo for a resource request, or None for a non-resource path."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, rest = parts[1], parts[3:]
    else:
        return None
    watch = False
    if rest[:1] == ["watch"]:
        watch, rest = True, rest[1:]
    namespace = ""
    if len(rest) >= 2 and rest[0] == "namespaces":  # RequestInfoFactory: namespaces/<n> names the namespace
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
    resource, name = rest[0], rest[1] if len(rest) > 1 else ""
    if req.query.get("watch", [""])[0] in ("true", "1"):
        watch = True
    method = req.method.upper()
    if method == "GET":
        verb = "watch" if watch else ("get" if name else "list")
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())
    return {"group": group, "resource": resource, "name": name, "namespace": namespace, "verb": verb}


def _authorize_bootstrapper(req: ApiRequest, path: str, user: "UserInfo") -> None:
    """RBAC as it answers a bootstrap-token user: 403 with the RBAC authorizer's message for anything but
    discovery, the public-info paths and the self reviews."""
    attrs = _resource_attributes(req, path)
    if attrs is None:
        if req.method.upper() in ("GET", "HEAD") and (
                path in BOOTSTRAP_NONRESOURCE or path.startswith(("/api/", "/apis/", "/healthz/", "/livez/",
                                                                  "/readyz/", "/openapi/"))):
            return
        raise ApiError(403, "Forbidden", f'forbidden: User "{user.name}" cannot {req.method.lower()} path '
                       f'"{path}"', {})
    if attrs["verb"] == "create" and (attrs["group"], attrs["resource"]) in BOOTSTRAP_SELF_REVIEWS:
        return
    resource, group, name = attrs["resource"], attrs["group"], attrs["name"]
    qualified = f"{resource}.{group}" if group else resource
    subject = f'{qualified} "{name}"' if name else qualified
    scope = f'in the namespace "{attrs["namespace"]}"' if attrs["namespace"] else "at the cluster scope"
    message = (f'{subject} is forbidden: User "{user.name}" cannot {attrs["verb"]} resource "{resource}" '
               f'in API group "{group}" {scope}')
    raise ApiError(403, "Forbidden", message, _details(name=name, group=group, kind=resource))
