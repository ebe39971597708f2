"""The stand-in's object store: metadata, errors, cascades, persistence, watch (in-process)."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from k3s_standin.store import ApiError, Store


def cm(name: str, namespace: str = "default", **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace, **extra},
            "data": {"k": "v"}}


def deployment(name: str = "web", replicas: int = 1, image: str = "nginx:1.27") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "state.json")


def api_error(excinfo: pytest.ExceptionInfo[ApiError]) -> tuple[int, str, str]:
    err = excinfo.value
    return err.status, err.reason, err.message


# ----------------------------------------------------------------------------------------- bootstrap
def test_bootstrap_creates_system_namespaces_service_and_k3s_crds(store: Store) -> None:
    names = [n["metadata"]["name"] for n in store.list("v1", "Namespace")["items"]]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    crds = [c["metadata"]["name"] for c in store.list("apiextensions.k8s.io/v1", "CustomResourceDefinition")["items"]]
    assert crds == ["addons.k3s.cattle.io", "etcdsnapshotfiles.k3s.cattle.io", "helmchartconfigs.helm.cattle.io",
                    "helmcharts.helm.cattle.io"]
    svc = store.get("v1", "Service", "default", "kubernetes")
    assert svc["spec"]["clusterIP"] == "10.43.0.1"
    assert store.get("v1", "ServiceAccount", "kube-system", "default")["metadata"]["uid"]
    ns = store.get("v1", "Namespace", None, "kube-system")
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "kube-system"}
    assert ns["status"] == {"phase": "Active"} and ns["spec"] == {"finalizers": ["kubernetes"]}


def test_bootstrap_again_changes_nothing(tmp_path: Path) -> None:
    first = Store(tmp_path / "s.json")
    rv = first.resource_version
    second = Store(tmp_path / "s.json")
    assert second.resource_version == rv


# -------------------------------------------------------------------------------------------- create
def test_create_sets_server_metadata(store: Store) -> None:
    before = int(store.resource_version)
    created = store.create(cm("a"))
    meta = created["metadata"]
    assert len(meta["uid"]) == 36 and meta["uid"].count("-") == 4
    assert isinstance(meta["resourceVersion"], str) and int(meta["resourceVersion"]) == before + 1
    assert meta["creationTimestamp"].endswith("Z") and len(meta["creationTimestamp"]) == 20
    assert "generation" not in meta  # ConfigMaps have no generation, like the real registry
    assert meta["managedFields"][0]["manager"] == "k3s"
    assert meta["managedFields"][0]["operation"] == "Update"
    assert store.create(cm("b"))["metadata"]["resourceVersion"] == str(before + 2)


def test_generation_starts_at_one_and_tracks_spec_only(store: Store) -> None:
    created = store.create(deployment())
    assert created["metadata"]["generation"] == 1
    labelled = dict(created, metadata={**created["metadata"], "labels": {"x": "y"}})
    assert store.update(labelled)["metadata"]["generation"] == 1
    scaled = store.get("apps/v1", "Deployment", "default", "web")
    scaled["spec"]["replicas"] = 3
    assert store.update(scaled)["metadata"]["generation"] == 2


def test_generate_name(store: Store) -> None:
    created = store.create({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"generateName": "job-", "namespace": "default"}})
    name = created["metadata"]["name"]
    assert name.startswith("job-") and len(name) == 9
    assert set(name[4:]) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_create_in_missing_namespace_is_404(store: Store) -> None:
    with pytest.raises(ApiError) as excinfo:
        store.create(cm("a", "nope"))
    assert api_error(excinfo) == (404, "NotFound", 'namespaces "nope" not found')
    assert excinfo.value.details == {"name": "nope", "kind": "namespaces"}


def test_already_exists_message_names_the_resource(store: Store) -> None:
    store.create(cm("a"))
    with pytest.raises(ApiError) as excinfo:
        store.create(cm("a"))
    assert api_error(excinfo) == (409, "AlreadyExists", 'configmaps "a" already exists')
    store.create(deployment())
    with pytest.raises(ApiError) as excinfo:
        store.create(deployment())
    assert api_error(excinfo) == (409, "AlreadyExists", 'deployments.apps "web" already exists')


def test_missing_name_is_invalid(store: Store) -> None:
    with pytest.raises(ApiError) as excinfo:
        store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "default"}})
    assert api_error(excinfo) == (422, "Invalid", 'ConfigMap "" is invalid: metadata.name: Required value: '
                                                  'name or generateName is required')
    assert excinfo.value.details["causes"] == [{"reason": "FieldValueRequired", "field": "metadata.name",
                                                "message": "Required value: name or generateName is required"}]


@pytest.mark.parametrize("kind,api_version,name,expected", [
    ("Namespace", "v1", "Bad_NS",
     'Namespace "Bad_NS" is invalid: metadata.name: Invalid value: "Bad_NS": a lowercase RFC 1123 label must '
     "consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric "
     "character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"),
    ("ConfigMap", "v1", "under_score",
     'ConfigMap "under_score" is invalid: metadata.name: Invalid value: "under_score": a lowercase RFC 1123 '
     "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
     "alphanumeric character (e.g. 'example.com', regex used for validation is "
     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
    ("Service", "v1", "1svc",
     'Service "1svc" is invalid: metadata.name: Invalid value: "1svc": a DNS-1035 label must consist of lower '
     "case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric "
     "character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"),
])
def test_invalid_names_use_the_real_wording(store: Store, kind: str, api_version: str, name: str,
                                            expected: str) -> None:
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
    if kind != "Namespace":
        obj["metadata"]["namespace"] = "default"
    if kind == "Service":
        obj["spec"] = {"ports": [{"port": 80}]}
    with pytest.raises(ApiError) as excinfo:
        store.create(obj)
    assert api_error(excinfo) == (422, "Invalid", expected)


def test_two_name_problems_are_bracketed(store: Store) -> None:
    with pytest.raises(ApiError) as excinfo:
        store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "X" * 64}})
    assert excinfo.value.message.startswith(f'Namespace "{"X" * 64}" is invalid: [metadata.name: Invalid value: '
                                            f'"{"X" * 64}": must be no more than 63 characters, metadata.name:')


def test_rbac_names_are_path_segments(store: Store) -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "system:Weird_Name"}, "rules": []}
    assert store.create(role)["metadata"]["name"] == "system:Weird_Name"
    role["metadata"]["name"] = "a/b"
    with pytest.raises(ApiError) as excinfo:
        store.create(role)
    assert excinfo.value.message.endswith("metadata.name: Invalid value: \"a/b\": may not contain '/'")


def test_cluster_scoped_objects_drop_namespace(store: Store) -> None:
    node = store.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "namespace": "x"}})
    assert "namespace" not in node["metadata"]


def test_deployment_defaults_and_selector_validation(store: Store) -> None:
    created = store.create(deployment())
    spec = created["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10 and spec["progressDeadlineSeconds"] == 600
    container = spec["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    bad = deployment("bad")
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(ApiError) as excinfo:
        store.create(bad)
    assert "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does " \
           "not match template `labels`" in excinfo.value.message


def test_service_gets_cluster_ip_and_port_defaults(store: Store) -> None:
    svc = store.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    assert svc["spec"]["clusterIP"].startswith("10.43.") and svc["spec"]["clusterIP"] != "10.43.0.1"
    assert svc["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["sessionAffinity"] == "None"


def test_secret_string_data_is_encoded(store: Store) -> None:
    secret = store.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"},
                           "stringData": {"password": "hunter2"}})
    assert secret["data"] == {"password": "aHVudGVyMg=="} and secret["type"] == "Opaque"
    assert "stringData" not in secret


def test_dry_run_create_stores_nothing(store: Store) -> None:
    rv = store.resource_version
    result = store.create(cm("dry"), dry_run=True)
    assert result["metadata"]["uid"] and "resourceVersion" not in result["metadata"]
    assert store.resource_version == rv
    with pytest.raises(ApiError):
        store.get("v1", "ConfigMap", "default", "dry")


# -------------------------------------------------------------------------------------------- update
def test_update_with_stale_resource_version_conflicts(store: Store) -> None:
    created = store.create(cm("a"))
    fresh = dict(created, data={"k": "2"})
    store.update(fresh)
    stale = dict(created, data={"k": "3"})
    with pytest.raises(ApiError) as excinfo:
        store.update(stale)
    assert api_error(excinfo) == (409, "Conflict", 'Operation cannot be fulfilled on configmaps "a": the object '
                                                   'has been modified; please apply your changes to the latest '
                                                   'version and try again')
    stale_deploy = store.create(deployment())
    store.update(stale_deploy)  # unchanged: no write, same RV
    moved = dict(stale_deploy, spec={**stale_deploy["spec"], "replicas": 2})
    store.update(moved)
    with pytest.raises(ApiError) as excinfo:
        store.update(moved)
    assert excinfo.value.message.startswith('Operation cannot be fulfilled on deployments.apps "web":')


def test_update_without_resource_version_is_unconditional(store: Store) -> None:
    store.create(cm("a"))
    obj = cm("a")
    obj["data"] = {"k": "new"}
    assert store.update(obj)["data"] == {"k": "new"}


def test_update_missing_object_is_404(store: Store) -> None:
    with pytest.raises(ApiError) as excinfo:
        store.update(cm("ghost"))
    assert api_error(excinfo) == (404, "NotFound", 'configmaps "ghost" not found')


def test_noop_update_keeps_resource_version(store: Store) -> None:
    created = store.create(cm("a"))
    again = store.update(created)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_server_fields_cannot_be_changed(store: Store) -> None:
    created = store.create(cm("a"))
    forged = json.loads(json.dumps(created))
    forged["metadata"].update(uid="forged", creationTimestamp="2000-01-01T00:00:00Z")
    forged["data"] = {"k": "changed"}
    updated = store.update(forged)
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert updated["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]


def test_main_endpoint_ignores_status_and_status_endpoint_only_status(store: Store) -> None:
    created = store.create(deployment())
    assert "status" not in created
    created["status"] = {"replicas": 5}
    created["spec"]["replicas"] = 2
    updated = store.update(created)
    assert "status" not in updated and updated["spec"]["replicas"] == 2
    updated["status"] = {"replicas": 5}
    updated["spec"]["replicas"] = 9
    via_status = store.update(updated, subresource="status")
    assert via_status["status"] == {"replicas": 5} and via_status["spec"]["replicas"] == 2
    assert via_status["metadata"]["generation"] == 2
    status_entry = [m for m in via_status["metadata"]["managedFields"] if m.get("subresource") == "status"]
    # DeploymentStatus is a non-pointer struct: no "." entry for f:status, as in real managedFields.
    assert status_entry and status_entry[0]["fieldsV1"] == {"f:status": {"f:replicas": {}}}


def test_immutable_secret(store: Store) -> None:
    secret = store.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"},
                           "data": {"hash": "YQ=="}, "immutable": True, "type": "k3s.cattle.io/node-password"})
    secret["data"] = {"hash": "Yg=="}
    with pytest.raises(ApiError) as excinfo:
        store.update(secret)
    assert api_error(excinfo) == (422, "Invalid", 'Secret "s" is invalid: data: Forbidden: field is immutable '
                                                  'when `immutable` is set')


# -------------------------------------------------------------------------------------------- delete
def test_delete_returns_status_for_configmaps_and_object_for_custom_resources(store: Store) -> None:
    created = store.create(cm("a"))
    status = store.delete("v1", "ConfigMap", "default", "a")
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                      "details": {"name": "a", "kind": "configmaps", "uid": created["metadata"]["uid"]}}
    with pytest.raises(ApiError) as excinfo:
        store.delete("v1", "ConfigMap", "default", "a")
    assert api_error(excinfo) == (404, "NotFound", 'configmaps "a" not found')
    addon = store.create({"apiVersion": "k3s.cattle.io/v1", "kind": "Addon",
                          "metadata": {"name": "x", "namespace": "kube-system"}, "spec": {"source": "/x"}})
    deleted = store.delete("k3s.cattle.io/v1", "Addon", "kube-system", "x")
    assert deleted["metadata"]["uid"] == addon["metadata"]["uid"] and deleted["kind"] == "Addon"


def test_namespace_delete_removes_contents(store: Store) -> None:
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    store.create(cm("a", "team"))
    store.create({"apiVersion": "k3s.cattle.io/v1", "kind": "Addon", "metadata": {"name": "x", "namespace": "team"}})
    result = store.delete("v1", "Namespace", None, "team")
    assert result["status"] == {"phase": "Terminating"} and result["metadata"]["deletionTimestamp"]
    for api_version, kind, name in (("v1", "Namespace", "team"), ("v1", "ConfigMap", "a"),
                                    ("v1", "ServiceAccount", "default"), ("k3s.cattle.io/v1", "Addon", "x")):
        with pytest.raises(ApiError):
            store.get(api_version, kind, "team", name)


def owner_ref(obj: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"]}


def test_deleting_a_node_collects_its_node_password_secret(store: Store) -> None:
    node = store.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "edge-1"}})
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "k3s.cattle.io/node-password", "immutable": True,
              "metadata": {"name": "edge-1.node-password.k3s", "namespace": "kube-system",
                           "ownerReferences": [owner_ref(node)]}, "data": {"hash": "eA=="}}
    store.create(secret)
    store.create(cm("unrelated"))
    store.delete("v1", "Node", None, "edge-1")
    with pytest.raises(ApiError):
        store.get("v1", "Secret", "kube-system", "edge-1.node-password.k3s")
    store.get("v1", "ConfigMap", "default", "unrelated")


def test_garbage_collection_waits_for_all_owners_and_cascades(store: Store) -> None:
    one = store.create(cm("owner-one"))
    two = store.create(cm("owner-two"))
    child = store.create(cm("child", ownerReferences=[owner_ref(one), owner_ref(two)]))
    store.create(cm("grandchild", ownerReferences=[owner_ref(child)]))
    store.delete("v1", "ConfigMap", "default", "owner-one")
    store.get("v1", "ConfigMap", "default", "child")
    store.delete("v1", "ConfigMap", "default", "owner-two")
    for name in ("child", "grandchild"):
        with pytest.raises(ApiError):
            store.get("v1", "ConfigMap", "default", name)


def test_orphan_propagation_strips_owner_references(store: Store) -> None:
    owner = store.create(cm("owner"))
    store.create(cm("child", ownerReferences=[owner_ref(owner)]))
    store.delete("v1", "ConfigMap", "default", "owner", propagation="Orphan")
    assert "ownerReferences" not in store.get("v1", "ConfigMap", "default", "child")["metadata"]


def test_finalizers_hold_deletion_until_removed(store: Store) -> None:
    store.create(cm("held", finalizers=["example.com/cleanup"]))
    held = store.delete("v1", "ConfigMap", "default", "held")
    assert held["metadata"]["deletionTimestamp"] and held["metadata"]["finalizers"] == ["example.com/cleanup"]
    current = store.get("v1", "ConfigMap", "default", "held")
    current["metadata"]["finalizers"] = []
    store.update(current)
    with pytest.raises(ApiError):
        store.get("v1", "ConfigMap", "default", "held")


def test_dry_run_delete_keeps_object(store: Store) -> None:
    store.create(cm("a"))
    assert store.delete("v1", "ConfigMap", "default", "a", dry_run=True)["status"] == "Success"
    store.get("v1", "ConfigMap", "default", "a")


# ---------------------------------------------------------------------------------------------- CRDs
WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {"size": {"type": "integer",
                                                                                  "default": 1}}},
                               "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]},
}


def widget(name: str = "w1", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": "default"},
            "spec": spec}


def test_crd_registers_resource_and_reports_established(store: Store) -> None:
    created = store.create(WIDGET_CRD)
    conditions = {c["type"]: c["status"] for c in created["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert created["status"]["acceptedNames"]["kind"] == "Widget"
    assert created["status"]["storedVersions"] == ["v1"]
    assert created["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    w = store.create(widget(size=3))
    assert w["metadata"]["generation"] == 1 and w["spec"] == {"size": 3}
    assert store.create(widget("w2"))["spec"] == {"size": 1}  # schema default
    w["spec"]["size"] = 4
    assert store.update(w)["metadata"]["generation"] == 2


def test_crd_name_must_match_names_and_group(store: Store) -> None:
    bad = json.loads(json.dumps(WIDGET_CRD))
    bad["metadata"]["name"] = "widgets.other.com"
    with pytest.raises(ApiError) as excinfo:
        store.create(bad)
    assert excinfo.value.message == ('CustomResourceDefinition.apiextensions.k8s.io "widgets.other.com" is invalid: '
                                     'metadata.name: Invalid value: "widgets.other.com": must be '
                                     'spec.names.plural+"."+spec.group')


def test_deleting_crd_removes_custom_objects_and_type(store: Store) -> None:
    store.create(WIDGET_CRD)
    store.create(widget())
    store.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, "widgets.example.com")
    assert store.registry.by_plural("example.com", "v1", "widgets") is None
    with pytest.raises(ApiError) as excinfo:
        store.get("example.com/v1", "Widget", "default", "w1")
    assert excinfo.value.message == 'no matches for kind "Widget" in version "example.com/v1"'
    store.create(WIDGET_CRD)
    assert store.list("example.com/v1", "Widget")["items"] == []


# ------------------------------------------------------------------------------------------------ list
def test_list_across_namespaces_with_selectors(store: Store) -> None:
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    store.create(cm("a", labels={"app": "x", "tier": "web"}))
    store.create(cm("b", "other", labels={"app": "x"}))
    store.create(cm("c", labels={"app": "y"}))
    listing = store.list("v1", "ConfigMap", None, "app=x")
    assert listing["kind"] == "ConfigMapList" and listing["apiVersion"] == "v1"
    assert listing["metadata"]["resourceVersion"] == store.resource_version
    assert [i["metadata"]["name"] for i in listing["items"]] == ["a", "b"]
    assert "kind" not in listing["items"][0]  # typed lists carry no per-item kind
    assert [i["metadata"]["name"] for i in store.list("v1", "ConfigMap", "default", "app in (x,y),!tier")["items"]] \
        == ["c"]
    assert [i["metadata"]["name"] for i in store.list("v1", "ConfigMap", None, "",
                                                      "metadata.namespace=other")["items"]] == ["b"]
    with pytest.raises(ApiError) as excinfo:
        store.list("v1", "ConfigMap", None, "", "spec.foo=bar")
    assert api_error(excinfo) == (400, "BadRequest", "field label not supported: spec.foo")


# ---------------------------------------------------------------------------------------- persistence
def test_state_survives_restart_and_is_written_atomically(tmp_path: Path) -> None:
    state = tmp_path / "db" / "state.json"
    first = Store(state)
    first.create(WIDGET_CRD)
    first.create(widget(size=2))
    first.create(cm("kept"))
    rv = first.resource_version
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in state.parent.iterdir()] == ["state.json"]
    second = Store(state)
    assert second.resource_version == rv
    assert second.get("example.com/v1", "Widget", "default", "w1")["spec"]["size"] == 2
    assert second.get("v1", "ConfigMap", "default", "kept")["data"] == {"k": "v"}
    assert int(second.create(cm("next"))["metadata"]["resourceVersion"]) == int(rv) + 1


def test_concurrent_writers_get_unique_resource_versions(store: Store) -> None:
    versions: list[str] = []
    lock = threading.Lock()

    def writer(index: int) -> None:
        for n in range(10):
            rv = store.create(cm(f"t{index}-{n}"))["metadata"]["resourceVersion"]
            with lock:
                versions.append(rv)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(versions)) == 80
    assert len(store.list("v1", "ConfigMap", "default")["items"]) == 80


# ---------------------------------------------------------------------------------------------- watch
def collect(events: Any, count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for event in events:
        if event is not None:
            out.append(event)
        if len(out) == count:
            break
    return out


def test_watch_from_resource_version_streams_changes(store: Store) -> None:
    start = store.resource_version
    created = store.create(cm("w"))
    created["data"] = {"k": "2"}
    store.update(created)
    store.delete("v1", "ConfigMap", "default", "w")
    events = collect(store.watch("v1", "ConfigMap", "default", start, timeout=5), 3)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(start)
    assert events[0]["object"]["kind"] == "ConfigMap"


def test_watch_without_resource_version_lists_current_objects_first(store: Store) -> None:
    store.create(cm("existing"))
    events = store.watch("v1", "ConfigMap", "default", "", timeout=5)
    first = collect(events, 1)[0]
    assert first["type"] == "ADDED" and first["object"]["metadata"]["name"] == "existing"
    threading.Timer(0.2, lambda: store.create(cm("later"))).start()
    assert collect(events, 1)[0]["object"]["metadata"]["name"] == "later"


def test_watch_label_selector_sees_objects_enter_and_leave(store: Store) -> None:
    start = store.resource_version
    obj = store.create(cm("m"))
    obj["metadata"]["labels"] = {"watch": "me"}
    obj = store.update(obj)
    obj["metadata"]["labels"] = {}
    store.update(obj)
    events = collect(store.watch("v1", "ConfigMap", "default", start, label_selector="watch=me", timeout=5), 2)
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]


def test_watch_too_old_resource_version_yields_expired_error(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    Store(state).create(cm("x"))
    restarted = Store(state)
    event = collect(restarted.watch("v1", "ConfigMap", "default", "1", timeout=5), 1)[0]
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    assert event["object"]["message"].startswith("too old resource version: 1 (")


def test_watch_times_out(store: Store) -> None:
    events = list(store.watch("v1", "ConfigMap", "default", store.resource_version, timeout=1.2))
    assert all(e is None for e in events)


def test_send_initial_events_ends_with_bookmark(store: Store) -> None:
    store.create(cm("a"))
    rtype = store.resolve("v1", "ConfigMap")
    events = collect(store.watch_resource(rtype, "v1", "default", "", timeout=5, send_initial_events=True,
                                          allow_bookmarks=True), 2)
    assert events[0]["type"] == "ADDED"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_events_expire_after_the_event_ttl(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    store = Store(tmp_path / "s.json", clock=lambda: now[0])

    def event(name: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "default"},
                "involvedObject": {"kind": "Node", "name": "n"}, "reason": "R", "message": "m", "type": "Normal"}

    store.create(event("old"))
    now[0] += 3601
    store.create(event("new"))
    assert [e["metadata"]["name"] for e in store.list("v1", "Event", "default")["items"]] == ["new"]
