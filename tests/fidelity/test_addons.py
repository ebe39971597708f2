"""K3s's auto-deploying manifests controller (manifests_and_registries.md Part A), in-process."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from k3s_standin.addons import (AddonController, applied_annotation, decode_applied, parse_manifest,
                                should_disable)
from k3s_standin.store import ApiError, Store

CM_A = """apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: kube-system
data:
  k: "1"
"""
CM_B = """apiVersion: v1
kind: ConfigMap
metadata:
  name: b
data:
  k: "2"
"""


class Logs:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, level: str, message: str) -> None:
        self.lines.append((level, message))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "state.json")


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    path = tmp_path / "server" / "manifests"
    path.mkdir(parents=True)
    return path


def controller(store: Store, manifests: Path, disabled: list[str] | None = None) -> AddonController:
    return AddonController(store, manifests, disabled or [], log=Logs())


def write(path: Path, content: str, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def addon(store: Store, name: str) -> dict[str, Any]:
    return store.get("k3s.cattle.io/v1", "Addon", "kube-system", name)


def addon_names(store: Store) -> list[str]:
    return [a["metadata"]["name"] for a in store.list("k3s.cattle.io/v1", "Addon")["items"]]


def exists(store: Store, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
    try:
        store.get(api_version, kind, namespace, name)
        return True
    except ApiError:
        return False


def events(store: Store, name: str) -> list[tuple[str, str, int]]:
    return [(e["type"], e["reason"], e["count"]) for e in store.list("v1", "Event", "kube-system")["items"]
            if e["involvedObject"]["name"] == name]


# ------------------------------------------------------------------------------------- file choice
def test_only_manifest_files_are_processed(store: Store, manifests: Path) -> None:
    write(manifests / "one.yaml", CM_A)
    write(manifests / "two.YML", CM_B.replace("name: b", "name: two"))
    write(manifests / "three.Json", '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "three"}}')
    write(manifests / "notes.txt", CM_A)
    write(manifests / ".hidden.yaml", CM_A)
    write(manifests / "skipped.yaml", CM_A)
    write(manifests / "skipped.yaml.skip", "")
    write(manifests / "deep" / "er" / "four.yaml", CM_B.replace("name: b", "name: four"))
    assert controller(store, manifests).scan_once() == []
    assert addon_names(store) == ["four", "one", "three", "two"]
    assert addon(store, "four")["spec"]["source"] == str(manifests / "deep" / "er" / "four.yaml")


def test_symlinked_directories_are_followed(store: Store, manifests: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    write(outside / "linked.yaml", CM_B.replace("name: b", "name: linked"))
    os.symlink(outside, manifests / "extra")
    controller(store, manifests).scan_once()
    assert addon(store, "linked")["spec"]["source"] == str(manifests / "extra" / "linked.yaml")
    assert exists(store, "v1", "ConfigMap", "default", "linked")


def test_skip_file_matches_base_name_in_any_directory(store: Store, manifests: Path) -> None:
    write(manifests / "sub" / "traefik.yaml", CM_A)
    write(manifests / "traefik.yaml.skip", "anything")
    controller(store, manifests).scan_once()
    assert addon_names(store) == []


# ------------------------------------------------------------------------------------------ addons
def test_addon_object_records_source_checksum_and_gvks(store: Store, manifests: Path) -> None:
    content = CM_A + "---\n" + """apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: kube-system}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec: {containers: [{name: c, image: busybox}]}
"""
    path = write(manifests / "my.app.yaml", content)
    controller(store, manifests).scan_once()
    obj = addon(store, "my")
    assert obj["apiVersion"] == "k3s.cattle.io/v1" and obj["kind"] == "Addon"
    assert obj["spec"] == {"source": str(path), "checksum": hashlib.sha256(content.encode()).hexdigest()}
    assert obj["metadata"]["annotations"] == {
        "addon.k3s.cattle.io/gvks": "/v1, Kind=ConfigMap;apps/v1, Kind=Deployment"}
    assert exists(store, "apps/v1", "Deployment", "kube-system", "d")


def test_applied_objects_carry_wrangler_owner_metadata(store: Store, manifests: Path) -> None:
    write(manifests / "owner.yaml", CM_A + "---\n" + CM_B)
    controller(store, manifests).scan_once()
    a = store.get("v1", "ConfigMap", "kube-system", "a")
    expected_hash = hashlib.sha1(b"k3s.cattle.io/v1, Kind=Addonownerkube-system").hexdigest()
    assert a["metadata"]["labels"] == {"objectset.rio.cattle.io/hash": expected_hash}
    annotations = a["metadata"]["annotations"]
    assert annotations["objectset.rio.cattle.io/id"] == ""
    assert annotations["objectset.rio.cattle.io/owner-gvk"] == "k3s.cattle.io/v1, Kind=Addon"
    assert annotations["objectset.rio.cattle.io/owner-name"] == "owner"
    assert annotations["objectset.rio.cattle.io/owner-namespace"] == "kube-system"
    assert decode_applied(annotations["objectset.rio.cattle.io/applied"])["data"] == {"k": "1"}
    assert "ownerReferences" not in a["metadata"]
    # Namespaced objects without a namespace land in wrangler's default namespace.
    assert exists(store, "v1", "ConfigMap", "default", "b")


def test_invalid_addon_name_fails_that_file_only(store: Store, manifests: Path) -> None:
    write(manifests / "bad_name.yaml", CM_A)
    write(manifests / "good.yaml", CM_B)
    logs = Logs()
    ctl = AddonController(store, manifests, [], log=logs)
    errors = ctl.scan_once()
    assert addon_names(store) == ["good"]
    assert len(errors) == 1 and errors[0].startswith(
        f'failed to process {manifests / "bad_name.yaml"}: Addon.k3s.cattle.io "bad_name" is invalid: metadata.name: '
        'Invalid value: "bad_name": a lowercase RFC 1123 subdomain')
    assert logs.lines[0][0] == "error" and logs.lines[0][1].startswith("Failed to process config: failed to process ")


def test_multi_document_yaml_and_list_kinds(store: Store, manifests: Path) -> None:
    content = "# leading comment\n---\n" + CM_A + "---\n# only a comment\n---\n" + """apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: s1, namespace: kube-system}
  stringData: {x: y}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: sa1, namespace: kube-system}
---
"""
    write(manifests / "multi.yaml", content)
    assert controller(store, manifests).scan_once() == []
    for kind, name in (("ConfigMap", "a"), ("Secret", "s1"), ("ServiceAccount", "sa1")):
        assert exists(store, "v1", kind, "kube-system", name)


def test_parse_errors_raise_events_and_do_not_stop_other_files(store: Store, manifests: Path) -> None:
    write(manifests / "a-broken.yaml", "kind: [unclosed")
    write(manifests / "b-nokind.yaml", "apiVersion: v1\nmetadata: {name: x}\n")
    write(manifests / "c-good.yaml", CM_A)
    errors = controller(store, manifests).scan_once()
    assert len(errors) == 2
    assert errors[0].endswith(
        "error converting YAML to JSON: yaml: line 1: expected ',' or ']', but got '<stream end>'")
    assert errors[1].endswith("""Object 'Kind' is missing in '{"apiVersion":"v1","metadata":{"name":"x"}}'""")
    assert exists(store, "v1", "ConfigMap", "kube-system", "a")
    assert events(store, "a-broken") == [("Warning", "ParseManifestFailed", 1)]
    assert events(store, "c-good") == [("Normal", "ApplyingManifest", 1), ("Normal", "AppliedManifest", 1)]
    event = [e for e in store.list("v1", "Event", "kube-system")["items"] if e["reason"] == "AppliedManifest"][0]
    assert event["message"] == f'Applied manifest at "{manifests / "c-good.yaml"}"'
    assert event["source"] == {"component": "deploy"}
    assert event["involvedObject"]["kind"] == "Addon" and event["involvedObject"]["uid"]


def test_apply_failure_event_keeps_other_objects(store: Store, manifests: Path) -> None:
    write(manifests / "mixed.yaml", CM_A + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n"
                                          "---\napiVersion: example.com/v1\nkind: Unknown\nmetadata: {name: u}\n")
    errors = controller(store, manifests).scan_once()
    assert len(errors) == 1 and 'ConfigMap "Bad_Name" is invalid' in errors[0]
    assert "failed to discover client for example.com/v1, Kind=Unknown" in errors[0]
    assert exists(store, "v1", "ConfigMap", "kube-system", "a")
    reasons = [r for _t, r, _c in events(store, "mixed")]
    assert reasons == ["ApplyingManifest", "ApplyManifestFailed"]
    assert "checksum" not in addon(store, "mixed")["spec"]


def test_crd_and_custom_resource_in_one_file(store: Store, manifests: Path) -> None:
    write(manifests / "crd.yaml", """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: things, singular: thing, kind: Thing}
  versions: [{name: v1, served: true, storage: true,
              schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]
---
apiVersion: example.com/v1
kind: Thing
metadata: {name: t1, namespace: kube-system}
spec: {size: 2}
""")
    assert controller(store, manifests).scan_once() == []
    assert store.get("example.com/v1", "Thing", "kube-system", "t1")["spec"] == {"size": 2}


# -------------------------------------------------------------------------------------- re-applying
def test_reapply_needs_mtime_change_and_checksum_change(store: Store, manifests: Path) -> None:
    path = write(manifests / "app.yaml", CM_A, mtime=1_000_000)
    ctl = controller(store, manifests)
    ctl.scan_once()
    live = store.get("v1", "ConfigMap", "kube-system", "a")
    live["data"] = {"k": "drifted"}
    store.update(live)
    ctl.scan_once()  # same mtime: not even read
    assert store.get("v1", "ConfigMap", "kube-system", "a")["data"] == {"k": "drifted"}
    os.utime(path, (1_000_100, 1_000_100))
    ctl.scan_once()  # new mtime, same checksum: skipped
    assert store.get("v1", "ConfigMap", "kube-system", "a")["data"] == {"k": "drifted"}
    write(path, CM_A.replace('"1"', '"3"'), mtime=1_000_200)
    ctl.scan_once()
    assert store.get("v1", "ConfigMap", "kube-system", "a")["data"] == {"k": "3"}
    assert addon(store, "app")["spec"]["checksum"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_restarted_server_reapplies_everything(store: Store, manifests: Path) -> None:
    write(manifests / "app.yaml", CM_A, mtime=1_000_000)
    controller(store, manifests).scan_once()
    live = store.get("v1", "ConfigMap", "kube-system", "a")
    live["data"] = {"k": "drifted"}
    store.update(live)
    controller(store, manifests).scan_once()  # first pass of a new process is forced
    assert store.get("v1", "ConfigMap", "kube-system", "a")["data"] == {"k": "1"}


def test_failing_pass_keeps_forcing(store: Store, manifests: Path) -> None:
    write(manifests / "app.yaml", CM_A, mtime=1_000_000)
    write(manifests / "zz-broken.yaml", "kind: [", mtime=1_000_000)
    ctl = controller(store, manifests)
    ctl.scan_once()
    ctl.scan_once()
    assert events(store, "app")[0] == ("Normal", "ApplyingManifest", 2)  # repeated events are counted
    Path(manifests / "zz-broken.yaml").unlink()
    ctl.scan_once()
    ctl.scan_once()
    assert events(store, "app")[0] == ("Normal", "ApplyingManifest", 3)


def test_objects_removed_from_the_file_are_pruned(store: Store, manifests: Path) -> None:
    path = write(manifests / "app.yaml", CM_A + "---\n" + CM_B, mtime=1_000_000)
    write(manifests / "other.yaml", CM_B.replace("name: b", "name: c"))
    ctl = controller(store, manifests)
    ctl.scan_once()
    write(path, CM_A, mtime=1_000_100)
    ctl.scan_once()
    assert not exists(store, "v1", "ConfigMap", "default", "b")
    assert exists(store, "v1", "ConfigMap", "kube-system", "a")
    assert exists(store, "v1", "ConfigMap", "default", "c")
    write(path, "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: kube-system}\n", mtime=1_000_200)
    ctl.scan_once()  # the previously recorded GVK (ConfigMap) is still searched for pruning
    assert not exists(store, "v1", "ConfigMap", "kube-system", "a")
    assert addon(store, "app")["metadata"]["annotations"]["addon.k3s.cattle.io/gvks"] == "/v1, Kind=Secret"


def test_three_way_merge_keeps_fields_set_by_others(store: Store, manifests: Path) -> None:
    path = write(manifests / "app.yaml", CM_A.replace("data:", "metadata2: {}\ndata:").replace(
        "metadata2: {}\n", "") + '  other: "x"\n', mtime=1_000_000)
    ctl = controller(store, manifests)
    ctl.scan_once()
    live = store.get("v1", "ConfigMap", "kube-system", "a")
    live["metadata"]["labels"]["added-by-user"] = "yes"
    store.update(live)
    write(path, CM_A, mtime=1_000_100)  # drops data.other
    ctl.scan_once()
    after = store.get("v1", "ConfigMap", "kube-system", "a")
    assert after["data"] == {"k": "1"}
    assert after["metadata"]["labels"]["added-by-user"] == "yes"


def test_existing_objects_are_taken_over(store: Store, manifests: Path) -> None:
    store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "kube-system"},
                  "data": {"k": "old"}})
    write(manifests / "app.yaml", CM_A)
    controller(store, manifests).scan_once()
    taken = store.get("v1", "ConfigMap", "kube-system", "a")
    assert taken["data"] == {"k": "1"} and "objectset.rio.cattle.io/hash" in taken["metadata"]["labels"]


def test_deleting_the_file_leaves_addon_and_objects(store: Store, manifests: Path) -> None:
    path = write(manifests / "app.yaml", CM_A)
    ctl = controller(store, manifests)
    ctl.scan_once()
    path.unlink()
    ctl.scan_once()
    assert addon_names(store) == ["app"] and exists(store, "v1", "ConfigMap", "kube-system", "a")


# ------------------------------------------------------------------------------------------ disable
def test_disable_uninstalls_objects_file_and_addon(store: Store, manifests: Path) -> None:
    path = write(manifests / "traefik.yaml", CM_A + "---\n" + CM_B)
    write(manifests / "keep.yaml", CM_B.replace("name: b", "name: kept"))
    controller(store, manifests).scan_once()
    assert exists(store, "v1", "ConfigMap", "kube-system", "a")
    assert controller(store, manifests, ["traefik"]).scan_once() == []
    assert not path.exists()
    assert not exists(store, "v1", "ConfigMap", "kube-system", "a")
    assert not exists(store, "v1", "ConfigMap", "default", "b")
    assert addon_names(store) == ["keep"]
    assert ("Normal", "DeletingManifest", 1) in events(store, "traefik")


def test_disable_by_directory_and_user_manifests(store: Store, manifests: Path) -> None:
    nested = write(manifests / "metrics-server" / "metrics-server-deployment.yaml", CM_A)
    user = write(manifests / "mine.yml", CM_B)
    controller(store, manifests).scan_once()
    controller(store, manifests, ["metrics-server", "mine"]).scan_once()
    assert not nested.exists() and not user.exists()
    assert addon_names(store) == []


def test_disabled_files_in_symlinked_directories_are_not_unlinked(store: Store, manifests: Path,
                                                                    tmp_path: Path) -> None:
    target = write(tmp_path / "shared" / "linked.yaml", CM_B)
    os.symlink(tmp_path / "shared", manifests / "shared")
    controller(store, manifests).scan_once()
    controller(store, manifests, ["linked"]).scan_once()
    assert target.exists() and not exists(store, "v1", "ConfigMap", "default", "b")


@pytest.mark.parametrize("relative,disabled,expected", [
    ("traefik.yaml", {"traefik"}, True), ("traefik.yaml", {"traefik.yaml"}, False),
    ("foo.bar.yaml", {"foo"}, False), ("foo.bar.yaml", {"foo.bar"}, True), ("sub/x.yaml", {"sub"}, True),
    ("a/b/x.txt", {"a/b"}, True), ("notes.txt", {"notes"}, False), ("x.YAML", {"x"}, True),
])
def test_should_disable_rules(relative: str, disabled: set[str], expected: bool) -> None:
    assert should_disable("/m", "/m/" + relative, disabled) is expected


# ------------------------------------------------------------------------------------------- helpers
def test_applied_annotation_is_compressed_when_large() -> None:
    small = b'{"a":1}'
    assert applied_annotation(small) == '{"a":1}'
    large = ('{"data":"' + "x" * 2000 + '"}').encode()
    encoded = applied_annotation(large)
    assert encoded.startswith("H4sI") and not encoded.endswith("=")
    assert decode_applied(encoded) == {"data": "x" * 2000}


def test_parse_manifest_deduplicates_like_an_object_set() -> None:
    objects = parse_manifest((CM_A + "---\n" + CM_A.replace('"1"', '"2"')).encode())
    assert len(objects) == 1 and objects[0]["data"] == {"k": "2"}


# -------------------------------------------------------------------------------- packaged manifests
def test_starting_server_stages_packaged_manifests(store: Store, manifests: Path, tmp_path: Path) -> None:
    logs = Logs()
    ctl = AddonController(store, manifests, [], data_dir=tmp_path / "data", log=logs,
                          cluster_dns=["10.43.0.10", "fd00::10"], system_default_registry="registry.local:5000")
    staged = sorted(str(p.relative_to(manifests)) for p in manifests.rglob("*.yaml"))
    assert staged == ["ccm.yaml", "coredns.yaml", "local-storage.yaml",
                      *(f"metrics-server/{n}.yaml" for n in (
                          "aggregated-metrics-reader", "auth-delegator", "auth-reader", "metrics-apiservice",
                          "metrics-server-deployment", "metrics-server-service", "resource-reader")),
                      "rolebindings.yaml", "runtimes.yaml", "traefik.yaml"]
    assert oct((manifests / "coredns.yaml").stat().st_mode & 0o777) == "0o600"
    assert oct((manifests / "metrics-server").stat().st_mode & 0o777) == "0o700"
    assert ("info", f"Writing manifest: {manifests / 'coredns.yaml'}") in logs.lines
    coredns = (manifests / "coredns.yaml").read_text()
    assert "clusterIP: 10.43.0.10\n" in coredns and "clusterIPs: [10.43.0.10,fd00::10]" in coredns
    assert "ipFamilyPolicy: PreferDualStack" in coredns and "kubernetes cluster.local in-addr.arpa" in coredns
    assert 'image: "registry.local:5000/rancher/mirrored-coredns-coredns' in coredns
    assert str(tmp_path / "data" / "storage") in (manifests / "local-storage.yaml").read_text()
    assert "https://%{KUBERNETES_API}%/static/charts/" in (manifests / "traefik.yaml").read_text()
    assert ctl.scan_once() == []
    assert store.get("v1", "Service", "kube-system", "kube-dns")["spec"]["clusterIP"] == "10.43.0.10"
    assert store.get("apps/v1", "Deployment", "kube-system", "coredns")["metadata"]["labels"]["k8s-app"] == "kube-dns"
    assert exists(store, "storage.k8s.io/v1", "StorageClass", None, "local-path")
    assert exists(store, "helm.cattle.io/v1", "HelmChart", "kube-system", "traefik")
    assert exists(store, "apiregistration.k8s.io/v1", "APIService", None, "v1beta1.metrics.k8s.io")


def test_staging_overwrites_local_edits_and_skips_disabled(store: Store, manifests: Path, tmp_path: Path) -> None:
    AddonController(store, manifests, [], data_dir=tmp_path, log=Logs()).scan_once()
    (manifests / "coredns.yaml").write_text("# edited\n")
    assert exists(store, "helm.cattle.io/v1", "HelmChart", "kube-system", "traefik")
    restarted = AddonController(store, manifests, ["traefik", "metrics-server", "local-storage"], data_dir=tmp_path,
                                log=Logs())
    assert (manifests / "coredns.yaml").read_text().startswith("apiVersion: v1\nkind: ServiceAccount")
    assert restarted.scan_once() == []
    # traefik.yaml was staged by the previous start, so the disabled file is uninstalled and removed.
    assert not (manifests / "traefik.yaml").exists()
    assert list((manifests / "metrics-server").glob("*.yaml")) == []
    assert not exists(store, "helm.cattle.io/v1", "HelmChart", "kube-system", "traefik")
    assert not exists(store, "apps/v1", "Deployment", "kube-system", "metrics-server")
    assert not exists(store, "storage.k8s.io/v1", "StorageClass", None, "local-path")
    assert exists(store, "apps/v1", "Deployment", "kube-system", "coredns")
