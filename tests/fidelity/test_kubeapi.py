"""KubeAPI.handle in-process: discovery, verbs, Status errors, content negotiation, watch streams."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from apiserver_fixture import ADMIN, call
from k3s_standin.kubeapi import ApiRequest, ApiResponse, KubeAPI, UserInfo, version_info
from k3s_standin.store import Store

TABLE = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
         "application/json")


@pytest.fixture
def api(tmp_path: Path) -> KubeAPI:
    return KubeAPI(Store(tmp_path / "state.json"), version_info("v1.34.3+k3s1", "abcdef12", "go1.24.11", "arm64"),
                   server_address="10.0.0.5:6443")


def cm(name: str, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}, "data": {"k": "v"}}


# --------------------------------------------------------------------------------------- discovery
def test_version_document(api: KubeAPI) -> None:
    status, body = call(api, "GET", "/version")
    assert status == 200
    assert body["gitVersion"] == "v1.34.3+k3s1" and body["major"] == "1" and body["minor"] == "34"
    assert body["platform"] == "linux/arm64" and body["goVersion"] == "go1.24.11"
    assert list(body)[:2] == ["major", "minor"]


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz"])
def test_health_endpoints(api: KubeAPI, path: str) -> None:
    response = api.handle(ApiRequest("GET", path, {}, {}, b"", ADMIN))
    assert (response.status, response.body) == (200, b"ok")
    assert response.headers["Content-Type"].startswith("text/plain")


def test_anonymous_users_reach_only_public_paths(api: KubeAPI) -> None:
    assert call(api, "GET", "/version", user=None)[0] == 200
    assert call(api, "GET", "/healthz", user=UserInfo("system:anonymous"))[0] == 200
    status, body = call(api, "GET", "/api/v1/namespaces", user=None)
    assert status == 403 and body["reason"] == "Forbidden"


def test_core_discovery(api: KubeAPI) -> None:
    status, body = call(api, "GET", "/api")
    assert body == {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.5:6443"}]}
    status, body = call(api, "GET", "/api/v1")
    assert body["kind"] == "APIResourceList" and body["groupVersion"] == "v1" and "apiVersion" not in body
    by_name = {r["name"]: r for r in body["resources"]}
    assert by_name["configmaps"] == {
        "name": "configmaps", "singularName": "configmap", "namespaced": True, "kind": "ConfigMap",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["cm"], "storageVersionHash": "qFsyl6wFWjQ="}
    assert by_name["namespaces"]["namespaced"] is False and "deletecollection" not in by_name["namespaces"]["verbs"]
    assert by_name["pods"]["categories"] == ["all"]
    assert by_name["nodes/status"] == {"name": "nodes/status", "singularName": "", "namespaced": False,
                                       "kind": "Node", "verbs": ["get", "patch", "update"]}
    for needed in ("nodes", "pods", "services", "secrets", "serviceaccounts", "events", "endpoints", "limitranges",
                   "resourcequotas", "persistentvolumeclaims"):
        assert needed in by_name


def test_group_discovery(api: KubeAPI) -> None:
    status, body = call(api, "GET", "/apis")
    assert body["kind"] == "APIGroupList"
    groups = {g["name"]: g for g in body["groups"]}
    assert list(groups)[0] == "apiregistration.k8s.io"
    assert groups["autoscaling"]["preferredVersion"] == {"groupVersion": "autoscaling/v2", "version": "v2"}
    for group in ("apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "policy", "autoscaling",
                  "apiextensions.k8s.io", "admissionregistration.k8s.io", "coordination.k8s.io", "storage.k8s.io",
                  "apiregistration.k8s.io", "k3s.cattle.io", "helm.cattle.io"):
        assert group in groups
    status, body = call(api, "GET", "/apis/k3s.cattle.io/v1")
    addon = {r["name"]: r for r in body["resources"]}["addons"]
    assert addon["kind"] == "Addon" and addon["namespaced"] is True
    status, body = call(api, "GET", "/apis/apps")
    assert body == {"kind": "APIGroup", "apiVersion": "v1", "name": "apps",
                    "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                    "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}
    assert call(api, "GET", "/apis/nope.example.com")[0] == 404


def test_crd_appears_in_and_leaves_discovery(api: KubeAPI) -> None:
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "gizmos.example.com"},
           "spec": {"group": "example.com", "scope": "Cluster",
                    "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "shortNames": ["gz"],
                              "categories": ["all"]},
                    "versions": [{"name": "v1beta1", "served": True, "storage": False},
                                 {"name": "v1", "served": True, "storage": True}]}}
    assert call(api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)[0] == 201
    groups = {g["name"]: g for g in call(api, "GET", "/apis")[1]["groups"]}
    assert [v["version"] for v in groups["example.com"]["versions"]] == ["v1", "v1beta1"]
    resources = call(api, "GET", "/apis/example.com/v1")[1]["resources"]
    assert resources[0]["name"] == "gizmos" and resources[0]["namespaced"] is False
    assert resources[0]["shortNames"] == ["gz"] and resources[0]["categories"] == ["all"]
    assert call(api, "POST", "/apis/example.com/v1beta1/gizmos",
                {"apiVersion": "example.com/v1beta1", "kind": "Gizmo", "metadata": {"name": "g"}})[0] == 201
    assert call(api, "GET", "/apis/example.com/v1/gizmos/g")[1]["apiVersion"] == "example.com/v1"
    call(api, "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.example.com")
    assert call(api, "GET", "/apis/example.com/v1")[0] == 404
    assert "example.com" not in {g["name"] for g in call(api, "GET", "/apis")[1]["groups"]}


def test_openapi_v3_root_and_group_documents(api: KubeAPI) -> None:
    status, root = call(api, "GET", "/openapi/v3")
    assert status == 200 and "api/v1" in root["paths"] and "apis/apps/v1" in root["paths"]
    assert root["paths"]["apis/apps/v1"]["serverRelativeURL"].startswith("/openapi/v3/apis/apps/v1?hash=")
    status, doc = call(api, "GET", "/openapi/v3/apis/apps/v1")
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    crd_patch = call(api, "GET", "/openapi/v3/apis/helm.cattle.io/v1")[1]["paths"][
        "/apis/helm.cattle.io/v1/namespaces/{namespace}/helmcharts/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" not in crd_patch["requestBody"]["content"]


# -------------------------------------------------------------------------------------------- CRUD
def test_create_get_list_delete_round_trip(api: KubeAPI) -> None:
    status, created = call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("a"))
    assert status == 201 and list(created)[:3] == ["kind", "apiVersion", "metadata"]
    assert list(created["metadata"])[:4] == ["name", "namespace", "uid", "resourceVersion"]
    status, got = call(api, "GET", "/api/v1/namespaces/default/configmaps/a")
    assert status == 200 and got["metadata"]["uid"] == created["metadata"]["uid"]
    status, listing = call(api, "GET", "/api/v1/configmaps")
    assert listing["kind"] == "ConfigMapList" and [i["metadata"]["name"] for i in listing["items"]] == ["a"]
    status, deleted = call(api, "DELETE", "/api/v1/namespaces/default/configmaps/a")
    assert status == 200 and deleted["status"] == "Success"


def test_not_found_status_shape(api: KubeAPI) -> None:
    status, body = call(api, "GET", "/apis/apps/v1/namespaces/default/deployments/nope")
    assert status == 404
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'deployments.apps "nope" not found', "reason": "NotFound",
                    "details": {"name": "nope", "group": "apps", "kind": "deployments"}, "code": 404}
    status, body = call(api, "GET", "/api/v1/namespaces/default/secrets/nope")
    assert body["message"] == 'secrets "nope" not found' and body["details"] == {"name": "nope", "kind": "secrets"}


def test_unknown_paths_and_methods(api: KubeAPI) -> None:
    status, body = call(api, "GET", "/api/v1/frobs")
    assert status == 404 and body["message"] == "the server could not find the requested resource"
    assert body["details"] == {}
    status, body = call(api, "PUT", "/api/v1/namespaces/default/configmaps", cm("x"))
    assert status == 405 and body["reason"] == "MethodNotAllowed"
    assert body["message"] == "the server does not allow this method on the requested resource"
    assert call(api, "DELETE", "/api/v1/namespaces")[0] == 405  # namespaces have no deletecollection
    assert call(api, "GET", "/api/v1/namespaces/default/nodes")[0] == 404  # nodes are cluster-scoped


def test_create_in_missing_namespace(api: KubeAPI) -> None:
    status, body = call(api, "POST", "/api/v1/namespaces/ghost/configmaps", cm("a"))
    assert status == 404 and body["message"] == 'namespaces "ghost" not found'


def test_bad_json_is_400_with_decoder_wording(api: KubeAPI) -> None:
    status, body = call(api, "POST", "/api/v1/namespaces/default/configmaps", b'{"metadata": ')
    assert status == 400 and body["reason"] == "BadRequest"
    assert body["message"] == ('the object provided is unrecognized (must be of type ConfigMap): couldn\'t get '
                               'version/kind; json parse error: unexpected end of JSON input ({"metadata": )')
    status, body = call(api, "POST", "/api/v1/namespaces/default/configmaps", b"nonsense")
    assert body["message"].startswith("the object provided is unrecognized (must be of type ConfigMap): couldn't "
                                      "get version/kind; json parse error: invalid character 'n' looking for "
                                      "beginning of value")


def test_body_namespace_and_name_must_match_url(api: KubeAPI) -> None:
    status, body = call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("a", namespace="kube-system"))
    assert status == 400
    assert body["message"] == "the namespace of the provided object does not match the namespace sent on the request"
    call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("a"))
    status, body = call(api, "PUT", "/api/v1/namespaces/default/configmaps/a", cm("b"))
    assert status == 400 and body["message"] == "the name of the object (b) does not match the name on the URL (a)"


def test_put_conflict_and_update(api: KubeAPI) -> None:
    _, created = call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("a"))
    created["data"] = {"k": "2"}
    status, updated = call(api, "PUT", "/api/v1/namespaces/default/configmaps/a", created)
    assert status == 200 and updated["data"] == {"k": "2"}
    status, body = call(api, "PUT", "/api/v1/namespaces/default/configmaps/a", created)
    assert status == 409 and body["reason"] == "Conflict"
    assert body["details"] == {"name": "a", "kind": "configmaps"}


def test_dry_run_create_and_invalid_options(api: KubeAPI) -> None:
    status, body = call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("a"), query="dryRun=All")
    assert status == 201 and body["metadata"]["name"] == "a"
    assert call(api, "GET", "/api/v1/namespaces/default/configmaps/a")[0] == 404
    status, body = call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("a"), query="dryRun=Yes")
    assert status == 422
    assert body["message"] == ('CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: '
                               '[]string{"Yes"}: supported values: "All"')
    status, body = call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("a"),
                        query="fieldValidation=Loose")
    assert status == 422 and body["details"]["causes"][0]["field"] == "fieldValidation"
    assert call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("a"),
                query="fieldValidation=Strict")[0] == 201


def test_field_manager_defaults_to_user_agent_prefix(api: KubeAPI) -> None:
    _, created = call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("a"),
                      headers={"user-agent": "OpenAPI-Generator/37.0.2/python"})
    assert created["metadata"]["managedFields"][0]["manager"] == "OpenAPI-Generator"
    _, named = call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("b"), query="fieldManager=ansible")
    assert named["metadata"]["managedFields"][0]["manager"] == "ansible"


def test_label_and_field_selectors_over_http(api: KubeAPI) -> None:
    for name, labels in (("a", {"app": "x"}), ("b", {"app": "y"}), ("c", {})):
        call(api, "POST", "/api/v1/namespaces/default/configmaps", cm(name, labels=labels))
    names = lambda q: [i["metadata"]["name"] for i in call(api, "GET", "/api/v1/namespaces/default/configmaps",
                                                           query=q)[1]["items"]]
    assert names("labelSelector=app%3Dx") == ["a"]
    assert names("labelSelector=app%21%3Dx") == ["b", "c"]
    assert names("labelSelector=app+notin+%28x%29") == ["b", "c"]
    assert names("labelSelector=%21app") == ["c"]
    assert names("labelSelector=app") == ["a", "b"]
    assert names("fieldSelector=metadata.name%3Db") == ["b"]
    assert names("limit=1&continue=") == ["a", "b", "c"]
    status, body = call(api, "GET", "/api/v1/namespaces/default/configmaps", query="labelSelector=app%3D%3D")
    assert status == 200
    status, body = call(api, "GET", "/api/v1/namespaces/default/configmaps", query="labelSelector=a+b")
    assert status == 400 and body["reason"] == "BadRequest"


def test_status_subresource_endpoint(api: KubeAPI) -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}
    call(api, "POST", "/api/v1/nodes", node)
    status_patch = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    status, body = call(api, "PATCH", "/api/v1/nodes/n1/status", status_patch,
                        headers={"content-type": "application/strategic-merge-patch+json"})
    assert status == 200 and body["status"]["conditions"][0]["type"] == "Ready"
    assert call(api, "GET", "/api/v1/nodes/n1/status")[1]["status"]["conditions"][0]["status"] == "True"
    assert call(api, "GET", "/api/v1/namespaces/default/configmaps/x/status")[0] == 404


def test_delete_namespace_returns_terminating_namespace(api: KubeAPI) -> None:
    call(api, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "t"}})
    call(api, "POST", "/api/v1/namespaces/t/configmaps", cm("a"))
    status, body = call(api, "DELETE", "/api/v1/namespaces/t", {"kind": "DeleteOptions", "apiVersion": "v1",
                                                                 "propagationPolicy": "Background"})
    assert status == 200 and body["kind"] == "Namespace" and body["status"]["phase"] == "Terminating"
    assert call(api, "GET", "/api/v1/namespaces/t/configmaps/a")[0] == 404


def test_delete_collection(api: KubeAPI) -> None:
    for name, labels in (("a", {"x": "1"}), ("b", {"x": "1"}), ("c", {})):
        call(api, "POST", "/api/v1/namespaces/default/configmaps", cm(name, labels=labels))
    status, body = call(api, "DELETE", "/api/v1/namespaces/default/configmaps", query="labelSelector=x%3D1")
    assert status == 200 and body["kind"] == "ConfigMapList"
    remaining = call(api, "GET", "/api/v1/namespaces/default/configmaps")[1]["items"]
    assert [i["metadata"]["name"] for i in remaining] == ["c"]


# ------------------------------------------------------------------------------------- negotiation
def test_table_output_for_namespaces_and_default_columns(api: KubeAPI) -> None:
    status, table = call(api, "GET", "/api/v1/namespaces", headers={"accept": TABLE})
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Status", "Age"]
    assert table["rows"][0]["cells"][:2] == ["default", "Active"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    status, table = call(api, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", headers={"accept": TABLE})
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Created At"]
    status, table = call(api, "GET", "/api/v1/namespaces/default", headers={"accept": TABLE},
                         query="includeObject=Object")
    assert len(table["rows"]) == 1 and table["rows"][0]["object"]["kind"] == "Namespace"


def test_node_table_reports_status_roles_and_version(api: KubeAPI) -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "srv", "labels": {
        "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/etcd": "true"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "nodeInfo": {"kubeletVersion": "v1.34.3+k3s1"}}}
    call(api, "POST", "/api/v1/nodes", node)
    table = call(api, "GET", "/api/v1/nodes", headers={"accept": TABLE})[1]
    row = table["rows"][0]["cells"]
    assert row[0:3] == ["srv", "Ready", "control-plane,etcd"] and row[4] == "v1.34.3+k3s1"


def test_custom_resource_table_uses_printer_columns(api: KubeAPI) -> None:
    call(api, "POST", "/apis/k3s.cattle.io/v1/namespaces/kube-system/addons",
         {"apiVersion": "k3s.cattle.io/v1", "kind": "Addon", "metadata": {"name": "a"},
          "spec": {"source": "/m/a.yaml", "checksum": "abc"}})
    table = call(api, "GET", "/apis/k3s.cattle.io/v1/namespaces/kube-system/addons", headers={"accept": TABLE})[1]
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Source", "Checksum"]
    assert table["rows"][0]["cells"] == ["a", "/m/a.yaml", "abc"]


def test_partial_object_metadata(api: KubeAPI) -> None:
    accept = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"
    status, body = call(api, "GET", "/api/v1/namespaces", headers={"accept": accept})
    assert body["kind"] == "PartialObjectMetadataList" and body["items"][0]["metadata"]["name"] == "default"


def test_custom_resource_json_has_sorted_keys(api: KubeAPI) -> None:
    status, body = call(api, "POST", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts",
                        {"kind": "HelmChart", "apiVersion": "helm.cattle.io/v1", "metadata": {"name": "t"},
                         "spec": {"version": "1", "chart": "traefik"}})
    assert list(body) == ["apiVersion", "kind", "metadata", "spec"] and list(body["spec"]) == ["chart", "version"]


def test_protobuf_namespace_from_kubectl_create(api: KubeAPI) -> None:
    # The exact body `kubectl create namespace x` (v1.37) sends.
    body = (b"k8s\x00\n\x0f\n\x02v1\x12\tNamespace\x12\x19\n\x11\n\x01x\x12\x00\x1a\x00\"\x00*\x002\x008\x00B\x00"
            b"\x12\x00\x1a\x02\n\x00\x1a\x00\"\x00")
    status, created = call(api, "POST", "/api/v1/namespaces", body,
                           headers={"content-type": "application/vnd.kubernetes.protobuf"})
    assert status == 201 and created["metadata"]["name"] == "x" and created["status"]["phase"] == "Active"


def test_unsupported_body_media_type(api: KubeAPI) -> None:
    status, body = call(api, "POST", "/api/v1/namespaces/default/configmaps", b"\xa1", headers={
        "content-type": "application/cbor"})
    assert status == 415 and body["reason"] == "UnsupportedMediaType"


# -------------------------------------------------------------------------------------------- watch
def read_events(response: ApiResponse, count: int) -> list[dict[str, Any]]:
    assert not isinstance(response.body, bytes)
    events = []
    for chunk in response.body:
        if chunk:
            assert chunk.endswith(b"\n")
            events.append(json.loads(chunk))
        if len(events) == count:
            break
    return events


def test_watch_stream_over_the_api(api: KubeAPI) -> None:
    _, listing = call(api, "GET", "/api/v1/namespaces/default/configmaps")
    rv = listing["metadata"]["resourceVersion"]
    response = api.handle(ApiRequest("GET", "/api/v1/namespaces/default/configmaps",
                                     {"watch": ["1"], "resourceVersion": [rv], "timeoutSeconds": ["10"]},
                                     {}, b"", ADMIN))
    assert response.status == 200 and response.headers["Content-Type"] == "application/json"

    def mutate() -> None:
        _, obj = call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("w"))
        obj["data"] = {"k": "changed"}
        call(api, "PUT", "/api/v1/namespaces/default/configmaps/w", obj)
        call(api, "DELETE", "/api/v1/namespaces/default/configmaps/w")

    threading.Timer(0.2, mutate).start()
    events = read_events(response, 3)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[1]["object"]["data"] == {"k": "changed"}


def test_watch_a_single_object_by_field_selector_as_table(api: KubeAPI) -> None:
    call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("one"))
    call(api, "POST", "/api/v1/namespaces/default/configmaps", cm("two"))
    response = api.handle(ApiRequest("GET", "/api/v1/namespaces/default/configmaps", {
        "watch": ["true"], "fieldSelector": ["metadata.name=two"], "timeoutSeconds": ["5"]},
        {"accept": TABLE}, b"", ADMIN))
    event = read_events(response, 1)[0]
    assert event["type"] == "ADDED" and event["object"]["kind"] == "Table"
    assert event["object"]["rows"][0]["cells"][0] == "two"


def test_watch_ends_after_timeout(api: KubeAPI) -> None:
    response = api.handle(ApiRequest("GET", "/api/v1/namespaces/default/configmaps", {
        "watch": ["true"], "resourceVersion": [api.store.resource_version], "timeoutSeconds": ["1"]}, {}, b"", ADMIN))
    assert isinstance(response.body, bytes) is False
    assert [c for c in response.body if c] == []


# --------------------------------------------------------------------------------- field validation
BAD_DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labelz": {}},
              "spec": {"replicass": 2, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "c", "image": "i", "imagee": "x"}]}}}}
DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"


def test_unknown_fields_are_dropped_with_a_warning_by_default(api: KubeAPI) -> None:
    response = api.handle(ApiRequest("POST", DEPLOYS, {}, {"content-type": "application/json"},
                                     json.dumps(BAD_DEPLOY).encode(), ADMIN))
    assert response.status == 201
    assert response.headers["Warning"] == ('299 - "unknown field \\"metadata.labelz\\"", '
                                           '299 - "unknown field \\"spec.replicass\\"", '
                                           '299 - "unknown field \\"spec.template.spec.containers[0].imagee\\""')
    stored = call(api, "GET", f"{DEPLOYS}/web")[1]
    assert "replicass" not in stored["spec"] and "imagee" not in stored["spec"]["template"]["spec"]["containers"][0]
    quiet = api.handle(ApiRequest("POST", DEPLOYS, {"fieldValidation": ["Ignore"]}, {},
                                  json.dumps({**BAD_DEPLOY, "metadata": {"name": "web2"}}).encode(), ADMIN))
    assert quiet.status == 201 and "Warning" not in quiet.headers


def test_strict_field_validation_rejects_unknown_fields(api: KubeAPI) -> None:
    status, body = call(api, "POST", DEPLOYS, BAD_DEPLOY, query="fieldValidation=Strict")
    assert status == 400 and body["reason"] == "BadRequest"
    assert body["message"] == ('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
                               'unknown field "metadata.labelz", unknown field "spec.replicass", unknown field '
                               '"spec.template.spec.containers[0].imagee"')
    good = json.loads(json.dumps(BAD_DEPLOY))
    good["metadata"].pop("labelz")
    good["spec"].pop("replicass")
    good["spec"]["template"]["spec"]["containers"][0].pop("imagee")
    assert call(api, "POST", DEPLOYS, good, query="fieldValidation=Strict")[0] == 201
    status, body = call(api, "PATCH", f"{DEPLOYS}/web", {"spec": {"paused2": True}},
                        headers={"content-type": "application/merge-patch+json"}, query="fieldValidation=Strict")
    assert status == 400 and body["message"] == 'strict decoding error: unknown field "spec.paused2"'


def test_server_side_apply_rejects_undeclared_fields(api: KubeAPI) -> None:
    status, body = call(api, "PATCH", f"{DEPLOYS}/web", BAD_DEPLOY,
                        headers={"content-type": "application/apply-patch+yaml"},
                        query="fieldManager=x&fieldValidation=Ignore")
    assert status == 500 and body["reason"] == ""
    assert body["message"] == (
        "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): errors:\n"
        "  .metadata.labelz: field not declared in schema\n  .spec.replicass: field not declared in schema\n"
        '  .spec.template.spec.containers[name="c"].imagee: field not declared in schema')


def test_custom_resources_are_pruned_to_their_schema(api: KubeAPI) -> None:
    status, body = call(api, "POST", "/apis/k3s.cattle.io/v1/namespaces/kube-system/addons",
                        {"apiVersion": "k3s.cattle.io/v1", "kind": "Addon", "metadata": {"name": "a"},
                         "spec": {"source": "/x", "sorce": "/typo"}, "extra": 1})
    assert status == 201 and body["spec"] == {"source": "/x"} and "extra" not in body
    status, body = call(api, "POST", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts",
                        {"apiVersion": "helm.cattle.io/v1", "kind": "HelmChart", "metadata": {"name": "h"},
                         "spec": {"chart": "c", "valueContent": "typo",
                                  "podSecurityContext": {"anything": {"goes": True}}}})
    # K3s's HelmChart schema declares its fields; podSecurityContext preserves unknown fields.
    assert body["spec"] == {"chart": "c", "podSecurityContext": {"anything": {"goes": True}}}


def test_k3s_crd_schemas_validate_types(api: KubeAPI) -> None:
    status, body = call(api, "POST", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmchartconfigs",
                        {"apiVersion": "helm.cattle.io/v1", "kind": "HelmChartConfig", "metadata": {"name": "traefik"},
                         "spec": {"valuesContent": {"not": "a string"}}})
    assert status == 422 and body["reason"] == "Invalid"
    assert body["message"] == ('HelmChartConfig.helm.cattle.io "traefik" is invalid: spec.valuesContent: Invalid '
                               'value: "object": spec.valuesContent in body must be of type string: "object"')
    assert body["details"]["causes"] == [{"reason": "FieldValueInvalid", "field": "spec.valuesContent",
                                          "message": 'Invalid value: "object": spec.valuesContent in body must be '
                                                     'of type string: "object"'}]
    status, body = call(api, "POST", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmchartconfigs",
                        {"apiVersion": "helm.cattle.io/v1", "kind": "HelmChartConfig", "metadata": {"name": "traefik"},
                         "spec": {"valuesContent": "ports: {}"}}, query="fieldValidation=Strict")
    assert status == 201


def test_user_crd_schema_enum_required_and_minimum(api: KubeAPI) -> None:
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "pools.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "pools", "singular": "pool", "kind": "Pool"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {
                            "type": "object", "required": ["size"], "properties": {
                                "size": {"type": "integer", "minimum": 1},
                                "mode": {"type": "string", "enum": ["fast", "safe"]}}}}}}}]}}
    call(api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    url = "/apis/example.com/v1/namespaces/default/pools"
    status, body = call(api, "POST", url, {"apiVersion": "example.com/v1", "kind": "Pool", "metadata": {"name": "p"},
                                           "spec": {"mode": "wild"}})
    assert status == 422
    assert body["message"] == ('Pool.example.com "p" is invalid: [spec.size: Required value, spec.mode: Unsupported '
                               'value: "wild": supported values: "fast", "safe"]')
    status, body = call(api, "POST", url, {"apiVersion": "example.com/v1", "kind": "Pool", "metadata": {"name": "p"},
                                           "spec": {"size": 0}})
    assert body["message"] == ('Pool.example.com "p" is invalid: spec.size: Invalid value: 0: spec.size in body '
                               'should be greater than or equal to 1')


# ------------------------------------------------------------------------------------ scale, reviews
def test_scale_subresource(api: KubeAPI) -> None:
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web", "tier": "a"}},
                       "template": {"metadata": {"labels": {"app": "web", "tier": "a"}},
                                    "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    call(api, "POST", DEPLOYS, deploy)
    status, scale = call(api, "GET", f"{DEPLOYS}/web/scale")
    assert status == 200 and scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2} and scale["status"] == {"replicas": 0, "selector": "app=web,tier=a"}
    status, scale = call(api, "PATCH", f"{DEPLOYS}/web/scale", {"spec": {"replicas": 5}},
                         headers={"content-type": "application/merge-patch+json"})
    assert status == 200 and scale["spec"]["replicas"] == 5
    assert call(api, "GET", f"{DEPLOYS}/web")[1]["spec"]["replicas"] == 5
    scale["spec"]["replicas"] = 1
    assert call(api, "PUT", f"{DEPLOYS}/web/scale", scale)[1]["spec"]["replicas"] == 1
    resources = {r["name"]: r for r in call(api, "GET", "/apis/apps/v1")[1]["resources"]}
    assert resources["deployments/scale"] == {"name": "deployments/scale", "singularName": "", "namespaced": True,
                                              "group": "autoscaling", "version": "v1", "kind": "Scale",
                                              "verbs": ["get", "patch", "update"]}
    assert call(api, "GET", "/api/v1/namespaces/default/configmaps/x/scale")[0] == 404


def test_access_and_identity_reviews(api: KubeAPI) -> None:
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "default"}}}
    status, body = call(api, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
    assert status == 201 and body["status"] == {"allowed": True} and body["spec"] == review["spec"]
    status, body = call(api, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert body["status"]["userInfo"] == {"username": "system:admin",
                                          "groups": ["system:masters", "system:authenticated"]}
    assert call(api, "GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")[0] == 405
    entry = {r["name"]: r for r in call(api, "GET", "/apis/authentication.k8s.io/v1")[1]["resources"]}
    assert entry["selfsubjectreviews"] == {"name": "selfsubjectreviews", "singularName": "selfsubjectreview",
                                           "namespaced": False, "kind": "SelfSubjectReview", "verbs": ["create"]}


def test_unexpected_failures_become_internal_error_status(api: KubeAPI, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(api.store, "list_resource", broken)
    status, body = call(api, "GET", "/api/v1/configmaps")
    assert status == 500 and body["reason"] == "InternalError"
    assert body["message"] == "Internal error occurred: boom"
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_table_rows_embed_typed_objects_for_lists(api: KubeAPI) -> None:
    status, table = call(api, "GET", "/api/v1/namespaces", headers={"accept": TABLE}, query="includeObject=Object")
    row_object = table["rows"][0]["object"]
    assert (row_object["kind"], row_object["apiVersion"]) == ("Namespace", "v1")
    assert list(row_object)[:3] == ["kind", "apiVersion", "metadata"]
