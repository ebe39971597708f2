"""PATCH through KubeAPI: merge, JSON, strategic merge (the documented subset) and apply patches."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apiserver_fixture import call
from k3s_standin import patching, typeinfo
from k3s_standin.kubeapi import KubeAPI
from k3s_standin.store import Store

DEPLOY_URL = "/apis/apps/v1/namespaces/default/deployments"
SMP = {"content-type": "application/strategic-merge-patch+json"}
MERGE = {"content-type": "application/merge-patch+json"}
JSONP = {"content-type": "application/json-patch+json"}
APPLY = {"content-type": "application/apply-patch+yaml"}


@pytest.fixture
def api(tmp_path: Path) -> KubeAPI:
    api = KubeAPI(Store(tmp_path / "state.json"))
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "1"},
                                                                              "finalizers": ["x.io/f"]},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                               {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"},
                                                                          {"name": "B", "value": "2"}],
                                "ports": [{"containerPort": 80}]},
                               {"name": "sidecar", "image": "side:1"}]}}}}
    assert call(api, "POST", DEPLOY_URL, deployment)[0] == 201
    return api


def containers(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["spec"]["template"]["spec"]["containers"]


def test_merge_patch(api: KubeAPI) -> None:
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", {"metadata": {"labels": {"a": None, "b": "2"}},
                                                            "spec": {"replicas": 3}}, headers=MERGE)
    assert status == 200 and body["metadata"]["labels"] == {"b": "2"} and body["spec"]["replicas"] == 3
    assert body["metadata"]["generation"] == 2
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", {"spec": {"template": {"spec": {"containers": [
        {"name": "only", "image": "x:1"}]}}}}, headers=MERGE)
    assert [c["name"] for c in containers(body)] == ["only"]  # merge patch replaces lists


def test_json_patch_and_its_errors(api: KubeAPI) -> None:
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 4},
           {"op": "add", "path": "/metadata/labels/new~1key", "value": "v"},
           {"op": "remove", "path": "/spec/template/spec/containers/1"},
           {"op": "test", "path": "/metadata/name", "value": "web"}]
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", ops, headers=JSONP)
    assert status == 200 and body["spec"]["replicas"] == 4 and body["metadata"]["labels"]["new/key"] == "v"
    assert [c["name"] for c in containers(body)] == ["app"]
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", [{"op": "remove", "path": "/metadata/annotations/x"}],
                        headers=JSONP)
    assert status == 422 and body["reason"] == "Invalid"
    assert body["message"] == "the server rejected our request due to an error in our request"


def test_strategic_merge_by_name_and_container_port(api: KubeAPI) -> None:
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "app:2", "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
         "ports": [{"containerPort": 8080}]}]}}}}
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", patch, headers=SMP)
    assert status == 200
    app = containers(body)[0]
    assert [c["name"] for c in containers(body)] == ["app", "sidecar"]
    assert app["image"] == "app:2"
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}]
    assert [p["containerPort"] for p in app["ports"]] == [80, 8080]


def test_strategic_merge_directives(api: KubeAPI) -> None:
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["x.io/f"]},
             "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"},
                      "template": {"spec": {
                          "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
                          "containers": [{"name": "app", "env": [{"name": "A", "$patch": "delete"}]}]}}}}
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", patch, headers=SMP)
    assert status == 200, body
    assert "finalizers" not in body["metadata"] or body["metadata"]["finalizers"] == []
    assert body["spec"]["strategy"] == {"type": "Recreate"}
    assert [c["name"] for c in containers(body)] == ["sidecar", "app"]
    assert containers(body)[1]["env"] == [{"name": "B", "value": "2"}]


def test_strategic_merge_finalizers_union_and_replace_directive(api: KubeAPI) -> None:
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", {"metadata": {"finalizers": ["y.io/g"]}}, headers=SMP)
    assert body["metadata"]["finalizers"] == ["x.io/f", "y.io/g"]
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", {"spec": {"template": {"spec": {"containers": [
        {"$patch": "replace"}, {"name": "solo", "image": "s:1"}]}}}}, headers=SMP)
    assert [c["name"] for c in containers(body)] == ["solo"]


def test_strategic_merge_on_custom_resource_is_415(api: KubeAPI) -> None:
    call(api, "POST", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts",
         {"apiVersion": "helm.cattle.io/v1", "kind": "HelmChart", "metadata": {"name": "t"}, "spec": {}})
    status, body = call(api, "PATCH", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts/t", {"spec": {}},
                        headers=SMP)
    assert status == 415 and body["reason"] == "UnsupportedMediaType"
    assert body["message"] == ("the body of the request was in an unknown format - accepted media types include: "
                               "application/json-patch+json, application/merge-patch+json, "
                               "application/apply-patch+yaml")


def test_unknown_patch_type_is_415(api: KubeAPI) -> None:
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", {}, headers={"content-type": "application/json"})
    assert status == 415
    assert body["message"] == ("the body of the request was in an unknown format - accepted media types include: "
                               "application/json-patch+json, application/merge-patch+json, "
                               "application/strategic-merge-patch+json, application/apply-patch+yaml")


def test_patch_missing_object_is_404(api: KubeAPI) -> None:
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/ghost", {"spec": {}}, headers=MERGE)
    assert status == 404 and body["message"] == 'deployments.apps "ghost" not found'


def test_invalid_merge_patch_body_is_400(api: KubeAPI) -> None:
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", b"{not json", headers=MERGE)
    assert status == 400 and body["reason"] == "BadRequest"


def test_apply_patch_needs_field_manager(api: KubeAPI) -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
    status, body = call(api, "PATCH", "/api/v1/namespaces/default/configmaps/c", config, headers=APPLY)
    assert status == 422
    assert body["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required '
                               'for apply patch')
    assert body["details"] == {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
        {"reason": "FieldValueRequired", "message": "Required value: is required for apply patch",
         "field": "fieldManager"}]}


def test_apply_patch_yaml_creates_then_updates(api: KubeAPI) -> None:
    yaml_body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n"
    status, body = call(api, "PATCH", "/api/v1/namespaces/default/configmaps/c", yaml_body, headers=APPLY,
                        query="fieldManager=ansible")
    assert status == 201 and body["data"] == {"a": "b"}
    status, body = call(api, "PATCH", "/api/v1/namespaces/default/configmaps/c", yaml_body.replace(b"a: b", b"a: c"),
                        headers=APPLY, query="fieldManager=ansible")
    assert status == 200 and body["data"] == {"a": "c"}
    status, body = call(api, "PATCH", "/api/v1/namespaces/default/configmaps/c", yaml_body.replace(b"a: b", b"a: d"),
                        headers=APPLY, query="fieldManager=other")
    assert status == 409 and body["message"] == 'Apply failed with 1 conflict: conflict with "ansible": .data.a'
    status, body = call(api, "PATCH", "/api/v1/namespaces/default/configmaps/c", yaml_body.replace(b"a: b", b"a: d"),
                        headers=APPLY, query="fieldManager=other&force=true")
    assert status == 200 and body["data"] == {"a": "d"}


def test_force_on_non_apply_patch_is_invalid(api: KubeAPI) -> None:
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", {}, headers=MERGE, query="force=true")
    assert status == 422
    assert body["message"] == ('PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for '
                               'non-apply patch')


def test_dry_run_patch_and_apply(api: KubeAPI) -> None:
    status, body = call(api, "PATCH", f"{DEPLOY_URL}/web", {"spec": {"replicas": 9}}, headers=MERGE,
                        query="dryRun=All")
    assert body["spec"]["replicas"] == 9
    assert call(api, "GET", f"{DEPLOY_URL}/web")[1]["spec"]["replicas"] == 1
    status, body = call(api, "PATCH", "/api/v1/namespaces/default/configmaps/new",
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "new"}}, headers=APPLY,
                        query="fieldManager=x&dryRun=All")
    assert status == 201
    assert call(api, "GET", "/api/v1/namespaces/default/configmaps/new")[0] == 404


# ------------------------------------------------------------------------------ patching module units
def test_strategic_merge_patch_without_merge_key_replaces_lists() -> None:
    doc = {"spec": {"tolerations": [{"key": "a"}], "nodeSelector": {"x": "1", "y": "2"}}}
    pod = typeinfo.KIND_TYPES[("", "Pod")]
    patched = patching.strategic_merge_patch(doc, {"spec": {"tolerations": [{"key": "b"}],
                                                            "nodeSelector": {"z": "3"}}}, pod)
    assert patched["spec"]["tolerations"] == [{"key": "b"}]
    assert patched["spec"]["nodeSelector"] == {"z": "3"}  # atomic map


def test_three_way_merge_removes_only_what_the_applier_dropped() -> None:
    last = {"data": {"a": "1", "b": "2"}}
    desired = {"data": {"a": "1"}}
    live = {"data": {"a": "1", "b": "2", "c": "other"}}
    assert patching.three_way_merge(last, desired, live) == {"data": {"a": "1", "c": "other"}}


def test_json_patch_move_and_copy() -> None:
    doc = {"a": {"b": 1}, "c": []}
    out = patching.json_patch(doc, [{"op": "copy", "from": "/a/b", "path": "/c/-"},
                                    {"op": "move", "from": "/a", "path": "/d"}])
    assert out == {"c": [1], "d": {"b": 1}} and doc == {"a": {"b": 1}, "c": []}
    with pytest.raises(patching.PatchError) as excinfo:
        patching.json_patch(doc, [{"op": "test", "path": "/a/b", "value": 2}])
    assert json.dumps(str(excinfo.value))
