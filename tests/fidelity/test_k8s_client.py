"""The kubernetes Python client (typed APIs, dynamic client, watch) against the stand-in's API."""
from __future__ import annotations

import json
import threading
from typing import Any, Iterator

import pytest
from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError, UnprocessibleEntityError

from apiserver_fixture import ApiServer, apiserver  # noqa: F401  (fixture)


@pytest.fixture
def api_client(apiserver: ApiServer) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(str(apiserver.kubeconfig))
    yield api
    api.close()


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def dyn(api_client: client.ApiClient) -> dynamic.DynamicClient:
    return dynamic.DynamicClient(api_client)


def status_of(err: ApiException) -> dict[str, Any]:
    return json.loads(err.body)


def cm(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


def test_typed_create_get_list_with_selector(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", cm("a", app="x"))
    assert isinstance(created, client.V1ConfigMap) and created.metadata.uid
    core.create_namespaced_config_map("default", cm("b", app="y"))
    assert core.read_namespaced_config_map("a", "default").data == {"k": "v"}
    names = [c.metadata.name for c in core.list_namespaced_config_map("default", label_selector="app=x").items]
    assert names == ["a"]
    everywhere = core.list_config_map_for_all_namespaces(label_selector="app in (x,y)")
    assert [c.metadata.name for c in everywhere.items] == ["a", "b"]
    assert [n.metadata.name for n in core.list_namespace().items] == [
        "default", "kube-node-lease", "kube-public", "kube-system"]


def test_typed_errors_carry_status_and_reason(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as excinfo:
        core.read_namespaced_config_map("missing", "default")
    assert (excinfo.value.status, excinfo.value.reason) == (404, "Not Found")
    assert status_of(excinfo.value)["message"] == 'configmaps "missing" not found'
    core.create_namespaced_config_map("default", cm("a"))
    with pytest.raises(ApiException) as excinfo:
        core.create_namespaced_config_map("default", cm("a"))
    assert (excinfo.value.status, status_of(excinfo.value)["reason"]) == (409, "AlreadyExists")
    with pytest.raises(ApiException) as excinfo:
        core.create_namespaced_config_map("default", cm("Not_Valid"))
    assert (excinfo.value.status, excinfo.value.reason) == (422, "Unprocessable Entity")
    assert status_of(excinfo.value)["details"]["causes"][0]["field"] == "metadata.name"
    with pytest.raises(ApiException) as excinfo:
        core.create_namespaced_config_map("nowhere", cm("a"))
    assert status_of(excinfo.value)["message"] == 'namespaces "nowhere" not found'


def test_typed_patch_replace_and_delete(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", cm("a"))
    patched = core.patch_namespaced_config_map("a", "default", {"data": {"extra": "1"}})
    assert patched.data == {"k": "v", "extra": "1"}
    patched.data = {"only": "this"}
    replaced = core.replace_namespaced_config_map("a", "default", patched)
    assert replaced.data == {"only": "this"}
    with pytest.raises(ApiException) as excinfo:
        core.replace_namespaced_config_map("a", "default", patched)  # stale resourceVersion
    assert excinfo.value.status == 409 and status_of(excinfo.value)["reason"] == "Conflict"
    status = core.delete_namespaced_config_map("a", "default")  # typed as "object": a plain dict
    assert status["kind"] == "Status" and status["status"] == "Success"


def test_typed_dry_run_and_node_status(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", cm("dry"), dry_run="All")
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("dry", "default")
    core.create_node({"metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}}})
    core.patch_node_status("n1", {"status": {"conditions": [{"type": "Ready", "status": "True",
                                                              "reason": "KubeletReady"}]}})
    node = core.read_node("n1")
    assert node.status.conditions[0].type == "Ready" and node.status.conditions[0].status == "True"


def test_apps_deployment_round_trip(api_client: client.ApiClient) -> None:
    apps = client.AppsV1Api(api_client)
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "web"}),
                                              spec=client.V1PodSpec(containers=[client.V1Container(
                                                  name="c", image="nginx:1.27")]))))
    created = apps.create_namespaced_deployment("default", body)
    assert created.spec.replicas == 1 and created.spec.strategy.type == "RollingUpdate"
    assert created.metadata.generation == 1


def test_dynamic_client_crud_and_server_side_apply(dyn: dynamic.DynamicClient) -> None:
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa", "namespace": "default"},
            "data": {"x": "1"}}
    applied = configmaps.server_side_apply(body=body, name="ssa", namespace="default", field_manager="ansible")
    entry = applied.metadata.managedFields[0]
    assert (entry.manager, entry.operation) == ("ansible", "Apply")
    assert entry.fieldsV1.to_dict() == {"f:data": {"f:x": {}}}
    body["data"] = {"x": "2"}
    with pytest.raises(ConflictError) as excinfo:
        configmaps.server_side_apply(body=body, name="ssa", namespace="default", field_manager="other")
    assert status_of(excinfo.value)["message"] == 'Apply failed with 1 conflict: conflict with "ansible": .data.x'
    forced = configmaps.server_side_apply(body=body, name="ssa", namespace="default", field_manager="other",
                                          force_conflicts=True)
    assert forced.data.x == "2"
    preview = configmaps.server_side_apply(body={**body, "data": {"x": "3"}}, name="ssa", namespace="default",
                                           field_manager="other", dry_run="All")
    assert preview.data.x == "3" and configmaps.get(name="ssa", namespace="default").data.x == "2"
    with pytest.raises(NotFoundError):
        configmaps.get(name="nope", namespace="default")
    configmaps.delete(name="ssa", namespace="default")
    assert [i.metadata.name for i in configmaps.get(namespace="default").items] == []


def test_dynamic_client_invalid_and_label_selector(dyn: dynamic.DynamicClient) -> None:
    namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
    with pytest.raises(UnprocessibleEntityError):
        namespaces.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "UPPER"}})
    namespaces.create(body={"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": "edge", "labels": {"fleet": "north"}}})
    found = namespaces.get(label_selector="fleet=north")
    assert [n.metadata.name for n in found.items] == ["edge"]


def test_custom_objects_after_crd(api_client: client.ApiClient, dyn: dynamic.DynamicClient) -> None:
    ext = client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "sites.fleet.example.com"},
        "spec": {"group": "fleet.example.com", "scope": "Cluster",
                 "names": {"plural": "sites", "singular": "site", "kind": "Site"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]}})
    crd = ext.read_custom_resource_definition("sites.fleet.example.com")
    assert {c.type: c.status for c in crd.status.conditions} == {"NamesAccepted": "True", "Established": "True"}
    custom = client.CustomObjectsApi(api_client)
    custom.create_cluster_custom_object("fleet.example.com", "v1", "sites",
                                        {"apiVersion": "fleet.example.com/v1", "kind": "Site",
                                         "metadata": {"name": "oslo"}, "spec": {"nodes": 3}})
    status = custom.patch_cluster_custom_object_status("fleet.example.com", "v1", "sites", "oslo",
                                                       {"status": {"ready": True}})
    assert status["status"] == {"ready": True} and status["spec"] == {"nodes": 3}
    dyn.resources.invalidate_cache()  # discovery was cached before the CRD existed
    sites = dyn.resources.get(api_version="fleet.example.com/v1", kind="Site")
    assert sites.get(name="oslo").spec.nodes == 3


def test_watch_streams_events(core: client.CoreV1Api) -> None:
    start = core.list_namespaced_config_map("default").metadata.resource_version

    def mutate() -> None:
        core.create_namespaced_config_map("default", cm("watched"))
        core.patch_namespaced_config_map("watched", "default", {"data": {"k": "2"}})
        core.delete_namespaced_config_map("watched", "default")

    threading.Timer(0.5, mutate).start()
    seen = []
    stream = watch.Watch()
    for event in stream.stream(core.list_namespaced_config_map, "default", resource_version=start,
                               timeout_seconds=10):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            stream.stop()
    assert seen == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]
