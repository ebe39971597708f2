"""Server-side apply and managedFields, against the structured-merge-diff behaviour kube-apiserver has."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from k3s_standin import ssa, typeinfo
from k3s_standin.store import ApiError, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "state.json")


def deploy(replicas: int | None = 2, image: str = "nginx:1.27", containers: list[dict[str, Any]] | None = None,
           labels: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": containers or [{"name": "nginx", "image": image,
                                                             "ports": [{"containerPort": 80}]}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    meta: dict[str, Any] = {"name": "web", "namespace": "default"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def managers(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m["manager"], m["operation"]): m for m in obj["metadata"]["managedFields"]}


# ------------------------------------------------------------------------------------ FieldsV1 notation
def test_fields_v1_round_trip_uses_dot_for_nodes_that_are_members() -> None:
    fields = {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
              "f:spec": {"f:template": {"f:spec": {"f:containers": {
                  'k:{"name":"nginx"}': {".": {}, "f:image": {}, "f:name": {}}}}}},
              "f:metadata2": {"f:finalizers": {'v:"a"': {}}}}
    paths = ssa.from_fields_v1(fields)
    assert (("f", "metadata"), ("f", "labels")) in paths
    assert (("f", "spec"), ("f", "template"), ("f", "spec"), ("f", "containers"), ("k", '{"name":"nginx"}')) in paths
    assert ssa.to_fields_v1(paths) == fields


@pytest.mark.parametrize("path,text", [
    ((("f", "spec"), ("f", "replicas")), ".spec.replicas"),
    ((("f", "spec"), ("f", "containers"), ("k", '{"name":"c"}'), ("f", "image")), '.spec.containers[name="c"].image'),
    ((("f", "ports"), ("k", '{"containerPort":80,"protocol":"TCP"}')), '.ports[containerPort=80,protocol="TCP"]'),
    ((("f", "metadata"), ("f", "finalizers"), ("v", '"x"')), '.metadata.finalizers[="x"]'),
])
def test_path_strings_match_fieldpath_printing(path: ssa.Path, text: str) -> None:
    assert ssa.path_string(path) == text


def test_list_merge_keeps_live_only_items_in_place() -> None:
    rtype = typeinfo.KIND_TYPES[("", "Pod")].child("spec").child("containers")
    live = [{"name": "a"}, {"name": "sidecar"}, {"name": "b"}]
    config = [{"name": "b", "image": "x"}, {"name": "a", "image": "y"}, {"name": "new"}]
    merged = ssa.merge(live, config, rtype)
    # Shared items follow the configuration's order; the live-only sidecar keeps its slot before them.
    assert [c["name"] for c in merged] == ["sidecar", "b", "a", "new"]
    assert {c["name"]: c.get("image") for c in merged}["a"] == "y"


# ------------------------------------------------------------------------------------------- apply
def test_apply_creates_and_records_the_applied_field_set(store: Store) -> None:
    created = store.apply(deploy(), "ansible")
    assert created["metadata"]["generation"] == 1
    entry = managers(created)[("ansible", "Apply")]
    assert entry["apiVersion"] == "apps/v1" and entry["fieldsType"] == "FieldsV1" and entry["time"]
    assert entry["fieldsV1"] == {"f:spec": {
        "f:replicas": {}, "f:selector": {},
        "f:template": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:containers": {
            'k:{"name":"nginx"}': {".": {}, "f:image": {}, "f:name": {}, "f:ports": {
                'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}}}}}}
    assert len(created["metadata"]["managedFields"]) == 1  # defaults are owned by nobody


def test_apply_conflict_message_and_causes(store: Store) -> None:
    store.apply(deploy(replicas=2), "ansible")
    with pytest.raises(ApiError) as excinfo:
        store.apply(deploy(replicas=5), "other")
    err = excinfo.value
    assert (err.status, err.reason) == (409, "Conflict")
    assert err.message == 'Apply failed with 1 conflict: conflict with "ansible": .spec.replicas'
    assert err.details == {"causes": [{"reason": "FieldManagerConflict", "message": 'conflict with "ansible"',
                                       "field": ".spec.replicas"}]}


def test_conflict_with_an_update_manager_names_its_api_version(store: Store) -> None:
    store.create(deploy(replicas=2), field_manager="kubectl-create")
    with pytest.raises(ApiError) as excinfo:
        store.apply(deploy(replicas=3, image="nginx:1.28"), "ansible")
    assert excinfo.value.message == (
        'Apply failed with 2 conflicts: conflicts with "kubectl-create" using apps/v1:\n'
        '- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image')


def test_force_takes_ownership(store: Store) -> None:
    store.apply(deploy(replicas=2), "ansible")
    result = store.apply(deploy(replicas=5), "other", force=True)
    assert result["spec"]["replicas"] == 5
    owned = {m: ssa.from_fields_v1(e["fieldsV1"]) for (m, _op), e in managers(result).items()}
    replicas = (("f", "spec"), ("f", "replicas"))
    assert replicas in owned["other"] and replicas not in owned["ansible"]


def test_same_value_is_shared_and_survives_one_owner_leaving(store: Store) -> None:
    store.apply(deploy(replicas=2), "ansible")
    store.apply(deploy(replicas=2), "other")  # same value: no conflict, co-owned
    after = store.apply(deploy(replicas=None), "ansible")
    assert after["spec"]["replicas"] == 2


def test_field_dropped_from_config_is_removed_or_defaulted(store: Store) -> None:
    store.apply(deploy(replicas=3, labels={"team": "edge", "tier": "web"}), "ansible")
    after = store.apply(deploy(replicas=None, labels={"team": "edge"}), "ansible")
    assert after["metadata"]["labels"] == {"team": "edge"}
    assert after["spec"]["replicas"] == 1  # removed, then defaulted back like the real apiserver
    assert after["metadata"]["generation"] == 2


def test_keyed_lists_merge_per_item_between_managers(store: Store) -> None:
    store.apply(deploy(containers=[{"name": "a", "image": "a:1"}]), "first")
    both = store.apply(deploy(containers=[{"name": "b", "image": "b:1"}]), "second")
    assert [c["name"] for c in both["spec"]["template"]["spec"]["containers"]] == ["a", "b"]
    only_b = store.apply(deploy(containers=[{"name": "placeholder", "image": "p:1"}]), "first")
    assert [c["name"] for c in only_b["spec"]["template"]["spec"]["containers"]] == ["b", "placeholder"]


def test_atomic_lists_are_replaced_whole(store: Store) -> None:
    store.apply(deploy(containers=[{"name": "a", "image": "a:1", "args": ["--x", "--y"]}]), "ansible")
    after = store.apply(deploy(containers=[{"name": "a", "image": "a:1", "args": ["--z"]}]), "ansible")
    assert after["spec"]["template"]["spec"]["containers"][0]["args"] == ["--z"]


def test_noop_apply_keeps_resource_version(store: Store) -> None:
    first = store.apply(deploy(), "ansible")
    second = store.apply(deploy(), "ansible")
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert second["metadata"]["managedFields"] == first["metadata"]["managedFields"]


def test_dry_run_apply_returns_result_and_stores_nothing(store: Store) -> None:
    store.apply(deploy(replicas=2), "ansible")
    rv = store.resource_version
    preview = store.apply(deploy(replicas=7), "ansible", dry_run=True)
    assert preview["spec"]["replicas"] == 7
    assert store.resource_version == rv
    assert store.get("apps/v1", "Deployment", "default", "web")["spec"]["replicas"] == 2
    created_preview = store.apply({**deploy(), "metadata": {"name": "new", "namespace": "default"}}, "ansible",
                                  dry_run=True)
    assert created_preview["metadata"]["name"] == "new" and store.resource_version == rv


def test_status_in_main_apply_is_ignored_and_status_apply_owns_status(store: Store) -> None:
    config = deploy()
    config["status"] = {"replicas": 9}
    created = store.apply(config, "ansible")
    assert "status" not in created
    assert "f:status" not in managers(created)[("ansible", "Apply")]["fieldsV1"]
    status = store.apply({"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": "web", "namespace": "default"},
                          "status": {"replicas": 2}}, "controller", subresource="status")
    assert status["status"] == {"replicas": 2} and status["spec"]["replicas"] == 2
    entry = [m for m in status["metadata"]["managedFields"] if m["manager"] == "controller"][0]
    assert entry["subresource"] == "status" and entry["fieldsV1"] == {"f:status": {"f:replicas": {}}}


def test_apply_with_stale_resource_version_conflicts(store: Store) -> None:
    store.apply(deploy(), "ansible")
    config = deploy()
    config["metadata"]["resourceVersion"] = "1"
    with pytest.raises(ApiError) as excinfo:
        store.apply(config, "ansible")
    assert excinfo.value.message.startswith('Operation cannot be fulfilled on deployments.apps "web": the object')


def test_apply_kind_must_match_the_resource(store: Store) -> None:
    rtype = store.resolve("apps/v1", "Deployment")
    with pytest.raises(ApiError) as excinfo:
        store.apply_resource(rtype, "v1", "default", "web", {"apiVersion": "v1", "kind": "ConfigMap",
                                                              "metadata": {"name": "web"}}, field_manager="x")
    assert excinfo.value.status == 400


def test_update_managers_accumulate_and_lose_fields_others_change(store: Store) -> None:
    created = store.create(deploy(), field_manager="kubectl-create")
    created["metadata"]["labels"] = {"edited": "yes"}
    edited = store.update(created, field_manager="kubectl-edit")
    entries = managers(edited)
    assert entries[("kubectl-edit", "Update")]["fieldsV1"] == {"f:metadata": {"f:labels": {".": {}, "f:edited": {}}}}
    edited["spec"]["replicas"] = 4
    again = store.update(edited, field_manager="kubectl-edit")
    mine = ssa.from_fields_v1(managers(again)[("kubectl-edit", "Update")]["fieldsV1"])
    theirs = ssa.from_fields_v1(managers(again)[("kubectl-create", "Update")]["fieldsV1"])
    assert (("f", "spec"), ("f", "replicas")) in mine and (("f", "spec"), ("f", "replicas")) not in theirs
    assert (("f", "metadata"), ("f", "labels"), ("f", "edited")) in mine


def test_create_records_defaulted_fields_and_map_nodes_for_update_managers(store: Store) -> None:
    created = store.create({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "c", "namespace": "default", "labels": {"a": "b"}},
                            "data": {"k": "v"}}, field_manager="kubectl-create")
    assert managers(created)[("kubectl-create", "Update")]["fieldsV1"] == {
        "f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}}


def test_kubectl_server_side_apply_takes_over_client_side_applied_fields(store: Store) -> None:
    last = deploy(replicas=2)
    last["metadata"]["annotations"] = {}
    annotated = deploy(replicas=2)
    annotated["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(last)}
    store.create(annotated, field_manager="kubectl-client-side-apply")
    with pytest.raises(ApiError):
        store.apply(deploy(replicas=3), "someone-else")
    upgraded = store.apply(deploy(replicas=3), "kubectl")
    assert upgraded["spec"]["replicas"] == 3
    synced = json.loads(upgraded["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert synced["spec"]["replicas"] == 3


def test_kubectl_upgrade_still_conflicts_on_fields_changed_since_last_apply(store: Store) -> None:
    last = deploy(replicas=2)
    annotated = deploy(replicas=2)
    annotated["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(last)}
    created = store.create(annotated, field_manager="kubectl-client-side-apply")
    created["spec"]["replicas"] = 6
    store.update(created, field_manager="kubectl-scale")
    with pytest.raises(ApiError) as excinfo:
        store.apply(deploy(replicas=3), "kubectl")
    assert excinfo.value.message == ('Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: '
                                     '.spec.replicas')


def test_custom_resource_lists_follow_the_crd_schema(store: Store) -> None:
    store.create({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"spec": {"type": "object", "properties": {
                         "parts": {"type": "array", "x-kubernetes-list-type": "map",
                                   "x-kubernetes-list-map-keys": ["id"],
                                   "items": {"type": "object", "properties": {"id": {"type": "string"},
                                                                              "size": {"type": "integer"}}}},
                         "tags": {"type": "array", "items": {"type": "string"}}}}}}}}]}})

    def gadget(parts: list[dict[str, Any]], tags: list[str]) -> dict[str, Any]:
        return {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g", "namespace": "default"},
                "spec": {"parts": parts, "tags": tags}}

    store.apply(gadget([{"id": "a", "size": 1}], ["x"]), "one")
    merged = store.apply(gadget([{"id": "b", "size": 2}], ["x"]), "two")
    assert [p["id"] for p in merged["spec"]["parts"]] == ["a", "b"]
    with pytest.raises(ApiError) as excinfo:
        store.apply(gadget([{"id": "b", "size": 2}], ["y"]), "two")
    assert excinfo.value.message == 'Apply failed with 1 conflict: conflict with "one": .spec.tags'
    entry = [m for m in merged["metadata"]["managedFields"] if m["manager"] == "two"][0]
    assert entry["fieldsV1"] == {"f:spec": {"f:parts": {'k:{"id":"b"}': {".": {}, "f:id": {}, "f:size": {}}},
                                            "f:tags": {}}}


def test_unknown_fields_of_preserve_unknown_custom_resources_own_their_maps(store: Store) -> None:
    chart = {"apiVersion": "helm.cattle.io/v1", "kind": "HelmChart",
             "metadata": {"name": "traefik", "namespace": "kube-system"},
             "spec": {"chart": "traefik", "set": {"a": "1"},
                      "podSecurityContext": {"seLinuxOptions": {"level": "s0"}}}}
    created = store.apply(copy.deepcopy(chart), "k3s-test")
    fields = created["metadata"]["managedFields"][0]["fieldsV1"]
    # Declared fields are struct fields; keys of maps and of preserve-unknown objects are owned with ".".
    assert fields == {"f:spec": {"f:chart": {}, "f:podSecurityContext": {
        "f:seLinuxOptions": {".": {}, "f:level": {}}}, "f:set": {"f:a": {}}}}
